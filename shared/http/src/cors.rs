//! CORS from `ALLOWED_ORIGINS`: a comma-separated list of origins, or `*`. Unset means no
//! cross-origin access, which is the safe default for an API that takes bearer tokens.

use axum::http::{HeaderName, HeaderValue, Method, header};
use scenergy_config::{ConfigError, Env};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The CORS layer the configuration asks for.
pub fn from_env(env: &Env) -> Result<CorsLayer, ConfigError> {
    let origins = match env.raw("ALLOWED_ORIGINS") {
        None => return Ok(CorsLayer::new()),
        Some(raw) if raw.trim() == "*" => AllowOrigin::any(),
        Some(raw) => {
            let list = raw
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(|o| {
                    if !(o.starts_with("http://") || o.starts_with("https://")) || o.ends_with('/')
                    {
                        return Err(ConfigError::invalid(
                            "ALLOWED_ORIGINS",
                            format!("{o:?} is not an origin like https://app.example.com"),
                        ));
                    }
                    HeaderValue::from_str(o).map_err(|_| {
                        ConfigError::invalid(
                            "ALLOWED_ORIGINS",
                            format!("{o:?} is not a valid header value"),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            AllowOrigin::list(list)
        }
    };
    Ok(CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([Method::GET, Method::POST, Method::DELETE, Method::OPTIONS])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([header::LOCATION, header::RETRY_AFTER])
        .max_age(std::time::Duration::from_secs(600)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_must_look_like_origins() {
        let env = Env::from_pairs([(
            "ALLOWED_ORIGINS",
            "https://app.example.com, http://localhost:3000",
        )]);
        assert!(from_env(&env).is_ok());
        let env = Env::from_pairs([("ALLOWED_ORIGINS", "app.example.com")]);
        assert_eq!(from_env(&env).unwrap_err().var(), "ALLOWED_ORIGINS");
        let env = Env::from_pairs([("ALLOWED_ORIGINS", "https://app.example.com/")]);
        assert!(from_env(&env).is_err());
    }
}
