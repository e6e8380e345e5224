//! `queue-bench`: throughput, latency and command cost of the queue against a real Redis.
//!
//! Command counts come from `INFO commandstats` deltas (they include the commands run inside
//! scripts, which is what Upstash bills), so run it against a Redis nobody else is using.
#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]
#![allow(
    clippy::print_stderr,
    reason = "with --json the human-readable report goes to stderr"
)]

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;
use scenergy_queue::{JobId, NewJob, Priority, Queue, QueueOptions, now_ms};
use scenergy_redis::{Cmd, Redis, TcpConfig, TcpTransport};
use serde_json::json;

#[derive(Debug, Parser)]
#[command(about = "Benchmarks the Scenergy job queue")]
struct Args {
    #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379")]
    redis_url: String,
    /// Jobs for the enqueue and processing runs.
    #[arg(long, default_value_t = 10_000)]
    jobs: usize,
    /// Jobs per claim in the processing runs.
    #[arg(long, default_value_t = 10)]
    batch: u32,
    /// Enqueue rate of the latency run (jobs per second) and its duration.
    #[arg(long, default_value_t = 50)]
    rate: u64,
    #[arg(long, default_value_t = 5)]
    latency_secs: u64,
    /// Idle cycles measured (claim finding nothing + BLPOP) and the BLPOP timeout.
    #[arg(long, default_value_t = 2)]
    idle_cycles: u32,
    #[arg(long, default_value_t = 30)]
    idle_wait_secs: u64,
    /// Print the results as one JSON object on stdout (the usual report goes to stderr).
    #[arg(long)]
    json: bool,
    /// Only measure the RSS of a fresh idle worker: connect, one empty claim, one short wake wait.
    #[arg(long)]
    idle_rss_only: bool,
}

/// The report: human-readable lines, plus the same numbers as JSON for `--json`.
#[derive(Debug)]
struct Report {
    json: bool,
    values: Mutex<serde_json::Map<String, serde_json::Value>>,
}

impl Report {
    fn line(&self, s: &str) {
        if self.json {
            eprintln!("{s}");
        } else {
            println!("{s}");
        }
    }

    fn set(&self, key: &str, value: impl Into<serde_json::Value>) {
        if let Ok(mut v) = self.values.lock() {
            v.insert(key.to_owned(), value.into());
        }
    }

