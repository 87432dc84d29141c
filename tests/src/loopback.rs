//! Small HTTP/1.1 peers on loopback for tests and the benchmark: a request reader, and a
//! server that plays a broken dependency (answers 500, or never answers).

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    thread,
};

/// `(method, path, body)` of the next request on a connection, or `None` at its end.
/// Understands `content-length` and chunked bodies, which is all an HTTP client sends.
pub fn read_request(reader: &mut impl BufRead) -> Option<(String, String, Vec<u8>)> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_string(), parts.next()?.to_string());
    let (mut length, mut chunked) = (0usize, false);
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().ok()?,
            "transfer-encoding" => chunked = value.to_ascii_lowercase().contains("chunked"),
            _ => {}
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; size + 2]; // the chunk and its CRLF
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        body.resize(length, 0);
        reader.read_exact(&mut body).ok()?;
    }
    Some((method, path, body))
}

/// How a broken dependency behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Nothing listens: connections are refused.
    Closed,
    /// Accepts and reads, never answers: every attempt runs into its timeout.
    Hang,
    /// Answers every request with a 500 and an AWS JSON error body.
    Error500,
}

/// Starts a broken dependency on loopback and returns its endpoint URL. Its threads end when
/// their connections close; the listener lives as long as the test process.
pub fn broken_dependency(fault: Fault) -> String {
    let Ok(listener) = TcpListener::bind("127.0.0.1:0") else {
        panic!("cannot bind a loopback port");
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    if fault == Fault::Closed {
        drop(listener);
        return format!("http://127.0.0.1:{port}");
    }
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || serve(stream, fault));
        }
    });
    format!("http://127.0.0.1:{port}")
}

fn serve(stream: TcpStream, fault: Fault) {
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while read_request(&mut reader).is_some() {
        if fault == Fault::Hang {
            let _ = reader.read_to_end(&mut Vec::new());
            return;
        }
        let body = r#"{"__type":"InternalServerError","message":"the dependency failed"}"#;
        let answer = format!(
            "HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/x-amz-json-1.1\r\n\
             content-length: {}\r\n\r\n{body}",
            body.len()
        );
        if out.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

/// An interceptor that sends one operation of a client to a port nobody listens on: that
/// call fails as a dependency that is down, every other call of the client goes through.
#[derive(Debug)]
pub struct Unreachable(pub &'static str);

impl aws_smithy_runtime_api::client::interceptors::Intercept for Unreachable {
    fn name(&self) -> &'static str {
        "Unreachable"
    }

    fn modify_before_transmit(
        &self,
        context: &mut aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut<'_>,
        _: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let operation = cfg.load::<aws_smithy_runtime_api::client::orchestrator::Metadata>();
        if operation.is_some_and(|m| m.name() == self.0) {
            context.request_mut().set_uri("http://127.0.0.1:9/")?;
        }
        Ok(())
    }
}
