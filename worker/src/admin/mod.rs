//! The queue dashboard at `/admin/queues` (issue #8), in the spirit of Bull Board: per-queue
//! counts, throughput and failure rates, the oldest waiting job, the key pool's health, job
//! lists by state with lookup by job id or client id, a job's detail with its event timeline,
//! and the operator actions (retry one or all failed, remove, promote, cancel, pause, resume,
//! clean). Plain server-rendered HTML; a few lines of JavaScript only for auto-refresh.
//!
//! - **Switch:** `ENABLE_BULL_BOARD=true`; off, every `/admin/*` path is a 404 ([`routes`]).
//! - **Auth:** `ADMIN_TOKEN`, as `Authorization: Bearer <token>` or HTTP basic with any user
//!   and the token as the password; a refusal carries `WWW-Authenticate: Basic` so a browser
//!   prompts.
//! - **Forms:** every action is a POST carrying the process's CSRF token, checked in constant
//!   time, and refused when `Origin` or `Sec-Fetch-Site` name another site. Destructive actions
//!   (remove, cancel, retry all, clean) need a ticked confirmation box; without it the server
//!   answers with a confirmation page.
//! - Every action goes through a queue script (`scenergy_queue`), never ad-hoc Redis commands.
//!
//! # Layout
//! - `mod.rs`: [`AdminConfig`], [`AdminState`], [`router`], auth and the security headers.
//! - `pages.rs`: the overview, the job lists and the job detail.
//! - `actions.rs`: the POST actions and their confirmation page.
//! - `html.rs`: escaping, layout, times. `static/`: the stylesheet and the refresh script.

mod actions;
mod html;
mod pages;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use scenergy_config::{ConfigError, Env, ExposeSecret, SecretString};
use scenergy_keypool::KeyPool;
use scenergy_queue::Queue;
use subtle::ConstantTimeEq;

/// The shortest `ADMIN_TOKEN`: it guards actions that delete jobs.
pub const MIN_ADMIN_TOKEN: usize = 16;
/// `Content-Security-Policy` of every page: our own stylesheet and script only, forms posting
/// back here, images from anywhere (asset thumbnails live on the storage's public URL).
const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src * data:; \
                   form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The dashboard's settings: present only when `ENABLE_BULL_BOARD` is on.
#[derive(Debug, Clone)]
pub struct AdminConfig {
    /// `ADMIN_TOKEN`.
    pub token: SecretString,
}

impl AdminConfig {
    /// `None` unless `ENABLE_BULL_BOARD` is true; then `ADMIN_TOKEN` (at least
    /// [`MIN_ADMIN_TOKEN`] characters) is required.
    pub fn from_env(env: &Env) -> Result<Option<Self>, ConfigError> {
        if !env.flag("ENABLE_BULL_BOARD", false)? {
            return Ok(None);
        }
        let token = env.secret("ADMIN_TOKEN")?;
        if token.expose_secret().len() < MIN_ADMIN_TOKEN {
            return Err(ConfigError::invalid(
                "ADMIN_TOKEN",
                format!("must be at least {MIN_ADMIN_TOKEN} characters"),
            ));
        }
        Ok(Some(Self { token }))
    }
}

/// What the dashboard reads and acts on. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AdminState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    queues: Vec<Queue>,
    pool: Option<Arc<KeyPool>>,
    token: SecretString,
    /// Per process: a form rendered by another instance (or before a restart) is refused
    /// and simply shown again.
    csrf: String,
}

impl AdminState {
    /// The dashboard over `queues` (the worker's own), with the key pool's health when Gemini
    /// keys are configured.
    pub fn new(config: AdminConfig, queues: Vec<Queue>, pool: Option<Arc<KeyPool>>) -> Self {
        let csrf = format!("{:032x}", rand::random::<u128>());
        Self {
            inner: Arc::new(Inner {
                queues,
                pool,
                token: config.token,
                csrf,
            }),
        }
    }

