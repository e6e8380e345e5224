// BullMQ baseline for shared/queue's `queue-bench` (see ../README.md).
//
// Measures the same things as `queue-bench`, against the same private redis-server, and prints
// one JSON object on stdout (progress lines go to stderr):
//   - enqueue throughput: `queue.addBulk` in chunks of 1000 (queue-bench: `enqueue_many`, 1000)
//   - no-op processing throughput of JOBS prefilled jobs, one Worker at concurrency 1, 10, 50
//   - enqueue->start latency p50/p99/max at RATE jobs/s for LATENCY_SECS while the worker idles
//   - server-side commands (INFO commandstats deltas, Lua scripts' inner commands included)
//     for one `add`, a whole lifecycle one job at a time, and a batched lifecycle
//   - commands of an idle worker over IDLE_SECS, extrapolated to a minute
//   - process RSS (`process.memoryUsage().rss`) after the runs, and (`--idle-rss-only`) of a
//     fresh process that only runs an idle Worker
//
// BullMQ defaults are kept everywhere: removeOnComplete/removeOnFail unset (completed jobs are
// kept), drainDelay 5 s, stalledInterval 30 s, lockDuration 30 s.
//
// Env: REDIS_URL (redis://127.0.0.1:6379), JOBS (10000), RATE (50), LATENCY_SECS (5),
// IDLE_SECS (30). Use a Redis nobody else uses: the command counts are server-wide.

import { Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';

const env = (k, d) => (process.env[k] === undefined || process.env[k] === '' ? d : process.env[k]);
const REDIS_URL = env('REDIS_URL', 'redis://127.0.0.1:6379');
const JOBS = Number(env('JOBS', '10000'));
const RATE = Number(env('RATE', '50'));
const LATENCY_SECS = Number(env('LATENCY_SECS', '5'));
const IDLE_SECS = Number(env('IDLE_SECS', '30'));
const CHUNK = 1000;

const require = createRequire(import.meta.url);
const BULLMQ_VERSION = require('bullmq/package.json').version;
const IOREDIS_VERSION = require('ioredis/package.json').version;

const log = (...a) => console.error(...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const qname = () => `bench-${randomBytes(4).toString('hex')}`;

function connection() {
  const u = new URL(REDIS_URL);
  return {
    host: u.hostname || '127.0.0.1',
    port: Number(u.port || 6379),
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: Number(u.pathname.slice(1) || 0),
    maxRetriesPerRequest: null, // required by BullMQ Workers
  };
}

const jobs = (from, n) =>
  Array.from({ length: n }, (_, k) => ({ name: 'noop', data: { i: from + k } }));

async function prefill(queue, n) {
  for (let off = 0; off < n; off += CHUNK) {
    await queue.addBulk(jobs(off, Math.min(CHUNK, n - off)));
  }
}

async function newQueue() {
  const q = new Queue(qname(), { connection: connection() });
  await q.waitUntilReady();
  return q;
}

async function dispose(queue, ...workers) {
  for (const w of workers) await w.close();
  await queue.obliterate({ force: true });
  await queue.close();
}

function onError(what) {
  return (err) => log(`${what} error:`, err?.message ?? err);
}

// ---------------------------------------------------------------- INFO commandstats deltas

async function commandStats(redis) {
  const info = await redis.info('commandstats');
  const out = {};
  for (const line of info.split(/\r?\n/)) {
    const m = /^cmdstat_([^:]+):.*?calls=(\d+)/.exec(line);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

/** Runs `fn`, returns the commands the server ran meanwhile (INFO itself excluded). */
async function count(redis, fn) {
  const before = await commandStats(redis);
  await fn();
  const after = await commandStats(redis);
  const detail = {};
  let total = 0;
  for (const [name, n] of Object.entries(after)) {
    if (name === 'info') continue;
    const d = n - (before[name] ?? 0);
    if (d > 0) {
      detail[name] = d;
      total += d;
    }
  }
  return { total, detail };
}

const fmtDetail = (d) =>
  Object.keys(d)
    .sort()
    .map((k) => `${k}=${d[k]}`)
    .join(' ');

/** A Worker plus a way to wait for the completion of given job ids. */
function trackedWorker(name, opts, processor = async () => null) {
  const waiters = new Map();
  const worker = new Worker(name, processor, { connection: connection(), ...opts });
  worker.on('error', onError('worker'));
  worker.on('completed', (job) => {
    const w = waiters.get(job.id);
    if (w) {
      waiters.delete(job.id);
      w();
    }
  });
  const completion = (id) => new Promise((r) => waiters.set(id, r));
  return { worker, completion };
}

// ---------------------------------------------------------------- the runs

async function enqueueRun(result) {
  const q = await newQueue();
  const t0 = performance.now();
  await prefill(q, JOBS);
  const rate = JOBS / ((performance.now() - t0) / 1000);
  log(`enqueue (addBulk, ${CHUNK} per call): ${rate.toFixed(0)} jobs/s`);
  result.enqueue_jobs_per_sec = rate;
  await dispose(q);
}

async function processingRun(concurrency, result) {
  const q = await newQueue();
  await prefill(q, JOBS);
  let done = 0;
  let finished;
  const allDone = new Promise((r) => (finished = r));
  const worker = new Worker(q.name, async () => null, {
    connection: connection(),
    concurrency,
    autorun: false,
  });
  worker.on('error', onError('worker'));
  worker.on('completed', () => {
    done += 1;
    if (done === JOBS) finished();
  });
  await worker.waitUntilReady();
  const t0 = performance.now();
  const running = worker.run().catch(onError('worker.run'));
  await allDone;
  const rate = JOBS / ((performance.now() - t0) / 1000);
  log(`no-op processing, concurrency ${concurrency}: ${rate.toFixed(0)} jobs/s`);
  result[`processing_c${concurrency}_jobs_per_sec`] = rate;
  await worker.close();
  await running;
  await dispose(q);
}

async function latencyRun(result) {
  const total = RATE * LATENCY_SECS;
  const q = await newQueue();
  const latencies = [];
  let finished;
  const allDone = new Promise((r) => (finished = r));
  const worker = new Worker(
    q.name,
    async (job) => {
      latencies.push(Date.now() - job.timestamp);
      if (latencies.length === total) finished();
      return null;
    },
    { connection: connection() },
  );
  worker.on('error', onError('worker'));
  await worker.waitUntilReady();
  await sleep(1000); // let it block on its marker (BZPOPMIN)
  const interval = 1000 / RATE;
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const wait = start + i * interval - performance.now();
    if (wait > 0) await sleep(wait);
    await q.add('noop', { i });
  }
  await allDone;
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(Math.floor((latencies.length * p) / 100), latencies.length - 1)];
  const max = latencies[latencies.length - 1];
  log(
    `enqueue->start latency at ${RATE} jobs/s (worker idling): p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${max} ms`,
  );
  Object.assign(result, {
    latency_rate: RATE,
    latency_jobs: total,
    latency_p50_ms: pct(50),
    latency_p99_ms: pct(99),
    latency_max_ms: max,
  });
  await dispose(q, worker);
}

async function commandCosts(stats, result) {
  log("commands (server-side, scripts' inner commands included):");
  const detail = {};

  // One `add`, no worker running; the script was loaded by a first add.
  {
    const q = await newQueue();
    await q.add('noop', { warm: true });
    const c = await count(stats, () => q.add('noop', { i: 1 }));
    log(`  add 1: ${c.total} (${fmtDetail(c.detail)})`);
    result.cmd_enqueue_1 = c.total;
    detail.enqueue_1 = c.detail;
    await dispose(q);
  }

  // Lifecycle one job at a time: add 1, wait until the (already idle) worker completed it.
  {
    const q = await newQueue();
    const { worker, completion } = trackedWorker(q.name, { concurrency: 1 });
    await worker.waitUntilReady();
    const warm = await q.add('noop', { warm: true });
    await completion(warm.id);
    await sleep(500);
    const n = 20;
    const c = await count(stats, async () => {
      for (let i = 0; i < n; i++) {
        const job = await q.add('noop', { i });
        await completion(job.id);
      }
      await sleep(200); // the worker's trailing commands (next fetch, back to blocking)
    });
    const perJob = c.total / n;
    log(
      `  lifecycle, one job at a time (add, worker concurrency 1 fetches + completes): ${perJob.toFixed(1)} per job (${fmtDetail(c.detail)})`,
    );
    result.cmd_lifecycle_one_per_job = perJob;
    detail.lifecycle_one = c.detail;
    await dispose(q, worker);
  }

  // Batched: addBulk 100 while an idle worker at concurrency 10 drains them.
  {
    const q = await newQueue();
    const { worker, completion } = trackedWorker(q.name, { concurrency: 10 });
    await worker.waitUntilReady();
    const warm = await q.add('noop', { warm: true });
    await completion(warm.id);
    await sleep(500);
    const n = 100;
    const c = await count(stats, async () => {
      const bulk = jobs(0, n);
      const added = await q.addBulk(bulk);
      await Promise.all(added.map((j) => completion(j.id)));
      await sleep(200);
    });
    const perJob = c.total / n;
    log(
      `  lifecycle, batched (addBulk ${n}, worker concurrency 10): ${perJob.toFixed(1)} per job (${fmtDetail(c.detail)})`,
    );
    result.cmd_lifecycle_batched_per_job = perJob;
    detail.lifecycle_batched = c.detail;
    await dispose(q, worker);
  }
  result.cmd_detail = detail;
}

async function idleRun(stats, result) {
  const q = await newQueue();
  const worker = new Worker(q.name, async () => null, { connection: connection() });
  worker.on('error', onError('worker'));
  await worker.waitUntilReady();
  await sleep(2000); // past the start-up (first stalled check, first fetch)
  const t0 = performance.now();
  let rss = 0;
  const c = await count(stats, async () => {
    await sleep(IDLE_SECS * 1000);
    rss = process.memoryUsage().rss;
  });
  const secs = (performance.now() - t0) / 1000;
  const perMin = (c.total * 60) / secs;
  log(
    `idle worker (drainDelay 5 s, stalledInterval 30 s): ${c.total} commands in ${secs.toFixed(0)} s = ${perMin.toFixed(1)} per minute (${fmtDetail(c.detail)})`,
  );
  Object.assign(result, {
    idle_commands: c.total,
    idle_secs: secs,
    idle_commands_per_min: perMin,
    idle_detail: c.detail,
    rss_kb: Math.round(rss / 1024),
  });
  log(`process RSS (idle worker, after the runs): ${Math.round(rss / 1024)} kB`);
  await dispose(q, worker);
}

async function idleRssOnly() {
  // A fresh process that only runs an idle Worker (what a deployed idle worker holds).
  const name = qname();
  const worker = new Worker(name, async () => null, { connection: connection() });
  worker.on('error', onError('worker'));
  await worker.waitUntilReady();
  await sleep(2000);
  const rss = Math.round(process.memoryUsage().rss / 1024);
  log(`fresh idle worker process RSS: ${rss} kB`);
  await worker.close();
  const r = new IORedis(connection());
  const keys = await r.keys(`bull:${name}:*`);
  if (keys.length) await r.del(...keys);
  await r.quit();
  console.log(JSON.stringify({ idle_rss_kb: rss, bullmq_version: BULLMQ_VERSION, node_version: process.version }));
}

async function main() {
  if (process.argv.includes('--idle-rss-only')) return idleRssOnly();
  const result = {
    bullmq_version: BULLMQ_VERSION,
    ioredis_version: IOREDIS_VERSION,
    node_version: process.version,
    jobs: JOBS,
  };
  log(`# BullMQ ${BULLMQ_VERSION} bench (${JOBS} jobs)`);
  const stats = new IORedis(connection());
  await enqueueRun(result);
  for (const c of [1, 10, 50]) await processingRun(c, result);
  await latencyRun(result);
  await commandCosts(stats, result);
  await idleRun(stats, result);
  await stats.quit();
  console.log(JSON.stringify(result));
}

main().then(
  () => process.exit(0),
  (err) => {
    log(err);
    process.exit(1);
  },
);
