//! Secrets Manager faults at cold start, through the real function binary: each ends the init
//! with one log line that names the secret and the problem, and no line holds a secret.
//! The faults come from moto (a deleted secret), a closed port, and a local HTTP server that
//! answers as Secrets Manager does when it refuses (wiremock).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use api_tests::{
    ChildGuard, MotoServer, aws_test_environment, free_port, function_binary, venv_tool,
    wait_for_port,
};
use shared::aws::environment::OPERATION_TIMEOUT;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Runs the get-token binary as Lambda would start it and returns its exit code and output. It
/// must end by itself: init fails before it ever asks the (absent) Runtime API for work.
fn cold_start(endpoint: &str, secret_id: &str) -> (Option<i32>, String, Duration) {
    cold_start_without(endpoint, secret_id, &[])
}

/// [`cold_start`] with the variables `unset` left out of the AWS environment.
fn cold_start_without(
    endpoint: &str,
    secret_id: &str,
    unset: &[&str],
) -> (Option<i32>, String, Duration) {
    cold_start_in(endpoint, secret_id, unset, &[])
}

/// [`cold_start`] with the variables `unset` left out of the AWS environment, and `extra` added.
fn cold_start_in(
    endpoint: &str,
    secret_id: &str,
    unset: &[&str],
    extra: &[(&str, &str)],
) -> (Option<i32>, String, Duration) {
    let mut command = Command::new(function_binary("get-token"));
    command
        .env_clear()
        .envs(
            aws_test_environment(endpoint)
                .into_iter()
                .filter(|(name, _)| !unset.contains(name)),
        )
        .envs(extra.iter().copied())
        .env("VIDEOSDK_SECRET_ID", secret_id)
        // Nothing listens here: if init wrongly succeeded the runtime would fail to connect.
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            format!("127.0.0.1:{}", free_port()),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = api_tests::ChildGuard::spawn(&mut command).expect("the function starts");
    let deadline = started + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("waitable") {
            break status;
        }
        assert!(Instant::now() < deadline, "init hung for a minute");
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = started.elapsed();
    let output = child.output_text();
    println!(
        "{secret_id}: exit {:?} after {elapsed:?}\n{output}",
        status.code()
    );
    (status.code(), output, elapsed)
}

fn assert_one_clear_line(output: &str, secret_id: &str, problem: &str) {
    let failures: Vec<&str> = output
        .lines()
        .filter(|line| line.contains("init failed"))
        .collect();
    assert_eq!(failures.len(), 1, "{output}");
    assert!(failures[0].contains(secret_id), "{}", failures[0]);
    assert!(
        failures[0].contains(problem),
        "expected {problem:?} in {}",
        failures[0]
    );
    assert!(!output.contains("secret-value-never-printed"), "{output}");
}

