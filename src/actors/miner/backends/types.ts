/**
 * How the miner starts executors. The pool's executor actors only see this interface, so a miner can run executors
 * as child processes, as containers on one or several Docker hosts, or not at all (benchmarks).
 */
import type { ExecutorClass } from '../../../protocol/enums';

/** What an executor needs to know to start: it dials back `MINER_ADDRESS` with its token. */
export interface SpawnRequest {
  /** The single-use executor token (`{job_uuid}-{uuid4}`), given to the executor as `EXECUTOR_TOKEN`. */
  readonly token: string;
  readonly jobUuid: string;
  readonly executorClass: ExecutorClass;
}

/** How an executor ended. `code` and `signal` are null when unknown (a container that vanished). */
export interface ExecutorExit {
  readonly code: number | null;
  readonly signal: string | null;
}

/** One started executor. */
export interface ExecutorHandle {
  /** Process id or container id (for logs). */
  readonly id: string;
  /** Where it runs: `local` or the Docker engine's name. */
  readonly location: string;
  /**
   * Address streaming clients should use to reach the executor (upstream's `get_executor_public_address`), when the
   * backend knows it; otherwise the miner uses the address the executor connected from.
   */
  readonly publicAddress: string | undefined;
  /** Resolves once, when the executor has ended; never rejects. */
  readonly exited: Promise<ExecutorExit>;
  /**
   * Health check: false once the executor is gone although no exit was reported. Never rejects; when it cannot tell
   * (the engine does not answer) it resolves true, so that a hiccup never frees a slot that is still in use.
   */
  isAlive(signal: AbortSignal): Promise<boolean>;
  /** Asks the executor to stop (SIGTERM): it reports and cleans up. Never rejects. */
  terminate(): Promise<void>;
  /** Ends the executor now (SIGKILL). Never rejects. */
  kill(): Promise<void>;
  /**
   * Removes what the executor left behind (its job containers, found by their `horde.token` label; a container
   * backend also removes the executor's own container). Resolves with the number removed.
   */
  sweep(signal: AbortSignal): Promise<number>;
}

/**
 * A way to run executors.
 *
 * @example
 * ```ts
 * const handle = await backend.spawn({ token, jobUuid, executorClass: 'always_on.test' }, signal);
 * const exit = await handle.exited;
 * await handle.sweep(signal);
 * ```
 */
export interface ExecutorBackend {
  /** `process`, `docker`, `noop` (metrics and logs). */
  readonly name: string;
  /**
   * Starts an executor; resolves once it runs (process spawned, container started). When `signal` aborts before
   * that, whatever was half-started is removed and the promise rejects.
   */
  spawn(request: SpawnRequest, signal: AbortSignal): Promise<ExecutorHandle>;
  /** Last-resort, synchronous: kills every executor still known (called from `process.on('exit')`). */
  killAllSync(): void;
  /** Releases the backend's own resources (not the executors: the pools stop those first). */
  close(): Promise<void>;
}
