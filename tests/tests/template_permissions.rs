//! Least privilege in `template.yaml`: every function that answers a route may read the secret
//! through the one `SecretReadPolicy` (and decrypt it with a customer-managed KMS key only via
//! Secrets Manager); the webhook function may also put events on the stack's own bus and send to
//! its fallback queue, and nothing else; the queue's consumer may put events on the same bus and
//! receive, delete and read the attributes of that queue's messages, and nothing else (not even
//! the secret); the moderation function may put its audit events on that bus and write, delete
//! and query the bans table; join and get-token may only `GetItem` it; no other function has any
//! EventBridge, SQS or DynamoDB right. The bus, the queue (encrypted, 14 days, alarms, a policy
//! that lets only the webhook function send, a dead-letter queue after 20 receives), the
//! dead-letter queue (encrypted, 14 days, an alarm) and their outputs exist. Checked in the
//! template as written, and in the IAM roles SAM's transform makes of it (what CloudFormation
//! deploys).

use std::collections::BTreeSet;

use api_tests::template::{get, mapping, reference, resources_of_type, template, untag};
use api_tests::workspace_root;
use serde_json::{Value as Json, json};
use serde_norway::Value;
use shared::aws::bans;
use shared::function::WEBHOOK_DRAIN;
use shared::routes::moderation::REMOVE_PARTICIPANT;
use shared::routes::{GET_TOKEN, JOIN, VIDEOSDK_WEBHOOK};

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
/// An inline policy document of a function (its `Statement` list).
const INLINE: &str = "Statement";

/// The inline statements of the function `binary`, as written.
fn inline_statements(template: &Value, binary: &str) -> Vec<PolicyStatement> {
    let name = function_of(template, binary);
    let function = get(get(template, "Resources").unwrap(), &name).unwrap();
    untag(get(get(function, "Properties").unwrap(), "Policies").unwrap())
        .as_sequence()
        .unwrap()
        .iter()
        .filter(|policy| get(policy, INLINE).is_some())
        .flat_map(|policy| policy_statements(&as_json(policy)))
        .collect()
}

/// The bans table: on demand, encrypted, keyed and expiring as `shared::aws::bans` reads it; join
/// and get-token may only `GetItem` it, the moderation function only write, delete and query
/// it, and no other function names it.
#[test]
fn the_bans_table_is_on_demand_encrypted_expiring_and_each_function_has_only_its_actions() {
    let template = template();
    let tables = resources_of_type(&template, "AWS::DynamoDB::Table");
    assert_eq!(tables.len(), 1, "one table: {tables:?}");
    let (table, resource) = tables[0];
    let properties = as_json(get(resource, "Properties").expect("its properties"));
    assert_eq!(properties["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(properties["SSESpecification"], json!({"SSEEnabled": true}));
    assert_eq!(
        properties["TimeToLiveSpecification"],
        json!({"AttributeName": bans::ENDS_AT, "Enabled": true})
    );
    assert_eq!(
        properties["KeySchema"],
        json!([
            {"AttributeName": bans::ROOM_ID, "KeyType": "HASH"},
            {"AttributeName": bans::PARTICIPANT_ID, "KeyType": "RANGE"}
        ])
    );
    let arn = json!({"Fn::GetAtt": [table, "Arn"]});
    let only = |actions: &[&str]| {
        vec![PolicyStatement {
            only_if: None,
            effect: json!("Allow"),
            actions: actions.iter().map(|action| action.to_string()).collect(),
            resource: arn.clone(),
            condition: None,
        }]
    };
    for binary in [JOIN.name, GET_TOKEN.name] {
        assert_eq!(
            inline_statements(&template, binary),
            only(&["dynamodb:GetItem"]),
            "{binary}: one GetItem per token for a room, nothing else"
        );
    }
    assert_eq!(
        inline_statements(&template, REMOVE_PARTICIPANT.name),
        only(&["dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query"]),
        "moderation: write, lift and list bans"
    );
    for (name, function) in resources_of_type(&template, "AWS::Serverless::Function") {
        let variables = get(function, "Properties")
            .and_then(|properties| get(properties, "Environment"))
            .and_then(|environment| get(environment, "Variables"));
        let names_table = variables
            .and_then(|variables| get(variables, "BANS_TABLE_NAME"))
            .and_then(reference);
        let binary = get(function, "Metadata")
            .and_then(|metadata| get(metadata, "BuildProperties"))
            .and_then(|properties| get(properties, "Binary"))
            .and_then(Value::as_str)
            .unwrap();
        let expected = [JOIN.name, GET_TOKEN.name, REMOVE_PARTICIPANT.name].contains(&binary);
        assert_eq!(
            names_table,
            expected.then_some(table),
            "{name}: BANS_TABLE_NAME"
        );
    }
    assert_eq!(
        output(&template, "BansTableName").and_then(reference),
        Some(table)
    );
}

/// A value of the template in CloudFormation's JSON form: a tag (`!Ref X`, `!If [...]`,
/// `!GetAtt A.B`) written as the intrinsic function in full (`{"Ref": "X"}`, `{"Fn::If": [...]}`,
/// `{"Fn::GetAtt": ["A", "B"]}`), so that statements compare as data.
/// The `Value` of the stack output `name`.
fn output<'t>(template: &'t Value, name: &str) -> Option<&'t Value> {
    get(get(template, "Outputs")?, name).and_then(|output| get(output, "Value"))
}

