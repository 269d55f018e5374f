//! The functions' secret loader against a real Secrets Manager API: moto_server on 127.0.0.1,
//! reached by the real AWS SDK with dummy credentials.

use api_tests::{MotoServer, free_port, test_aws_environment};
use shared::aws::secrets_manager::{SecretError, SecretStore};
use shared::domain::credentials::{ApiCredentials, CredentialsFormatError};

/// The secret's current version, read as a cold start reads it.
async fn fetch_from_secrets_manager(
    endpoint: &str,
    secret_id: &str,
) -> Result<ApiCredentials, SecretError> {
    SecretStore::new(&test_aws_environment(endpoint), secret_id)
        .fetch_version("AWSCURRENT")
        .await
}

#[tokio::test]
#[ignore = "needs the test tools; scripts/test runs it"]
async fn reads_and_refuses_secrets_like_a_cold_start_does() {
    let moto = MotoServer::start();
    let client = moto.client().await;

    let arn = moto
        .create_secret(
            "videosdk/ok",
            r#"{"VIDEOSDK_API_KEY":"key-from-moto","VIDEOSDK_SECRET_KEY":"secret-from-moto"}"#,
        )
        .await;
    for id in ["videosdk/ok", arn.as_str()] {
        let credentials = fetch_from_secrets_manager(&moto.endpoint, id)
            .await
            .expect("found");
        assert_eq!(credentials.api_key(), "key-from-moto");
        assert_eq!(credentials.secret_key(), b"secret-from-moto");
    }

    moto.create_secret(
        "videosdk/sdk-name",
        r#"{"VIDEOSDK_API_KEY":"k","VIDEOSDK_SECRET":"secret-under-its-sdk-name"}"#,
    )
    .await;
    let credentials = fetch_from_secrets_manager(&moto.endpoint, "videosdk/sdk-name")
        .await
        .unwrap();
    assert_eq!(credentials.secret_key(), b"secret-under-its-sdk-name");

    let missing = fetch_from_secrets_manager(&moto.endpoint, "videosdk/missing")
        .await
        .unwrap_err();
    assert_eq!(
        missing,
        SecretError::NotFound {
            secret_id: "videosdk/missing".into()
        }
    );
    assert!(missing.to_string().contains("videosdk/missing"));

    moto.create_secret(
        "videosdk/malformed",
        r#"{"VIDEOSDK_API_KEY":"k","VIDEOSDK_SECRET_KEY":"hunter2"#,
    )
    .await;
    let malformed = fetch_from_secrets_manager(&moto.endpoint, "videosdk/malformed")
        .await
        .unwrap_err();
    assert!(
        matches!(
            malformed,
            SecretError::Unusable {
                problem: CredentialsFormatError::MalformedJson { .. },
                ..
            }
        ),
        "{malformed:?}"
    );
    assert!(!malformed.to_string().contains("hunter2"));

    moto.create_secret("videosdk/no-secret-key", r#"{"VIDEOSDK_API_KEY":"k"}"#)
        .await;
    let no_key = fetch_from_secrets_manager(&moto.endpoint, "videosdk/no-secret-key")
        .await
        .unwrap_err();
    assert_eq!(
        no_key,
        SecretError::Unusable {
            secret_id: "videosdk/no-secret-key".into(),
            problem: CredentialsFormatError::MissingField("VIDEOSDK_SECRET_KEY")
        }
    );

    client
        .create_secret()
        .name("videosdk/binary")
        .secret_binary(aws_sdk_secretsmanager::primitives::Blob::new(
            b"raw".to_vec(),
        ))
        .send()
        .await
        .unwrap();
    let binary = fetch_from_secrets_manager(&moto.endpoint, "videosdk/binary")
        .await
        .unwrap_err();
    assert_eq!(
        binary,
        SecretError::NotAString {
            secret_id: "videosdk/binary".into()
        }
    );
}

#[tokio::test]
#[ignore = "needs the test tools; scripts/test runs it"]
async fn an_unreachable_endpoint_is_a_clear_error_not_a_hang() {
    // Nothing listens on a port we just freed: the connection is refused, retried once, reported.
    let endpoint = format!("http://127.0.0.1:{}", free_port());
    let error = fetch_from_secrets_manager(&endpoint, "videosdk/prod")
        .await
        .unwrap_err();
    assert!(
        matches!(error, SecretError::Unreachable { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("videosdk/prod"), "{error}");
}
