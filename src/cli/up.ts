/**
 * `horde up`: a whole local Horde in one command: facilitator, validator and miners as child processes with dev
 * keys, until Ctrl-C, which stops them all and leaves nothing running.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, defineSettings, loadConfig, setting } from '../config';
import { toError } from '../util/errors';
import type { LocalCluster } from './cluster';
import { processIo, type CommandIo } from './io';

/* eslint-disable @typescript-eslint/no-require-imports -- loaded when the command runs (see main.ts) */
const lazy = {
  cluster: () => require('./cluster') as typeof import('./cluster'),
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** Data folder of `horde up` (and where `horde job run` looks for a running cluster), relative to the working directory. */
export const UP_DEFAULT_DATA_DIR = '.horde';
/** File in the data folder naming the running cluster's endpoints (removed when it stops). */
export const UP_CLUSTER_FILE = 'cluster.json';

/** What `horde up` writes to {@link UP_CLUSTER_FILE}. */
export interface ClusterFile {
  readonly facilitatorUrl: string;
  readonly validatorUrl: string;
  readonly validatorHotkey: string;
  readonly userHotkey: string;
  readonly userKeyName: string;
  readonly pid: number;
}

const upSettings = defineSettings({
  dataDir: setting.string({ doc: 'Folder of the cluster\'s state (SQLite stores, receipts, metagraph).', env: 'HORDE_UP_DATA_DIR', default: UP_DEFAULT_DATA_DIR }),
  miners: setting.int({ doc: 'Number of miner processes.', env: 'HORDE_UP_MINERS', default: 1, min: 1, max: 32 }),
  manifest: setting.string({
    doc: 'Executor count per class of every miner, as JSON.',
    env: 'HORDE_UP_MANIFEST',
    default: '{"always_on.test": 4}',
    validate: (text) => {
      try {
        const value: unknown = JSON.parse(text);
        return typeof value === 'object' && value !== null && !Array.isArray(value) ? undefined : 'must be a JSON object';
      } catch {
        return 'must be JSON, e.g. {"always_on.test": 4}';
      }
    },
  }),
  verbose: setting.boolean({ doc: 'Print every log line of every role.', env: 'HORDE_UP_VERBOSE', default: false }),
});


/** The endpoint table `horde up` prints. */
export function describeCluster(cluster: LocalCluster): string {
  const rows: Array<[string, string, string]> = [
    ['facilitator', cluster.facilitatorUrl, `REST /api/v1/, validators on ${cluster.facilitatorUrl.replace(/^http/, 'ws')}/ws/v0/`],
    ['validator', cluster.validatorUrl, `hotkey ${cluster.validatorHotkey}`],
    ...cluster.processes
      .filter((p) => p.role === 'miner')
      .map((p): [string, string, string] => [p.name, p.url, `hotkey ${p.hotkey ?? ''}`]),
    ['user', '', `hotkey ${cluster.userHotkey} (dev key ${cluster.userKeyName})`],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  const urlWidth = Math.max(...rows.map(([, url]) => url.length));
  return rows.map(([name, url, note]) => `  ${name.padEnd(width)}  ${url.padEnd(urlWidth)}  ${note}`).join('\n');
}

/** `horde up [--data-dir D] [--miners N] [--manifest JSON] [--verbose]`; resolves with the exit code after Ctrl-C. */
export async function upCommand(args: readonly string[], io: CommandIo = processIo): Promise<number> {
  let config;
  try {
    const outcome = loadConfig(upSettings, {
      argv: args,
      env: io.env,
      command: 'horde up',
      summary:
        'Starts a local Horde: a facilitator, a validator and --miners miners, each a child process with a public dev ' +
        'key, sharing a file metagraph. Prints every endpoint and runs until Ctrl-C (or SIGTERM), which stops them all ' +
        'and removes any executor or container they left. Submit jobs with `horde job run`.',
    });
    if (outcome.kind === 'help') {
      io.stdout(outcome.text);
      return 0;
    }
    config = outcome.config;
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr(`${error.message}\n`);
      return 2;
    }
    throw error;
  }

  const dataDir = resolve(io.cwd, config.dataDir);
  mkdirSync(dataDir, { recursive: true });
  io.stderr(`horde up: starting a facilitator, a validator and ${config.miners} miner(s) (data in ${dataDir})...\n`);
  const { startLocalCluster } = lazy.cluster();
  let cluster: LocalCluster;
  try {
    cluster = await startLocalCluster({
      dataDir,
      miners: config.miners,
      minerManifest: JSON.parse(config.manifest) as Record<string, number>,
      onLog: config.verbose ? (name, line) => io.stderr(`[${name}] ${line}\n`) : undefined,
    });
  } catch (error) {
    io.stderr(`horde up: ${toError(error).message}\n`);
    return 1;
  }

  const clusterFile = join(dataDir, UP_CLUSTER_FILE);
  const file: ClusterFile = {
    facilitatorUrl: cluster.facilitatorUrl,
    validatorUrl: cluster.validatorUrl,
    validatorHotkey: cluster.validatorHotkey,
    userHotkey: cluster.userHotkey,
    userKeyName: cluster.userKeyName,
    pid: process.pid,
  };
  writeFileSync(clusterFile, `${JSON.stringify(file, null, 2)}\n`);
  io.stdout(`horde up: ready\n${describeCluster(cluster)}\n`);
  io.stdout(`Try: horde job run --facilitator ${cluster.facilitatorUrl} --image horde-testjob:local -- echo hello\n`);
  io.stdout('Ctrl-C stops everything.\n');

  const reason = await new Promise<string>((resolveReason) => {
    const onSignal = (signal: NodeJS.Signals) => resolveReason(`got ${signal}`);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    for (const proc of cluster.processes) {
      void proc.exited.then((code) => resolveReason(`${proc.name} exited unexpectedly (code ${String(code)}); its last output:\n${proc.logs.slice(-20).join('\n')}`));
    }
  });
  const unexpected = !reason.startsWith('got ');
  io.stderr(`horde up: ${reason}; stopping...\n`);
  // a second Ctrl-C while stopping must not kill this process before its children are gone
  const ignore = () => io.stderr('horde up: still stopping (processes get SIGKILL after their grace)\n');
  process.on('SIGINT', ignore);
  process.on('SIGTERM', ignore);
  try {
    const swept = await cluster.stop();
    rmSync(clusterFile, { force: true });
    const leftovers = swept.leftoverProcesses + swept.leftoverContainers;
    io.stderr(
      leftovers === 0
        ? 'horde up: stopped; nothing left running.\n'
        : `horde up: stopped; removed ${swept.leftoverProcesses} leftover process(es) and ${swept.leftoverContainers} container(s).\n`,
    );
  } finally {
    process.off('SIGINT', ignore);
    process.off('SIGTERM', ignore);
  }
  return unexpected ? 1 : 0;
}
