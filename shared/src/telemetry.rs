//! Logging: JSON lines through `tracing`, with the request span's fields (activity id, route,
//! tenant) on every line. Level from `RUST_LOG`, default `info`.

use tracing_subscriber::{EnvFilter, fmt::MakeWriter};

/// The filter used when `RUST_LOG` is unset: our own crates and the SDK at `info`.
pub const DEFAULT_FILTER: &str = "info";

/// Installs the JSON subscriber for the process (call once, in `main`).
pub fn init() {
    let _ = tracing::subscriber::set_global_default(subscriber(std::io::stdout));
}

/// The subscriber `init` installs, writing to `writer`: tests capture the very same output.
pub fn subscriber<W>(writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER)),
        )
        .with_current_span(true)
        .with_span_list(false)
        .flatten_event(true)
        .with_target(true)
        .with_writer(writer)
        .finish()
}
