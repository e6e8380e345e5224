//! The dashboard's pages: the overview of every queue and the key pool, a queue's jobs by
//! state (paged, with lookup by job id or client id), and one job's detail.

use std::fmt::Write as _;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use scenergy_keypool::{KeyHealth, KeyState};
use scenergy_queue::{
    JobId, JobRecord, JobState, ListedJob, Listing, Priority, Queue, QueueStats, now_ms,
};
use serde::Deserialize;

use super::html::{age, esc, page, safe_url, time, url_part};
use super::{AdminState, failure, html, unknown_queue};

/// Jobs per page of a list.
pub(crate) const PAGE_SIZE: u32 = 25;
/// Client lookups scan the jobs hash this many script calls deep per page at most.
const CLIENT_SCAN_CALLS: usize = 20;

/// The lists a queue page can show, in the order of its navigation.
const LISTINGS: [(&str, Listing); 9] = [
    ("waiting", Listing::State(JobState::Waiting)),
    ("urgent", Listing::Waiting(Priority::Urgent)),
    ("normal", Listing::Waiting(Priority::Normal)),
    ("batch", Listing::Waiting(Priority::Batch)),
    ("delayed", Listing::State(JobState::Delayed)),
    ("active", Listing::State(JobState::Active)),
    ("completed", Listing::State(JobState::Completed)),
    ("failed", Listing::State(JobState::Failed)),
    ("cancelled", Listing::State(JobState::Cancelled)),
];

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Notice {
    notice: Option<String>,
}

/// A small form posting one action; `confirm` actions get a confirmation page first.
pub(crate) fn action_button(
    state: &AdminState,
    queue: &str,
    action: &str,
    id: Option<&str>,
    label: &str,
    back: &str,
) -> String {
    let danger = matches!(action, "remove" | "cancel" | "retry-all" | "clean");
    let mut out = format!(
        "<form class=\"inline\" method=\"post\" action=\"/admin/queues/{}/actions\">\
<input type=\"hidden\" name=\"csrf\" value=\"{}\">\
<input type=\"hidden\" name=\"action\" value=\"{}\">\
<input type=\"hidden\" name=\"back\" value=\"{}\">",
        esc(&url_part(queue)),
        esc(state.csrf()),
        esc(action),
        esc(back)
    );
    if let Some(id) = id {
        let _ = write!(
            out,
            "<input type=\"hidden\" name=\"id\" value=\"{}\">",
            esc(id)
        );
    }
    let _ = write!(
        out,
        "<button type=\"submit\"{} data-action=\"{}\">{}</button></form>",
        if danger { " class=\"danger\"" } else { "" },
        esc(action),
        esc(label)
    );
    out
}

fn queue_url(queue: &str) -> String {
    format!("/admin/queues/{}", url_part(queue))
}

fn job_url(queue: &str, id: &str) -> String {
    format!("/admin/queues/{}/jobs/{}", url_part(queue), url_part(id))
}

fn rate(r: Option<f64>) -> String {
    r.map_or_else(|| "–".to_owned(), |r| format!("{:.1} %", r * 100.0))
}

/// `GET /admin/queues`.
pub(crate) async fn overview(State(state): State<AdminState>, Query(q): Query<Notice>) -> Response {
    let now = now_ms();
    let mut body = String::from("<h1>Queues</h1>");
    for queue in state.queues() {
        match queue.stats(now).await {
            Ok(stats) => queue_summary(&mut body, &state, queue.name(), &stats, now),
            Err(e) => return failure("read the queue", &e),
        }
    }
    if let Some(pool) = state.pool() {
        match pool.health().await {
            Ok(health) => keys_table(&mut body, &health, now),
            Err(e) => return failure("read the key pool", &e),
        }
        if let Ok(events) = pool.recent_events(10).await
            && !events.is_empty()
        {
            body.push_str("<h2>Recent key events</h2><table><tr><th>When</th><th>Key</th><th>Reason</th><th>Until</th></tr>");
            for e in events {
                let _ = write!(
                    body,
                    "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                    time(e.at_ms),
                    esc(&e.key_id),
                    esc(e.reason.as_str()),
                    e.until_ms
                        .map_or_else(|| "until re-enabled".to_owned(), time)
                );
            }
            body.push_str("</table>");
        }
    } else {
        body.push_str("<h2>Gemini keys</h2><p class=\"muted\">No key pool: the worker uses the offline renderer.</p>");
    }
    html(
        StatusCode::OK,
        page("Queues", q.notice.as_deref(), true, &body),
    )
}