    fn finish(&self) {
        if self.json
            && let Ok(v) = self.values.lock()
        {
            println!("{}", serde_json::Value::Object(v.clone()));
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let args = Args::parse();
    let report = Report {
        json: args.json,
        values: Mutex::new(serde_json::Map::new()),
    };
    let tcp = || TcpTransport::connect(TcpConfig::new(args.redis_url.clone()));
    let redis = Redis::new(tcp().await.context("connecting to Redis")?);
    let blocking = scenergy_queue::wake_transport(&args.redis_url).await?;
    let queue = || -> Result<Queue> {
        let name = format!("bench-{:08x}", rand::random::<u32>());
        Ok(Queue::new(redis.clone(), &name, QueueOptions::default())?)
    };
    let jobs = |n: usize| -> Vec<NewJob> {
        (0..n)
            .map(|i| {
                NewJob::new("noop", format!("client-{}", i % 7), json!({ "i": i }))
                    .priority(Priority::Normal)
            })
            .collect()
    };

    if args.idle_rss_only {
        let q = queue()?;
        let c = q.claim("idle", 10, 60_000, now_ms()).await?;
        anyhow::ensure!(c.jobs.is_empty());
        q.wait_for_wake(&blocking, Duration::from_secs(2)).await?;
        let rss = rss().unwrap_or_else(|| "unknown".to_owned());
        report.line(&format!("fresh idle worker process RSS: {rss}"));
        report.set("idle_rss_kb", rss_kb(&rss));
        cleanup(&q).await?;
        report.finish();
        return Ok(());
    }
    report.set("jobs", args.jobs);
    report.set("batch", args.batch);
    report.line(&format!(
        "# queue-bench ({} jobs, claim batch {})",
        args.jobs, args.batch
    ));
    let q = queue()?;
    let started = Instant::now();
    for chunk in jobs(args.jobs).chunks(1_000) {
        q.enqueue_many(chunk.to_vec()).await?;
    }
    let rate = per_sec(args.jobs, started);
    report.line(&format!(
        "enqueue (enqueue_many, 1000 per pipeline): {rate:.0} jobs/s"
    ));
    report.set("enqueue_jobs_per_sec", rate);
    cleanup(&q).await?;

    for concurrency in [1, 10, 50] {
        let q = queue()?;
        for chunk in jobs(args.jobs).chunks(1_000) {
            q.enqueue_many(chunk.to_vec()).await?;
        }
        let started = Instant::now();
        let tasks: Vec<_> = (0..concurrency)
            .map(|i| {
                let q = q.clone();
                let batch = args.batch;
                tokio::spawn(async move { drain(&q, &format!("bench-{i}"), batch).await })
            })
            .collect();
        for t in tasks {
            t.await??;
        }
        let rate = per_sec(args.jobs, started);
        report.line(&format!(
            "no-op processing, concurrency {concurrency}: {rate:.0} jobs/s"
        ));
        report.set(&format!("processing_c{concurrency}_jobs_per_sec"), rate);
        cleanup(&q).await?;
    }

    latency(&queue()?, &blocking, args.rate, args.latency_secs, &report).await?;
    command_costs(&queue()?, &report).await?;
    idle(
        &queue()?,
        &blocking,
        args.idle_cycles,
        args.idle_wait_secs,
        &report,
    )
    .await?;
    let rss = rss().unwrap_or_else(|| "unknown".to_owned());
    report.line(&format!("process RSS: {rss}"));
    report.set("rss_kb", rss_kb(&rss));
    report.finish();
    Ok(())
}

/// `"12345 kB"` → 12345 (null when unknown).
fn rss_kb(rss: &str) -> serde_json::Value {
    rss.split_whitespace()
        .next()
        .and_then(|n| n.parse::<u64>().ok())
        .map_or(serde_json::Value::Null, Into::into)
}

fn per_sec(n: usize, since: Instant) -> f64 {
    n as f64 / since.elapsed().as_secs_f64()
}

/// Claims and completes until nothing is left.
async fn drain(q: &Queue, token: &str, batch: u32) -> Result<()> {
    loop {
        let claim = q.claim(token, batch, 60_000, now_ms()).await?;
        if claim.jobs.is_empty() {
            return Ok(());
        }
        let results: Vec<(JobId, serde_json::Value)> = claim
            .jobs
            .into_iter()
            .map(|j| (j.id, json!(null)))
            .collect();
        q.complete(token, &results, now_ms()).await?;
    }
}

/// One worker idles on BLPOP; jobs arrive at a fixed rate; start latency = claim - enqueue.
async fn latency(
    q: &Queue,
    blocking: &TcpTransport,
    rate: u64,
    secs: u64,
    report: &Report,
) -> Result<()> {
    let total = usize::try_from(rate * secs)?;
    let worker = {
        let q = q.clone();
        let blocking = blocking.clone();
        tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(total);
            while latencies.len() < total {
                let now = now_ms();
                let claim = q.claim("latency", 1, 60_000, now).await?;
                if claim.jobs.is_empty() {
                    q.wait_for_wake(&blocking, Duration::from_secs(30)).await?;
                    continue;
                }
                for job in claim.jobs {
                    latencies.push(now - job.created_at);
                    q.complete("latency", &[(job.id, json!(null))], now_ms())
                        .await?;
                }
            }
            anyhow::Ok(latencies)
        })
    };
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate.max(1)));
    for i in 0..total {
        tick.tick().await;
        q.enqueue(NewJob::new("noop", "latency", json!({ "i": i })))
            .await?;
    }
    let mut latencies = worker.await??;
    latencies.sort_unstable();
    let pct = |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len() - 1)];
    let max = latencies.last().copied().unwrap_or_default();
    report.line(&format!(
        "enqueue->start latency at {rate} jobs/s (worker idling on BLPOP): p50 {} ms, p99 {} ms, max {max} ms",
        pct(50),
        pct(99),
    ));
    report.set("latency_rate", rate);
    report.set("latency_jobs", total);
    report.set("latency_p50_ms", pct(50));
    report.set("latency_p99_ms", pct(99));
    report.set("latency_max_ms", max);
    cleanup(q).await
}

