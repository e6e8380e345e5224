//! Bearer JWT authentication: HS256 with `AUTH_JWT_SECRET`, `sub` = clientId, `exp` required.
//! The clientId always comes from the token, never from the body alone.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use scenergy_config::{ConfigError, Env, ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::Problem;

/// Longest accepted clientId; it becomes part of Redis keys and object paths.
const MAX_CLIENT_ID: usize = 128;
/// Shortest accepted HS256 secret, in bytes.
const MIN_SECRET: usize = 32;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    exp: u64,
}

/// Checks tokens. Cheap to clone; build once at start-up.
#[derive(Clone)]
pub struct JwtVerifier {
    key: Arc<DecodingKey>,
    validation: Arc<Validation>,
}

impl fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JwtVerifier(HS256)")
    }
}

impl JwtVerifier {
    /// The secret must be at least 32 bytes: HS256 with a short secret can be brute-forced
    /// offline from a single token.
    pub fn new(secret: &SecretString) -> Result<Self, &'static str> {
        if secret.expose_secret().len() < MIN_SECRET {
            return Err("must be at least 32 characters");
        }
        let key = DecodingKey::from_secret(secret.expose_secret().as_bytes())
            .map_err(|_| "is not a usable HMAC key")?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.leeway = 30;
        Ok(Self {
            key: Arc::new(key),
            validation: Arc::new(validation),
        })
    }

    /// From `AUTH_JWT_SECRET`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let secret = env.secret("AUTH_JWT_SECRET")?;
        Self::new(&secret).map_err(|why| ConfigError::invalid("AUTH_JWT_SECRET", why))
    }

    /// The clientId of a valid token.
    pub fn verify(&self, token: &str) -> Result<ClientId, Problem> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
            .map_err(|e| Problem::unauthorized(format!("invalid token: {}", reason(&e))))?;
        ClientId::parse(&data.claims.sub)
            .map_err(|why| Problem::unauthorized(format!("invalid token: sub {why}")))
    }
}

fn reason(e: &jsonwebtoken::errors::Error) -> &'static str {
    use jsonwebtoken::errors::ErrorKind;
    match e.kind() {
        ErrorKind::ExpiredSignature => "expired",
        ErrorKind::InvalidSignature => "bad signature",
        ErrorKind::MissingRequiredClaim(_) => "missing sub or exp",
        ErrorKind::InvalidAlgorithm => "algorithm must be HS256",
        _ => "malformed",
    }
}

/// Issues a token, for the demo CLI and tests (production tokens come from the customer's app).
pub fn mint(
    secret: &SecretString,
    client_id: &str,
    ttl: Duration,
) -> Result<String, jsonwebtoken::errors::Error> {
    let exp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
        + ttl.as_secs();
    let claims = Claims {
        sub: client_id.to_owned(),
        exp,
    };
    let key = EncodingKey::from_secret(secret.expose_secret().as_bytes())?;
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key)
}

/// The authenticated client: `sub` of a valid token.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientId(String);

impl ClientId {
    /// 1–128 characters of `A-Za-z0-9._-@:`, because it ends up in keys and paths.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        if raw.is_empty() || raw.len() > MAX_CLIENT_ID {
            return Err("must be 1-128 characters");
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-@:".contains(&b))
        {
            return Err("may only hold letters, digits and . _ - @ :");
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<S> FromRequestParts<S> for ClientId
where
    JwtVerifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or_else(|| Problem::unauthorized("missing Authorization: Bearer <token>"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Problem::unauthorized("Authorization must be Bearer <token>"))?;
        JwtVerifier::from_ref(state).verify(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> SecretString {
        SecretString::from("0123456789abcdef0123456789abcdef".to_owned())
    }

    #[test]
    fn minted_tokens_verify_and_carry_the_client() {
        let token = mint(&secret(), "acme", Duration::from_secs(60)).unwrap();
        assert_eq!(
            JwtVerifier::new(&secret())
                .unwrap()
                .verify(&token)
                .unwrap()
                .as_str(),
            "acme"
        );
    }

    #[test]
    fn wrong_secret_expiry_and_missing_claims_are_rejected() {
        let verifier = JwtVerifier::new(&secret()).unwrap();
        let other = SecretString::from("another-secret-another-secret-xx".to_owned());
        let forged = mint(&other, "acme", Duration::from_secs(60)).unwrap();
        assert_eq!(verifier.verify(&forged).unwrap_err().status, 401);

        let expired = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &Claims {
                sub: "acme".into(),
                exp: 1_000,
            },
            &EncodingKey::from_secret(secret().expose_secret().as_bytes()).unwrap(),
        )
        .unwrap();
        let err = verifier.verify(&expired).unwrap_err();
        assert_eq!(err.detail.as_deref(), Some("invalid token: expired"));

        let no_exp = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &serde_json::json!({ "sub": "acme" }),
            &EncodingKey::from_secret(secret().expose_secret().as_bytes()).unwrap(),
        )
        .unwrap();
        assert_eq!(verifier.verify(&no_exp).unwrap_err().status, 401);
    }

    #[test]
    fn client_ids_are_restricted_to_key_safe_characters() {
        assert!(ClientId::parse("team-a.b_c@x:1").is_ok());
        assert!(ClientId::parse("").is_err());
        assert!(ClientId::parse("a/b").is_err());
        assert!(ClientId::parse(&"x".repeat(129)).is_err());
    }

    #[test]
    fn short_secrets_stop_start_up_naming_the_variable() {
        let env = Env::from_pairs([("AUTH_JWT_SECRET", "short")]);
        assert_eq!(
            JwtVerifier::from_env(&env).unwrap_err().var(),
            "AUTH_JWT_SECRET"
        );
    }
}
