//! Riding out an outage: one step (a database write, an upload, a queue call) is retried with
//! exponential backoff and jitter while its error is transient, for at most a budget. Past the
//! budget the job goes back to the queue, which retries it later and resumes where it stopped.

use std::future::Future;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

const FIRST_DELAY: Duration = Duration::from_millis(200);
const MAX_DELAY: Duration = Duration::from_secs(5);

/// How a retried step ended without success.
#[derive(Debug)]
pub(crate) enum Gave<E> {
    /// A permanent error, or the last transient one when the budget ran out.
    Up(E),
    /// `abort` fired while waiting.
    Aborted,
}

/// The delay before retry number `attempt` (0-based): 200 ms doubling to 5 s, each with up to
/// 50% jitter so that workers recovering together do not retry in step.
pub(crate) fn delay(attempt: u32) -> Duration {
    let base = Duration::from_millis(scenergy_queue::backoff::exponential_ms(
        u64::try_from(FIRST_DELAY.as_millis()).unwrap_or(u64::MAX),
        attempt.saturating_add(1),
        u64::try_from(MAX_DELAY.as_millis()).unwrap_or(u64::MAX),
    ));
    let jitter_ms = rand::random::<u64>() % (u64::try_from(base.as_millis() / 2).unwrap_or(1) + 1);
    base + Duration::from_millis(jitter_ms)
}

/// Runs `op` until it succeeds, fails permanently (`is_transient` false), the `budget` is
/// spent, or `abort` fires.
pub(crate) async fn transient<T, E, F, Fut>(
    what: &str,
    budget: Duration,
    abort: &CancellationToken,
    is_transient: impl Fn(&E) -> bool,
    mut op: F,
) -> Result<T, Gave<E>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: std::fmt::Display,
{
    let deadline = Instant::now() + budget;
    let mut attempt = 0;
    loop {
        let error = tokio::select! {
            () = abort.cancelled() => return Err(Gave::Aborted),
            result = op() => match result {
                Ok(value) => {
                    if attempt > 0 {
                        tracing::info!(step = what, retries = attempt, "recovered");
                    }
                    return Ok(value);
                }
                Err(error) => error,
            },
        };
        let wait = delay(attempt);
        if !is_transient(&error) || Instant::now() + wait > deadline {
            return Err(Gave::Up(error));
        }
        tracing::warn!(step = what, %error, retry_in_ms = wait.as_millis() as u64, "transient failure; retrying");
        attempt += 1;
        tokio::select! {
            () = abort.cancelled() => return Err(Gave::Aborted),
            () = tokio::time::sleep(wait) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[test]
    fn delays_grow_and_are_capped() {
        assert!(delay(0) >= FIRST_DELAY && delay(0) <= FIRST_DELAY * 3 / 2);
        assert!(delay(3) >= Duration::from_millis(1_600));
        assert!(delay(30) <= MAX_DELAY * 3 / 2);
    }

    #[tokio::test(start_paused = true)]
    async fn transient_errors_are_retried_permanent_ones_are_not() {
        let calls = AtomicU32::new(0);
        let abort = CancellationToken::new();
        let out: Result<u32, Gave<String>> = transient(
            "t",
            Duration::from_secs(60),
            &abort,
            |e: &String| e == "busy",
            || {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                async move { if n < 3 { Err("busy".to_owned()) } else { Ok(n) } }
            },
        )
        .await;
        assert_eq!(out.unwrap(), 3);

        let calls = AtomicU32::new(0);
        let out: Result<(), Gave<String>> = transient(
            "t",
            Duration::from_secs(60),
            &abort,
            |e: &String| e == "busy",
            || {
                calls.fetch_add(1, Ordering::SeqCst);
                async { Err("broken".to_owned()) }
            },
        )
        .await;
        assert!(matches!(out, Err(Gave::Up(e)) if e == "broken"));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn the_budget_and_abort_end_the_retries() {
        let abort = CancellationToken::new();
        let calls = AtomicU32::new(0);
        let out: Result<(), Gave<&str>> = transient(
            "t",
            Duration::from_secs(3),
            &abort,
            |_| true,
            || {
                calls.fetch_add(1, Ordering::SeqCst);
                async { Err("down") }
            },
        )
        .await;
        assert!(matches!(out, Err(Gave::Up("down"))));
        let n = calls.load(Ordering::SeqCst);
        assert!((2..=6).contains(&n), "{n} calls in a 3 s budget");

        abort.cancel();
        let out: Result<(), Gave<&str>> = transient(
            "t",
            Duration::from_secs(3),
            &abort,
            |_| true,
            || async { Err("down") },
        )
        .await;
        assert!(matches!(out, Err(Gave::Aborted)));
    }
}
