import { defineSettings, setting, type ConfigOf } from '../../config';
import { METAGRAPH_FILE_POLL_INTERVAL_MS } from '../../metagraph/defaults';
import { logLevelSetting } from '../../telemetry/logger';
import {
  DOCKER_EXECUTOR_IMAGE,
  DRAIN_GRACE_MS,
  EXECUTOR_EXIT_GRACE_AFTER_JOB_MS,
  EXECUTOR_HEALTH_CHECK_INTERVAL_MS,
  EXECUTOR_STANDBY_COUNT,
  EXECUTOR_STANDBY_JOBS,
  EXECUTOR_STARTUP_TIME_LIMIT_MS,
  EXECUTOR_STOP_GRACE_MS,
  EXECUTOR_TTL_MS,
  MINER_DEFAULT_HOST,
  MINER_DEFAULT_PORT,
  RECEIPT_CRYPTO_THREADS,
} from './defaults';
import { parseManifest } from './manifest';

const KEY_VALUE = /^[A-Za-z_][A-Za-z0-9_]*=.*$/s;

/**
 * Settings of `horde miner` (flags > environment > config file > defaults).
 */
export const minerSettings = defineSettings({
  host: setting.string({ doc: 'Address the HTTP + WebSocket server binds.', env: 'HORDE_MINER_HOST', default: MINER_DEFAULT_HOST }),
  port: setting.int({
    doc: 'Port of the HTTP + WebSocket server (validators, executors, /receipts, /metrics); 0 picks a free one.',
    env: 'HORDE_MINER_PORT',
    default: MINER_DEFAULT_PORT,
    min: 0,
    max: 65_535,
  }),
  hotkeyFile: setting.string({
    doc: 'Key file of the miner hotkey (bittensor hotkey JSON, or {"suri": "//Name"}). Exactly one of --hotkey-file and --dev-key.',
    env: 'HORDE_MINER_HOTKEY_FILE',
    optional: true,
  }),
  devKey: setting.string({
    doc: 'Use the public development key //<name> as the miner hotkey (local clusters only: anyone can recompute it).',
    env: 'HORDE_MINER_DEV_KEY',
    optional: true,
  }),
  manifest: setting.string({
    doc:
      'Executor count per class, as JSON: {"always_on.test": 2}. Sent to every validator after auth and sizes the ' +
      'executor pools. {} pauses the miner (every job is declined busy).',
    env: 'HORDE_MINER_MANIFEST',
    default: '{"always_on.test": 1}',
    validate: (text) => {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return 'must be JSON, e.g. {"always_on.test": 2}';
      }
      const parsed = parseManifest(json);
      return parsed.ok ? undefined : parsed.error.join('; ');
    },
  }),
  metagraphFile: setting.string({
    doc: 'JSON file listing the known validators ({"validators": [{"hotkey": "5F…", "active": true}]}); reloaded when it changes.',
    env: 'HORDE_METAGRAPH_FILE',
  }),
  metagraphPollIntervalMs: setting.durationMs({
    doc: 'How often the metagraph file is checked for changes when no file-system event came.',
    env: 'HORDE_METAGRAPH_POLL_INTERVAL_MS',
    default: METAGRAPH_FILE_POLL_INTERVAL_MS,
    min: 10,
  }),
  dataDir: setting.string({
    doc: 'Folder of the miner\'s state: receipt pages (receipts/<page>.jsonl) and their SQLite index. Keep it across restarts.',
    env: 'HORDE_MINER_DATA_DIR',
    default: 'horde-miner-data',
  }),
  executorBackend: setting.oneOf(['process', 'docker', 'noop'], {
    doc:
      'How executors run: process (a child `horde executor` per job), docker (a container per job on --docker-engines), ' +
      'noop (nothing runs: for benchmarks of the reservation path).',
    env: 'HORDE_MINER_EXECUTOR_BACKEND',
    default: 'process',
  }),
  executorAddress: setting.string({
    doc: 'MINER_ADDRESS given to executors (where they dial back). Default: ws://127.0.0.1:<port>.',
    env: 'HORDE_MINER_EXECUTOR_ADDRESS',
    optional: true,
    validate: (value) => (/^wss?:\/\/[^/\s]+/.test(value) ? undefined : 'must be a ws:// or wss:// address'),
  }),
  executorCommand: setting.list({
    doc: 'Command of the process backend. Default: this node binary running this checkout\'s bin/horde.js executor.',
    env: 'HORDE_MINER_EXECUTOR_COMMAND',
    optional: true,
  }),
  executorStandby: setting.int({
    doc:
      'Warm standby executors the process backend keeps started (`horde executor --standby`, modules loaded, waiting ' +
      'for a token): a job that finds one skips the process start (~1 s). Each costs an idle process\'s memory; ' +
      '0 starts every executor cold. A custom --executor-command must understand --standby.',
    env: 'HORDE_MINER_EXECUTOR_STANDBY',
    default: EXECUTOR_STANDBY_COUNT,
    min: 0,
    max: 64,
  }),
  executorStandbyJobs: setting.int({
    doc:
      'Jobs one standby executor process runs one after another: after a job that ended cleanly it waits for the next ' +
      'token instead of exiting (each job still has its own token, connection, workspace and cleanup). 1 is one ' +
      'process per job, as upstream. A custom --executor-command must understand --max-jobs when this is above 1.',
    env: 'HORDE_MINER_EXECUTOR_STANDBY_JOBS',
    default: EXECUTOR_STANDBY_JOBS,
    min: 1,
    max: 100_000,
  }),
  executorEnv: setting.list({
    doc: 'Extra KEY=VALUE environment for every executor (e.g. HORDE_EXECUTOR_STARTUP_TIME_LIMIT_MS=8000).',
    env: 'HORDE_MINER_EXECUTOR_ENV',
    default: [],
    validate: (items) => (items.every((item) => KEY_VALUE.test(item)) ? undefined : 'each item must be KEY=VALUE'),
  }),
  hordeId: setting.string({
    doc: 'horde.id label of this miner\'s executors and their containers (passed to executors as HORDE_ID).',
    env: 'HORDE_ID',
    default: 'default',
    validate: (value) => (/^[A-Za-z0-9._-]+$/.test(value) ? undefined : 'use letters, digits, ".", "_" or "-" only'),
  }),
  dockerSocket: setting.string({
    doc: 'Docker engine the process backend\'s executors run jobs on: leftover job containers are swept there.',
    env: 'HORDE_DOCKER_SOCKET',
    default: '/var/run/docker.sock',
  }),
  dockerEngines: setting.list({
    doc:
      'Docker engines of the docker backend (unix:///var/run/docker.sock, tcp://host:2375, https://host:2376, ' +
      'ssh://user@host); each executor goes to the engine running the fewest.',
    env: 'HORDE_MINER_DOCKER_ENGINES',
    default: ['unix:///var/run/docker.sock'],
  }),
  dockerImage: setting.string({
    doc: 'Image of the docker backend\'s executor containers (it must contain `horde executor`).',
    env: 'HORDE_MINER_DOCKER_IMAGE',
    default: DOCKER_EXECUTOR_IMAGE,
  }),
  dockerCmd: setting.list({ doc: 'Command of the executor containers (default: the image\'s).', env: 'HORDE_MINER_DOCKER_CMD', optional: true }),
  dockerNetwork: setting.string({
    doc: 'Network mode of the executor containers; host lets MINER_ADDRESS=ws://127.0.0.1:… reach a local miner.',
    env: 'HORDE_MINER_DOCKER_NETWORK',
    default: 'host',
  }),
  executorTtlMs: setting.durationMs({
    doc: 'An executor still running this long after it was started is killed (upstream: 20 min).',
    env: 'HORDE_MINER_EXECUTOR_TTL_MS',
    default: EXECUTOR_TTL_MS,
    min: 1,
  }),
  executorStartupLimitMs: setting.durationMs({
    doc: 'Added to the class spin-up time: an executor that has not connected by then fails its job (executor_spinup_failed).',
    env: 'HORDE_MINER_EXECUTOR_STARTUP_LIMIT_MS',
    default: EXECUTOR_STARTUP_TIME_LIMIT_MS,
    min: 1,
  }),
  healthCheckIntervalMs: setting.durationMs({
    doc: 'How often running executors are checked to still exist (a backstop to exit events).',
    env: 'HORDE_MINER_HEALTH_CHECK_INTERVAL_MS',
    default: EXECUTOR_HEALTH_CHECK_INTERVAL_MS,
    min: 10,
  }),
  exitGraceAfterJobMs: setting.durationMs({
    doc: 'Once its job is over, how long an executor may take to exit by itself before it is killed.',
    env: 'HORDE_MINER_EXIT_GRACE_AFTER_JOB_MS',
    default: EXECUTOR_EXIT_GRACE_AFTER_JOB_MS,
  }),
  stopGraceMs: setting.durationMs({
    doc: 'A killed executor gets SIGTERM, then SIGKILL after this long.',
    env: 'HORDE_MINER_STOP_GRACE_MS',
    default: EXECUTOR_STOP_GRACE_MS,
  }),
  drainGraceMs: setting.durationMs({
    doc: 'On SIGTERM/SIGINT: how long running jobs may go on before their executors are killed. A second signal kills at once.',
    env: 'HORDE_MINER_DRAIN_GRACE_MS',
    default: DRAIN_GRACE_MS,
  }),
  receiptCryptoThreads: setting.int({
    doc: 'Worker threads verifying and countersigning receipts (0: on the event loop, which slows a busy miner down).',
    env: 'HORDE_MINER_RECEIPT_CRYPTO_THREADS',
    default: RECEIPT_CRYPTO_THREADS,
    min: 0,
    max: 16,
  }),
  mainHotkey: setting.string({
    doc: 'Answer to V0MainHotkeyMessage (the main hotkey of this coldkey). Default: the miner\'s own hotkey.',
    env: 'HORDE_MINER_MAIN_HOTKEY',
    optional: true,
  }),
  blacklist: setting.list({
    doc: 'Validator hotkeys whose jobs are declined (validator_blacklisted).',
    env: 'HORDE_MINER_BLACKLIST',
    default: [],
  }),
  logLevel: logLevelSetting,
});

/** A loaded `horde miner` configuration. */
export type MinerConfig = ConfigOf<typeof minerSettings>;
