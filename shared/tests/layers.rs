//! The common crate's layers look inward only: a file may name the modules of its own layer and
//! of the layers inside it, never those outside. The domain knows no HTTP, no AWS and no HTTP
//! client; the HTTP layer knows no AWS. A file that breaks this fails here with the line.

use std::path::{Path, PathBuf};

/// A layer: the files it holds, the crate modules it may not name, the crates it may not use.
struct Layer {
    name: &'static str,
    files: &'static [&'static str],
    forbidden_modules: &'static [&'static str],
    forbidden_crates: &'static [&'static str],
}

const OUTER_OF_DOMAIN: &[&str] = &[
    "http", "aws", "videosdk", "meetings", "settings", "state", "routes", "tls",
];
const NETWORK_CRATES: &[&str] = &["lambda_http", "aws_", "reqwest", "videosdk::", "hyper"];

const LAYERS: &[Layer] = &[
    Layer {
        name: "domain",
        files: &["domain/"],
        forbidden_modules: OUTER_OF_DOMAIN,
        forbidden_crates: NETWORK_CRATES,
    },
    Layer {
        name: "http",
        files: &["http/"],
        forbidden_modules: &[
            "aws", "videosdk", "meetings", "settings", "state", "routes", "tls",
        ],
        forbidden_crates: &["aws_", "reqwest", "videosdk::"],
    },
    Layer {
        name: "aws",
        files: &["aws/"],
        forbidden_modules: &["videosdk", "meetings", "settings", "state", "routes"],
        forbidden_crates: &["reqwest", "videosdk::"],
    },
    Layer {
        name: "videosdk",
        files: &["videosdk.rs"],
        forbidden_modules: &["http", "aws", "meetings", "settings", "state", "routes"],
        forbidden_crates: &["lambda_http", "aws_"],
    },
    // The TLS configuration that the AWS and VideoSDK clients share: it names no other module.
    Layer {
        name: "tls",
        files: &["tls.rs"],
        forbidden_modules: &[
            "domain", "http", "aws", "videosdk", "meetings", "settings", "state", "routes",
        ],
        forbidden_crates: &["lambda_http", "aws_", "reqwest", "videosdk::"],
    },
    Layer {
        name: "configuration and state",
        files: &["meetings.rs", "settings.rs", "state.rs", "webhooks.rs"],
        forbidden_modules: &["routes"],
        forbidden_crates: &[],
    },
];

fn source_files(folder: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder).expect("shared/src is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            files.extend(source_files(&path));
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            files.push(path);
        }
    }
    files
}

/// The lines of `text` that are code (line comments dropped).
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().filter_map(|(index, line)| {
        let code = line.split("//").next().unwrap_or_default();
        (!code.trim().is_empty()).then_some((index + 1, code))
    })
}

#[test]
fn every_layer_names_only_itself_and_the_layers_inside_it() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut violations = Vec::new();
    let mut checked = 0;
    for path in source_files(&source) {
        let relative = path
            .strip_prefix(&source)
            .expect("under src")
            .to_string_lossy()
            .replace('\\', "/");
        let Some(layer) = LAYERS
            .iter()
            .find(|layer| layer.files.iter().any(|file| relative.starts_with(file)))
        else {
            continue;
        };
        checked += 1;
        let text = std::fs::read_to_string(&path).expect("a readable source file");
        for (number, line) in code_lines(&text) {
            let named_module = layer.forbidden_modules.iter().find(|module| {
                line.contains(&format!("crate::{module}::"))
                    || line.contains(&format!("crate::{module};"))
                    || line.contains(&format!("crate::{module}}}"))
            });
            let used_crate = layer.forbidden_crates.iter().find(|krate| {
                line.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                    .any(|word| word.starts_with(*krate) && !word.starts_with("crate::"))
            });
            if let Some(found) = named_module.or(used_crate) {
                violations.push(format!(
                    "src/{relative}:{number} ({} layer) uses {found}: {}",
                    layer.name,
                    line.trim()
                ));
            }
        }
    }
    assert!(checked >= 15, "only {checked} files were checked");
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn the_check_finds_an_outer_import() {
    let line = "use crate::http::error::ApiError;";
    let domain = &LAYERS[0];
    assert!(
        domain
            .forbidden_modules
            .iter()
            .any(|module| { line.contains(&format!("crate::{module}::")) })
    );
    let uses_crate = |line: &str| {
        domain.forbidden_crates.iter().any(|krate| {
            line.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .any(|word| word.starts_with(*krate))
        })
    };
    assert!(uses_crate("use lambda_http::Request;"));
    assert!(uses_crate("let client = reqwest::Client::new();"));
    assert!(!uses_crate("use serde_json::Value;"));
}
