import { defineSettings, setting, type ConfigOf } from '../../config';
import { logLevelSetting } from '../../telemetry/logger';
import { err, ok, type Result } from '../../util/result';
import {
  DEFAULT_DOCKER_SOCKET_PATH,
  DEFAULT_HORDE_ID,
  FINAL_DELIVERY_GRACE_MS,
  IMAGE_PULL_POLICY,
  IMAGE_PULL_TIMEOUT_MS,
  SHUTDOWN_TIMEOUT_MS,
  STARTUP_TIME_LIMIT_MS,
  TEMP_DIR_CLEANUP_IMAGE,
} from './defaults';

function tokenProblem(value: string): string | undefined {
  return /^[A-Za-z0-9._~-]+$/.test(value) ? undefined : 'use letters, digits, ".", "_", "~" or "-" only';
}

/**
 * Settings of `horde executor` (flags > environment > config file > defaults). The miner address and token use
 * upstream's variable names (`MINER_ADDRESS`, `EXECUTOR_TOKEN`), so an upstream-style executor manager can start a
 * Horde executor unchanged; everything else is `HORDE_*`.
 */
export const executorSettings = defineSettings({
  minerAddress: setting.string({
    doc: 'Base address of the miner, e.g. ws://127.0.0.1:8000; the executor dials <address>/v0.1/executor_interface/<token>.',
    env: 'MINER_ADDRESS',
    validate: (value) => (/^wss?:\/\/[^/\s]+/.test(value) ? undefined : 'must be a ws:// or wss:// address'),
  }),
  executorToken: setting.string({
    doc:
      'The token the miner issued for this executor run (upstream: "<job uuid>-<uuid4>"); it is part of the URL. ' +
      'Required, except with --standby (then it comes on stdin).',
    env: 'EXECUTOR_TOKEN',
    secret: true,
    optional: true,
    validate: tokenProblem,
  }),
  standby: setting.boolean({
    doc:
      'Warm standby: load everything and check the docker engine, then wait for one line {"token": "..."} on stdin and ' +
      'run that job. Closing stdin first ends the process (exit 0); any other line is bad usage (exit 3). The miner ' +
      'keeps such processes ready so that a job does not wait for a process to start.',
    env: 'HORDE_EXECUTOR_STANDBY',
    default: false,
  }),
  maxJobs: setting.int({
    doc:
      'With --standby: jobs this process runs one after another. After each job that ended cleanly (completed or ' +
      'job failed) it writes one line {"job_ended": <exit code>} on stdout and waits for the next token like a fresh ' +
      'standby; after the last one, or any other ending, it exits. Every job still gets its own token, connection, ' +
      'workspace and cleanup; only the loaded process is reused.',
    env: 'HORDE_EXECUTOR_MAX_JOBS',
    default: 1,
    min: 1,
    max: 100_000,
  }),
  startupTimeLimitMs: setting.durationMs({
    doc:
      'Budget from start to V0ExecutorReadyRequest (upstream --startup-time-limit): waiting for the initial request, ' +
      'stale-container cleanup and the image pull. Past it the job is a horde failure.',
    env: 'HORDE_EXECUTOR_STARTUP_TIME_LIMIT_MS',
    default: STARTUP_TIME_LIMIT_MS,
    min: 1,
  }),
  hordeId: setting.string({
    doc:
      'Label value (horde.id) shared by every executor of one miner. The startup sweep only ever looks at containers ' +
      'of this horde, and only removes abandoned ones.',
    env: 'HORDE_ID',
    default: DEFAULT_HORDE_ID,
    validate: (value) => (/^[A-Za-z0-9._-]+$/.test(value) ? undefined : 'use letters, digits, ".", "_" or "-" only'),
  }),
  imagePullPolicy: setting.oneOf(['always', 'if-missing', 'never'], {
    doc: 'When to pull the job image: always (upstream), if-missing (present images are used as they are), never.',
    env: 'HORDE_EXECUTOR_IMAGE_PULL_POLICY',
    default: IMAGE_PULL_POLICY,
  }),
  imagePullTimeoutMs: setting.durationMs({
    doc: 'Upper bound of one image pull; the startup budget caps it further.',
    env: 'HORDE_EXECUTOR_IMAGE_PULL_TIMEOUT_MS',
    default: IMAGE_PULL_TIMEOUT_MS,
    min: 1,
  }),
  workDir: setting.string({
    doc: 'Folder in which job temp dirs are made (default: the OS temp folder). Must be visible to the docker engine.',
    env: 'HORDE_EXECUTOR_WORK_DIR',
    optional: true,
  }),
  cleanupImage: setting.string({
    doc: 'A local image with sh and rm, used to delete root-owned files a job left when a plain delete is refused.',
    env: 'HORDE_EXECUTOR_CLEANUP_IMAGE',
    default: TEMP_DIR_CLEANUP_IMAGE,
  }),
  gpu: setting.boolean({
    doc:
      'Give jobs with docker_run_options_preset nvidia_all every GPU (Runtime nvidia, DeviceRequests Count -1). Off ' +
      'by default: it needs the NVIDIA container runtime, and is untested on hosts without a GPU.',
    env: 'HORDE_EXECUTOR_GPU',
    default: false,
  }),
  jobMemoryMb: setting.int({
    doc: 'Memory limit of the job container in MiB (unset: no limit, as upstream).',
    env: 'HORDE_EXECUTOR_JOB_MEMORY_MB',
    optional: true,
    min: 6,
  }),
  jobCpus: setting.number({
    doc: 'CPU limit of the job container, in CPUs (unset: no limit, as upstream).',
    env: 'HORDE_EXECUTOR_JOB_CPUS',
    optional: true,
    min: 0.01,
  }),
  dockerSocket: setting.string({
    doc: 'Unix socket of the docker engine that runs the job container.',
    env: 'HORDE_DOCKER_SOCKET',
    default: DEFAULT_DOCKER_SOCKET_PATH,
  }),
  finalDeliveryGraceMs: setting.durationMs({
    doc: 'After the job ended with the miner link down, how long to wait for it to come back so the final message leaves.',
    env: 'HORDE_EXECUTOR_FINAL_DELIVERY_GRACE_MS',
    default: FINAL_DELIVERY_GRACE_MS,
  }),
  shutdownTimeoutMs: setting.durationMs({
    doc: 'On SIGTERM/SIGINT, how long reporting and cleanup may take before the job is stopped by force and swept.',
    env: 'HORDE_EXECUTOR_SHUTDOWN_TIMEOUT_MS',
    default: SHUTDOWN_TIMEOUT_MS,
    min: 1,
  }),
  metricsPort: setting.int({
    doc: 'Serve Prometheus /metrics on 127.0.0.1:<port> while the executor runs (unset: no telemetry server).',
    env: 'HORDE_EXECUTOR_METRICS_PORT',
    optional: true,
    min: 0,
    max: 65535,
  }),
  traceparent: setting.string({
    doc: 'W3C traceparent of the span that started this executor (the miner\'s): the job\'s spans become its children.',
    env: 'TRACEPARENT',
    optional: true,
  }),
  logLevel: logLevelSetting,
});

