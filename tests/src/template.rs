//! Reading `template.yaml` as CloudFormation writes it: values may be tagged (`!Ref X`) or
//! intrinsic functions in full (`{Ref: X}`).

use serde_norway::{Mapping, Value};

use crate::workspace_root;

/// `template.yaml`, parsed.
pub fn template() -> Value {
    let path = workspace_root().join("template.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    serde_norway::from_str(&text)
        .unwrap_or_else(|error| panic!("{} is not YAML: {error}", path.display()))
}

/// `map[key]`, looking through YAML tags; `None` when absent.
pub fn get<'v>(value: &'v Value, key: &str) -> Option<&'v Value> {
    untag(value).as_mapping()?.get(key)
}

pub fn untag(mut value: &Value) -> &Value {
    while let Value::Tagged(tagged) = value {
        value = &tagged.value;
    }
    value
}

pub fn mapping<'v>(value: &'v Value, what: &str) -> &'v Mapping {
    untag(value)
        .as_mapping()
        .unwrap_or_else(|| panic!("{what} is not a mapping: {value:?}"))
}

/// The intrinsic function `name` (`Ref`, `Fn::Split`, ...) applied in `value`, written either
/// as a tag (`!Ref X`) or in full (`{Ref: X}`); returns its argument.
pub fn intrinsic<'v>(value: &'v Value, name: &str) -> Option<&'v Value> {
    let short = name.strip_prefix("Fn::").unwrap_or(name);
    match value {
        Value::Tagged(tagged) if tagged.tag == short => Some(&tagged.value),
        Value::Mapping(map) if map.len() == 1 => map.get(name),
        _ => None,
    }
}

/// The parameter named by `!Ref Name` (or `{Ref: Name}`).
pub fn reference(value: &Value) -> Option<&str> {
    intrinsic(value, "Ref")?.as_str()
}

/// A list of scalars (strings or numbers), as strings.
pub fn strings(value: &Value, what: &str) -> Vec<String> {
    untag(value)
        .as_sequence()
        .unwrap_or_else(|| panic!("{what} is not a list: {value:?}"))
        .iter()
        .map(|item| match untag(item) {
            Value::String(text) => text.clone(),
            Value::Number(number) => number.to_string(),
            other => panic!("{what} holds a {other:?}, not a string"),
        })
        .collect()
}

pub fn resources_of_type<'v>(template: &'v Value, kind: &str) -> Vec<(&'v str, &'v Value)> {
    mapping(
        get(template, "Resources").expect("the template has Resources"),
        "Resources",
    )
    .iter()
    .filter(|(_, resource)| get(resource, "Type").and_then(Value::as_str) == Some(kind))
    .map(|(name, resource)| (name.as_str().expect("a resource name"), resource))
    .collect()
}

/// `template` (YAML text) after SAM's transform, as CloudFormation runs it: plain CloudFormation,
/// as JSON. Runs the `samtranslator` of `.venv-sam` offline (a region and dummy credentials, no
/// profile); the functions' local `CodeUri` stands in as an S3 object, as `sam build` uploads it.
pub fn transformed(template: &str) -> serde_json::Value {
    let python = workspace_root().join(".venv-sam/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run ./scripts/test, which installs the SAM CLI into .venv-sam",
        python.display()
    );
    let script = r#"
import json, sys
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

class NoManagedPolicies:
    def load(self):
        return {}

template = yaml_parse(sys.stdin.read())
for resource in template["Resources"].values():
    if resource.get("Type") == "AWS::Serverless::Function":
        resource["Properties"]["CodeUri"] = "s3://example-bucket/code.zip"
print(json.dumps(transform(template, {}, NoManagedPolicies())))
"#;
    let mut child = std::process::Command::new(python)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "dummy-secret-for-offline-checks")
        .env_remove("AWS_PROFILE")
        .arg("-c")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python runs");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), template.as_bytes())
        .expect("the template written");
    let output = child.wait_with_output().expect("python ends");
    assert!(
        output.status.success(),
        "the SAM transform failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON")
}
