/**
 * `horde validator`: takes jobs from the facilitator, routes each to a miner, drives it there and reports every
 * status back (upstream's validator: `connect_facilitator` + the organic job driver + routing).
 */
import { resolve } from 'node:path';
import { parseTrustedMiner, validatorSettings, type ValidatorConfig } from '../actors/validator/settings';
import type { ValidatorHandle } from '../actors/validator/validator';
import { ConfigError, loadConfig } from '../config';
import type { Hotkey } from '../crypto';
import { toError } from '../util/errors';
import { processIo, type CommandIo } from './io';
import { openRoleRuntime, ROLE_EXIT_CODES, roleHotkey, runRole } from './roleRuntime';

/*
 * Everything heavy (the OpenTelemetry SDK, better-sqlite3, the actor system) is required only when the command runs:
 * `src/cli/main.ts` loads commands on demand, and `--help` must stay fast. CommonJS requires, because an `import()`
 * would go through Node's ESM loader, which tsx/cjs does not hook.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const lazy = {
  validator: () => require('../actors/validator/validator') as typeof import('../actors/validator/validator'),
  crypto: () => require('../crypto') as typeof import('../crypto'),
  logger: () => require('../telemetry/logger') as typeof import('../telemetry/logger'),
  version: () => (require('../../package.json') as { version: string }).version,
};
/* eslint-enable @typescript-eslint/no-require-imports */


const SUMMARY =
  'Dials the facilitator (--facilitator-url), takes its jobs, routes each to a miner of the metagraph by their ' +
  'manifests and reliability, drives it there and reports every status back through a durable SQLite outbox. ' +
  'Serves /metrics, /healthz and /readyz. SIGTERM/SIGINT: no new jobs, running jobs end horde_failed, the outbox is ' +
  'sent for up to --shutdown-grace-ms; a second signal exits at once (unsent statuses go after the next start).';

/** Exit codes of `horde validator`. */
export const VALIDATOR_EXIT_CODES = ROLE_EXIT_CODES;


/**
 * `horde validator [options]`: runs until SIGTERM/SIGINT, then stops and exits. Returns the exit code: 0 stopped
 * cleanly, 1 failed, 2 bad usage or configuration. A second signal exits the process at once (code 1).
 *
 * @example
 * ```ts
 * const code = await validatorCommand(['--dev-key', 'validator', '--facilitator-url', 'ws://127.0.0.1:9000/ws/v0/',
 *   '--metagraph-file', 'metagraph.json', '--port', '0']);
 * ```
 */
export async function validatorCommand(args: readonly string[], io: CommandIo = processIo): Promise<number> {
  let config: ValidatorConfig;
  try {
    const outcome = loadConfig(validatorSettings, { argv: args, env: io.env, command: 'horde validator', summary: SUMMARY });
    if (outcome.kind === 'help') {
      io.stdout(outcome.text);
      return VALIDATOR_EXIT_CODES.ok;
    }
    config = outcome.config;
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr(`horde validator: ${error.message}\nRun 'horde validator --help' for the options.\n`);
      return VALIDATOR_EXIT_CODES.usage;
    }
    throw error;
  }
  const logger = lazy.logger().createLogger({ component: 'validator', level: config.logLevel });
  const version = lazy.version();

  let hotkey: Hotkey;
  try {
    await lazy.crypto().initCrypto();
    hotkey = await roleHotkey(config, { role: 'validator', cwd: io.cwd });
  } catch (error) {
    io.stderr(`horde validator: ${toError(error).message}\n`);
    return VALIDATOR_EXIT_CODES.usage;
  }
  const trustedMiner = config.trustedMiner === undefined ? undefined : parseTrustedMiner(config.trustedMiner);

  const runtime = await openRoleRuntime({
    command: 'horde validator',
    role: 'validator',
    version,
    instanceId: hotkey.ss58,
    metagraphFile: config.metagraphFile,
    metagraphPollIntervalMs: config.metagraphPollIntervalMs,
    logger,
    io,
  });
  if (runtime === undefined) return VALIDATOR_EXIT_CODES.usage;
  const { inspector, metagraph, telemetry } = runtime;
  return runRole<ValidatorHandle>({
    command: 'horde validator',
    role: 'validator',
    runtime,
    logger,
    io,
    start: (onFatal) =>
      lazy.validator().startValidator({
        hotkey,
        facilitatorUrl: config.facilitatorUrl,
        metagraph,
        dataDir: resolve(io.cwd, config.dataDir),
        host: config.host,
        port: config.port,
        whitelist: config.whitelist,
        ...(trustedMiner === undefined ? {} : { trustedMiner }),
        manifestIntervalMs: config.manifestIntervalMs,
        heartbeatIntervalMs: config.heartbeatIntervalMs,
        reliableLink: config.reliableLink,
        maxConcurrentJobs: config.maxConcurrentJobs,
        jobShutdownMs: config.jobShutdownMs,
        logger,
        metricsHandler: telemetry.metricsHandler,
        ...(inspector === undefined ? {} : { inspect: inspector.inspect }),
        onFatal,
      }),
    announce: (validator) => `horde validator listening on ${validator.url} (hotkey ${validator.hotkey})`,
    stop: (validator, fatal) => validator.stop({ graceMs: fatal ? 0 : config.shutdownGraceMs }),
    onSecondSignal: (validator, signal) => {
      // Nothing is lost: every status is in SQLite and goes out after the next start.
      logger.warn('second stop signal: exiting now', { signal, unsent_statuses: validator.pendingStatuses() });
      process.exit(VALIDATOR_EXIT_CODES.failed);
    },
  });
}
