//! Lua scripts: loaded once from their `.lua` file, run by SHA, resent on NOSCRIPT.
//!
//! Scripts are never pre-loaded with `SCRIPT LOAD`: over Upstash a load does not advance the
//! read-your-writes token, so an EVALSHA right after it can land on a replica that lacks the
//! script (specs/upstash.md §3). EVALSHA first and EVAL on NOSCRIPT costs one extra round trip
//! once per script per server, and caches the script as a side effect.

use crate::{Arg, Cmd, Redis, RedisError, Reply, Value};

/// A Lua script with its SHA-1 computed once.
#[derive(Debug, Clone)]
pub struct Script {
    source: &'static str,
    sha: String,
}

impl Script {
    pub fn new(source: &'static str) -> Self {
        Self {
            source,
            sha: sha1_smol::Sha1::from(source).digest().to_string(),
        }
    }

    pub fn sha(&self) -> &str {
        &self.sha
    }

    pub fn source(&self) -> &'static str {
        self.source
    }

    /// Starts a call; add keys and arguments, then [`ScriptCall::run`].
    pub fn call(&self) -> ScriptCall<'_> {
        ScriptCall {
            script: self,
            keys: Vec::new(),
            args: Vec::new(),
        }
    }
}

/// One invocation of a [`Script`]: every key it touches goes through `keys`.
#[derive(Debug, Clone)]
pub struct ScriptCall<'a> {
    script: &'a Script,
    keys: Vec<Arg>,
    args: Vec<Arg>,
}

impl ScriptCall<'_> {
    #[must_use]
    pub fn key(mut self, key: impl Into<Arg>) -> Self {
        self.keys.push(key.into());
        self
    }

    #[must_use]
    pub fn arg(mut self, arg: impl Into<Arg>) -> Self {
        self.args.push(arg.into());
        self
    }

    fn command(&self, by_sha: bool) -> Cmd {
        let head = if by_sha {
            Cmd::new("EVALSHA").arg(self.script.sha.as_str())
        } else {
            Cmd::new("EVAL").arg(self.script.source)
        };
        head.arg(self.keys.len())
            .args(self.keys.iter().cloned())
            .args(self.args.iter().cloned())
    }

    /// Runs the script: EVALSHA, and EVAL if the server does not have it yet.
    pub async fn run(&self, redis: &Redis) -> Result<Value, RedisError> {
        match redis.query(&self.command(true)).await {
            Err(RedisError::Server(e)) if e.is_noscript() => {
                redis.query(&self.command(false)).await
            }
            other => other,
        }
    }
}

/// Runs many script calls in one pipeline. Calls that hit NOSCRIPT did not run, so they are
/// resent with their source in a second pipeline and their replies put back in place.
pub async fn run_all(redis: &Redis, calls: &[ScriptCall<'_>]) -> Result<Vec<Reply>, RedisError> {
    let first: Vec<Cmd> = calls.iter().map(|c| c.command(true)).collect();
    let mut replies = redis.pipeline(&first).await?;
    let missing: Vec<usize> = replies
        .iter()
        .enumerate()
        .filter(|(_, r)| matches!(r, Err(e) if e.is_noscript()))
        .map(|(i, _)| i)
        .collect();
    if !missing.is_empty() {
        let resend: Vec<Cmd> = missing.iter().map(|&i| calls[i].command(false)).collect();
        for (i, reply) in missing.into_iter().zip(redis.pipeline(&resend).await?) {
            replies[i] = reply;
        }
    }
    Ok(replies)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha_matches_redis_script_load() {
        // `redis-cli SCRIPT LOAD "return 1"` prints this SHA.
        assert_eq!(
            Script::new("return 1").sha(),
            "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"
        );
    }

    #[test]
    fn keys_are_counted_before_arguments() {
        let script = Script::new("return KEYS[1]");
        let cmd = script.call().key("a").key("b").arg(7_i64).command(true);
        let parts: Vec<String> = cmd
            .parts()
            .iter()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect();
        assert_eq!(parts[0], "EVALSHA");
        assert_eq!(&parts[2..], ["2", "a", "b", "7"]);
    }
}
