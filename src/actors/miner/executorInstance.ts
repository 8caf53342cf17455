import { fromCallback, fromPromise, type EventObject } from 'xstate';
import { executorInstanceMachine } from '../../machines/executorInstance.machine';
import type { Logger } from '../../telemetry/logger';
import type { ExecutorBackend, ExecutorExit, ExecutorHandle, SpawnRequest } from './backends/types';

/** How long a health check that found the executor gone waits for its exit report before calling it vanished. */
const EXIT_REPORT_WAIT_MS = 1_000;

/**
 * The executor instance machine with its effects provided over `backend`: spawn, exit watch with a periodic health
 * check, SIGTERM/SIGKILL, the leftover sweep, and the reaper that kills an executor whose actor is stopped.
 *
 * @example
 * ```ts
 * const pool = executorPoolMachine.provide({ actors: { executor: executorInstanceLogic(backend, logger) } });
 * ```
 */
export function executorInstanceLogic(backend: ExecutorBackend, logger: Logger) {
  return executorInstanceMachine.provide({
    actors: {
      spawnExecutor: fromPromise<ExecutorHandle, SpawnRequest>(({ input, signal }) => backend.spawn(input, signal)),
      watchExecutor: fromCallback<EventObject, { handle: ExecutorHandle; healthCheckIntervalMs: number }>(({ input, sendBack }) => {
        const { handle } = input;
        let stopped = false;
        let reported = false;
        const report = (
          event: { type: 'executor.watch.exited'; exit: ExecutorExit } | { type: 'executor.watch.vanished' },
        ): void => {
          if (stopped || reported) return;
          reported = true;
          sendBack(event);
        };
        void handle.exited.then((exit) => report({ type: 'executor.watch.exited', exit }));
        const controller = new AbortController();
        let checking = false;
        const timer = setInterval(() => {
          if (checking || stopped) return;
          checking = true;
          void handle
            .isAlive(controller.signal)
            .then(async (alive) => {
              if (alive) return;
              // Gone: give the exit report a moment to arrive with its code before calling it vanished.
              const wait = new Promise<void>((resolve) => setTimeout(resolve, EXIT_REPORT_WAIT_MS).unref());
              await Promise.race([handle.exited, wait]);
              report({ type: 'executor.watch.vanished' });
            })
            .finally(() => (checking = false));
        }, input.healthCheckIntervalMs);
        return () => {
          stopped = true;
          clearInterval(timer);
          controller.abort();
        };
      }),
      terminateExecutor: fromPromise<void, { handle: ExecutorHandle }>(({ input }) => input.handle.terminate()),
      killExecutor: fromPromise<void, { handle: ExecutorHandle }>(({ input }) => input.handle.kill()),
      sweepExecutor: fromPromise<number, { handle: ExecutorHandle; token: string }>(({ input, signal }) => input.handle.sweep(signal)),
      reaper: fromCallback<{ type: 'reaper.track'; handle: ExecutorHandle } | { type: 'reaper.release' }>(({ receive }) => {
        let tracked: ExecutorHandle | undefined;
        receive((event) => {
          tracked = event.type === 'reaper.track' ? event.handle : undefined;
        });
        return () => {
          if (tracked === undefined) return;
          // The actor was stopped while its executor may still run: kill it and sweep, without waiting.
          const handle = tracked;
          logger.warn('executor actor stopped with its executor running; killing it', { executor: handle.id });
          void handle.kill().then(() => handle.sweep(new AbortController().signal).catch(() => 0));
        };
      }),
    },
  });
}
