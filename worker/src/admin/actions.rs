//! `POST /admin/queues/{queue}/actions`: the operator actions. Each is one queue script call
//! (a bounded loop of them for retry-all and clean); destructive ones answer with a
//! confirmation page until the form comes back with its box ticked.

use std::fmt::Write as _;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use scenergy_queue::admin::MAX_RETRY_ALL;
use scenergy_queue::{CancelOutcome, JobId, Promotion, Queue, QueueError, Removal, now_ms};
use subtle::ConstantTimeEq;

use super::html::{esc, page, url_part};
use super::{AdminState, failure, html, unknown_queue};

/// The largest form we read.
const MAX_FORM: usize = 4 * 1024;
/// Script calls one retry-all or clean makes at most (each handles up to 1,000 jobs).
const MAX_CALLS: usize = 10;
const HOUR_MS: u64 = 3_600_000;

/// Actions that need a ticked confirmation box.
fn destructive(action: &str) -> bool {
    matches!(action, "remove" | "cancel" | "retry-all" | "clean")
}

/// `application/x-www-form-urlencoded` fields, decoded (the last value of a name wins).
fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    match s.get(i + 1..i + 3).map(|h| u8::from_str_radix(h, 16)) {
                        Some(Ok(b)) => {
                            out.push(b);
                            i += 2;
                        }
                        _ => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A form posted from another site is refused: browsers send `Sec-Fetch-Site` and `Origin`
/// with form posts, and our pages post only to themselves.
fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| rest.trim_end_matches('/') == host)
}

/// Where to go after the action: a dashboard path from the form, or the queue's page.
fn back_to(form: &[(String, String)], queue: &str) -> String {
    match field(form, "back") {
        Some(b)
            if b.starts_with("/admin/queues")
                && !b.contains("//")
                && !b.contains('\\')
                && !b.chars().any(char::is_control) =>
        {
            b.to_owned()
        }
        _ => format!("/admin/queues/{}", url_part(queue)),
    }
}

fn with_notice(back: &str, notice: &str) -> String {
    let sep = if back.contains('?') { '&' } else { '?' };
    format!("{back}{sep}notice={}", url_part(notice))
}

fn refused(status: StatusCode, why: &str, back: &str) -> Response {
    html(
        status,
        page(
            "Refused",
            None,
            false,
            &format!(
                "<h1>Action refused</h1><p class=\"error\">{}</p><p><a href=\"{}\">Back</a></p>",
                esc(why),
                esc(back)
            ),
        ),
    )
}

/// The confirmation page: the same form again, with a required box to tick.
fn confirm_page(state: &AdminState, queue: &str, form: &[(String, String)]) -> Response {
    let action = field(form, "action").unwrap_or_default();
    let id = field(form, "id");
    let what = match (action, id) {
        ("remove", Some(id)) => format!("Remove job {id}? Its record and status are deleted."),
        ("cancel", Some(id)) => {
            format!("Cancel job {id}? A running job stops after its current items.")
        }
        ("retry-all", _) => format!("Retry every failed job in {queue}?"),
        ("clean", _) => format!(
            "Delete the finished jobs of {queue} older than {} h?",
            field(form, "hours").unwrap_or("24")
        ),
        _ => format!("Run {action} on {queue}?"),
    };
    let mut body = format!(
        "<h1>Please confirm</h1><p>{}</p><form method=\"post\" action=\"/admin/queues/{}/actions\">",
        esc(&what),
        esc(&url_part(queue))
    );
    for name in ["action", "id", "back", "hours"] {
        if let Some(v) = field(form, name) {
            let _ = write!(
                body,
                "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
                esc(v)
            );
        }
    }
    let _ = write!(
        body,
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">\
<p><label><input type=\"checkbox\" name=\"confirm\" value=\"yes\" required> Yes, I am sure</label></p>\
<p><button type=\"submit\" class=\"danger\" data-action=\"confirm\">Confirm</button> <a href=\"{}\">Cancel</a></p></form>",
        esc(state.csrf()),
        esc(&back_to(form, queue))
    );
    html(StatusCode::OK, page("Confirm", None, false, &body))
}

/// `POST /admin/queues/{queue}/actions`.
pub(crate) async fn act(
    State(state): State<AdminState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let back = format!("/admin/queues/{}", url_part(&name));
    if body.len() > MAX_FORM {
        return refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            "The form is too large.",
            &back,
        );
    }
    if !same_origin(&headers) {
        return refused(
            StatusCode::FORBIDDEN,
            "The form was posted from another site.",
            &back,
        );
    }
    let form = parse_form(&body);
    let csrf = field(&form, "csrf").unwrap_or_default();
    if !bool::from(csrf.as_bytes().ct_eq(state.csrf().as_bytes())) {
        return refused(
            StatusCode::FORBIDDEN,
            "The form has expired (the worker restarted, or it came from another instance). Reload the page and try again.",
            &back,
        );
    }
    let Some(queue) = state.queue(&name) else {
        return unknown_queue(&name);
    };
    let action = field(&form, "action").unwrap_or_default();
    if destructive(action) && field(&form, "confirm") != Some("yes") {
        return confirm_page(&state, &name, &form);
    }
    let back = back_to(&form, &name);
    match run(queue, action, &form).await {
        Ok(Done { notice, to }) => {
            let to = to.unwrap_or(back);
            Redirect::to(&with_notice(&to, &notice)).into_response()
        }
        Err(ActionError::Bad(why)) => refused(StatusCode::BAD_REQUEST, &why, &back),
        Err(ActionError::Queue(QueueError::NotFound(id))) => refused(
            StatusCode::NOT_FOUND,
            &format!("Job {id} no longer exists."),
            &back,
        ),
        Err(ActionError::Queue(e)) => failure(&format!("run {action}"), &e),
    }
}

