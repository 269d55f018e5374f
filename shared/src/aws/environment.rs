//! What an AWS client needs from the environment, read the way Lambda provides it to every
//! function: credentials in `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`,
//! the region in `AWS_REGION` (or `AWS_DEFAULT_REGION`), and the standard endpoint variables
//! (`AWS_ENDPOINT_URL_<SERVICE>`, `AWS_ENDPOINT_URL`, `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`,
//! `AWS_USE_FIPS_ENDPOINT`, `AWS_USE_DUALSTACK_ENDPOINT`).
//!
//! The service configs are built on each service's own builder, not with
//! `aws_config::defaults(...).load()`: that loader links its whole default chain (profile files,
//! IMDS, ECS, web identity with an STS client) whatever provider it is given, code a Lambda
//! function never runs (docs/performance.md has the sizes).

use std::error::Error;
use std::fmt;
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use aws_types::region::Region;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector as TcpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

/// Bounds on every AWS call, so that an unreachable endpoint fails a cold start in seconds
/// instead of using the whole function timeout.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Public for the tests that hold a cold start to it.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(5);
pub(crate) const MAX_ATTEMPTS: u32 = 2;

/// The credentials, region and endpoint settings of the function's environment.
#[derive(Clone)]
pub struct AwsEnvironment {
    credentials: aws_credential_types::Credentials,
    region: Region,
    use_fips: bool,
    use_dual_stack: bool,
    /// `None` when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is set.
    endpoints: Option<EndpointVariables>,
}

#[derive(Clone)]
struct EndpointVariables {
    /// `AWS_ENDPOINT_URL`, for every service without its own.
    all: Option<String>,
    /// `(AWS_ENDPOINT_URL_<SERVICE>, value)` pairs.
    per_service: Vec<(&'static str, String)>,
}

impl std::fmt::Debug for AwsEnvironment {
    // The credentials are secrets: print where the client goes, not what it signs with.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsEnvironment")
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// The per-service endpoint variables the functions' clients honour.
const SERVICE_ENDPOINT_VARIABLES: [&str; 4] = [
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_EVENTBRIDGE",
    "AWS_ENDPOINT_URL_SQS",
];

impl AwsEnvironment {
    /// Reads the variables through `lookup`; the error is the name of a missing one.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, &'static str> {
        let var = |name: &str| {
            lookup(name)
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        };
        let flag = |name: &str| var(name).is_some_and(|value| value.eq_ignore_ascii_case("true"));
        let access_key_id = var("AWS_ACCESS_KEY_ID").ok_or("AWS_ACCESS_KEY_ID")?;
        let secret_access_key = var("AWS_SECRET_ACCESS_KEY").ok_or("AWS_SECRET_ACCESS_KEY")?;
        let region = var("AWS_REGION")
            .or_else(|| var("AWS_DEFAULT_REGION"))
            .ok_or("AWS_REGION")?;
        let endpoints = (!flag("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")).then(|| EndpointVariables {
            all: var("AWS_ENDPOINT_URL"),
            per_service: SERVICE_ENDPOINT_VARIABLES
                .iter()
                .filter_map(|name| var(name).map(|value| (*name, value)))
                .collect(),
        });
        Ok(Self {
            // Lambda's credentials are fixed for the life of an execution environment.
            credentials: aws_credential_types::Credentials::new(
                access_key_id,
                secret_access_key,
                var("AWS_SESSION_TOKEN"),
                None,
                "lambda-environment",
            ),
            region: Region::new(region),
            use_fips: flag("AWS_USE_FIPS_ENDPOINT"),
            use_dual_stack: flag("AWS_USE_DUALSTACK_ENDPOINT"),
            endpoints,
        })
    }

    /// The configuration every AWS client here is built from (`Client::new`): the environment's
    /// credentials, region and endpoint settings for the service whose endpoint variable is
    /// `service_variable`, with [`http_client`], [`timeouts`] and [`retries`].
    pub(crate) fn sdk_config(&self, service_variable: &str) -> aws_types::SdkConfig {
        let mut config = aws_types::SdkConfig::builder()
            .behavior_version(
                aws_smithy_runtime_api::client::behavior_version::BehaviorVersion::latest(),
            )
            .http_client(http_client())
            .timeout_config(timeouts())
            .retry_config(retries())
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(
                    self.credentials.clone(),
                ),
            )
            .region(self.region.clone())
            .use_fips(self.use_fips)
            .use_dual_stack(self.use_dual_stack);
        config.set_endpoint_url(self.endpoint(service_variable));
        config.build()
    }

    /// The endpoint for the service whose variable is `service_variable`, if one is configured.
    fn endpoint(&self, service_variable: &str) -> Option<String> {
        let endpoints = self.endpoints.as_ref()?;
        endpoints
            .per_service
            .iter()
            .find(|(name, _)| *name == service_variable)
            .map(|(_, value)| value.clone())
            .or_else(|| endpoints.all.clone())
    }
}

