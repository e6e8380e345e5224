//! Commands refused over REST: those that would change the state of the shared Redis connection
//! or block it. They are answered with `ERR Command is not available: '<cmd>'` and never sent.

/// Commands that are always refused (upper case).
const REFUSED: &[&str] = &[
    // Connection state.
    "MULTI",
    "EXEC",
    "DISCARD",
    "WATCH",
    "UNWATCH",
    "AUTH",
    "HELLO",
    "QUIT",
    "RESET",
    "CLIENT",
    // These turn the connection into a stream of pushes or a replication link.
    "MONITOR",
    "SUBSCRIBE",
    "PSUBSCRIBE",
    "SSUBSCRIBE",
    "UNSUBSCRIBE",
    "PUNSUBSCRIBE",
    "SUNSUBSCRIBE",
    "SYNC",
    "PSYNC",
    // Blocking.
    "BLPOP",
    "BRPOP",
    "BRPOPLPUSH",
    "BLMOVE",
    "BLMPOP",
    "BZPOPMIN",
    "BZPOPMAX",
    "BZMPOP",
    "WAIT",
    "WAITAOF",
];

/// The refusal text for `cmd`, or `None` when it may be forwarded.
pub(crate) fn refusal(cmd: &[Vec<u8>]) -> Option<String> {
    let name = cmd.first()?;
    let upper = name.to_ascii_uppercase();
    let refused = match upper.as_slice() {
        b"SELECT" => select_other_db(cmd),
        b"XREAD" | b"XREADGROUP" => blocks_stream_read(cmd),
        other => REFUSED.iter().any(|r| r.as_bytes() == other),
    };
    refused.then(|| {
        format!(
            "ERR Command is not available: '{}'",
            String::from_utf8_lossy(name)
        )
    })
}

/// `SELECT n` with a number other than 0 (there is one logical database).
fn select_other_db(cmd: &[Vec<u8>]) -> bool {
    select_index(cmd).is_some_and(|db| db != 0)
}

/// The database number of a well-formed `SELECT n`.
pub(crate) fn select_index(cmd: &[Vec<u8>]) -> Option<i64> {
    match cmd {
        [_, db] => std::str::from_utf8(db).ok()?.trim().parse().ok(),
        _ => None,
    }
}

/// `XREAD`/`XREADGROUP` with a `BLOCK` option before `STREAMS`.
fn blocks_stream_read(cmd: &[Vec<u8>]) -> bool {
    cmd.iter()
        .skip(1)
        .take_while(|arg| !arg.eq_ignore_ascii_case(b"STREAMS"))
        .any(|arg| arg.eq_ignore_ascii_case(b"BLOCK"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(parts: &[&str]) -> Vec<Vec<u8>> {
        parts.iter().map(|p| p.as_bytes().to_vec()).collect()
    }

    #[test]
    fn refuses_state_and_blocking_commands_case_insensitively() {
        assert_eq!(
            refusal(&cmd(&["blpop", "q", "0"])).as_deref(),
            Some("ERR Command is not available: 'blpop'")
        );
        assert!(refusal(&cmd(&["Multi"])).is_some());
        assert!(refusal(&cmd(&["CLIENT", "SETNAME", "x"])).is_some());
        assert!(refusal(&cmd(&["GET", "k"])).is_none());
        assert!(refusal(&cmd(&["LPOP", "q"])).is_none());
    }

    #[test]
    fn select_only_zero_passes() {
        assert!(refusal(&cmd(&["SELECT", "0"])).is_none());
        assert!(refusal(&cmd(&["select", "1"])).is_some());
    }

    #[test]
    fn xread_refused_only_with_block_before_streams() {
        assert!(refusal(&cmd(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"])).is_some());
        assert!(
            refusal(&cmd(&[
                "xreadgroup",
                "GROUP",
                "g",
                "c",
                "block",
                "10",
                "STREAMS",
                "s",
                ">"
            ]))
            .is_some()
        );
        assert!(refusal(&cmd(&["XREAD", "COUNT", "1", "STREAMS", "BLOCK", "0"])).is_none());
    }
}
