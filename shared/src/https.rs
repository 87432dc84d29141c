//! The AWS SDK clients' HTTPS transport, trusting Mozilla's root certificates compiled in
//! (webpki-roots) and nothing read from disk.
//!
//! The SDK's default client loads the platform's trust store (rustls-native-certs) when a
//! service client is built: on Lambda that is `/etc/ssl/certs` read and parsed at every cold
//! start, several milliseconds before the first poll. This client builds its root store from
//! the compiled-in anchors (no parsing), once per process, and its connection pools on the
//! first request. One extra CA can be trusted for local TLS tests by naming a PEM file in
//! [`EXTRA_CA_ENV`]; it is read only when that variable is set.
//!
//! It keeps what the SDK expects of an HTTP client: connect and read timeouts from the
//! operation's settings, a connection pool per timeout pair, connections the retry layer can
//! poison, and errors classified as I/O, timeout, user or other.

use std::{
    collections::HashMap,
    fmt,
    path::Path,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use aws_smithy_runtime_api::{
    box_error::BoxError,
    client::{
        connection::{CaptureSmithyConnection, ConnectionMetadata},
        http::{
            HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings,
            SharedHttpClient, SharedHttpConnector,
        },
        orchestrator::{HttpRequest, HttpResponse},
        result::ConnectorError,
        runtime_components::RuntimeComponents,
    },
};
use aws_smithy_types::body::SdkBody;
use hyper_util::{
    client::legacy::{
        Client,
        connect::{HttpConnector as TcpConnector, capture_connection},
    },
    rt::{TokioExecutor, TokioTimer},
};
use rustls::pki_types::{CertificateDer, pem::PemObject};

/// Names a PEM file of one or more CA certificates trusted beside Mozilla's roots. For local
/// TLS tests only; a deployed stage never sets it.
pub const EXTRA_CA_ENV: &str = "ACCOUNT_API_EXTRA_CA_PEM";

type Https = hyper_rustls::HttpsConnector<TcpConnector>;

/// `(connect timeout, read timeout)`: the SDK asks for a connector per pair.
type TimeoutKey = (Option<Duration>, Option<Duration>);

/// Why the transport could not be built (a malformed extra CA file).
#[derive(Debug, thiserror::Error)]
#[error("the HTTPS client: {0}")]
pub struct TransportError(String);

/// The transport every SDK client of the process shares: Mozilla's roots, and the CA file
/// [`EXTRA_CA_ENV`] names if it is set.
pub fn client() -> Result<SharedHttpClient, TransportError> {
    client_trusting(std::env::var_os(EXTRA_CA_ENV).as_deref().map(Path::new))
}

/// The transport, trusting Mozilla's roots and the CA certificates in `extra_ca`.
pub fn client_trusting(extra_ca: Option<&Path>) -> Result<SharedHttpClient, TransportError> {
    Ok(SharedHttpClient::new(SdkHttpClient {
        tls: Arc::new(tls_config(extra_ca)?),
        connectors: Mutex::default(),
    }))
}

/// A plain HTTPS client for the few calls that are not AWS SDK operations (a pool's JWKS, its
/// domain's token endpoint): Mozilla's roots compiled in (the platform verifier would read and
/// parse the system's certificate store, ~2–5 ms on the first call), no redirects followed,
/// `timeout` on connecting and on the whole call.
pub fn web_client(timeout: Duration) -> Result<reqwest::Client, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let tls = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout)
        .tls_backend_preconfigured(tls)
        .build()
        .map_err(|e| e.to_string())
}

