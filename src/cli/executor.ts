/**
 * `horde executor`: runs one job for a miner and exits (upstream's `manage.py run_executor`).
 */
import { toPromise } from 'xstate';
import { createExecutorRoot } from '../actors/executor/executorRoot';
import Dockerode from 'dockerode';
import {
  executorConfigProblems,
  executorSettings,
  JOB_TITLE_PREFIX,
  parseStandbyLine,
  STANDBY_LINE_MAX_CHARS,
  STANDBY_TITLE,
  type ExecutorConfig,
} from '../actors/executor/settings';
import { ConfigError, loadConfig } from '../config';
import { EXIT_CODES, jobUuidFromToken } from '../machines/jobReport';
import { createLogger, type Logger } from '../telemetry/logger';
import type { TelemetryHandle } from '../telemetry/setup';
import { toError } from '../util/errors';
import { processIo, type CommandIo } from './io';


const SUMMARY =
  'Runs one job for a miner and exits: dials <miner address>/v0.1/executor_interface/<token>, waits for the job, ' +
  'runs it in a docker container and reports the result. Exit codes: 0 completed, 1 job failed (the job owner\'s ' +
  'fault: timeout, non-zero exit, download or upload failure), 2 horde failed (the network\'s fault, including ' +
  'SIGTERM and a lost miner link), 3 bad usage or configuration. With --standby it starts without a token, ' +
  'waits for one line {"token": "..."} on stdin, then runs that job (stdin closed first: exit 0).';

/** Signals that stop the executor gracefully (final message, then cleanup). */
const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/** How a standby's wait ended. */
type StandbyOutcome =
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'closed'; readonly reason: string }
  | { readonly kind: 'invalid'; readonly problem: string };

/**
 * The standby stage: what can be done before the job is known (the modules are loaded by now; the docker engine is
 * pinged, which also loads its client's lazy parts), then one line on stdin. Nothing job-specific happens here: the
 * token decides the job, the stale-container sweep and the startup budget all start after it.
 */
async function waitAsStandby(stdin: NodeJS.ReadableStream, docker: Dockerode, logger: Logger): Promise<StandbyOutcome> {
  const line = readOneLine(stdin);
  const pingAbort = new AbortController();
  // The typings lack ping's options; dockerode passes abortSignal on to the request.
  const pingable = docker as unknown as { ping(options: { abortSignal: AbortSignal }): Promise<unknown> };
  void pingable.ping({ abortSignal: pingAbort.signal }).then(
    () => logger.debug('standby: docker engine answers'),
    (error: unknown) => {
      if (!pingAbort.signal.aborted) logger.warn('standby: docker engine does not answer; the job will report it', { error: toError(error).message });
    },
  );
  const outcome = await line;
  // A ping still out must not hold a dismissed standby's exit; a job does its own docker calls.
  pingAbort.abort();
  return outcome;
}

/** Reads one line (at most STANDBY_LINE_MAX_CHARS) from `stdin`; end of input or a stop signal first means dismissal. */
function readOneLine(stdin: NodeJS.ReadableStream): Promise<StandbyOutcome> {
  return new Promise<StandbyOutcome>((resolve) => {
    let text = '';
    const finish = (outcome: StandbyOutcome): void => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.off('error', onError);
      for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
      stdin.pause();
      // Unref so that a standby dismissed with a half-open stdin still exits.
      (stdin as Partial<{ unref(): void }>).unref?.();
      resolve(outcome);
    };
    const onData = (chunk: Buffer | string): void => {
      text += chunk.toString();
      const end = text.indexOf('\n');
      if (end >= 0) {
        const parsed = parseStandbyLine(text.slice(0, end).replace(/\r$/, ''));
        finish(parsed.ok ? { kind: 'token', token: parsed.value } : { kind: 'invalid', problem: parsed.error });
      } else if (text.length > STANDBY_LINE_MAX_CHARS) {
        finish({ kind: 'invalid', problem: `the standby line is longer than ${STANDBY_LINE_MAX_CHARS} characters` });
      }
    };
    const onEnd = (): void =>
      finish(text.trim() === '' ? { kind: 'closed', reason: 'stdin closed' } : { kind: 'invalid', problem: 'stdin closed inside the standby line' });
    const onError = (error: Error): void => finish({ kind: 'closed', reason: `stdin failed: ${error.message}` });
    const onSignal = (signal: NodeJS.Signals): void => finish({ kind: 'closed', reason: signal });
    for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.on('error', onError);
    stdin.resume();
  });
}

/**
 * `horde executor [--miner-address ws://…] [--executor-token …] [...]`. Returns the process exit code (see
 * `EXIT_CODES`): 0 completed, 1 job failed, 2 horde failed, 3 bad usage or configuration.
 *
 * @example
 * ```ts
 * const code = await executorCommand(['--miner-address', 'ws://127.0.0.1:8000', '--executor-token', token]);
 * // Warm standby: the token arrives later as one stdin line {"token": "..."}.
 * const later = await executorCommand(['--miner-address', 'ws://127.0.0.1:8000', '--standby']);
 * ```
 */
export async function executorCommand(
  args: readonly string[],
  io: CommandIo = processIo,
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<number> {
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
  const problems = executorConfigProblems(outcome.config);
  if (problems.length > 0) {
    io.stderr(`horde executor: ${new ConfigError(problems).message}\nRun 'horde executor --help' for the options.\n`);
    return EXIT_CODES.usage;
  }
  const loaded = outcome.config;
  const logger = createLogger({ component: 'executor', level: loaded.logLevel });
  const docker = new Dockerode({ socketPath: loaded.dockerSocket });

  let token = loaded.executorToken;
  if (token === undefined) {
    // `ps` tells idle standbys from executors with a job (the token is in no environment to look at).
    const ownProcess = stdin === process.stdin;
    if (ownProcess) process.title = STANDBY_TITLE;
    // Module loading is the standby's point; the telemetry SDK is loaded on demand, so load it now if it will be used.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    if (loaded.metricsPort !== undefined) require('../telemetry/setup');
    const standby = await waitAsStandby(stdin, docker, logger);
    if (standby.kind === 'closed') {
      logger.info('standby dismissed before a job', { reason: standby.reason });
      return 0;
    }
    if (standby.kind === 'invalid') {
      io.stderr(`horde executor: ${standby.problem}\n`);
      return EXIT_CODES.usage;
    }
    token = standby.token;
    if (ownProcess) process.title = `${JOB_TITLE_PREFIX}${jobUuidFromToken(token) ?? 'job'}`;
  }
  const config: ExecutorConfig = { ...loaded, executorToken: token };

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
  const executor = createExecutorRoot({ config, logger, docker });
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
