import type Dockerode from 'dockerode';
import { throwIfAborted } from './abort';
import { LABEL_EXECUTOR_HOST, LABEL_EXECUTOR_PID, LABEL_HORDE_ID, LABEL_MANAGED, LABEL_TOKEN } from './defaults';

/**
 * The startup sweep of job containers left behind by dead executors. Upstream kills every `ch-*-job` container at
 * startup, which is only safe while one executor runs per docker host; a miner runs many at once, and one starting
 * executor must never kill a sibling's running job. So a container is removed only when it is provably abandoned:
 * its executor (same host, by PID) is gone, or it already stopped, or it is older than any job can be.
 */

/** The parts of a container listing the decision needs. */
export interface ContainerSummary {
  readonly id: string;
  /** Docker's state: created, running, paused, restarting, removing, exited, dead. */
  readonly state: string;
  /** When the container was created, in ms since the epoch. */
  readonly createdAtMs: number;
  readonly labels: Readonly<Record<string, string>>;
}

/** Who is sweeping, and how to check another executor's liveness. */
export interface SweepingExecutor {
  readonly hostName: string;
  readonly token: string;
  /** Wall-clock now, in ms since the epoch. */
  readonly nowMs: number;
  /** Older running containers are stale whatever their owner (see `STALE_JOB_CONTAINER_AGE_MS`). */
  readonly maxAgeMs: number;
  /** Whether a process of this host is alive (`process.kill(pid, 0)`). */
  readonly isPidAlive: (pid: number) => boolean;
}

/** Why a container is, or is not, removed. */
export type StaleVerdict =
  | { readonly stale: true; readonly why: 'owner_dead' | 'stopped' | 'too_old' }
  | { readonly stale: false; readonly why: 'own' | 'owner_alive' | 'owner_unknown' };

const STOPPED_STATES = new Set(['exited', 'dead']);

/**
 * Whether one labelled container of this horde is abandoned. Pure; table-tested.
 *
 * - own token → kept (never our own container);
 * - owner on this host and its PID alive → kept, whatever the state (the owner removes it);
 * - owner on this host and its PID gone → removed;
 * - otherwise stopped (exited/dead) → removed (a live executor removes its container as soon as it stops);
 * - otherwise older than `maxAgeMs` → removed;
 * - otherwise kept (a running job of an executor we cannot check).
 *
 * @example
 * ```ts
 * staleVerdict({ id, state: 'running', createdAtMs, labels: { 'horde.executor_host': 'h1', 'horde.executor_pid': '42' } },
 *   { hostName: 'h1', token, nowMs, maxAgeMs, isPidAlive: () => false }); // { stale: true, why: 'owner_dead' }
 * ```
 */
export function staleVerdict(container: ContainerSummary, self: SweepingExecutor): StaleVerdict {
  if (container.labels[LABEL_TOKEN] === self.token) return { stale: false, why: 'own' };
  const pid = Number(container.labels[LABEL_EXECUTOR_PID]);
  if (container.labels[LABEL_EXECUTOR_HOST] === self.hostName && Number.isSafeInteger(pid) && pid > 0) {
    return self.isPidAlive(pid) ? { stale: false, why: 'owner_alive' } : { stale: true, why: 'owner_dead' };
  }
  if (STOPPED_STATES.has(container.state)) return { stale: true, why: 'stopped' };
  if (self.nowMs - container.createdAtMs > self.maxAgeMs) return { stale: true, why: 'too_old' };
  return { stale: false, why: 'owner_unknown' };
}

/** `process.kill(pid, 0)`: ESRCH means gone; EPERM means it exists under another user. */
export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface RemoveStaleInput {
  readonly docker: Dockerode;
  readonly hordeId: string;
  readonly self: SweepingExecutor;
  readonly signal: AbortSignal;
}

export interface RemoveStaleResult {
  readonly removed: ReadonlyArray<{ readonly id: string; readonly why: string }>;
  readonly kept: number;
}

function statusCode(error: unknown): number | undefined {
  const code = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/**
 * Lists the containers labelled `horde.managed=true` and `horde.id=<hordeId>`, and force-removes the abandoned ones
 * (`staleVerdict`). A container that vanished meanwhile (404) is not an error.
 *
 * @example
 * ```ts
 * const { removed } = await removeAbandonedContainers({ docker, hordeId, self, signal });
 * ```
 */
export async function removeAbandonedContainers(input: RemoveStaleInput): Promise<RemoveStaleResult> {
  throwIfAborted(input.signal, 'stale container sweep');
  const listed = await input.docker.listContainers({
    all: true,
    filters: { label: [`${LABEL_MANAGED}=true`, `${LABEL_HORDE_ID}=${input.hordeId}`] },
    abortSignal: input.signal,
  });
  const removed: Array<{ id: string; why: string }> = [];
  let kept = 0;
  for (const info of listed) {
    const verdict = staleVerdict(
      { id: info.Id, state: info.State, createdAtMs: info.Created * 1_000, labels: info.Labels ?? {} },
      input.self,
    );
    if (!verdict.stale) {
      kept++;
      continue;
    }
    throwIfAborted(input.signal, 'stale container sweep');
    try {
      await input.docker.getContainer(info.Id).remove({ force: true, v: true, abortSignal: input.signal });
      removed.push({ id: info.Id, why: verdict.why });
    } catch (error) {
      if (statusCode(error) !== 404) throw error;
    }
  }
  return { removed, kept };
}

/**
 * Force-removes every container of one executor token (`horde.token=<token>`): the cleanup stage's backstop for a
 * job container whose runner was aborted before it could remove it. Returns how many were removed.
 */
export async function removeTokenContainers(docker: Dockerode, token: string, signal: AbortSignal): Promise<number> {
  const listed = await docker.listContainers({
    all: true,
    filters: { label: [`${LABEL_MANAGED}=true`, `${LABEL_TOKEN}=${token}`] },
    abortSignal: signal,
  });
  let removed = 0;
  for (const info of listed) {
    try {
      await docker.getContainer(info.Id).remove({ force: true, v: true, abortSignal: signal });
      removed++;
    } catch (error) {
      if (statusCode(error) !== 404) throw error;
    }
  }
  return removed;
}