/// The crypto both clients use: aws-lc-rs (the SDK's own provider), its key exchanges led by
/// the hybrid post-quantum X25519MLKEM768 (rustls's `prefer-post-quantum`). The ClientHello
/// carries a key share for it and one for X25519, so a server that supports the hybrid agrees
/// on it in the first round trip and any other picks X25519 from the same hello.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// TLS 1.2 and 1.3 on [`provider`], HTTP/1.1, Mozilla's roots and the optional extra CA.
fn tls_config(extra_ca: Option<&Path>) -> Result<rustls::ClientConfig, TransportError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = extra_ca {
        let shown = path.display().to_string();
        let pem = std::fs::read(path)
            .map_err(|e| TransportError(format!("{EXTRA_CA_ENV}={shown}: {e}")))?;
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| TransportError(format!("{shown}: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| TransportError(format!("{shown}: {e}")))?;
            added += 1;
        }
        if added == 0 {
            return Err(TransportError(format!("{shown} holds no certificate")));
        }
    }
    Ok(rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TransportError(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

struct SdkHttpClient {
    tls: Arc<rustls::ClientConfig>,
    connectors: Mutex<HashMap<TimeoutKey, SharedHttpConnector>>,
}

impl fmt::Debug for SdkHttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SdkHttpClient")
    }
}

impl HttpClient for SdkHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let key = (settings.connect_timeout(), settings.read_timeout());
        let mut connectors = self
            .connectors
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        connectors
            .entry(key)
            .or_insert_with(|| {
                let mut tcp = TcpConnector::new();
                // https:// goes on to the TLS layer; http:// (the local emulator) stays plain
                tcp.enforce_http(false);
                tcp.set_nodelay(true);
                tcp.set_connect_timeout(key.0);
                let https = Https::from((tcp, Arc::clone(&self.tls)));
                let client = Client::builder(TokioExecutor::new())
                    .pool_timer(TokioTimer::new())
                    .build(https);
                SharedHttpConnector::new(SdkConnector {
                    client,
                    read_timeout: key.1,
                })
            })
            .clone()
    }
}

#[derive(Clone)]
struct SdkConnector {
    client: Client<Https, SdkBody>,
    read_timeout: Option<Duration>,
}

impl fmt::Debug for SdkConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SdkConnector")
    }
}

impl HttpConnector for SdkConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let mut request = match request.try_into_http1x() {
            Ok(request) => request,
            Err(e) => return HttpConnectorFuture::ready(Err(ConnectorError::user(e.into()))),
        };
        // lets the retry layer take a connection that failed out of the pool
        let captured = capture_connection(&mut request);
        if let Some(capture) = request.extensions().get::<CaptureSmithyConnection>() {
            capture.set_connection_retriever(move || {
                captured.connection_metadata().as_ref()?;
                let captured = captured.clone();
                Some(
                    ConnectionMetadata::builder()
                        .proxied(false)
                        .poison_fn(move || {
                            if let Some(connection) = captured.connection_metadata().as_ref() {
                                connection.poison();
                            }
                        })
                        .build(),
                )
            });
        }
        let pending = self.client.request(request);
        let read_timeout = self.read_timeout;
        HttpConnectorFuture::new(async move {
            let result = match read_timeout {
                Some(limit) => tokio::time::timeout(limit, pending)
                    .await
                    .map_err(|e| ConnectorError::timeout(e.into()))?,
                None => pending.await,
            };
            let response = result.map_err(|e| {
                let classify = if e.is_connect() {
                    ConnectorError::io
                } else {
                    kind_of(&e)
                };
                classify(e.into())
            })?;
            HttpResponse::try_from(response.map(SdkBody::from_body_1_x))
                .map_err(|e| ConnectorError::other(e.into(), None))
        })
    }
}

