//! When Gemini's per-day quotas reset: midnight in America/Los_Angeles (specs/gemini.md §5).
//!
//! Computed from the US daylight-saving rule in force since 2007 (PDT from the second Sunday of
//! March, 02:00 local, to the first Sunday of November, 02:00 local) rather than from a tz
//! database, which this workspace does not carry. Midnight is never inside a transition hour.

use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time, Weekday};

/// The first Pacific midnight strictly after `now_ms` (ms since the epoch), in ms.
pub fn next_pacific_midnight(now_ms: i64) -> i64 {
    let now = OffsetDateTime::from_unix_timestamp_nanos(i128::from(now_ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let local = now + Duration::hours(offset_hours(now));
    let tomorrow = local.date().next_day().unwrap_or(local.date());
    let midnight = PrimitiveDateTime::new(tomorrow, Time::MIDNIGHT).assume_utc();
    // The offset that holds at that midnight (standard time guessed first; 8 h later is still
    // the same local night, before any 02:00 transition).
    let utc = midnight - Duration::hours(offset_hours(midnight + Duration::hours(8)));
    i64::try_from(utc.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// −7 during daylight saving time, −8 otherwise.
fn offset_hours(utc: OffsetDateTime) -> i64 {
    let year = utc.year();
    // 02:00 PST = 10:00 UTC; 02:00 PDT = 09:00 UTC.
    let start = nth_sunday(year, Month::March, 2)
        .with_hms(10, 0, 0)
        .expect("valid time");
    let end = nth_sunday(year, Month::November, 1)
        .with_hms(9, 0, 0)
        .expect("valid time");
    let utc = PrimitiveDateTime::new(utc.date(), utc.time());
    if utc >= start && utc < end { -7 } else { -8 }
}

fn nth_sunday(year: i32, month: Month, n: u8) -> Date {
    let first = Date::from_calendar_date(year, month, 1).expect("valid date");
    let to_sunday = (7 - first.weekday().number_days_from_sunday()) % 7;
    let day = 1 + to_sunday + 7 * (n - 1);
    debug_assert_eq!(
        Date::from_calendar_date(year, month, day).map(|d| d.weekday()),
        Ok(Weekday::Sunday)
    );
    Date::from_calendar_date(year, month, day).expect("valid date")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(y: i32, m: Month, d: u8, h: u8, min: u8) -> i64 {
        let t = Date::from_calendar_date(y, m, d)
            .unwrap()
            .with_hms(h, min, 0)
            .unwrap()
            .assume_utc();
        t.unix_timestamp() * 1000
    }

    #[test]
    fn winter_reset_is_08_00_utc() {
        // 2026-01-15 20:00 UTC = 12:00 PST → reset 2026-01-16 08:00 UTC.
        assert_eq!(
            next_pacific_midnight(ms(2026, Month::January, 15, 20, 0)),
            ms(2026, Month::January, 16, 8, 0)
        );
        // 07:59 UTC is still the previous Pacific day.
        assert_eq!(
            next_pacific_midnight(ms(2026, Month::January, 16, 7, 59)),
            ms(2026, Month::January, 16, 8, 0)
        );
    }

    #[test]
    fn summer_reset_is_07_00_utc() {
        assert_eq!(
            next_pacific_midnight(ms(2026, Month::July, 4, 6, 30)),
            ms(2026, Month::July, 4, 7, 0)
        );
        assert_eq!(
            next_pacific_midnight(ms(2026, Month::July, 4, 7, 0)),
            ms(2026, Month::July, 5, 7, 0)
        );
    }

    #[test]
    fn transition_days() {
        // DST starts 2026-03-08: the night before is PST, the reset after it is PDT.
        assert_eq!(
            next_pacific_midnight(ms(2026, Month::March, 8, 12, 0)),
            ms(2026, Month::March, 9, 7, 0)
        );
        assert_eq!(
            next_pacific_midnight(ms(2026, Month::March, 7, 12, 0)),
            ms(2026, Month::March, 8, 8, 0)
        );
        // DST ends 2026-11-01.
        assert_eq!(
            next_pacific_midnight(ms(2026, Month::October, 31, 12, 0)),
            ms(2026, Month::November, 1, 7, 0)
        );
        assert_eq!(
            next_pacific_midnight(ms(2026, Month::November, 1, 12, 0)),
            ms(2026, Month::November, 2, 8, 0)
        );
    }
}
