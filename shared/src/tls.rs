//! The TLS client configuration of every call the functions make out, to Secrets Manager (the
//! AWS SDK's HTTP client) and to VideoSDK (reqwest): rustls on ring, the one crypto library of
//! the binaries, trusting Mozilla's root certificates as compiled into them (`webpki-roots`).
//!
//! Not the system's store: reading it (`rustls-native-certs`: the bundle file, then every file of
//! the certificate directory, each PEM-decoded with a constant-time base64 decoder) was most of
//! the CPU of a cold start, and was done once per client. `webpki-roots` holds the roots as
//! trust anchors already parsed, so a store is ~150 references copied. The trade (README):
//! `SSL_CERT_FILE`, `SSL_CERT_DIR` and the system's certificates are not read, and the roots are
//! those of the `webpki-roots` release the binary was built with.

use std::sync::Arc;

/// A client configuration for HTTPS with the compiled-in roots; callers set their ALPN.
pub(crate) fn client_config() -> rustls::ClientConfig {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        // ring's provider has cipher suites for TLS 1.2 and 1.3: only a provider without any
        // could fail here (a unit test builds it).
        .expect("ring supports the default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
