//! The source files of a crate and the module each holds, for the tests that read the code
//! (`layers.rs`, `https_clients.rs`).

use std::path::{Path, PathBuf};

/// Every `.rs` file under `folder`, at any depth.
pub fn source_files(folder: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let entries = std::fs::read_dir(folder)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", folder.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            files.extend(source_files(&path));
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            files.push(path);
        }
    }
    files
}

/// The module a file under a crate's `src/` holds: `domain/token/keys.rs` is
/// `domain::token::keys`, `domain/mod.rs` is `domain`, `lib.rs` and `main.rs` the root.
pub fn module_of(relative: &str) -> Vec<&str> {
    let mut parts: Vec<&str> = relative.trim_end_matches(".rs").split('/').collect();
    if matches!(parts.last(), Some(&"mod" | &"lib" | &"main")) {
        parts.pop();
    }
    parts
}
