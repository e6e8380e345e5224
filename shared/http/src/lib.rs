//! The HTTP contract every Scenergy surface shares (DESIGN §7).
//!
//! - [`auth`]: `Authorization: Bearer <JWT>` (HS256, `AUTH_JWT_SECRET`, `sub` = clientId, `exp`
//!   required) as a [`auth::ClientId`] extractor.
//! - [`problem`]: errors as `application/problem+json`, each invalid field with its path and
//!   reason; 5xx bodies never carry internals.
//! - [`json`]: a strict JSON body extractor (unknown fields, malformed JSON and oversized bodies
//!   become problems, with the field path serde reports).
//! - [`cors`]: CORS from `ALLOWED_ORIGINS`.
//! - [`serve`]: one entry point that runs a Router under `lambda_http` on Lambda and as plain
//!   HTTP on `PORT` elsewhere, so the same `app(state)` serves both and the tests.
//!
//! It must not know any endpoint: functions and the worker build their routes on top.

pub mod auth;
pub mod cors;
pub mod json;
pub mod problem;
pub mod serve;

pub use auth::{ClientId, JwtVerifier};
pub use json::StrictJson;
pub use problem::{FieldError, Problem};
