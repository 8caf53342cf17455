import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type Dockerode from 'dockerode';
import { listLabelledContainers, removeLabelledContainers, TEST_IMAGE, testHordeId } from '../../support/docker';
import { executorTokenFor, ScriptedMiner, initialJobRequest, type OnConnect } from '../../support/scriptedMiner';

/**
 * Runs the REAL `horde executor` process (`node bin/horde.js executor`, tsx on the sources) against a scripted miner,
 * with a per-test work dir (to check the temp dir is deleted) and a per-test horde id (to check no container is
 * left). Short limits keep the suite fast.
 */

export const REPO_ROOT = path.join(__dirname, '..', '..', '..');

export interface ExecutorRun {
  readonly child: ChildProcess;
  readonly token: string;
  readonly jobUuid: string;
  /** Resolves with the exit code (or the signal that ended it). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The process's JSON log lines (stderr), parsed. */
  logLines(): Array<Record<string, unknown>>;
  stderr(): string;
}

export interface ExecutorCase {
  readonly miner: ScriptedMiner;
  readonly hordeId: string;
  readonly workDir: string;
  readonly jobUuid: string;
  readonly token: string;
  run(extraArgs?: readonly string[]): ExecutorRun;
  /** What the executor left: containers of this horde, and entries in the work dir. */
  leftovers(): Promise<{ containers: Dockerode.ContainerInfo[]; workDirEntries: string[] }>;
  close(): Promise<void>;
}

/**
 * A miner (sending the initial request on the first connection, as upstream does, unless `onConnect` says
 * otherwise), a work dir and a horde id for one test.
 */
export async function executorCase(
  docker: Dockerode,
  options: { name: string; initial?: Partial<Parameters<typeof initialJobRequest>[0]> | null; onConnect?: OnConnect },
): Promise<ExecutorCase> {
  const jobUuid = randomUUID();
  const token = executorTokenFor(jobUuid);
  const initial = options.initial === null ? null : initialJobRequest({ jobUuid, image: TEST_IMAGE, ...options.initial });
  const miner = await ScriptedMiner.start({
    onConnect:
      options.onConnect ??
      ((connection) => {
        if (connection.index === 0 && initial !== null) connection.send(initial);
      }),
  });
  const workDir = await mkdtemp(path.join(os.tmpdir(), `horde-exec-${options.name}-`));
  const hordeId = `${testHordeId(`exec-${options.name}`)}-${jobUuid.slice(0, 8)}`;
  const runs: ExecutorRun[] = [];
  return {
    miner,
    hordeId,
    workDir,
    jobUuid,
    token,
    run(extraArgs = []) {
      const run = spawnExecutor({ minerAddress: miner.address, token, hordeId, workDir, extraArgs });
      runs.push(run);
      return run;
    },
    async leftovers() {
      return { containers: await listLabelledContainers(docker, hordeId), workDirEntries: await readdir(workDir) };
    },
    async close() {
      for (const run of runs) {
        if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
        await run.exited;
      }
      await miner.close();
      await removeLabelledContainers(docker, hordeId);
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

export function spawnExecutor(options: {
  minerAddress: string;
  token: string;
  hordeId: string;
  workDir: string;
  extraArgs?: readonly string[];
}): ExecutorRun {
  const flags: Record<string, string> = {
    '--miner-address': options.minerAddress,
    '--horde-id': options.hordeId,
    '--work-dir': options.workDir,
    '--cleanup-image': TEST_IMAGE,
    '--startup-time-limit-ms': '10s',
    '--final-delivery-grace-ms': '3s',
    '--log-level': 'info',
  };
  const extra = [...(options.extraArgs ?? [])];
  // A flag given twice is a usage error, so a test's flag replaces the default instead of repeating it.
  for (let i = 0; i + 1 < extra.length; i += 2) flags[extra[i]!] = extra[i + 1]!;
  const args = [path.join(REPO_ROOT, 'bin', 'horde.js'), 'executor', ...Object.entries(flags).flat()];
  // The token travels in the environment, as upstream's executor manager passes it.
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, EXECUTOR_TOKEN: options.token, HORDE_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const jobUuid = options.token.slice(0, 36);
  return {
    child,
    token: options.token,
    jobUuid,
    exited,
    stderr: () => stderr,
    logLines: () =>
      stderr
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/** Waits for the process to exit and returns its code, failing with its log when it takes too long. */
export async function exitCodeOf(run: ExecutorRun, timeoutMs = 30_000): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`executor still running after ${timeoutMs} ms:\n${run.stderr()}`)), timeoutMs);
  });
  try {
    const { code } = await Promise.race([run.exited, timeout]);
    return code;
  } finally {
    clearTimeout(timer);
  }
}

/** Polls until a container of `hordeId` is running. */
export async function runningContainerOf(docker: Dockerode, hordeId: string, timeoutMs = 15_000): Promise<Dockerode.ContainerInfo> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = (await listLabelledContainers(docker, hordeId)).find((info) => info.State === 'running');
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no running container of ${hordeId} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
