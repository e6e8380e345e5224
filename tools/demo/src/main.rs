//! The demo CLI behind the README's run command.
//!
//! - `roundtrip` proves the Redis foundation: a value written through the Upstash REST gateway
//!   is read back over TCP, and one Lua script runs over both transports with the same result.
//! - `token` mints a demo bearer token for the functions, signed with `AUTH_JWT_SECRET`
//!   (production tokens come from the customer's own app).
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
}

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
    }
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
