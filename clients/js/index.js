// Scenergy jobs: the job-status polling client.
//
// Plain ESM with no dependencies and no build step; types are in index.d.ts. It polls
// `GET {baseUrl}/api/jobs/{jobId}` (see openapi.yaml, `getJobStatus`) with exponential backoff
// and stops by itself once the job is completed, failed or cancelled. README.md documents
// the options, the defaults and the error semantics.

/** The statuses after which a job never changes again. */
export const TERMINAL_STATUSES = Object.freeze(["completed", "failed", "cancelled"]);

/** Every status a job can have (openapi.yaml, `JobStatus.status`). */
export const JOB_STATUSES = Object.freeze([
  "queued",
  "delayed",
  "active",
  "completed",
  "failed",
  "cancelled",
]);

/** The defaults of the numeric options. */
export const DEFAULTS = Object.freeze({
  minDelayMs: 1000,
  maxDelayMs: 5000,
  factor: 1.5,
  maxRetries: 5,
  notFoundRetries: 2,
  requestTimeoutMs: 15000,
});

/** The longest `Retry-After` (seconds) that is honoured as given; longer ones are capped. */
const MAX_RETRY_AFTER_S = 300;

/**
 * An error from polling, or the report of a job that ended without completing.
 * `code` says which; see index.d.ts for the list.
 */
export class JobStatusError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   * @param {{jobId?: string, httpStatus?: number, problem?: unknown, status?: unknown,
   *          attempts?: number, retryAfterMs?: number, cause?: unknown}} [details]
   */
  constructor(code, message, details = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "JobStatusError";
    this.code = code;
    this.jobId = details.jobId ?? null;
    this.httpStatus = details.httpStatus ?? null;
    this.problem = details.problem ?? null;
    this.status = details.status ?? null;
    this.attempts = details.attempts ?? 0;
    this.retryAfterMs = details.retryAfterMs ?? null;
  }

  /** True for an error that another try later may cure (network, 5xx, 429). */
  get retryable() {
    return this.code === "network" || this.code === "server" || this.code === "rate_limited"
      || this.code === "bad_response";
  }
}

/** True when `status` is completed, failed or cancelled. */
export function isTerminal(status) {
  return TERMINAL_STATUSES.includes(status);
}

/** `{baseUrl}/api/jobs/{jobId}`, with the id escaped and a trailing slash of baseUrl ignored. */
export function jobStatusUrl(baseUrl, jobId) {
  const base = String(baseUrl ?? "").replace(/\/+$/, "");
  return `${base}/api/jobs/${encodeURIComponent(jobId)}`;
}

/**
 * Polls a job's status until it is completed, failed or cancelled.
 *
 * Returns a promise of the final status document (for all three terminal statuses), with a
 * `stop()` method. It rejects with a JobStatusError when polling cannot go on (404, 401 after
 * one token refresh, other 4xx, retries used up), and with the abort reason (an `AbortError`)
 * after `signal` aborts or `stop()` is called.
 *
 * @param {string} jobId
 * @param {import('./index.js').PollOptions} options
 * @returns {import('./index.js').JobPoll}
 */
export function pollJobStatus(jobId, options = {}) {
  if (typeof jobId !== "string" || jobId === "") {
    throw new TypeError("pollJobStatus: jobId must be a non-empty string");
  }
  const o = normalise(options);
  const controller = new AbortController();
  const outer = options.signal;
  const forward = () => controller.abort(outer.reason);
  if (outer) {
    if (outer.aborted) controller.abort(outer.reason);
    else outer.addEventListener("abort", forward, { once: true });
  }
  const promise = run(jobId, o, controller.signal).finally(() => {
    if (outer) outer.removeEventListener("abort", forward);
  });
  return Object.assign(promise, {
    stop(reason) {
      controller.abort(reason ?? abortError("Polling was stopped"));
    },
  });
}

