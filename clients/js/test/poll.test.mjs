// pollJobStatus against a local HTTP server that plays a scripted status sequence. The sleep is
// injected and records each delay, so the backoff is checked exactly without real waiting; one
// test checks the default sleep with mock.timers.
import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  DEFAULTS,
  JobStatusError,
  isTerminal,
  jobStatusUrl,
  pollJobStatus,
} from "../index.js";
import {
  FakeDocument,
  deferred,
  doc,
  ok,
  problem,
  progress,
  recordingSleep,
  scriptedServer,
  settle,
  waitFor,
} from "./helpers.mjs";

const JOB = "images_01jz0000000000000000000000";
const T = { timeout: 10_000 };

let servers = [];
async function serve(script) {
  const server = await scriptedServer(script);
  servers.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

/** Options for a test: the server's URL, a recording sleep, no document, callbacks recorded. */
function harness(server, extra = {}) {
  const { delays, sleep } = recordingSleep(extra.gate ? { gate: extra.gate } : {});
  const seen = { progress: [], complete: [], errors: [] };
  const options = {
    baseUrl: server.baseUrl,
    getToken: () => "token-1",
    sleep,
    document: null,
    onProgress: (s) => seen.progress.push(s),
    onComplete: (s) => seen.complete.push(s),
    onError: (e) => seen.errors.push(e),
    ...extra,
  };
  delete options.gate;
  return { options, delays, seen };
}

describe("backoff", () => {
  test("backs off while nothing changes and returns to the minimum when progress moves", T, async () => {
    const server = await serve([
      ok("queued"),
      ok("queued"),
      ok("queued"),
      ok("active", { progress: progress(0) }),
      ok("active", { progress: progress(0), updatedAt: 1_760_000_009_000 }), // heartbeat only
      ok("active", { progress: progress(2) }),
      ok("active", { progress: progress(2) }),
      ok("active", { progress: progress(2) }),
      ok("active", { progress: progress(2) }),
      ok("active", { progress: progress(2) }),
      ok("active", { progress: progress(2) }),
      ok("completed", { progress: progress(4), result: { imageIds: ["a", "b", "c", "d"], assets: [], failed: [], provider: "offline" } }),
      ok("completed"), // never requested
    ]);
    const { options, delays, seen } = harness(server);
    const final = await pollJobStatus(JOB, options);

    // 1000 × 1.5ⁿ up to 5000, reset to 1000 by each change (updatedAt alone is no change).
    assert.deepEqual(delays, [1000, 1500, 2250, 1000, 1500, 1000, 1500, 2250, 3375, 5000, 5000]);
    assert.equal(final.status, "completed");
    assert.deepEqual(final.result.imageIds, ["a", "b", "c", "d"]);
    assert.equal(server.requests.length, 12, "stops at the terminal state");
    assert.equal(server.remaining, 1);
    assert.deepEqual(
      seen.progress.map((s) => [s.status, s.progress?.percent ?? null]),
      [["queued", null], ["active", 0], ["active", 50], ["completed", 100]],
      "onProgress gets each changed document, the final one included",
    );
    assert.equal(seen.complete.length, 1);
    assert.equal(seen.complete[0], final);
    assert.deepEqual(seen.errors, []);
    for (const r of server.requests) {
      assert.equal(r.method, "GET");
      assert.equal(r.url, `/api/jobs/${JOB}`);
      assert.equal(r.authorization, "Bearer token-1");
      assert.equal(r.accept, "application/json");
    }
  });

  test("minDelayMs, maxDelayMs and factor are honoured", T, async () => {
    const server = await serve([ok("queued"), ok("queued"), ok("queued"), ok("queued"), ok("delayed"), ok("delayed"), ok("cancelled")]);
    const { options, delays } = harness(server, { minDelayMs: 100, maxDelayMs: 300, factor: 2 });
    await pollJobStatus(JOB, options);
    assert.deepEqual(delays, [100, 200, 300, 300, 100, 200]);
  });

  test("the defaults are 1 s to 5 s with factor 1.5 and 5 retries", () => {
    assert.deepEqual(
      { ...DEFAULTS },
      { minDelayMs: 1000, maxDelayMs: 5000, factor: 1.5, maxRetries: 5, notFoundRetries: 2, requestTimeoutMs: 15000 },
    );
  });

  test("the default sleep waits exactly the backoff on setTimeout (mock.timers)", T, async (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const answers = [doc("queued"), doc("queued"), doc("queued"), doc("completed")];
    let calls = 0;
    const fetch = async () => {
      calls += 1;
      return new Response(JSON.stringify(answers.shift()), { status: 200 });
    };
    const turn = async () => {
      for (let i = 0; i < 20; i += 1) await new Promise((resolve) => setImmediate(resolve));
    };
    const poll = pollJobStatus(JOB, { baseUrl: "http://status.invalid", fetch, document: null });
    await turn();
    assert.equal(calls, 1, "the first request is immediate");
    for (const [wait, expected] of [[1000, 2], [1500, 3], [2250, 4]]) {
      t.mock.timers.tick(wait - 1);
      await turn();
      assert.equal(calls, expected - 1, `not before ${wait} ms`);
      t.mock.timers.tick(1);
      await turn();
      assert.equal(calls, expected, `after ${wait} ms`);
    }
    assert.equal((await poll).status, "completed");
  });
});

describe("terminal states", () => {
  test("failed: resolves with the document and reports job_failed to onError", T, async () => {
    const server = await serve([ok("active"), ok("failed", { error: "safety block: prompt refused" }), ok("active")]);
    const { options, seen } = harness(server);
    const final = await pollJobStatus(JOB, options);
    assert.equal(final.status, "failed");
    assert.equal(server.requests.length, 2);
    assert.equal(seen.complete.length, 0);
    assert.equal(seen.errors.length, 1);
    const [error] = seen.errors;
    assert.ok(error instanceof JobStatusError);
    assert.equal(error.code, "job_failed");
    assert.equal(error.status, final);
    assert.match(error.message, /safety block: prompt refused/);
    assert.equal(error.retryable, false);
  });

  test("cancelled: resolves with the document and reports job_cancelled", T, async () => {
    const server = await serve([ok("queued"), ok("cancelled"), ok("active")]);
    const { options, seen } = harness(server);
    const final = await pollJobStatus(JOB, options);
    assert.equal(final.status, "cancelled");
    assert.equal(server.requests.length, 2);
    assert.deepEqual(seen.errors.map((e) => e.code), ["job_cancelled"]);
    assert.equal(seen.complete.length, 0);
  });

  test("an already finished job is one request and no sleep", T, async () => {
    const server = await serve([ok("completed"), ok("completed")]);
    const { options, delays, seen } = harness(server);
    await pollJobStatus(JOB, options);
    assert.equal(server.requests.length, 1);
    assert.deepEqual(delays, []);
    assert.equal(seen.complete.length, 1);
    assert.ok(isTerminal("completed") && isTerminal("failed") && isTerminal("cancelled"));
    assert.ok(!isTerminal("active") && !isTerminal("delayed") && !isTerminal("queued"));
  });
});

describe("401", () => {
  test("calls getToken once more with forceRefresh and repeats the request", T, async () => {
    const server = await serve([ok("queued"), problem(401, "Unauthorized", { detail: "token expired" }), ok("completed")]);
    const tokens = [];
    let n = 0;
    const { options, delays, seen } = harness(server, {
      getToken: async ({ forceRefresh }) => {
        tokens.push(forceRefresh);
        n += 1;
        return forceRefresh ? "fresh" : "stale";
      },
    });
    const final = await pollJobStatus(JOB, options);
    assert.equal(final.status, "completed");
    assert.deepEqual(tokens, [false, false, true]);
    assert.equal(n, 3);
    assert.deepEqual(server.requests.map((r) => r.authorization), ["Bearer stale", "Bearer stale", "Bearer fresh"]);
    assert.deepEqual(delays, [1000], "the repeat is immediate");
    assert.deepEqual(seen.errors, []);
  });

  test("a second 401 is reported as unauthorized", T, async () => {
    const server = await serve([problem(401, "Unauthorized", { detail: "bad signature" }), problem(401, "Unauthorized"), ok("completed")]);
    const tokens = [];
    const { options, seen } = harness(server, {
      getToken: ({ forceRefresh }) => {
        tokens.push(forceRefresh);
        return "t";
      },
    });
    const error = await pollJobStatus(JOB, options).then(
      () => assert.fail("should reject"),
      (e) => e,
    );
    assert.ok(error instanceof JobStatusError);
    assert.equal(error.code, "unauthorized");
    assert.equal(error.httpStatus, 401);
    assert.equal(error.problem.title, "Unauthorized");
    assert.deepEqual(tokens, [false, true]);
    assert.equal(server.requests.length, 2);
    assert.deepEqual(seen.errors, [error], "onError is called once with the same error");
  });

  test("without getToken a 401 is reported at once", T, async () => {
    const server = await serve([problem(401, "Unauthorized"), ok("completed")]);
    const { options } = harness(server, { getToken: undefined });
    await assert.rejects(pollJobStatus(JOB, options), { code: "unauthorized" });
    assert.equal(server.requests.length, 1);
    assert.equal(server.requests[0].authorization, null);
  });

  test("a getToken that throws is reported as token", T, async () => {
    const server = await serve([ok("completed")]);
    const { options } = harness(server, {
      getToken: () => {
        throw new Error("session expired");
      },
    });
    await assert.rejects(pollJobStatus(JOB, options), (e) => e.code === "token" && /session expired/.test(e.message));
    assert.equal(server.requests.length, 0);
  });
});

describe("404", () => {
  test("after the job was seen, a 404 is 'expired or unknown' at once", T, async () => {
    const server = await serve([ok("active", { progress: progress(1) }), problem(404, "Not Found"), ok("completed")]);
    const { options, seen } = harness(server);
    const error = await pollJobStatus(JOB, options).then(() => assert.fail("should reject"), (e) => e);
    assert.equal(error.code, "not_found");
    assert.equal(error.httpStatus, 404);
    assert.match(error.message, /expired or unknown/);
    assert.equal(server.requests.length, 2);
    assert.deepEqual(seen.errors, [error]);
  });

  test("a job never seen gets notFoundRetries more tries (a lagging replica), then not_found", T, async () => {
    const server = await serve([problem(404, "Not Found"), problem(404, "Not Found"), problem(404, "Not Found"), ok("completed")]);
    const { options, delays } = harness(server);
    await assert.rejects(pollJobStatus(JOB, options), { code: "not_found", message: /expired or unknown/ });
    assert.equal(server.requests.length, 3);
    assert.deepEqual(delays, [1000, 1500]);
  });

  test("a 404 right after enqueue that then resolves is no error", T, async () => {
    const server = await serve([problem(404, "Not Found"), ok("queued"), ok("completed")]);
    const { options, seen } = harness(server);
    assert.equal((await pollJobStatus(JOB, options)).status, "completed");
    assert.deepEqual(seen.errors, []);
  });

  test("notFoundRetries: 0 reports the first 404", T, async () => {
    const server = await serve([problem(404, "Not Found"), ok("completed")]);
    const { options } = harness(server, { notFoundRetries: 0 });
    await assert.rejects(pollJobStatus(JOB, options), { code: "not_found" });
    assert.equal(server.requests.length, 1);
  });
});

describe("abort", () => {
  test("aborting during the wait rejects with the signal's reason and makes no more requests", T, async () => {
    const server = await serve([ok("queued"), ok("queued"), ok("queued")]);
    const controller = new AbortController();
    const gate = deferred();
    const { options, seen } = harness(server, {
      signal: controller.signal,
      gate: (ms, signal) =>
        new Promise((resolve, reject) => {
          gate.resolve();
          signal.addEventListener("abort", () => reject(signal.reason), { once: true });
        }),
    });
    const poll = pollJobStatus(JOB, options);
    await gate.promise;
    controller.abort();
    await assert.rejects(poll, { name: "AbortError" });
    await settle();
    assert.equal(server.requests.length, 1);
    assert.deepEqual(seen.errors, [], "abort is not reported to onError");
  });

  test("stop() rejects with an AbortError", T, async () => {
    const server = await serve([ok("queued"), ok("queued")]);
    const gate = deferred();
    const { options } = harness(server, {
      gate: (ms, signal) =>
        new Promise((resolve, reject) => {
          gate.resolve();
          signal.addEventListener("abort", () => reject(signal.reason), { once: true });
        }),
    });
    const poll = pollJobStatus(JOB, options);
    await gate.promise;
    poll.stop();
    await assert.rejects(poll, (e) => e.name === "AbortError" && /stopped/.test(e.message));
    assert.equal(server.requests.length, 1);
  });

  test("aborting during a request cancels it", T, async () => {
    const server = await serve([{ hang: true }]);
    const controller = new AbortController();
    const { options } = harness(server, { signal: controller.signal });
    const poll = pollJobStatus(JOB, options);
    await waitFor(() => server.requests.length === 1, { what: "the request" });
    const reason = new Error("user left");
    controller.abort(reason);
    await assert.rejects(poll, (e) => e === reason);
  });

  test("an already aborted signal makes no request", T, async () => {
    const server = await serve([ok("completed")]);
    const { options } = harness(server, { signal: AbortSignal.abort() });
    await assert.rejects(pollJobStatus(JOB, options), { name: "AbortError" });
    await settle();
    assert.equal(server.requests.length, 0);
  });
});

describe("retries", () => {
  test("5xx and network errors retry with the backoff, honouring Retry-After", T, async () => {
    const server = await serve([
      problem(500, "Internal Server Error"),
      problem(502, "Bad Gateway"),
      { destroy: true },
      { ...problem(503, "Service Unavailable"), headers: { "retry-after": "7" } },
      ok("queued"),
      problem(500, "Internal Server Error"),
      ok("completed"),
    ]);
    const { options, delays, seen } = harness(server);
    const final = await pollJobStatus(JOB, options);
    assert.equal(final.status, "completed");
    assert.equal(server.requests.length, 7);
    assert.deepEqual(delays, [1000, 1500, 2250, 7000, 1000, 1500]);
    assert.deepEqual(seen.errors, []);
  });

  test("429 and a 200 without a status document are retried too", T, async () => {
    const server = await serve([
      { ...problem(429, "Too Many Requests", { retryAfter: 2 }) },
      { status: 200, body: "<html>captive portal</html>", contentType: "text/html" },
      ok("completed"),
    ]);
    const { options, delays } = harness(server);
    assert.equal((await pollJobStatus(JOB, options)).status, "completed");
    assert.deepEqual(delays, [2000, 1500]);
  });

  test("a request with no answer times out and is retried", T, async () => {
    const server = await serve([{ hang: true }, ok("completed")]);
    const { options, delays } = harness(server, { requestTimeoutMs: 100 });
    assert.equal((await pollJobStatus(JOB, options)).status, "completed");
    assert.equal(server.requests.length, 2);
    assert.deepEqual(delays, [1000]);
  });

  test("gives up after maxRetries failures in a row", T, async () => {
    const server = await serve([problem(500, "a"), problem(503, "b"), problem(500, "c"), ok("completed")]);
    const { options, delays, seen } = harness(server, { maxRetries: 2 });
    const error = await pollJobStatus(JOB, options).then(() => assert.fail("should reject"), (e) => e);
    assert.equal(error.code, "server");
    assert.equal(error.httpStatus, 500);
    assert.equal(error.attempts, 3);
    assert.equal(error.retryable, true);
    assert.match(error.message, /gave up after 3 attempts/);
    assert.equal(server.requests.length, 3);
    assert.deepEqual(delays, [1000, 1500]);
    assert.deepEqual(seen.errors, [error]);
  });

  test("network errors count towards the limit as well", T, async () => {
    const server = await serve([{ destroy: true }, { destroy: true }]);
    const { options } = harness(server, { maxRetries: 1 });
    await assert.rejects(pollJobStatus(JOB, options), (e) => e.code === "network" && e.attempts === 2);
    assert.equal(server.requests.length, 2);
  });

  test("the count restarts after a good answer", T, async () => {
    const server = await serve([problem(500, "a"), problem(500, "b"), ok("queued"), problem(500, "c"), problem(500, "d"), ok("completed")]);
    const { options } = harness(server, { maxRetries: 2 });
    assert.equal((await pollJobStatus(JOB, options)).status, "completed");
    assert.equal(server.requests.length, 6);
  });

  test("a connection refused is a network error", T, async () => {
    const server = await serve([]);
    const baseUrl = server.baseUrl;
    await server.close();
    servers = servers.filter((s) => s !== server);
    const { delays, sleep } = recordingSleep();
    await assert.rejects(
      pollJobStatus(JOB, { baseUrl, sleep, document: null, maxRetries: 1 }),
      (e) => e.code === "network" && /Could not reach/.test(e.message),
    );
    assert.deepEqual(delays, [1000]);
  });

  test("other 4xx answers are reported at once", T, async () => {
    const server = await serve([problem(403, "Forbidden", { detail: "not yours" }), ok("completed")]);
    const { options } = harness(server);
    await assert.rejects(pollJobStatus(JOB, options), (e) => e.code === "http" && e.httpStatus === 403 && /not yours/.test(e.message));
    assert.equal(server.requests.length, 1);
  });
});

describe("visibility", () => {
  test("a hidden page makes no request until it is visible again", T, async () => {
    const server = await serve([ok("queued"), ok("completed")]);
    const page = new FakeDocument("hidden");
    const { options, delays } = harness(server, { document: page });
    const poll = pollJobStatus(JOB, options);
    await settle(50);
    assert.equal(server.requests.length, 0);
    page.set("hidden"); // another hidden event is no resume
    await settle(20);
    assert.equal(server.requests.length, 0);
    page.set("visible");
    assert.equal((await poll).status, "completed");
    assert.equal(server.requests.length, 2);
    assert.deepEqual(delays, [1000]);
  });

  test("hiding the page pauses polling; showing it resumes at the minimum delay", T, async () => {
    const server = await serve([ok("queued"), ok("queued"), ok("queued"), ok("queued"), ok("completed")]);
    const page = new FakeDocument("visible");
    const { options, delays } = harness(server, { document: page });
    options.sleep = (() => {
      const inner = options.sleep;
      return async (ms, signal) => {
        await inner(ms, signal);
        // Hidden during the third wait.
        if (delays.length === 3) page.set("hidden");
      };
    })();
    const poll = pollJobStatus(JOB, options);
    await waitFor(() => server.requests.length === 3 && page.visibilityState === "hidden", { what: "the pause" });
    await settle(50);
    assert.equal(server.requests.length, 3, "no request while hidden");
    page.set("visible");
    assert.equal((await poll).status, "completed");
    assert.deepEqual(delays, [1000, 1500, 2250, 1000]);
  });

  test("aborting while paused rejects", T, async () => {
    const server = await serve([ok("completed")]);
    const page = new FakeDocument("hidden");
    const controller = new AbortController();
    const { options } = harness(server, { document: page, signal: controller.signal });
    const poll = pollJobStatus(JOB, options);
    await settle(20);
    controller.abort();
    await assert.rejects(poll, { name: "AbortError" });
    assert.equal(server.requests.length, 0);
  });
});

describe("arguments", () => {
  test("bad arguments throw a TypeError at once", () => {
    assert.throws(() => pollJobStatus("", { baseUrl: "http://x" }), TypeError);
    assert.throws(() => pollJobStatus(JOB, {}), /baseUrl is required/);
    assert.throws(() => pollJobStatus(JOB, { baseUrl: "http://x", factor: 0.5 }), /factor/);
    assert.throws(() => pollJobStatus(JOB, { baseUrl: "http://x", minDelayMs: 10, maxDelayMs: 5 }), /maxDelayMs/);
    assert.throws(() => pollJobStatus(JOB, { baseUrl: "http://x", onComplete: "no" }), /onComplete/);
  });

  test("fetch is called as a plain function, as a browser's fetch requires", T, async () => {
    const thisValues = [];
    const fetch = function (url, init) {
      thisValues.push(this);
      return Promise.resolve(new Response(JSON.stringify(doc("completed")), { status: 200 }));
    };
    await pollJobStatus(JOB, { baseUrl: "http://status.invalid", fetch, document: null });
    assert.deepEqual(thisValues, [undefined]);
  });

  test("jobStatusUrl escapes the id and ignores a trailing slash", () => {
    assert.equal(jobStatusUrl("https://s.example/", "images_abc"), "https://s.example/api/jobs/images_abc");
    assert.equal(jobStatusUrl("https://s.example", "a/b?c"), "https://s.example/api/jobs/a%2Fb%3Fc");
    assert.equal(jobStatusUrl("", "j"), "/api/jobs/j");
  });

  test("an exception in a callback stops polling and rejects with it", T, async () => {
    const server = await serve([ok("queued"), ok("completed")]);
    const boom = new Error("boom");
    const { options, seen } = harness(server, {
      onProgress: () => {
        throw boom;
      },
    });
    await assert.rejects(pollJobStatus(JOB, options), (e) => e === boom);
    assert.equal(server.requests.length, 1);
    assert.deepEqual(seen.errors, []);
  });
});
