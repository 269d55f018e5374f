//! The backends: the part of a function's state (`State<B>`) that differs between functions,
//! built once per cold start from the settings, each with its own implementation of
//! [`Backend`]. A backend is where work leaves the process (VideoSDK's rooms API, its webhook
//! key, EventBridge); the models it works with, with no HTTP and no AWS in them, are in
//! `crate::domain` under the same names (`domain::meetings`, `domain::webhooks`).
//!
//! One folder rather than a `_backend` suffix on each file: the folder is one layer, which
//! `shared/tests/layers.rs` judges by it (a backend may use the settings and the state; the
//! settings, the state and the domain may not name a backend), and its name says the role at
//! every `use`.
//!
//! - [`meetings`]: which room service the meeting functions use, local or VideoSDK.
//! - [`moderation`]: the moderation function's: the meeting backend and its audit bus.
//! - [`webhooks`]: the webhook function's key to verify VideoSDK's webhooks with, and the bus
//!   they go on.
//! - [`NoMeetingBackend`]: get-token's, none.

use crate::settings::Settings;
use crate::state::{Backend, InitError};

pub mod meetings;
pub mod moderation;
pub mod webhooks;

/// get-token's backend: none. A binary whose state has this never links the VideoSDK client.
#[derive(Debug, Clone, Copy)]
pub struct NoMeetingBackend;

impl Backend for NoMeetingBackend {
    fn from_settings(_: &Settings) -> Result<Self, InitError> {
        Ok(Self)
    }
}