/// The HTTP client every AWS client here uses: hyper's pooling client over HTTP/1.1, on the
/// HTTPS connector of every call out (`crate::tls`: rustls on ring, the compiled-in roots).
///
/// The SDK's own client (aws-smithy-http-client) would read and decode every root certificate
/// of the system on its first call, most of a cold start's CPU, and takes other roots only as
/// PEM text, which it decodes the same way. `http://` endpoints work too (AWS_ENDPOINT_URL may
/// name a local stand-in, as the tests' moto).
pub fn http_client() -> SharedHttpClient {
    SharedHttpClient::new(AwsHttpClient(hyper_client()))
}

/// hyper's client of [`http_client`]; also the one HTTPS request of the TLS floor of
/// `scripts/bench-coldstart` (`crate::test_support::one_https_request`).
pub(crate) fn hyper_client() -> Client<HttpsConnector<TcpConnector>, SdkBody> {
    let mut tcp = TcpConnector::new();
    tcp.set_connect_timeout(Some(CONNECT_TIMEOUT));
    tcp.set_nodelay(true);
    tcp.enforce_http(false);
    let https = crate::tls::https_connector(tcp);
    Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .build(https)
}

#[derive(Clone)]
struct AwsHttpClient(Client<HttpsConnector<TcpConnector>, SdkBody>);

impl fmt::Debug for AwsHttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AwsHttpClient(hyper, HTTP/1.1, rustls on ring, compiled-in roots)")
    }
}

impl HttpClient for AwsHttpClient {
    // One connector for every setting: its connect timeout is CONNECT_TIMEOUT, the one the
    // SDK is given too ([`timeouts`]); the operation timeout is the SDK's to enforce.
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

impl HttpConnector for AwsHttpClient {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let request = match request.try_into_http1x() {
            Ok(request) => request,
            Err(error) => {
                return HttpConnectorFuture::ready(Err(ConnectorError::user(error.into())));
            }
        };
        let response = self.0.request(request);
        HttpConnectorFuture::new(async move {
            let response = response.await.map_err(connector_error)?;
            HttpResponse::try_from(response.map(SdkBody::from_body_1_x))
                .map_err(|error| ConnectorError::other(error.into(), None))
        })
    }
}

/// A call that got no answer, as the SDK's retry strategy reads it: a timeout when a connection
/// timed out, otherwise an I/O failure (refused, reset, closed, a failed handshake), which the
/// SDK retries within [`MAX_ATTEMPTS`].
fn connector_error(error: hyper_util::client::legacy::Error) -> ConnectorError {
    // `io::Error::source` skips its payload: look at the payload as well.
    let chain =
        std::iter::successors(Some(&error as &(dyn Error + 'static)), |&error| match error
            .downcast_ref::<std::io::Error>(
        ) {
            Some(io) => io
                .get_ref()
                .map(|payload| payload as &(dyn Error + 'static)),
            None => error.source(),
        });
    let timed_out = chain
        .filter_map(|error| error.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::TimedOut);
    if timed_out {
        ConnectorError::timeout(error.into())
    } else {
        ConnectorError::io(error.into())
    }
}

pub(crate) fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

pub(crate) fn retries() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        }
    }

    const CREDENTIALS: [(&str, &str); 2] = [
        ("AWS_ACCESS_KEY_ID", "AKID"),
        ("AWS_SECRET_ACCESS_KEY", "s"),
    ];

    fn with(extra: &[(&'static str, &'static str)]) -> Result<AwsEnvironment, &'static str> {
        let vars: Vec<(&str, &str)> = CREDENTIALS.iter().chain(extra).copied().collect();
        AwsEnvironment::from_lookup(lookup(&vars))
    }

    #[test]
    fn names_what_the_environment_lacks() {
        let region = |extra| with(extra).map(|environment| environment.region.to_string());
        assert_eq!(
            region(&[
                ("AWS_REGION", "eu-west-1"),
                ("AWS_DEFAULT_REGION", "us-east-1")
            ]),
            Ok("eu-west-1".to_owned())
        );
        assert_eq!(
            region(&[("AWS_REGION", " "), ("AWS_DEFAULT_REGION", " us-east-1\n")]),
            Ok("us-east-1".to_owned())
        );
        assert_eq!(with(&[]).unwrap_err(), "AWS_REGION");
        for missing in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
            let vars: Vec<(&str, &str)> = CREDENTIALS
                .iter()
                .filter(|(key, _)| *key != missing)
                .chain(&[("AWS_REGION", "eu-west-1")])
                .copied()
                .collect();
            assert_eq!(
                AwsEnvironment::from_lookup(lookup(&vars)).unwrap_err(),
                missing
            );
        }
    }

    #[test]
    fn endpoints_per_service_then_for_all_unless_ignored() {
        let environment = with(&[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ENDPOINT_URL", "http://all"),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://sm"),
        ])
        .unwrap();
        assert_eq!(
            environment.endpoint("AWS_ENDPOINT_URL_SECRETS_MANAGER"),
            Some("http://sm".to_owned())
        );
        assert_eq!(
            environment.endpoint("AWS_ENDPOINT_URL_EVENTBRIDGE"),
            Some("http://all".to_owned())
        );
        let ignored = with(&[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ENDPOINT_URL", "http://all"),
            ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE"),
        ])
        .unwrap();
        assert_eq!(ignored.endpoint("AWS_ENDPOINT_URL_SECRETS_MANAGER"), None);
        assert!(!format!("{ignored:?}").contains("AKID"));
    }
}
