//! Whatever a cold start would refuse, the template refuses at deploy time, naming the
//! parameter: for sets of parameter values that cover every setting the functions check
//! against another (permissions and moderators, room creators, identity, roles, webhooks), the
//! functions' own settings code runs with the environment the template gives each function. When
//! it refuses, some parameter constraint or rule of `template.yaml` must refuse too, with a
//! message naming a parameter the refused variable is made from; and where every value meets
//! its parameter's constraints and the functions start, no rule may refuse.

use std::collections::BTreeSet;

use api_tests::cloudformation::{Deployment, parameters_of};
use api_tests::template::{get, template};
use serde_norway::Value;
use shared::settings::Settings;

/// What Lambda adds to every function's environment.
const LAMBDA_ENVIRONMENT: [(&str, &str); 5] = [
    ("AWS_ACCESS_KEY_ID", "ASIAIOSFODNN7EXAMPLE"),
    ("AWS_SECRET_ACCESS_KEY", "secret"),
    ("AWS_SESSION_TOKEN", "session"),
    ("AWS_REGION", "us-east-1"),
    ("AWS_LAMBDA_FUNCTION_NAME", "videosdk-token-api-Function"),
];

/// Every ordered list of distinct permissions, and one with a repeat.
fn permission_lists() -> Vec<String> {
    let names = ["allow_join", "ask_join", "allow_mod"];
    let mut lists = Vec::new();
    for first in names {
        lists.push(first.to_owned());
        for second in names.iter().filter(|name| **name != first) {
            lists.push(format!("{first},{second}"));
            for third in names
                .iter()
                .filter(|name| **name != first && **name != *second)
            {
                lists.push(format!("{first},{second},{third}"));
            }
        }
    }
    lists.push("allow_join,allow_join".to_owned());
    lists
}

