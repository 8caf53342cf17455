import { spawn as spawnProcess, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type Dockerode from 'dockerode';
import type { Logger } from '../../../telemetry/logger';
import { EXECUTOR_LOG_LINE_MAX_CHARS } from '../defaults';
import { ExecutorSpawnError } from '../errors';
import { sweepTokenContainers } from './sweep';
import type { ExecutorBackend, ExecutorExit, ExecutorHandle, SpawnRequest } from './types';

export interface ChildProcessBackendOptions {
  /** The executor command, e.g. `[process.execPath, '/opt/horde/bin/horde.js', 'executor']`. */
  readonly command: readonly [string, ...string[]];
  /** `MINER_ADDRESS` given to every executor (`ws://127.0.0.1:8000`). */
  readonly minerAddress: string;
  /** Extra environment for every executor (on top of this process's environment). */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** The Docker engine the executors run their jobs on: leftover job containers are swept there. */
  readonly docker: Dockerode | undefined;
  /** Executor output is copied here at debug level, one line per entry. */
  readonly logger: Logger;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    // A negative pid signals the whole process group (the executor was started as its leader).
    process.kill(-pid, signal);
  } catch {
    // ESRCH: already gone.
  }
}

/**
 * Executors as child processes of the miner (`horde executor`, upstream's DevExecutorManager): each one is started
 * in its own process group with `MINER_ADDRESS` and `EXECUTOR_TOKEN`, so that a kill reaches everything it started.
 * Its stdout/stderr are copied to the miner's log at debug level. The executor runs its job in Docker; after it ends,
 * `sweep` removes any job container it left (found by the `horde.token` label) on `docker`.
 *
 * @example
 * ```ts
 * const backend = childProcessBackend({ command: [process.execPath, 'bin/horde.js', 'executor'],
 *   minerAddress: 'ws://127.0.0.1:8000', docker: new Dockerode(), logger });
 * ```
 */
export function childProcessBackend(options: ChildProcessBackendOptions): ExecutorBackend {
  const live = new Map<number, ChildProcess>();
  const [file, ...args] = options.command;

  const pipeLines = (child: ChildProcess, token: string): void => {
    for (const [stream, name] of [
      [child.stdout, 'stdout'],
      [child.stderr, 'stderr'],
    ] as const) {
      if (stream === null) continue;
      const lines = createInterface({ input: stream, crlfDelay: Infinity });
      lines.on('line', (line) => {
        if (!options.logger.isEnabled('debug')) return;
        const text = line.length > EXECUTOR_LOG_LINE_MAX_CHARS ? `${line.slice(0, EXECUTOR_LOG_LINE_MAX_CHARS)}…` : line;
        options.logger.debug('executor output', { token: token.slice(0, 36), stream: name, line: text });
      });
    }
  };

  return {
    name: 'process',
    spawn(request: SpawnRequest, signal: AbortSignal): Promise<ExecutorHandle> {
      return new Promise<ExecutorHandle>((resolve, reject) => {
        if (signal.aborted) {
          reject(new ExecutorSpawnError('process', 'aborted before start'));
          return;
        }
        let child: ChildProcess;
        try {
          child = spawnProcess(file, args, {
            cwd: options.cwd,
            env: {
              ...process.env,
              ...options.env,
              MINER_ADDRESS: options.minerAddress,
              EXECUTOR_TOKEN: request.token,
            },
            detached: true,
            stdio: ['ignore', 'pipe', 'pipe'],
          });
        } catch (error) {
          reject(new ExecutorSpawnError('process', (error as Error).message, { cause: error }));
          return;
        }
        const exited = new Promise<ExecutorExit>((resolveExit) => {
          child.once('exit', (code, exitSignal) => {
            if (child.pid !== undefined) live.delete(child.pid);
            resolveExit({ code, signal: exitSignal });
          });
        });
        let gone = false;
        void exited.then(() => (gone = true));
        pipeLines(child, request.token);
        const onAbort = (): void => {
          if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
        };
        child.once('error', (error) => {
          signal.removeEventListener('abort', onAbort);
          reject(new ExecutorSpawnError('process', error.message, { cause: error }));
        });
        child.once('spawn', () => {
          const pid = child.pid!;
          live.set(pid, child);
          if (signal.aborted) {
            signalGroup(pid, 'SIGKILL');
            reject(new ExecutorSpawnError('process', 'aborted while starting'));
            return;
          }
          signal.addEventListener('abort', onAbort, { once: true });
          void exited.then(() => signal.removeEventListener('abort', onAbort));
          resolve({
            id: String(pid),
            location: 'local',
            publicAddress: undefined,
            exited,
            isAlive: () => {
              if (gone) return Promise.resolve(false);
              try {
                process.kill(pid, 0);
                return Promise.resolve(true);
              } catch (error) {
                return Promise.resolve((error as NodeJS.ErrnoException).code !== 'ESRCH');
              }
            },
            terminate: () => {
              if (!gone) signalGroup(pid, 'SIGTERM');
              return Promise.resolve();
            },
            kill: () => {
              // Also when the leader is gone: the group may still hold processes it started.
              signalGroup(pid, 'SIGKILL');
              return Promise.resolve();
            },
            sweep: (sweepSignal) =>
              options.docker === undefined ? Promise.resolve(0) : sweepTokenContainers(options.docker, request.token, sweepSignal),
          });
        });
      });
    },
    killAllSync() {
      for (const pid of live.keys()) signalGroup(pid, 'SIGKILL');
    },
    close: () => Promise.resolve(),
  };
}
