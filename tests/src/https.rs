//! HTTPS stand-ins: a test CA (rcgen, on ring) whose certificate the functions trust only
//! through the test-only `TEST_ONLY_EXTRA_CA_FILE` (`shared::settings::TEST_CA_VARIABLE`), and
//! a TLS front on 127.0.0.1 that terminates TLS with a certificate of that CA for `127.0.0.1`
//! and `localhost` and passes the bytes on to a plain HTTP stand-in (wiremock). A client that
//! is not built with the functions' HTTPS constructor trusts no root, or other ones, and fails
//! the handshake.

use std::path::Path;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};

/// A certificate authority made for one test, and the server certificate it issued.
pub struct TestCa {
    /// The CA certificate, PEM.
    pub pem: String,
    file: tempfile::NamedTempFile,
    server: Arc<rustls::ServerConfig>,
}

impl TestCa {
    pub fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "videosdk-token-api test CA");
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().expect("a CA key"))
            .expect("a CA certificate");
        let leaf_key = KeyPair::generate().expect("a server key");
        let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .expect("server parameters")
            .signed_by(&leaf_key, &ca)
            .expect("a server certificate");
        let chain: Vec<CertificateDer<'static>> = vec![leaf.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let server = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("a server configuration");
        let pem = ca.pem();
        let file = tempfile::NamedTempFile::new().expect("a temporary file");
        std::fs::write(file.path(), &pem).expect("the CA file");
        Self {
            pem,
            file,
            server: Arc::new(server),
        }
    }

    /// The PEM file to name in `TEST_ONLY_EXTRA_CA_FILE`.
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// `(TEST_ONLY_EXTRA_CA_FILE, path)`, for a function's environment.
    pub fn environment(&self) -> (&'static str, String) {
        (
            shared::settings::TEST_CA_VARIABLE,
            self.path().display().to_string(),
        )
    }

    /// An HTTPS front on a free port of 127.0.0.1 for the plain HTTP server at `backend`
    /// (`http://127.0.0.1:PORT`); it stops when dropped.
    pub async fn front(&self, backend: &str) -> HttpsFront {
        let backend = backend
            .strip_prefix("http://")
            .expect("an http:// backend")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let port = listener.local_addr().expect("an address").port();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::clone(&self.server));
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let backend = backend.clone();
                tokio::spawn(async move {
                    // A client that refuses the certificate ends the handshake: nothing to pass on.
                    let Ok(mut tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let Ok(mut plain) = TcpStream::connect(&backend).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
        HttpsFront { port, task }
    }
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}

/// A running TLS front ([`TestCa::front`]).
pub struct HttpsFront {
    pub port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl HttpsFront {
    /// `https://127.0.0.1:PORT`, as the functions are given it.
    pub fn uri(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }
}

impl Drop for HttpsFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}
