/**
 * `horde facilitator`: the customers' REST API and the validators' WebSocket hub (upstream's facilitator).
 */
import { resolve } from 'node:path';
import type { FacilitatorHandle } from '../actors/facilitator/facilitator';
import { facilitatorSettings, type FacilitatorConfig } from '../actors/facilitator/settings';
import { ConfigError, loadConfig } from '../config';
import { processIo, type CommandIo } from './io';
import { openRoleRuntime, ROLE_EXIT_CODES, runRole } from './roleRuntime';

/*
 * Heavy modules (OpenTelemetry SDK, better-sqlite3, the actor system) load only when the command runs: main.ts
 * imports every command. CommonJS requires, because tsx/cjs does not hook `import()`.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const lazy = {
  facilitator: () => require('../actors/facilitator/facilitator') as typeof import('../actors/facilitator/facilitator'),
  crypto: () => require('../crypto') as typeof import('../crypto'),
  logger: () => require('../telemetry/logger') as typeof import('../telemetry/logger'),
  version: () => (require('../../package.json') as { version: string }).version,
};
/* eslint-enable @typescript-eslint/no-require-imports */


const SUMMARY =
  'Serves the REST API (/auth/nonce, /auth/login, /api/v1/job-docker/, /api/v1/jobs/, /api/v1/jobs/<uuid>/, ' +
  '/api/v1/jobs/<uuid>/events/ (SSE), /api/v1/cheated-job/) and the validators\' WebSocket (/ws/v0/) on one port, ' +
  'with /metrics, /healthz and /readyz. Jobs and their status history are kept in SQLite under --data-dir.';

/** Exit codes of `horde facilitator`. */
export const FACILITATOR_EXIT_CODES = ROLE_EXIT_CODES;

/**
 * `horde facilitator [options]`: runs until SIGTERM/SIGINT, then closes connections and exits. Returns the exit code:
 * 0 stopped cleanly, 1 failed, 2 bad usage or configuration.
 *
 * @example
 * ```ts
 * const code = await facilitatorCommand(['--port', '9000', '--metagraph-file', 'metagraph.json', '--whitelist', user.ss58]);
 * ```
 */
export async function facilitatorCommand(args: readonly string[], io: CommandIo = processIo): Promise<number> {
  let config: FacilitatorConfig;
  try {
    const outcome = loadConfig(facilitatorSettings, { argv: args, env: io.env, command: 'horde facilitator', summary: SUMMARY });
    if (outcome.kind === 'help') {
      io.stdout(outcome.text);
      return FACILITATOR_EXIT_CODES.ok;
    }
    config = outcome.config;
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr(`horde facilitator: ${error.message}\nRun 'horde facilitator --help' for the options.\n`);
      return FACILITATOR_EXIT_CODES.usage;
    }
    throw error;
  }
  const whitelist = config.whitelist.flatMap((item) => item.split(',')).map((item) => item.trim()).filter((item) => item !== '');
  await lazy.crypto().initCrypto();
  const badKeys = whitelist.filter((key) => !lazy.crypto().isValidSs58(key));
  if (badKeys.length > 0) {
    io.stderr(`horde facilitator: --whitelist: not SS58 addresses: ${badKeys.join(', ')}\n`);
    return FACILITATOR_EXIT_CODES.usage;
  }
  const logger = lazy.logger().createLogger({ component: 'facilitator', level: config.logLevel });
  const version = lazy.version();

  const runtime = await openRoleRuntime({
    command: 'horde facilitator',
    role: 'facilitator',
    version,
    metagraphFile: config.metagraphFile,
    metagraphPollIntervalMs: config.metagraphPollIntervalMs,
    logger,
    io,
  });
  if (runtime === undefined) return FACILITATOR_EXIT_CODES.usage;
  const { inspector, metagraph, telemetry } = runtime;
  return runRole<FacilitatorHandle>({
    command: 'horde facilitator',
    role: 'facilitator',
    runtime,
    logger,
    io,
    start: (onFatal) =>
      lazy.facilitator().startFacilitator({
        host: config.host,
        port: config.port,
        dataDir: resolve(io.cwd, config.dataDir),
        metagraph,
        whitelist,
        ...(config.jwtSecret === undefined ? {} : { jwtSecret: config.jwtSecret }),
        timings: { freshnessMs: config.freshnessMs, evictionMs: config.evictionMs },
        logger,
        metricsHandler: telemetry.metricsHandler,
        ...(inspector === undefined ? {} : { inspect: inspector.inspect }),
        onFatal,
      }),
    announce: (facilitator) => `horde facilitator listening on ${facilitator.url}`,
    stop: (facilitator) => facilitator.stop(),
  });
}
