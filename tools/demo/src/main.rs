//! The demo CLI behind the README's run command.
//!
//! - `roundtrip` proves the Redis foundation: a value written through the Upstash REST gateway
//!   is read back over TCP, and one Lua script runs over both transports with the same result.
//! - `token` mints a demo bearer token for the functions, signed with `AUTH_JWT_SECRET`
//!   (production tokens come from the customer's own app).
//! - `seed` writes two demo products, each with a reference photo in storage, the way a
//!   customer's catalogue fills the `products` table.
//! - `assets` prints a job's `generated_asset` rows.
//!
//! Output for people goes to stdout; logs are JSON on stderr.
#![allow(clippy::print_stdout, reason = "a CLI's report is its output")]

use std::time::Duration;

use anyhow::{Context, bail, ensure};
use clap::{Parser, Subcommand};
use scenergy_config::Env;
use scenergy_redis::{Cmd, Redis, RedisConfig, Script, Value, connect};

#[derive(Parser)]
#[command(about = "Scenergy jobs demo")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write through REST, read over TCP, run a script on both.
    /// Reads UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN and REDIS_URL.
    Roundtrip,
    /// Print a bearer token for CLIENT, signed with AUTH_JWT_SECRET.
    Token {
        #[arg(long, default_value = "demo-client")]
        client: String,
        #[arg(long, default_value_t = 3600)]
        ttl_secs: u64,
    },
    /// Write the demo products (demo-chair, demo-lamp) for CLIENT, with reference photos.
    /// Reads DATABASE_URL and the storage settings (LOCAL_STORAGE_DIR or R2_*).
    Seed {
        #[arg(long, default_value = "demo-client")]
        client: String,
    },
    /// Print the generated_asset rows of JOB. Reads DATABASE_URL.
    Assets {
        #[arg(long)]
        job: String,
    },
}

/// The demo catalogue: (id, name, description).
const DEMO_PRODUCTS: [(&str, &str, &str); 2] = [
    (
        "demo-chair",
        "Oak lounge chair",
        "Solid oak frame, wool seat",
    ),
    (
        "demo-lamp",
        "Brass floor lamp",
        "Brushed brass, linen shade",
    ),
];

const COUNTER: &str = include_str!("roundtrip.lua");

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    scenergy_telemetry::init_stderr("scenergy-demo");
    match Cli::parse().command {
        Command::Roundtrip => roundtrip(&Env::process()).await,
        Command::Token { client, ttl_secs } => {
            let env = Env::process();
            let secret = env.secret("AUTH_JWT_SECRET")?;
            scenergy_http::JwtVerifier::new(&secret)
                .map_err(|why| anyhow::anyhow!("AUTH_JWT_SECRET {why}"))?;
            scenergy_http::ClientId::parse(&client)
                .map_err(|why| anyhow::anyhow!("--client {why}"))?;
            let token = scenergy_http::auth::mint(&secret, &client, Duration::from_secs(ttl_secs))
                .context("Failed to sign the token")?;
            println!("{token}");
            Ok(())
        }
        Command::Seed { client } => seed(&Env::process(), &client).await,
        Command::Assets { job } => assets(&Env::process(), &job).await,
    }
}

async fn seed(env: &Env, client: &str) -> anyhow::Result<()> {
    use scenergy_gemini::{ImageProvider, ImageQuality, ImageRequest, OfflineProvider};
    let db = scenergy_db::DbConfig::from_env(env)?
        .connect()
        .await
        .context("Failed to connect to PostgreSQL")?;
    let storage = scenergy_storage::StorageConfig::from_env(env)?
        .open()
        .await
        .context("Failed to open storage")?;
    for (id, name, description) in DEMO_PRODUCTS {
        // A reference "photo": rendered locally, so the demo needs no network.
        let request = ImageRequest::new(format!("Studio photo: {name}"), "1:1", ImageQuality::K1);
        let photo = OfflineProvider::new().generate(None, &request).await?;
        let key = scenergy_storage::ObjectKey::parse(format!("catalogue/{client}/{id}.png"))?;
        storage
            .put(&key, photo.bytes.into(), "image/png")
            .await
            .context("Failed to store a reference photo")?;
        let ours = scenergy_db::upsert_product(
            &db,
            &scenergy_db::NewProduct {
                id,
                client_id: client,
                name,
                description: Some(description),
                reference_image_key: Some(key.as_str()),
            },
        )
        .await?;
        ensure!(ours, "product {id} belongs to another client");
        println!(
            "product {id} ({name}), reference photo {}",
            storage.public_url(&key)
        );
    }
    Ok(())
}