fn as_json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Bool(flag) => Json::Bool(*flag),
        Value::Number(number) => serde_json::from_str(&number.to_string()).expect("a number"),
        Value::String(text) => Json::String(text.clone()),
        Value::Sequence(items) => Json::Array(items.iter().map(as_json).collect()),
        Value::Mapping(members) => Json::Object(
            members
                .iter()
                .map(|(key, member)| {
                    let key = key.as_str().expect("a string key").to_owned();
                    (key, as_json(member))
                })
                .collect(),
        ),
        Value::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let tag = tag.trim_start_matches('!');
            let argument = match (tag, &tagged.value) {
                ("GetAtt", Value::String(path)) => {
                    let (resource, attribute) = path.split_once('.').expect("Resource.Attribute");
                    json!([resource, attribute])
                }
                _ => as_json(&tagged.value),
            };
            let name = match tag {
                "Ref" | "Condition" => tag.to_owned(),
                _ => format!("Fn::{tag}"),
            };
            json!({ name: argument })
        }
    }
}

/// One IAM statement, whole: the condition of the template it exists under (a statement written
/// as `!If [Condition, statement, !Ref AWS::NoValue]`), its effect, actions, resource and
/// condition block, which must be read together: an action is granted on that resource, under
/// that condition.
#[derive(Debug, PartialEq)]
struct PolicyStatement {
    only_if: Option<String>,
    effect: Json,
    actions: Vec<String>,
    resource: Json,
    condition: Option<Json>,
}

fn policy_statements(document: &Json) -> Vec<PolicyStatement> {
    let statements = match &document["Statement"] {
        Json::Array(statements) => statements.clone(),
        single @ Json::Object(_) => vec![single.clone()],
        other => panic!("no statements: {other}"),
    };
    statements
        .iter()
        .map(|statement| {
            let (only_if, statement) = match statement.get("Fn::If") {
                Some(Json::Array(branches)) => {
                    assert_eq!(
                        branches.get(2),
                        Some(&json!({"Ref": "AWS::NoValue"})),
                        "a statement under a condition is absent otherwise: {statement}"
                    );
                    (branches[0].as_str().map(str::to_owned), branches[1].clone())
                }
                _ => (None, statement.clone()),
            };
            let members: BTreeSet<&str> = statement
                .as_object()
                .expect("a statement is an object")
                .keys()
                .map(String::as_str)
                .collect();
            assert!(
                members.is_subset(&BTreeSet::from([
                    "Effect",
                    "Action",
                    "Resource",
                    "Condition",
                    "Sid"
                ])),
                "a statement with members this test does not read (NotAction, NotResource, \
                 Principal...): {statement}"
            );
            let actions = match &statement["Action"] {
                Json::String(action) => vec![action.clone()],
                Json::Array(actions) => actions
                    .iter()
                    .map(|action| action.as_str().expect("an action").to_owned())
                    .collect(),
                other => panic!("an action of {other}"),
            };
            PolicyStatement {
                only_if,
                effect: statement["Effect"].clone(),
                actions,
                resource: statement["Resource"].clone(),
                condition: statement.get("Condition").cloned(),
            }
        })
        .collect()
}

