// The queue dashboard in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core), against worker/examples/dashboard_fixture.rs, which seeds a queue with
// jobs in every state, serves the dashboard and runs this file. The test:
//   1. is challenged for basic auth and gets in with the token as the password;
//   2. reads every count on the overview and checks it against the queue;
//   3. retries a failed job and sees it move from failed to waiting;
//   4. starts a consumer, pauses the queue from the page and sees claims stop (and resume);
//   5. opens a finished job and sees its timeline and loaded thumbnails;
//   6. saves screenshots to docs/images/dashboard.png and dashboard-job.png.
//
// Env (set by the fixture): DASHBOARD_URL, ADMIN_TOKEN, QUEUE_NAME; optional CHROMIUM_PATH,
// SCREENSHOT_DIR.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const base = process.env.DASHBOARD_URL;
const token = process.env.ADMIN_TOKEN;
const queue = process.env.QUEUE_NAME;
const executablePath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const shots = process.env.SCREENSHOT_DIR || path.resolve(here, "..", "..", "..", "docs", "images");

// The flags this machine needs: no sandbox as root, and no background connections, which the
// closed network refuses.
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function fixture(pathname, init) {
  const r = await fetch(base + pathname, init);
  assert.ok(r.ok, `${pathname}: ${r.status}`);
  return r.status === 204 ? null : r.json();
}

async function waitFor(what, check, ms = 15_000) {
  const until = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    assert.ok(Date.now() < until, `timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** The overview's count cards of our queue, as numbers by state. */
async function pageCounts(page) {
  await page.goto(`${base}/admin/queues`);
  return page.$$eval(`section.queue[data-queue="${queue}"] [data-count]`, (cards) =>
    Object.fromEntries(cards.map((c) => [c.dataset.count, Number(c.querySelector("b").textContent)])),
  );
}

test("the dashboard in Chromium", { timeout: 240_000 }, async (t) => {
  assert.ok(base && token && queue, "run through worker/tests/browser/run.sh (the fixture sets the env)");

  // Without credentials: a 401 with a Basic challenge, so a browser prompts.
  const anonymous = await fetch(`${base}/admin/queues`);
  assert.equal(anonymous.status, 401);
  assert.match(anonymous.headers.get("www-authenticate") ?? "", /^Basic /);

  const userDataDir = await fs.mkdtemp(path.join(os.tmpdir(), "scenergy-dashboard-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
    httpCredentials: { username: "ops", password: token },
    timeout: 30_000,
  });
  t.after(async () => {
    await fetch(`${base}/fixture/consumer`, { method: "DELETE" }).catch(() => {});
    await context.close().catch(() => {});
    await fs.rm(userDataDir, { recursive: true, force: true });
  });
  // Reloads would race the clicks below; the toggle itself is checked on the first page.
  await context.addInitScript(() => window.localStorage.setItem("scenergy-admin-refresh", "off"));
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(20_000);
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));

  await t.test("the overview's counts match the queue", async () => {
    const shown = await pageCounts(page);
    const actual = await fixture("/fixture/counts");
    for (const state of ["waiting", "urgent", "normal", "batch", "delayed", "active", "completed", "failed", "cancelled"]) {
      assert.equal(shown[state], actual[state], `${state}: page ${shown[state]}, queue ${actual[state]}`);
    }
    assert.ok(actual.failed > 0 && actual.delayed > 0 && actual.active > 0 && actual.cancelled > 0);
    // The plain script ran: the refresh toggle is shown (hidden without JavaScript).
    assert.equal(await page.isVisible("#auto-refresh"), true);
    assert.ok((await page.locator("table.keys tr[data-key]").count()) === 3, "the key pool's health table");
    assert.match(await page.textContent("table.keys"), /cooling/);
    assert.match(await page.textContent("table.keys"), /disabled: invalid_key/);
  });

  await t.test("retrying a failed job moves it to waiting", async () => {
    const before = await fixture("/fixture/counts");
    await page.goto(`${base}/admin/queues/${queue}?state=failed`);
    const row = page.locator("table.jobs tr[data-job]").first();
    const id = await row.getAttribute("data-job");
    assert.equal((await fixture(`/fixture/jobs/${id}`)).state, "failed");
    await Promise.all([page.waitForURL(/notice=/), row.locator('button[data-action="retry"]').click()]);
    assert.match(await page.textContent(".notice"), /waiting again/);
    assert.equal((await fixture(`/fixture/jobs/${id}`)).state, "waiting");
    const shown = await pageCounts(page);
    assert.equal(shown.failed, before.failed - 1);
    assert.equal(shown.waiting, before.waiting + 1);
    await page.goto(`${base}/admin/queues/${queue}?state=failed`);
    assert.equal(await page.locator(`tr[data-job="${id}"]`).count(), 0, "gone from the failed list");
  });

  await t.test("pausing the queue stops claims; resuming starts them again", async () => {
    await fixture("/fixture/consumer", { method: "POST" });
    await waitFor("the consumer to claim", async () => (await fixture("/fixture/counts")).claims >= 3);
    await page.goto(`${base}/admin/queues`);
    const section = page.locator(`section.queue[data-queue="${queue}"]`);
    await Promise.all([page.waitForURL(/notice=/), section.locator('button[data-action="pause"]').click()]);
    assert.match(await page.textContent(".notice"), /paused/);
    assert.equal(await section.locator('[data-paused="1"]').count(), 1);
    await sleep(400);
    const paused = await fixture("/fixture/counts");
    assert.equal(paused.paused, true);
    await sleep(2_000);
    const later = await fixture("/fixture/counts");
    assert.equal(later.claims, paused.claims, "no claim while paused");
    assert.ok(later.waiting > 0 && later.waiting === paused.waiting, "jobs wait");
    const shown = await pageCounts(page);
    assert.equal(shown.waiting, later.waiting);

    await Promise.all([
      page.waitForURL(/notice=/),
      page.locator(`section.queue[data-queue="${queue}"] button[data-action="resume"]`).click(),
    ]);
    await waitFor("claims after resuming", async () => (await fixture("/fixture/counts")).claims > later.claims);
    await fixture("/fixture/consumer", { method: "DELETE" });
  });

  await t.test("a finished job shows its timeline and thumbnails", async () => {
    await page.goto(`${base}/admin/queues/${queue}?state=completed`);
    // The seeded jobs (with images) are the oldest completed ones: the last page's last row.
    const last = page.locator('a[rel="next"]');
    while ((await last.count()) > 0) await last.click();
    const link = page.locator("table.jobs tr[data-job] a").last();
    await link.click();
    await page.waitForSelector("table.timeline");
    const events = await page.$$eval("table.timeline tr td:nth-child(2)", (tds) => tds.map((td) => td.textContent));
    assert.deepEqual(events.slice(0, 3), ["enqueued", "claimed", "completed"]);
    const images = page.locator(".thumbs img");
    assert.equal(await images.count(), 2);
    await waitFor("thumbnails to load", () =>
      images.evaluateAll((imgs) => imgs.every((img) => img.complete && img.naturalWidth > 0)),
    );
    await fs.mkdir(shots, { recursive: true });
    await page.screenshot({ path: path.join(shots, "dashboard-job.png"), fullPage: true });
  });

  await t.test("screenshot of the overview", async () => {
    await page.goto(`${base}/admin/queues`);
    await page.screenshot({ path: path.join(shots, "dashboard.png"), fullPage: true });
    const stat = await fs.stat(path.join(shots, "dashboard.png"));
    assert.ok(stat.size > 10_000, "a real screenshot");
  });

  assert.deepEqual(problems, [], "no script errors and no CSP violations");
});
