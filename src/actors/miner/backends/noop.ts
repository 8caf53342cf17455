import type { ExecutorBackend, ExecutorExit, ExecutorHandle, SpawnRequest } from './types';

/**
 * A backend that starts nothing: each "executor" exists until it is terminated or killed. For benchmarks of the
 * reservation path and for trying a miner without Docker; no job can run.
 *
 * @example
 * ```ts
 * const miner = await startMiner({ ...options, backend: noopBackend() });
 * ```
 */
export function noopBackend(): ExecutorBackend {
  const live = new Set<() => void>();
  let next = 0;
  return {
    name: 'noop',
    spawn(_request: SpawnRequest, signal: AbortSignal): Promise<ExecutorHandle> {
      if (signal.aborted) return Promise.reject(new Error('aborted'));
      let end!: (exit: ExecutorExit) => void;
      const exited = new Promise<ExecutorExit>((resolve) => (end = resolve));
      let gone = false;
      const finish = (exit: ExecutorExit): void => {
        if (gone) return;
        gone = true;
        live.delete(stopNow);
        end(exit);
      };
      const stopNow = (): void => finish({ code: null, signal: 'SIGKILL' });
      live.add(stopNow);
      next += 1;
      return Promise.resolve({
        id: `noop-${next}`,
        location: 'local',
        publicAddress: undefined,
        exited,
        isAlive: () => Promise.resolve(!gone),
        terminate: () => {
          finish({ code: null, signal: 'SIGTERM' });
          return Promise.resolve();
        },
        kill: () => {
          stopNow();
          return Promise.resolve();
        },
        sweep: () => Promise.resolve(0),
      });
    },
    killAllSync() {
      for (const stop of [...live]) stop();
    },
    close: () => Promise.resolve(),
  };
}
