//! `sam deploy --guided` on `template.yaml` asks exactly the prompts `docs/deploying.md`
//! lists, and never whether a function may go without authentication (a question whose default
//! answer, No, aborts the deploy). It runs the real SAM CLI of `.venv-sam` in a copy of the
//! template and `samconfig.toml`, pressing Enter at every prompt, with dummy credentials and
//! every AWS endpoint pointed at a closed port: it stops at the first call to AWS, after the
//! prompts.

use std::io::Write;
use std::process::{Command, Stdio};

use api_tests::workspace_root;

/// The prompts of `docs/deploying.md`'s table (the first cell of each row, without its
/// default in brackets), in order.
fn documented_prompts() -> Vec<String> {
    let page = std::fs::read_to_string(workspace_root().join("docs/deploying.md"))
        .expect("docs/deploying.md");
    let section = page
        .split_once("### `sam deploy --guided`")
        .map(|(_, rest)| rest.split("\n## ").next().unwrap_or(rest))
        .expect("a `sam deploy --guided` section");
    section
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            let cell = line.split('|').nth(1).expect("a first cell").trim();
            let prompt = cell.trim_matches('`').split('`').next().expect("a prompt");
            prompt
                .split(" [")
                .next()
                .expect("a prompt")
                .trim()
                .to_owned()
        })
        .collect()
}

#[test]
#[ignore = "needs the test tools; scripts/test runs it"]
fn sam_deploy_guided_asks_the_documented_prompts_and_nothing_about_authentication() {
    let sam = workspace_root().join(".venv-sam/bin/sam");
    assert!(
        sam.exists(),
        "{} is missing: run ./scripts/test, which installs the SAM CLI into .venv-sam",
        sam.display()
    );
    let dir = tempfile::tempdir().expect("a temporary directory");
    for file in ["template.yaml", "samconfig.toml"] {
        std::fs::copy(workspace_root().join(file), dir.path().join(file)).expect("copied");
    }
    let mut child = Command::new(&sam)
        .args(["deploy", "--guided"])
        .current_dir(dir.path())
        .env("SAM_CLI_TELEMETRY", "0")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "dummy-secret-for-offline-checks")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sam runs");
    // Enter, at every prompt there may be (more than there are: the rest is never read).
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&b"\n".repeat(200))
        .expect("answers written");
    let output = child.wait_with_output().expect("sam ends");
    let transcript = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !transcript.contains("has no authentication"),
        "sam deploy --guided asks about authentication:\n{transcript}"
    );
    assert!(
        transcript.contains("Looking for resources needed for deployment"),
        "sam deploy --guided stopped before its last prompt:\n{transcript}"
    );

    // The prompts it asked, in order: each ends with ": " on one line of its output.
    let asked: Vec<String> = transcript
        .split(['\t', '\n'])
        .map(str::trim)
        .filter(|part| {
            part.ends_with(':') && (part.contains(" [") || part.starts_with("Parameter "))
        })
        .map(|part| {
            part.trim_end_matches(':')
                .split(" [")
                .next()
                .unwrap_or(part)
                .trim()
                .to_owned()
        })
        .collect();
    let mut expected = Vec::new();
    for prompt in documented_prompts() {
        if prompt.starts_with("Parameter <Name>") {
            // One per parameter of the template, in its order.
            expected.extend(
                asked
                    .iter()
                    .filter(|asked| asked.starts_with("Parameter "))
                    .cloned(),
            );
        } else if prompt != "Deploy this changeset?" {
            // Asked after the change set is made, which needs AWS.
            expected.push(prompt);
        }
    }
    assert_eq!(
        asked, expected,
        "sam deploy --guided's prompts and docs/deploying.md's"
    );
    let template = api_tests::template::template();
    let parameters = api_tests::template::mapping(
        api_tests::template::get(&template, "Parameters").expect("Parameters"),
        "Parameters",
    );
    let asked_parameters: Vec<&str> = asked
        .iter()
        .filter_map(|asked| asked.strip_prefix("Parameter "))
        .collect();
    let declared: Vec<&str> = parameters
        .keys()
        .map(|name| name.as_str().expect("a name"))
        .collect();
    assert_eq!(asked_parameters, declared, "one prompt per parameter");
}