/// The SDK's classes for a failed request, read from the error and its sources.
fn kind_of(err: &(dyn std::error::Error + 'static)) -> fn(BoxError) -> ConnectorError {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(h) = e.downcast_ref::<hyper::Error>() {
            if h.is_timeout() {
                return ConnectorError::timeout;
            }
            if h.is_user() {
                return ConnectorError::user;
            }
            if h.is_closed() || h.is_canceled() || h.is_incomplete_message() {
                return ConnectorError::io;
            }
        }
        if e.is::<std::io::Error>() {
            return ConnectorError::io;
        }
        next = e.source();
    }
    |e| ConnectorError::other(e, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_roots_are_compiled_in_and_an_extra_ca_must_hold_a_certificate() {
        assert!(tls_config(None).is_ok());
        let empty = std::env::temp_dir().join(format!("no-ca-{}.pem", std::process::id()));
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let err = tls_config(Some(&empty)).unwrap_err();
        assert!(err.to_string().contains("no certificate"), "{err}");
        let _ = std::fs::remove_file(empty);
        let missing = tls_config(Some(Path::new("/nonexistent/ca.pem"))).unwrap_err();
        assert!(missing.to_string().contains(EXTRA_CA_ENV), "{missing}");
    }

    /// The transport's ClientHello leads with the hybrid post-quantum key exchange and carries
    /// a key share for it beside X25519's, so a server that supports the hybrid agrees on it in
    /// one round trip, and one that does not picks X25519 from the same hello, also in one.
    /// (Without `prefer-post-quantum`, rustls offers the hybrid last and sends only X25519's
    /// share: X25519 would be agreed, or a server that insists on the hybrid would have to ask
    /// again with a HelloRetryRequest.)
    #[test]
    fn the_post_quantum_hybrid_is_offered_first_with_a_share_and_x25519_beside_it() {
        use rustls::{
            ClientConnection, HandshakeKind, NamedGroup, ServerConfig, ServerConnection,
            crypto::{SupportedKxGroup, aws_lc_rs::kx_group},
            pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, ServerName},
        };
        use std::io::Write as _;
        let offered: Vec<_> = provider().kx_groups.iter().map(|g| g.name()).collect();
        assert_eq!(
            offered.first(),
            Some(&NamedGroup::X25519MLKEM768),
            "{offered:?}"
        );
        assert!(offered.contains(&NamedGroup::X25519), "{offered:?}");

        // a CA and a server certificate signed by it, made here; the CA in a file of this
        // test's own (create_new: never an existing file or a link)
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["endpoint.test".to_string()])
            .unwrap()
            .signed_by(&key, &ca)
            .unwrap();
        let ca_file = std::env::temp_dir().join(format!(
            "pq-ca-{}-{}.pem",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&ca_file)
            .and_then(|mut f| f.write_all(ca.pem().as_bytes()))
            .unwrap();
        let client_config = Arc::new(tls_config(Some(&ca_file)).unwrap());
        let _ = std::fs::remove_file(&ca_file);

        // a TLS 1.3 server with the given key exchanges; the handshake in memory, each side's
        // flight handed to the other
        let handshake = |groups: Vec<&'static dyn SupportedKxGroup>| {
            let server_config =
                ServerConfig::builder_with_provider(Arc::new(rustls::crypto::CryptoProvider {
                    kx_groups: groups,
                    ..rustls::crypto::aws_lc_rs::default_provider()
                }))
                .with_protocol_versions(&[&rustls::version::TLS13])
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(
                    vec![cert.der().clone()],
                    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
                )
                .unwrap();
            let mut client = ClientConnection::new(
                Arc::clone(&client_config),
                ServerName::try_from("endpoint.test").unwrap(),
            )
            .unwrap();
            let mut server = ServerConnection::new(Arc::new(server_config)).unwrap();
            for _ in 0..10 {
                if !client.is_handshaking() && !server.is_handshaking() {
                    break;
                }
                let mut wire = vec![];
                client.write_tls(&mut wire).unwrap();
                server.read_tls(&mut wire.as_slice()).unwrap();
                server.process_new_packets().unwrap();
                wire.clear();
                server.write_tls(&mut wire).unwrap();
                client.read_tls(&mut wire.as_slice()).unwrap();
                client.process_new_packets().unwrap();
            }
            assert!(!client.is_handshaking(), "the handshake did not finish");
            (
                client.negotiated_key_exchange_group().map(|g| g.name()),
                client.handshake_kind(),
            )
        };
        // a server with the hybrid: agreed at once
        assert_eq!(
            handshake(vec![kx_group::X25519MLKEM768, kx_group::X25519]),
            (Some(NamedGroup::X25519MLKEM768), Some(HandshakeKind::Full))
        );
        // a server without it: X25519 from the same hello, no second round trip
        assert_eq!(
            handshake(vec![kx_group::X25519]),
            (Some(NamedGroup::X25519), Some(HandshakeKind::Full))
        );
    }
}
