//! How a variable is read: trimmed, a blank value as unset (so an empty template parameter
//! means "the default"); as a whole number of seconds, or as a flag; and the AWS environment
//! that the groups reaching AWS need.

use std::fmt::Display;
use std::ops::RangeInclusive;

use super::SettingsError;
use crate::aws::environment::AwsEnvironment;

/// A variable that holds a whole number of seconds: its default, and the values it may take.
pub(super) struct Seconds {
    pub(super) name: &'static str,
    pub(super) default: u64,
    pub(super) range: RangeInclusive<u64>,
}

/// The variables, through the lookup the settings are read with.
pub(super) struct Variables<L> {
    lookup: L,
}

impl<L: Fn(&str) -> Option<String>> Variables<L> {
    pub(super) fn new(lookup: L) -> Self {
        Self { lookup }
    }

    /// The value of `name`, trimmed; `None` when unset or blank.
    pub(super) fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    }

    /// The value of `name`, or `default` when unset.
    pub(super) fn get_or(&self, name: &str, default: &str) -> String {
        self.get(name).unwrap_or_else(|| default.to_owned())
    }

    /// The value of `name` (or `default`) as `parse` reads it; its error, when it refuses the
    /// value, is the reason given.
    pub(super) fn parse_or<T, E: Display>(
        &self,
        name: &'static str,
        default: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, SettingsError> {
        parse(&self.get_or(name, default))
            .map_err(|error| SettingsError::new(name, error.to_string()))
    }

    pub(super) fn seconds(&self, seconds: &Seconds) -> Result<u64, SettingsError> {
        let Seconds {
            name,
            default,
            range,
        } = seconds;
        let Some(text) = self.get(name) else {
            return Ok(*default);
        };
        match text.parse::<u64>() {
            Ok(value) if range.contains(&value) => Ok(value),
            _ => Err(SettingsError::new(
                name,
                format!(
                    "{text:?} is not a whole number of seconds from {} to {}",
                    range.start(),
                    range.end()
                ),
            )),
        }
    }

    /// `name` as `true` or `false`, in any case; false when unset.
    pub(super) fn flag(&self, name: &'static str) -> Result<bool, SettingsError> {
        match self.get(name) {
            None => Ok(false),
            Some(flag) if flag.eq_ignore_ascii_case("true") => Ok(true),
            Some(flag) if flag.eq_ignore_ascii_case("false") => Ok(false),
            Some(other) => Err(SettingsError::new(
                name,
                format!("{other:?} is neither true nor false"),
            )),
        }
    }

    /// The AWS environment, needed `to` do something (read a secret, reach a bus): the error
    /// names the first variable missing and says what for.
    pub(super) fn aws(&self, to: &str) -> Result<AwsEnvironment, SettingsError> {
        AwsEnvironment::from_lookup(&self.lookup).map_err(|missing| {
            SettingsError::new(
                missing,
                format!(
                    "not set, and needed to {to} (Lambda sets it for every function; elsewhere, \
                     export AWS credentials and a region)"
                ),
            )
        })
    }
}
