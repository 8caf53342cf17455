/**
 * A local Horde: one facilitator, one validator and N miners, each a real `node bin/horde.js <role>` child process
 * on 127.0.0.1 with public development keys and a file metagraph. Used by `horde up`, `horde job run` (when no
 * facilitator is given), the end-to-end tests and `bench/e2e.ts`.
 *
 * Stopping is the point of this module as much as starting: `stop()` sends SIGTERM (validator and miners first, so
 * running jobs end with a status the facilitator still receives, then the facilitator), SIGKILL after a grace, then
 * sweeps whatever a killed process left: executor processes carrying this cluster's `HORDE_ID` and Docker containers
 * labelled with its `horde.id`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { devHotkey, initCrypto } from '../crypto';
import { HordeError } from '../util/errors';

/** Dev key names of the local cluster's hotkeys (public: anyone can recompute them; local use only). */
export const LOCAL_DEV_KEYS = {
  validator: 'horde-dev-validator',
  miner: 'horde-dev-miner',
  user: 'horde-dev-user',
} as const;

/** Executor slots per miner unless told otherwise: a few jobs at once on a laptop. */
export const LOCAL_CLUSTER_DEFAULT_MANIFEST: Readonly<Record<string, number>> = { 'always_on.test': 4 };
/** How long each role may take from spawn to a 200 on /readyz (tsx compiles on first start, the machine may be loaded). */
export const LOCAL_CLUSTER_START_TIMEOUT_MS = 90_000;
/** SIGTERM → SIGKILL grace of each role on stop; the validator needs time to report its running jobs' end. */
export const LOCAL_CLUSTER_STOP_GRACE_MS = 15_000;
/** Stake written for the validator in the metagraph file (the facilitator only routes to staked, active validators). */
export const LOCAL_CLUSTER_VALIDATOR_STAKE = 100_000;
/** Lines of each child's output kept for error messages (bounded: a chatty child cannot grow memory). */
export const LOCAL_CLUSTER_LOG_LINES = 400;
/** How often /readyz is polled while a role starts. */
export const LOCAL_CLUSTER_READY_POLL_MS = 100;
/** How often the validator fetches manifests in a local cluster (a new miner shows up within this). */
export const LOCAL_CLUSTER_MANIFEST_INTERVAL_MS = 5_000;

/** A local cluster could not start (a role exited or never became ready). */
export class ClusterStartError extends HordeError {
  constructor(message: string) {
    super('cluster.start_failed', message);
  }
}

export type ClusterRole = 'facilitator' | 'validator' | 'miner';

/** One child process of the cluster. */
export interface ClusterProcess {
  readonly role: ClusterRole;
  /** `miner-0`, `validator`, `facilitator`. */
  readonly name: string;
  readonly child: ChildProcess;
  /** `http://127.0.0.1:PORT` of its HTTP server. */
  readonly url: string;
  readonly hotkey: string | undefined;
  /** The last output lines (stdout and stderr), oldest first. */
  readonly logs: readonly string[];
  readonly exited: Promise<number | null>;
}

export interface LocalClusterOptions {
  /** Where SQLite files, receipts and the metagraph go. Absent: a temporary folder, removed on stop. */
  readonly dataDir?: string;
  /** @default 1 */
  readonly miners?: number;
  /** Executor count per class of every miner. @default LOCAL_CLUSTER_DEFAULT_MANIFEST */
  readonly minerManifest?: Readonly<Record<string, number>>;
  /** `horde.id` of this cluster's executors and containers. @default a fresh id per cluster */
  readonly hordeId?: string;
  /** Extra flags per role (e.g. `{ miner: ['--executor-backend', 'docker'] }`). */
  readonly extraArgs?: Partial<Record<ClusterRole, readonly string[]>>;
  /** Extra environment of every child (e.g. `HORDE_LOG_LEVEL`). */
  readonly env?: Readonly<Record<string, string>>;
  /** Told every output line of every child (`horde up -v` prints them). */
  readonly onLog?: (name: string, line: string) => void;
  /** @default LOCAL_CLUSTER_START_TIMEOUT_MS */
  readonly startTimeoutMs?: number;
  /** @default LOCAL_CLUSTER_STOP_GRACE_MS */
  readonly stopGraceMs?: number;
}

export interface LocalCluster {
  readonly facilitatorUrl: string;
  readonly validatorUrl: string;
  readonly validatorHotkey: string;
  readonly userHotkey: string;
  /** Dev key name of the user hotkey (`devHotkey(userKeyName)` gives the key the facilitator whitelists). */
  readonly userKeyName: string;
  readonly hordeId: string;
  readonly dataDir: string;
  readonly processes: readonly ClusterProcess[];
  /**
   * Stops every role (SIGTERM, SIGKILL after the grace), then removes leftover executor processes and containers of
   * this cluster. Resolves with what the sweep had to remove (0 and 0 when everything stopped cleanly). Idempotent.
   */
  stop(): Promise<{ leftoverProcesses: number; leftoverContainers: number }>;
}

