import { spawn as spawnProcess, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type Dockerode from 'dockerode';
import type { Logger } from '../../../telemetry/logger';
import type { BackoffPolicy } from '../../../util/backoff';
import { systemClock, systemRandom, type Clock, type Random } from '../../../util/clock';
import {
  EXECUTOR_LOG_LINE_MAX_CHARS,
  EXECUTOR_STANDBY_DISMISS_GRACE_MS,
  EXECUTOR_STANDBY_MIN_RETRY_DELAY_MS,
  EXECUTOR_STANDBY_REFILL_DELAY_MS,
  EXECUTOR_STANDBY_RETURN_WAIT_MS,
  EXECUTOR_STANDBY_RETRY_BACKOFF,
  EXECUTOR_STANDBY_STABLE_AFTER_MS,
} from '../defaults';
import { parseJobEndedLine } from '../../executor/settings';
import { ExecutorSpawnError } from '../errors';
import { createBackendMetrics, type BackendMetrics } from './metrics';
import { StandbyPool, type PoolTimers } from './standbyPool';
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
  /**
   * Warm standby executors to keep started (`<command> --standby`, token later on stdin). 0 (the default here; the
   * `horde miner` flag defaults to EXECUTOR_STANDBY_COUNT) starts every executor cold. The command must understand
   * `--standby`, as `horde executor` does.
   */
  readonly standby?: number;
  /** Replacement backoff after standby failures (default EXECUTOR_STANDBY_RETRY_BACKOFF). */
  readonly standbyBackoff?: BackoffPolicy;
  /** After stdin is closed, how long a dismissed standby may take before SIGKILL (default EXECUTOR_STANDBY_DISMISS_GRACE_MS). */
  readonly standbyDismissGraceMs?: number;
  /**
   * Jobs one standby process may run one after another (`--max-jobs`; 1, the default here, is one process per job).
   * Above 1 a standby whose job ended cleanly comes back to the pool instead of exiting, and its replacement waits
   * `standbyRefillDelayMs`: short jobs then never wait for, nor compete with, a process loading its modules.
   */
  readonly standbyMaxJobs?: number;
  /** With `standbyMaxJobs` > 1: delay before a taken standby is replaced (default EXECUTOR_STANDBY_REFILL_DELAY_MS). */
  readonly standbyRefillDelayMs?: number;
  /**
   * With `standbyMaxJobs` > 1: how long a job that finds no ready standby waits for one that is out on a job to come
   * back before it starts a process cold (default EXECUTOR_STANDBY_RETURN_WAIT_MS).
   */
  readonly standbyReturnWaitMs?: number;
  readonly metrics?: BackendMetrics;
  readonly clock?: Clock;
  readonly random?: Random;
  readonly timers?: PoolTimers;
}

/** A started child process with its exit already watched (an exit can come before anyone asks). */
interface Tracked {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<ExecutorExit>;
  /** True once the exit was seen. */
  gone(): boolean;
  /** What its log lines are tagged with: the token (cut) once it has a job, `standby` before. */
  label: string;
  /** Set while a reusable standby runs a job: called with the job's exit code when it writes its job-ended line. */
  jobEnded?: ((code: number) => void) | undefined;
}

