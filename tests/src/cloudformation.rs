//! What CloudFormation decides about `template.yaml` for given parameter values, before it
//! creates anything: whether each value meets its parameter's constraints (`AllowedValues`,
//! `AllowedPattern`, `MinLength`/`MaxLength`, `MinValue`/`MaxValue`), whether each of the template's `Rules` holds, and
//! the environment each function is then given. Only the intrinsic functions the template uses
//! are evaluated; any other one fails loudly rather than guessing.

use std::collections::BTreeMap;

use serde_norway::Value;

use crate::template::{get, mapping, strings, untag};

/// The value of an expression: CloudFormation's strings, lists of strings and booleans.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Evaluated {
    Text(String),
    List(Vec<String>),
    Bool(bool),
    /// `!Ref AWS::NoValue`: the property is left out.
    NoValue,
}

/// A template and the values of its parameters (the defaults, unless given).
pub struct Deployment<'t> {
    template: &'t Value,
    parameters: BTreeMap<String, String>,
}

/// A check CloudFormation makes before it deploys, which refused the parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The parameter whose constraint failed, or the rule that failed.
    pub check: String,
    /// What CloudFormation shows: the parameter's name with its `ConstraintDescription`, or the
    /// rule's `AssertDescription`.
    pub message: String,
}

/// Values the stack gives its own resources' `!Ref`s, as CloudFormation resolves them.
const RESOURCE_REFS: [(&str, &str); 4] = [
    (
        "VideoSdkSecret",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:VideoSdkSecret-AbCdEf",
    ),
    ("VideoSdkEventBus", "videosdk-token-api-videosdk"),
    ("BansTable", "videosdk-token-api-BansTable-1A2B3C4D5E6F"),
    (
        "WebhookFallbackQueue",
        "https://sqs.us-east-1.amazonaws.com/123456789012/videosdk-token-api-WebhookFallbackQueue",
    ),
];

impl<'t> Deployment<'t> {
    /// `template` with `overrides` (`Name=value`), every other parameter at its default.
    pub fn new(template: &'t Value, overrides: &[(&str, &str)]) -> Self {
        let declared = mapping(
            get(template, "Parameters").expect("the template has Parameters"),
            "Parameters",
        );
        let mut parameters = BTreeMap::new();
        for (name, parameter) in declared {
            let name = name.as_str().expect("a parameter name").to_owned();
            let default = match get(parameter, "Default").map(untag) {
                Some(Value::String(text)) => text.clone(),
                Some(Value::Number(number)) => number.to_string(),
                None => String::new(),
                Some(other) => panic!("{name}: a default of {other:?}"),
            };
            parameters.insert(name, default);
        }
        for (name, value) in overrides {
            assert!(
                parameters.contains_key(*name),
                "no parameter {name} in template.yaml"
            );
            parameters.insert((*name).to_owned(), (*value).to_owned());
        }
        Self {
            template,
            parameters,
        }
    }

    fn parameter(&self, name: &str) -> &Value {
        get(self.template, "Parameters")
            .and_then(|parameters| get(parameters, name))
            .unwrap_or_else(|| panic!("no parameter {name}"))
    }

    fn is_list(&self, name: &str) -> bool {
        get(self.parameter(name), "Type").and_then(Value::as_str) == Some("CommaDelimitedList")
    }

    /// Every check that refuses these values: parameter constraints first, then rules.
    pub fn refusals(&self) -> Vec<Refusal> {
        let mut refusals = self.constraint_refusals();
        refusals.extend(self.rule_refusals());
        refusals
    }