fn queue_summary(body: &mut String, state: &AdminState, name: &str, s: &QueueStats, now: i64) {
    let c = &s.counts;
    let url = queue_url(name);
    let _ = write!(
        body,
        "<section class=\"queue\" data-queue=\"{}\"><h2><a href=\"{}\">{}</a> {}</h2><div class=\"cards\">",
        esc(name),
        esc(&url),
        esc(name),
        if c.paused {
            "<span class=\"paused\" data-paused=\"1\">paused</span>"
        } else {
            "<span class=\"muted\" data-paused=\"0\">running</span>"
        }
    );
    for (label, key, n) in [
        ("waiting", "waiting", c.waiting()),
        ("urgent", "urgent", c.urgent),
        ("normal", "normal", c.normal),
        ("batch", "batch", c.batch),
        ("delayed", "delayed", c.delayed),
        ("active", "active", c.active),
        ("completed", "completed", c.completed),
        ("failed", "failed", c.failed),
        ("cancelled", "cancelled", c.cancelled),
    ] {
        let _ = write!(
            body,
            "<a class=\"card\" href=\"{}?state={key}\" data-count=\"{key}\"><b>{n}</b><span>{label}</span></a>",
            esc(&url)
        );
    }
    body.push_str("</div>");
    let oldest = s
        .oldest_waiting_age_ms(now)
        .map_or_else(|| "none waiting".to_owned(), age);
    let _ = write!(
        body,
        "<table class=\"rates\"><tr><th></th><th class=\"num\">completed</th><th class=\"num\">failed</th>\
<th class=\"num\">cancelled</th><th class=\"num\">failure rate</th><th class=\"num\">throughput</th></tr>\
<tr data-window=\"1h\"><td>last hour</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{} jobs/h</td></tr>\
<tr data-window=\"24h\"><td>last 24 h</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{:.1} jobs/h</td></tr></table>\
<p>Oldest waiting job: <b data-oldest-waiting>{}</b></p><div class=\"actions\">",
        s.last_hour.completed,
        s.last_hour.failed,
        s.last_hour.cancelled,
        rate(s.last_hour.failure_rate()),
        s.last_hour.finished(),
        s.last_day.completed,
        s.last_day.failed,
        s.last_day.cancelled,
        rate(s.last_day.failure_rate()),
        f64::from(u32::try_from(s.last_day.finished()).unwrap_or(u32::MAX)) / 24.0,
        esc(&oldest)
    );
    let back = "/admin/queues";
    if c.paused {
        body.push_str(&action_button(
            state,
            name,
            "resume",
            None,
            "Resume queue",
            back,
        ));
    } else {
        body.push_str(&action_button(
            state,
            name,
            "pause",
            None,
            "Pause queue",
            back,
        ));
    }
    if c.failed > 0 {
        body.push_str(&action_button(
            state,
            name,
            "retry-all",
            None,
            "Retry all failed",
            back,
        ));
    }
    let _ = write!(
        body,
        "<form class=\"inline\" method=\"post\" action=\"{}/actions\">\
<input type=\"hidden\" name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"action\" value=\"clean\">\
<input type=\"hidden\" name=\"back\" value=\"{back}\">\
<label>Clean finished jobs older than <input type=\"number\" name=\"hours\" min=\"0\" value=\"24\" class=\"hours\"> h</label> \
<button type=\"submit\" class=\"danger\" data-action=\"clean\">Clean</button></form></div></section>",
        esc(&url),
        esc(state.csrf())
    );
}

