// End-to-end test of the demo page in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core), against the running system: it submits a 2 products × 2 variants image
// job, watches the progress bar rise to 100 %, waits for the 4 images to load and saves a
// screenshot to docs/images/demo.png.
//
// It starts nothing itself: serve the page with demo/serve.mjs in front of the running
// functions and worker (with the functions' ALLOWED_ORIGINS including the page's origin).
//
// Env:
//   DEMO_URL             the page, e.g. http://127.0.0.1:8090/ (required)
//   CHROMIUM_PATH        the browser (default /usr/bin/chromium)
//   E2E_SCREENSHOT       where to save the screenshot (default <repo>/docs/images/demo.png)
//   E2E_JOB_TIMEOUT_MS   how long the job may take to finish (default 120000)
//   E2E_ANALYZE=0        skip the analyze panel check
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const pageUrl = process.env.DEMO_URL;
const executablePath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const screenshot = process.env.E2E_SCREENSHOT || path.resolve(here, "..", "..", "..", "docs", "images", "demo.png");
const jobTimeout = Number(process.env.E2E_JOB_TIMEOUT_MS || 120_000);
const checkAnalyze = process.env.E2E_ANALYZE !== "0";

// The flags this machine needs (see the environment notes): no sandbox as root, and no
// background connections, which the closed network refuses.
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

test("the demo page runs a 2 × 2 image job to 4 images", { timeout: jobTimeout + 60_000 }, async (t) => {
  assert.ok(pageUrl, "set DEMO_URL to the demo page's URL (demo/serve.mjs)");
  const userDataDir = await fs.mkdtemp(path.join(os.tmpdir(), "scenergy-e2e-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
    timeout: 30_000,
  });
  t.after(async () => {
    await context.close().catch(() => {});
    await fs.rm(userDataDir, { recursive: true, force: true });
  });

  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(30_000);
  const pageErrors = [];
  page.on("pageerror", (error) => pageErrors.push(error));
  const consoleErrors = [];
  page.on("console", (message) => {
    // Chromium logs every non-2xx fetch as "Failed to load resource"; a 503 from the Lane A
    // limiter is an answer the page shows, so only other errors count.
    if (message.type() === "error" && !/Failed to load resource: .* 503/.test(message.text())) {
      consoleErrors.push(message.text());
    }
  });

  await page.goto(pageUrl, { waitUntil: "load" });
  await page.waitForSelector("body[data-ready='true']");
  assert.equal(await page.isVisible("#config-error"), false, `configuration problem: ${await page.textContent("#config-error")}`);

  // Two products, two variants each.
  const products = page.locator("#job-products input[name='productIds']");
  const count = await products.count();
  assert.ok(count >= 2, `the configuration needs at least 2 demo products, has ${count}`);
  const chosen = [];
  for (let i = 0; i < count; i += 1) {
    const box = products.nth(i);
    if (i < 2) {
      await box.check();
      chosen.push(await box.getAttribute("value"));
    } else {
      await box.uncheck();
    }
  }
  await page.fill("#variants", "2");
  await page.fill("#prompt", "A sunlit Scandinavian living room, soft morning light");
  await page.selectOption("#aspect-ratio", "4:3");

  // Record every value the progress bar takes from here on.
  await page.evaluate(() => {
    const bar = document.getElementById("progress");
    window.__percents = [Number(bar.dataset.percent)];
    new MutationObserver(() => {
      const value = Number(bar.dataset.percent);
      if (window.__percents.at(-1) !== value) window.__percents.push(value);
    }).observe(bar, { attributes: true, attributeFilter: ["data-percent"] });
  });

  await page.click("#submit-job");
  await page.waitForSelector("#job-id:not(:empty)");
  const jobId = await page.textContent("#job-id");
  assert.match(jobId, /^[a-z0-9-]{1,48}_[0-9a-hjkmnp-tv-z]{26}$/, "the enqueue reply's jobId");
  assert.equal(await page.isVisible("#job-error"), false, `enqueue failed: ${await page.textContent("#job-error")}`);

  // The job finishes: the badge says completed (or the test fails with what the page shows).
  await page.waitForFunction(
    () => ["completed", "failed", "cancelled"].includes(document.getElementById("job-status").dataset.status)
      || !document.getElementById("job-error").hidden,
    null,
    { timeout: jobTimeout, polling: 100 },
  );
  const finalStatus = await page.getAttribute("#job-status", "data-status");
  assert.equal(finalStatus, "completed", `the job ended ${finalStatus}: ${await page.textContent("#job-error")} ${await page.textContent("#progress-text")}`);

  const percents = await page.evaluate(() => window.__percents);
  t.diagnostic(`progress bar values: ${percents.join(" → ")}`);
  assert.equal(percents.at(-1), 100, "the bar ends full");
  assert.ok(percents.length >= 2, "the bar rose from where it started");
  for (let i = 1; i < percents.length; i += 1) {
    assert.ok(percents[i] >= percents[i - 1], `the bar never goes back: ${percents.join(", ")}`);
  }
  assert.equal(await page.getAttribute("#progress", "aria-valuenow"), "100");

  // Four images, each loaded, one per product × variant.
  const images = page.locator("#gallery figure img");
  await page.waitForFunction(
    () => {
      const imgs = [...document.querySelectorAll("#gallery figure img")];
      return imgs.length === 4 && imgs.every((img) => img.complete && img.naturalWidth > 0);
    },
    null,
    { timeout: 30_000, polling: 100 },
  );
  assert.equal(await images.count(), 4);
  assert.equal(await page.locator("#gallery .missing").count(), 0, "every image loaded");
  const figures = await page.$$eval("#gallery figure", (nodes) =>
    nodes.map((n) => `${n.dataset.productId}#${n.dataset.variant}|${n.querySelector("figcaption").textContent}`),
  );
  const pairs = figures.map((f) => f.split("|")[0]).sort();
  assert.equal(new Set(pairs).size, 4, `4 distinct product × variant pairs: ${pairs}`);
  assert.deepEqual([...new Set(pairs.map((p) => p.split("#")[0]))].sort(), [...chosen].sort());
  for (const f of figures) {
    const [pair, caption] = f.split("|");
    const [productId, variant] = pair.split("#");
    assert.ok(caption.includes(productId) && caption.includes(`variant ${variant}`), `caption names product and variant: ${caption}`);
  }
  assert.match(await page.textContent("#provider"), /4 images by the (offline|gemini) provider/);

  if (checkAnalyze) {
    await page.click("#submit-analyze");
    await page.waitForFunction(
      () => document.querySelectorAll("#analyze-results .analysis").length > 0 || !document.getElementById("analyze-error").hidden,
      null,
      { timeout: 30_000, polling: 100 },
    );
    const analyzeError = await page.isVisible("#analyze-error");
    if (analyzeError) {
      // A 503 from the Lane A limiter is a valid answer; the page must show its retryAfter.
      const text = await page.textContent("#analyze-error");
      assert.match(text, /503.*Retry in \d+ s/s, `analyze failed: ${text}`);
    } else {
      assert.ok((await page.locator("#analyze-results .analysis").count()) >= 1);
    }
  }

  await fs.mkdir(path.dirname(screenshot), { recursive: true });
  await page.locator("#job-heading").scrollIntoViewIfNeeded();
  await page.screenshot({ path: screenshot, fullPage: true });
  t.diagnostic(`screenshot: ${screenshot}`);

  assert.deepEqual(pageErrors.map(String), [], "no uncaught errors in the page");
  assert.deepEqual(consoleErrors, [], "no console errors");
});
