//! The local API as a user runs it: `cargo lambda watch` emulating the Lambda runtime and serving
//! the API Gateway routes of `[workspace.metadata.lambda.watch.router]`, with the real binaries.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::{ChildGuard, free_port, venv_tool, workspace_root};

/// A running `cargo lambda watch` on a free port of 127.0.0.1, stopped (with every function
/// process it started) when dropped. Its output, the functions' logs included, goes to a file.
pub struct LocalApi {
    process: ChildGuard,
    pub base_url: String,
    pub port: u16,
    log_dir: tempfile::TempDir,
}

impl LocalApi {
    /// Starts the local API with these environment variables for the functions, and nothing
    /// from `dev/local.env` unless `dev_key` is true.
    pub fn start(environment: &[(&str, String)], dev_key: bool) -> Self {
        // Build the functions first, with cargo lambda watch's own command, so that no request
        // waits for a compiler.
        for route in shared::routes::ALL {
            crate::function_binary(route.name);
        }
        let port = free_port();
        let log_dir = tempfile::tempdir().expect("a temporary directory");
        let log = std::fs::File::create(log_dir.path().join("watch.log")).expect("a log file");
        let mut command = Command::new(venv_tool("cargo-lambda"));
        // It builds the functions with cargo: the same build as `function_binary`'s.
        crate::without_test_package_env(&mut command)
            .current_dir(workspace_root())
            .args(["lambda", "watch", "--ignore-changes", "--disable-cors"])
            .args([
                "--invoke-address",
                "127.0.0.1",
                "--invoke-port",
                &port.to_string(),
            ])
            // The venv's bin holds cargo-lambda's zig; cargo itself comes from the usual PATH.
            .env("PATH", path_with_venv())
            .env_remove("VIDEOSDK_SECRET_ID")
            .env_remove("VIDEOSDK_API_KEY")
            .env_remove("VIDEOSDK_SECRET_KEY")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log);
        // One env file for all of it: `--env-var` splits its value on commas (it takes
        // `A=1,B=2`), which would cut lists such as WEBHOOK_EVENTS, and takes one file only.
        let mut lines: Vec<String> = environment
            .iter()
            .map(|(name, value)| {
                // Single quotes: the value as it is, spaces and backslashes included.
                assert!(
                    !value.contains(['\n', '\'']),
                    "{name}: one line without single quotes"
                );
                format!("{name}='{value}'")
            })
            .collect();
        let given = |name: &str| environment.iter().any(|(given, _)| *given == name);
        if dev_key {
            let development = std::fs::read_to_string(workspace_root().join("dev/local.env"))
                .expect("dev/local.env is readable");
            lines.extend(
                development
                    .lines()
                    .filter(|line| !line.starts_with('#') && line.contains('='))
                    .filter(|line| !given(line.split('=').next().unwrap_or_default()))
                    .map(str::to_owned),
            );
        }
        // Offline, as scripts/dev runs: meeting ids made and checked by the functions, unless
        // the test points the functions at a VideoSDK stand-in.
        if !given("MEETING_BACKEND") {
            lines.push("MEETING_BACKEND=local".to_owned());
        }
        let env_file = log_dir.path().join("functions.env");
        std::fs::write(&env_file, lines.join("\n") + "\n").expect("the env file");
        command.arg("--env-file").arg(&env_file);
        let mut process = ChildGuard::spawn(&mut command).expect("cargo lambda watch starts");
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            let log =
                || std::fs::read_to_string(log_dir.path().join("watch.log")).unwrap_or_default();
            if let Ok(Some(status)) = process.try_wait() {
                panic!(
                    "cargo lambda watch ended ({status}) before listening:\n{}",
                    log()
                );
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "cargo lambda watch did not listen on port {port} within 120 s:\n{}",
                log()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
        Self {
            process,
            base_url: format!("http://127.0.0.1:{port}"),
            port,
            log_dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Everything cargo-lambda and the functions printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The first log line containing `needle`, waiting for it up to `limit`.
    pub fn wait_for_log_line(&self, needle: &str, limit: Duration) -> Option<String> {
        let started = std::time::Instant::now();
        loop {
            let found = self
                .log()
                .lines()
                .find(|line| line.contains(needle))
                .map(str::to_owned);
            if found.is_some() || started.elapsed() > limit {
                return found;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log_path(&self) -> PathBuf {
        self.log_dir.path().join("watch.log")
    }

    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// `event` (an API Gateway event) answered by `function`, written first as `<name>.json`
    /// beside the log: the response's status and its body as JSON (`null` for none).
    pub fn answer(
        &self,
        function: &str,
        name: &str,
        event: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let path = self.log_dir.path().join(format!("{name}.json"));
        std::fs::write(&path, event.to_string()).expect("the event is written");
        let response = self.invoke(function, &path);
        let body = serde_json::from_str(response["body"].as_str().unwrap_or("null"))
            .unwrap_or(serde_json::Value::Null);
        let status = response["statusCode"].as_u64().unwrap_or_default();
        (u16::try_from(status).unwrap_or_default(), body)
    }

    /// `cargo lambda invoke <function> --data-file <event>` against this emulator; returns the
    /// function's API Gateway response as JSON.
    pub fn invoke(&self, function: &str, event: &std::path::Path) -> serde_json::Value {
        let output = Command::new(venv_tool("cargo-lambda"))
            .current_dir(workspace_root())
            .env("PATH", path_with_venv())
            .args([
                "lambda",
                "invoke",
                function,
                "--invoke-address",
                "127.0.0.1",
            ])
            .args([
                "--invoke-port",
                &self.port.to_string(),
                "--output-format",
                "json",
            ])
            .arg("--data-file")
            .arg(event)
            .output()
            .expect("cargo lambda invoke runs");
        assert!(
            output.status.success(),
            "cargo lambda invoke {function} {} failed: {}",
            event.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
            panic!(
                "cargo lambda invoke printed no JSON ({error}): {}",
                String::from_utf8_lossy(&output.stdout)
            )
        })
    }
}

/// An HTTP client for the local API, with room for the first request to build the function.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()
        .expect("an HTTP client")
}

fn path_with_venv() -> String {
    let venv_bin = workspace_root().join(".venv/bin");
    match std::env::var("PATH") {
        Ok(path) => format!("{}:{path}", venv_bin.display()),
        Err(_) => venv_bin.display().to_string(),
    }
}
