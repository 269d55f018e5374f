//! A checker for CloudWatch's embedded metric format (EMF), written from its specification
//! ("Specification: Embedded metric format", CloudWatch User Guide) and the limits of the
//! CloudWatch API it feeds (`PutMetricData`, `MetricDatum`, `Dimension`):
//!
//! - the log event is one JSON object and nothing else, at most 256 KiB;
//! - the root's `_aws` is an object with exactly `Timestamp` (an integer: milliseconds since
//!   1970) and `CloudWatchMetrics` (an array of MetricDirectives);
//! - a MetricDirective has exactly `Namespace` (1 to 255 characters, not starting with `AWS/`),
//!   `Dimensions` (an array of at least one DimensionSet) and `Metrics` (at most 100
//!   MetricDefinitions);
//! - a DimensionSet is an array of at most 30 dimension keys (strings of 1 to 255 characters),
//!   each naming a member of the root whose value is a string (1 to 1024 characters, not all
//!   whitespace);
//! - a MetricDefinition has `Name` (1 to 255 characters), and may have `Unit` (one of
//!   CloudWatch's units) and `StorageResolution` (1 or 60), nothing else; its name is a member
//!   of the root whose value is a number or an array of at most 100 numbers.
//!
//! "Objects defined by this specification MUST NOT contain any additional members": the checker
//! refuses them. The root may hold other members (EMF's point: a log line that is also metrics).

use serde_json::{Map, Value};

/// The units CloudWatch accepts (`MetricDatum.Unit`).
pub const UNITS: [&str; 27] = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];
const MAX_EVENT_BYTES: usize = 256 * 1024;
const MAX_METRICS_PER_DIRECTIVE: usize = 100;
const MAX_DIMENSIONS_PER_SET: usize = 30;
const MAX_VALUES_PER_METRIC: usize = 100;
const MAX_NAME_CHARS: usize = 255;
const MAX_DIMENSION_VALUE_CHARS: usize = 1024;

/// One metric of a checked record: its namespace, dimension sets, name, unit and value.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtractedMetric {
    pub namespace: String,
    pub dimension_sets: Vec<Vec<String>>,
    pub name: String,
    pub unit: Option<String>,
    pub value: Value,
}

/// A log line that is a valid EMF document: its root and the metrics CloudWatch extracts.
#[derive(Debug, Clone)]
pub struct Record {
    pub root: Map<String, Value>,
    pub timestamp_ms: u64,
    pub metrics: Vec<ExtractedMetric>,
}

impl Record {
    /// The string value of the root member `name` (a dimension's value).
    pub fn dimension(&self, name: &str) -> Option<&str> {
        self.root.get(name).and_then(Value::as_str)
    }
}

/// Whether `line` is meant as EMF: a JSON object with an `_aws` member (what CloudWatch Logs
/// looks for), or a line that names that member but is no JSON (a truncated or garbled metric
/// line, which CloudWatch would drop). Such a line must then pass [`check`].
pub fn is_emf(line: &str) -> bool {
    match serde_json::from_str::<Value>(line.trim()) {
        Ok(Value::Object(root)) => root.contains_key("_aws"),
        Ok(_) => false,
        Err(_) => line.contains("\"_aws\""),
    }
}

