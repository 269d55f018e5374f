//! The one way the functions make an HTTPS client: every call out, to AWS (the SDK's HTTP
//! client, [`https_connector`]) and to VideoSDK (reqwest, `crate::videosdk::https_client`, the
//! one place a reqwest client is built), gets the TLS configuration of this module: rustls on ring, the one crypto library of the binaries,
//! trusting Mozilla's root certificates as compiled into them (`webpki-roots`). reqwest is built
//! with `rustls-tls-manual-roots` alone, so a client made any other way trusts no root at all
//! and every HTTPS call it makes fails.
//!
//! Not the system's store: reading it (`rustls-native-certs`: the bundle file, then every file of
//! the certificate directory, each PEM-decoded with a constant-time base64 decoder) was most of
//! the CPU of a cold start, and was done once per client. `webpki-roots` holds the roots as
//! trust anchors already parsed, so a store is ~150 references copied, and the configuration is
//! built once per process, however many clients a function builds. The trade (docs/security.md):
//! `SSL_CERT_FILE`, `SSL_CERT_DIR` and the system's certificates are not read, and the roots are
//! those of the `webpki-roots` release the binary was built with.
//!
//! Tests only: [`TEST_CA_VARIABLE`] names a PEM file with one more CA certificate to trust, so
//! that the real binaries (under `cargo lambda watch`, and the release artifacts under the
//! Lambda emulator) reach HTTPS stand-ins whose certificates a test CA made. It is an
//! environment variable, not a cargo feature, so that the tests run the very binaries that are
//! deployed; the template never sets it, and a cold start that finds it set logs a warning.

use std::sync::{Arc, OnceLock};

use rustls::pki_types::{CertificateDer, TrustAnchor};

/// Tests only: a PEM file holding one CA certificate that the HTTPS clients trust besides the
/// compiled-in roots. Never set in a deployment (the template does not).
pub const TEST_CA_VARIABLE: &str = "TEST_ONLY_EXTRA_CA_FILE";

/// The extra trust anchor of [`TEST_CA_VARIABLE`], read once per process.
static TEST_CA: OnceLock<Option<TrustAnchor<'static>>> = OnceLock::new();

/// Reads [`TEST_CA_VARIABLE`] from the process environment, once, before any client is made
/// (`Settings::from_env`). Unset or blank: nothing more is trusted. A file that cannot be read
/// or holds no CA certificate stops the cold start, naming the variable (the error says why).
pub(crate) fn load_test_ca() -> Result<(), String> {
    let path = std::env::var(TEST_CA_VARIABLE).unwrap_or_default();
    let path = path.trim();
    if path.is_empty() {
        let _ = TEST_CA.set(None);
        return Ok(());
    }
    let anchor = read_anchor(path)?;
    tracing::warn!(
        variable = TEST_CA_VARIABLE,
        "HTTPS clients also trust the test CA this variable names: tests only, never in a \
         deployment"
    );
    let _ = TEST_CA.set(Some(anchor));
    Ok(())
}

fn read_anchor(path: &str) -> Result<TrustAnchor<'static>, String> {
    let text =
        std::fs::read_to_string(path).map_err(|error| format!("cannot read {path}: {error}"))?;
    let block = pem::parse(text.trim()).map_err(|_| format!("{path} holds no PEM block"))?;
    if block.tag() != "CERTIFICATE" {
        return Err(format!(
            "{path} holds a {:?}, not a CERTIFICATE",
            block.tag()
        ));
    }
    let mut store = rustls::RootCertStore::empty();
    store
        .add(CertificateDer::from(block.contents().to_vec()))
        .map_err(|error| format!("{path} is not a usable CA certificate: {error}"))?;
    store
        .roots
        .pop()
        .ok_or_else(|| format!("{path} gave no trust anchor"))
}

/// The client configuration of every HTTPS call out, built once per process: every client
/// shares its root store, verifier and TLS session cache.
static CLIENT_CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();