#[test]
fn the_secret_is_read_through_one_policy_and_its_kms_key_only_via_secrets_manager() {
    let template = template();
    let policy = get(&template, "Resources")
        .and_then(|resources| get(resources, "SecretReadPolicy"))
        .map(as_json)
        .expect("the SecretReadPolicy resource");
    assert_eq!(policy["Type"], "AWS::IAM::ManagedPolicy");
    assert_eq!(
        policy_statements(&policy["Properties"]["PolicyDocument"]),
        [
            // The stack's secret, or the one it was given; nothing else.
            PolicyStatement {
                only_if: None,
                effect: json!("Allow"),
                actions: vec!["secretsmanager:GetSecretValue".to_owned()],
                resource: json!({"Fn::If": [
                    "CreateSecret",
                    {"Ref": "VideoSdkSecret"},
                    {"Ref": "ExistingSecretArn"}
                ]}),
                condition: None,
            },
            // The customer-managed key, when there is one, and only for Secrets Manager's use.
            PolicyStatement {
                only_if: Some("HasSecretKmsKey".to_owned()),
                effect: json!("Allow"),
                actions: vec!["kms:Decrypt".to_owned()],
                resource: json!({"Ref": "SecretKmsKeyArn"}),
                condition: Some(json!({"StringEquals": {
                    "kms:ViaService": {"Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"}
                }})),
            },
        ]
    );
}

/// The bus a function's `EventBridgePutEventsPolicy` names, if it has one.
fn put_events_bus(function: &Value) -> Option<&str> {
    let policies = untag(get(function, "Properties")?)
        .get("Policies")
        .and_then(|policies| untag(policies).as_sequence())?;
    let put_events = policies
        .iter()
        .find_map(|policy| get(policy, "EventBridgePutEventsPolicy"))?;
    get(put_events, "EventBusName").and_then(reference)
}