    pub(crate) fn queues(&self) -> &[Queue] {
        &self.inner.queues
    }

    pub(crate) fn queue(&self, name: &str) -> Option<&Queue> {
        self.inner.queues.iter().find(|q| q.name() == name)
    }

    pub(crate) fn pool(&self) -> Option<&KeyPool> {
        self.inner.pool.as_deref()
    }

    pub(crate) fn csrf(&self) -> &str {
        &self.inner.csrf
    }
}

/// The dashboard when enabled; when not, a router whose `/admin` paths are all 404.
pub fn routes(state: Option<AdminState>) -> Router {
    match state {
        Some(state) => router(state),
        None => Router::new()
            .route("/admin", get(not_found).post(not_found))
            .route("/admin/{*rest}", get(not_found).post(not_found)),
    }
}

/// The dashboard's routes, all behind `ADMIN_TOKEN`.
pub fn router(state: AdminState) -> Router {
    Router::new()
        .route("/admin", get(|| async { Redirect::to("/admin/queues") }))
        .route("/admin/queues", get(pages::overview))
        .route("/admin/queues/{queue}", get(pages::jobs))
        .route("/admin/queues/{queue}/jobs/{id}", get(pages::job))
        .route("/admin/queues/{queue}/actions", post(actions::act))
        .route("/admin/static/admin.css", get(stylesheet))
        .route("/admin/static/refresh.js", get(script))
        .route("/admin/{*rest}", get(not_found).post(not_found))
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found\n").into_response()
}

async fn stylesheet() -> Response {
    static_file("text/css; charset=utf-8", include_str!("static/admin.css"))
}

async fn script() -> Response {
    static_file(
        "text/javascript; charset=utf-8",
        include_str!("static/refresh.js"),
    )
}

fn static_file(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// Whether the request carries the token, as a bearer or as a basic-auth password.
fn authorized(token: &SecretString, request: &Request) -> bool {
    let Some(value) = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let expected = token.expose_secret().as_bytes();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let given = if scheme.eq_ignore_ascii_case("bearer") {
        rest.trim().as_bytes().to_vec()
    } else if scheme.eq_ignore_ascii_case("basic") {
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(rest.trim()) else {
            return false;
        };
        match decoded.iter().position(|b| *b == b':') {
            Some(i) => decoded[i + 1..].to_vec(),
            None => return false,
        }
    } else {
        return false;
    };
    bool::from(given.as_slice().ct_eq(expected))
}

/// Auth first, then the headers every dashboard response carries.
async fn guard(State(state): State<AdminState>, request: Request, next: Next) -> Response {
    if !authorized(&state.inner.token, &request) {
        let mut response = (
            StatusCode::UNAUTHORIZED,
            "the dashboard needs ADMIN_TOKEN (bearer, or as the basic-auth password)\n",
        )
            .into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"Scenergy queues\", charset=\"UTF-8\""),
        );
        return response;
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// An HTML page response.
pub(crate) fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        Body::from(body),
    )
        .into_response()
}

/// An error page; the details go to the log, not to the page.
pub(crate) fn failure(what: &str, error: &dyn std::fmt::Display) -> Response {
    tracing::error!(%error, what, "dashboard request failed");
    html(
        StatusCode::INTERNAL_SERVER_ERROR,
        html::page(
            "Error",
            None,
            false,
            &format!(
                "<h1>Something went wrong</h1><p class=\"error\">Could not {}. The worker's log has the details.</p><p><a href=\"/admin/queues\">Back to the queues</a></p>",
                html::esc(what)
            ),
        ),
    )
}

/// A page for a queue this worker does not serve.
pub(crate) fn unknown_queue(name: &str) -> Response {
    html(
        StatusCode::NOT_FOUND,
        html::page(
            "Not found",
            None,
            false,
            &format!(
                "<h1>No queue {}</h1><p><a href=\"/admin/queues\">Back to the queues</a></p>",
                html::esc(name)
            ),
        ),
    )
}