    /// The parameters whose value breaks their own constraints.
    pub fn constraint_refusals(&self) -> Vec<Refusal> {
        let mut refusals = Vec::new();
        for (name, value) in &self.parameters {
            let parameter = self.parameter(name);
            // A list's constraints apply to each member (members trimmed, as CloudFormation does).
            let members: Vec<String> = if self.is_list(name) {
                value
                    .split(',')
                    .map(|member| member.trim().to_owned())
                    .collect()
            } else {
                vec![value.clone()]
            };
            let allowed =
                get(parameter, "AllowedValues").map(|values| strings(values, "AllowedValues"));
            let pattern = get(parameter, "AllowedPattern")
                .and_then(Value::as_str)
                .map(compiled);
            let number = |key| get(parameter, key).and_then(|bound| untag(bound).as_f64());
            let length = value.chars().count() as f64;
            let fits = number("MinLength").is_none_or(|min| length >= min)
                && number("MaxLength").is_none_or(|max| length <= max)
                && members.iter().all(|member| {
                    allowed
                        .as_ref()
                        .is_none_or(|allowed| allowed.contains(member))
                        && pattern
                            .as_ref()
                            .is_none_or(|pattern| pattern.is_match(member))
                })
                && match member_number(value, self.parameter_type(name)) {
                    None => true,
                    Some(Err(())) => false,
                    Some(Ok(number_value)) => {
                        number("MinValue").is_none_or(|min| number_value >= min)
                            && number("MaxValue").is_none_or(|max| number_value <= max)
                    }
                };
            if !fits {
                let description = get(parameter, "ConstraintDescription")
                    .and_then(Value::as_str)
                    .unwrap_or("does not meet its constraints");
                refusals.push(Refusal {
                    check: name.clone(),
                    message: format!("{name} {description}"),
                });
            }
        }
        refusals
    }

    fn parameter_type(&self, name: &str) -> &str {
        get(self.parameter(name), "Type")
            .and_then(Value::as_str)
            .unwrap_or("String")
    }

    /// The rules whose condition holds and one of whose assertions does not.
    pub fn rule_refusals(&self) -> Vec<Refusal> {
        let Some(rules) = get(self.template, "Rules") else {
            return Vec::new();
        };
        let mut refusals = Vec::new();
        for (name, rule) in mapping(rules, "Rules") {
            let name = name.as_str().expect("a rule name");
            let applies =
                get(rule, "RuleCondition").is_none_or(|condition| self.truth(condition, name));
            if !applies {
                continue;
            }
            for assertion in untag(get(rule, "Assertions").expect("a rule's Assertions"))
                .as_sequence()
                .expect("Assertions is a list")
            {
                let assert = get(assertion, "Assert").expect("an assertion's Assert");
                if !self.truth(assert, name) {
                    let message = get(assertion, "AssertDescription")
                        .and_then(Value::as_str)
                        .unwrap_or_else(|| panic!("rule {name}: an assertion with no description"))
                        .to_owned();
                    refusals.push(Refusal {
                        check: name.to_owned(),
                        message,
                    });
                }
            }
        }
        refusals
    }

    fn truth(&self, expression: &Value, context: &str) -> bool {
        match self.evaluate(expression, context) {
            Evaluated::Bool(truth) => truth,
            other => panic!("{context}: {expression:?} is {other:?}, not a condition"),
        }
    }

    fn text(&self, expression: &Value, context: &str) -> String {
        match self.evaluate(expression, context) {
            Evaluated::Text(text) => text,
            other => panic!("{context}: {expression:?} is {other:?}, not a string"),
        }
    }

    fn list(&self, expression: &Value, context: &str) -> Vec<String> {
        match self.evaluate(expression, context) {
            Evaluated::List(list) => list,
            other => panic!("{context}: {expression:?} is {other:?}, not a list"),
        }
    }

