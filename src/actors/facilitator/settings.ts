import { defineSettings, setting, type ConfigOf } from '../../config';
import { METAGRAPH_FILE_POLL_INTERVAL_MS } from '../../metagraph/defaults';
import { logLevelSetting } from '../../telemetry/logger';
import {
  FACILITATOR_DEFAULT_DATA_DIR,
  FACILITATOR_DEFAULT_HOST,
  FACILITATOR_DEFAULT_PORT,
  VALIDATOR_EVICTION_MS,
  VALIDATOR_FRESHNESS_MS,
} from './defaults';

/**
 * Settings of `horde facilitator` (flags > environment > config file > defaults).
 */
export const facilitatorSettings = defineSettings({
  host: setting.string({ doc: 'Address the HTTP + WebSocket server binds.', env: 'HORDE_FACILITATOR_HOST', default: FACILITATOR_DEFAULT_HOST }),
  port: setting.int({
    doc: 'Port of the REST API, the validators\' WebSocket (/ws/v0/) and /metrics /healthz /readyz; 0 picks a free one.',
    env: 'HORDE_FACILITATOR_PORT',
    default: FACILITATOR_DEFAULT_PORT,
    min: 0,
    max: 65_535,
  }),
  dataDir: setting.string({
    doc: 'Folder of the facilitator\'s state: facilitator.sqlite (jobs and status history) and the generated jwt-secret.',
    env: 'HORDE_FACILITATOR_DATA_DIR',
    default: FACILITATOR_DEFAULT_DATA_DIR,
  }),
  metagraphFile: setting.string({
    doc: 'JSON file listing the validators ({"validators": [{"hotkey": "5F…", "active": true}]}); only active ones may connect. Reloaded when it changes.',
    env: 'HORDE_METAGRAPH_FILE',
  }),
  metagraphPollIntervalMs: setting.durationMs({
    doc: 'How often the metagraph file is checked for changes when no file-system event came.',
    env: 'HORDE_METAGRAPH_POLL_INTERVAL_MS',
    default: METAGRAPH_FILE_POLL_INTERVAL_MS,
    min: 10,
  }),
  whitelist: setting.list({
    doc: 'Hotkeys (SS58) allowed to log in to the REST API and create jobs. Empty: nobody can.',
    env: 'HORDE_FACILITATOR_WHITELIST',
    default: [],
  }),
  jwtSecret: setting.string({
    doc: 'Secret signing REST tokens and login nonces. Default: a random one generated into <data-dir>/jwt-secret and kept there.',
    env: 'HORDE_FACILITATOR_JWT_SECRET',
    optional: true,
    validate: (value) => (value.length >= 16 ? undefined : 'must be at least 16 characters'),
  }),
  freshnessMs: setting.durationMs({
    doc: 'A validator gets new jobs only if one of its connections sent a heartbeat (or authenticated) this recently.',
    env: 'HORDE_FACILITATOR_FRESHNESS_MS',
    default: VALIDATOR_FRESHNESS_MS,
    min: 1,
  }),
  evictionMs: setting.durationMs({
    doc: 'A validator connection without a heartbeat for this long is closed with 3001.',
    env: 'HORDE_FACILITATOR_EVICTION_MS',
    default: VALIDATOR_EVICTION_MS,
    min: 1,
  }),
  logLevel: logLevelSetting,
});

/** A loaded `horde facilitator` configuration. */
export type FacilitatorConfig = ConfigOf<typeof facilitatorSettings>;
