import { chmod, lstat, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type Dockerode from 'dockerode';
import { toError } from '../../util/errors';
import { throwIfAborted } from './abort';
import {
  LABEL_HORDE_ID,
  LABEL_MANAGED,
  LABEL_ROLE,
  TEMP_DIR_CLEANUP_IMAGE,
  TEMP_DIR_CLEANUP_TIMEOUT_MS,
} from './defaults';
import { ExecutorAbortedError, TempDirRemoveError } from './errors';

/** The folders of one job, all below `root`. */
export interface JobTempDir {
  readonly root: string;
  /** Mounted at /volume. */
  readonly volumeDir: string;
  /** Mounted at /output. */
  readonly outputDir: string;
  /** Mounted at the job's artifacts_dir. */
  readonly artifactsDir: string;
  /** Mounted at /specs. */
  readonly specsDir: string;
  /** Full stdout/stderr copies (not mounted: the job cannot tamper with them). */
  readonly logsDir: string;
  readonly stdoutPath: string;
  readonly stderrPath: string;
}

/**
 * Creates a fresh per-job temp dir with upstream's layout (`volume/`, `output/`, `artifacts/`, `specs/`) plus
 * `logs/` for the full stdout/stderr copies.
 *
 * @example
 * ```ts
 * const dirs = await createJobTempDir({ prefix: `horde-job-${jobUuid}-` });
 * ```
 */
export async function createJobTempDir(input: { parentDir?: string; prefix?: string } = {}): Promise<JobTempDir> {
  const root = await mkdtemp(path.join(input.parentDir ?? os.tmpdir(), input.prefix ?? 'horde-job-'));
  const dirs: JobTempDir = {
    root,
    volumeDir: path.join(root, 'volume'),
    outputDir: path.join(root, 'output'),
    artifactsDir: path.join(root, 'artifacts'),
    specsDir: path.join(root, 'specs'),
    logsDir: path.join(root, 'logs'),
    stdoutPath: path.join(root, 'logs', 'stdout.txt'),
    stderrPath: path.join(root, 'logs', 'stderr.txt'),
  };
  for (const dir of [dirs.volumeDir, dirs.outputDir, dirs.artifactsDir, dirs.specsDir, dirs.logsDir]) await mkdir(dir);
  return dirs;
}

/**
 * `chmod -R 777` without following symlinks, which upstream runs after the download so that a job image with a
 * non-root user can write to its mounts.
 */
export async function makeTreeWorldWritable(dir: string): Promise<void> {
  const stats = await lstat(dir);
  if (stats.isSymbolicLink()) return;
  await chmod(dir, 0o777);
  if (!stats.isDirectory()) return;
  for (const name of await readdir(dir)) await makeTreeWorldWritable(path.join(dir, name));
}

/** Lets the owner enter, list and empty every folder (a root job may leave 0o000 or 0o555 folders behind). */
async function grantOwnerAccess(dir: string): Promise<void> {
  const stats = await lstat(dir);
  if (!stats.isDirectory()) return;
  await chmod(dir, 0o700);
  for (const name of await readdir(dir)) await grantOwnerAccess(path.join(dir, name));
}

export interface RemoveTempDirInput {
  readonly dir: string;
  /**
   * `fs`: chmod then delete as this process. `container`: delete the contents from a short-lived root container
   * (for files this user cannot touch), then the folder itself. `auto` (default): `fs`, and `container` when `fs`
   * is refused (EACCES/EPERM).
   */
  readonly strategy?: 'auto' | 'fs' | 'container';
  /** Needed for the container strategy. */
  readonly docker?: Dockerode;
  /** An image present on the engine with `/bin/sh` and `rm`. */
  readonly cleanupImage?: string;
  /** Labels the cleanup container as this Horde process's (`horde.id`). */
  readonly hordeId?: string;
  readonly timeoutMs?: number;
  readonly signal: AbortSignal;
}

function isPermissionError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'EACCES' || code === 'EPERM';
}

async function removeWithFs(dir: string): Promise<void> {
  await grantOwnerAccess(dir);
  await rm(dir, { recursive: true, force: true });
}

async function emptyWithContainer(input: RemoveTempDirInput, docker: Dockerode): Promise<void> {
  const container = await docker.createContainer({
    Image: input.cleanupImage ?? TEMP_DIR_CLEANUP_IMAGE,
    // Remove the contents, dot-files included; the mount point itself belongs to the host.
    Cmd: ['sh', '-c', 'rm -rf /target/* /target/.[!.]* /target/..?*'],
    User: '0:0',
    Labels: {
      [LABEL_MANAGED]: 'true',
      [LABEL_HORDE_ID]: input.hordeId ?? 'unknown',
      [LABEL_ROLE]: 'cleanup',
    },
    HostConfig: {
      Mounts: [{ Type: 'bind', Source: input.dir, Target: '/target', ReadOnly: false }],
      NetworkMode: 'none',
      LogConfig: { Type: 'none', Config: {} },
    },
  });
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), input.timeoutMs ?? TEMP_DIR_CLEANUP_TIMEOUT_MS);
  const onAbort = (): void => timeout.abort();
  input.signal.addEventListener('abort', onAbort, { once: true });
  try {
    await container.start();
    const status = (await container.wait({ abortSignal: timeout.signal } as Dockerode.ContainerWaitOptions)) as { StatusCode: number };
    if (status.StatusCode !== 0) throw new Error(`cleanup container exited with ${status.StatusCode}`);
  } finally {
    clearTimeout(timer);
    input.signal.removeEventListener('abort', onAbort);
    await container.remove({ force: true }).catch((error: unknown) => {
      if ((error as { statusCode?: number }).statusCode !== 404) throw error;
    });
  }
}

/**
 * Removes a job temp dir even when the job (running as root) left root-owned, read-only files and folders in it.
 * Upstream always deletes through an `alpine` container; here the container is only the fallback, because most
 * executors run as root and a plain delete is ~100× cheaper than a container start.
 *
 * @example
 * ```ts
 * await removeTempDirRootSafe({ dir: dirs.root, docker, cleanupImage: 'alpine:3.19', hordeId, signal });
 * ```
 */
export async function removeTempDirRootSafe(input: RemoveTempDirInput): Promise<{ method: 'fs' | 'container' }> {
  throwIfAborted(input.signal, 'temp dir removal');
  const strategy = input.strategy ?? 'auto';
  if (strategy !== 'container') {
    try {
      await removeWithFs(input.dir);
      return { method: 'fs' };
    } catch (error) {
      if (strategy === 'fs' || !isPermissionError(error)) {
        throw new TempDirRemoveError(input.dir, toError(error).message, { cause: error });
      }
    }
  }
  if (!input.docker) throw new TempDirRemoveError(input.dir, 'a docker client is needed to remove root-owned files');
  try {
    await emptyWithContainer(input, input.docker);
    await rm(input.dir, { recursive: true, force: true });
  } catch (error) {
    if (input.signal.aborted) throw new ExecutorAbortedError('temp dir removal', { cause: input.signal.reason });
    throw new TempDirRemoveError(input.dir, toError(error).message, { cause: error });
  }
  return { method: 'container' };
}