    fn arguments<'v>(value: &'v Value, function: &str) -> &'v [Value] {
        untag(value)
            .as_sequence()
            .unwrap_or_else(|| panic!("{function} takes a list, not {value:?}"))
    }

    fn evaluate(&self, expression: &Value, context: &str) -> Evaluated {
        let (function, argument) = match expression {
            Value::Tagged(tagged) => (
                tagged.tag.to_string().trim_start_matches('!').to_owned(),
                &tagged.value,
            ),
            Value::Mapping(map) if map.len() == 1 => {
                let (key, value) = map.iter().next().expect("one entry");
                let key = key.as_str().expect("a key");
                if key == "Ref" || key == "Condition" || key.starts_with("Fn::") {
                    (key.trim_start_matches("Fn::").to_owned(), value)
                } else {
                    panic!("{context}: {expression:?} is no intrinsic function")
                }
            }
            Value::String(text) => return Evaluated::Text(text.clone()),
            Value::Number(number) => return Evaluated::Text(number.to_string()),
            Value::Bool(truth) => return Evaluated::Text(truth.to_string()),
            Value::Sequence(items) => {
                return Evaluated::List(
                    items.iter().map(|item| self.text(item, context)).collect(),
                );
            }
            other => panic!("{context}: cannot evaluate {other:?}"),
        };
        let arguments = || Self::arguments(argument, &function);
        match function.as_str() {
            "Ref" => {
                let name = argument.as_str().expect("Ref names something");
                if name == "AWS::NoValue" {
                    return Evaluated::NoValue;
                }
                if let Some(value) = self.parameters.get(name) {
                    return if self.is_list(name) {
                        Evaluated::List(
                            value
                                .split(',')
                                .map(|member| member.trim().to_owned())
                                .collect(),
                        )
                    } else {
                        Evaluated::Text(value.clone())
                    };
                }
                let (_, value) = RESOURCE_REFS
                    .iter()
                    .find(|(resource, _)| *resource == name)
                    .unwrap_or_else(|| {
                        panic!("{context}: Ref {name}, which this evaluator does not know")
                    });
                Evaluated::Text((*value).to_owned())
            }
            "Condition" => {
                let name = argument.as_str().expect("Condition names one");
                let condition = get(self.template, "Conditions")
                    .and_then(|conditions| get(conditions, name))
                    .unwrap_or_else(|| panic!("no condition {name}"));
                Evaluated::Bool(self.truth(condition, name))
            }
            "Equals" => {
                let [left, right] = arguments() else {
                    panic!("{context}: Equals takes two values")
                };
                Evaluated::Bool(self.text(left, context) == self.text(right, context))
            }
            "Not" => {
                let [inner] = arguments() else {
                    panic!("{context}: Not takes one condition")
                };
                Evaluated::Bool(!self.truth(inner, context))
            }
            "And" => Evaluated::Bool(arguments().iter().all(|inner| self.truth(inner, context))),
            "Or" => Evaluated::Bool(arguments().iter().any(|inner| self.truth(inner, context))),
            "If" => {
                let [condition, then, otherwise] = arguments() else {
                    panic!("{context}: If takes a condition and two values")
                };
                let name = condition.as_str().expect("If names a condition");
                let condition = get(self.template, "Conditions")
                    .and_then(|conditions| get(conditions, name))
                    .unwrap_or_else(|| panic!("no condition {name}"));
                if self.truth(condition, name) {
                    self.evaluate(then, context)
                } else {
                    self.evaluate(otherwise, context)
                }
            }
            "Join" => {
                let [delimiter, items] = arguments() else {
                    panic!("{context}: Join takes a delimiter and a list")
                };
                let delimiter = self.text(delimiter, context);
                Evaluated::Text(self.list(items, context).join(&delimiter))
            }
            "Split" => {
                let [delimiter, text] = arguments() else {
                    panic!("{context}: Split takes a delimiter and a string")
                };
                let delimiter = self.text(delimiter, context);
                Evaluated::List(
                    self.text(text, context)
                        .split(delimiter.as_str())
                        .map(str::to_owned)
                        .collect(),
                )
            }
            "Contains" => {
                let [list, item] = arguments() else {
                    panic!("{context}: Contains takes a list and a string")
                };
                let item = self.text(item, context);
                Evaluated::Bool(self.list(list, context).contains(&item))
            }
            "EachMemberIn" => {
                let [members, allowed] = arguments() else {
                    panic!("{context}: EachMemberIn takes two lists")
                };
                let allowed = self.list(allowed, context);
                Evaluated::Bool(
                    self.list(members, context)
                        .iter()
                        .all(|member| allowed.contains(member)),
                )
            }
            "EachMemberEquals" => {
                let [members, value] = arguments() else {
                    panic!("{context}: EachMemberEquals takes a list and a string")
                };
                let value = self.text(value, context);
                Evaluated::Bool(
                    self.list(members, context)
                        .iter()
                        .all(|member| *member == value),
                )
            }
            other => panic!("{context}: {other} is not evaluated here"),
        }
    }

    /// `expression` (a list, or an intrinsic function that makes one) as CloudFormation resolves
    /// it with these parameters.
    pub fn strings(&self, expression: &Value) -> Vec<String> {
        self.list(expression, "a list")
    }

    /// The environment variables of every function (`Globals` and its own), by resource name.
    pub fn environments(&self) -> BTreeMap<String, BTreeMap<String, String>> {
        let globals = get(self.template, "Globals")
            .and_then(|globals| get(globals, "Function"))
            .and_then(|function| get(function, "Environment"))
            .and_then(|environment| get(environment, "Variables"));
        let mut environments = BTreeMap::new();
        for (name, function) in
            crate::template::resources_of_type(self.template, "AWS::Serverless::Function")
        {
            let own = get(function, "Properties")
                .and_then(|properties| get(properties, "Environment"))
                .and_then(|environment| get(environment, "Variables"));
            let mut variables = BTreeMap::new();
            for source in [globals, own].into_iter().flatten() {
                for (variable, value) in mapping(source, "Variables") {
                    let variable = variable.as_str().expect("a variable name").to_owned();
                    match self.evaluate(value, &variable) {
                        Evaluated::Text(text) => {
                            variables.insert(variable, text);
                        }
                        Evaluated::NoValue => {
                            variables.remove(&variable);
                        }
                        other => panic!("{name}'s {variable} is {other:?}, not a string"),
                    }
                }
            }
            environments.insert(name.to_owned(), variables);
        }
        environments
    }
}