async fn assets(env: &Env, job: &str) -> anyhow::Result<()> {
    let db = scenergy_db::DbConfig::from_env(env)?
        .connect()
        .await
        .context("Failed to connect to PostgreSQL")?;
    let rows = scenergy_db::assets_for_job(&db, job).await?;
    println!("generated_asset rows of {job}:");
    println!(
        "  {:<12} {:<8} {:<10} {:>9} {:<8} object_key",
        "product", "variant", "size", "bytes", "provider"
    );
    for a in &rows {
        let size = format!("{}x{}", a.width.unwrap_or(0), a.height.unwrap_or(0));
        println!(
            "  {:<12} {:<8} {:<10} {:>9} {:<8} {}",
            a.product_id, a.variant_index, size, a.bytes, a.provider, a.object_key
        );
    }
    ensure!(!rows.is_empty(), "job {job} has no generated_asset rows");
    Ok(())
}

async fn roundtrip(env: &Env) -> anyhow::Result<()> {
    let rest_url = env
        .url("UPSTASH_REDIS_REST_URL", &["http", "https"])?
        .context("UPSTASH_REDIS_REST_URL is required but not set")?;
    let rest = RedisConfig::Rest {
        url: rest_url.clone(),
        token: env.secret("UPSTASH_REDIS_REST_TOKEN")?,
    };
    let tcp = RedisConfig::Tcp {
        url: env.secret("REDIS_URL")?,
    };
    let timeout = Duration::from_secs(5);
    let rest = connect(&rest, timeout)
        .await
        .context("Failed to set up the REST transport")?;
    let tcp = connect(&tcp, timeout)
        .await
        .context("Failed to connect to REDIS_URL")?;

    let key = format!("demo:{{roundtrip}}:{:08x}", rand::random::<u32>());
    let value = format!("hello from REST at {rest_url}");
    rest.query(&Cmd::new("SET").arg(&key).arg(&value).arg("EX").arg(60))
        .await
        .context("Failed to write through the REST gateway")?;
    let read = tcp
        .query(&Cmd::new("GET").arg(&key))
        .await
        .context("Failed to read over TCP")?;
    ensure!(
        read.as_str()? == value,
        "TCP read {read:?}, REST wrote {value:?}"
    );
    println!("REST SET {key} -> TCP GET: {:?}", read.as_str()?);

    let script = Script::new(COUNTER);
    let counter = format!("{key}:count");
    let over_rest = run_counter(&script, &rest, &counter).await?;
    let over_tcp = run_counter(&script, &tcp, &counter).await?;
    if over_rest != 1 || over_tcp != 2 {
        bail!(
            "script results disagree: REST gave {over_rest}, TCP gave {over_tcp}, expected 1 then 2"
        );
    }
    println!(
        "script {} over REST -> {over_rest}, over TCP -> {over_tcp}",
        &script.sha()[..12]
    );
    tcp.query(&Cmd::new("DEL").arg(&key).arg(&counter)).await?;
    println!("roundtrip OK");
    Ok(())
}

async fn run_counter(script: &Script, redis: &Redis, key: &str) -> anyhow::Result<i64> {
    let reply = script
        .call()
        .key(key)
        .arg(60)
        .run(redis)
        .await
        .with_context(|| format!("Failed to run the demo script over {}", redis.kind()))?;
    match reply {
        Value::Int(n) => Ok(n),
        other => bail!("unexpected script reply {other:?}"),
    }
}