fn keys_table(body: &mut String, health: &[KeyHealth], now: i64) {
    body.push_str("<h2>Gemini keys</h2><table class=\"keys\"><tr><th>Key</th><th>State</th><th>Cooling until</th><th class=\"num\">Calls</th><th class=\"num\">429s</th></tr>");
    for k in health {
        let (state, until) = match &k.state {
            KeyState::Healthy => ("healthy".to_owned(), String::new()),
            KeyState::Cooling { until_ms } => (
                "cooling".to_owned(),
                format!("{} (in {})", time(*until_ms), age(until_ms - now)),
            ),
            KeyState::Probing { since_ms } => (
                "probing".to_owned(),
                format!("probe since {}", time(*since_ms)),
            ),
            KeyState::Disabled { reason, until_ms } => (
                format!("disabled: {}", reason.as_str()),
                until_ms.map_or_else(|| "until re-enabled".to_owned(), time),
            ),
        };
        let _ = write!(
            body,
            "<tr data-key=\"{}\"><td><code>{}</code></td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&k.id),
            esc(&k.id),
            esc(&state),
            esc(&until),
            k.calls,
            k.rate_limited
        );
    }
    body.push_str("</table>");
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListQuery {
    state: Option<String>,
    page: Option<u64>,
    q: Option<String>,
    cursor: Option<u64>,
    notice: Option<String>,
}

/// `GET /admin/queues/{queue}`: one list, or a lookup when `q` is given.
pub(crate) async fn jobs(
    State(state): State<AdminState>,
    Path(name): Path<String>,
    Query(query): Query<ListQuery>,
) -> Response {
    let Some(queue) = state.queue(&name) else {
        return unknown_queue(&name);
    };
    let now = now_ms();
    let stats = match queue.stats(now).await {
        Ok(s) => s,
        Err(e) => return failure("read the queue", &e),
    };
    let search = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let current = query.state.as_deref().unwrap_or("waiting");
    let Some(&(current, listing)) = LISTINGS.iter().find(|(n, _)| *n == current) else {
        return unknown_queue(&format!("{name} (state {current})"));
    };
    let mut body = format!(
        "<p><a href=\"/admin/queues\">Queues</a> / {}</p><h1>{} {}</h1><nav class=\"states\">",
        esc(&name),
        esc(&name),
        if stats.counts.paused {
            "<span class=\"paused\" data-paused=\"1\">paused</span>"
        } else {
            ""
        }
    );
    let c = &stats.counts;
    let counts = [
        c.waiting(),
        c.urgent,
        c.normal,
        c.batch,
        c.delayed,
        c.active,
        c.completed,
        c.failed,
        c.cancelled,
    ];
    for ((n, _), count) in LISTINGS.iter().zip(counts) {
        let _ = write!(
            body,
            "<a href=\"{}?state={n}\"{}>{n} ({count})</a>",
            esc(&queue_url(&name)),
            if *n == current && search.is_none() {
                " class=\"current\""
            } else {
                ""
            }
        );
    }
    let _ = write!(
        body,
        "</nav><form class=\"actions\" method=\"get\" action=\"{}\"><input type=\"search\" name=\"q\" value=\"{}\" placeholder=\"job id or client id\" size=\"40\"><button type=\"submit\">Find</button></form>",
        esc(&queue_url(&name)),
        esc(search.unwrap_or_default())
    );
    if let Some(search) = search {
        match lookup(&state, queue, search, query.cursor.unwrap_or(0), &mut body).await {
            Ok(Some(redirect)) => return redirect,
            Ok(None) => {}
            Err(e) => return failure("look the job up", &e),
        }
    } else {
        let page_no = query.page.unwrap_or(0);
        let newest_first = matches!(
            listing,
            Listing::State(JobState::Completed | JobState::Failed | JobState::Cancelled)
        );
        let list = match queue
            .list_jobs(
                listing,
                page_no * u64::from(PAGE_SIZE),
                PAGE_SIZE,
                newest_first,
            )
            .await
        {
            Ok(l) => l,
            Err(e) => return failure("list the jobs", &e),
        };
        let back = format!("{}?state={current}&page={page_no}", queue_url(&name));
        let rows: Vec<(Option<&JobRecord>, &ListedJob)> =
            list.jobs.iter().map(|j| (j.record.as_ref(), j)).collect();
        job_table(&mut body, &state, &name, current, &rows, &back, now);
        let pages = list.total.div_ceil(u64::from(PAGE_SIZE)).max(1);
        let _ = write!(
            body,
            "<p class=\"pager\">Page {} of {pages} · {} jobs ",
            page_no + 1,
            list.total
        );
        if page_no > 0 {
            let _ = write!(
                body,
                "<a rel=\"prev\" href=\"{}?state={current}&amp;page={}\">← newer</a> ",
                esc(&queue_url(&name)),
                page_no - 1
            );
        }
        if page_no + 1 < pages {
            let _ = write!(
                body,
                "<a rel=\"next\" href=\"{}?state={current}&amp;page={}\">older →</a>",
                esc(&queue_url(&name)),
                page_no + 1
            );
        }
        body.push_str("</p>");
        if current == "failed" && c.failed > 0 {
            body.push_str(&action_button(
                &state,
                &name,
                "retry-all",
                None,
                "Retry all failed",
                &back,
            ));
        }
    }
    html(
        StatusCode::OK,
        page(&name, query.notice.as_deref(), true, &body),
    )
}

/// A job id goes straight to the job; anything else is a client id, scanned for.
async fn lookup(
    state: &AdminState,
    queue: &Queue,
    search: &str,
    cursor: u64,
    body: &mut String,
) -> Result<Option<Response>, scenergy_queue::QueueError> {
    let name = queue.name();
    if let Ok(id) = JobId::parse(search) {
        if queue.job(&id).await?.is_some() {
            return Ok(Some(
                Redirect::to(&job_url(name, id.as_str())).into_response(),
            ));
        }
        let _ = write!(
            body,
            "<p class=\"error\">No job {} in this queue.</p>",
            esc(search)
        );
        return Ok(None);
    }
    let mut found = Vec::new();
    let mut cursor = cursor;
    for _ in 0..CLIENT_SCAN_CALLS {
        let page = queue.find_by_client(search, cursor).await?;
        found.extend(page.jobs);
        cursor = page.cursor;
        if cursor == 0 || found.len() >= PAGE_SIZE as usize {
            break;
        }
    }
    found.sort_by_key(|r| std::cmp::Reverse(r.created_at));
    let _ = write!(body, "<h2>Jobs of client <code>{}</code></h2>", esc(search));
    let back = format!("{}?q={}", queue_url(name), url_part(search));
    let listed: Vec<ListedJob> = found
        .iter()
        .map(|r| ListedJob {
            id: r.id.clone(),
            score: r.updated_at,
            record: None,
        })
        .collect();
    let rows: Vec<(Option<&JobRecord>, &ListedJob)> =
        found.iter().map(Some).zip(listed.iter()).collect();
    job_table(body, state, name, "search", &rows, &back, now_ms());
    if cursor != 0 {
        let _ = write!(
            body,
            "<p><a rel=\"next\" href=\"{}?q={}&amp;cursor={cursor}\">more of this client's jobs →</a></p>",
            esc(&queue_url(name)),
            esc(&url_part(search))
        );
    }
    Ok(None)
}

/// The actions a job in `state` offers.
fn job_actions(state: &AdminState, queue: &str, job: JobState, id: &str, back: &str) -> String {
    let mut out = String::new();
    let mut add = |action: &str, label: &str| {
        out.push_str(&action_button(state, queue, action, Some(id), label, back));
        out.push(' ');
    };
    match job {
        JobState::Failed => add("retry", "Retry"),
        JobState::Delayed => add("promote", "Promote"),
        _ => {}
    }
    match job {
        JobState::Active => add("cancel", "Cancel"),
        JobState::Waiting | JobState::Delayed => {
            add("cancel", "Cancel");
            add("remove", "Remove");
        }
        JobState::Completed | JobState::Failed | JobState::Cancelled => add("remove", "Remove"),
    }
    out
}

fn job_table(
    body: &mut String,
    state: &AdminState,
    queue: &str,
    list: &str,
    rows: &[(Option<&JobRecord>, &ListedJob)],
    back: &str,
    now: i64,
) {
    if rows.is_empty() {
        body.push_str("<p class=\"muted\" data-empty>No jobs here.</p>");
        return;
    }
    let when = match list {
        "delayed" => "due",
        "active" => "lease until",
        "completed" | "failed" | "cancelled" => "finished",
        "search" => "updated",
        _ => "created",
    };
    let _ = write!(
        body,
        "<table class=\"jobs\"><tr><th>Job</th><th>Type</th><th>Client</th><th>Priority</th><th>State</th><th class=\"num\">Attempts</th><th>{when}</th><th>Error</th><th></th></tr>"
    );
    for (record, listed) in rows {
        let Some(r) = record.or(listed.record.as_ref()) else {
            let _ = write!(
                body,
                "<tr><td><code>{}</code></td><td colspan=\"8\" class=\"muted\">record missing</td></tr>",
                esc(&listed.id)
            );
            continue;
        };
        let at = match list {
            "delayed" | "active" | "completed" | "failed" | "cancelled" => listed.score,
            "search" => r.updated_at,
            _ => r.created_at,
        };
        let _ = write!(
            body,
            "<tr data-job=\"{}\"><td><a href=\"{}\"><code>{}</code></a></td><td>{}</td><td>{}</td><td>{}</td>\
<td class=\"state-{}\">{}</td><td class=\"num\">{}/{}</td><td title=\"{}\">{} ({})</td><td class=\"error\">{}</td><td>{}</td></tr>",
            esc(&r.id),
            esc(&job_url(queue, &r.id)),
            esc(&r.id),
            esc(&r.job_type),
            esc(&r.client_id),
            r.priority.as_str(),
            r.state.as_str(),
            r.state.as_str(),
            r.attempts_made,
            r.attempts,
            time(at),
            time(at),
            if at > now {
                format!("in {}", age(at - now))
            } else {
                format!("{} ago", age(now - at))
            },
            esc(&truncate(r.error.as_deref().unwrap_or_default(), 160)),
            job_actions(state, queue, r.state, &r.id, back)
        );
    }
    body.push_str("</table>");
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max).collect();
    out.push('…');
    out
}