const realTimers: PoolTimers = {
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** The one stdin line that turns a standby into a job's executor. */
export function standbyTokenLine(token: string): string {
  return `${JSON.stringify({ token })}\n`;
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
 * With `standby: N` it also keeps N warm standbys (`<command> --standby`, no token, stdin piped): a job takes a ready
 * one (its token is written to its stdin) and a replacement starts at once; with none ready the job starts cold. A
 * standby that fails to start or dies untaken is replaced after a bounded backoff and counted
 * (`horde_miner_executor_standby_failures_total`). `close` dismisses the standbys (stdin closed, SIGKILL after a
 * grace); `killAllSync` kills them with everything else. A standby whose miner dies sees its stdin close and exits.
 *
 * @example
 * ```ts
 * const backend = childProcessBackend({ command: [process.execPath, 'bin/horde.js', 'executor'],
 *   minerAddress: 'ws://127.0.0.1:8000', docker: new Dockerode(), logger, standby: 1 });
 * ```
 */
export function childProcessBackend(options: ChildProcessBackendOptions): ExecutorBackend {
  const live = new Map<number, ChildProcess>();
  const [file, ...args] = options.command;
  const metrics = options.metrics ?? createBackendMetrics();
  const dismissGraceMs = options.standbyDismissGraceMs ?? EXECUTOR_STANDBY_DISMISS_GRACE_MS;
  const maxJobs = Math.max(1, Math.floor(options.standbyMaxJobs ?? 1));
  const reusable = maxJobs > 1;
  const returnWaitMs = options.standbyReturnWaitMs ?? EXECUTOR_STANDBY_RETURN_WAIT_MS;
  /** Reusable standbys out on a job (they may come back). */
  let loaned = 0;
  /** Jobs waiting for a standby to come back (woken one per return; bounded by the pools' slots). */
  const returnWaiters: Array<() => void> = [];

  const pipeLines = (tracked: Tracked): void => {
    for (const [stream, name] of [
      [tracked.child.stdout, 'stdout'],
      [tracked.child.stderr, 'stderr'],
    ] as const) {
      if (stream === null) continue;
      const lines = createInterface({ input: stream, crlfDelay: Infinity });
      lines.on('line', (line) => {
        if (name === 'stdout' && tracked.jobEnded !== undefined) {
          const code = parseJobEndedLine(line);
          if (code !== undefined) {
            tracked.jobEnded(code);
            return;
          }
        }
        if (!options.logger.isEnabled('debug')) return;
        const text = line.length > EXECUTOR_LOG_LINE_MAX_CHARS ? `${line.slice(0, EXECUTOR_LOG_LINE_MAX_CHARS)}…` : line;
        options.logger.debug('executor output', { token: tracked.label, stream: name, line: text });
      });
    }
  };

  /** Spawns in a new process group; the returned child's 'spawn' or 'error' event is still to come. */
  const spawnChild = (extraArgs: readonly string[], env: NodeJS.ProcessEnv, stdin: 'ignore' | 'pipe'): ChildProcess =>
    spawnProcess(file, [...args, ...extraArgs], { cwd: options.cwd, env, detached: true, stdio: [stdin, 'pipe', 'pipe'] });

  /** Watches a child's exit from the start; adds it to `live` once spawned. */
  const track = (child: ChildProcess, label: string, onSpawn: (tracked: Tracked) => void): Promise<ExecutorExit> => {
    let gone = false;
    const exited = new Promise<ExecutorExit>((resolveExit) => {
      child.once('exit', (code, exitSignal) => {
        gone = true;
        if (child.pid !== undefined) live.delete(child.pid);
        resolveExit({ code, signal: exitSignal });
      });
    });
    child.once('spawn', () => {
      const tracked: Tracked = { child, pid: child.pid!, exited, gone: () => gone, label };
      live.set(tracked.pid, child);
      pipeLines(tracked);
      onSpawn(tracked);
    });
    return exited;
  };

  const handleOf = (tracked: Tracked, request: SpawnRequest): ExecutorHandle => {
    const { pid } = tracked;
    return {
      id: String(pid),
      location: 'local',
      publicAddress: undefined,
      exited: tracked.exited,
      isAlive: () => {
        if (tracked.gone()) return Promise.resolve(false);
        try {
          process.kill(pid, 0);
          return Promise.resolve(true);
        } catch (error) {
          return Promise.resolve((error as NodeJS.ErrnoException).code !== 'ESRCH');
        }
      },
      terminate: () => {
        if (!tracked.gone()) signalGroup(pid, 'SIGTERM');
        return Promise.resolve();
      },
      kill: () => {
        // Also when the leader is gone: the group may still hold processes it started.
        signalGroup(pid, 'SIGKILL');
        return Promise.resolve();
      },
      sweep: (sweepSignal) =>
        options.docker === undefined ? Promise.resolve(0) : sweepTokenContainers(options.docker, request.token, sweepSignal),
    };
  };

  const spawnCold = (request: SpawnRequest, signal: AbortSignal): Promise<ExecutorHandle> =>
    new Promise<ExecutorHandle>((resolve, reject) => {
      let child: ChildProcess;
      try {
        child = spawnChild([], { ...process.env, ...options.env, MINER_ADDRESS: options.minerAddress, EXECUTOR_TOKEN: request.token }, 'ignore');
      } catch (error) {
        reject(new ExecutorSpawnError('process', (error as Error).message, { cause: error }));
        return;
      }
      child.once('error', (error) => reject(new ExecutorSpawnError('process', error.message, { cause: error })));
      void track(child, request.token.slice(0, 36), (tracked) => {
        if (signal.aborted) {
          signalGroup(tracked.pid, 'SIGKILL');
          reject(new ExecutorSpawnError('process', 'aborted while starting'));
          return;
        }
        metrics.executorStarts.add(1, { backend: 'process', start: 'cold' });
        resolve(adopt(tracked, request, signal));
      });
    });

  /** Gives a standby its token; resolves false when it cannot take it (it died meanwhile). */
  const handOver = (tracked: Tracked, token: string): Promise<boolean> =>
    new Promise<boolean>((resolve) => {
      const stdin = tracked.child.stdin;
      if (tracked.gone() || stdin === null || !stdin.writable) {
        resolve(false);
        return;
      }
      // A write to a dead process fails with EPIPE, reported here and as an 'error' event (handled in startStandby).
      stdin.write(standbyTokenLine(token), (error) => {
        if (error !== undefined && error !== null) {
          resolve(false);
          return;
        }
        // Nothing more will be written to a one-job executor; a reusable one keeps its stdin for the next token.
        if (!reusable) stdin.end();
        resolve(!tracked.gone());
      });
    });

  const dismissStandby = async (tracked: Tracked): Promise<void> => {
    if (tracked.gone()) return;
    // Closing stdin is the polite dismissal: the standby exits at once; SIGKILL if it does not.
    tracked.child.stdin?.end();
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), dismissGraceMs)));
    const outcome = await Promise.race([tracked.exited, graceOver]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      signalGroup(tracked.pid, 'SIGKILL');
      await tracked.exited;
    }
  };

  /** A pool entry: the process once spawned (undefined while still starting). */
  interface Standby {
    tracked: Tracked | undefined;
    readonly child: ChildProcess;
    /** Jobs it has been handed so far. */
    jobs: number;
  }

  const startStandby = (onEnded: () => void): Standby => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...options.env, MINER_ADDRESS: options.minerAddress };
    // A token in the miner's own environment would be the wrong job's; a standby gets its token on stdin.
    delete env['EXECUTOR_TOKEN'];
    const child = spawnChild(reusable ? ['--standby', '--max-jobs', String(maxJobs)] : ['--standby'], env, 'pipe');
    const standby: Standby = { tracked: undefined, child, jobs: 0 };
    // EPIPE on a dead standby's stdin: the exit is what matters, and it is reported by 'exit'.
    child.stdin?.on('error', () => undefined);
    child.once('error', (error) => {
      options.logger.warn('standby executor did not start', { error: error.message });
      // No 'exit' follows a failed spawn.
      if (standby.tracked === undefined) onEnded();
    });
    const exited = track(child, 'standby', (tracked) => (standby.tracked = tracked));
    void exited.then((exit) => {
      if (standbyPool.holds(standby)) options.logger.warn('standby executor ended before a job', { ...exit });
      onEnded();
    });
    return standby;
  };

  const poolTimers = options.timers ?? realTimers;
  const standbyPool = new StandbyPool<Standby>({
    size: options.standby ?? 0,
    backoff: options.standbyBackoff ?? EXECUTOR_STANDBY_RETRY_BACKOFF,
    minRetryDelayMs: EXECUTOR_STANDBY_MIN_RETRY_DELAY_MS,
    stableAfterMs: EXECUTOR_STANDBY_STABLE_AFTER_MS,
    clock: options.clock ?? systemClock,
    random: options.random ?? systemRandom,
    timers: poolTimers,
    refillDelayMs: reusable ? (options.standbyRefillDelayMs ?? EXECUTOR_STANDBY_REFILL_DELAY_MS) : 0,
    effects: {
      start: startStandby,
      dismiss: (standby) => (standby.tracked === undefined ? killStarting(standby) : dismissStandby(standby.tracked)),
      killSync: (standby) => {
        if (standby.child.pid !== undefined) signalGroup(standby.child.pid, 'SIGKILL');
      },
      onFailure: (failures, delayMs) => {
        metrics.standbyFailures.add(1, { backend: 'process' });
        options.logger.warn('standby executor failed; replacing it after a delay', { failures, delayMs });
      },
    },
  });
  /** A standby still starting when the pool closes: killed as soon as it exists. */
  const killStarting = (standby: Standby): Promise<void> =>
    new Promise<void>((resolve) => {
      standby.child.once('error', () => resolve());
      standby.child.once('exit', () => resolve());
      if (standby.child.pid !== undefined) signalGroup(standby.child.pid, 'SIGKILL');
      else standby.child.once('spawn', () => signalGroup(standby.child.pid!, 'SIGKILL'));
    });

  /** The standby's process once spawned (at once, or after its 'spawn' event), or undefined when it did not start. */
  const spawned = (standby: Standby): Promise<Tracked | undefined> =>
    standby.tracked !== undefined
      ? Promise.resolve(standby.tracked)
      : new Promise<Tracked | undefined>((resolve) => {
          // `track` listened first, so `tracked` is set when this runs.
          standby.child.once('spawn', () => resolve(standby.tracked));
          standby.child.once('error', () => resolve(undefined));
        });

  /** Resolves when a loaned standby comes back (or ends), after `waitMs`, or when `signal` aborts, whichever is first. */
  const waitForReturn = (waitMs: number, signal: AbortSignal): Promise<void> =>
    new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        const at = returnWaiters.indexOf(done);
        if (at >= 0) returnWaiters.splice(at, 1);
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      signal.addEventListener('abort', done, { once: true });
      returnWaiters.push(done);
    });

  /** A ready standby handed the job's token, or undefined (none ready, or each one died at the wrong moment). */
  const takeStandby = async (request: SpawnRequest): Promise<{ standby: Standby; tracked: Tracked } | undefined> => {
    for (;;) {
      const standby = standbyPool.take();
      if (standby === undefined) return undefined;
      const tracked = await spawned(standby);
      if (tracked === undefined) continue;
      tracked.label = request.token.slice(0, 36);
      if (await handOver(tracked, request.token)) return { standby, tracked };
      signalGroup(tracked.pid, 'SIGKILL');
    }
  };

  /**
   * Ties the executor's life to the job's abort signal and hands out the job's handle. The job's executor ends when
   * the process exits or, on a reusable standby (`reuse`), when the process writes its job-ended line: then the
   * process goes back to the pool, and the handle no longer touches it (it may be running another job by then).
   */
  const adopt = (tracked: Tracked, request: SpawnRequest, signal: AbortSignal, reuse?: Standby): ExecutorHandle => {
    let over = false;
    let handedBack = false;
    let endJob: (exit: ExecutorExit) => void = () => undefined;
    const exited = new Promise<ExecutorExit>((resolve) => (endJob = resolve));
    const onAbort = (): void => {
      if (!handedBack) signalGroup(tracked.pid, 'SIGKILL');
    };
    const finish = (exit: ExecutorExit, back: boolean): void => {
      if (over) return;
      over = true;
      handedBack = back;
      signal.removeEventListener('abort', onAbort);
      endJob(exit);
      if (reuse === undefined) return;
      loaned -= 1;
      tracked.jobEnded = undefined;
      if (back && !tracked.gone()) {
        tracked.label = 'standby';
        if (!standbyPool.giveBack(reuse)) void dismissStandby(tracked);
      }
      // Back or gone: a job waiting for a return takes it now, or starts cold without waiting out its delay.
      returnWaiters.shift()?.();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    if (reuse !== undefined) {
      loaned += 1;
      tracked.jobEnded = (code) => finish({ code, signal: null }, true);
    }
    void tracked.exited.then((exit) => finish(exit, false));
    const plain = handleOf(tracked, request);
    return {
      ...plain,
      exited,
      isAlive: (aliveSignal) => (handedBack ? Promise.resolve(false) : plain.isAlive(aliveSignal)),
      terminate: () => (handedBack ? Promise.resolve() : plain.terminate()),
      // After an exit the group may still hold processes the executor started: a kill still reaches them.
      kill: () => (handedBack ? Promise.resolve() : plain.kill()),
    };
  };

  standbyPool.fill();

  return {
    name: 'process',
    async spawn(request: SpawnRequest, signal: AbortSignal): Promise<ExecutorHandle> {
      if (signal.aborted) throw new ExecutorSpawnError('process', 'aborted before start');
      let taken = await takeStandby(request);
      if (taken === undefined && reusable && loaned > returnWaiters.length && returnWaitMs > 0) {
        // A standby whose job is ending (its cleanup runs after the result went out) is usually back within tens of
        // ms; a cold start costs about a second.
        await waitForReturn(returnWaitMs, signal);
        if (signal.aborted) throw new ExecutorSpawnError('process', 'aborted before start');
        taken = await takeStandby(request);
      }
      if (taken === undefined) return spawnCold(request, signal);
      const { standby, tracked } = taken;
      if (signal.aborted) {
        signalGroup(tracked.pid, 'SIGKILL');
        throw new ExecutorSpawnError('process', 'aborted while starting');
      }
      metrics.executorStarts.add(1, { backend: 'process', start: standby.jobs > 0 ? 'reused' : 'standby' });
      standby.jobs += 1;
      return adopt(tracked, request, signal, reusable ? standby : undefined);
    },
    killAllSync() {
      standbyPool.killAllSync();
      for (const pid of live.keys()) signalGroup(pid, 'SIGKILL');
    },
    close: () => standbyPool.close(),
  };
}
