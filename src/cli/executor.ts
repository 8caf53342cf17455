/**
 * `horde executor`: runs one job for a miner and exits (upstream's `manage.py run_executor`).
 */
import { toPromise } from 'xstate';
import { createExecutorRoot } from '../actors/executor/executorRoot';
import { executorSettings } from '../actors/executor/settings';
import { ConfigError, loadConfig } from '../config';
import { EXIT_CODES } from '../machines/jobReport';
import { createLogger } from '../telemetry/logger';
import type { TelemetryHandle } from '../telemetry/setup';
import { toError } from '../util/errors';
import type { CommandIo } from './keys';

const processIo: CommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
};

const SUMMARY =
  'Runs one job for a miner and exits: dials <miner address>/v0.1/executor_interface/<token>, waits for the job, ' +
  'runs it in a docker container and reports the result. Exit codes: 0 completed, 1 job failed (the job owner\'s ' +
  'fault: timeout, non-zero exit, download or upload failure), 2 horde failed (the network\'s fault, including ' +
  'SIGTERM and a lost miner link), 3 bad usage or configuration.';

/** Signals that stop the executor gracefully (final message, then cleanup). */
const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * `horde executor [--miner-address ws://…] [--executor-token …] [...]`. Returns the process exit code (see
 * `EXIT_CODES`): 0 completed, 1 job failed, 2 horde failed, 3 bad usage or configuration.
 *
 * @example
 * ```ts
 * const code = await executorCommand(['--miner-address', 'ws://127.0.0.1:8000', '--executor-token', token]);
 * ```
 */
export async function executorCommand(args: readonly string[], io: CommandIo = processIo): Promise<number> {
  let outcome;
  try {
    outcome = loadConfig(executorSettings, { argv: args, env: io.env, command: 'horde executor', summary: SUMMARY });
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr(`horde executor: ${error.message}\nRun 'horde executor --help' for the options.\n`);
      return EXIT_CODES.usage;
    }
    throw error;
  }
  if (outcome.kind === 'help') {
    io.stdout(outcome.text);
    return 0;
  }
  const config = outcome.config;
  const logger = createLogger({ component: 'executor', level: config.logLevel });

  let telemetry: TelemetryHandle | undefined;
  if (config.metricsPort !== undefined) {
    try {
      // Loaded only when asked for: the OpenTelemetry SDK costs ~0.25 s of a one-shot process's start. A CommonJS
      // require, because an `import()` here would go through Node's ESM loader, which tsx/cjs does not hook.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { setupTelemetry } = require('../telemetry/setup') as typeof import('../telemetry/setup');
      telemetry = await setupTelemetry({ serviceName: 'horde-executor', role: 'executor', metricsServer: { port: config.metricsPort } });
    } catch (error) {
      io.stderr(`horde executor: cannot serve metrics on port ${config.metricsPort}: ${toError(error).message}\n`);
      return EXIT_CODES.usage;
    }
  }

  // Built after telemetry setup: instruments taken before it would stay no-ops.
  const executor = createExecutorRoot({ config, logger });
  const onSignal = (signal: NodeJS.Signals): void => {
    logger.info('stop signal received', { signal });
    executor.actor.send({ type: 'executor.stop', reason: signal });
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  try {
    executor.actor.start();
    const exit = await toPromise(executor.actor);
    logger.log(exit.code === 0 ? 'info' : 'warn', 'executor finished', { ...exit });
    return exit.code;
  } catch (error) {
    // The root itself failed (a bug): its guarantees are gone, so sweep what this run may have left.
    logger.error('the executor root failed', { error: toError(error).message });
    await executor.emergencySweep();
    return EXIT_CODES.horde_failed;
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
    executor.actor.stop();
    await telemetry?.shutdown();
  }
}