/// The client configuration of every HTTPS call out: the compiled-in roots (and the test CA,
/// when one is loaded). Callers set their ALPN. Built at the first call, after
/// [`load_test_ca`] in a function (`Settings::from_env` runs first); each caller gets a copy of
/// it that shares its verifier and session cache.
pub(crate) fn client_config() -> rustls::ClientConfig {
    shared_client_config().as_ref().clone()
}

fn shared_client_config() -> Arc<rustls::ClientConfig> {
    Arc::clone(CLIENT_CONFIG.get_or_init(|| Arc::new(build_client_config())))
}

fn build_client_config() -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(Some(anchor)) = TEST_CA.get() {
        roots.roots.push(anchor.clone());
    }
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        // ring's provider has cipher suites for TLS 1.2 and 1.3: only a provider without any
        // could fail here (a unit test builds it).
        .expect("ring supports the default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// hyper's HTTPS connector over `tcp`, HTTP/1.1 (no ALPN), with this module's TLS, the process's
/// one configuration itself; `http://` endpoints (a local stand-in) are reached in the clear.
pub(crate) fn https_connector<T>(tcp: T) -> hyper_rustls::HttpsConnector<T> {
    hyper_rustls::HttpsConnector::from((tcp, shared_client_config()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_client_shares_one_configuration() {
        // One configuration per process, not one built for each client (each AWS client and
        // each reqwest client asks for it): the copies share what it was built with.
        assert!(Arc::ptr_eq(
            &shared_client_config(),
            &shared_client_config()
        ));
        assert!(Arc::ptr_eq(
            client_config().crypto_provider(),
            shared_client_config().crypto_provider()
        ));
    }

    #[test]
    fn the_roots_include_those_aws_endpoints_chain_to() {
        let config = client_config();
        assert!(config.alpn_protocols.is_empty());
        // AWS service endpoints present Amazon Trust Services certificates, whose roots are
        // Amazon Root CA 1 to 4 and, for older clients, Starfield Services Root G2.
        let subjects: Vec<String> = webpki_roots::TLS_SERVER_ROOTS
            .iter()
            .map(|anchor| String::from_utf8_lossy(anchor.subject.as_ref()).into_owned())
            .collect();
        for name in [
            "Amazon Root CA 1",
            "Amazon Root CA 2",
            "Amazon Root CA 3",
            "Amazon Root CA 4",
            "Starfield Services Root Certificate Authority - G2",
        ] {
            assert!(
                subjects.iter().any(|subject| subject.contains(name)),
                "{name} is not among the {} roots",
                subjects.len()
            );
        }
    }

    /// The error the clients' configuration ends a handshake with, against a server at `name`
    /// presenting `chain`, whose first certificate holds the public half of `key`.
    fn handshake_error(
        name: &str,
        chain: Vec<CertificateDer<'static>>,
        key: rustls::pki_types::PrivateKeyDer<'static>,
    ) -> rustls::Error {
        let server = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
        let name = rustls::pki_types::ServerName::try_from(name.to_owned()).unwrap();
        let mut client = rustls::ClientConnection::new(Arc::new(client_config()), name).unwrap();
        let mut server = rustls::ServerConnection::new(Arc::new(server)).unwrap();
        // Each flight in turn, in memory, until the client refuses the server's certificate
        // (it never completes: no public CA issued it).
        for _ in 0..4 {
            let mut flight = Vec::new();
            while client.wants_write() {
                client.write_tls(&mut flight).unwrap();
            }
            let mut reader = &flight[..];
            while !reader.is_empty() {
                server.read_tls(&mut reader).unwrap();
                server.process_new_packets().unwrap();
            }
            let mut flight = Vec::new();
            while server.wants_write() {
                server.write_tls(&mut flight).unwrap();
            }
            let mut reader = &flight[..];
            while !reader.is_empty() {
                client.read_tls(&mut reader).unwrap();
                if let Err(error) = client.process_new_packets() {
                    return error;
                }
            }
        }
        panic!("the client accepted a certificate no public CA issued");
    }

    /// The clients' own configuration, not `webpki-roots`' constant, trusts Amazon Root CA 1,
    /// which AWS's endpoints chain to. A server presents the real intermediate "Amazon Server CA
    /// 1B" (issued by Amazon Root CA 1, valid until 2040) above a leaf for Secrets Manager's
    /// endpoint that names it as issuer but was signed by an ECDSA key of this test. The chain
    /// reaches the root, so the leaf's signature is checked, and refused, with the
    /// intermediate's RSA key; without the intermediate, or with no root trusted, the chain ends
    /// nowhere (`UnknownIssuer`) and no signature is checked.
    ///
    /// tests/data/amazon-server-ca-1b.pem is the certificate moto 5.2.5 ships as `AWS_ROOT_CA`
    /// in moto/acm/models.py; `openssl verify` accepts it against Amazon Root CA 1 of certifi's
    /// bundle (its SHA-256 fingerprint starts 4A:1F:F6:BB:F4:81).
    #[test]
    fn the_clients_trust_the_root_aws_endpoints_chain_to() {
        let intermediate = pem::parse(include_str!("../tests/data/amazon-server-ca-1b.pem"))
            .unwrap()
            .into_contents();
        let mut amazon = rcgen::DistinguishedName::new();
        for (kind, value) in [
            (rcgen::DnType::CountryName, "US"),
            (rcgen::DnType::OrganizationName, "Amazon"),
            (rcgen::DnType::OrganizationalUnitName, "Server CA 1B"),
            (rcgen::DnType::CommonName, "Amazon"),
        ] {
            // Byte for byte the intermediate's subject, which a chain is built by.
            let value = rcgen::string::PrintableString::try_from(value).unwrap();
            amazon.push(kind, rcgen::DnValue::PrintableString(value));
        }
        let mut claimed = rcgen::CertificateParams::default();
        claimed.distinguished_name = amazon;
        let impostor = rcgen::Issuer::new(claimed, rcgen::KeyPair::generate().unwrap());
        let name = "secretsmanager.us-east-1.amazonaws.com";
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let leaf = rcgen::CertificateParams::new(vec![name.to_owned()])
            .unwrap()
            .signed_by(&leaf_key, &impostor)
            .unwrap();
        let key = || rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
        let rsa_encryption = [6, 9, 42, 134, 72, 134, 247, 13, 1, 1, 1, 5, 0];
        let chained = vec![leaf.der().clone(), CertificateDer::from(intermediate)];
        match handshake_error(name, chained, key()) {
            rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext {
                    public_key_algorithm_id,
                    ..
                },
            ) if public_key_algorithm_id == rsa_encryption => {}
            error => panic!("the chain does not reach a root the clients trust: {error:?}"),
        }
        assert_eq!(
            handshake_error(name, vec![leaf.der().clone()], key()),
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)
        );
    }

    #[test]
    fn a_test_ca_file_must_hold_a_ca_certificate() {
        let directory = std::env::temp_dir().join(format!("tls-test-ca-{}", std::process::id()));
        std::fs::create_dir_all(&directory).unwrap();
        let missing = directory.join("missing.pem");
        let error = read_anchor(missing.to_str().unwrap()).unwrap_err();
        assert!(error.contains("cannot read"), "{error}");
        let key = directory.join("key.pem");
        std::fs::write(
            &key,
            "-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----\n",
        )
        .unwrap();
        let error = read_anchor(key.to_str().unwrap()).unwrap_err();
        assert!(error.contains("not a CERTIFICATE"), "{error}");
        let junk = directory.join("junk.pem");
        std::fs::write(
            &junk,
            "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let error = read_anchor(junk.to_str().unwrap()).unwrap_err();
        assert!(error.contains("not a usable CA certificate"), "{error}");
        let _ = std::fs::remove_dir_all(directory);
    }
}
