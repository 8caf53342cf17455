/**
 * `horde miner`: serves validators and runs their jobs on executors (upstream's miner: daphne + executor manager).
 */
import { join, resolve } from 'node:path';
import type { ExecutorBackend } from '../actors/miner/backends/types';
import type { ListeningAddress, MinerHandle } from '../actors/miner/miner';
import { minerSettings, type MinerConfig } from '../actors/miner/settings';
import { ConfigError, loadConfig } from '../config';
import type { Hotkey } from '../crypto';
import type { Logger } from '../telemetry/logger';
import { toError } from '../util/errors';
import { processIo, type CommandIo } from './io';
import { openRoleRuntime, ROLE_EXIT_CODES, roleHotkey, runRole } from './roleRuntime';

/*
 * Everything heavy (the OpenTelemetry SDK, better-sqlite3, dockerode, the actor system) is required only when the
 * command runs: `src/cli/main.ts` imports every command, and `horde executor` (a one-shot process started per job)
 * must not pay for the miner. CommonJS requires, because an `import()` would go through Node's ESM loader, which
 * tsx/cjs does not hook.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const lazy = {
  backends: () => require('../actors/miner/backends') as typeof import('../actors/miner/backends'),
  manifest: () => require('../actors/miner/manifest') as typeof import('../actors/miner/manifest'),
  miner: () => require('../actors/miner/miner') as typeof import('../actors/miner/miner'),
  crypto: () => require('../crypto') as typeof import('../crypto'),
  logger: () => require('../telemetry/logger') as typeof import('../telemetry/logger'),
  dockerode: () => require('dockerode') as typeof import('dockerode'),
  version: () => (require('../../package.json') as { version: string }).version,
};
/* eslint-enable @typescript-eslint/no-require-imports */


const SUMMARY =
  'Serves validators (/v0.1/validator_interface/<hotkey>) and their executors (/v0.1/executor_interface/<token>) on ' +
  'one HTTP + WebSocket port, with /receipts/<page>.jsonl, /version, /metrics, /healthz and /readyz. SIGTERM/SIGINT ' +
  'drain: no new jobs, running ones get --drain-grace-ms, then their executors are killed; a second signal kills at once.';

/** Exit codes of `horde miner`. */
export const MINER_EXIT_CODES = ROLE_EXIT_CODES;


function envOf(items: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const item of items) {
    const at = item.indexOf('=');
    env[item.slice(0, at)] = item.slice(at + 1);
  }
  return env;
}

/** The executor backend the configuration asks for, made once the server's port is known. */
function backendFactory(config: MinerConfig, logger: Logger): (address: ListeningAddress) => ExecutorBackend {
  return ({ port }) => {
    const { childProcessBackend, dockerBackend, dockerOptionsFromAddress, noopBackend } = lazy.backends();
    const Dockerode = lazy.dockerode();
    const minerAddress = config.executorAddress ?? `ws://127.0.0.1:${port}`;
    const env = { ...envOf(config.executorEnv), HORDE_ID: config.hordeId };
    switch (config.executorBackend) {
      case 'noop':
        return noopBackend();
      case 'docker':
        return dockerBackend({
          engines: config.dockerEngines.map((address, i) => {
            const options = dockerOptionsFromAddress(address);
            return { name: `engine-${i}`, docker: new Dockerode(options), publicAddress: options.host };
          }),
          image: config.dockerImage,
          ...(config.dockerCmd === undefined ? {} : { cmd: config.dockerCmd }),
          minerAddress,
          env,
          networkMode: config.dockerNetwork,
          hordeId: config.hordeId,
        });
      case 'process': {
        const command = config.executorCommand ?? [process.execPath, join(__dirname, '..', '..', 'bin', 'horde.js'), 'executor'];
        const [file, ...args] = command;
        if (file === undefined) throw new ConfigError(['--executor-command must not be empty']);
        return childProcessBackend({
          command: [file, ...args],
          minerAddress,
          env,
          docker: new Dockerode({ socketPath: config.dockerSocket }),
          logger: logger.child({}, { component: 'miner.executor' }),
          standby: config.executorStandby,
          standbyMaxJobs: config.executorStandbyJobs,
        });
      }
    }
  };
}

