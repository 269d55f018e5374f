//! Least privilege in `template.yaml`: every function may read the secret through the one
//! `SecretReadPolicy` (and decrypt it with a customer-managed KMS key only via Secrets Manager);
//! the webhook function may also put events on the stack's own bus, and nothing else; no other
//! function has any EventBridge right. The bus and its outputs exist. Checked in the template as
//! written, and in the IAM roles SAM's transform makes of it (what CloudFormation deploys).

use std::collections::BTreeSet;
use std::process::Command;

use api_tests::template::{get, mapping, reference, resources_of_type, template, untag};
use api_tests::workspace_root;
use serde_json::Value as Json;
use serde_norway::Value;
use shared::routes::VIDEOSDK_WEBHOOK;

/// The logical id of the function whose binary is `binary`.
fn function_of(template: &Value, binary: &str) -> String {
    resources_of_type(template, "AWS::Serverless::Function")
        .into_iter()
        .find(|(_, function)| {
            get(function, "Metadata")
                .and_then(|metadata| get(metadata, "BuildProperties"))
                .and_then(|properties| get(properties, "Binary"))
                .and_then(Value::as_str)
                == Some(binary)
        })
        .map(|(name, _)| name.to_owned())
        .unwrap_or_else(|| panic!("no function builds {binary}"))
}

/// A function's policies: the names of its SAM policy templates, and `Ref <resource>` for a
/// managed policy of the stack.
fn policy_templates(function: &Value) -> BTreeSet<String> {
    get(function, "Properties")
        .and_then(|properties| get(properties, "Policies"))
        .and_then(|policies| untag(policies).as_sequence())
        .map(|policies| {
            policies
                .iter()
                .flat_map(|policy| match reference(policy) {
                    Some(name) => vec![format!("Ref {name}")],
                    None => mapping(policy, "a policy")
                        .keys()
                        .filter_map(|name| name.as_str().map(str::to_owned))
                        .collect(),
                })
                .collect()
        })
        .unwrap_or_default()
}

const SECRET_READ: &str = "Ref SecretReadPolicy";

#[test]
fn the_secret_is_read_through_one_policy_and_its_kms_key_only_via_secrets_manager() {
    let template = template();
    let policy = get(&template, "Resources")
        .and_then(|resources| get(resources, "SecretReadPolicy"))
        .expect("the SecretReadPolicy resource");
    assert_eq!(
        get(policy, "Type").and_then(Value::as_str),
        Some("AWS::IAM::ManagedPolicy")
    );
    let text = format!("{policy:?}");
    let statements = get(policy, "Properties")
        .and_then(|properties| get(properties, "PolicyDocument"))
        .and_then(|document| get(document, "Statement"))
        .and_then(|statements| untag(statements).as_sequence())
        .expect("its statements");
    assert_eq!(statements.len(), 2, "{text}");
    assert_eq!(
        get(&statements[0], "Action").and_then(Value::as_str),
        Some("secretsmanager:GetSecretValue")
    );
    assert!(
        text.contains("HasSecretKmsKey")
            && text.contains("kms:Decrypt")
            && text.contains("kms:ViaService")
            && text.contains("secretsmanager.${AWS::Region}.amazonaws.com"),
        "the KMS key is used through Secrets Manager only: {text}"
    );
}

#[test]
fn only_the_webhook_function_may_put_events_and_only_on_the_stacks_bus() {
    let template = template();
    let buses = resources_of_type(&template, "AWS::Events::EventBus");
    assert_eq!(buses.len(), 1, "one bus: {buses:?}");
    let bus = buses[0].0;
    let webhook = function_of(&template, VIDEOSDK_WEBHOOK.name);
    for (name, function) in resources_of_type(&template, "AWS::Serverless::Function") {
        let policies = policy_templates(function);
        if name == webhook {
            assert_eq!(
                policies,
                BTreeSet::from([
                    SECRET_READ.to_owned(),
                    "EventBridgePutEventsPolicy".to_owned()
                ]),
                "{name}"
            );
            let put_events = untag(get(function, "Properties").unwrap())
                .get("Policies")
                .and_then(|policies| untag(policies).as_sequence())
                .and_then(|policies| {
                    policies
                        .iter()
                        .find_map(|policy| get(policy, "EventBridgePutEventsPolicy"))
                })
                .expect("the PutEvents policy");
            assert_eq!(
                get(put_events, "EventBusName").and_then(reference),
                Some(bus),
                "{name} puts events on the stack's bus only"
            );
            let variables = get(function, "Properties")
                .and_then(|properties| get(properties, "Environment"))
                .and_then(|environment| get(environment, "Variables"))
                .expect("its environment");
            assert_eq!(
                get(variables, "EVENT_BUS_NAME").and_then(reference),
                Some(bus)
            );
        } else {
            assert_eq!(
                policies,
                BTreeSet::from([SECRET_READ.to_owned()]),
                "{name} reads the secret and nothing more"
            );
        }
    }
    let outputs = get(&template, "Outputs").expect("Outputs");
    assert_eq!(
        get(outputs, "EventBusName")
            .and_then(|output| get(output, "Value"))
            .and_then(reference),
        Some(bus)
    );
    let arn = get(outputs, "EventBusArn")
        .and_then(|output| get(output, "Value"))
        .map(untag)
        .expect("the EventBusArn output");
    assert!(
        format!("{arn:?}").contains(bus) && format!("{arn:?}").contains("Arn"),
        "{arn:?}"
    );
}