/// Pretty JSON from a record's JSON text (as stored, when it does not parse).
fn pretty(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| text.to_owned())
}

/// `GET /admin/queues/{queue}/jobs/{id}`.
pub(crate) async fn job(
    State(state): State<AdminState>,
    Path((name, id)): Path<(String, String)>,
    Query(q): Query<Notice>,
) -> Response {
    let Some(queue) = state.queue(&name) else {
        return unknown_queue(&name);
    };
    let record = match JobId::parse(&id) {
        Ok(job_id) if job_id.queue() == name => match queue.job(&job_id).await {
            Ok(r) => r,
            Err(e) => return failure("read the job", &e),
        },
        _ => None,
    };
    let Some(r) = record else {
        return html(
            StatusCode::NOT_FOUND,
            page(
                "Job not found",
                q.notice.as_deref(),
                false,
                &format!(
                    "<p><a href=\"{}\">{}</a></p><h1>No job {}</h1><p>It may have been removed or trimmed by retention.</p>",
                    esc(&queue_url(&name)),
                    esc(&name),
                    esc(&id)
                ),
            ),
        );
    };
    let timeline = match queue.timeline(&r).await {
        Ok(t) => t,
        Err(e) => return failure("read the job's events", &e),
    };
    let back = job_url(&name, &r.id);
    let mut body = format!(
        "<p><a href=\"/admin/queues\">Queues</a> / <a href=\"{}\">{}</a></p><h1>Job <code>{}</code></h1>\
<dl class=\"fields\"><dt>State</dt><dd class=\"state-{}\" data-state>{}{}</dd><dt>Type</dt><dd>{}</dd><dt>Client</dt><dd>{}</dd>\
<dt>Priority</dt><dd>{}</dd><dt>Attempts</dt><dd>{} of {} (stalls {} of {} allowed)</dd><dt>Created</dt><dd>{}</dd><dt>Updated</dt><dd>{}</dd>",
        esc(&queue_url(&name)),
        esc(&name),
        esc(&r.id),
        r.state.as_str(),
        r.state.as_str(),
        if r.cancel_requested {
            " (cancel requested)"
        } else {
            ""
        },
        esc(&r.job_type),
        esc(&r.client_id),
        r.priority.as_str(),
        r.attempts_made,
        r.attempts,
        r.stalls,
        r.max_stalls,
        time(r.created_at),
        time(r.updated_at)
    );
    if let Some(key) = &r.idempotency_key {
        let _ = write!(
            body,
            "<dt>Idempotency key</dt><dd><code>{}</code></dd>",
            esc(key)
        );
    }
    body.push_str("</dl><div class=\"actions\">");
    body.push_str(&job_actions(&state, &name, r.state, &r.id, &back));
    body.push_str("</div>");
    if let Some(error) = &r.error {
        let _ = write!(
            body,
            "<h2>Error</h2><pre class=\"error\" data-error>{}</pre>",
            esc(error)
        );
    }
    if let Some(progress) = &r.progress {
        body.push_str("<h2>Progress</h2>");
        if let Ok(p) = serde_json::from_str::<serde_json::Value>(progress)
            && let (Some(done), Some(total)) = (p["completed"].as_u64(), p["total"].as_u64())
        {
            let _ = write!(
                body,
                "<p><progress max=\"{total}\" value=\"{done}\"></progress> {done} of {total} items, {} failed</p>",
                p["failed"].as_u64().unwrap_or(0)
            );
        }
        let _ = write!(body, "<pre>{}</pre>", esc(&pretty(progress)));
    }
    if let Some(result) = &r.result {
        body.push_str("<h2>Result</h2>");
        result_assets(&mut body, result);
        let _ = write!(body, "<pre>{}</pre>", esc(&pretty(result)));
    }
    let _ = write!(
        body,
        "<h2>Payload</h2><pre>{}</pre>",
        esc(&pretty(&r.payload))
    );
    body.push_str("<h2>Timeline</h2><table class=\"timeline\"><tr><th>When</th><th>Event</th><th>To</th></tr>");
    for e in &timeline.entries {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td class=\"state-{}\">{}</td></tr>",
            time(e.at_ms),
            esc(&e.event),
            esc(&e.to),
            esc(&e.to)
        );
    }
    body.push_str("</table>");
    if timeline.truncated {
        body.push_str(
            "<p class=\"muted\">Only the first events were read; later ones are not shown.</p>",
        );
    }
    if timeline.entries.is_empty() {
        body.push_str(
            "<p class=\"muted\">No events left in the stream for this job (it is capped).</p>",
        );
    }
    html(
        StatusCode::OK,
        page(&r.id, q.notice.as_deref(), !r.state.is_finished(), &body),
    )
}