/**
 * `horde miner [options]`: runs until SIGTERM/SIGINT, then drains and exits. Returns the exit code: 0 stopped
 * cleanly, 1 failed, 2 bad usage or configuration.
 *
 * @example
 * ```ts
 * const code = await minerCommand(['--dev-key', 'miner', '--metagraph-file', 'metagraph.json', '--port', '8000']);
 * ```
 */
export async function minerCommand(args: readonly string[], io: CommandIo = processIo): Promise<number> {
  let config: MinerConfig;
  try {
    const outcome = loadConfig(minerSettings, { argv: args, env: io.env, command: 'horde miner', summary: SUMMARY });
    if (outcome.kind === 'help') {
      io.stdout(outcome.text);
      return MINER_EXIT_CODES.ok;
    }
    config = outcome.config;
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr(`horde miner: ${error.message}\nRun 'horde miner --help' for the options.\n`);
      return MINER_EXIT_CODES.usage;
    }
    throw error;
  }
  const logger = lazy.logger().createLogger({ component: 'miner', level: config.logLevel });
  const version = lazy.version();

  let hotkey: Hotkey;
  try {
    await lazy.crypto().initCrypto();
    hotkey = await roleHotkey(config, { role: 'miner', cwd: io.cwd });
  } catch (error) {
    io.stderr(`horde miner: ${toError(error).message}\n`);
    return MINER_EXIT_CODES.usage;
  }
  const manifest = lazy.manifest().parseManifest(JSON.parse(config.manifest));
  if (!manifest.ok) {
    io.stderr(`horde miner: ${manifest.error.join('; ')}\n`);
    return MINER_EXIT_CODES.usage;
  }

  const runtime = await openRoleRuntime({
    command: 'horde miner',
    role: 'miner',
    version,
    instanceId: hotkey.ss58,
    metagraphFile: config.metagraphFile,
    metagraphPollIntervalMs: config.metagraphPollIntervalMs,
    logger,
    io,
  });
  if (runtime === undefined) return MINER_EXIT_CODES.usage;
  const { inspector, metagraph, telemetry } = runtime;
  return runRole<MinerHandle>({
    command: 'horde miner',
    role: 'miner',
    runtime,
    logger,
    io,
    start: (onFatal) =>
      lazy.miner().startMiner({
        hotkey,
        host: config.host,
        port: config.port,
        manifest: manifest.value,
        metagraph,
        backend: backendFactory(config, logger),
        receiptsDir: resolve(io.cwd, config.dataDir, 'receipts'),
        version,
        ...(config.mainHotkey === undefined ? {} : { mainHotkey: config.mainHotkey }),
        blacklist: config.blacklist,
        receiptCryptoThreads: config.receiptCryptoThreads,
        timings: {
          executorTtlMs: config.executorTtlMs,
          executorStartupLimitMs: config.executorStartupLimitMs,
          healthCheckIntervalMs: config.healthCheckIntervalMs,
          exitGraceAfterJobMs: config.exitGraceAfterJobMs,
          stopGraceMs: config.stopGraceMs,
          drainGraceMs: config.drainGraceMs,
        },
        logger,
        metricsHandler: telemetry.metricsHandler,
        ...(inspector === undefined ? {} : { inspect: inspector.inspect }),
        onFatal,
      }),
    announce: (miner) => `horde miner listening on ${miner.url} (hotkey ${miner.hotkey})`,
    // SIGTERM/SIGINT drain: no new jobs; running ones get --drain-grace-ms, then their executors are killed.
    stop: (miner, fatal) => miner.stop({ graceMs: fatal ? 0 : config.drainGraceMs }),
    onSecondSignal: (miner, signal) => {
      logger.warn('second stop signal: killing every executor now', { signal });
      miner.killExecutors();
    },
  });
}