/// The parameter sets: products of the values of parameters that are checked together.
fn parameter_sets() -> Vec<Vec<(&'static str, String)>> {
    let jwt: [&[(&str, &str)]; 2] = [
        &[],
        &[
            (
                "JwtIssuer",
                "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEfGhI",
            ),
            ("JwtAudience", "client"),
        ],
    ];
    let owned = |pairs: &[(&'static str, &str)]| -> Vec<(&'static str, String)> {
        pairs
            .iter()
            .map(|(name, value)| (*name, (*value).to_owned()))
            .collect()
    };
    let mut sets = Vec::new();
    // Permissions, moderators and room creators.
    let lists = permission_lists();
    for allowed in &lists {
        for default in &lists {
            for groups in ["", "moderators,hosts"] {
                for scopes in ["", "videosdk/moderate"] {
                    for creators in ["everyone", "moderators", "nobody"] {
                        for identity in jwt {
                            let mut set = owned(identity);
                            set.extend([
                                ("AllowedPermissions", allowed.clone()),
                                ("DefaultPermissions", default.clone()),
                                ("ModeratorGroups", groups.to_owned()),
                                ("ModeratorScopes", scopes.to_owned()),
                                ("RoomCreators", creators.to_owned()),
                            ]);
                            sets.push(set);
                        }
                    }
                }
            }
        }
    }
    // Roles and identity claims, with and without sign-in and moderators.
    for roles in [
        "rtc",
        "crawler",
        "rtc,crawler",
        "Crawler,RTC",
        "rtc,rtc",
        "admin",
    ] {
        for claim in [
            "sub",
            "cognito:username",
            "email",
            "name",
            "custom:tenant",
            "user id",
        ] {
            for identity in jwt {
                // Each rule about callers that keeps tokens to `rtc`, or none.
                for rules in [
                    &[][..],
                    &[
                        ("ModeratorGroups", "moderators"),
                        ("AllowedPermissions", "allow_join,allow_mod"),
                    ],
                    &[("RoomCreators", "nobody")],
                    &[("AnonymousParticipantIds", "generate")],
                ] {
                    let mut set = owned(identity);
                    set.extend([
                        ("TokenRoles", roles.to_owned()),
                        ("IdentityClaim", claim.to_owned()),
                    ]);
                    set.extend(owned(rules));
                    sets.push(set);
                }
            }
        }
    }
    // The rooms' webhook and the backend.
    let long_url = format!("https://hooks.example.com/{}", "a".repeat(487));
    for backend in ["videosdk", "local"] {
        for events in ["", "session-started,session-ended", "*"] {
            for url in [
                "",
                "https://hooks.example.com/videosdk-webhook",
                "https://[",
                "https://hooks.example.com:99999/v",
                // One character over VideoSDK's 512.
                long_url.as_str(),
            ] {
                for client_webhooks in ["false", "true"] {
                    sets.push(owned(&[
                        ("MeetingBackend", backend),
                        ("WebhookEvents", events),
                        ("WebhookUrl", url),
                        ("AllowClientWebhooks", client_webhooks),
                    ]));
                }
            }
        }
    }
    // One parameter at a time, at and past its bounds.
    for (name, values) in [
        ("TokenTtlSeconds", &["1", "600", "86400", "0", "86401"][..]),
        (
            "RoomTokenTtlSeconds",
            &[
                "", "1", "120", "600", "601", "9999", "86400", "0", "86401", "099", "1.5",
            ],
        ),
        ("SecretRefreshSeconds", &["1", "300", "86400", "0", "86401"]),
        (
            "AllowedOrigins",
            &[
                "*",
                "https://app.example.com",
                "https://a.example,http://localhost:3000",
                "example.com",
                "https://App.Example.com:443",
                "http://[::1]:3000",
                "https://a.example:99999",
                "https://.",
                "https://a..b",
                "https://-",
                "https://a.example,https://a.example",
                "https://a.1",
                "https://a.0x1f",
                "https://999.1.1.1",
                "http://127.0.0.1:8080",
                "https://a.example.",
                "https://a_b.example",
                "https://a.example:0",
                "https://a.example:65535",
                "http://[::1]:65536",
            ],
        ),
        (
            "AllowedRoomOptions",
            &[
                "",
                "autoStartConfig",
                "autoStartConfig,multiComposition",
                "webhook",
            ],
        ),
        ("GroupsClaim", &["cognito:groups", "groups", "my groups"]),
        (
            "VideoSdkApiEndpoint",
            &[
                "https://api.videosdk.live",
                "http://127.0.0.1:9000",
                "ftp://x",
                "https://[",
                "https://:80/v2",
                "http://a.example:99999",
                "https://%zz",
            ],
        ),
        ("AnonymousParticipantIds", &["caller", "generate", "random"]),
    ] {
        for value in values {
            sets.push(vec![(name, (*value).to_owned())]);
        }
    }
    sets
}

/// The first function whose cold start refuses, with the variable its settings code names.
fn cold_start_refusal(deployment: &Deployment) -> Option<(String, &'static str, String)> {
    let mut checked = Vec::new();
    for (function, environment) in deployment.environments() {
        // Most functions get the same environment (the template's Globals): read it once.
        if checked.contains(&environment) {
            continue;
        }
        let lookup = |name: &str| {
            environment.get(name).cloned().or_else(|| {
                LAMBDA_ENVIRONMENT
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| (*value).to_owned())
            })
        };
        if let Err(error) = Settings::from_lookup(lookup) {
            return Some((function, error.variable, error.reason));
        }
        checked.push(environment);
    }
    None
}

/// The parameters `variable` is made from, in any function's environment.
fn parameters_of_variable(template: &Value, variable: &str) -> BTreeSet<String> {
    let globals = get(template, "Globals")
        .and_then(|globals| get(globals, "Function"))
        .and_then(|function| get(function, "Environment"))
        .and_then(|environment| get(environment, "Variables"));
    let mut found = BTreeSet::new();
    let functions = api_tests::template::resources_of_type(template, "AWS::Serverless::Function");
    let own = functions.iter().filter_map(|(_, function)| {
        get(function, "Properties")
            .and_then(|properties| get(properties, "Environment"))
            .and_then(|environment| get(environment, "Variables"))
    });
    for variables in globals.into_iter().chain(own) {
        if let Some(value) = get(variables, variable) {
            found.extend(parameters_of(template, value));
        }
    }
    found
}

