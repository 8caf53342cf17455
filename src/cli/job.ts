/**
 * `horde job run`: submits one job through the SDK, shows its progress stage by stage and prints what it wrote.
 * Without a facilitator (none given, none from a running `horde up`, or `--up`) it starts a local cluster for the
 * run and stops it afterwards.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, defineSettings, loadConfig, setting } from '../config';
import type { StatusHistoryEntry } from '../sdk/facilitatorApi';
import { toError } from '../util/errors';
import type { LocalCluster } from './cluster';
import { processIo, type CommandIo } from './io';
import { UP_CLUSTER_FILE, UP_DEFAULT_DATA_DIR, type ClusterFile } from './up';

/* eslint-disable @typescript-eslint/no-require-imports -- loaded when the command runs (see main.ts) */
const lazy = {
  cluster: () => require('./cluster') as typeof import('./cluster'),
  sdk: () => require('../sdk') as typeof import('../sdk'),
  crypto: () => require('../crypto') as typeof import('../crypto'),
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** Executor class of `horde job run` when none is given: the one a local cluster's miners offer. */
export const JOB_RUN_DEFAULT_CLASS = 'always_on.test';
/** How long `horde job run` waits for the job to end (the job's own limits usually end it first). */
export const JOB_RUN_DEFAULT_TIMEOUT_MS = 10 * 60_000;
/** How long a facilitator named by a running `horde up` may take to answer /healthz before it counts as gone. */
export const JOB_RUN_PROBE_TIMEOUT_MS = 1_000;

/** Exit codes of `horde job run`. */
export const JOB_RUN_EXIT_CODES = { completed: 0, unsuccessful: 1, usage: 2, interrupted: 130 } as const;

const jobRunSettings = defineSettings({
  image: setting.string({ doc: 'Docker image of the job.', env: 'HORDE_JOB_IMAGE' }),
  class: setting.string({ doc: 'Executor class to run on.', env: 'HORDE_JOB_CLASS', default: JOB_RUN_DEFAULT_CLASS }),
  facilitator: setting.string({
    doc: 'Facilitator URL (http://HOST:PORT). Default: the one a running `horde up` wrote, else a local cluster started for this run.',
    env: 'HORDE_FACILITATOR_URL',
    optional: true,
  }),
  up: setting.boolean({ doc: 'Start a local cluster for this run even if a facilitator is reachable.', default: false }),
  dataDir: setting.string({ doc: 'Where to look for a running `horde up` cluster.', env: 'HORDE_UP_DATA_DIR', default: UP_DEFAULT_DATA_DIR }),
  devKey: setting.string({ doc: 'Dev key name of the submitting user (must be whitelisted by the facilitator).', default: 'horde-dev-user' }),
  hotkeyFile: setting.string({ doc: 'Key file of the submitting user (instead of --dev-key).', env: 'HORDE_JOB_HOTKEY_FILE', optional: true }),
  env: setting.list({ doc: 'KEY=VALUE environment of the job (repeatable).', default: [] }),
  input: setting.list({ doc: 'Local files or folders sent as an inline volume, under /volume/ (repeatable).', default: [] }),
  artifactsDir: setting.string({ doc: 'Folder inside the job whose small files come back as artifacts.', optional: true }),
  executionTimeLimitMs: setting.durationMs({ doc: 'Execution time limit of the job.', default: 60_000, min: 1_000 }),
  timeoutMs: setting.durationMs({ doc: 'Give up waiting after this long.', default: JOB_RUN_DEFAULT_TIMEOUT_MS, min: 1 }),
  attempts: setting.int({ doc: 'Job attempts (each a new job) before giving up.', default: 1, min: 1, max: 10 }),
});


/** Human names of the stages shown while a job runs. */
export const STAGE_LABELS: Readonly<Record<string, string>> = {
  sent: 'sent to the facilitator',
  received: 'received by the validator',
  accepted: 'accepted by a miner',
  executor_ready: 'executor ready',
  streaming_ready: 'streaming ready',
  volumes_ready: 'volumes ready',
  execution_done: 'execution done',
  completed: 'completed',
  rejected: 'rejected',
  failed: 'failed',
  horde_failed: 'horde failed',
};

/** Renders progress: on a TTY one line rewritten in place, otherwise one line per status. */
export class ProgressLine {
  private written = false;

  constructor(
    private readonly write: (text: string) => void,
    private readonly tty: boolean,
  ) {}

  update(text: string): void {
    if (this.tty) {
      this.write(`\r\u001b[2K${text}`);
      this.written = true;
    } else {
      this.write(`${text}\n`);
    }
  }

  /** Ends the rewritten line so later output starts on a fresh one. */
  done(): void {
    if (this.tty && this.written) this.write('\n');
    this.written = false;
  }
}

function reachable(url: string): Promise<boolean> {
  return fetch(`${url}/healthz`, { signal: AbortSignal.timeout(JOB_RUN_PROBE_TIMEOUT_MS) }).then(
    (response) => response.ok,
    () => false,
  );
}

function runningClusterFile(dataDir: string): ClusterFile | undefined {
  const path = join(dataDir, UP_CLUSTER_FILE);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ClusterFile;
  } catch {
    return undefined;
  }
}

