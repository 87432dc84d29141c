//! The `Directory` port on Amazon Cognito user pools: [`CognitoDirectory`] ([`client`]: the
//! per-region clients and what is read once and cached; [`directory`]: the port's
//! operations), its error table ([`errors`]) and the converters from Cognito's shapes
//! ([`convert`]).
//!
//! Errors are classified in [`errors`] and nowhere else: by the modelled error code the SDK
//! parsed, and for `NotAuthorizedException`, whose states Cognito tells apart only in its
//! message, by that message. No AWS message is ever passed on to a caller.

mod client;
mod convert;
mod directory;
mod errors;

pub use client::{CognitoDirectory, secret_hash};
pub use errors::classify_code;
