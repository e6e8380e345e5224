// Types of index.js, the job-status polling client (written by hand; index.js is plain ESM).

/** A job's status (openapi.yaml, `JobStatus.status`). */
export type JobState = "queued" | "delayed" | "active" | "completed" | "failed" | "cancelled";

/** The terminal statuses, after which polling stops. */
export type TerminalJobState = "completed" | "failed" | "cancelled";

/** The worker's progress of an image job. */
export interface JobProgress {
  total: number;
  completed: number;
  failed: number;
  /** 0-100. */
  percent: number;
  [key: string]: unknown;
}

/** One stored image of a finished image job. */
export interface JobAsset {
  id: string;
  /** An `http(s)://` URL (R2/S3), or a `file://` path with the filesystem storage backend. */
  url: string;
  productId: string;
  variant: number;
  [key: string]: unknown;
}

/** A product × variant that could not be generated. */
export interface JobItemFailure {
  productId: string;
  variant: number;
  reason: string;
  [key: string]: unknown;
}

/** The result of a finished image job. */
export interface ImageJobResult {
  imageIds: string[];
  assets: JobAsset[];
  failed: JobItemFailure[];
  provider: "offline" | "gemini" | (string & {});
  [key: string]: unknown;
}

/**
 * The status document of `GET /api/jobs/{id}`. `progress` and `result` are "any JSON" in
 * openapi.yaml; for image jobs they have the shapes above.
 */
export interface JobStatus<Progress = JobProgress, Result = ImageJobResult> {
  jobId: string;
  clientId: string;
  type: "image_generation" | "video_generation";
  status: JobState;
  progress?: Progress | null;
  result?: Result | null;
  error?: string | null;
  attempts: number;
  /** ms since the Unix epoch. */
  createdAt: number;
  /** ms since the Unix epoch. */
  updatedAt: number;
}

/** An RFC 9457 problem document, as the functions send them. */
export interface Problem {
  type: string;
  title: string;
  detail?: string;
  errors?: { field: string; reason: string }[];
  retryAfter?: number;
  error?: string;
  [key: string]: unknown;
}

/**
 * Why polling stopped without a completed job.
 *
 * - `not_found`: 404, the job is expired or unknown (its status is kept for 1 h), or another
 *   client's. Before the job was ever seen, a 404 is retried `notFoundRetries` times first.
 * - `unauthorized`: 401 even after `getToken({ forceRefresh: true })`.
 * - `token`: `getToken` threw or rejected (`cause` holds what it threw).
 * - `network`: no answer (connection failed, or no answer within `requestTimeoutMs`), more than
 *   `maxRetries` times in a row.
 * - `server`: 5xx, more than `maxRetries` times in a row.
 * - `rate_limited`: 429, more than `maxRetries` times in a row.
 * - `bad_response`: 200 without a status document, more than `maxRetries` times in a row.
 * - `http`: another status (400, 403, …), reported at once.
 * - `job_failed` / `job_cancelled`: the job itself ended so; given to `onError` only (the
 *   promise resolves with the final status). `status` holds the document.
 */
export type JobStatusErrorCode =
  | "not_found"
  | "unauthorized"
  | "token"
  | "network"
  | "server"
  | "rate_limited"
  | "bad_response"
  | "http"
  | "job_failed"
  | "job_cancelled";

export class JobStatusError extends Error {
  constructor(code: JobStatusErrorCode, message: string, details?: {
    jobId?: string;
    httpStatus?: number;
    problem?: Problem | null;
    status?: JobStatus | null;
    attempts?: number;
    retryAfterMs?: number;
    cause?: unknown;
  });
  readonly name: "JobStatusError";
  readonly code: JobStatusErrorCode;
  readonly jobId: string | null;
  /** The HTTP status of the last answer, if there was one. */
  readonly httpStatus: number | null;
  /** The problem+json body of the last answer, if there was one. */
  readonly problem: Problem | null;
  /** The final status document, for `job_failed` and `job_cancelled`. */
  readonly status: JobStatus | null;
  /** How many attempts in a row failed, for the retried codes. */
  attempts: number;
  /** The server's `Retry-After`, in ms, if it sent one. */
  readonly retryAfterMs: number | null;
  /** True for `network`, `server`, `rate_limited` and `bad_response`. */
  readonly retryable: boolean;
}

