/**
 * Helpers for miner integration tests: a real `horde miner` process (node bin/horde.js miner), a metagraph file,
 * and checks that nothing it started is left behind (executor processes found by their HORDE_ID environment,
 * job containers by their `horde.id` label).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { JOB_TITLE_PREFIX, STANDBY_TITLE } from '../../../src/actors/executor/settings';
import { processesOf } from '../../../src/cli/cluster';
import { spawnRole } from '../../support/roleProcess';

export interface MinerProcess {
  readonly child: ChildProcess;
  /** `ws://127.0.0.1:<port>` */
  readonly wsUrl: string;
  /** `http://127.0.0.1:<port>` */
  readonly httpUrl: string;
  readonly hordeId: string;
  readonly dataDir: string;
  /** Every stderr line (JSON log lines). */
  readonly logs: string[];
  readonly exited: Promise<number | null>;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** A temporary folder with a metagraph file listing `validators` (active unless given otherwise). */
export function metagraphFile(validators: ReadonlyArray<{ hotkey: string; active?: boolean }>): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'horde-miner-it-'));
  const path = join(dir, 'metagraph.json');
  writeFileSync(path, JSON.stringify({ validators }));
  return { dir, path };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Starts `horde miner` on a free port with a dev key; resolves once it listens. */
export async function startMinerProcess(options: {
  devKey: string;
  metagraphPath: string;
  dataDir: string;
  hordeId: string;
  args?: readonly string[];
}): Promise<MinerProcess> {
  const role = await spawnRole('miner', [
    '--dev-key',
    options.devKey,
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--metagraph-file',
    options.metagraphPath,
    '--metagraph-poll-interval-ms',
    '100',
    '--data-dir',
    options.dataDir,
    '--horde-id',
    options.hordeId,
    ...(options.args ?? []),
  ]);
  const { child, port, logs } = role;
  const exited = role.exited.then(({ code }) => code);
  return {
    child,
    wsUrl: `ws://127.0.0.1:${port}`,
    httpUrl: `http://127.0.0.1:${port}`,
    hordeId: options.hordeId,
    dataDir: options.dataDir,
    logs,
    exited,
    stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** The command line (or the title it set) of process `pid`, NUL-separated parts joined by spaces. */
function cmdlineOf(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+/g, ' ').trim();
  } catch {
    // It exited between the listing and this read.
    return '(gone)';
  }
}


/**
 * True for an idle warm standby executor: its process title says so until a job takes it (and before it has set the
 * title, its command line still has --standby).
 */
function isStandbyTitled(pid: number): boolean {
  try {
    const cmdline = cmdlineOf(String(pid));
    return cmdline.startsWith(STANDBY_TITLE) || / --standby( |$)/.test(cmdline);
  } catch {
    return false;
  }
}

/** The parent pid of `pid` (field 4 of /proc/<pid>/stat, after the parenthesised name). */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(parent) ? parent : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An idle standby, or a helper process it started (in a development checkout, tsx's esbuild service inherits the
 * standby's HORDE_ID): both live as long as the standby and belong to it.
 */
function isIdleStandby(pid: number): boolean {
  if (isStandbyTitled(pid)) return true;
  const parent = parentOf(pid);
  return parent !== undefined && isStandbyTitled(parent);
}

/** PIDs of live executor processes with a job (idle warm standbys excluded) started for `hordeId`. */
export function executorPids(hordeId: string): number[] {
  return processesOf(hordeId).filter((pid) => !isIdleStandby(pid));
}

/** PIDs of idle warm standby executors of `hordeId`. */
export function standbyPids(hordeId: string): number[] {
  return processesOf(hordeId).filter(isIdleStandby);
}

/** Every live process of `hordeId`: executors with a job and idle standbys. */
export function everyExecutorPid(hordeId: string): number[] {
  return processesOf(hordeId);
}

/**
 * PID of the executor serving `jobUuid`: a cold one has its token (starting with the job uuid) in its environment, a
 * warm standby that took the job shows the job uuid in its process title.
 */
export function executorPidOf(jobUuid: string): number | undefined {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const environ = readFileSync(`/proc/${name}/environ`, 'utf8').split('\0');
      if (environ.some((entry) => entry.startsWith(`EXECUTOR_TOKEN=${jobUuid}-`))) return Number(name);
      if (cmdlineOf(name) === `${JOB_TITLE_PREFIX}${jobUuid}`) return Number(name);
    } catch {
      // not ours
    }
  }
  return undefined;
}

/** Containers (running or not) labelled with `hordeId`. */
export async function hordeContainers(docker: Dockerode, hordeId: string): Promise<Dockerode.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`horde.id=${hordeId}`] } });
}

/** Polls until `predicate` holds (real processes: there is no clock to drive). */
export async function eventually(predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!(await predicate())) {
    if (Date.now() - start > timeoutMs) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Executor slots held across every pool, read from the miner's `/metrics` (`horde_miner_pool_slots{state="held"}`). */
export async function heldSlots(httpUrl: string): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  let held = 0;
  for (const match of text.matchAll(/^horde_miner_pool_slots\{[^}]*state="held"[^}]*\} (\d+)/gm)) held += Number(match[1]);
  return held;
}

/**
 * Waits until no executor process and no job container of `hordeId` remain (and, given the miner's URL, until its
 * pools hold no slot: an executor's slot is freed only after the miner swept its leftovers). Given the URL the miner
 * still runs, so its idle warm standbys may stay; without it every process counts, standbys included.
 */
export async function nothingLeft(docker: Dockerode, hordeId: string, timeoutMs = 15_000, httpUrl?: string): Promise<void> {
  let left = '';
  try {
    await eventually(
      async () => {
        const pids = httpUrl === undefined ? everyExecutorPid(hordeId) : executorPids(hordeId);
        const containers = await hordeContainers(docker, hordeId);
        const held = httpUrl === undefined ? 0 : await heldSlots(httpUrl);
        left = `executor pids [${pids.map((pid) => `${pid} ${cmdlineOf(String(pid)).slice(0, 80)}`).join('; ')}], containers ${containers.length}, held slots ${held}`;
        return pids.length === 0 && containers.length === 0 && held === 0;
      },
      timeoutMs,
      `no executor process or container of ${hordeId}`,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; still there: ${left}`, { cause: error });
  }
}
