//! Test harness: real redis-server, per-test namespaces, an in-process REST gateway.
#![allow(dead_code, unreachable_pub)]

thread_local! {
    /// Namespaces handed out on this test's thread, for [`cleanup`].
    static USED: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A random namespace so parallel tests never touch each other's keys.
pub fn namespace() -> String {
    let ns = format!("test:{:016x}", rand::random::<u64>());
    USED.with(|used| used.borrow_mut().push(ns.clone()));
    ns
}

/// Deletes the pool keys of the namespaces this thread's test used: pool state has no TTL, and
/// the server is shared.
pub async fn cleanup() {
    let spaces: Vec<String> = USED.with(|used| used.borrow_mut().drain(..).collect());
    if spaces.is_empty() {
        return;
    }
    let redis = Harness::tcp().await.redis;
    let mut del = scenergy_redis::Cmd::new("DEL");
    for ns in spaces {
        del = del
            .arg(format!("{{keys:{ns}}}:state"))
            .arg(format!("{{keys:{ns}}}:events"));
    }
    redis.query(&del).await.expect("cleanup DEL");
}

/// Redis over one transport (TCP, or REST through an in-process gateway).
pub use scenergy_testkit::TestRedis as Harness;
