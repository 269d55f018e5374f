//! The files that must repeat a fact of the code say what the code says: every route of the
//! registry (`shared::routes::ALL`) is served by `cargo lambda watch`'s router in `Cargo.toml`,
//! deployed by `template.yaml` and described by `openapi.yaml`, with nothing more in any of them
//! (but the fallback queue's consumer, `shared::function::WEBHOOK_DRAIN`, which has no route and
//! is invoked by its queue's event source mapping);
//! and `openapi.yaml` lists exactly the error codes of `shared::http::error::ErrorCode`, and the
//! template's `AllowedRoomOptions` exactly the options `ALLOWED_ROOM_OPTIONS` governs. Every
//! function and the API have their alarms in `template.yaml`; `docs/operations.md` documents
//! every metric of `shared::aws::metrics` as the code defines it and counts the alarms, and
//! `docs/configuration.md`'s table names every parameter of the template with its default and
//! range, the variable it sets, and every variable the settings code reads.

use std::collections::BTreeSet;

use api_tests::template::{get, intrinsic, mapping, reference, resources_of_type, template, untag};
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

    // docs/operations.md counts them in words.
    let words = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
    ];
    let page = read("docs/operations.md");
    let alarms_section = section(&page, "## Alarms");
    let count = words
        .get(found.len())
        .unwrap_or_else(|| panic!("{} alarms: add the word", found.len()));
    assert!(
        alarms_section.contains(&format!(": {count} in all")),
        "docs/operations.md's Alarms section says \"{count} in all\""
    );
}

/// The part of a Markdown page under `heading`, up to the next heading of its level.
fn section<'p>(page: &'p str, heading: &str) -> &'p str {
    let level = heading.split(' ').next().unwrap_or_default();
    page.split_once(&format!("\n{heading}\n"))
        .map(|(_, rest)| rest.split(&format!("\n{level} ")).next().unwrap_or(rest))
        .unwrap_or_else(|| panic!("no section {heading:?}"))
}

#[test]
fn the_operations_page_documents_every_metric_as_the_code_defines_it() {
    let page = read("docs/operations.md");
    let section = section(&page, "## Metrics");
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

/// A row of `docs/configuration.md`'s table: its variables, its parameters, and its cells.
struct ConfigurationRow {
    variables: Vec<String>,
    parameters: Vec<String>,
    defaults: Vec<String>,
    range: String,
    used_by: String,
}

/// The names in backquotes in a cell (`` `A`, `B` (or `C`) `` reads A, B, C).
fn quoted(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

fn configuration_table() -> Vec<ConfigurationRow> {
    let page = read("docs/configuration.md");
    section(&page, "## The table")
        .lines()
        .filter(|line| {
            line.starts_with("| ") && !line.starts_with("| variable") && !line.starts_with("| ---")
        })
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            assert_eq!(cells.len(), 8, "six cells: {line}");
            ConfigurationRow {
                variables: quoted(cells[1]),
                parameters: quoted(cells[2]),
                defaults: cells[3]
                    .split(", ")
                    .map(|value| value.trim_matches('`').to_owned())
                    .collect(),
                range: cells[4].to_owned(),
                used_by: cells[5].to_owned(),
            }
        })
        .collect()
}

/// Every variable the settings code reads, recorded through its lookup, for configurations
/// that between them take every branch that reads one more (the secret from the environment or
/// from Secrets Manager, the region under either name, the webhook function's bus).
fn variables_the_settings_read() -> BTreeSet<String> {
    let configurations: [&[(&str, &str)]; 3] = [
        &[
            ("VIDEOSDK_API_KEY", "key"),
            ("VIDEOSDK_SECRET_KEY", "secret"),
        ],
        &[("VIDEOSDK_API_KEY", "key"), ("VIDEOSDK_SECRET", "secret")],
        &[
            ("VIDEOSDK_SECRET_ID", "videosdk/api"),
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
            ("EVENT_BUS_NAME", "videosdk-events"),
            ("WEBHOOK_EVENTS", "session-started"),
        ],
    ];
    let read = std::cell::RefCell::new(BTreeSet::new());
    for pairs in configurations {
        let settings = shared::settings::Settings::from_lookup(|name| {
            read.borrow_mut().insert(name.to_owned());
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        });
        assert!(settings.is_ok(), "{pairs:?}: {:?}", settings.err());
    }
    read.into_inner()
}

