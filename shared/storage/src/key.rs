//! [`ObjectKey`]: validated, deterministic object keys.

use std::fmt;
use std::str::FromStr;

use crate::KeyError;

/// S3 allows 1024 bytes; R2 the same.
const MAX_KEY_LEN: usize = 1024;

/// A key that is safe on every backend: `/`-separated segments of ASCII letters, digits, `.`,
/// `_` and `-`, each starting with a letter or digit. That rules out a leading `/`, empty
/// segments, `.` and `..` (so a key can never leave the filesystem backend's directory) and
/// hidden names (which the filesystem backend keeps for its own metadata), and means a key
/// never needs escaping in a URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey(String);

impl ObjectKey {
    /// Validates a key read from elsewhere (a `products.reference_image_key`, a request).
    pub fn parse(key: impl Into<String>) -> Result<Self, KeyError> {
        let key = key.into();
        let fail = |reason| {
            Err(KeyError {
                key: key.clone(),
                reason,
            })
        };
        if key.is_empty() {
            return fail("empty");
        }
        if key.len() > MAX_KEY_LEN {
            return fail("longer than 1024 bytes");
        }
        if key.starts_with('/') {
            return fail("starts with '/'");
        }
        for segment in key.split('/') {
            if let Err(reason) = check_segment(segment) {
                return fail(reason);
            }
        }
        Ok(Self(key))
    }

    /// The key of one generated image: `{client}/{session}/{job}/{product}-{variant}.{ext}`.
    /// Deterministic, so a retried item overwrites its object instead of adding one. Every part
    /// must be a single safe segment (no `/`).
    pub fn asset(
        client_id: &str,
        session_id: &str,
        job_id: &str,
        product_id: &str,
        variant_index: u32,
        ext: &str,
    ) -> Result<Self, KeyError> {
        let key = format!("{client_id}/{session_id}/{job_id}/{product_id}-{variant_index}.{ext}");
        for part in [client_id, session_id, job_id, product_id, ext] {
            if part.contains('/') {
                return Err(KeyError {
                    key,
                    reason: "a part contains '/'",
                });
            }
            if let Err(reason) = check_segment(part) {
                return Err(KeyError { key, reason });
            }
        }
        Self::parse(key)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn check_segment(segment: &str) -> Result<(), &'static str> {
    let Some(first) = segment.chars().next() else {
        return Err("has an empty segment");
    };
    if !first.is_ascii_alphanumeric() {
        // Also catches "." and "..".
        return Err("a segment must start with a letter or digit");
    }
    if !segment
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err("only ASCII letters, digits, '.', '_', '-' and '/' are allowed");
    }
    Ok(())
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for ObjectKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for ObjectKey {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_keys_are_deterministic() {
        let key = ObjectKey::asset("client-a", "s1", "job_9", "sofa.v2", 3, "png").unwrap();
        assert_eq!(key.as_str(), "client-a/s1/job_9/sofa.v2-3.png");
        assert_eq!(
            key,
            ObjectKey::asset("client-a", "s1", "job_9", "sofa.v2", 3, "png").unwrap()
        );
    }

    #[test]
    fn asset_parts_must_be_single_safe_segments() {
        for (client, product) in [
            ("a/b", "p"),
            ("..", "p"),
            ("a", ""),
            ("a", "p q"),
            ("", "p"),
        ] {
            assert!(
                ObjectKey::asset(client, "s", "j", product, 0, "png").is_err(),
                "{client:?} {product:?}"
            );
        }
    }

    #[test]
    fn parse_rejects_unsafe_keys() {
        for bad in [
            "",
            "/abs/key.png",
            "a/../b.png",
            "../b.png",
            "a/./b",
            "a//b",
            "a/b/",
            "a/.hidden",
            "a/b c.png",
            "a/ü.png",
            "a\\b.png",
            "a/b?.png",
        ] {
            assert!(ObjectKey::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        let long = "a".repeat(1025);
        assert!(ObjectKey::parse(long).is_err());
        for good in ["a", "client/refs/sofa.png", "A-1/b_2/c.3.webp"] {
            assert_eq!(ObjectKey::parse(good).unwrap().as_str(), good);
        }
        assert!("x/../y".parse::<ObjectKey>().is_err());
    }
}
