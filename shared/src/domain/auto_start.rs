//! The create-meeting options that make VideoSDK start paid work by itself: `autoStartConfig`
//! (a recording, an HLS stream, and their transcription and summary, started when a session
//! starts) and `multiComposition` (several recordings or streams of one kind at once). Each is
//! refused unless the operator lists it in `ALLOWED_ROOM_OPTIONS`; where allowed, it is read
//! into the shapes VideoSDK's create-room page documents, unknown fields refused, and sent on as
//! read. A recording's `templateUrl` is not taken: VideoSDK opens that page with a token for
//! the room, so a caller could have it sent anywhere.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The options a caller may send only where the operator allows them, by their body field
/// names: the one list (`ALLOWED_ROOM_OPTIONS`, the template's `AllowedRoomOptions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::EnumIter, strum::IntoStaticStr)]
pub enum GatedOption {
    #[strum(serialize = "autoStartConfig")]
    AutoStartConfig,
    #[strum(serialize = "multiComposition")]
    MultiComposition,
}

impl GatedOption {
    pub fn name(self) -> &'static str {
        self.into()
    }

    pub(crate) fn parse(name: &str) -> Option<Self> {
        use strum::IntoEnumIterator;
        Self::iter().find(|option| option.name() == name)
    }
}

/// The longest summary prompt taken; VideoSDK documents none, a prompt is a sentence or two.
const MAX_PROMPT_LENGTH: usize = 2000;
/// The longest storage path taken (`awsDirPath`).
const MAX_DIR_PATH_LENGTH: usize = 256;

/// `autoStartConfig`: what VideoSDK starts when a session of the room starts.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AutoStartConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) recording: Option<Composition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) hls: Option<Composition>,
}

/// A recording or an HLS stream to start, as VideoSDK's create-room page describes them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Composition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    transcription: Option<Transcription>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    config: Option<CompositionConfig>,
    /// `awsDirPath`: where in the account's storage bucket the file goes.
    #[serde(
        rename = "awsDirPath",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    dir_path: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Transcription {
    enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    summary: Option<Summary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Summary {
    enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prompt: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct CompositionConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    layout: Option<Layout>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    theme: Option<Theme>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mode: Option<Mode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    quality: Option<Quality>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    orientation: Option<Orientation>,
    /// HLS only: whether the stream is also recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    recording: Option<Enabled>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Layout {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    kind: Option<LayoutType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    priority: Option<Priority>,
    /// 1 to 4 ("Number max 4" on the create-room page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    grid_size: Option<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Enabled {
    enabled: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "UPPERCASE")]
enum LayoutType {
    Grid,
    Spotlight,
    Sidebar,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "UPPERCASE")]
enum Priority {
    Speaker,
    Pin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "UPPERCASE")]
