//! Verifying QStash's `Upstash-Signature`: an HS256 JWT signed with the current or the next
//! signing key (both are tried, so keys can be rotated without downtime), issued by
//! `Upstash`, not expired, naming this endpoint's URL when one is configured, and carrying the
//! base64url SHA-256 of the exact request body, so a signature cannot be replayed with another
//! body.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use scenergy_config::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// Clock skew allowed on `exp` and `nbf`.
const LEEWAY_SECS: u64 = 30;

#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    body: String,
}

/// Why a signature was refused (logged; the caller only sees 401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("signature invalid, expired or not from Upstash")]
    Invalid,
    #[error("signature names another URL")]
    WrongUrl,
    #[error("signature is for another body")]
    WrongBody,
}

/// The two signing keys.
#[derive(Clone)]
pub struct Verifier {
    keys: [SecretString; 2],
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("qstash::Verifier")
    }
}

impl Verifier {
    pub fn new(current: SecretString, next: SecretString) -> Self {
        Self {
            keys: [current, next],
        }
    }

    /// Checks `signature` for `body`, and for `url` when given.
    pub fn verify(
        &self,
        signature: &str,
        body: &[u8],
        url: Option<&str>,
    ) -> Result<(), SignatureError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&["Upstash"]);
        validation.set_required_spec_claims(&["iss", "exp", "nbf", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        let claims = self
            .keys
            .iter()
            .find_map(|key| {
                let key = DecodingKey::from_secret(key.expose_secret().as_bytes()).ok()?;
                jsonwebtoken::decode::<Claims>(signature, &key, &validation).ok()
            })
            .ok_or(SignatureError::Invalid)?
            .claims;
        if let Some(url) = url
            && claims.sub.trim_end_matches('/') != url.trim_end_matches('/')
        {
            return Err(SignatureError::WrongUrl);
        }
        let hash = URL_SAFE_NO_PAD.encode(Sha256::digest(body));
        // QStash pads the claim ("…=") although the alphabet is base64url.
        if claims.body.trim_end_matches('=') != hash {
            return Err(SignatureError::WrongBody);
        }
        Ok(())
    }
}

/// Signs like QStash does, valid from now for `ttl_secs`: for tests and local runs.
pub fn sign(key: &SecretString, url: &str, body: &[u8], ttl_secs: u64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    sign_at(key, url, body, now, ttl_secs)
}

fn sign_at(key: &SecretString, url: &str, body: &[u8], now: u64, ttl_secs: u64) -> String {
    #[derive(serde::Serialize)]
    struct Out<'a> {
        iss: &'a str,
        sub: &'a str,
        exp: u64,
        nbf: u64,
        iat: u64,
        jti: String,
        body: String,
    }
    let claims = Out {
        iss: "Upstash",
        sub: url,
        exp: now + ttl_secs,
        nbf: now,
        iat: now,
        jti: format!("jwt_{:016x}", rand::random::<u64>()),
        body: format!("{}=", URL_SAFE_NO_PAD.encode(Sha256::digest(body))),
    };
    jsonwebtoken::EncodingKey::from_secret(key.expose_secret().as_bytes())
        .and_then(|key| {
            jsonwebtoken::encode(&jsonwebtoken::Header::new(Algorithm::HS256), &claims, &key)
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    const URL: &str = "https://worker.example.test/drain";

    #[test]
    fn current_and_next_keys_both_verify() {
        let verifier = Verifier::new(secret("sig_current"), secret("sig_next"));
        for key in ["sig_current", "sig_next"] {
            let sig = sign(&secret(key), URL, b"{}", 300);
            assert_eq!(verifier.verify(&sig, b"{}", Some(URL)), Ok(()));
        }
        let other = sign(&secret("sig_other"), URL, b"{}", 300);
        assert_eq!(
            verifier.verify(&other, b"{}", Some(URL)),
            Err(SignatureError::Invalid)
        );
    }

    #[test]
    fn body_url_expiry_and_garbage_are_refused() {
        let verifier = Verifier::new(secret("sig_current"), secret("sig_next"));
        let sig = sign(&secret("sig_current"), URL, b"{}", 300);
        assert_eq!(
            verifier.verify(&sig, b"{\"x\":1}", Some(URL)),
            Err(SignatureError::WrongBody)
        );
        assert_eq!(
            verifier.verify(&sig, b"{}", Some("https://elsewhere.test/drain")),
            Err(SignatureError::WrongUrl)
        );
        assert_eq!(
            verifier.verify(&sig, b"{}", None),
            Ok(()),
            "no URL configured"
        );
        assert_eq!(
            verifier.verify("not-a-jwt", b"{}", None),
            Err(SignatureError::Invalid)
        );
        let an_hour_ago = sign_at(&secret("sig_current"), URL, b"{}", 1_700_000_000, 300);
        assert_eq!(
            verifier.verify(&an_hour_ago, b"{}", None),
            Err(SignatureError::Invalid),
            "expired"
        );
        let mut tampered = sig.clone();
        tampered.pop();
        assert_eq!(
            verifier.verify(&tampered, b"{}", None),
            Err(SignatureError::Invalid)
        );
    }

    #[test]
    fn a_real_qstash_shaped_token_with_padding_verifies() {
        // The body claim as QStash documents it: base64url with '=' padding.
        let body = b"hello";
        let sig = sign(&secret("k"), URL, body, 60);
        let verifier = Verifier::new(secret("k"), secret("k2"));
        assert_eq!(
            verifier.verify(&sig, body, Some(&format!("{URL}/"))),
            Ok(())
        );
    }
}
