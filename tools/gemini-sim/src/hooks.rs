//! Test hooks: tokens written into the prompt text, `[[sim:NAME]]` or `[[sim:NAME=VALUE]]`,
//! that force one specific outcome for that call. They let client tests reach every branch
//! deterministically without reconfiguring the simulator. Listed in the README.

use std::time::Duration;

/// The hooks found in one request's prompt.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Hooks {
    /// `block=REASON`: 200 with `promptFeedback.blockReason` and no candidates.
    pub(crate) block: Option<String>,
    /// `finish=REASON`: a candidate with this `finishReason` (and no parts, except MAX_TOKENS,
    /// which carries truncated text).
    pub(crate) finish: Option<String>,
    /// `text-only`: STOP with a refusal-style text part and no image.
    pub(crate) text_only: bool,
    /// `malformed`: a 200 whose body is not valid JSON.
    pub(crate) malformed: bool,
    /// `wrong-shape`: valid JSON of the wrong shape.
    pub(crate) wrong_shape: bool,
    /// `mislabel`: PNG bytes declared as `image/jpeg` (seen on gemini-3-pro-image, §3.3).
    pub(crate) mislabel: bool,
    /// `snake`: the response uses snake_case keys.
    pub(crate) snake: bool,
    /// `thought`: a thought text part and a thought image precede the final image.
    pub(crate) thought: bool,
    /// `status=CODE`: answer with that error envelope (403, 404, 429, 500, 503, 504).
    pub(crate) status: Option<u16>,
    /// `quota=day`: a per-day 429 (`limit: 0`).
    pub(crate) quota_day: bool,
    /// `latency=MS`: overrides the configured latency for this call.
    pub(crate) latency: Option<Duration>,
    /// `hold`: behave as a timeout (held, then 504).
    pub(crate) hold: bool,
}

impl Hooks {
    pub(crate) fn parse(prompt: &str) -> Self {
        let mut hooks = Self::default();
        let mut rest = prompt;
        while let Some(start) = rest.find("[[sim:") {
            let after = &rest[start + 6..];
            let Some(end) = after.find("]]") else { break };
            let token = &after[..end];
            rest = &after[end + 2..];
            let (name, value) = token.split_once('=').unwrap_or((token, ""));
            match name.trim() {
                "block" => hooks.block = Some(value_or(value, "PROHIBITED_CONTENT")),
                "finish" => hooks.finish = Some(value_or(value, "SAFETY")),
                "text-only" => hooks.text_only = true,
                "malformed" => hooks.malformed = true,
                "wrong-shape" => hooks.wrong_shape = true,
                "mislabel" => hooks.mislabel = true,
                "snake" => hooks.snake = true,
                "thought" => hooks.thought = true,
                "status" => hooks.status = value.trim().parse().ok(),
                "quota" => hooks.quota_day = value.trim().eq_ignore_ascii_case("day"),
                "latency" => {
                    hooks.latency = value.trim().parse().ok().map(Duration::from_millis);
                }
                "hold" => hooks.hold = true,
                _ => {}
            }
        }
        hooks
    }
}

fn value_or(value: &str, default: &str) -> String {
    let v = value.trim();
    if v.is_empty() { default } else { v }.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_several_hooks() {
        let h =
            Hooks::parse("a chair [[sim:finish=IMAGE_SAFETY]] [[sim:snake]] [[sim:latency=250]]");
        assert_eq!(h.finish.as_deref(), Some("IMAGE_SAFETY"));
        assert!(h.snake);
        assert_eq!(h.latency, Some(Duration::from_millis(250)));
        assert_eq!(Hooks::parse("plain"), Hooks::default());
    }
}
