//! API keys: read from the environment, identified by a short hash, never printed.

use std::fmt;

use scenergy_config::{ConfigError, Env};
use secrecy::{ExposeSecret, SecretString};

/// The base variable; more keys go in `<BASE>_2`, `<BASE>_3`, …
pub const KEY_VAR: &str = "GOOGLE_AI_STUDIO_API_KEY";
/// Highest suffix scanned.
const MAX_SUFFIX: usize = 100;
/// How far past the first gap we look for stray keys (see [`keys_from_env`]).
const LOOK_PAST_GAP: usize = 10;

/// One Gemini API key. `Debug` and `Display` show only its id.
#[derive(Clone)]
pub struct ApiKey {
    id: String,
    secret: SecretString,
}

impl ApiKey {
    pub fn new(secret: impl Into<String>) -> Self {
        let secret: String = secret.into();
        let digest = sha1_smol::Sha1::from(secret.as_bytes())
            .digest()
            .to_string();
        Self {
            id: digest[..8].to_owned(),
            secret: SecretString::from(secret),
        }
    }

    /// First 8 hex digits of the key's SHA-1: stable across instances, safe in logs and Redis.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The key itself, for the `x-goog-api-key` header and nothing else.
    pub fn secret(&self) -> &SecretString {
        &self.secret
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({})", self.id)
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id)
    }
}

/// `GOOGLE_AI_STUDIO_API_KEY`, then `_2`, `_3`, … up to the first unset suffix.
///
/// Stopping at the first gap keeps the rule simple, but a silently ignored `_5` after an unset
/// `_4` is an outage waiting to happen, so a key set within 10 suffixes past the gap, or `_2`
/// without the base, is an error naming the stray variable. The same key twice is an error too
/// (it would count double against one quota). No keys at all is `Ok(vec![])`.
pub fn keys_from_env(env: &Env) -> Result<Vec<ApiKey>, ConfigError> {
    let var = |n: usize| {
        if n == 1 {
            KEY_VAR.to_owned()
        } else {
            format!("{KEY_VAR}_{n}")
        }
    };
    let mut keys: Vec<ApiKey> = Vec::new();
    let mut n = 1;
    while n <= MAX_SUFFIX {
        let name = var(n);
        let Some(secret) = env.optional_secret(&name)? else {
            break;
        };
        let key = ApiKey::new(secret.expose_secret());
        if keys.iter().any(|k| k.id == key.id) {
            return Err(ConfigError::invalid(&name, "repeats an earlier key"));
        }
        keys.push(key);
        n += 1;
    }
    for stray in n + 1..=n + LOOK_PAST_GAP {
        let name = var(stray);
        if env.raw(&name).is_some() {
            return Err(ConfigError::invalid(
                &name,
                format!(
                    "is set but {} is not; keys must be numbered without gaps",
                    var(n)
                ),
            ));
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_short_sha1_and_secrets_stay_hidden() {
        let key = ApiKey::new("AIzaSecret");
        let sha = sha1_smol::Sha1::from("AIzaSecret").digest().to_string();
        assert_eq!(key.id(), &sha[..8]);
        assert!(!format!("{key:?} {key}").contains("AIza"));
        assert_eq!(key.secret().expose_secret(), "AIzaSecret");
    }

    #[test]
    fn reads_numbered_keys_in_order() {
        let env = Env::from_pairs([
            ("GOOGLE_AI_STUDIO_API_KEY", "a"),
            ("GOOGLE_AI_STUDIO_API_KEY_2", "b"),
            ("GOOGLE_AI_STUDIO_API_KEY_3", "c"),
        ]);
        let keys = keys_from_env(&env).unwrap();
        let secrets: Vec<&str> = keys.iter().map(|k| k.secret().expose_secret()).collect();
        assert_eq!(secrets, ["a", "b", "c"]);
        assert!(
            keys_from_env(&Env::from_pairs::<&str, &str>([]))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn gaps_and_duplicates_are_errors_naming_the_variable() {
        let env = Env::from_pairs([
            ("GOOGLE_AI_STUDIO_API_KEY", "a"),
            ("GOOGLE_AI_STUDIO_API_KEY_2", "b"),
            ("GOOGLE_AI_STUDIO_API_KEY_4", "d"),
        ]);
        assert_eq!(
            keys_from_env(&env).unwrap_err().var(),
            "GOOGLE_AI_STUDIO_API_KEY_4"
        );
        let env = Env::from_pairs([("GOOGLE_AI_STUDIO_API_KEY_2", "b")]);
        assert_eq!(
            keys_from_env(&env).unwrap_err().var(),
            "GOOGLE_AI_STUDIO_API_KEY_2"
        );
        let env = Env::from_pairs([
            ("GOOGLE_AI_STUDIO_API_KEY", "a"),
            ("GOOGLE_AI_STUDIO_API_KEY_2", "a"),
        ]);
        assert_eq!(
            keys_from_env(&env).unwrap_err().var(),
            "GOOGLE_AI_STUDIO_API_KEY_2"
        );
    }
}
