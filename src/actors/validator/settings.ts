import { defineSettings, setting, type ConfigOf } from '../../config';
import { METAGRAPH_FILE_POLL_INTERVAL_MS } from '../../metagraph/defaults';
import { logLevelSetting } from '../../telemetry/logger';
import { DEFAULT_LINK_HEARTBEAT_INTERVAL_MS } from './linkDefaults';
import { DEFAULT_MANIFEST_INTERVAL_MS } from './routingDefaults';
import type { MinerEndpoint } from './types';
import {
  VALIDATOR_DEFAULT_DATA_DIR,
  VALIDATOR_DEFAULT_HOST,
  VALIDATOR_DEFAULT_PORT,
  VALIDATOR_JOB_SHUTDOWN_MS,
  VALIDATOR_MAX_CONCURRENT_JOBS,
  VALIDATOR_OUTBOX_FLUSH_GRACE_MS,
} from './validatorDefaults';

const TRUSTED_MINER = /^([^@\s]+)@(\[[0-9A-Fa-f:.]+\]|[^:@\s[\]]+):(\d{1,5})$/;

/**
 * Parses `HOTKEY@HOST:PORT` (IPv6 hosts in brackets: `5F…@[::1]:8000`).
 *
 * @example
 * ```ts
 * parseTrustedMiner('5FHne…@127.0.0.1:8000'); // { hotkey: '5FHne…', address: '127.0.0.1', port: 8000 }
 * ```
 */
export function parseTrustedMiner(text: string): MinerEndpoint | undefined {
  const match = TRUSTED_MINER.exec(text.trim());
  if (match === null) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65_535) return undefined;
  const host = match[2]!;
  return { hotkey: match[1]!, address: host.startsWith('[') ? host.slice(1, -1) : host, port };
}

/**
 * Settings of `horde validator` (flags > environment > config file > defaults).
 */
export const validatorSettings = defineSettings({
  host: setting.string({
    doc: 'Address the HTTP server (/metrics, /healthz, /readyz) binds.',
    env: 'HORDE_VALIDATOR_HOST',
    default: VALIDATOR_DEFAULT_HOST,
  }),
  port: setting.int({
    doc: 'Port of the HTTP server (/metrics, /healthz, /readyz); 0 picks a free one.',
    env: 'HORDE_VALIDATOR_PORT',
    default: VALIDATOR_DEFAULT_PORT,
    min: 0,
    max: 65_535,
  }),
  hotkeyFile: setting.string({
    doc: 'Key file of the validator hotkey (bittensor hotkey JSON, or {"suri": "//Name"}). Exactly one of --hotkey-file and --dev-key.',
    env: 'HORDE_VALIDATOR_HOTKEY_FILE',
    optional: true,
  }),
  devKey: setting.string({
    doc: 'Use the public development key //<name> as the validator hotkey (local clusters only: anyone can recompute it).',
    env: 'HORDE_VALIDATOR_DEV_KEY',
    optional: true,
  }),
  facilitatorUrl: setting.string({
    doc: 'WebSocket address of the facilitator, e.g. ws://127.0.0.1:9000/ws/v0/ (dialled and redialled for ever).',
    env: 'HORDE_VALIDATOR_FACILITATOR_URL',
    validate: (value) => (/^wss?:\/\/[^/\s]+/.test(value) ? undefined : 'must be a ws:// or wss:// address'),
  }),
  metagraphFile: setting.string({
    doc:
      'JSON file listing the miners ({"miners": [{"hotkey", "address", "port"}]}) and validators (stake, for excuse ' +
      'receipts); reloaded when it changes.',
    env: 'HORDE_METAGRAPH_FILE',
  }),
  metagraphPollIntervalMs: setting.durationMs({
    doc: 'How often the metagraph file is checked for changes when no file-system event came.',
    env: 'HORDE_METAGRAPH_POLL_INTERVAL_MS',
    default: METAGRAPH_FILE_POLL_INTERVAL_MS,
    min: 10,
  }),
  dataDir: setting.string({
    doc: 'Folder of the validator\'s SQLite store (jobs and the outbox of status updates). Keep it across restarts.',
    env: 'HORDE_VALIDATOR_DATA_DIR',
    default: VALIDATOR_DEFAULT_DATA_DIR,
  }),
  whitelist: setting.list({
    doc: 'Job signatories (SS58) accepted besides the validator itself; others are rejected invalid_signature.',
    env: 'HORDE_VALIDATOR_WHITELIST',
    default: [],
  }),
  trustedMiner: setting.string({
    doc: 'Where on_trusted_miner jobs go, as HOTKEY@HOST:PORT. Unset: such jobs are rejected no_miner_for_job.',
    env: 'HORDE_VALIDATOR_TRUSTED_MINER',
    optional: true,
    validate: (value) => (parseTrustedMiner(value) === undefined ? 'must be HOTKEY@HOST:PORT' : undefined),
  }),
  manifestIntervalMs: setting.durationMs({
    doc: 'How often every miner\'s executor manifest is fetched (upstream: 5 min).',
    env: 'HORDE_VALIDATOR_MANIFEST_INTERVAL_MS',
    default: DEFAULT_MANIFEST_INTERVAL_MS,
    min: 10,
  }),
  heartbeatIntervalMs: setting.durationMs({
    doc: 'How often V0Heartbeat goes to the facilitator (it forgets a validator silent for 3 min).',
    env: 'HORDE_VALIDATOR_HEARTBEAT_INTERVAL_MS',
    default: DEFAULT_LINK_HEARTBEAT_INTERVAL_MS,
    min: 10,
  }),
  reliableLink: setting.boolean({
    doc:
      'Offer the transport\'s reliable mode (sequence numbers, resume after a reconnect) to the facilitator. It is ' +
      'negotiated: a facilitator that does not know it (upstream) just ignores the offer.',
    env: 'HORDE_VALIDATOR_RELIABLE_LINK',
    default: false,
  }),
  maxConcurrentJobs: setting.int({
    doc: 'Jobs running at once; one more is rejected at once (busy, by the validator).',
    env: 'HORDE_VALIDATOR_MAX_CONCURRENT_JOBS',
    default: VALIDATOR_MAX_CONCURRENT_JOBS,
    min: 1,
    max: 100_000,
  }),
  jobShutdownMs: setting.durationMs({
    doc: 'On stop: how long each running job has to report horde_failed and close its miner connection.',
    env: 'HORDE_VALIDATOR_JOB_SHUTDOWN_MS',
    default: VALIDATOR_JOB_SHUTDOWN_MS,
  }),
  shutdownGraceMs: setting.durationMs({
    doc:
      'On SIGTERM/SIGINT, once the jobs are stopped: how long the outbox may go on being sent to the facilitator. ' +
      'What is left is sent after the next start. A second signal exits at once.',
    env: 'HORDE_VALIDATOR_SHUTDOWN_GRACE_MS',
    default: VALIDATOR_OUTBOX_FLUSH_GRACE_MS,
  }),
  logLevel: logLevelSetting,
});

/** A loaded `horde validator` configuration. */
export type ValidatorConfig = ConfigOf<typeof validatorSettings>;