/** `horde job run [options] -- CMD...`; resolves with the exit code. */
export async function jobCommand(args: readonly string[], io: CommandIo = processIo, tty: boolean = process.stderr.isTTY === true): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'run') {
    const usage = 'usage: horde job run --image IMG [--class C] [--facilitator URL] [--up] [-- CMD...]\n';
    if (sub === undefined || sub === '--help' || sub === '-h') {
      io.stdout(usage);
      return 0;
    }
    io.stderr(`horde job: unknown sub-command '${sub}'\n${usage}`);
    return JOB_RUN_EXIT_CODES.usage;
  }
  const dashDash = rest.indexOf('--');
  const flagArgs = dashDash === -1 ? rest : rest.slice(0, dashDash);
  const command = dashDash === -1 ? [] : rest.slice(dashDash + 1);
  let config;
  try {
    const outcome = loadConfig(jobRunSettings, {
      argv: flagArgs,
      env: io.env,
      command: 'horde job run',
      usageTail: '[-- CMD...]',
      summary:
        'Submits one job to a facilitator as the user hotkey, shows each stage as it happens, then prints the job\'s ' +
        'stdout (and its stderr to stderr). Exit code 0 when the job completed, 1 otherwise (with the reason).',
    });
    if (outcome.kind === 'help') {
      io.stdout(outcome.text);
      return 0;
    }
    config = outcome.config;
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr(`${error.message}\n`);
      return JOB_RUN_EXIT_CODES.usage;
    }
    throw error;
  }
  const badEnv = config.env.find((item) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(item));
  if (badEnv !== undefined) {
    io.stderr(`horde job run: --env ${badEnv}: expected KEY=VALUE\n`);
    return JOB_RUN_EXIT_CODES.usage;
  }

  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let cluster: LocalCluster | undefined;
  try {
    const { devHotkey, initCrypto, loadKeyFile } = lazy.crypto();
    await initCrypto();
    let url = config.facilitator;
    let validatorHotkey: string | undefined;
    if (url === undefined && !config.up) {
      const running = runningClusterFile(resolve(io.cwd, config.dataDir));
      if (running !== undefined && (await reachable(running.facilitatorUrl))) {
        url = running.facilitatorUrl;
        validatorHotkey = running.validatorHotkey;
      }
    }
    if (url === undefined || config.up) {
      io.stderr('horde job run: starting a local cluster for this run...\n');
      cluster = await lazy.cluster().startLocalCluster({});
      io.stderr(`horde job run: local cluster at ${cluster.facilitatorUrl} (data in ${cluster.dataDir})\n`);
      url = cluster.facilitatorUrl;
      validatorHotkey = cluster.validatorHotkey;
    }
    const hotkey = config.hotkeyFile !== undefined ? await loadKeyFile(resolve(io.cwd, config.hotkeyFile)) : devHotkey(config.devKey);
    return await runJob(io, tty, controller.signal, {
      url,
      hotkey,
      validatorHotkey,
      spec: {
        executorClass: config.class as never,
        image: config.image,
        command,
        env: Object.fromEntries(config.env.map((item) => [item.slice(0, item.indexOf('=')), item.slice(item.indexOf('=') + 1)])),
        volumes: config.input.length > 0 ? [{ kind: 'local', paths: config.input.map((p) => resolve(io.cwd, p)) }] : [],
        ...(config.artifactsDir === undefined ? {} : { artifactsDir: config.artifactsDir }),
        executionTimeLimitS: Math.ceil(config.executionTimeLimitMs / 1000),
      },
      timeoutMs: config.timeoutMs,
      attempts: config.attempts,
    });
  } catch (error) {
    if (controller.signal.aborted) {
      io.stderr('horde job run: interrupted\n');
      return JOB_RUN_EXIT_CODES.interrupted;
    }
    io.stderr(`horde job run: ${toError(error).message}\n`);
    return JOB_RUN_EXIT_CODES.unsuccessful;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (cluster !== undefined) {
      io.stderr('horde job run: stopping the local cluster...\n');
      await cluster.stop();
    }
  }
}

async function runJob(
  io: CommandIo,
  tty: boolean,
  signal: AbortSignal,
  options: {
    url: string;
    hotkey: import('../crypto').Hotkey;
    validatorHotkey: string | undefined;
    spec: import('../sdk').JobSpec;
    timeoutMs: number;
    attempts: number;
  },
): Promise<number> {
  const { HordeClient, JobUnsuccessfulError, jobResult } = lazy.sdk();
  const client = new HordeClient({ url: options.url, hotkey: options.hotkey });
  const progress = new ProgressLine(io.stderr, tty);
  const startedMs = performance.now();
  let uuid = '';
  const onStatus = (entry: StatusHistoryEntry, jobUuid: string) => {
    const seconds = ((performance.now() - startedMs) / 1000).toFixed(1);
    progress.update(`job ${jobUuid}: ${STAGE_LABELS[entry.status] ?? entry.status} (${seconds} s)`);
  };
  try {
    const job = await client.runUntilComplete(options.spec, {
      signal,
      timeoutMs: options.timeoutMs,
      maxAttempts: options.attempts,
      onAttempt: (created, attempt) => {
        uuid = created.uuid;
        if (attempt > 1) {
          progress.done();
          io.stderr(`horde job run: attempt ${attempt} as job ${created.uuid}\n`);
        }
      },
      onStatus,
    });
    progress.done();
    const result = jobResult(job);
    io.stdout(result.stdout);
    if (result.stderr !== '') io.stderr(result.stderr);
    for (const [path, contents] of Object.entries(result.artifacts)) io.stderr(`artifact ${path}: ${contents.length} bytes\n`);
    return JOB_RUN_EXIT_CODES.completed;
  } catch (error) {
    progress.done();
    if (error instanceof JobUnsuccessfulError) {
      io.stderr(`horde job run: job ${error.jobUuid} did not complete: ${error.message}\n`);
      return JOB_RUN_EXIT_CODES.unsuccessful;
    }
    if (uuid !== '' && !signal.aborted) io.stderr(`horde job run: job ${uuid}: `);
    throw error;
  }
}
