//! The operation scripts, each built once from `lua/_prelude.lua` followed by `lua/<op>.lua`.

use std::sync::LazyLock;

use scenergy_redis::Script;

macro_rules! script {
    ($name:ident, $file:literal) => {
        pub(crate) static $name: LazyLock<Script> = LazyLock::new(|| {
            Script::new(concat!(
                include_str!("../lua/_prelude.lua"),
                include_str!(concat!("../lua/", $file))
            ))
        });
    };
}

script!(ENQUEUE, "enqueue.lua");
script!(CLAIM, "claim.lua");
script!(HEARTBEAT, "heartbeat.lua");
script!(PROGRESS, "progress.lua");
script!(COMPLETE, "complete.lua");
script!(FAIL, "fail.lua");
script!(CANCEL, "cancel.lua");
script!(FINISH_CANCELLED, "finish_cancelled.lua");
script!(RELEASE, "release.lua");
script!(TRIM, "trim.lua");
script!(COUNTS, "counts.lua");
script!(PAUSE, "pause.lua");
// The dashboard's operations (src/admin.rs) and the alert monitor's (src/monitor.rs).
script!(LIST, "list.lua");
script!(FIND_CLIENT, "find_client.lua");
script!(RETRY, "retry.lua");
script!(REMOVE, "remove.lua");
script!(PROMOTE, "promote.lua");
script!(TIMELINE, "timeline.lua");
script!(STATS, "stats.lua");
script!(MONITOR, "monitor.lua");
script!(ALERT_GATE, "alert_gate.lua");
