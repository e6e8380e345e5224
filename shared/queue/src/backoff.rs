//! Retry delays: exponential in the attempt number, with "equal jitter", capped.

/// `backoff_ms * 2^(attempts_made - 1)`, capped at `cap_ms`, then drawn uniformly from its upper
/// half, so retries of jobs that failed together spread out but never come much sooner than the
/// exponential schedule.
pub fn retry_delay_ms(backoff_ms: u64, attempts_made: u32, cap_ms: u64) -> u64 {
    let base = exponential_ms(backoff_ms, attempts_made, cap_ms);
    let half = base / 2;
    half + (rand::random::<u64>() % (base - half + 1))
}

/// The delay without jitter.
pub fn exponential_ms(backoff_ms: u64, attempts_made: u32, cap_ms: u64) -> u64 {
    let exp = attempts_made.saturating_sub(1).min(40);
    backoff_ms.saturating_mul(1_u64 << exp).min(cap_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_per_attempt_and_caps() {
        assert_eq!(exponential_ms(1000, 1, 60_000), 1000);
        assert_eq!(exponential_ms(1000, 2, 60_000), 2000);
        assert_eq!(exponential_ms(1000, 4, 60_000), 8000);
        assert_eq!(exponential_ms(1000, 30, 60_000), 60_000);
        assert_eq!(exponential_ms(1000, u32::MAX, 60_000), 60_000);
    }

    #[test]
    fn jitter_stays_in_the_upper_half() {
        for _ in 0..1000 {
            let d = retry_delay_ms(1000, 3, 60_000);
            assert!((2000..=4000).contains(&d), "{d}");
        }
    }
}
