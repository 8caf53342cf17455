import { ExecutorAbortedError } from './errors';

/** Abort helpers shared by the effect modules. */

export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

/** A real, abortable sleep. Tests inject a fast one (`options.sleep`). */
export const abortableSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) {
      reject(new ExecutorAbortedError('waiting', { cause: signal.reason }));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new ExecutorAbortedError('waiting', { cause: signal.reason }));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });

/** Throws `executor.aborted` when the signal has fired. */
export function throwIfAborted(signal: AbortSignal, what: string): void {
  if (signal.aborted) throw new ExecutorAbortedError(what, { cause: signal.reason });
}

/**
 * A child controller that aborts with its parent, so that one failing part of a group can cancel its siblings
 * without touching the caller's signal. Call `dispose()` to unhook it from the parent.
 */
export function linkedController(parent: AbortSignal): { controller: AbortController; dispose: () => void } {
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(parent.reason);
  if (parent.aborted) controller.abort(parent.reason);
  else parent.addEventListener('abort', onAbort, { once: true });
  return { controller, dispose: () => parent.removeEventListener('abort', onAbort) };
}