/// An IAM statement: its actions and its resource.
type Statement = (Vec<String>, Json);

/// Every IAM statement SAM's transform gives each function's role.
fn role_statements() -> Vec<(String, Vec<Statement>)> {
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

template = yaml_parse(open(sys.argv[1]).read())
for resource in template["Resources"].values():
    if resource.get("Type") == "AWS::Serverless::Function":
        resource["Properties"]["CodeUri"] = "s3://example-bucket/code.zip"
print(json.dumps(transform(template, {}, NoManagedPolicies())))
"#;
    // Offline, as scripts/check-template runs it: a region and dummy credentials, no profile.
    let output = Command::new(python)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "dummy-secret-for-offline-checks")
        .env_remove("AWS_PROFILE")
        .arg("-c")
        .arg(script)
        .arg(workspace_root().join("template.yaml"))
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "the SAM transform failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let transformed: Json = serde_json::from_slice(&output.stdout).expect("JSON");
    let resources = transformed["Resources"].as_object().expect("Resources");
    let mut roles = Vec::new();
    for (name, resource) in resources {
        if resource["Type"] != "AWS::Lambda::Function" {
            continue;
        }
        let role = resource["Properties"]["Role"]["Fn::GetAtt"][0]
            .as_str()
            .expect("the function's role");
        let mut statements = Vec::new();
        for policy in resources[role]["Properties"]["Policies"]
            .as_array()
            .into_iter()
            .flatten()
        {
            for statement in policy["PolicyDocument"]["Statement"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let actions = match &statement["Action"] {
                    Json::String(action) => vec![action.clone()],
                    Json::Array(actions) => actions
                        .iter()
                        .filter_map(|action| action.as_str().map(str::to_owned))
                        .collect(),
                    other => panic!("{name}: an action of {other}"),
                };
                statements.push((actions, statement["Resource"].clone()));
            }
        }
        let managed = resources[role]["Properties"]["ManagedPolicyArns"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(managed.len(), 2, "{name}: {managed:?}");
        assert!(
            managed.contains(&serde_json::json!({"Ref": "SecretReadPolicy"}))
                && managed
                    .iter()
                    .any(|arn| arn.to_string().contains("AWSLambdaBasicExecutionRole")),
            "{name}: the basic execution role (logs) and the secret's read, nothing else managed: \
             {managed:?}"
        );
        roles.push((name.clone(), statements));
    }
    roles
}

#[test]
#[ignore = "needs the test tools; scripts/test runs it"]
fn the_deployed_roles_grant_put_events_on_the_bus_to_the_webhook_function_alone() {
    let template = template();
    let webhook = function_of(&template, VIDEOSDK_WEBHOOK.name);
    let roles = role_statements();
    assert_eq!(roles.len(), 4, "{roles:?}");
    for (name, statements) in roles {
        let events: Vec<_> = statements
            .iter()
            .filter(|(actions, _)| actions.iter().any(|action| action.starts_with("events:")))
            .collect();
        assert_eq!(
            events.len(),
            statements.len(),
            "{name}: no other inline statement (the secret is read through SecretReadPolicy): \
             {statements:?}"
        );
        if name == webhook {
            assert_eq!(events.len(), 1, "{name}: {statements:?}");
            let (actions, resource) = events[0];
            assert_eq!(actions, &["events:PutEvents"], "{name}");
            let resource = resource.to_string();
            assert!(
                resource.contains(":event-bus/") && resource.contains("VideoSdkEventBus"),
                "{name}: PutEvents on the stack's bus only, not {resource}"
            );
        } else {
            assert!(
                events.is_empty(),
                "{name} has EventBridge rights: {events:?}"
            );
        }
    }
}