function normalise(options) {
  if (options === null || typeof options !== "object") {
    throw new TypeError("pollJobStatus: options must be an object");
  }
  const o = { ...DEFAULTS };
  for (const key of Object.keys(DEFAULTS)) {
    if (options[key] !== undefined) o[key] = options[key];
  }
  const positive = (key) => {
    if (typeof o[key] !== "number" || !Number.isFinite(o[key]) || o[key] < 0) {
      throw new TypeError(`pollJobStatus: ${key} must be a finite number >= 0`);
    }
  };
  ["minDelayMs", "maxDelayMs", "maxRetries", "notFoundRetries", "requestTimeoutMs"].forEach(positive);
  if (o.maxDelayMs < o.minDelayMs) {
    throw new TypeError("pollJobStatus: maxDelayMs must be >= minDelayMs");
  }
  if (typeof o.factor !== "number" || !Number.isFinite(o.factor) || o.factor < 1) {
    throw new TypeError("pollJobStatus: factor must be a finite number >= 1");
  }
  for (const key of ["getToken", "onProgress", "onComplete", "onError", "fetch", "sleep"]) {
    if (options[key] != null && typeof options[key] !== "function") {
      throw new TypeError(`pollJobStatus: ${key} must be a function`);
    }
  }
  if (options.baseUrl == null) {
    throw new TypeError("pollJobStatus: baseUrl is required (the status function's URL)");
  }
  const fetchImpl = options.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== "function") {
    throw new TypeError("pollJobStatus: no fetch available; pass options.fetch");
  }
  return {
    ...o,
    baseUrl: String(options.baseUrl),
    getToken: options.getToken ?? null,
    onProgress: options.onProgress ?? null,
    onComplete: options.onComplete ?? null,
    onError: options.onError ?? null,
    fetch: fetchImpl,
    sleep: options.sleep ?? defaultSleep,
    document: options.document !== undefined ? options.document : globalThis.document,
  };
}

async function run(jobId, o, signal) {
  const url = jobStatusUrl(o.baseUrl, jobId);
  let delay = o.minDelayMs; // the wait before the next request, unless something changes
  let failures = 0; // consecutive retryable failures
  let notFound = 0; // 404s before the job was ever seen
  let seen = false;
  let lastKey = null;
  try {
    for (;;) {
      signal.throwIfAborted();
      if (await waitUntilVisible(o.document, signal)) delay = o.minDelayMs;
      const outcome = await request(url, jobId, o, signal);
      signal.throwIfAborted();

      let wait;
      if (outcome.doc) {
        failures = 0;
        seen = true;
        const doc = outcome.doc;
        const key = fingerprint(doc);
        if (key !== lastKey) {
          lastKey = key;
          delay = o.minDelayMs;
          if (o.onProgress) await o.onProgress(doc);
        }
        if (isTerminal(doc.status)) {
          if (doc.status === "completed") {
            if (o.onComplete) await o.onComplete(doc);
          } else if (o.onError) {
            await o.onError(jobEnded(jobId, doc));
          }
          return doc;
        }
        wait = delay;
      } else {
        const error = outcome.error;
        if (error.code === "not_found") {
          // Right after the enqueue a lagging replica may not have the job yet (openapi.yaml);
          // once the job was seen, a 404 means its status expired.
          if (seen || notFound >= o.notFoundRetries) throw error;
          notFound += 1;
        } else if (error.retryable) {
          failures += 1;
          if (failures > o.maxRetries) {
            error.attempts = failures;
            error.message += ` (gave up after ${failures} attempts)`;
            throw error;
          }
        } else {
          throw error;
        }
        wait = Math.max(delay, error.retryAfterMs ?? 0);
      }
      delay = Math.min(delay * o.factor, o.maxDelayMs);
      await o.sleep(wait, signal);
    }
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    if (error instanceof JobStatusError && o.onError) await o.onError(error);
    throw error;
  }
}

/** What counts as a change: status, progress, result, error and attempts (not updatedAt). */
function fingerprint(doc) {
  return JSON.stringify([
    doc.status,
    doc.progress ?? null,
    doc.result ?? null,
    doc.error ?? null,
    doc.attempts ?? null,
  ]);
}

function jobEnded(jobId, doc) {
  if (doc.status === "failed") {
    return new JobStatusError("job_failed", `Job ${jobId} failed: ${doc.error || "no reason given"}`, {
      jobId,
      status: doc,
    });
  }
  return new JobStatusError("job_cancelled", `Job ${jobId} was cancelled`, { jobId, status: doc });
}

/** One GET, with one token refresh on 401. Resolves to `{doc}` or `{error}`; rejects on abort. */
async function request(url, jobId, o, signal) {
  let response = await get(url, jobId, o, signal, false);
  if (response.status === 401 && o.getToken) {
    response = await get(url, jobId, o, signal, true);
  }
  if (response.error) return response;
  return interpret(response, jobId);
}

