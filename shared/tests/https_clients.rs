//! Every call out is made with the TLS of `shared/src/tls.rs` (rustls on ring, the compiled-in
//! roots): reqwest is built with manually given roots only, so a client built any other way
//! trusts no root and its HTTPS calls fail (the webhook key fetch once was, and the default
//! deployment could not start). The HTTPS end-to-end test proves it for the key fetch
//! (`tests/tests/webhook_local_api.rs`); this one keeps any new client on the same path.

/// Every client that calls out is made with tls.rs's TLS: no other file builds a TLS
/// configuration or connector of its own, and the one reqwest client builder of the crate
/// (`crate::videosdk::https_client`) is given tls.rs's configuration.
#[test]
fn no_other_module_builds_an_https_client() {
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut pending = vec![source];
    let mut offenders = Vec::new();
    let mut reqwest_builders = 0;
    while let Some(directory) = pending.pop() {
        for entry in std::fs::read_dir(&directory).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            if path.extension().is_none_or(|ext| ext != "rs") || path.ends_with("src/tls.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for needle in [
                "reqwest::Client::new",
                "ClientBuilder::new",
                "add_root_certificate",
                "ClientConfig::builder",
                "HttpsConnectorBuilder",
            ] {
                if text.contains(needle) {
                    offenders.push(format!("{}: {needle}", path.display()));
                }
            }
            let builders = text.matches("reqwest::Client::builder()").count();
            let with_tls = text
                .matches(".use_preconfigured_tls(crate::tls::client_config())")
                .count();
            if builders != with_tls {
                offenders.push(format!(
                    "{}: {builders} reqwest builders, {with_tls} given crate::tls's configuration",
                    path.display()
                ));
            }
            reqwest_builders += builders;
        }
    }
    assert_eq!(offenders, Vec::<String>::new());
    assert_eq!(reqwest_builders, 1, "one reqwest constructor");
}
