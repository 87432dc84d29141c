//! Cold start: a fresh `bootstrap` process per run against a minimal Lambda Runtime API on
//! loopback (this module). Measures exec → first `GET /runtime/invocation/next` (init),
//! exec → first response posted, and the process's peak RSS (`VmHWM`) once it polls again.
//!
//! The event is one each function answers without a backend call (an API request without
//! its tenant headers, a trigger event without its user), so the numbers are the function's
//! own: process start, runtime and SDK set-up, routing, the answer.

use account_api_tests::loopback::read_request;
use std::{
    io::{BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    path::Path,
    process::{Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
        mpsc,
    },
    thread,
    time::{Duration, Instant},
};

pub struct Run {
    pub init: Duration,
    pub first_response: Duration,
    pub peak_rss_kib: u64,
    /// `statusCode` of the answer, or `error` for a posted invocation error.
    pub outcome: String,
}

enum Seen {
    Next(Instant),
    Posted(Instant, String, Vec<u8>),
}

const NEXT: &str = "/2018-06-01/runtime/invocation/next";

/// One cold start of `bootstrap` on `event`, with `env` as its whole environment.
pub fn run(bootstrap: &Path, event: &str, env: &[(&str, String)]) -> Result<Run, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let (tx, rx) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicUsize::new(0));
    let acceptor = {
        let (stop, event) = (stop.clone(), event.to_string());
        thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (tx, event, served) = (tx.clone(), event.clone(), served.clone());
                thread::spawn(move || serve(stream, &tx, &event, &served));
            }
        })
    };

    let started = Instant::now();
    let mut child = Command::new(bootstrap)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bootstrap.display()))?;

    let result = (|| {
        let wait = Duration::from_secs(10);
        let init = match rx.recv_timeout(wait) {
            Ok(Seen::Next(at)) => at - started,
            Ok(Seen::Posted(_, path, body)) => {
                return Err(format!(
                    "posted {path} before polling: {}",
                    String::from_utf8_lossy(&body)
                ));
            }
            Err(_) => return Err("no poll for an event within 10 s".into()),
        };
        let (first_response, outcome) = match rx.recv_timeout(wait) {
            Ok(Seen::Posted(at, path, body)) => (at - started, outcome(&path, &body)),
            _ => return Err("no response within 10 s".into()),
        };
        // the runtime asks for the next event once the answer is out: the process is at rest
        match rx.recv_timeout(wait) {
            Ok(Seen::Next(_)) => {}
            _ => return Err("no second poll within 10 s".into()),
        }
        Ok(Run {
            init,
            first_response,
            peak_rss_kib: peak_rss_kib(child.id())?,
            outcome,
        })
    })();

    let _ = child.kill();
    let _ = child.wait();
    stop.store(true, Ordering::SeqCst);
    let _ = TcpStream::connect(("127.0.0.1", port)); // wakes the acceptor to see `stop`
    let _ = acceptor.join();
    result
}

fn outcome(path: &str, body: &[u8]) -> String {
    if path.ends_with("/error") {
        return "error".into();
    }
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["statusCode"].as_u64())
        .map_or_else(|| "response".into(), |s| s.to_string())
}

fn peak_rss_kib(pid: u32) -> Result<u64, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("cannot read /proc/{pid}/status: {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmHWM in /proc/<pid>/status".into())
}

/// One connection of the runtime client: HTTP/1.1 with keep-alive.
fn serve(stream: TcpStream, tx: &mpsc::Sender<Seen>, event: &str, served: &AtomicUsize) {
    let _ = stream.set_nodelay(true);
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Some((method, path, body)) = read_request(&mut reader) {
        let at = Instant::now();
        if method == "GET" && path == NEXT {
            let _ = tx.send(Seen::Next(at));
            if served.fetch_add(1, Ordering::SeqCst) > 0 {
                // hold the second poll open until the process is killed
                let _ = reader.read_to_end(&mut Vec::new());
                return;
            }
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() + 60_000)
                .unwrap_or(0);
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                 lambda-runtime-aws-request-id: bench-0001\r\n\
                 lambda-runtime-deadline-ms: {deadline}\r\n\
                 lambda-runtime-invoked-function-arn: arn:aws:lambda:us-east-1:123456789012:function:bench\r\n\
                 lambda-runtime-trace-id: Root=1-00000000-000000000000000000000000;Sampled=0\r\n\
                 content-length: {}\r\n\r\n",
                event.len()
            );
            if out.write_all(head.as_bytes()).is_err() || out.write_all(event.as_bytes()).is_err() {
                return;
            }
        } else {
            if method == "POST" {
                let _ = tx.send(Seen::Posted(at, path, body));
            }
            let ok = b"HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\ncontent-length: 16\r\n\r\n{\"status\":\"OK\"}\n";
            if out.write_all(ok).is_err() {
                return;
            }
        }
    }
}