export interface PollOptions<Progress = JobProgress, Result = ImageJobResult> {
  /** The status function's base URL, e.g. `https://xyz.lambda-url.eu-west-1.on.aws`. Required. */
  baseUrl: string;
  /**
   * Returns the bearer JWT (or a promise of it), called before every request. After a 401 it
   * is called once more with `{ forceRefresh: true }` and the request is repeated; a second
   * 401 is reported as `unauthorized`. Without it no Authorization header is sent.
   */
  getToken?: (context: { forceRefresh: boolean }) => string | null | undefined | Promise<string | null | undefined>;
  /** Called with the first status document and then with each one that differs (status, progress, result, error or attempts), the final one included. */
  onProgress?: (status: JobStatus<Progress, Result>) => unknown;
  /** Called once with the final document when the job is `completed`. */
  onComplete?: (status: JobStatus<Progress, Result>) => unknown;
  /** Called once with the reason when polling ends in any other way than `completed` (not on abort). */
  onError?: (error: JobStatusError) => unknown;
  /** Aborting stops polling; the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** The first wait, and the wait after any change. Default 1000. */
  minDelayMs?: number;
  /** The longest wait. Default 5000. */
  maxDelayMs?: number;
  /** Each unchanged answer (or failed try) multiplies the wait by this, up to maxDelayMs. Default 1.5. */
  factor?: number;
  /** Network errors, 5xx, 429 and bad 200s retried in a row before giving up. Default 5. */
  maxRetries?: number;
  /** 404s retried before the job was first seen (a lagging replica right after enqueue). Default 2. */
  notFoundRetries?: number;
  /** Bound on one request, body included. Default 15000. */
  requestTimeoutMs?: number;
  /** The fetch to use. Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Waits `ms` or rejects with `signal.reason` on abort. Default: setTimeout. For tests. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /**
   * The document whose `visibilityState` pauses polling while `"hidden"` (it resumes at once, at
   * the minimum delay, on `visibilitychange`). Default `globalThis.document`; `null` never pauses.
   */
  document?: Pick<Document, "visibilityState" | "addEventListener" | "removeEventListener"> | null;
}

/** The promise of the final status document, with `stop()`. */
export interface JobPoll<Progress = JobProgress, Result = ImageJobResult> extends Promise<JobStatus<Progress, Result>> {
  /** Stops polling; the promise rejects with `reason` (default an `AbortError` DOMException). */
  stop(reason?: unknown): void;
}

/**
 * Polls `GET {baseUrl}/api/jobs/{jobId}` until the job is completed, failed or cancelled.
 *
 * The promise resolves with the final status document for all three terminal statuses, and
 * rejects with a {@link JobStatusError} when polling cannot go on, or with the abort reason
 * after `signal` aborts or `stop()` is called. Throws a TypeError at once for bad arguments.
 */
export function pollJobStatus<Progress = JobProgress, Result = ImageJobResult>(
  jobId: string,
  options: PollOptions<Progress, Result>,
): JobPoll<Progress, Result>;

/** `{baseUrl}/api/jobs/{jobId}`. */
export function jobStatusUrl(baseUrl: string, jobId: string): string;

/** True for completed, failed and cancelled. */
export function isTerminal(status: string): status is TerminalJobState;

export const TERMINAL_STATUSES: readonly TerminalJobState[];
export const JOB_STATUSES: readonly JobState[];
export const DEFAULTS: Readonly<{
  minDelayMs: 1000;
  maxDelayMs: 5000;
  factor: 1.5;
  maxRetries: 5;
  notFoundRetries: 2;
  requestTimeoutMs: 15000;
}>;
