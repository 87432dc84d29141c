//! The HTTP edge: reading a request (tenant headers, path, body), the response envelope and
//! the problems every failure is rendered as.

pub mod cors;
pub mod problem;
pub mod request;
pub mod respond;
pub mod routes;
