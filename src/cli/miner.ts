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
import type { CommandIo } from './keys';

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
  metagraph: () => require('../metagraph') as typeof import('../metagraph'),
  logger: () => require('../telemetry/logger') as typeof import('../telemetry/logger'),
  telemetry: () => require('../telemetry/setup') as typeof import('../telemetry/setup'),
  inspector: () => require('../telemetry/inspector') as typeof import('../telemetry/inspector'),
  dockerode: () => require('dockerode') as typeof import('dockerode'),
  version: () => (require('../../package.json') as { version: string }).version,
};
/* eslint-enable @typescript-eslint/no-require-imports */

const processIo: CommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
};

const SUMMARY =
  'Serves validators (/v0.1/validator_interface/<hotkey>) and their executors (/v0.1/executor_interface/<token>) on ' +
  'one HTTP + WebSocket port, with /receipts/<page>.jsonl, /version, /metrics, /healthz and /readyz. SIGTERM/SIGINT ' +
  'drain: no new jobs, running ones get --drain-grace-ms, then their executors are killed; a second signal kills at once.';

/** Exit codes of `horde miner`. */
export const MINER_EXIT_CODES = { ok: 0, failed: 1, usage: 2 } as const;

async function hotkeyOf(config: MinerConfig, cwd: string): Promise<Hotkey> {
  if (config.hotkeyFile !== undefined && config.devKey !== undefined) {
    throw new ConfigError(['give either --hotkey-file or --dev-key, not both']);
  }
  const { devHotkey, loadKeyFile } = lazy.crypto();
  if (config.hotkeyFile !== undefined) return loadKeyFile(resolve(cwd, config.hotkeyFile));
  if (config.devKey !== undefined) return devHotkey(config.devKey);
  throw new ConfigError(['a miner hotkey is required: --hotkey-file FILE (or HORDE_MINER_HOTKEY_FILE), or --dev-key NAME']);
}

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
    hotkey = await hotkeyOf(config, io.cwd);
  } catch (error) {
    io.stderr(`horde miner: ${toError(error).message}\n`);
    return MINER_EXIT_CODES.usage;
  }
  const manifest = lazy.manifest().parseManifest(JSON.parse(config.manifest));
  if (!manifest.ok) {
    io.stderr(`horde miner: ${manifest.error.join('; ')}\n`);
    return MINER_EXIT_CODES.usage;
  }

  // Before any actor or instrument exists: instruments made earlier stay no-ops.
  const telemetry = await lazy.telemetry().setupTelemetry({
    serviceName: 'horde-miner',
    role: 'miner',
    serviceVersion: version,
    serviceInstanceId: hotkey.ss58,
  });
  let metagraph;
  try {
    const { createFileMetagraphProvider, createMetagraphMetrics } = lazy.metagraph();
    metagraph = await createFileMetagraphProvider({
      path: resolve(io.cwd, config.metagraphFile),
      pollIntervalMs: config.metagraphPollIntervalMs,
      metrics: createMetagraphMetrics(),
      logger: logger.child({}, { component: 'metagraph' }),
    });
  } catch (error) {
    io.stderr(`horde miner: ${toError(error).message}\n`);
    await telemetry.shutdown();
    return MINER_EXIT_CODES.usage;
  }

  // Off unless HORDE_INSPECT / HORDE_INSPECT_FILE is set (docs/observability.md).
  let inspector: import('../telemetry/inspector').HordeInspector | undefined;
  try {
    inspector = io.env['HORDE_INSPECT'] || io.env['HORDE_INSPECT_FILE'] ? lazy.inspector().inspectorFromEnv(io.env) : undefined;
  } catch (error) {
    io.stderr(`horde miner: ${toError(error).message}\n`);
    await metagraph.close();
    await telemetry.shutdown();
    return MINER_EXIT_CODES.usage;
  }

  let fatal: unknown;
  let onFatal: () => void = () => undefined;
  const failed = new Promise<void>((resolveFailed) => (onFatal = resolveFailed));
  let miner: MinerHandle;
  try {
    miner = await lazy.miner().startMiner({
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
      onFatal: (error) => {
        fatal = error;
        onFatal();
      },
    });
  } catch (error) {
    io.stderr(`horde miner: ${toError(error).message}\n`);
    await inspector?.stop();
    await metagraph.close();
    await telemetry.shutdown();
    return MINER_EXIT_CODES.failed;
  }
  io.stdout(`horde miner listening on ${miner.url} (hotkey ${miner.hotkey})\n`);

  let signals = 0;
  let onStop: () => void = () => undefined;
  const stopRequested = new Promise<void>((resolveStop) => (onStop = resolveStop));
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals === 1) {
      logger.info('stop signal received: draining', { signal, graceMs: config.drainGraceMs });
      onStop();
    } else {
      logger.warn('second stop signal: killing every executor now', { signal });
      miner.killExecutors();
    }
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await Promise.race([stopRequested, failed]);
    await miner.stop({ graceMs: fatal === undefined ? config.drainGraceMs : 0 });
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await inspector?.stop();
    await metagraph.close();
    await telemetry.shutdown();
  }
  if (fatal !== undefined) {
    io.stderr(`horde miner: the miner failed: ${toError(fatal).message}\n`);
    return MINER_EXIT_CODES.failed;
  }
  return MINER_EXIT_CODES.ok;
}
