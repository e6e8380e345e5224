//! PostgreSQL persistence for Scenergy jobs.
//!
//! This crate owns the schema (the SQL migrations in the workspace's `migrations/`, embedded as
//! [`MIGRATOR`]) and every query against it. Queries use sqlx's compile-time checked macros;
//! their offline data lives in the workspace's `.sqlx/`, so builds with `SQLX_OFFLINE=true`
//! need no database. Three tables:
//!
//! - `products`: a contract with the catalogue side, read for names and reference images;
//! - `generation_job`: durable job history, with CHECK constraints on its state machine;
//! - `generated_asset`: one row per stored image, unique per (job, product, variant) and
//!   inserted with `ON CONFLICT DO NOTHING`, so a retried job records each image once and a
//!   resumed job skips what [`persisted_items`] already lists.
//!
//! Every query takes any [`sqlx::PgExecutor`], so a caller may run several in one transaction.
//!
//! # Layout
//!
//! - `config`: [`DbConfig`] from the environment, [`connect`], [`create_database_if_missing`],
//!   [`migrate`], [`ping`];
//! - `products`: [`products_for_client`], [`upsert_product`], [`seed_demo_products`];
//! - `jobs`: [`upsert_job`], [`mark_job_started`], [`mark_job_finished`], [`job`];
//! - `assets`: [`insert_asset`], [`assets_for_job`], [`persisted_items`];
//! - `error`: [`DbError`].

mod assets;
mod config;
mod error;
mod jobs;
mod products;

pub use assets::{Asset, NewAsset, assets_for_job, insert_asset, persisted_items};
pub use config::{
    DEFAULT_ACQUIRE_TIMEOUT, DEFAULT_MAX_CONNECTIONS, DbConfig, connect,
    create_database_if_missing, migrate, ping,
};
pub use error::DbError;
pub use jobs::{
    JobOutcome, JobRecord, JobState, NewJob, job, mark_job_finished, mark_job_started, upsert_job,
};
pub use products::{NewProduct, Product, products_for_client, seed_demo_products, upsert_product};
pub use sqlx::PgPool;

/// The schema's migrations, embedded at compile time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");