enum Theme {
    Dark,
    Light,
    Default,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
enum Mode {
    VideoAndAudio,
    Audio,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
enum Quality {
    Low,
    Med,
    High,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
enum Orientation {
    Portrait,
    Landscape,
}

/// `multiComposition`: which kinds of composition may run more than one at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MultiComposition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) recording: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) hls: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) rtmp: Option<bool>,
}

/// Why serde refused a value, shortened: its messages quote the caller's text.
fn why(error: &serde_json::Error) -> String {
    const MAX: usize = 160;
    let text = error.to_string();
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

impl AutoStartConfig {
    pub(crate) fn from_value(value: &Value) -> Result<Self, String> {
        let config: Self = serde_json::from_value(value.clone()).map_err(|error| why(&error))?;
        if config.recording.is_none() && config.hls.is_none() {
            return Err("names neither recording nor hls".to_owned());
        }
        for composition in [&config.recording, &config.hls].into_iter().flatten() {
            composition.check()?;
        }
        if config
            .recording
            .as_ref()
            .and_then(|recording| recording.config.as_ref())
            .is_some_and(|config| config.recording.is_some())
        {
            return Err("recording.config.recording is for hls only".to_owned());
        }
        Ok(config)
    }
}

impl Composition {
    fn check(&self) -> Result<(), String> {
        let grid = self
            .config
            .as_ref()
            .and_then(|config| config.layout.as_ref())
            .and_then(|layout| layout.grid_size);
        if grid.is_some_and(|size| !(1..=4).contains(&size)) {
            return Err("config.layout.gridSize is a whole number from 1 to 4".to_owned());
        }
        let prompt = self
            .transcription
            .as_ref()
            .and_then(|transcription| transcription.summary.as_ref())
            .and_then(|summary| summary.prompt.as_ref());
        if prompt.is_some_and(|prompt| prompt.chars().count() > MAX_PROMPT_LENGTH) {
            return Err(format!(
                "transcription.summary.prompt is at most {MAX_PROMPT_LENGTH} characters"
            ));
        }
        let plain_path = |path: &String| {
            (1..=MAX_DIR_PATH_LENGTH).contains(&path.len())
                && path
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b))
                && !path.split('/').any(|segment| segment == "..")
        };
        if self.dir_path.as_ref().is_some_and(|path| !plain_path(path)) {
            return Err(format!(
                "awsDirPath is 1 to {MAX_DIR_PATH_LENGTH} of letters, digits, '-', '_', '.' and \
                 '/', with no '..'"
            ));
        }
        Ok(())
    }
}

impl MultiComposition {
    pub(crate) fn from_value(value: &Value) -> Result<Self, String> {
        let multi: Self = serde_json::from_value(value.clone()).map_err(|error| why(&error))?;
        if multi
            == (Self {
                recording: None,
                hls: None,
                rtmp: None,
            })
        {
            return Err("names none of recording, hls and rtmp".to_owned());
        }
        Ok(multi)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_documented_example_reads_and_is_sent_on_as_written() {
        let example = json!({
            "recording": {
                "transcription": {"enabled": true, "summary": {"enabled": true, "prompt": "Write summary in sections"}},
                "config": {"layout": {"type": "GRID", "priority": "SPEAKER", "gridSize": 4},
                           "theme": "DARK", "mode": "video-and-audio", "quality": "high", "orientation": "landscape"},
                "awsDirPath": "meetings/recordings"
            },
            "hls": {
                "transcription": {"enabled": true},
                "config": {"layout": {"type": "SPOTLIGHT"}, "recording": {"enabled": true}}
            }
        });
        let config = AutoStartConfig::from_value(&example).unwrap();
        assert_eq!(serde_json::to_value(&config).unwrap(), example);
        let multi = json!({"recording": true, "rtmp": false});
        assert_eq!(
            serde_json::to_value(MultiComposition::from_value(&multi).unwrap()).unwrap(),
            multi
        );
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            json!(null),
            json!({}),
            json!({"recording": {"templateUrl": "https://attacker.example/t"}}),
            json!({"composite": {}}),
            json!({"recording": {"config": {"layout": {"type": "grid"}}}}),
            json!({"recording": {"config": {"layout": {"gridSize": 5}}}}),
            json!({"recording": {"config": {"layout": {"gridSize": 0}}}}),
            json!({"recording": {"config": {"recording": {"enabled": true}}}}),
            json!({"recording": {"config": {"quality": "ultra"}}}),
            json!({"recording": {"transcription": {"enabled": "true"}}}),
            json!({"recording": {"transcription": {"enabled": true, "summary": {"enabled": true, "prompt": "x".repeat(2001)}}}}),
            json!({"hls": {"awsDirPath": "../other-tenant"}}),
            json!({"hls": {"awsDirPath": "a b"}}),
            json!({"hls": 1}),
        ] {
            assert!(AutoStartConfig::from_value(&bad).is_err(), "{bad}");
        }
        for bad in [
            json!({}),
            json!({"recording": "yes"}),
            json!({"webrtc": true}),
            json!([]),
        ] {
            assert!(MultiComposition::from_value(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn gated_options_are_named_as_in_the_body() {
        assert_eq!(
            GatedOption::parse("autoStartConfig"),
            Some(GatedOption::AutoStartConfig)
        );
        assert_eq!(GatedOption::MultiComposition.name(), "multiComposition");
        assert_eq!(GatedOption::parse("autostartconfig"), None);
    }
}
