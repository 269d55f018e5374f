//! One line for an error and its causes, for log lines and messages: the SDKs' own `Display`
//! says only the outermost part (a refused certificate shows only in a cause).

/// The messages of an error and its sources, joined: one readable line, without the nested
/// `Debug` dumps the SDK's own formatter appends.
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(error);
    while let Some(error) = current {
        let message = error.to_string();
        if !parts.iter().any(|part| part.contains(&message)) {
            parts.push(message);
        }
        current = error.source();
    }
    parts.join(": ")
}
