// Types of react.js, the React hook over pollJobStatus.
import type { ImageJobResult, JobProgress, JobStatus, JobStatusError, PollOptions } from "./index.js";

export interface UseJobStatusResult<Progress = JobProgress, Result = ImageJobResult> {
  /** The latest status document, or null before the first answer (and when idle). */
  status: JobStatus<Progress, Result> | null;
  /** True from the moment a jobId is set until the job is finished or polling gave up. */
  isPolling: boolean;
  /**
   * What onError was given: a JobStatusError (`job_failed` and `job_cancelled` included), or
   * the TypeError of bad options. Null otherwise. Not set when the component unmounts.
   */
  error: JobStatusError | Error | null;
}

/**
 * Polls a job's status while the component is mounted (see index.d.ts for the options).
 *
 * - A null, undefined or empty jobId is idle: `{ status: null, isPolling: false, error: null }`.
 * - It restarts when jobId or baseUrl changes and stops on unmount. The other options are read
 *   when polling starts; the callbacks are always the latest passed, so inline ones are fine.
 */
export function useJobStatus<Progress = JobProgress, Result = ImageJobResult>(
  jobId: string | null | undefined,
  options: PollOptions<Progress, Result>,
): UseJobStatusResult<Progress, Result>;