/// Checks `line` against the specification; the error says which rule it breaks.
pub fn check(line: &str) -> Result<Record, String> {
    if line.len() > MAX_EVENT_BYTES {
        return Err(format!(
            "{} bytes, over the 256 KiB of a log event",
            line.len()
        ));
    }
    // One JSON object with nothing before or after it (serde_json refuses trailing data).
    let root: Map<String, Value> =
        serde_json::from_str(line).map_err(|error| format!("not one JSON object: {error}"))?;
    let metadata = object(root.get("_aws"), "_aws")?;
    only_members(metadata, &["Timestamp", "CloudWatchMetrics"], "_aws")?;
    let timestamp_ms = metadata
        .get("Timestamp")
        .ok_or("_aws.Timestamp is missing")?
        .as_u64()
        .ok_or("_aws.Timestamp is not a whole number of milliseconds")?;
    let directives = metadata
        .get("CloudWatchMetrics")
        .ok_or("_aws.CloudWatchMetrics is missing")?
        .as_array()
        .ok_or("_aws.CloudWatchMetrics is not an array")?;
    if directives.is_empty() {
        return Err("_aws.CloudWatchMetrics holds no MetricDirective".into());
    }
    let mut metrics = Vec::new();
    for (index, directive) in directives.iter().enumerate() {
        let at = format!("CloudWatchMetrics[{index}]");
        let directive = object(Some(directive), &at)?;
        only_members(directive, &["Namespace", "Dimensions", "Metrics"], &at)?;
        let namespace = name(directive.get("Namespace"), &format!("{at}.Namespace"))?;
        if namespace.starts_with("AWS/") {
            return Err(format!("{at}.Namespace {namespace:?} is reserved for AWS"));
        }
        let dimension_sets = dimension_sets(&root, directive.get("Dimensions"), &at)?;
        let definitions = directive
            .get("Metrics")
            .ok_or(format!("{at}.Metrics is missing"))?
            .as_array()
            .ok_or(format!("{at}.Metrics is not an array"))?;
        if definitions.is_empty() || definitions.len() > MAX_METRICS_PER_DIRECTIVE {
            return Err(format!(
                "{at}.Metrics holds {} MetricDefinitions (1 to {MAX_METRICS_PER_DIRECTIVE})",
                definitions.len()
            ));
        }
        for (index, definition) in definitions.iter().enumerate() {
            let at = format!("{at}.Metrics[{index}]");
            let definition = object(Some(definition), &at)?;
            only_members(definition, &["Name", "Unit", "StorageResolution"], &at)?;
            let metric_name = name(definition.get("Name"), &format!("{at}.Name"))?;
            let unit = match definition.get("Unit") {
                None => None,
                Some(Value::String(unit)) if UNITS.contains(&unit.as_str()) => Some(unit.clone()),
                Some(other) => return Err(format!("{at}.Unit {other} is not a CloudWatch unit")),
            };
            if let Some(resolution) = definition.get("StorageResolution")
                && resolution != 1
                && resolution != 60
            {
                return Err(format!(
                    "{at}.StorageResolution {resolution} is not 1 or 60"
                ));
            }
            let value = root
                .get(metric_name)
                .ok_or(format!("metric {metric_name:?} has no member on the root"))?;
            let numeric = match value {
                Value::Number(_) => true,
                Value::Array(values) => {
                    values.len() <= MAX_VALUES_PER_METRIC && values.iter().all(Value::is_number)
                }
                _ => false,
            };
            if !numeric {
                return Err(format!(
                    "metric {metric_name:?} is {value}, not a number or an array of at most \
                     {MAX_VALUES_PER_METRIC} numbers"
                ));
            }
            metrics.push(ExtractedMetric {
                namespace: namespace.to_owned(),
                dimension_sets: dimension_sets.clone(),
                name: metric_name.to_owned(),
                unit,
                value: value.clone(),
            });
        }
    }
    Ok(Record {
        root,
        timestamp_ms,
        metrics,
    })
}

/// Every line of `log` meant as EMF, checked; the first that breaks a rule fails with it.
pub fn records(log: &str) -> Result<Vec<Record>, String> {
    log.lines()
        .filter(|line| is_emf(line))
        .map(|line| check(line.trim()).map_err(|error| format!("{error}: {line}")))
        .collect()
}

fn object<'v>(value: Option<&'v Value>, at: &str) -> Result<&'v Map<String, Value>, String> {
    value
        .ok_or(format!("{at} is missing"))?
        .as_object()
        .ok_or(format!("{at} is not an object"))
}

fn only_members(object: &Map<String, Value>, allowed: &[&str], at: &str) -> Result<(), String> {
    match object.keys().find(|key| !allowed.contains(&key.as_str())) {
        Some(key) => Err(format!(
            "{at} has a member the specification does not define: {key:?}"
        )),
        None => Ok(()),
    }
}

/// A namespace, metric name or dimension key: a string of 1 to 255 characters.
fn name<'v>(value: Option<&'v Value>, at: &str) -> Result<&'v str, String> {
    let text = value
        .ok_or(format!("{at} is missing"))?
        .as_str()
        .ok_or(format!("{at} is not a string"))?;
    let length = text.chars().count();
    if (1..=MAX_NAME_CHARS).contains(&length) {
        Ok(text)
    } else {
        Err(format!(
            "{at} has {length} characters (1 to {MAX_NAME_CHARS})"
        ))
    }
}

