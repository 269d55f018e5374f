//! Writes every event, with tokens valid for a day from now: `cargo run -p api-tests --bin
//! make-events` rewrites `events/`; `... -- DIR` writes them into DIR instead.

fn main() -> std::io::Result<()> {
    let root = std::env::args_os()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(api_tests::events::committed_root);
    for path in api_tests::events::write_all(&root)? {
        println!("{}", path.display());
    }
    Ok(())
}