#[test]
fn only_the_webhook_and_moderation_functions_may_put_events_and_only_on_the_stacks_bus() {
    let template = template();
    let buses = resources_of_type(&template, "AWS::Events::EventBus");
    assert_eq!(buses.len(), 1, "one bus: {buses:?}");
    let bus = buses[0].0;
    let webhook = function_of(&template, VIDEOSDK_WEBHOOK.name);
    let drain = function_of(&template, WEBHOOK_DRAIN);
    let moderation = function_of(&template, REMOVE_PARTICIPANT.name);
    let ban_readers = [
        function_of(&template, JOIN.name),
        function_of(&template, GET_TOKEN.name),
    ];
    for (name, function) in resources_of_type(&template, "AWS::Serverless::Function") {
        let policies = policy_templates(function);
        if name == drain {
            // PutEvents on the bus, and one inline statement (the queue's, checked whole in the
            // deployed roles below); no secret.
            assert_eq!(
                policies,
                BTreeSet::from([
                    "EventBridgePutEventsPolicy".to_owned(),
                    "Statement".to_owned()
                ]),
                "{name}"
            );
            assert_eq!(
                put_events_bus(function),
                Some(bus),
                "{name} puts the queued webhooks on the stack's bus only"
            );
        } else if name == moderation {
            assert_eq!(
                policies,
                BTreeSet::from([
                    SECRET_READ.to_owned(),
                    "EventBridgePutEventsPolicy".to_owned(),
                    INLINE.to_owned(),
                ]),
                "{name}"
            );
            assert_eq!(
                put_events_bus(function),
                Some(bus),
                "{name} puts its audit events on the stack's bus only"
            );
        } else if ban_readers.contains(&name.to_owned()) {
            assert_eq!(
                policies,
                BTreeSet::from([SECRET_READ.to_owned(), INLINE.to_owned()]),
                "{name} reads the secret and the bans, nothing more"
            );
        } else if name == webhook {
            assert_eq!(
                policies,
                BTreeSet::from([
                    SECRET_READ.to_owned(),
                    "EventBridgePutEventsPolicy".to_owned(),
                    "SQSSendMessagePolicy".to_owned(),
                ]),
                "{name}"
            );
            assert_eq!(
                put_events_bus(function),
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
    assert_eq!(
        output(&template, "EventBusName").and_then(reference),
        Some(bus)
    );
    let arn = output(&template, "EventBusArn")
        .map(as_json)
        .expect("the EventBusArn output");
    assert_eq!(arn, json!({"Fn::GetAtt": [bus, "Arn"]}));
}

/// Every IAM statement SAM's transform gives each function's role.
fn role_statements() -> Vec<(String, Vec<PolicyStatement>)> {
    let text = std::fs::read_to_string(workspace_root().join("template.yaml"))
        .expect("template.yaml is readable");
    let transformed: Json = api_tests::template::transformed(&text);
    let resources = transformed["Resources"].as_object().expect("Resources");
    let mut roles = Vec::new();
    for (name, resource) in resources {
        if resource["Type"] != "AWS::Lambda::Function" {
            continue;
        }
        let role = resource["Properties"]["Role"]["Fn::GetAtt"][0]
            .as_str()
            .expect("the function's role");
        let statements: Vec<PolicyStatement> = resources[role]["Properties"]["Policies"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|policy| policy_statements(&policy["PolicyDocument"]))
            .collect();
        let managed = resources[role]["Properties"]["ManagedPolicyArns"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let basic = managed
            .iter()
            .filter(|arn| arn.to_string().contains("AWSLambdaBasicExecutionRole"))
            .count();
        let secret = managed
            .iter()
            .filter(|arn| **arn == serde_json::json!({"Ref": "SecretReadPolicy"}))
            .count();
        // The consumer reads no secret; SAM's SQS event would have added
        // AWSLambdaSQSQueueExecutionRole (every queue of the account), which counts here too.
        let consumer = name.starts_with("VideoSdkWebhookDrain");
        assert_eq!(
            (basic, secret, managed.len()),
            if consumer { (1, 0, 1) } else { (1, 1, 2) },
            "{name}: the basic execution role (logs) and the secret's read, nothing else managed: \
             {managed:?}"
        );
        roles.push((name.clone(), statements));
    }
    roles
}

#[test]
#[ignore = "needs the test tools; scripts/test runs it"]
fn the_deployed_roles_grant_put_events_to_the_webhook_and_moderation_functions_and_dynamodb_on_the_table_alone()
 {
    let template = template();
    let webhook = function_of(&template, VIDEOSDK_WEBHOOK.name);
    let drain = function_of(&template, WEBHOOK_DRAIN);
    let roles = role_statements();
    let buses = resources_of_type(&template, "AWS::Events::EventBus");
    assert_eq!(buses.len(), 1, "one bus: {buses:?}");
    let bus = buses[0].0;
    let queue = "WebhookFallbackQueue";
    let moderation = function_of(&template, REMOVE_PARTICIPANT.name);
    let table = resources_of_type(&template, "AWS::DynamoDB::Table")[0].0;
    assert_eq!(
        roles.len(),
        api_tests::functions().len() + 1,
        "one role per function, the consumer's included: {roles:?}"
    );
    for (name, statements) in roles {
        let events: Vec<_> = statements
            .iter()
            .filter(|statement| {
                statement
                    .actions
                    .iter()
                    .any(|action| action.starts_with("events:"))
            })
            .collect();
        let sqs: Vec<_> = statements
            .iter()
            .filter(|statement| {
                statement
                    .actions
                    .iter()
                    .any(|action| action.starts_with("sqs:"))
            })
            .collect();
        let dynamodb: Vec<_> = statements
            .iter()
            .filter(|statement| {
                statement
                    .actions
                    .iter()
                    .any(|action| action.starts_with("dynamodb:"))
            })
            .collect();
        // Each on the table only, and only where the template as written gives it
        // (the_bans_table_is_on_demand_encrypted_expiring_and_each_function_has_only_its_actions).
        for statement in &dynamodb {
            assert_eq!(
                statement.resource,
                json!({"Fn::GetAtt": [table, "Arn"]}),
                "{name}"
            );
        }
        if name == drain {
            // What Lambda's polling of the one queue needs, nothing more.
            assert_eq!(
                sqs,
                [&PolicyStatement {
                    only_if: None,
                    effect: json!("Allow"),
                    actions: vec![
                        "sqs:ReceiveMessage".to_owned(),
                        "sqs:DeleteMessage".to_owned(),
                        "sqs:GetQueueAttributes".to_owned()
                    ],
                    resource: json!({"Fn::GetAtt": [queue, "Arn"]}),
                    condition: None,
                }],
                "{name}: the fallback queue's messages only"
            );
        } else if name == webhook {
            assert_eq!(sqs.len(), 1, "{name}: {statements:?}");
            let statement = sqs[0];
            // SAM's SQSSendMessagePolicy: SendMessage and SendMessageBatch, allowed always, on
            // the fallback queue only.
            assert_eq!(
                (
                    &statement.only_if,
                    &statement.effect,
                    &statement.actions[..],
                    &statement.condition
                ),
                (
                    &None,
                    &json!("Allow"),
                    &["sqs:SendMessage*".to_owned()][..],
                    &None
                ),
                "{name}"
            );
            assert_eq!(
                statement.resource,
                json!({"Fn::Sub": [
                    "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${queueName}",
                    {"queueName": {"Fn::GetAtt": [queue, "QueueName"]}}
                ]}),
                "{name}: SendMessage on the fallback queue only"
            );
        } else {
            assert!(sqs.is_empty(), "{name} has SQS rights: {sqs:?}");
        }
        assert_eq!(
            events.len() + sqs.len() + dynamodb.len(),
            statements.len(),
            "{name}: no other inline statement (the secret is read through SecretReadPolicy): \
             {statements:?}"
        );
        if name == webhook || name == drain || name == moderation {
            // PutEvents, on the ARN of the bus named by the stack's own bus (SAM's
            // EventBridgePutEventsPolicy template), unconditionally and with nothing else.
            let bus_arn = json!({"Fn::Sub": [
                "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${eventBusName}",
                {"eventBusName": {"Ref": bus}}
            ]});
            assert_eq!(
                events,
                [&PolicyStatement {
                    only_if: None,
                    effect: json!("Allow"),
                    actions: vec!["events:PutEvents".to_owned()],
                    resource: bus_arn,
                    condition: None,
                }],
                "{name}: PutEvents on the stack's bus only"
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
    let names: BTreeSet<&str> = queues.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        names,
        BTreeSet::from(["WebhookFallbackQueue", "WebhookDeadLetterQueue"]),
        "the fallback queue and its dead-letter queue"
    );
    let (queue, dead_letters) = ("WebhookFallbackQueue", "WebhookDeadLetterQueue");
    let resources = get(&template, "Resources").unwrap();
    let properties_of =
        |name: &str| get(get(resources, name).unwrap(), "Properties").expect("its properties");
    for name in [queue, dead_letters] {
        let properties = properties_of(name);
        assert_eq!(
            get(properties, "MessageRetentionPeriod").and_then(Value::as_u64),
            Some(14 * 24 * 3600),
            "{name}"
        );
        assert_eq!(
            get(properties, "SqsManagedSseEnabled").and_then(Value::as_bool),
            Some(true),
            "{name}: encrypted at rest"
        );
        assert_eq!(
            get(properties, "MaximumMessageSize").and_then(Value::as_u64),
            Some(shared::aws::fallback_queue::MAX_MESSAGE_BYTES as u64),
            "{name}"
        );
    }
    let properties = properties_of(queue);
    assert_eq!(
        get(properties, "RedrivePolicy").map(as_json),
        Some(json!({
            "deadLetterTargetArn": {"Fn::GetAtt": [dead_letters, "Arn"]},
            "maxReceiveCount": 20
        })),
        "to the dead-letter queue after 20 receives"
    );
    // AWS: a queue's visibility timeout at least six times its consumer's timeout.
    let drain = function_of(&template, WEBHOOK_DRAIN);
    let timeout = get(properties_of(&drain), "Timeout")
        .or_else(|| {
            get(&template, "Globals")
                .and_then(|globals| get(globals, "Function"))
                .and_then(|function| get(function, "Timeout"))
        })
        .and_then(Value::as_u64)
        .expect("the consumer's timeout");
    let visibility = get(properties, "VisibilityTimeout")
        .and_then(Value::as_u64)
        .expect("a visibility timeout");
    assert!(
        visibility >= 6 * timeout,
        "{visibility} s for a {timeout} s consumer"
    );
    let mappings = resources_of_type(&template, "AWS::Lambda::EventSourceMapping");
    assert_eq!(mappings.len(), 1, "{mappings:?}");
    assert_eq!(
        as_json(get(mappings[0].1, "Properties").unwrap()),
        json!({
            "EventSourceArn": {"Fn::GetAtt": [queue, "Arn"]},
            "FunctionName": {"Ref": drain},
            "BatchSize": 10,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "ScalingConfig": {"MaximumConcurrency": 2}
        }),
        "the consumer on the fallback queue, partial batch responses, two at once at most"
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
    assert_eq!(
        get(send, "QueueName").map(as_json),
        Some(json!({"Fn::GetAtt": [queue, "QueueName"]})),
        "SendMessage on the fallback queue only"
    );

    let policies = resources_of_type(&template, "AWS::SQS::QueuePolicy");
    assert_eq!(policies.len(), 2, "{policies:?}");
    let policy = properties_of("WebhookFallbackQueuePolicy");
    let queues: Vec<_> = untag(get(policy, "Queues").unwrap())
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(reference)
        .collect();
    assert_eq!(queues, [queue]);
    // The whole document: a Deny of SendMessage to everyone but the webhook function's role,
    // on this queue, and of any request without TLS.
    let queue_arn = json!({"Fn::GetAtt": [queue, "Arn"]});
    assert_eq!(
        as_json(get(policy, "PolicyDocument").expect("a policy document")),
        json!({
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "OnlyTheWebhookFunctionSends",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {
                        "ArnNotEquals": {
                            "aws:PrincipalArn": {"Fn::GetAtt": [format!("{webhook}Role"), "Arn"]}
                        },
                        "BoolIfExists": {"aws:ViaAWSService": "false"}
                    }
                },
                {
                    "Sid": "TlsOnly",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "sqs:*",
                    "Resource": queue_arn,
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}}
                }
            ]
        }),
        "everyone but the webhook function's role (and SQS's move task on a principal's behalf) \
         is denied SendMessage on the queue"
    );
    let dead_letter_policy = properties_of("WebhookDeadLetterQueuePolicy");
    assert_eq!(
        as_json(get(dead_letter_policy, "Queues").unwrap()),
        json!([{"Ref": dead_letters}])
    );
    assert_eq!(
        as_json(get(dead_letter_policy, "PolicyDocument").unwrap()),
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "TlsOnly",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:*",
                "Resource": {"Fn::GetAtt": [dead_letters, "Arn"]},
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}
            }]
        })
    );

    // Any message waiting, the oldest over an hour, any in the dead-letter queue.
    let mut alarms: Vec<Json> = resources_of_type(&template, "AWS::CloudWatch::Alarm")
        .into_iter()
        .filter_map(|(_, alarm)| get(alarm, "Properties"))
        .filter(|properties| {
            get(properties, "Namespace").and_then(Value::as_str) == Some("AWS/SQS")
        })
        .map(|properties| {
            json!([
                as_json(get(properties, "Dimensions").unwrap()),
                as_json(get(properties, "MetricName").unwrap()),
                as_json(get(properties, "ComparisonOperator").unwrap()),
                as_json(get(properties, "Threshold").unwrap()),
            ])
        })
        .collect();
    alarms.sort_by_key(Json::to_string);
    let on =
        |name: &str| json!([{"Name": "QueueName", "Value": {"Fn::GetAtt": [name, "QueueName"]}}]);
    let mut expected = vec![
        json!([
            on(queue),
            "ApproximateNumberOfMessagesVisible",
            "GreaterThanThreshold",
            0
        ]),
        json!([
            on(queue),
            "ApproximateAgeOfOldestMessage",
            "GreaterThanThreshold",
            3600
        ]),
        json!([
            on(dead_letters),
            "ApproximateNumberOfMessagesVisible",
            "GreaterThanThreshold",
            0
        ]),
    ];
    expected.sort_by_key(Json::to_string);
    assert_eq!(alarms, expected);

    assert_eq!(
        output(&template, "WebhookFallbackQueueUrl").and_then(reference),
        Some(queue)
    );
    assert_eq!(
        output(&template, "WebhookDeadLetterQueueArn").map(as_json),
        Some(json!({"Fn::GetAtt": [dead_letters, "Arn"]}))
    );
}
