//! Turns a parsed command into what is sent to Redis: refuses unavailable commands, pins
//! `SELECT 0` to the configured database and applies the Lua shebang rewrite.

use redis::Value;

use crate::args::Command;
use crate::forbidden;
use crate::scripts::ShaMap;

/// A command ready to send, plus how to adjust its reply.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub(crate) args: Command,
    fix: ReplyFix,
}

#[derive(Debug)]
enum ReplyFix {
    None,
    /// `SCRIPT LOAD` of a rewritten script answers with the client's (original) SHA.
    ScriptLoad(String),
}

impl Prepared {
    /// Applies the reply adjustment (only successful replies are touched).
    pub(crate) fn fix_reply(&self, reply: Value) -> Value {
        match (&self.fix, reply) {
            (ReplyFix::ScriptLoad(sha), Value::BulkString(_)) => {
                Value::BulkString(sha.clone().into_bytes())
            }
            (_, reply) => reply,
        }
    }
}

/// Prepares `cmd`, or returns the refusal text.
pub(crate) fn prepare(mut cmd: Command, db: i64, shas: &ShaMap) -> Result<Prepared, String> {
    if let Some(refusal) = forbidden::refusal(&cmd) {
        return Err(refusal);
    }
    let mut fix = ReplyFix::None;
    let name = cmd[0].to_ascii_uppercase();
    match name.as_slice() {
        b"SELECT" if forbidden::select_index(&cmd) == Some(0) => {
            cmd[1] = db.to_string().into_bytes();
        }
        b"EVAL" | b"EVAL_RO" if cmd.len() > 1 => {
            if let Some((rewritten, _)) = shas.rewrite(&cmd[1]) {
                cmd[1] = rewritten;
            }
        }
        b"EVALSHA" | b"EVALSHA_RO" if cmd.len() > 1 => {
            if let Some(sha) = shas.translate(&cmd[1]) {
                cmd[1] = sha;
            }
        }
        b"SCRIPT" if cmd.len() > 1 => {
            let sub = cmd[1].to_ascii_uppercase();
            if sub == b"LOAD" && cmd.len() == 3 {
                if let Some((rewritten, original)) = shas.rewrite(&cmd[2]) {
                    cmd[2] = rewritten;
                    fix = ReplyFix::ScriptLoad(original);
                }
            } else if sub == b"EXISTS" {
                for arg in cmd.iter_mut().skip(2) {
                    if let Some(sha) = shas.translate(arg) {
                        *arg = sha;
                    }
                }
            }
        }
        _ => {}
    }
    Ok(Prepared { args: cmd, fix })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scripts::sha1_hex;

    fn cmd(parts: &[&str]) -> Command {
        parts.iter().map(|p| p.as_bytes().to_vec()).collect()
    }

    #[test]
    fn select_zero_is_pinned_to_the_configured_db() {
        let p = prepare(cmd(&["select", "0"]), 3, &ShaMap::default()).unwrap();
        assert_eq!(p.args, cmd(&["select", "3"]));
        assert!(prepare(cmd(&["select", "2"]), 3, &ShaMap::default()).is_err());
    }

    #[test]
    fn script_load_answers_with_the_original_sha() {
        let shas = ShaMap::default();
        let src = "#!lua flags=allow-key-locking\nreturn 1";
        let p = prepare(cmd(&["script", "load", src]), 0, &shas).unwrap();
        assert_eq!(p.args[2], b"\nreturn 1");
        let fixed = p.fix_reply(Value::BulkString(sha1_hex(b"\nreturn 1").into_bytes()));
        assert_eq!(
            fixed,
            Value::BulkString(sha1_hex(src.as_bytes()).into_bytes())
        );
        let e = prepare(cmd(&["evalsha", &sha1_hex(src.as_bytes()), "0"]), 0, &shas).unwrap();
        assert_eq!(e.args[1], sha1_hex(b"\nreturn 1").into_bytes());
        let x = prepare(
            cmd(&["SCRIPT", "EXISTS", &sha1_hex(src.as_bytes()), "ab"]),
            0,
            &shas,
        )
        .unwrap();
        assert_eq!(x.args[2], sha1_hex(b"\nreturn 1").into_bytes());
        assert_eq!(x.args[3], b"ab");
    }
}
