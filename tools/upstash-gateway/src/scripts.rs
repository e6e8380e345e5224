//! Upstash's Lua shebang quirk. Upstash accepts `#!lua flags=allow-key-locking`; stock Redis 7
//! rejects that flag, so it is stripped before forwarding. Redis then hashes a different text,
//! so a map `sha1(original) → sha1(rewritten)` lets `EVALSHA`, `SCRIPT EXISTS` and the answer of
//! `SCRIPT LOAD` keep speaking in the SHA the client computed.

use std::collections::HashMap;
use std::sync::Mutex;

const UPSTASH_ONLY_FLAG: &str = "allow-key-locking";
/// The map is cleared past this many entries; a lost entry only costs the client a NOSCRIPT.
const MAX_ENTRIES: usize = 10_000;

/// Hex SHA-1 as Redis computes it for the script cache.
pub(crate) fn sha1_hex(script: &[u8]) -> String {
    sha1_smol::Sha1::from(script).digest().to_string()
}

/// The script without Upstash-only flags, or `None` when it needs no change. When no flag is
/// left the shebang line becomes blank, so line numbers in Redis errors stay right.
pub(crate) fn strip_upstash_flags(script: &[u8]) -> Option<Vec<u8>> {
    if !script.starts_with(b"#!") {
        return None;
    }
    let line_end = script
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(script.len());
    let line = std::str::from_utf8(&script[..line_end]).ok()?;
    let (line, cr) = match line.strip_suffix('\r') {
        Some(l) => (l, "\r"),
        None => (line, ""),
    };
    let mut parts = line.split_whitespace();
    let engine = parts.next()?;
    let mut kept: Vec<String> = Vec::new();
    let mut changed = false;
    for part in parts {
        let Some(flags) = part.strip_prefix("flags=") else {
            kept.push(part.to_owned());
            continue;
        };
        let remaining: Vec<&str> = flags
            .split(',')
            .filter(|flag| {
                let upstash_only = *flag == UPSTASH_ONLY_FLAG;
                changed |= upstash_only;
                !upstash_only
            })
            .collect();
        if !remaining.is_empty() {
            kept.push(format!("flags={}", remaining.join(",")));
        }
    }
    if !changed {
        return None;
    }
    let mut out = Vec::with_capacity(script.len());
    if !kept.is_empty() {
        out.extend_from_slice(engine.as_bytes());
        for part in &kept {
            out.push(b' ');
            out.extend_from_slice(part.as_bytes());
        }
        out.extend_from_slice(cr.as_bytes());
    }
    out.extend_from_slice(&script[line_end..]);
    Some(out)
}

/// `sha1(original)` → `sha1(rewritten)` for every script the gateway had to rewrite.
#[derive(Debug, Default)]
pub(crate) struct ShaMap {
    inner: Mutex<HashMap<String, String>>,
}

impl ShaMap {
    /// Rewrites `script` if needed and records the SHA pair; returns `(rewritten, original sha)`.
    pub(crate) fn rewrite(&self, script: &[u8]) -> Option<(Vec<u8>, String)> {
        let rewritten = strip_upstash_flags(script)?;
        let original = sha1_hex(script);
        let mut map = self.lock();
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(original.clone(), sha1_hex(&rewritten));
        Some((rewritten, original))
    }

    /// The SHA Redis knows for a SHA the client sent (unchanged when not rewritten).
    pub(crate) fn translate(&self, sha: &[u8]) -> Option<Vec<u8>> {
        let key = std::str::from_utf8(sha).ok()?.to_ascii_lowercase();
        self.lock().get(&key).map(|s| s.clone().into_bytes())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        // A panic while holding the lock cannot leave the map inconsistent.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_only_the_upstash_flag() {
        assert_eq!(
            strip_upstash_flags(b"#!lua flags=allow-key-locking\nreturn 1").unwrap(),
            b"\nreturn 1"
        );
        assert_eq!(
            strip_upstash_flags(b"#!lua flags=no-writes,allow-key-locking\r\nreturn 1").unwrap(),
            b"#!lua flags=no-writes\r\nreturn 1"
        );
        assert_eq!(
            strip_upstash_flags(b"#!lua flags=no-writes\nreturn 1"),
            None
        );
        assert_eq!(strip_upstash_flags(b"return 1"), None);
    }

    #[test]
    fn sha_map_translates_case_insensitively() {
        let map = ShaMap::default();
        let (rewritten, original) = map
            .rewrite(b"#!lua flags=allow-key-locking\nreturn 1")
            .unwrap();
        assert_eq!(
            original,
            sha1_hex(b"#!lua flags=allow-key-locking\nreturn 1")
        );
        let upper = original.to_ascii_uppercase();
        assert_eq!(
            map.translate(upper.as_bytes()).unwrap(),
            sha1_hex(&rewritten).into_bytes()
        );
        assert_eq!(map.translate(b"0000"), None);
    }

    #[test]
    fn sha1_matches_redis() {
        // `redis-cli SCRIPT LOAD "return 1"`
        assert_eq!(
            sha1_hex(b"return 1"),
            "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"
        );
    }
}
