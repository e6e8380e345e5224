//! Queue names, job ids and key names.
//!
//! Every key of queue `Q` starts with the hash tag `{q:Q}`, so a queue lives in one cluster
//! slot. Status keys are `job-status:{q:Q}:<jobId>`: the tag sits inside the key, so scripts
//! can write them too, deriving each from the prefix `job-status:{q:Q}:` they get in KEYS.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::QueueError;

/// Crockford's base32 alphabet, lowercase: sortable, no i, l, o, u.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// Characters after `<queue>_`: 10 for the time in ms, 16 random.
const ID_CHARS: usize = 26;
const MAX_QUEUE_NAME: usize = 48;

/// Checks a queue name: 1–48 characters of `a-z`, `0-9`, `-`.
pub fn validate_queue_name(name: &str) -> Result<(), QueueError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_QUEUE_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(QueueError::InvalidQueueName(name.to_owned()))
    }
}

/// A job id, `<queue>_<26 base32 characters>` (time then randomness, so ids sort by creation).
/// The queue is part of the id so a status reader finds the status key from the id alone.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(String);

impl JobId {
    /// A fresh id for a job of `queue` (which must be valid).
    pub fn generate(queue: &str) -> Self {
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let random: u128 = rand::random();
        let mut id = String::with_capacity(queue.len() + 1 + ID_CHARS);
        id.push_str(queue);
        id.push('_');
        for i in (0..10).rev() {
            id.push(char::from(ALPHABET[((millis >> (i * 5)) & 31) as usize]));
        }
        for i in 0..16 {
            id.push(char::from(ALPHABET[((random >> (i * 5)) & 31) as usize]));
        }
        Self(id)
    }

    /// Validates an id from outside (an API path, a status request).
    pub fn parse(s: &str) -> Result<Self, QueueError> {
        let invalid = || QueueError::InvalidJobId(s.to_owned());
        let (queue, rest) = s.split_once('_').ok_or_else(invalid)?;
        validate_queue_name(queue).map_err(|_| invalid())?;
        if rest.len() != ID_CHARS || !rest.bytes().all(|b| ALPHABET.contains(&b)) {
            return Err(invalid());
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The queue this job belongs to.
    pub fn queue(&self) -> &str {
        self.0.split_once('_').map_or("", |(q, _)| q)
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for JobId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// The status key of a job: `job-status:{q:<queue>}:<jobId>`.
pub fn status_key(job_id: &JobId) -> String {
    format!("job-status:{{q:{}}}:{job_id}", job_id.queue())
}

/// The key names of one queue.
#[derive(Debug, Clone)]
pub struct Keys {
    tag: String,
    /// In the order of the shared KEYS layout (lua/_prelude.lua).
    pub(crate) shared: [String; 14],
}

impl Keys {
    pub fn new(queue: &str) -> Self {
        let tag = format!("{{q:{queue}}}");
        let k = |suffix: &str| format!("{tag}:{suffix}");
        let shared = [
            k("jobs"),
            k("ready:urgent"),
            k("ready:normal"),
            k("ready:batch"),
            k("fair"),
            k("delayed"),
            k("active"),
            k("completed"),
            k("failed"),
            k("cancelled"),
            k("meta"),
            k("events"),
            k("wake"),
            format!("job-status:{tag}:"),
        ];
        Self { tag, shared }
    }

    pub fn jobs(&self) -> &str {
        &self.shared[0]
    }
    pub fn ready(&self, priority: crate::Priority) -> &str {
        &self.shared[1 + priority as usize]
    }
    pub fn fair(&self) -> &str {
        &self.shared[4]
    }
    pub fn delayed(&self) -> &str {
        &self.shared[5]
    }
    pub fn active(&self) -> &str {
        &self.shared[6]
    }
    /// The finished set of a finished state (`None` for live states).
    pub fn finished(&self, state: crate::JobState) -> Option<&str> {
        match state {
            crate::JobState::Completed => Some(&self.shared[7]),
            crate::JobState::Failed => Some(&self.shared[8]),
            crate::JobState::Cancelled => Some(&self.shared[9]),
            _ => None,
        }
    }
    pub fn meta(&self) -> &str {
        &self.shared[10]
    }
    pub fn events(&self) -> &str {
        &self.shared[11]
    }
    pub fn wake(&self) -> &str {
        &self.shared[12]
    }
    pub fn status_prefix(&self) -> &str {
        &self.shared[13]
    }
    /// `{q:Q}:idem:<clientId>:<key>`.
    pub fn idempotency(&self, client_id: &str, key: &str) -> String {
        format!("{}:idem:{client_id}:{key}", self.tag)
    }
    /// A key in this queue's slot for callers' own bookkeeping (tests, benchmarks).
    pub fn custom(&self, suffix: &str) -> String {
        format!("{}:{suffix}", self.tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_and_name_their_queue() {
        let id = JobId::generate("images");
        assert_eq!(JobId::parse(id.as_str()).unwrap(), id);
        assert_eq!(id.queue(), "images");
        assert_eq!(id.as_str().len(), "images_".len() + ID_CHARS);
        assert!(status_key(&id).starts_with("job-status:{q:images}:images_"));
        assert_eq!(
            Keys::new("images").status_prefix(),
            "job-status:{q:images}:"
        );
    }

    #[test]
    fn ids_sort_by_time() {
        let a = JobId::generate("q");
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(JobId::generate("q") > a);
    }

    #[test]
    fn rejects_malformed_ids() {
        for bad in [
            "",
            "images",
            "images_",
            "Images_0123456789abcdefghjkmnpqrs",
            "images_0123456789ABCDEFGHJKMNPQRS",
            "images_0123456789abcdefghjkmnpqr",
            "im ages_0123456789abcdefghjkmnpqrs",
            "images_0123456789abcdefghjkmnpqru",
        ] {
            assert!(JobId::parse(bad).is_err(), "{bad}");
        }
        assert!(JobId::parse("images_0123456789abcdefghjkmnpqrs").is_ok());
    }

    #[test]
    fn queue_names() {
        assert!(validate_queue_name("images-2").is_ok());
        for bad in ["", "Images", "a_b", "a{b}", &"x".repeat(49)] {
            assert!(validate_queue_name(bad).is_err(), "{bad}");
        }
    }
}