struct Done {
    notice: String,
    /// Where to go instead of `back` (a removed job has no page left).
    to: Option<String>,
}

enum ActionError {
    Bad(String),
    Queue(QueueError),
}

impl From<QueueError> for ActionError {
    fn from(e: QueueError) -> Self {
        Self::Queue(e)
    }
}

fn done(notice: impl Into<String>) -> Result<Done, ActionError> {
    Ok(Done {
        notice: notice.into(),
        to: None,
    })
}

async fn run(queue: &Queue, action: &str, form: &[(String, String)]) -> Result<Done, ActionError> {
    let now = now_ms();
    let id = || -> Result<JobId, ActionError> {
        let raw = field(form, "id").unwrap_or_default();
        match JobId::parse(raw) {
            Ok(id) if id.queue() == queue.name() => Ok(id),
            _ => Err(ActionError::Bad(format!(
                "{raw:?} is not a job of this queue."
            ))),
        }
    };
    match action {
        "retry" => {
            let id = id()?;
            let r = queue.retry_failed(std::slice::from_ref(&id), now).await?;
            if r.retried.is_empty() {
                done(format!("Job {id} is not failed; nothing to retry."))
            } else {
                done(format!("Job {id} is waiting again."))
            }
        }
        "retry-all" => {
            let mut total = 0;
            for _ in 0..MAX_CALLS {
                let r = queue.retry_all_failed(MAX_RETRY_ALL, now).await?;
                total += r.retried.len();
                if !r.more {
                    return done(format!("Retried {total} failed jobs."));
                }
            }
            done(format!(
                "Retried {total} failed jobs; more remain, run it again."
            ))
        }
        "remove" => {
            let id = id()?;
            match queue.remove(&id, now).await? {
                Removal::Removed(state) => Ok(Done {
                    notice: format!("Job {id} removed."),
                    to: Some(format!(
                        "/admin/queues/{}?state={}",
                        url_part(queue.name()),
                        state.as_str()
                    )),
                }),
                Removal::RefusedActive => done(format!(
                    "Job {id} is running: cancel it instead of removing it."
                )),
            }
        }
        "promote" => {
            let id = id()?;
            match queue.promote(&id, now).await? {
                Promotion::Promoted => done(format!("Job {id} promoted: it is waiting now.")),
                Promotion::NotDelayed(state) => {
                    done(format!("Job {id} is {}, not delayed.", state.as_str()))
                }
            }
        }
        "cancel" => {
            let id = id()?;
            match queue.cancel(&id, now).await? {
                CancelOutcome::Cancelled => done(format!("Job {id} cancelled.")),
                CancelOutcome::Requested => done(format!(
                    "Cancel requested: job {id} stops after the items in flight."
                )),
                CancelOutcome::AlreadyFinished(state) => {
                    done(format!("Job {id} had already ended ({}).", state.as_str()))
                }
            }
        }
        "pause" | "resume" => {
            let pause = action == "pause";
            let changed = queue.set_paused(pause).await?;
            let what = if pause { "paused" } else { "resumed" };
            if changed {
                done(format!("Queue {} {what}.", queue.name()))
            } else {
                done(format!("Queue {} was already {what}.", queue.name()))
            }
        }
        "clean" => {
            let hours: u64 = field(form, "hours")
                .unwrap_or("24")
                .trim()
                .parse()
                .map_err(|_| {
                    ActionError::Bad("The age must be a whole number of hours.".to_owned())
                })?;
            let mut removed = 0;
            for _ in 0..MAX_CALLS {
                // Only the age counts here; the count limit is retention's business.
                let t = queue
                    .trim(hours.saturating_mul(HOUR_MS), u64::MAX >> 12, now)
                    .await?;
                removed += t.removed;
                if !t.more {
                    break;
                }
            }
            done(format!(
                "Removed {removed} finished jobs older than {hours} h."
            ))
        }
        other => Err(ActionError::Bad(format!("Unknown action {other:?}."))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode_and_the_last_value_wins() {
        let form = parse_form(b"a=1&b=x+y%21&a=2&c&d=%zz&e=%4");
        assert_eq!(field(&form, "a"), Some("2"));
        assert_eq!(field(&form, "b"), Some("x y!"));
        assert_eq!(field(&form, "c"), Some(""));
        assert_eq!(field(&form, "d"), Some("%zz"));
        assert_eq!(field(&form, "e"), Some("%4"));
    }

    #[test]
    fn back_links_stay_on_the_dashboard() {
        let f = |b: &str| back_to(&[("back".to_owned(), b.to_owned())], "images");
        assert_eq!(
            f("/admin/queues/images?state=failed"),
            "/admin/queues/images?state=failed"
        );
        assert_eq!(f("https://evil.example/"), "/admin/queues/images");
        assert_eq!(f("/admin/queues//evil.example"), "/admin/queues/images");
        assert_eq!(f("/elsewhere"), "/admin/queues/images");
    }

    #[test]
    fn cross_site_posts_are_refused() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
        assert!(same_origin(&h));
        h.insert(header::ORIGIN, "http://127.0.0.1:8080".parse().unwrap());
        assert!(same_origin(&h));
        h.insert(header::ORIGIN, "https://evil.example".parse().unwrap());
        assert!(!same_origin(&h));
        h.remove(header::ORIGIN);
        h.insert("sec-fetch-site", "cross-site".parse().unwrap());
        assert!(!same_origin(&h));
    }
}