/// Links and thumbnails of an image job's assets; failed items listed with their reasons.
fn result_assets(body: &mut String, result: &str) {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(result) else {
        return;
    };
    if let Some(assets) = value["assets"].as_array().filter(|a| !a.is_empty()) {
        body.push_str("<div class=\"thumbs\">");
        for a in assets {
            let url = a["url"].as_str().unwrap_or_default();
            let caption = format!(
                "{} #{}",
                a["productId"].as_str().unwrap_or_default(),
                a["variant"].as_u64().unwrap_or_default()
            );
            match safe_url(url) {
                Some(url) => {
                    let _ = write!(
                        body,
                        "<figure><a href=\"{}\" target=\"_blank\" rel=\"noopener noreferrer\"><img src=\"{}\" alt=\"{}\" loading=\"lazy\"></a><figcaption>{}</figcaption></figure>",
                        esc(url),
                        esc(url),
                        esc(&caption),
                        esc(&caption)
                    );
                }
                None => {
                    let _ = write!(
                        body,
                        "<figure><figcaption>{}<br><code>{}</code></figcaption></figure>",
                        esc(&caption),
                        esc(url)
                    );
                }
            }
        }
        body.push_str("</div>");
    }
    if let Some(failed) = value["failed"].as_array().filter(|f| !f.is_empty()) {
        body.push_str("<p>Items that failed:</p><ul>");
        for f in failed {
            let _ = write!(
                body,
                "<li>{} #{}: {}</li>",
                esc(f["productId"].as_str().unwrap_or_default()),
                f["variant"].as_u64().unwrap_or_default(),
                esc(f["reason"].as_str().unwrap_or_default())
            );
        }
        body.push_str("</ul>");
    }
}
