//! Cold start: a fresh `bootstrap` process per run against a minimal Lambda Runtime API on
//! loopback (this module), handed one or more events in turn. Measures exec → first
//! `GET /runtime/invocation/next` (init), the page faults the process took by then, each
//! answer (from exec, and from the moment its event was handed over), and the process's peak
//! RSS (`VmHWM`) once it polls again.

use account_api_tests::loopback::read_request;
use std::{
    io::{BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    path::Path,
    process::{Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering},
        mpsc,
    },
    thread,
    time::{Duration, Instant, SystemTime},
};

pub struct Run {
    pub init: Duration,
    /// Minor page faults by the first poll (`/proc/<pid>/stat`): each is a page of the binary
    /// mapped in, or one of its relocated data copied, or fresh memory touched.
    pub init_faults: u64,
    /// One per event, in order: the first is the cold one.
    pub invocations: Vec<Invocation>,
    pub peak_rss_kib: u64,
}

pub struct Invocation {
    /// From the process's start to the answer posted.
    pub answered: Duration,
    /// From the event handed over to the answer posted: the handler's time.
    pub handler: Duration,
    /// The same two moments on the wall clock, to match the emulator's timing log.
    pub served_wall: SystemTime,
    pub answered_wall: SystemTime,
    /// `statusCode` of the answer, or `error` for a posted invocation error.
    pub outcome: String,
}

enum Seen {
    Next(Instant, SystemTime),
    Posted(Instant, SystemTime, String, Vec<u8>),
}

const NEXT: &str = "/2018-06-01/runtime/invocation/next";

/// One cold start of `bootstrap`, with `env` as its whole environment, handed `events` one
/// after the other.
pub fn run(bootstrap: &Path, events: &[String], env: &[(&str, String)]) -> Result<Run, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let (tx, rx) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicUsize::new(0));
    // the child's pid, for its fault count at the first poll (read while that poll waits)
    let pid = Arc::new(AtomicU32::new(0));
    let faults = Arc::new(AtomicU64::new(u64::MAX));
    let acceptor = {
        let (stop, events) = (stop.clone(), Arc::new(events.to_vec()));
        let (pid, faults) = (pid.clone(), faults.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (tx, events, served) = (tx.clone(), events.clone(), served.clone());
                let first_poll = Probe {
                    pid: pid.clone(),
                    faults: faults.clone(),
                };
                thread::spawn(move || serve(stream, &tx, &events, &served, &first_poll));
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
    pid.store(child.id(), Ordering::SeqCst);

    let result = (|| {
        let wait = Duration::from_secs(10);
        let next = || match rx.recv_timeout(wait) {
            Ok(Seen::Next(at, wall)) => Ok((at, wall)),
            Ok(Seen::Posted(_, _, path, body)) => Err(format!(
                "posted {path} instead of polling: {}",
                String::from_utf8_lossy(&body)
            )),
            Err(_) => Err("no poll for an event within 10 s".to_string()),
        };
        let (mut served_at, mut served_wall) = next()?;
        let init = served_at - started;
        let mut invocations = vec![];
        for _ in events {
            let (at, wall, path, body) = match rx.recv_timeout(wait) {
                Ok(Seen::Posted(at, wall, path, body)) => (at, wall, path, body),
                _ => return Err("no answer within 10 s".into()),
            };
            invocations.push(Invocation {
                answered: at - started,
                handler: at - served_at,
                served_wall,
                answered_wall: wall,
                outcome: outcome(&path, &body),
            });
            // the runtime asks for the next event once the answer is out
            (served_at, served_wall) = next()?;
        }
        Ok(Run {
            init,
            init_faults: match faults.load(Ordering::SeqCst) {
                u64::MAX => return Err("no fault count at the first poll".into()),
                n => n,
            },
            invocations,
            peak_rss_kib: peak_rss_kib(child.id())?,
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

/// Where the first poll notes the process's fault count.
struct Probe {
    pid: Arc<AtomicU32>,
    faults: Arc<AtomicU64>,
}

/// Minor page faults of `pid` so far: field 10 of `/proc/<pid>/stat` (after the command's
/// parenthesised name, which may hold spaces).
fn minor_faults(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(7)?.parse().ok()
}

/// One connection of the runtime client: HTTP/1.1 with keep-alive.
fn serve(
    stream: TcpStream,
    tx: &mpsc::Sender<Seen>,
    events: &[String],
    served: &AtomicUsize,
    first_poll: &Probe,
) {
    let _ = stream.set_nodelay(true);
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Some((method, path, body)) = read_request(&mut reader) {
        let (at, wall) = (Instant::now(), SystemTime::now());
        if method == "GET" && path == NEXT {
            let _ = tx.send(Seen::Next(at, wall));
            let n = served.fetch_add(1, Ordering::SeqCst);
            if n == 0 {
                // the process waits for this answer: its count is its init's (on a busy
                // machine the poll can come before the spawning thread has noted the pid)
                let noted = Instant::now();
                let mut pid = first_poll.pid.load(Ordering::SeqCst);
                while pid == 0 && noted.elapsed() < Duration::from_secs(1) {
                    thread::yield_now();
                    pid = first_poll.pid.load(Ordering::SeqCst);
                }
                if let Some(f) = minor_faults(pid) {
                    first_poll.faults.store(f, Ordering::SeqCst);
                }
            }
            let Some(event) = events.get(n) else {
                // no more events: hold the poll open until the process is killed
                let _ = reader.read_to_end(&mut Vec::new());
                return;
            };
            let deadline = wall
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() + 60_000)
                .unwrap_or(0);
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                 lambda-runtime-aws-request-id: bench-{n:04}\r\n\
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
                let _ = tx.send(Seen::Posted(at, wall, path, body));
            }
            let ok = b"HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\ncontent-length: 16\r\n\r\n{\"status\":\"OK\"}\n";
            if out.write_all(ok).is_err() {
                return;
            }
        }
    }
}