async fn command_stats(redis: &Redis) -> Result<HashMap<String, i64>> {
    let info = redis.query(&Cmd::new("INFO").arg("commandstats")).await?;
    let mut out = HashMap::new();
    for line in info.as_str()?.lines() {
        let Some(rest) = line.strip_prefix("cmdstat_") else {
            continue;
        };
        let Some((name, stats)) = rest.split_once(':') else {
            continue;
        };
        let calls = stats
            .split(',')
            .find_map(|kv| kv.strip_prefix("calls="))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        out.insert(name.to_owned(), calls);
    }
    Ok(out)
}

/// Runs `f` and returns the commands the server executed meanwhile (INFO itself excluded).
async fn count<F: Future<Output = Result<()>>>(redis: &Redis, f: F) -> Result<(i64, String)> {
    let before = command_stats(redis).await?;
    f.await?;
    let after = command_stats(redis).await?;
    let mut by: Vec<(String, i64)> = after
        .iter()
        .filter(|(name, _)| name.as_str() != "info")
        .map(|(name, n)| (name.clone(), n - before.get(name).copied().unwrap_or(0)))
        .filter(|(_, d)| *d > 0)
        .collect();
    by.sort();
    let total = by.iter().map(|(_, d)| d).sum();
    let detail = by
        .iter()
        .map(|(n, d)| format!("{n}={d}"))
        .collect::<Vec<_>>()
        .join(" ");
    Ok((total, detail))
}

async fn command_costs(q: &Queue, report: &Report) -> Result<()> {
    let r = q.redis();
    // Warm the script cache so NOSCRIPT fallbacks do not count.
    let warm = q.enqueue(NewJob::new("noop", "c", json!(1))).await?.job_id;
    drain(q, "warm", 1).await?;
    let _ = warm;
    report.line("commands per operation (server-side, scripts' inner commands included):");
    let (n, d) = count(r, async {
        q.enqueue(NewJob::new("noop", "c", json!(1)))
            .await
            .map(drop)
            .map_err(Into::into)
    })
    .await?;
    report.line(&format!("  enqueue 1: {n} ({d})"));
    report.set("cmd_enqueue_1", n);
    let mut claimed = Vec::new();
    let (n, d) = count(r, async {
        claimed = q.claim("w", 1, 60_000, now_ms()).await?.jobs;
        Ok(())
    })
    .await?;
    report.line(&format!("  claim 1: {n} ({d})"));
    report.set("cmd_claim_1", n);
    let id = claimed[0].id.clone();
    let (n, d) = count(r, async {
        q.heartbeat("w", std::slice::from_ref(&id), 60_000, now_ms())
            .await
            .map(drop)
            .map_err(Into::into)
    })
    .await?;
    report.line(&format!("  heartbeat 1: {n} ({d})"));
    report.set("cmd_heartbeat_1", n);
    let (n, d) = count(r, async {
        q.progress(&id, "w", &json!({"pct": 50}), now_ms())
            .await
            .map(drop)
            .map_err(Into::into)
    })
    .await?;
    report.line(&format!("  progress: {n} ({d})"));
    report.set("cmd_progress", n);
    let (n, d) = count(r, async {
        q.complete("w", &[(id.clone(), json!(1))], now_ms())
            .await
            .map(drop)
            .map_err(Into::into)
    })
    .await?;
    report.line(&format!("  complete 1: {n} ({d})"));
    report.set("cmd_complete_1", n);
    let (n, d) = count(r, async {
        let c = q.claim("idle", 1, 60_000, now_ms()).await?;
        anyhow::ensure!(c.jobs.is_empty());
        Ok(())
    })
    .await?;
    report.line(&format!("  claim finding nothing: {n} ({d})"));
    report.set("cmd_claim_empty", n);

    let batch = 100;
    let (n, _) = count(r, async {
        let jobs = (0..batch)
            .map(|i| NewJob::new("noop", format!("c{}", i % 5), json!(i)))
            .collect();
        q.enqueue_many(jobs).await?;
        drain(q, "w", 10).await
    })
    .await?;
    let per_job = n as f64 / f64::from(batch);
    report.line(&format!(
        "  lifecycle, batched (enqueue_many {batch}, claim 10 + complete 10 at a time): {per_job:.1} commands per job"
    ));
    report.set("cmd_lifecycle_batched_per_job", per_job);
    let (n, _) = count(r, async {
        for i in 0..20 {
            q.enqueue(NewJob::new("noop", "c", json!(i))).await?;
            let c = q.claim("w", 1, 60_000, now_ms()).await?;
            let id = c.jobs[0].id.clone();
            q.complete("w", &[(id, json!(1))], now_ms()).await?;
        }
        Ok(())
    })
    .await?;
    let per_job = n as f64 / 20.0;
    report.line(&format!(
        "  lifecycle, one job at a time (enqueue, claim 1, complete 1): {per_job:.1} commands per job"
    ));
    report.set("cmd_lifecycle_one_per_job", per_job);
    cleanup(q).await
}