/** `horde executor`'s settings as loaded: the token may still be missing (a standby gets it later). */
export type LoadedExecutorConfig = ConfigOf<typeof executorSettings>;

/** A `horde executor` configuration ready to run a job: the token is known. */
export type ExecutorConfig = Omit<LoadedExecutorConfig, 'executorToken'> & { executorToken: string };

/** Process title of an idle standby executor (what `ps` shows). */
export const STANDBY_TITLE = 'horde-executor standby';
/** Process title of a standby executor once a job took it: followed by the job uuid. */
export const JOB_TITLE_PREFIX = 'horde-executor ';

/** Longest stdin line a standby executor accepts; a longer one is bad usage, so a stray stream cannot fill memory. */
export const STANDBY_LINE_MAX_CHARS = 4_096;

/**
 * The stdout line a reusable standby writes when its job has ended and it waits for the next token (the miner then
 * frees the job's slot and may hand the process another job).
 *
 * @example
 * ```ts
 * jobEndedLine(0); // '{"job_ended":0}\n'
 * ```
 */
export function jobEndedLine(exitCode: number): string {
  return `${JSON.stringify({ job_ended: exitCode })}\n`;
}

/** Reads a {@link jobEndedLine}: the job's exit code, or undefined for any other line (log output). */
export function parseJobEndedLine(line: string): number | undefined {
  if (!line.startsWith('{"job_ended":')) return undefined;
  try {
    const value = JSON.parse(line) as { job_ended?: unknown };
    return typeof value.job_ended === 'number' && Number.isInteger(value.job_ended) && Object.keys(value).length === 1 ? value.job_ended : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Problems of a loaded configuration that no single setting can see: a job run needs a token, a standby must not be
 * given one up front (it would be the wrong job's).
 *
 * @example
 * ```ts
 * const problems = executorConfigProblems(outcome.config); // [] when usable
 * ```
 */
export function executorConfigProblems(config: Pick<LoadedExecutorConfig, 'executorToken' | 'standby'>): string[] {
  if (config.standby && config.executorToken !== undefined) {
    return ['executorToken must not be set with --standby: a standby executor reads its token from stdin'];
  }
  if (!config.standby && config.executorToken === undefined) {
    return ['executorToken is required: set --executor-token, or EXECUTOR_TOKEN, or "executorToken" in a config file (or use --standby)'];
  }
  return [];
}

/**
 * Reads the line a standby executor gets on stdin: exactly `{"token": "<token>"}`. Resolves with the token, or a
 * sentence saying what is wrong with the line.
 *
 * @example
 * ```ts
 * parseStandbyLine('{"token":"abc-1"}'); // { ok: true, value: 'abc-1' }
 * ```
 */
export function parseStandbyLine(line: string): Result<string, string> {
  if (line.length > STANDBY_LINE_MAX_CHARS) return err(`the standby line is longer than ${STANDBY_LINE_MAX_CHARS} characters`);
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return err('the standby line is not JSON; expected {"token": "..."}');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return err('expected a JSON object {"token": "..."}');
  const keys = Object.keys(value);
  if (keys.length !== 1 || keys[0] !== 'token') return err('expected exactly one key, "token"');
  const token = (value as { token: unknown }).token;
  if (typeof token !== 'string' || token.length === 0) return err('"token" must be a non-empty string');
  const problem = tokenProblem(token);
  return problem === undefined ? ok(token) : err(`"token": ${problem}`);
}
