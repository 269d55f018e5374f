//! Least privilege in `template.yaml`: every function may read the secret through the one
//! `SecretReadPolicy` (and decrypt it with a customer-managed KMS key only via Secrets Manager);
//! the webhook function may also put events on the stack's own bus and send to its fallback
//! queue, and nothing else; no other function has any EventBridge or SQS right. The bus, the
//! queue (encrypted, 14 days, an alarm, a policy that lets only the webhook function send) and
//! their outputs exist. Checked in the template as
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
                    "EventBridgePutEventsPolicy".to_owned(),
                    "SQSSendMessagePolicy".to_owned(),
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
        let sqs: Vec<_> = statements
            .iter()
            .filter(|(actions, _)| actions.iter().any(|action| action.starts_with("sqs:")))
            .collect();
        if name == webhook {
            assert_eq!(sqs.len(), 1, "{name}: {statements:?}");
            let (actions, resource) = sqs[0];
            // SAM's SQSSendMessagePolicy: SendMessage and SendMessageBatch.
            assert_eq!(actions, &["sqs:SendMessage*"], "{name}");
            let resource = resource.to_string();
            assert!(
                resource.contains("WebhookFallbackQueue"),
                "{name}: SendMessage on the fallback queue only, not {resource}"
            );
        } else {
            assert!(sqs.is_empty(), "{name} has SQS rights: {sqs:?}");
        }
        assert_eq!(
            events.len() + sqs.len(),
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

#[test]
fn the_webhook_fallback_queue_is_encrypted_kept_14_days_watched_and_only_the_webhook_function_sends()
 {
    let template = template();
    let queues = resources_of_type(&template, "AWS::SQS::Queue");
    assert_eq!(queues.len(), 1, "one queue: {queues:?}");
    let (queue, resource) = queues[0];
    let properties = get(resource, "Properties").expect("its properties");
    assert_eq!(
        get(properties, "MessageRetentionPeriod").and_then(Value::as_u64),
        Some(14 * 24 * 3600)
    );
    assert_eq!(
        get(properties, "SqsManagedSseEnabled").and_then(Value::as_bool),
        Some(true),
        "encrypted at rest"
    );

    let webhook = function_of(&template, VIDEOSDK_WEBHOOK.name);
    let function = get(get(&template, "Resources").unwrap(), &webhook).unwrap();
    let function_properties = get(function, "Properties").unwrap();
    let variables = get(function_properties, "Environment")
        .and_then(|environment| get(environment, "Variables"))
        .expect("its environment");
    assert_eq!(
        get(variables, "WEBHOOK_FALLBACK_QUEUE_URL").and_then(reference),
        Some(queue)
    );
    let send = untag(get(function_properties, "Policies").unwrap())
        .as_sequence()
        .unwrap()
        .iter()
        .find_map(|policy| get(policy, "SQSSendMessagePolicy"))
        .expect("the SendMessage policy");
    let target = format!("{:?}", get(send, "QueueName").expect("a QueueName"));
    assert!(
        target.contains(queue) && target.contains("QueueName"),
        "SendMessage on the fallback queue only: {target}"
    );

    let policies = resources_of_type(&template, "AWS::SQS::QueuePolicy");
    assert_eq!(policies.len(), 1, "{policies:?}");
    let policy = get(policies[0].1, "Properties").unwrap();
    let queues: Vec<_> = untag(get(policy, "Queues").unwrap())
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(reference)
        .collect();
    assert_eq!(queues, [queue]);
    let statements =
        untag(get(get(policy, "PolicyDocument").unwrap(), "Statement").expect("statements"))
            .as_sequence()
            .unwrap();
    let deny_others = statements
        .iter()
        .find(|statement| {
            get(statement, "Effect").and_then(Value::as_str) == Some("Deny")
                && get(statement, "Action").and_then(Value::as_str) == Some("sqs:SendMessage")
        })
        .expect("a statement that denies SendMessage");
    assert_eq!(
        get(deny_others, "Principal").and_then(Value::as_str),
        Some("*")
    );
    let condition = format!("{:?}", get(deny_others, "Condition").expect("a condition"));
    assert!(
        condition.contains("ArnNotEquals")
            && condition.contains("aws:PrincipalArn")
            && condition.contains(&format!("{webhook}Role")),
        "everyone but the webhook function's role is denied: {condition}"
    );

    let alarms: Vec<_> = resources_of_type(&template, "AWS::CloudWatch::Alarm")
        .into_iter()
        .filter(|(_, alarm)| {
            get(alarm, "Properties")
                .and_then(|properties| get(properties, "Namespace"))
                .and_then(Value::as_str)
                == Some("AWS/SQS")
        })
        .collect();
    assert_eq!(alarms.len(), 1, "{alarms:?}");
    let alarm = get(alarms[0].1, "Properties").unwrap();
    assert_eq!(
        get(alarm, "MetricName").and_then(Value::as_str),
        Some("ApproximateNumberOfMessagesVisible")
    );
    assert_eq!(get(alarm, "Threshold").and_then(Value::as_u64), Some(0));
    assert_eq!(
        get(alarm, "ComparisonOperator").and_then(Value::as_str),
        Some("GreaterThanThreshold"),
        "any visible message"
    );
    let dimensions = format!("{:?}", get(alarm, "Dimensions").unwrap());
    assert!(
        dimensions.contains("QueueName") && dimensions.contains(queue),
        "{dimensions}"
    );

    let outputs = get(&template, "Outputs").expect("Outputs");
    assert_eq!(
        get(outputs, "WebhookFallbackQueueUrl")
            .and_then(|output| get(output, "Value"))
            .and_then(reference),
        Some(queue)
    );
}
