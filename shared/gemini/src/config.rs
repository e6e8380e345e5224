//! Client settings from the environment (`GEMINI_*`), with defaults from specs/gemini.md.

use std::time::Duration;

use scenergy_config::{ConfigError, Env};

pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com";
/// GA since 2025-10-02, the cheapest image model; 1K only. Set `GEMINI_IMAGE_MODEL` to
/// `gemini-3-pro-image` or `gemini-3.1-flash-image` for 2K/4K.
pub const DEFAULT_IMAGE_MODEL: &str = "gemini-2.5-flash-image";
pub const DEFAULT_TEXT_MODEL: &str = "gemini-2.5-flash";
pub const DEFAULT_VISION_MODEL: &str = "gemini-2.5-flash";
/// Image calls: 3-pro-image takes 10–30 s typically and minutes in the tail (§5).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
/// Text/vision calls (§5 recommendation).
pub const DEFAULT_ANALYSIS_TIMEOUT: Duration = Duration::from_secs(120);

/// Where and how to call Gemini. Keys are not here: a key pool picks one per call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeminiConfig {
    /// No trailing slash; the simulator's base URL in tests.
    pub base_url: String,
    /// Whole-request timeout for image generation.
    pub timeout: Duration,
    /// Whole-request timeout for text and vision analysis.
    pub analysis_timeout: Duration,
    pub text_model: String,
    pub vision_model: String,
    pub image_model: String,
}

impl Default for GeminiConfig {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            analysis_timeout: DEFAULT_ANALYSIS_TIMEOUT,
            text_model: DEFAULT_TEXT_MODEL.to_owned(),
            vision_model: DEFAULT_VISION_MODEL.to_owned(),
            image_model: DEFAULT_IMAGE_MODEL.to_owned(),
        }
    }
}

fn secs(env: &Env, var: &str, default: Duration) -> Result<Duration, ConfigError> {
    let secs: u64 = env.or(var, default.as_secs())?;
    if secs == 0 {
        return Err(ConfigError::invalid(var, "must be at least 1 second"));
    }
    Ok(Duration::from_secs(secs))
}

impl GeminiConfig {
    /// Reads `GEMINI_API_BASE_URL`, `GEMINI_TIMEOUT_SECS`, `GEMINI_ANALYSIS_TIMEOUT_SECS`,
    /// `GEMINI_TEXT_MODEL`, `GEMINI_VISION_MODEL`, `GEMINI_IMAGE_MODEL`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let d = Self::default();
        let model = |var: &str, default: String| {
            // Accept the `models/<id>` form the SDKs normalise to.
            env.raw(var)
                .map(|v| v.trim().trim_start_matches("models/").to_owned())
                .unwrap_or(default)
        };
        Ok(Self {
            base_url: env
                .url("GEMINI_API_BASE_URL", &["http", "https"])?
                .unwrap_or(d.base_url),
            timeout: secs(env, "GEMINI_TIMEOUT_SECS", d.timeout)?,
            analysis_timeout: secs(env, "GEMINI_ANALYSIS_TIMEOUT_SECS", d.analysis_timeout)?,
            text_model: model("GEMINI_TEXT_MODEL", d.text_model),
            vision_model: model("GEMINI_VISION_MODEL", d.vision_model),
            image_model: model("GEMINI_IMAGE_MODEL", d.image_model),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let c = GeminiConfig::from_env(&Env::from_pairs::<&str, &str>([])).unwrap();
        assert_eq!(c, GeminiConfig::default());
        let env = Env::from_pairs([
            ("GEMINI_API_BASE_URL", "http://127.0.0.1:8089/"),
            ("GEMINI_TIMEOUT_SECS", "5"),
            ("GEMINI_IMAGE_MODEL", "models/gemini-3-pro-image"),
        ]);
        let c = GeminiConfig::from_env(&env).unwrap();
        assert_eq!(c.base_url, "http://127.0.0.1:8089");
        assert_eq!(c.timeout, Duration::from_secs(5));
        assert_eq!(c.image_model, "gemini-3-pro-image");
        let bad = Env::from_pairs([("GEMINI_TIMEOUT_SECS", "0")]);
        assert_eq!(
            GeminiConfig::from_env(&bad).unwrap_err().var(),
            "GEMINI_TIMEOUT_SECS"
        );
    }
}