async function get(url, jobId, o, signal, forceRefresh) {
  let token;
  if (o.getToken) {
    try {
      token = await o.getToken({ forceRefresh });
    } catch (cause) {
      signal.throwIfAborted();
      return {
        error: new JobStatusError("token", `getToken failed: ${describe(cause)}`, { jobId, cause }),
      };
    }
    signal.throwIfAborted();
  }
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const timeout = new AbortController();
  const onAbort = () => timeout.abort(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(() => timeout.abort(new Error("timed out")), o.requestTimeoutMs);
  try {
    // Called as a plain function: a browser's fetch throws "Illegal invocation" when called as
    // a method of another object.
    const fetchImpl = o.fetch;
    const response = await fetchImpl(url, {
      method: "GET",
      headers,
      cache: "no-store",
      signal: timeout.signal,
    });
    // Read the body inside the timeout too.
    const text = await response.text();
    return { status: response.status, headers: response.headers, text };
  } catch (cause) {
    signal.throwIfAborted();
    const why = timeout.signal.aborted ? `no answer within ${o.requestTimeoutMs} ms` : describe(cause);
    return {
      error: new JobStatusError("network", `Could not reach the status endpoint: ${why}`, {
        jobId,
        cause,
      }),
    };
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
  }
}

function interpret(response, jobId) {
  const { status, text } = response;
  const body = parseJson(text);
  if (status === 200) {
    if (!body || typeof body !== "object" || !JOB_STATUSES.includes(body.status)) {
      return {
        error: new JobStatusError("bad_response", "The status endpoint answered 200 without a job status document", {
          jobId,
          httpStatus: status,
        }),
      };
    }
    return { doc: body };
  }
  const problem = body && typeof body === "object" ? body : null;
  const detail = problem && (problem.detail || problem.title);
  const details = { jobId, httpStatus: status, problem };
  if (status === 404) {
    return {
      error: new JobStatusError(
        "not_found",
        `Job ${jobId} is expired or unknown (a job's status is kept for 1 hour after its last change)`,
        details,
      ),
    };
  }
  if (status === 401) {
    return {
      error: new JobStatusError(
        "unauthorized",
        `The status endpoint refused the token (401${detail ? `: ${detail}` : ""})`,
        details,
      ),
    };
  }
  const retryAfterMs = retryAfter(response.headers, problem);
  if (status === 429) {
    return {
      error: new JobStatusError("rate_limited", `Too many status requests (429${detail ? `: ${detail}` : ""})`, {
        ...details,
        retryAfterMs,
      }),
    };
  }
  if (status >= 500) {
    return {
      error: new JobStatusError("server", `The status endpoint failed (${status}${detail ? `: ${detail}` : ""})`, {
        ...details,
        retryAfterMs,
      }),
    };
  }
  return {
    error: new JobStatusError("http", `The status endpoint answered ${status}${detail ? `: ${detail}` : ""}`, details),
  };
}

function retryAfter(headers, problem) {
  let seconds = Number.NaN;
  const header = headers && typeof headers.get === "function" ? headers.get("retry-after") : null;
  if (header != null && /^\s*\d+\s*$/.test(header)) seconds = Number(header);
  else if (problem && Number.isInteger(problem.retryAfter)) seconds = problem.retryAfter;
  if (!Number.isFinite(seconds) || seconds < 0) return undefined;
  return Math.min(seconds, MAX_RETRY_AFTER_S) * 1000;
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function describe(error) {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : "";
    return `${error.message}${cause}`;
  }
  return String(error);
}

/** Waits while `document.visibilityState` is hidden; true if it waited. */
function waitUntilVisible(doc, signal) {
  if (!doc || doc.visibilityState !== "hidden" || typeof doc.addEventListener !== "function") {
    return Promise.resolve(false);
  }
  return new Promise((resolve, reject) => {
    const onChange = () => {
      if (doc.visibilityState === "hidden") return;
      cleanup();
      resolve(true);
    };
    const onAbort = () => {
      cleanup();
      reject(signal.reason);
    };
    const cleanup = () => {
      doc.removeEventListener("visibilitychange", onChange);
      signal.removeEventListener("abort", onAbort);
    };
    doc.addEventListener("visibilitychange", onChange);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function defaultSleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function abortError(message) {
  return new DOMException(message, "AbortError");
}