async fn refusing_endpoint(status: u16, error_type: &str, message: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(status)
                .insert_header("content-type", "application/x-amz-json-1.1")
                .insert_header("x-amzn-errortype", error_type)
                .set_body_json(serde_json::json!({ "__type": error_type, "message": message })),
        )
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the test tools; scripts/test runs it"]
async fn a_deleted_secret_fails_the_cold_start() {
    let moto = MotoServer::start();
    let arn = moto
        .create_secret(
            "videosdk/deleted",
            r#"{"VIDEOSDK_API_KEY":"k","VIDEOSDK_SECRET_KEY":"secret-value-never-printed"}"#,
        )
        .await;
    moto.client()
        .await
        .delete_secret()
        .secret_id(&arn)
        .send()
        .await
        .unwrap();
    let (code, output, _) = cold_start(&moto.endpoint, "videosdk/deleted");
    assert_eq!(code, Some(1));
    // Secrets Manager refuses a secret scheduled for deletion with InvalidRequestException.
    assert_one_clear_line(&output, "videosdk/deleted", "InvalidRequestException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_denied_fails_the_cold_start() {
    let server = refusing_endpoint(400, "AccessDeniedException", "User is not authorized").await;
    let (code, output, _) = cold_start(&server.uri(), "videosdk/forbidden");
    assert_eq!(code, Some(1));
    assert_one_clear_line(
        &output,
        "videosdk/forbidden",
        "access to secret \"videosdk/forbidden\" was denied",
    );
    // And one metric line for CloudWatch, valid embedded metric format.
    let records = api_tests::emf::records(&output).unwrap_or_else(|error| panic!("{error}"));
    let failures: Vec<_> = records
        .iter()
        .map(|record| (record.dimension("Upstream"), record.dimension("Failure")))
        .collect();
    assert_eq!(
        failures,
        [(Some("SecretsManager"), Some("access_denied"))],
        "{output}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_and_server_errors_fail_the_cold_start_after_the_retry() {
    for (status, error_type) in [(400, "ThrottlingException"), (500, "InternalServiceError")] {
        let server = refusing_endpoint(status, error_type, "try again later").await;
        let (code, output, _) = cold_start(&server.uri(), "videosdk/busy");
        assert_eq!(code, Some(1), "{error_type}");
        assert_one_clear_line(&output, "videosdk/busy", error_type);
        // The current and previous versions are asked for together; each gets one retry.
        let requests = server.received_requests().await.unwrap_or_default();
        let current = requests
            .iter()
            .filter(|request| String::from_utf8_lossy(&request.body).contains("AWSCURRENT"))
            .count();
        assert_eq!(current, 2, "{error_type}: one try and one retry");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_or_silent_endpoint_fails_the_cold_start_within_its_bound() {
    let closed = format!("http://127.0.0.1:{}", free_port());
    let (code, output, _) = cold_start(&closed, "videosdk/unreachable");
    assert_eq!(code, Some(1));
    assert_one_clear_line(&output, "videosdk/unreachable", "could not be reached");

    // An endpoint that accepts and never answers: the operation timeout ends the wait.
    let silent = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(120)))
        .mount(&silent)
        .await;
    let (code, output, elapsed) = cold_start(&silent.uri(), "videosdk/silent");
    assert_eq!(code, Some(1));
    assert_one_clear_line(&output, "videosdk/silent", "could not be reached");
    println!("a silent endpoint ended the init after {elapsed:?}");
    // The bound: the SDK's operation timeout (over every attempt), plus slack for starting the
    // process and logging on a loaded machine; the delay above is far beyond both.
    let bound = OPERATION_TIMEOUT + Duration::from_secs(3);
    assert!(
        elapsed <= bound,
        "a silent endpoint held the init {elapsed:?}, over {bound:?} ({OPERATION_TIMEOUT:?} and slack)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the test tools; scripts/test runs it"]
async fn missing_aws_credentials_or_region_fail_the_cold_start_by_name() {
    let moto = MotoServer::start();
    moto.create_secret(
        "videosdk/no-env",
        r#"{"VIDEOSDK_API_KEY":"k","VIDEOSDK_SECRET_KEY":"secret-value-never-printed"}"#,
    )
    .await;
    for (unset, named) in [
        (&["AWS_ACCESS_KEY_ID"][..], "AWS_ACCESS_KEY_ID: not set"),
        (
            &["AWS_SECRET_ACCESS_KEY"][..],
            "AWS_SECRET_ACCESS_KEY: not set",
        ),
        (
            &["AWS_REGION", "AWS_DEFAULT_REGION"][..],
            "AWS_REGION: not set",
        ),
    ] {
        let (code, output, _) = cold_start_without(&moto.endpoint, "videosdk/no-env", unset);
        assert_eq!(code, Some(1), "{unset:?}");
        assert_one_clear_line(&output, "videosdk/no-env", named);
    }
    // With only AWS_DEFAULT_REGION (the CLI's variable) the secret is read, and the function
    // goes on to ask the Runtime API for work, which nothing here answers.
    let (code, output, _) = cold_start_without(&moto.endpoint, "videosdk/no-env", &["AWS_REGION"]);
    assert!(!output.contains("init failed"), "{output}");
    assert!(output.contains("initialised"), "{output}");
    assert_ne!(code, Some(0));
}

/// An HTTPS server on 127.0.0.1 with a certificate of its own (self-signed, for 127.0.0.1),
/// from the test tools' Python; returns its endpoint, the certificate's PEM file and the guard.
fn self_signed_https_server(folder: &std::path::Path) -> (String, std::path::PathBuf, ChildGuard) {
    const SERVER: &str = r#"
import datetime, http.server, ipaddress, ssl, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
folder, port = sys.argv[1], int(sys.argv[2])
key = ec.generate_private_key(ec.SECP256R1())
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
now = datetime.datetime.now(datetime.timezone.utc)
certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
    .public_key(key.public_key()).serial_number(x509.random_serial_number())
    .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=1))
    .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
    .sign(key, hashes.SHA256()))
open(f"{folder}/cert.pem", "wb").write(certificate.public_bytes(serialization.Encoding.PEM))
open(f"{folder}/key.pem", "wb").write(key.private_bytes(serialization.Encoding.PEM,
    serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(f"{folder}/cert.pem", f"{folder}/key.pem")
server = http.server.HTTPServer(("127.0.0.1", port), http.server.BaseHTTPRequestHandler)
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
"#;
    let port = free_port();
    let guard = ChildGuard::spawn(
        Command::new(venv_tool("python"))
            .args(["-c", SERVER])
            .arg(folder)
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )
    .expect("python starts");
    wait_for_port(port, Duration::from_secs(30), "the HTTPS server");
    (
        format!("https://127.0.0.1:{port}"),
        folder.join("cert.pem"),
        guard,
    )
}

/// The functions trust the roots compiled into them (shared/src/tls.rs), not the system's: an
/// HTTPS endpoint with a certificate of its own is refused at the handshake, also when
/// `SSL_CERT_FILE` names that very certificate. (Nothing here can serve a certificate from a
/// public root, so the accepted case is left to the deployment.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the test tools; scripts/test runs it"]
async fn an_https_endpoint_outside_the_compiled_in_roots_is_refused() {
    let folder = tempfile::tempdir().expect("a temporary directory");
    let (endpoint, certificate, _server) = self_signed_https_server(folder.path());
    let certificate = certificate.to_str().expect("a UTF-8 path");
    for extra in [&[][..], &[("SSL_CERT_FILE", certificate)][..]] {
        let (code, output, _) = cold_start_in(&endpoint, "videosdk/tls", &[], extra);
        assert_eq!(code, Some(1), "{extra:?}");
        assert_one_clear_line(
            &output,
            "videosdk/tls",
            "invalid peer certificate: UnknownIssuer",
        );
    }
}
