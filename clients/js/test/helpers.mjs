// Test helpers: a local HTTP server that plays a scripted status sequence, a recording sleep,
// a fake document, and a bounded wait.
import http from "node:http";

/** A status document as the status function sends it. */
export function doc(status, extra = {}) {
  return {
    jobId: "images_01jz0000000000000000000000",
    clientId: "test-client",
    type: "image_generation",
    status,
    progress: null,
    result: null,
    error: null,
    attempts: status === "queued" ? 0 : 1,
    createdAt: 1_760_000_000_000,
    updatedAt: 1_760_000_000_000,
    ...extra,
  };
}

/** Progress as the worker writes it. */
export function progress(completed, total = 4, failed = 0) {
  return { total, completed, failed, percent: Math.round((100 * (completed + failed)) / total) };
}

export const ok = (status, extra) => ({ status: 200, body: doc(status, extra) });
export const problem = (status, title, extra = {}) => ({
  status,
  contentType: "application/problem+json",
  body: { type: "about:blank", title, ...extra },
});

/**
 * Starts a server on 127.0.0.1 (port 0) answering GET /api/jobs/{id} from `script`, one step
 * per request, in order. A step is `{status, body, headers, contentType}`, `{destroy: true}`
 * (drops the connection: a network error), `{hang: true}` (never answers), or a function
 * `(req) => step`. Past the end of the script it answers 599 and counts an overrun.
 */
export async function scriptedServer(script = []) {
  const requests = [];
  const hanging = new Set();
  let overruns = 0;
  const steps = [...script];
  const server = http.createServer((req, res) => {
    requests.push({
      method: req.method,
      url: req.url,
      authorization: req.headers.authorization ?? null,
      accept: req.headers.accept ?? null,
    });
    let step = steps.shift();
    if (typeof step === "function") step = step(req);
    if (!step) {
      overruns += 1;
      res.writeHead(599, { "content-type": "text/plain" }).end("script exhausted");
      return;
    }
    if (step.destroy) {
      req.socket.destroy();
      return;
    }
    if (step.hang) {
      hanging.add(res);
      res.on("close", () => hanging.delete(res));
      return;
    }
    const body = step.body === undefined ? "" : typeof step.body === "string" ? step.body : JSON.stringify(step.body);
    res.writeHead(step.status ?? 200, {
      "content-type": step.contentType ?? "application/json",
      "cache-control": "no-store",
      ...(step.headers ?? {}),
    });
    res.end(body);
  });
  server.keepAliveTimeout = 1000;
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address();
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    get overruns() {
      return overruns;
    },
    get remaining() {
      return steps.length;
    },
    /** Appends steps while the test runs. */
    push(...more) {
      steps.push(...more);
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * A sleep that records each delay and returns at once (or when `gate` says so), so the test
 * checks the exact backoff without waiting.
 */
export function recordingSleep({ gate } = {}) {
  const delays = [];
  const sleep = async (ms, signal) => {
    delays.push(ms);
    signal.throwIfAborted();
    if (gate) await gate(ms, signal);
    signal.throwIfAborted();
    // Give the event loop a turn, as a real timer would.
    await new Promise((resolve) => setImmediate(resolve));
    signal.throwIfAborted();
  };
  return { delays, sleep };
}

/** A document stand-in with a settable visibilityState. */
export class FakeDocument extends EventTarget {
  constructor(visibilityState = "visible") {
    super();
    this.visibilityState = visibilityState;
  }

  set(state) {
    this.visibilityState = state;
    this.dispatchEvent(new Event("visibilitychange"));
  }
}

/** Waits until `predicate()` is true, checking every few ms, for at most `timeoutMs`. */
export async function waitFor(predicate, { timeoutMs = 5000, what = "condition" } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Lets pending I/O and promise callbacks run for `ms` real milliseconds. */
export const settle = (ms = 30) => new Promise((resolve) => setTimeout(resolve, ms));

/** A deferred promise. */
export function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