/// An idle worker: claim, then BLPOP with a long timeout, for `cycles` cycles.
async fn idle(
    q: &Queue,
    blocking: &TcpTransport,
    cycles: u32,
    wait_secs: u64,
    report: &Report,
) -> Result<()> {
    let r = q.redis().clone();
    let started = Instant::now();
    let (n, d) = count(&r, async {
        for _ in 0..cycles {
            let c = q.claim("idle", 10, 60_000, now_ms()).await?;
            anyhow::ensure!(c.jobs.is_empty());
            q.wait_for_wake(blocking, Duration::from_secs(wait_secs))
                .await?;
        }
        Ok(())
    })
    .await?;
    let per_cycle = n as f64 / f64::from(cycles);
    let elapsed = started.elapsed().as_secs_f64();
    let per_minute = per_cycle * 60.0 / wait_secs as f64;
    report.line(&format!(
        "idle worker (BLPOP timeout {wait_secs} s): {n} commands in {cycles} cycles ({elapsed:.0} s) = {per_cycle:.1} per cycle \
         = {per_minute:.1} per minute ({d})"
    ));
    report.set("idle_commands", n);
    report.set("idle_secs", elapsed);
    report.set("idle_wait_secs", wait_secs);
    report.set("idle_commands_per_min", per_minute);
    cleanup(q).await
}

async fn cleanup(q: &Queue) -> Result<()> {
    let keys = q.keys();
    let mut del = Cmd::new("DEL");
    for k in [
        keys.jobs(),
        keys.fair(),
        keys.delayed(),
        keys.active(),
        keys.meta(),
        keys.events(),
        keys.wake(),
    ] {
        del = del.arg(k);
    }
    for p in Priority::ALL {
        del = del.arg(keys.ready(p));
    }
    for s in [
        scenergy_queue::JobState::Completed,
        scenergy_queue::JobState::Failed,
        scenergy_queue::JobState::Cancelled,
    ] {
        del = del.arg(keys.finished(s).unwrap_or_default());
    }
    q.redis().query(&del).await?;
    Ok(())
}

fn rss() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .map(|v| v.trim().to_owned())
}
