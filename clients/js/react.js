// Scenergy jobs: the React hook over pollJobStatus. React is a peer dependency (>= 18); the
// plain module (index.js) does not need it. Types are in react.d.ts.
import { useEffect, useRef, useState } from "react";
import { pollJobStatus } from "./index.js";

const IDLE = Object.freeze({ status: null, isPolling: false, error: null });

/**
 * Polls a job's status while the component is mounted.
 *
 * `const { status, isPolling, error } = useJobStatus(jobId, { baseUrl, getToken, onComplete, onError })`
 *
 * - A null (or empty) jobId means idle: `{ status: null, isPolling: false, error: null }`.
 * - Polling starts when jobId is set, restarts from scratch when jobId or baseUrl changes, and
 *   stops on unmount. The other options are read when polling starts; the callbacks are always
 *   the latest ones passed, so inline functions do not restart polling.
 * - `status` is the latest status document; `error` is what onError was given (a
 *   JobStatusError, including `job_failed` and `job_cancelled`); `isPolling` is false once the
 *   job is finished or polling gave up.
 *
 * @param {string | null | undefined} jobId
 * @param {Omit<import('./index.js').PollOptions, 'signal'> & { signal?: AbortSignal }} [options]
 */
export function useJobStatus(jobId, options = {}) {
  const latest = useRef(options);
  useEffect(() => {
    latest.current = options;
  });
  const [state, setState] = useState({ jobId: null, ...IDLE });
  const active = jobId != null && jobId !== "";
  const baseUrl = options.baseUrl;

  useEffect(() => {
    if (!active) {
      setState({ jobId: null, ...IDLE });
      return undefined;
    }
    const controller = new AbortController();
    const opts = latest.current;
    const signal = opts.signal ? anySignal([opts.signal, controller.signal]) : controller.signal;
    const update = (patch) => {
      if (!controller.signal.aborted) setState((prev) => ({ ...prev, ...patch }));
    };
    setState({ jobId, status: null, isPolling: true, error: null });

    let poll;
    try {
      poll = pollJobStatus(jobId, {
        ...opts,
        signal,
        onProgress: (status) => {
          update({ status });
          return latest.current.onProgress?.(status);
        },
        onComplete: (status) => latest.current.onComplete?.(status),
        onError: (error) => {
          update({ error });
          return latest.current.onError?.(error);
        },
      });
    } catch (error) {
      // Bad options (a TypeError): report it like any other error instead of crashing the render.
      update({ isPolling: false, error });
      latest.current.onError?.(error);
      return () => controller.abort();
    }
    poll.then(
      (status) => update({ status, isPolling: false }),
      (error) => {
        if (controller.signal.aborted) return;
        // The caller's own signal aborted: stopped, not an error.
        update(signal.aborted ? { isPolling: false } : { isPolling: false, error });
      },
    );
    return () => controller.abort();
    // Only a new job (or endpoint) restarts polling.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [active, jobId, baseUrl]);

  // Until the effect has run for a new jobId, do not show the previous job's state.
  if (!active) return IDLE;
  if (state.jobId !== jobId) return { status: null, isPolling: true, error: null };
  return { status: state.status, isPolling: state.isPolling, error: state.error };
}

function anySignal(signals) {
  if (typeof AbortSignal.any === "function") return AbortSignal.any(signals);
  const controller = new AbortController();
  for (const signal of signals) {
    if (signal.aborted) {
      controller.abort(signal.reason);
      break;
    }
    signal.addEventListener("abort", () => controller.abort(signal.reason), { once: true });
  }
  return controller.signal;
}
