//! The files that must repeat a fact of the code say what the code says: every route of the
//! registry (`shared::routes::ALL`) is served by `cargo lambda watch`'s router in `Cargo.toml`,
//! deployed by `template.yaml` and described by `openapi.yaml`, with nothing more in any of them
//! (but the fallback queue's consumer, `shared::function::WEBHOOK_DRAIN`, which has no route and
//! is invoked by its queue's event source mapping);
//! and `openapi.yaml` lists exactly the error codes of `shared::http::error::ErrorCode`, and the
//! template's `AllowedRoomOptions` exactly the options `ALLOWED_ROOM_OPTIONS` governs. Every
//! function and the API have their alarms in `template.yaml`, and the README documents every
//! metric of `shared::aws::metrics` as the code defines it.

use std::collections::BTreeSet;

use api_tests::template::{get, intrinsic, mapping, reference, resources_of_type, template};
use api_tests::workspace_root;
use serde_norway::Value;
use shared::aws::metrics;
use shared::domain::auto_start::GatedOption;
use shared::http::error::ErrorCode;
use shared::routes::ALL as ROUTES;
use strum::IntoEnumIterator;

fn read(file: &str) -> String {
    let path = workspace_root().join(file);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

fn openapi() -> Value {
    serde_norway::from_str(&read("openapi.yaml")).expect("openapi.yaml is YAML")
}

/// `(path, function)` for every route.
fn registry() -> BTreeSet<(String, String)> {
    ROUTES
        .iter()
        .map(|route| (route.path.to_owned(), route.name.to_owned()))
        .collect()
}

#[test]
fn cargo_lambda_watch_serves_exactly_the_registry() {
    let manifest: toml::Table = read("Cargo.toml").parse().expect("Cargo.toml is TOML");
    let router = manifest["workspace"]["metadata"]["lambda"]["watch"]["router"]
        .as_table()
        .expect("[workspace.metadata.lambda.watch.router]");
    let served: BTreeSet<(String, String)> = router
        .iter()
        .map(|(path, function)| {
            let function = function
                .as_str()
                .unwrap_or_else(|| panic!("{path}: every method goes to one function"));
            (path.clone(), function.to_owned())
        })
        .collect();
    assert_eq!(served, registry());
}

#[test]
fn the_template_deploys_exactly_the_registry() {
    let template = template();
    let apis = resources_of_type(&template, "AWS::Serverless::HttpApi");
    assert_eq!(apis.len(), 1, "one HTTP API");
    let api_name = apis[0].0;
    let mut deployed = BTreeSet::new();
    let mut consumers = Vec::new();
    for (name, function) in resources_of_type(&template, "AWS::Serverless::Function") {
        let binary = get(function, "Metadata")
            .and_then(|metadata| get(metadata, "BuildProperties"))
            .and_then(|properties| get(properties, "Binary"))
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{name} builds no Binary"));
        let Some(events) =
            get(function, "Properties").and_then(|properties| get(properties, "Events"))
        else {
            // No route: invoked by an event source mapping, and only the queue's consumer.
            let mappings: Vec<_> = resources_of_type(&template, "AWS::Lambda::EventSourceMapping")
                .into_iter()
                .filter(|(_, mapping)| {
                    get(mapping, "Properties")
                        .and_then(|properties| get(properties, "FunctionName"))
                        .and_then(reference)
                        == Some(name)
                })
                .collect();
            assert_eq!(
                mappings.len(),
                1,
                "{name} has no Events and one event source mapping"
            );
            consumers.push(binary);
            continue;
        };
        let events = mapping(events, "Events");
        for event in events.values() {
            assert_eq!(
                get(event, "Type").and_then(Value::as_str),
                Some("HttpApi"),
                "{name}"
            );
            let properties = get(event, "Properties").expect("event Properties");
            assert_eq!(
                get(properties, "ApiId").and_then(reference),
                Some(api_name),
                "{name}'s event is on {api_name}"
            );
            let field = |key| {
                get(properties, key)
                    .and_then(Value::as_str)
                    .unwrap_or_else(|| panic!("{name}'s event has no {key}"))
                    .to_owned()
            };
            deployed.insert((field("Method").to_ascii_uppercase(), field("Path"), binary));
        }
    }
    assert_eq!(consumers, [shared::function::WEBHOOK_DRAIN]);
    let expected: BTreeSet<(String, String, &str)> = ROUTES
        .iter()
        .map(|route| (route.method.to_string(), route.path.to_owned(), route.name))
        .collect();
    assert_eq!(deployed, expected);
}

#[test]
fn openapi_describes_exactly_the_registry() {
    let openapi = openapi();
    let paths = mapping(get(&openapi, "paths").expect("paths"), "paths");
    let described: BTreeSet<(String, String)> = paths
        .iter()
        .flat_map(|(path, operations)| {
            let path = path.as_str().expect("a path").to_owned();
            mapping(operations, "a path item")
                .keys()
                .filter_map(|method| method.as_str())
                .filter(|method| *method != "options" && *method != "parameters")
                .map(move |method| (method.to_ascii_uppercase(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|route| (route.method.to_string(), route.path.to_owned()))
        .collect();
    assert_eq!(described, expected);
    for route in &ROUTES {
        let item = paths.get(route.path).expect("described above");
        assert_eq!(
            get(item, "options").is_some(),
            route.cors,
            "{}: a CORS preflight is described exactly for the routes browsers call",
            route.path
        );
    }
}

#[test]
fn openapi_lists_exactly_the_error_codes() {
    let openapi = openapi();
    let listed: BTreeSet<String> = get(&openapi, "components")
        .and_then(|components| get(components, "schemas"))
        .and_then(|schemas| get(schemas, "ErrorCode"))
        .and_then(|code| get(code, "enum"))
        .and_then(Value::as_sequence)
        .expect("components.schemas.ErrorCode.enum")
        .iter()
        .map(|code| code.as_str().expect("a code").to_owned())
        .collect();
    let codes: BTreeSet<String> = ErrorCode::iter()
        .map(|code| code.as_str().to_owned())
        .collect();
    assert_eq!(
        listed.difference(&codes).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "openapi.yaml lists codes the API never answers"
    );
    assert_eq!(
        codes.difference(&listed).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "openapi.yaml does not list these codes"
    );
}

/// `(namespace, metric, dimensions as "Name=Value")` watched by each alarm of the template, after
/// checking that it notifies `AlarmTopicArn` and the `AlarmEmail` topic when each is set, and no
/// one otherwise.
fn alarms(template: &Value) -> Vec<(String, String, BTreeSet<String>)> {
    resources_of_type(template, "AWS::CloudWatch::Alarm")
        .into_iter()
        .map(|(name, alarm)| {
            let properties = get(alarm, "Properties").expect("alarm Properties");
            // Each action list: AlarmTopicArn when set, the AlarmEmail topic when set.
            for actions in ["AlarmActions", "OKActions"] {
                let choices = get(properties, actions)
                    .and_then(Value::as_sequence)
                    .unwrap_or_else(|| panic!("{name}: {actions} is not a list"));
                let notified: Vec<(&str, &str, &str)> = choices
                    .iter()
                    .map(|choice| {
                        let choice = intrinsic(choice, "Fn::If")
                            .and_then(Value::as_sequence)
                            .unwrap_or_else(|| panic!("{name}: {actions} holds no !If"));
                        (
                            choice[0].as_str().unwrap_or_default(),
                            reference(&choice[1]).unwrap_or_default(),
                            reference(&choice[2]).unwrap_or_default(),
                        )
                    })
                    .collect();
                assert_eq!(
                    notified,
                    [
                        ("NotifyAlarmTopic", "AlarmTopicArn", "AWS::NoValue"),
                        ("NotifyAlarmEmail", "AlarmEmailTopic", "AWS::NoValue")
                    ],
                    "{name}: {actions}"
                );
            }
            let text = |key| {
                get(properties, key)
                    .and_then(Value::as_str)
                    .unwrap_or_else(|| panic!("{name} has no {key}"))
                    .to_owned()
            };
            let dimensions = get(properties, "Dimensions")
                .and_then(Value::as_sequence)
                .unwrap_or_else(|| panic!("{name} has no Dimensions"))
                .iter()
                .map(|dimension| {
                    let value = get(dimension, "Value").expect("a dimension Value");
                    let value = reference(value)
                        .or_else(|| value.as_str())
                        .or_else(|| intrinsic(value, "Fn::GetAtt").and_then(Value::as_str))
                        .expect("a dimension value, !Ref or !GetAtt");
                    format!(
                        "{}={value}",
                        get(dimension, "Name")
                            .and_then(Value::as_str)
                            .expect("a Name")
                    )
                })
                .collect();
            (text("Namespace"), text("MetricName"), dimensions)
        })
        .collect()
}

#[test]
fn every_function_and_the_api_have_their_alarms() {
    let template = template();
    let mut expected = Vec::new();
    for (function, _) in resources_of_type(&template, "AWS::Serverless::Function") {
        for metric in ["Errors", "Throttles"] {
            expected.push((
                "AWS/Lambda".to_owned(),
                metric.to_owned(),
                BTreeSet::from([format!("FunctionName={function}")]),
            ));
        }
    }
    let (api, _) = resources_of_type(&template, "AWS::Serverless::HttpApi")[0];
    expected.push((
        "AWS/ApiGateway".to_owned(),
        "5xx".to_owned(),
        BTreeSet::from([format!("ApiId={api}"), "Stage=$default".to_owned()]),
    ));
    // Any webhook waiting in the fallback queue, the oldest waiting over an hour, any in the
    // dead-letter queue (docs/webhook-delivery.md).
    let queue = |name: &str| {
        assert!(
            resources_of_type(&template, "AWS::SQS::Queue")
                .iter()
                .any(|(queue, _)| *queue == name),
            "no queue {name}"
        );
        BTreeSet::from([format!("QueueName={name}.QueueName")])
    };
    for (metric, name) in [
        ("ApproximateNumberOfMessagesVisible", "WebhookFallbackQueue"),
        ("ApproximateAgeOfOldestMessage", "WebhookFallbackQueue"),
        (
            "ApproximateNumberOfMessagesVisible",
            "WebhookDeadLetterQueue",
        ),
    ] {
        expected.push(("AWS/SQS".to_owned(), metric.to_owned(), queue(name)));
    }
    // A surge of refused webhook signatures (a forgery storm).
    expected.push((
        metrics::NAMESPACE.to_owned(),
        metrics::REFUSALS.name.to_owned(),
        BTreeSet::from([
            format!("{}=VideoSdkWebhookFunction", metrics::FUNCTION_NAME),
            format!(
                "{}={}",
                metrics::ERROR_CODE,
                ErrorCode::InvalidSignature.as_str()
            ),
        ]),
    ));
    let mut found = alarms(&template);
    found.sort();
    expected.sort();
    assert_eq!(found, expected);
}

#[test]
fn the_readme_documents_every_metric_as_the_code_defines_it() {
    let readme = read("README.md");
    let section = readme
        .split_once("## Metrics and alarms")
        .map(|(_, rest)| rest.split("\n## ").next().unwrap_or(rest))
        .expect("README.md has a \"Metrics and alarms\" section");
    assert!(
        section.contains(&format!("`{}`", metrics::NAMESPACE)),
        "the namespace"
    );
    // The metrics table: rows `| `Name` | Unit | `Dimension`, ... | meaning |`.
    let rows: Vec<Vec<&str>> = section
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| line.split('|').map(str::trim).collect::<Vec<_>>())
        .filter(|cells| cells.len() > 4 && api_tests::emf::UNITS.contains(&cells[2]))
        .collect();
    let documented: BTreeSet<String> = rows
        .iter()
        .map(|cells| cells[1].trim_matches('`').to_owned())
        .collect();
    let defined: BTreeSet<String> = metrics::ALL
        .iter()
        .map(|metric| metric.name.to_owned())
        .collect();
    assert_eq!(
        documented, defined,
        "the metrics table lists exactly metrics::ALL"
    );
    for metric in metrics::ALL {
        let cells = rows
            .iter()
            .find(|cells| cells[1] == format!("`{}`", metric.name))
            .expect("listed above");
        let dimensions: Vec<String> = metric
            .dimensions
            .iter()
            .map(|name| format!("`{name}`"))
            .collect();
        assert_eq!(
            (cells[2], cells[3].to_owned()),
            (metric.unit, dimensions.join(", ")),
            "{}",
            metric.name
        );
    }
}

#[test]
fn the_template_offers_exactly_the_gated_room_options() {
    let template = template();
    let parameter = get(&template, "Parameters")
        .and_then(|parameters| get(parameters, "AllowedRoomOptions"))
        .expect("the AllowedRoomOptions parameter");
    let pattern = get(parameter, "AllowedPattern")
        .and_then(Value::as_str)
        .expect("its AllowedPattern");
    // '^((a|b)(,(a|b))*)?$': the names are the alternatives of the first group.
    let names = pattern
        .strip_prefix("^((")
        .and_then(|rest| rest.split_once(')'))
        .map(|(names, _)| names)
        .expect("a pattern of alternatives");
    let offered: BTreeSet<&str> = names.split('|').collect();
    let governed: BTreeSet<&str> = GatedOption::iter().map(GatedOption::name).collect();
    assert_eq!(offered, governed);
    assert_eq!(
        pattern,
        format!("^(({names})(,({names}))*)?$"),
        "one list, twice in the pattern"
    );
    let variables = get(&template, "Globals")
        .and_then(|globals| get(globals, "Function"))
        .and_then(|function| get(function, "Environment"))
        .and_then(|environment| get(environment, "Variables"))
        .expect("the functions' environment");
    assert_eq!(
        get(variables, "ALLOWED_ROOM_OPTIONS").and_then(reference),
        Some("AllowedRoomOptions")
    );
}

/// The README's table of SAM parameters (`| `Name`, `Other` | setting | default | ... |`), with
/// that of docs/webhook-delivery.md, names every parameter of `template.yaml` once, with its
/// default.
#[test]
fn the_readme_lists_every_template_parameter_with_its_default() {
    let readme = read("README.md");
    let section = readme
        .split_once("## Deploying with SAM")
        .map(|(_, rest)| rest.split("\n## ").next().unwrap_or(rest))
        .expect("README.md has a \"Deploying with SAM\" section");
    // The webhook delivery's own parameters, in its page until the README takes them in.
    let delivery = read("docs/webhook-delivery.md");
    let delivery_section = delivery
        .split_once("## Template parameters")
        .map(|(_, rest)| rest.split("\n## ").next().unwrap_or(rest))
        .expect("docs/webhook-delivery.md has a \"Template parameters\" section");
    let mut documented: Vec<(String, String)> = Vec::new();
    for line in section
        .lines()
        .chain(delivery_section.lines())
        .filter(|line| line.starts_with("| `"))
    {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let names: Vec<&str> = cells[1]
            .split(", ")
            .map(|name| name.trim_matches('`'))
            .collect();
        let defaults: Vec<&str> = cells[3]
            .split(", ")
            .map(|value| value.trim_matches('`'))
            .collect();
        for (index, name) in names.iter().enumerate() {
            let default = defaults
                .get(index)
                .or(defaults.first())
                .copied()
                .unwrap_or("");
            let default = if default == "(empty)" { "" } else { default };
            documented.push(((*name).to_owned(), default.to_owned()));
        }
    }
    let template = template();
    let parameters = mapping(
        get(&template, "Parameters").expect("template.yaml has Parameters"),
        "Parameters",
    );
    let mut declared: Vec<(String, String)> = parameters
        .iter()
        .map(|(name, parameter)| {
            let default = match get(parameter, "Default") {
                Some(Value::String(text)) => text.clone(),
                Some(Value::Number(number)) => number.to_string(),
                other => panic!("{name:?}: a default of {other:?}"),
            };
            (name.as_str().expect("a name").to_owned(), default)
        })
        .collect();
    declared.sort();
    documented.sort();
    assert_eq!(
        documented, declared,
        "README's parameter table and template.yaml"
    );
}

/// The webhook route's own throttling names the route as the registry does (API Gateway's route
/// key, `METHOD /path`), with its own parameters; the other routes keep the default.
#[test]
fn the_webhook_route_has_throttling_of_its_own() {
    let template = template();
    let (_, api) = resources_of_type(&template, "AWS::Serverless::HttpApi")[0];
    let settings = get(api, "Properties")
        .and_then(|properties| get(properties, "RouteSettings"))
        .map(|settings| mapping(settings, "RouteSettings"))
        .expect("the HttpApi's RouteSettings");
    let webhook = shared::routes::VIDEOSDK_WEBHOOK;
    let keys: Vec<&str> = settings.keys().filter_map(Value::as_str).collect();
    assert_eq!(keys, [format!("{} {}", webhook.method, webhook.path)]);
    let route = settings.values().next().expect("one route");
    for (setting, parameter) in [
        ("ThrottlingRateLimit", "WebhookThrottlingRateLimit"),
        ("ThrottlingBurstLimit", "WebhookThrottlingBurstLimit"),
    ] {
        assert_eq!(
            get(route, setting).and_then(reference),
            Some(parameter),
            "{setting}"
        );
    }
}

/// API Gateway's HTTP API gives an integration 30 s: every function behind a route times out
/// before that, so that its budget (shared::aws::budget), not API Gateway, decides what happens
/// to a slow webhook (queued, 202) and the caller gets the function's answer.
#[test]
fn every_routed_function_times_out_before_api_gateway() {
    const API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS: u64 = 30;
    let template = template();
    let global = get(&template, "Globals")
        .and_then(|globals| get(globals, "Function"))
        .and_then(|function| get(function, "Timeout"))
        .and_then(Value::as_u64);
    for (name, function) in resources_of_type(&template, "AWS::Serverless::Function") {
        let routed = get(function, "Properties")
            .and_then(|properties| get(properties, "Events"))
            .is_some();
        let timeout = get(function, "Properties")
            .and_then(|properties| get(properties, "Timeout"))
            .and_then(Value::as_u64)
            .or(global)
            .unwrap_or(3);
        if routed {
            assert!(
                timeout < API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS,
                "{name}: {timeout} s"
            );
        }
    }
}