fn dimension_sets(
    root: &Map<String, Value>,
    value: Option<&Value>,
    at: &str,
) -> Result<Vec<Vec<String>>, String> {
    let sets = value
        .ok_or(format!("{at}.Dimensions is missing"))?
        .as_array()
        .ok_or(format!("{at}.Dimensions is not an array"))?;
    if sets.is_empty() {
        return Err(format!("{at}.Dimensions holds no DimensionSet"));
    }
    let mut checked = Vec::new();
    for (index, set) in sets.iter().enumerate() {
        let at = format!("{at}.Dimensions[{index}]");
        let keys = set.as_array().ok_or(format!("{at} is not an array"))?;
        if keys.len() > MAX_DIMENSIONS_PER_SET {
            return Err(format!(
                "{at} has {} dimensions (at most {MAX_DIMENSIONS_PER_SET})",
                keys.len()
            ));
        }
        let mut names = Vec::new();
        for (index, key) in keys.iter().enumerate() {
            let key = name(Some(key), &format!("{at}[{index}]"))?;
            let value = root
                .get(key)
                .ok_or(format!("dimension {key:?} has no member on the root"))?
                .as_str()
                .ok_or(format!("dimension {key:?} is not a string on the root"))?;
            let length = value.chars().count();
            if value.trim().is_empty() || length > MAX_DIMENSION_VALUE_CHARS {
                return Err(format!(
                    "dimension {key:?} has the value {value:?} (1 to \
                     {MAX_DIMENSION_VALUE_CHARS} characters, not all whitespace)"
                ));
            }
            names.push(key.to_owned());
        }
        checked.push(names);
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The specification's own example.
    fn example() -> Value {
        json!({
            "_aws": {
                "Timestamp": 1574109732004u64,
                "CloudWatchMetrics": [{
                    "Namespace": "lambda-function-metrics",
                    "Dimensions": [["functionVersion"]],
                    "Metrics": [{"Name": "time", "Unit": "Milliseconds"}]
                }]
            },
            "functionVersion": "$LATEST",
            "time": 100,
            "requestId": "989ffbf8-9ace-4817-a57c-e4dd734019ee"
        })
    }

    fn with(change: impl FnOnce(&mut Value)) -> String {
        let mut record = example();
        change(&mut record);
        record.to_string()
    }

    #[test]
    fn the_specification_example_passes() {
        let record = check(&example().to_string()).expect("valid");
        assert_eq!(record.timestamp_ms, 1574109732004);
        assert_eq!(
            record.metrics,
            vec![ExtractedMetric {
                namespace: "lambda-function-metrics".into(),
                dimension_sets: vec![vec!["functionVersion".into()]],
                name: "time".into(),
                unit: Some("Milliseconds".into()),
                value: json!(100),
            }]
        );
        assert!(is_emf(&example().to_string()));
        assert!(!is_emf(r#"{"level":"INFO","message":"request"}"#));
    }

    #[test]
    fn a_truncated_metric_line_fails_and_other_lines_are_left_alone() {
        let line = example().to_string();
        let log = format!(
            "START RequestId: 1\n{line}\n{{\"level\":\"INFO\",\"message\":\"a \\\"_aws\\\" word\"}}\n"
        );
        assert_eq!(records(&log).expect("a valid log").len(), 1);
        for cut in [line.len() - 1, line.len() / 2, 10] {
            let truncated = format!("{log}{}\nEND RequestId: 1\n", &line[..cut]);
            let error = records(&truncated).expect_err("a truncated metric line");
            assert!(error.contains("not one JSON object"), "{error}");
        }
    }

    #[test]
    fn every_rule_refuses_what_breaks_it() {
        let directive = "/_aws/CloudWatchMetrics/0";
        let cases: Vec<(String, &str)> = vec![
            (format!("{} trailing", example()), "not one JSON object"),
            ("[1]".into(), "not one JSON object"),
            (with(|r| r["_aws"] = json!([])), "_aws is not an object"),
            (
                with(|r| r["_aws"]["Timestamp"] = json!("1574109732004")),
                "Timestamp",
            ),
            (with(|r| r["_aws"]["Timestamp"] = json!(1.5)), "Timestamp"),
            (
                with(|r| {
                    r["_aws"].as_object_mut().unwrap().remove("Timestamp");
                }),
                "Timestamp is missing",
            ),
            (with(|r| r["_aws"]["Extra"] = json!(1)), "Extra"),
            (
                with(|r| r["_aws"]["CloudWatchMetrics"] = json!([])),
                "no MetricDirective",
            ),
            (
                with(|r| r.pointer_mut(directive).unwrap()["Unknown"] = json!(1)),
                "Unknown",
            ),
            (
                with(|r| r.pointer_mut(directive).unwrap()["Namespace"] = json!("")),
                "Namespace has 0 characters",
            ),
            (
                with(|r| r.pointer_mut(directive).unwrap()["Namespace"] = json!("AWS/Lambda")),
                "reserved",
            ),
            (
                with(|r| r.pointer_mut(directive).unwrap()["Dimensions"] = json!([])),
                "no DimensionSet",
            ),
            (
                with(|r| {
                    r.pointer_mut(directive).unwrap()["Dimensions"] = json!(["functionVersion"])
                }),
                "is not an array",
            ),
            (
                with(|r| {
                    let keys: Vec<String> = (0..31).map(|i| format!("d{i}")).collect();
                    for key in &keys {
                        r[key.as_str()] = json!("v");
                    }
                    r.pointer_mut(directive).unwrap()["Dimensions"] = json!([keys]);
                }),
                "31 dimensions",
            ),
            (
                with(|r| r.pointer_mut(directive).unwrap()["Dimensions"] = json!([["absent"]])),
                "\"absent\" has no member",
            ),
            (
                with(|r| r["functionVersion"] = json!(3)),
                "not a string on the root",
            ),
            (
                with(|r| r["functionVersion"] = json!(" ")),
                "not all whitespace",
            ),
            (
                with(|r| r.pointer_mut(directive).unwrap()["Metrics"] = json!([])),
                "0 MetricDefinitions",
            ),
            (
                with(|r| {
                    let metrics: Vec<Value> = (0..101)
                        .map(|i| {
                            r[format!("m{i}").as_str()] = json!(1);
                            json!({"Name": format!("m{i}")})
                        })
                        .collect();
                    r.pointer_mut(directive).unwrap()["Metrics"] = json!(metrics);
                }),
                "101 MetricDefinitions",
            ),
            (
                with(|r| r.pointer_mut(directive).unwrap()["Metrics"][0]["Name"] = json!("")),
                "Name has 0 characters",
            ),
            (
                with(|r| r.pointer_mut(directive).unwrap()["Metrics"][0]["Unit"] = json!("ms")),
                "not a CloudWatch unit",
            ),
            (
                with(|r| {
                    r.pointer_mut(directive).unwrap()["Metrics"][0]["StorageResolution"] = json!(5)
                }),
                "not 1 or 60",
            ),
            (
                with(|r| r.pointer_mut(directive).unwrap()["Metrics"][0]["Extra"] = json!(1)),
                "Extra",
            ),
            (
                with(|r| {
                    r.as_object_mut().unwrap().remove("time");
                }),
                "\"time\" has no member",
            ),
            (with(|r| r["time"] = json!("100")), "not a number"),
            (with(|r| r["time"] = json!({"value": 100})), "not a number"),
            (with(|r| r["time"] = json!(vec![1; 101])), "not a number"),
            (
                with(|r| r["padding"] = json!("x".repeat(MAX_EVENT_BYTES))),
                "over the 256 KiB",
            ),
        ];
        for (line, expected) in cases {
            let error = check(&line).expect_err(&line[..line.len().min(300)]);
            assert!(error.contains(expected), "{expected:?} not in {error:?}");
        }
        // What the rules allow: an empty DimensionSet, arrays of values, other root members.
        check(&with(|r| {
            r.pointer_mut(directive).unwrap()["Dimensions"] = json!([[]]);
            r["time"] = json!([1, 2.5]);
            r["nested"] = json!({"any": ["json"]});
        }))
        .expect("valid");
    }
}