const REPO = resolve(__dirname, '..', '..');
const BIN = join(REPO, 'bin', 'horde.js');

/** A free TCP port on 127.0.0.1 (released before use: a tiny race that a local cluster accepts). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null ? resolvePort(address.port) : reject(new ClusterStartError('no free port')),
      );
    });
  });
}

function defaultHordeId(): string {
  return `local-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/**
 * Starts the four roles (the executor runs inside each miner's jobs) and resolves once every one answers /readyz.
 * On failure, everything already started is stopped before the error is thrown.
 *
 * @example
 * ```ts
 * const cluster = await startLocalCluster({ miners: 1 });
 * try {
 *   const client = new HordeClient({ url: cluster.facilitatorUrl, hotkey: devHotkey(cluster.userKeyName) });
 *   // ...
 * } finally {
 *   await cluster.stop();
 * }
 * ```
 */
export async function startLocalCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  await initCrypto();
  const validator = devHotkey(LOCAL_DEV_KEYS.validator);
  const user = devHotkey(LOCAL_DEV_KEYS.user);
  const minerCount = options.miners ?? 1;
  const minerKeys = Array.from({ length: minerCount }, (_, i) => (i === 0 ? LOCAL_DEV_KEYS.miner : `${LOCAL_DEV_KEYS.miner}-${i}`));
  const temporary = options.dataDir === undefined;
  const dataDir = options.dataDir === undefined ? mkdtempSync(join(tmpdir(), 'horde-cluster-')) : resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const hordeId = options.hordeId ?? defaultHordeId();
  const startTimeoutMs = options.startTimeoutMs ?? LOCAL_CLUSTER_START_TIMEOUT_MS;
  const stopGraceMs = options.stopGraceMs ?? LOCAL_CLUSTER_STOP_GRACE_MS;
  const processes: ClusterProcess[] = [];

  const minerPorts = await Promise.all(minerKeys.map(() => freePort()));
  const metagraphPath = join(dataDir, 'metagraph.json');
  writeFileSync(
    metagraphPath,
    `${JSON.stringify(
      {
        validators: [{ hotkey: validator.ss58, active: true, stake: LOCAL_CLUSTER_VALIDATOR_STAKE, uid: 0 }],
        miners: minerKeys.map((name, i) => {
          const hotkey = devHotkey(name).ss58;
          return { hotkey, address: '127.0.0.1', port: minerPorts[i], uid: i + 1, coldkey: hotkey };
        }),
      },
      null,
      2,
    )}\n`,
  );

  const spawnRole = (role: ClusterRole, name: string, hotkey: string | undefined, args: readonly string[]) => {
    const started = startChild(role, name, hotkey, [...args, ...(options.extraArgs?.[role] ?? [])], { ...options.env }, options.onLog);
    processes.push(started.process);
    const ready = started.ready(startTimeoutMs);
    // awaited later, maybe after another role failed first: a rejection meanwhile must not count as unhandled
    ready.catch(() => undefined);
    return ready;
  };

  // Last resort when this process ends without stop() (an uncaught error, process.exit): children must not outlive
  // it. 'exit' listeners run synchronously, so only a SIGKILL fits; a SIGKILL of this process itself is not covered.
  const killOnExit = () => {
    for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    if (temporary) rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);

  let stopped: Promise<{ leftoverProcesses: number; leftoverContainers: number }> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      process.off('exit', killOnExit);
      const byRole = (role: ClusterRole) => processes.filter((p) => p.role === role);
      await Promise.all([...byRole('validator'), ...byRole('miner')].map((p) => stopChild(p, stopGraceMs)));
      await Promise.all(byRole('facilitator').map((p) => stopChild(p, stopGraceMs)));
      const swept = await sweepLeftovers(hordeId);
      if (temporary) rmSync(dataDir, { recursive: true, force: true });
      return swept;
    })());

  try {
    const facilitatorReady = spawnRole('facilitator', 'facilitator', undefined, [
      'facilitator',
      '--host', '127.0.0.1',
      '--port', '0',
      '--data-dir', join(dataDir, 'facilitator'),
      '--metagraph-file', metagraphPath,
      '--whitelist', user.ss58,
    ]);
    const minersReady = minerKeys.map((name, i) =>
      spawnRole('miner', `miner-${i}`, devHotkey(name).ss58, [
        'miner',
        '--host', '127.0.0.1',
        '--port', String(minerPorts[i]),
        '--dev-key', name,
        '--manifest', JSON.stringify(options.minerManifest ?? LOCAL_CLUSTER_DEFAULT_MANIFEST),
        '--metagraph-file', metagraphPath,
        '--data-dir', join(dataDir, `miner-${i}`),
        '--horde-id', hordeId,
      ]),
    );
    const facilitatorUrl = await facilitatorReady;
    // the validator's first manifest round (which its /readyz waits for) must find the miners listening
    await Promise.all(minersReady);
    const validatorReady = spawnRole('validator', 'validator', validator.ss58, [
      'validator',
      '--host', '127.0.0.1',
      '--port', '0',
      '--dev-key', LOCAL_DEV_KEYS.validator,
      '--facilitator-url', `${facilitatorUrl.replace(/^http/, 'ws')}/ws/v0/`,
      '--metagraph-file', metagraphPath,
      '--data-dir', join(dataDir, 'validator'),
      '--whitelist', user.ss58,
      '--manifest-interval-ms', String(LOCAL_CLUSTER_MANIFEST_INTERVAL_MS),
    ]);
    const validatorUrl = await validatorReady;
    return {
      facilitatorUrl,
      validatorUrl,
      validatorHotkey: validator.ss58,
      userHotkey: user.ss58,
      userKeyName: LOCAL_DEV_KEYS.user,
      hordeId,
      dataDir,
      processes,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

interface StartedChild {
  readonly process: ClusterProcess;
  /** Resolves with the HTTP URL once /readyz answers 200. */
  ready(timeoutMs: number): Promise<string>;
}

function startChild(
  role: ClusterRole,
  name: string,
  hotkey: string | undefined,
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  onLog: LocalClusterOptions['onLog'],
): StartedChild {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HORDE_LOG_LEVEL: process.env['HORDE_LOG_LEVEL'] ?? 'info', ...env },
  });
  const logs: string[] = [];
  let listening: ((url: string) => void) | undefined;
  const listen = new Promise<string>((r) => (listening = r));
  const lineReader = (stream: NodeJS.ReadableStream) => {
    let buffered = '';
    stream.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        logs.push(line);
        if (logs.length > LOCAL_CLUSTER_LOG_LINES) logs.shift();
        onLog?.(name, line);
        const match = /listening on (http:\/\/[^\s/]+)/.exec(line);
        if (match !== null) listening?.(match[1]!);
      }
    });
  };
  lineReader(child.stdout);
  lineReader(child.stderr);
  const exited = new Promise<number | null>((r) => child.once('exit', (code, signal) => r(code ?? (signal === null ? null : 128))));
  let url = '';
  const proc: ClusterProcess = {
    role,
    name,
    child,
    hotkey,
    logs,
    exited,
    get url() {
      return url;
    },
  };
  return {
    process: proc,
    ready: async (timeoutMs) => {
      const deadline = performance.now() + timeoutMs;
      const failure = (why: string) => new ClusterStartError(`${name} ${why}; its last output:\n${logs.slice(-40).join('\n')}`);
      const gone = exited.then((code) => {
        throw failure(`exited with code ${String(code)} while starting`);
      });
      gone.catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(failure(`did not start within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        url = await Promise.race([listen, gone, timeout]);
        for (;;) {
          if (performance.now() > deadline) throw failure(`did not answer ${url}/readyz within ${timeoutMs} ms`);
          const readyz = await Promise.race([
            fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) }).then(
              (r) => r.status,
              () => 0,
            ),
            gone,
          ]);
          if (readyz === 200) return url;
          await new Promise((r) => setTimeout(r, LOCAL_CLUSTER_READY_POLL_MS));
        }
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

async function stopChild(proc: ClusterProcess, graceMs: number): Promise<void> {
  const { child } = proc;
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await proc.exited;
  clearTimeout(timer);
}

/** Executor processes whose environment carries `HORDE_ID=<hordeId>` (zombies excluded). */
export function processesOf(hordeId: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (!readFileSync(`/proc/${name}/environ`, 'utf8').split('\0').includes(`HORDE_ID=${hordeId}`)) continue;
      if (/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${name}/stat`, 'utf8'))) continue;
      pids.push(Number(name));
    } catch {
      // gone while we looked, or not ours to read
    }
  }
  return pids;
}

/** Kills executor processes and removes containers this cluster left (after a SIGKILL of their miner). */
async function sweepLeftovers(hordeId: string): Promise<{ leftoverProcesses: number; leftoverContainers: number }> {
  const pids = processesOf(hordeId);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  let leftoverContainers = 0;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- dockerode is loaded only when a cluster stops
    const Dockerode = require('dockerode') as typeof import('dockerode');
    const docker = new Dockerode({ socketPath: process.env['HORDE_DOCKER_SOCKET'] ?? '/var/run/docker.sock' });
    const containers = await docker.listContainers({ all: true, filters: { label: ['horde.managed=true', `horde.id=${hordeId}`] } });
    leftoverContainers = containers.length;
    await Promise.all(containers.map((info) => docker.getContainer(info.Id).remove({ force: true }).catch(() => undefined)));
  } catch {
    // no Docker engine: nothing can have been left there
  }
  return { leftoverProcesses: pids.length, leftoverContainers };
}
