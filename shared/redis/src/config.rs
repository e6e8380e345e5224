//! Choosing a transport from the environment (DESIGN §9).

use std::time::Duration;

use scenergy_config::{ConfigError, Env, ExposeSecret, SecretString};

use crate::{Redis, RedisError, RestConfig, RestTransport, TcpConfig, TcpTransport};

/// Which Redis to use: `UPSTASH_REDIS_REST_URL` + `UPSTASH_REDIS_REST_TOKEN`, or `REDIS_URL`.
#[derive(Debug, Clone)]
pub enum RedisConfig {
    Rest { url: String, token: SecretString },
    Tcp { url: SecretString },
}

impl RedisConfig {
    /// REST wins when both are set, because only the functions set it and they cannot use TCP.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        if let Some(url) = env.url("UPSTASH_REDIS_REST_URL", &["http", "https"])? {
            let token = env.secret("UPSTASH_REDIS_REST_TOKEN")?;
            return Ok(Self::Rest { url, token });
        }
        match env.optional_secret("REDIS_URL")? {
            Some(url) => {
                let text = url.expose_secret();
                if text.starts_with("redis://") || text.starts_with("rediss://") {
                    Ok(Self::Tcp { url })
                } else {
                    Err(ConfigError::invalid(
                        "REDIS_URL",
                        "expected a URL starting with redis:// or rediss://",
                    ))
                }
            }
            None => Err(ConfigError::Missing {
                var: "REDIS_URL (or UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN)"
                    .to_owned(),
            }),
        }
    }
}

/// Builds the transport the configuration names. TCP connects here; REST connects lazily.
pub async fn connect(config: &RedisConfig, timeout: Duration) -> Result<Redis, RedisError> {
    match config {
        RedisConfig::Rest { url, token } => {
            let mut rest = RestConfig::new(url.clone(), token.expose_secret());
            rest.timeout = timeout;
            Ok(Redis::new(RestTransport::new(rest)?))
        }
        RedisConfig::Tcp { url } => {
            let mut tcp = TcpConfig::new(url.expose_secret());
            tcp.response_timeout = timeout;
            Ok(Redis::new(TcpTransport::connect(tcp).await?))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_needs_its_token_and_names_it() {
        let env = Env::from_pairs([("UPSTASH_REDIS_REST_URL", "https://x.upstash.io")]);
        let err = RedisConfig::from_env(&env).unwrap_err();
        assert_eq!(err.var(), "UPSTASH_REDIS_REST_TOKEN");
    }

    #[test]
    fn tcp_url_scheme_is_checked() {
        let env = Env::from_pairs([("REDIS_URL", "http://localhost:6379")]);
        assert_eq!(RedisConfig::from_env(&env).unwrap_err().var(), "REDIS_URL");
        let env = Env::from_pairs([("REDIS_URL", "rediss://:pw@host:6380")]);
        let config = RedisConfig::from_env(&env).unwrap();
        assert!(matches!(config, RedisConfig::Tcp { .. }));
        assert!(
            !format!("{config:?}").contains("pw"),
            "the password stays hidden"
        );
    }

    #[test]
    fn nothing_set_is_a_clear_error() {
        let err = RedisConfig::from_env(&Env::from_pairs::<&str, &str>([])).unwrap_err();
        assert!(err.to_string().contains("REDIS_URL"));
    }
}
