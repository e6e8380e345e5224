// useJobStatus under react-test-renderer, against the same scripted status server. Rendering is
// left to React's scheduler (no act environment), and each check waits, bounded, for the
// rendered state.
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import React from "react";
import TestRenderer from "react-test-renderer";
import { useJobStatus } from "../react.js";
import { ok, problem, progress, recordingSleep, scriptedServer, settle, waitFor } from "./helpers.mjs";

const T = { timeout: 10_000 };
globalThis.IS_REACT_ACT_ENVIRONMENT = false;

// react-test-renderer 19 announces its deprecation once per process; keep the output clean.
const originalError = console.error;
before(() => {
  console.error = (...args) => {
    if (typeof args[0] === "string" && args[0].includes("react-test-renderer is deprecated")) return;
    originalError(...args);
  };
});
after(() => {
  console.error = originalError;
});

let servers = [];
let roots = [];
async function serve(script) {
  const server = await scriptedServer(script);
  servers.push(server);
  return server;
}
afterEach(async () => {
  for (const root of roots) root.unmount();
  roots = [];
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

/**
 * Renders a component that calls the hook and waits for its first render; `renders` holds
 * every value the hook returned.
 */
async function mount(jobId, options) {
  const renders = [];
  function Probe(props) {
    const value = useJobStatus(props.jobId, props.options);
    renders.push(value);
    return null;
  }
  const element = (id, opts) => React.createElement(Probe, { jobId: id, options: opts });
  const root = TestRenderer.create(element(jobId, options));
  roots.push(root);
  await waitFor(() => renders.length > 0, { what: "the first render" });
  return {
    renders,
    latest: () => renders.at(-1),
    update: (id, opts = options) => root.update(element(id, opts)),
    unmount: () => {
      root.unmount();
      roots = roots.filter((r) => r !== root);
    },
  };
}

/** Fast polling: the backoff is recorded, each wait is one event-loop turn. */
function fastOptions(server, extra = {}) {
  const { delays, sleep } = recordingSleep();
  return { delays, options: { baseUrl: server.baseUrl, getToken: () => "t", sleep, document: null, ...extra } };
}

describe("useJobStatus", () => {
  test("a null jobId is idle and makes no request", T, async () => {
    const server = await serve([ok("completed")]);
    const { options } = fastOptions(server);
    const view = await mount(null, options);
    await settle(50);
    assert.deepEqual(view.latest(), { status: null, isPolling: false, error: null });
    assert.equal(server.requests.length, 0);
  });

  test("polls to completion: status follows progress, onComplete is called, isPolling ends", T, async () => {
    const server = await serve([
      ok("queued"),
      ok("active", { progress: progress(1) }),
      ok("active", { progress: progress(3) }),
      ok("completed", { progress: progress(4), result: { imageIds: ["a"], assets: [], failed: [], provider: "offline" } }),
    ]);
    const completed = [];
    const { options, delays } = fastOptions(server);
    const view = await mount("images_job1", { ...options, onComplete: (s) => completed.push(s) });
    assert.equal(view.latest().isPolling, true, "polling from the first render");
    await waitFor(() => view.latest().isPolling === false, { what: "the end of polling" });
    const { status, error } = view.latest();
    assert.equal(status.status, "completed");
    assert.equal(status.progress.percent, 100);
    assert.equal(error, null);
    assert.equal(completed.length, 1);
    assert.equal(server.requests.length, 4);
    assert.deepEqual(delays, [1000, 1000, 1000]);
    const seen = [...new Set(view.renders.map((r) => r.status && `${r.status.status}:${r.status.progress?.percent ?? "-"}`))];
    assert.deepEqual(seen.filter(Boolean), ["queued:-", "active:25", "active:75", "completed:100"]);
  });

  test("the latest callbacks are used without restarting polling", T, async () => {
    const server = await serve([ok("queued"), ok("queued"), ok("completed")]);
    const calls = [];
    const gate = { open: null };
    const { options } = fastOptions(server, {
      sleep: (ms, signal) =>
        new Promise((resolve, reject) => {
          gate.open = resolve;
          signal.addEventListener("abort", () => reject(signal.reason), { once: true });
        }),
    });
    const view = await mount("images_job1", { ...options, onComplete: () => calls.push("first") });
    await waitFor(() => gate.open, { what: "the first wait" });
    view.update("images_job1", { ...options, onComplete: () => calls.push("second") });
    await settle(20);
    for (let i = 0; i < 2; i += 1) {
      const open = gate.open;
      gate.open = null;
      open();
      await waitFor(() => gate.open || view.latest().isPolling === false, { what: "the next wait" });
    }
    await waitFor(() => view.latest().isPolling === false, { what: "the end" });
    assert.deepEqual(calls, ["second"]);
    assert.equal(server.requests.length, 3, "one poll, not restarted by new callbacks");
  });

  test("unmounting stops polling", T, async () => {
    const server = await serve(Array.from({ length: 1000 }, () => ok("queued")));
    const { options } = fastOptions(server, {
      sleep: (ms, signal) =>
        new Promise((resolve, reject) => {
          const timer = setTimeout(resolve, 5);
          signal.addEventListener("abort", () => {
            clearTimeout(timer);
            reject(signal.reason);
          }, { once: true });
        }),
    });
    const errors = [];
    const view = await mount("images_job1", { ...options, onError: (e) => errors.push(e) });
    await waitFor(() => server.requests.length >= 3, { what: "a few polls" });
    view.unmount();
    const count = server.requests.length;
    await settle(100);
    assert.ok(server.requests.length <= count + 1, "at most the request in flight completes");
    const settled = server.requests.length;
    await settle(50);
    assert.equal(server.requests.length, settled);
    assert.deepEqual(errors, [], "unmount is not an error");
  });

  test("a new jobId restarts polling for that job; null goes idle", T, async () => {
    const answer = (req) => (req.url.endsWith("/a") ? ok("active", { jobId: "a" }) : ok("completed", { jobId: "b" }));
    const server = await serve(Array.from({ length: 200 }, () => answer));
    const { options } = fastOptions(server, {
      sleep: (ms, signal) =>
        new Promise((resolve, reject) => {
          const timer = setTimeout(resolve, 10);
          signal.addEventListener("abort", () => {
            clearTimeout(timer);
            reject(signal.reason);
          }, { once: true });
        }),
    });
    const view = await mount("a", options);
    await waitFor(() => view.latest().status?.jobId === "a", { what: "job a" });
    view.update("b");
    // Never the previous job's state under the new id.
    await waitFor(() => view.latest().isPolling === false, { what: "job b to finish" });
    assert.equal(view.latest().status.jobId, "b");
    assert.equal(view.latest().status.status, "completed");
    const afterB = view.renders.slice(view.renders.findIndex((r) => r.status?.jobId === "b"));
    assert.ok(afterB.every((r) => r.status?.jobId !== "a"));
    const aRequests = server.requests.filter((r) => r.url.endsWith("/a")).length;
    await settle(60);
    assert.equal(server.requests.filter((r) => r.url.endsWith("/a")).length, aRequests, "job a is no longer polled");
    view.update(null);
    await waitFor(() => view.latest().status === null, { what: "idle" });
    assert.deepEqual(view.latest(), { status: null, isPolling: false, error: null });
  });

  test("a 404 sets error (not_found) and calls onError", T, async () => {
    const server = await serve([problem(404, "Not Found")]);
    const errors = [];
    const { options } = fastOptions(server, { notFoundRetries: 0 });
    const view = await mount("images_gone", { ...options, onError: (e) => errors.push(e) });
    await waitFor(() => view.latest().isPolling === false, { what: "the error" });
    assert.equal(view.latest().error.code, "not_found");
    assert.match(view.latest().error.message, /expired or unknown/);
    assert.equal(view.latest().status, null);
    assert.deepEqual(errors.map((e) => e.code), ["not_found"]);
  });

  test("a failed job: status is the failed document and error is job_failed", T, async () => {
    const server = await serve([ok("active"), ok("failed", { error: "all keys invalid" })]);
    const { options } = fastOptions(server);
    const view = await mount("images_bad", options);
    await waitFor(() => view.latest().isPolling === false, { what: "the end" });
    assert.equal(view.latest().status.status, "failed");
    assert.equal(view.latest().error.code, "job_failed");
    assert.match(view.latest().error.message, /all keys invalid/);
  });

  test("bad options are reported as error instead of throwing in render", T, async () => {
    const errors = [];
    const view = await mount("images_x", { onError: (e) => errors.push(e) });
    await waitFor(() => view.latest().isPolling === false, { what: "the error" });
    assert.ok(view.latest().error instanceof TypeError);
    assert.equal(errors.length, 1);
  });
});