#[test]
fn the_template_refuses_at_deploy_time_what_a_cold_start_would_refuse() {
    let template = template();
    let sets = parameter_sets();
    let (mut refused, mut accepted) = (0, 0);
    for set in &sets {
        let overrides: Vec<(&str, &str)> = set
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .collect();
        let deployment = Deployment::new(&template, &overrides);
        let refusals = deployment.refusals();
        match cold_start_refusal(&deployment) {
            Some((function, variable, reason)) => {
                refused += 1;
                let parameters = parameters_of_variable(&template, variable);
                assert!(
                    !parameters.is_empty(),
                    "{overrides:?}: {function} refuses {variable}, which no parameter sets"
                );
                assert!(
                    refusals.iter().any(|refusal| parameters
                        .iter()
                        .any(|parameter| refusal.message.contains(parameter.as_str()))),
                    "{overrides:?} deploys, but {function}'s cold start refuses it ({variable}: \
                     {reason}); the template must refuse it with a message naming one of \
                     {parameters:?}, and refuses only with {refusals:?}"
                );
            }
            None => {
                accepted += 1;
                if deployment.constraint_refusals().is_empty() {
                    let rules = deployment.rule_refusals();
                    assert!(
                        rules.is_empty(),
                        "{overrides:?}: every function starts, but rules refuse: {rules:?}"
                    );
                }
            }
        }
    }
    // Both outcomes are covered, so neither assertion above is vacuous.
    assert!(
        refused > 100 && accepted > 100,
        "{refused} refused, {accepted} accepted"
    );
}

#[test]
fn the_default_parameters_deploy_and_start() {
    let template = template();
    let deployment = Deployment::new(&template, &[]);
    assert_eq!(deployment.refusals(), []);
    assert_eq!(cold_start_refusal(&deployment), None);
}

/// The `Name=value` pairs of every `sam deploy --parameter-overrides` command in the code
/// blocks of the README and `docs/`, with its shell variables and `<placeholders>` given values of their kind.
fn documented_parameter_sets() -> Vec<(String, Vec<(String, String)>)> {
    let root = api_tests::workspace_root();
    let mut pages = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).expect("docs/") {
        let path = entry.expect("an entry").path();
        if path.extension().is_some_and(|extension| extension == "md") {
            pages.push(path);
        }
    }
    let placeholder = regex::Regex::new("<[^>]*>").expect("a pattern");
    let mut sets = Vec::new();
    for page in pages {
        let text = std::fs::read_to_string(&page).expect("a page");
        let lines: Vec<&str> = text.lines().collect();
        let mut in_code = false;
        for (index, line) in lines.iter().enumerate() {
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
            }
            let Some((_, first)) = line
                .split_once("sam deploy --parameter-overrides")
                .filter(|_| in_code)
            else {
                continue;
            };
            let mut command = first.to_owned();
            let mut next = index;
            while command.trim_end().ends_with('\\') {
                command = command.trim_end().trim_end_matches('\\').to_owned();
                next += 1;
                command.push(' ');
                command.push_str(lines[next]);
            }
            let command = command.replace(
                "\"$SECRET_ARN\"",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:videosdk/api-AbCdEf",
            );
            let command = placeholder.replace_all(&command, "placeholder");
            let pairs: Vec<(String, String)> = command
                .split_whitespace()
                .filter_map(|token| token.split_once('='))
                .map(|(name, value)| (name.to_owned(), value.trim_matches('"').to_owned()))
                .collect();
            sets.push((format!("{}:{}", page.display(), index + 1), pairs));
        }
    }
    sets
}

#[test]
fn the_documented_parameter_sets_deploy_and_start() {
    let template = template();
    let sets = documented_parameter_sets();
    assert!(sets.len() >= 3, "the docs' examples: {sets:?}");
    for (place, pairs) in sets {
        let overrides: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        let deployment = Deployment::new(&template, &overrides);
        assert_eq!(deployment.refusals(), [], "{place}: {overrides:?}");
        assert_eq!(
            cold_start_refusal(&deployment),
            None,
            "{place}: {overrides:?}"
        );
    }
}
