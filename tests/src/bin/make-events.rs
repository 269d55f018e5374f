//! Regenerates `events/`: `cargo run -p api-tests --bin make-events`.

fn main() -> std::io::Result<()> {
    for path in api_tests::events::write_all()? {
        println!("{}", path.display());
    }
    Ok(())
}
