//! The README and the pages of `docs/` link to each other instead of repeating a fact, so every
//! relative link must lead somewhere: a file that exists and, with a `#fragment`, a heading of
//! that file whose anchor (as GitHub makes it) is the fragment.

use std::path::{Path, PathBuf};

use api_tests::workspace_root;

/// The anchor GitHub gives a heading: lowercase, punctuation dropped but `-` and `_`, spaces
/// as `-`.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a Markdown file's headings (outside code blocks).
fn anchors(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut in_code = false;
    let mut found = Vec::new();
    for line in text.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            found.push(anchor(line.trim_start_matches('#')));
        }
    }
    found
}

/// `(target, line)` of every Markdown link `](target)` outside code blocks.
fn links(text: &str) -> Vec<(String, usize)> {
    let mut in_code = false;
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if line.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        let mut rest = line;
        while let Some(start) = rest.find("](") {
            let after = &rest[start + 2..];
            let Some(end) = after.find(')') else { break };
            found.push((after[..end].to_owned(), number + 1));
            rest = &after[end..];
        }
    }
    found
}

#[test]
fn every_relative_link_of_the_docs_leads_to_a_file_and_heading() {
    let root = workspace_root();
    let mut pages: Vec<PathBuf> = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).expect("docs/") {
        let path = entry.expect("an entry").path();
        if path.extension().is_some_and(|extension| extension == "md") {
            pages.push(path);
        }
    }
    let mut broken = Vec::new();
    let mut checked = 0;
    for page in &pages {
        let text = std::fs::read_to_string(page).expect("a page");
        for (target, line) in links(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (file, fragment) = target.split_once('#').unwrap_or((&target, ""));
            let file = if file.is_empty() {
                page.clone()
            } else {
                page.parent().expect("a directory").join(file)
            };
            let where_ = format!("{}:{line}: {target}", page.display());
            if !file.exists() {
                broken.push(format!("{where_}: no such file"));
            } else if !fragment.is_empty() && !anchors(&file).iter().any(|found| found == fragment)
            {
                broken.push(format!("{where_}: no such heading"));
            }
        }
    }
    assert!(checked > 50, "{checked} links checked");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn anchors_are_made_as_github_makes_them() {
    assert_eq!(anchor(" `sam deploy --guided`"), "sam-deploy---guided");
    assert_eq!(
        anchor(" `POST /create-meeting` and `POST /validate-meeting/{meetingId}`"),
        "post-create-meeting-and-post-validate-meetingmeetingid"
    );
    assert_eq!(
        anchor(" 2. Store the key in Secrets Manager"),
        "2-store-the-key-in-secrets-manager"
    );
    assert_eq!(
        anchor(" Outbound TLS: the trusted roots"),
        "outbound-tls-the-trusted-roots"
    );
}
