import type Dockerode from 'dockerode';
import { toError } from '../../util/errors';
import type { CleanupReport } from '../../machines/jobDriver.machine';
import { removeTokenContainers } from './staleContainers';
import { removeTempDirRootSafe } from './tempDirs';

/**
 * What one executor run has put into the world, kept outside the job driver machine on purpose: a stopped
 * `fromPromise` actor's promise keeps running (an aborted container run still kills and removes its container; a
 * `mkdtemp` still finishes), and XState ignores its late result. The effects register here, so the cleanup can wait
 * for every one of them to settle and then remove what they created, even after the machine forgot about them.
 *
 * Bounded by construction: the driver runs one effect per state, so at most a handful are in flight, and one temp
 * dir exists per job.
 */
export class JobResources {
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly workspaceRoots = new Set<string>();

  /** Registers an effect's promise until it settles; returns it unchanged. */
  track<T>(promise: Promise<T>): Promise<T> {
    const settled = promise.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.add(settled);
    void settled.then(() => this.inFlight.delete(settled));
    return promise;
  }

  /** Effects still running. */
  get pending(): number {
    return this.inFlight.size;
  }

  /** Remembers a temp dir to remove at cleanup. */
  addWorkspace(root: string): void {
    this.workspaceRoots.add(root);
  }

  get workspaces(): readonly string[] {
    return [...this.workspaceRoots];
  }

  forgetWorkspace(root: string): void {
    this.workspaceRoots.delete(root);
  }

  /** Resolves true once every tracked effect settled, false if `timeoutMs` passed first. */
  async settle(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      while (this.inFlight.size > 0) {
        const next = await Promise.race([Promise.all([...this.inFlight]).then(() => true as const), timedOut]);
        if (next === false) return false;
      }
      return true;
    } finally {
      clearTimeout(timer);
    }
  }
}

export interface CleanupJobInput {
  readonly resources: JobResources;
  readonly docker: Dockerode;
  /** Containers labelled with this executor token are removed. */
  readonly token: string;
  readonly hordeId: string;
  /** Image of the root-owned-files fallback container (must be present locally). */
  readonly cleanupImage: string;
  /** How long to wait for aborted effects before sweeping. */
  readonly settleTimeoutMs: number;
  readonly signal: AbortSignal;
}

/**
 * The cleanup of one executor run, idempotent: wait for in-flight effects, remove every container of this token
 * (the runner normally did already), remove every registered temp dir (root-owned files included). Never rejects:
 * problems are collected in the report, so the caller can log them and still finish.
 *
 * @example
 * ```ts
 * const report = await cleanupJob({ resources, docker, token, hordeId, cleanupImage: 'alpine:3.19', settleTimeoutMs: 20_000, signal });
 * ```
 */
export async function cleanupJob(input: CleanupJobInput): Promise<CleanupReport> {
  const problems: string[] = [];
  if (!(await input.resources.settle(input.settleTimeoutMs))) {
    problems.push(`${input.resources.pending} effect(s) still running after ${input.settleTimeoutMs} ms`);
  }
  let containersRemoved = 0;
  try {
    containersRemoved = await removeTokenContainers(input.docker, input.token, input.signal);
  } catch (error) {
    problems.push(`removing the job container failed: ${toError(error).message}`);
  }
  let tempDir: CleanupReport['tempDir'] = 'none';
  for (const root of input.resources.workspaces) {
    try {
      await removeTempDirRootSafe({ dir: root, docker: input.docker, cleanupImage: input.cleanupImage, hordeId: input.hordeId, signal: input.signal });
      input.resources.forgetWorkspace(root);
      if (tempDir === 'none') tempDir = 'removed';
    } catch (error) {
      tempDir = 'failed';
      problems.push(toError(error).message);
    }
  }
  return { containersRemoved, tempDir, problems };
}
