//! Where the moderation bans are kept (`BANS_TABLE_NAME`, a DynamoDB table) and the AWS
//! environment that reaches it. Unset, no ban is checked or written: the moderation routes that
//! ban answer 400 `bans_not_configured` (`scripts/dev` runs so, without AWS).

use super::SettingsError;
use super::variables::Variables;
use crate::aws::environment::AwsEnvironment;

pub(super) const VARIABLE: &str = "BANS_TABLE_NAME";

#[derive(Debug, Clone)]
pub(crate) struct BanTableSettings {
    pub(crate) name: String,
    pub(crate) aws: AwsEnvironment,
}

/// `BANS_TABLE_NAME`, when set: a DynamoDB table name (3 to 255 of `[A-Za-z0-9_.-]`) or ARN.
pub(super) fn ban_table(
    vars: &Variables<impl Fn(&str) -> Option<String>>,
) -> Result<Option<BanTableSettings>, SettingsError> {
    let Some(name) = vars.get(VARIABLE) else {
        return Ok(None);
    };
    let is_name = (3..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    let is_arn = name.starts_with("arn:") && name.contains(":table/") && name.len() <= 1024;
    if !(is_name || is_arn) {
        return Err(SettingsError::new(
            VARIABLE,
            "not a DynamoDB table name (3 to 255 letters, digits, '_', '.' or '-') or ARN",
        ));
    }
    let aws = vars.aws(&format!("reach the bans table {name:?}"))?;
    Ok(Some(BanTableSettings { name, aws }))
}

#[cfg(test)]
mod tests {
    use crate::settings::tests::DEV;
    use crate::test_support::settings_from_pairs as settings;

    #[test]
    fn the_bans_table_needs_a_valid_name_and_the_aws_environment() {
        let mut pairs = DEV.to_vec();
        pairs.push(("BANS_TABLE_NAME", "bans"));
        assert_eq!(settings(&pairs).unwrap_err().variable, "AWS_ACCESS_KEY_ID");
        pairs.extend([
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("AWS_REGION", "eu-west-1"),
        ]);
        assert_eq!(settings(&pairs).unwrap().bans.unwrap().name, "bans");
        pairs[2] = ("BANS_TABLE_NAME", "no spaces");
        assert_eq!(settings(&pairs).unwrap_err().variable, "BANS_TABLE_NAME");
        pairs[2] = ("BANS_TABLE_NAME", "ab");
        assert_eq!(settings(&pairs).unwrap_err().variable, "BANS_TABLE_NAME");
    }
}
