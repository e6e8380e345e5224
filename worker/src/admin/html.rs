//! HTML building blocks: escaping, the page layout, times and ages. Every value that comes
//! from a job, a queue or a request goes through [`esc`] (or [`attr`]) before it reaches a page.

use std::fmt::Write as _;

/// Escapes text for element content and quoted attribute values.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a query-string or path value (everything but unreserved characters).
pub(crate) fn url_part(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A URL safe to link to or load an image from: only absolute http(s) URLs, so a stored
/// `javascript:` or `data:` value can never become a link.
pub(crate) fn safe_url(url: &str) -> Option<&str> {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then_some(url)
}

/// `2026-12-03 23:50:20Z` from ms since the epoch (UTC, civil calendar).
pub(crate) fn time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// `3d 4h`, `5m 12s`, `800ms`: the two largest units.
pub(crate) fn age(ms: i64) -> String {
    if ms < 1000 {
        return format!("{}ms", ms.max(0));
    }
    let s = ms / 1000;
    let (d, h, m, s) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60, s % 60);
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m {s}s")
    } else {
        format!("{s}s")
    }
}

/// A whole page: title, navigation, an optional notice, the body, and the refresh toggle
/// (shown only when JavaScript runs; the page is complete without it).
pub(crate) fn page(title: &str, notice: Option<&str>, refresh: bool, body: &str) -> String {
    let mut out = String::with_capacity(body.len() + 1024);
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{} · Scenergy queues</title><link rel=\"icon\" href=\"data:,\">\
<link rel=\"stylesheet\" href=\"/admin/static/admin.css\"></head><body>\
<header><a class=\"brand\" href=\"/admin/queues\">Scenergy queues</a>",
        esc(title)
    );
    if refresh {
        out.push_str(
            "<label id=\"auto-refresh\" hidden><input type=\"checkbox\"> auto-refresh (5 s)</label>",
        );
    }
    out.push_str("</header><main>");
    if let Some(notice) = notice {
        let _ = write!(
            out,
            "<p class=\"notice\" role=\"status\">{}</p>",
            esc(notice)
        );
    }
    out.push_str(body);
    out.push_str("</main><script src=\"/admin/static/refresh.js\"></script></body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            esc(r#"<img src=x onerror="a('b')">&"#),
            "&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;"
        );
        assert_eq!(url_part("a b/c?d=é"), "a%20b%2Fc%3Fd%3D%C3%A9");
    }

    #[test]
    fn only_http_urls_are_linked() {
        assert!(safe_url("https://cdn.example/a.png").is_some());
        assert!(safe_url("HTTP://x").is_some());
        assert!(safe_url("javascript:alert(1)").is_none());
        assert!(safe_url("data:image/png;base64,xx").is_none());
        assert!(safe_url("file:///tmp/a.png").is_none());
    }

    #[test]
    fn times_and_ages() {
        assert_eq!(time(0), "1970-01-01 00:00:00Z");
        assert_eq!(time(1_709_251_199_000), "2024-02-29 23:59:59Z");
        assert_eq!(time(951_782_400_000), "2000-02-29 00:00:00Z");
        assert_eq!(age(800), "800ms");
        assert_eq!(age(65_000), "1m 5s");
        assert_eq!(age(3 * 86_400_000 + 4 * 3_600_000), "3d 4h");
    }
}