/// Whether a source file of `shared/src` names `variable` as a string.
fn named_in_shared_source(variable: &str) -> bool {
    fn files(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("shared/src is readable") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                files(&path, found);
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                found.push(path);
            }
        }
    }
    let mut found = Vec::new();
    files(&workspace_root().join("shared/src"), &mut found);
    found.iter().any(|path| {
        std::fs::read_to_string(path)
            .expect("a source file")
            .contains(&format!("\"{variable}\""))
    })
}

/// `docs/configuration.md`'s one table names every parameter of `template.yaml` once, with its
/// default and (for numbers) its range, and, for each variable the template sets, the
/// parameters it is made from; it names every variable the settings code reads, and nothing the
/// code does not read; a variable the template gives some functions only is used by those.
#[test]
fn the_configuration_table_is_the_template_and_the_code() {
    let rows = configuration_table();
    let template = template();

    // Every parameter once, with its default and range.
    let mut documented: Vec<(String, String)> = Vec::new();
    for row in &rows {
        for (index, name) in row.parameters.iter().enumerate() {
            let default = row
                .defaults
                .get(index)
                .or(row.defaults.first())
                .cloned()
                .unwrap_or_default();
            let default = if default == "(empty)" {
                String::new()
            } else {
                default
            };
            documented.push((name.clone(), default));
            let parameter = get(&template, "Parameters")
                .and_then(|parameters| get(parameters, name))
                .unwrap_or_else(|| panic!("the table names {name}, which template.yaml has not"));
            if get(parameter, "Type").and_then(Value::as_str) == Some("Number") {
                let bound = |key| get(parameter, key).and_then(|value| untag(value).as_u64());
                let range = match (bound("MinValue"), bound("MaxValue")) {
                    (Some(min), Some(max)) => format!("{min} to {max}"),
                    (Some(min), None) => format!("{min} or more"),
                    other => panic!("{name}: bounds {other:?}"),
                };
                assert!(
                    row.range.starts_with(&range),
                    "{name}'s range: {range}, not {:?}",
                    row.range
                );
            }
        }
    }
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
        "docs/configuration.md's table and template.yaml's Parameters"
    );

    // Each variable the template sets: in the table, made from the row's parameters, used by
    // the one function that gets it when only one does.
    let globals = get(&template, "Globals")
        .and_then(|globals| get(globals, "Function"))
        .and_then(|function| get(function, "Environment"))
        .and_then(|environment| get(environment, "Variables"));
    let mut sources: Vec<(Option<String>, &Value)> = globals
        .into_iter()
        .map(|variables| (None, variables))
        .collect();
    for (_, function) in resources_of_type(&template, "AWS::Serverless::Function") {
        let binary = get(function, "Metadata")
            .and_then(|metadata| get(metadata, "BuildProperties"))
            .and_then(|properties| get(properties, "Binary"))
            .and_then(Value::as_str)
            .expect("a function's Binary");
        if let Some(variables) = get(function, "Properties")
            .and_then(|properties| get(properties, "Environment"))
            .and_then(|environment| get(environment, "Variables"))
        {
            sources.push((Some(binary.to_owned()), variables));
        }
    }
    for (only_for, variables) in sources {
        for (variable, value) in mapping(variables, "Variables") {
            let variable = variable.as_str().expect("a variable name");
            let row = rows
                .iter()
                .find(|row| row.variables.iter().any(|name| name == variable))
                .unwrap_or_else(|| {
                    panic!("the template sets {variable}, which the table does not list")
                });
            let made_from = api_tests::cloudformation::parameters_of(&template, value);
            assert!(
                made_from
                    .iter()
                    .all(|parameter| row.parameters.contains(parameter)),
                "{variable} is made from {made_from:?}; its row names {:?}",
                row.parameters
            );
            // A variable only some functions are given names them, every one of them.
            if let Some(binary) = &only_for {
                assert!(
                    row.used_by.split(", ").any(|function| function == binary),
                    "{variable} is given to {binary}, which its row ({}) does not name",
                    row.used_by
                );
            }
        }
    }

    // The variables: every one the settings read is in the table; every one in the table is
    // read, by the settings or by name elsewhere in shared/src (logging, metrics, TLS).
    let listed: BTreeSet<String> = rows.iter().flat_map(|row| row.variables.clone()).collect();
    let read = variables_the_settings_read();
    let missing: Vec<&String> = read.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "the settings read {missing:?}, which the table does not list"
    );
    for variable in listed.difference(&read) {
        assert!(
            named_in_shared_source(variable),
            "the table lists {variable}, which nothing in shared/src reads"
        );
    }
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