/// `pattern` compiled once per test process: the same few patterns are checked many times.
fn compiled(pattern: &str) -> regex::Regex {
    static COMPILED: std::sync::Mutex<BTreeMap<String, regex::Regex>> =
        std::sync::Mutex::new(BTreeMap::new());
    let mut compiled = COMPILED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    compiled
        .entry(pattern.to_owned())
        .or_insert_with(|| {
            regex::Regex::new(pattern)
                .unwrap_or_else(|error| panic!("AllowedPattern {pattern:?}: {error}"))
        })
        .clone()
}

/// A `Number` parameter's value as a number: `None` for other types, `Err` when not a number.
fn member_number(value: &str, kind: &str) -> Option<Result<f64, ()>> {
    (kind == "Number").then(|| value.trim().parse::<f64>().map_err(|_| ()))
}

/// The parameters an environment value is made from: its `!Ref`s, and the parameters of the
/// conditions its `!If`s test.
pub fn parameters_of(template: &Value, value: &Value) -> Vec<String> {
    let mut found = Vec::new();
    collect_parameters(template, value, &mut found);
    found.sort();
    found.dedup();
    found
}

fn collect_parameters(template: &Value, value: &Value, found: &mut Vec<String>) {
    let declared = |name: &str| {
        get(template, "Parameters").is_some_and(|parameters| get(parameters, name).is_some())
    };
    match value {
        Value::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let tag = tag.trim_start_matches('!');
            if tag == "Ref" {
                if let Some(name) = tagged.value.as_str().filter(|name| declared(name)) {
                    found.push(name.to_owned());
                }
            } else if tag == "If" {
                let arguments = Deployment::arguments(&tagged.value, "If");
                if let Some(condition) = arguments.first().and_then(Value::as_str)
                    && let Some(condition) = get(template, "Conditions")
                        .and_then(|conditions| get(conditions, condition))
                {
                    collect_parameters(template, condition, found);
                }
                for branch in &arguments[1..] {
                    collect_parameters(template, branch, found);
                }
            } else {
                collect_parameters(template, &tagged.value, found);
            }
        }
        Value::Sequence(items) => {
            for item in items {
                collect_parameters(template, item, found);
            }
        }
        Value::Mapping(map) => {
            for (key, item) in map {
                if key.as_str() == Some("Ref") {
                    if let Some(name) = item.as_str().filter(|name| declared(name)) {
                        found.push(name.to_owned());
                    }
                } else {
                    collect_parameters(template, item, found);
                }
            }
        }
        _ => {}
    }
}
