//! `wait`: pauses for `with.seconds` (0-86400), ended early by cancel.

use std::time::Duration;

use super::{StepCall, StepOutcome, StepType};
use crate::template::Quoting;

/// The `with` keys this step reads (the step catalogue's schema must list
/// exactly these).
#[cfg(test)]
pub const WITH_KEYS: &[&str] = &["seconds"];

/// The `wait` step.
#[derive(Debug)]
pub struct Wait;

#[async_trait::async_trait]
impl StepType for Wait {
    fn quoting(&self, _key: &str) -> Quoting {
        Quoting::None
    }

    fn needs_target(&self) -> bool {
        false
    }

    fn idempotent(&self) -> bool {
        true
    }

    async fn run(&self, call: StepCall<'_>) -> StepOutcome {
        let seconds = match call.with.get("seconds") {
            Some(v) => v
                .as_f64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok())),
            None => None,
        };
        let Some(seconds) = seconds.filter(|s| (0.0..=86_400.0).contains(s)) else {
            return StepOutcome::failed("with.seconds must be a number from 0 to 86400", None);
        };
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs_f64(seconds)) => StepOutcome::ok(None),
            () = call.cancel.cancelled() => StepOutcome::failed("interrupted", None),
        }
    }
}
