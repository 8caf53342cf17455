/**
 * `horde executor`: runs one job for a miner and exits (upstream's `manage.py run_executor`). A standby
 * (`--standby`) waits for its token on stdin first and, with `--max-jobs`, may run further jobs one after another.
 */
import os from 'node:os';
import { toPromise } from 'xstate';
import { STALE_JOB_CONTAINER_AGE_MS } from '../actors/executor/defaults';
import { isPidAlive, removeAbandonedContainers } from '../actors/executor/staleContainers';
import { createExecutorRoot } from '../actors/executor/executorRoot';
import Dockerode from 'dockerode';
import {
  executorConfigProblems,
  executorSettings,
  JOB_TITLE_PREFIX,
  jobEndedLine,
  parseStandbyLine,
  STANDBY_LINE_MAX_CHARS,
  STANDBY_TITLE,
  type ExecutorConfig,
} from '../actors/executor/settings';
import { ConfigError, loadConfig } from '../config';
import { EXIT_CODES, jobUuidFromToken } from '../machines/jobReport';
import { createLogger, type Logger } from '../telemetry/logger';
import type { TelemetryHandle } from '../telemetry/setup';
import { systemClock } from '../util/clock';
import { toError } from '../util/errors';
import { processIo, type CommandIo } from './io';


const SUMMARY =
  'Runs one job for a miner and exits: dials <miner address>/v0.1/executor_interface/<token>, waits for the job, ' +
  'runs it in a docker container and reports the result. Exit codes: 0 completed, 1 job failed (the job owner\'s ' +
  'fault: timeout, non-zero exit, download or upload failure), 2 horde failed (the network\'s fault, including ' +
  'SIGTERM and a lost miner link), 3 bad usage or configuration. With --standby it starts without a token, ' +
  'waits for one line {"token": "..."} on stdin, then runs that job (stdin closed first: exit 0); with --max-jobs N ' +
  'it then writes {"job_ended": <code>} on stdout and waits for the next token, up to N jobs.';

/** Signals that stop the executor gracefully (final message, then cleanup). */
const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/** How a standby's wait ended. */
type StandbyOutcome =
  | { readonly kind: 'token'; readonly token: string; readonly staleSweepDone: boolean }
  | { readonly kind: 'closed'; readonly reason: string }
  | { readonly kind: 'invalid'; readonly problem: string };

/**
 * The standby stage: what can be done before the job is known (the modules are loaded by now), then one line on
 * stdin. The stale-container sweep of the job's startup is done here, off the job's path: it removes job containers
 * of dead executors of this horde, which needs no job (this process has no container of its own yet). When the token
 * comes before the sweep is over, the sweep is awaited; when it failed, the job sweeps again. The startup budget
 * starts with the token.
 */
async function waitAsStandby(stdin: NodeJS.ReadableStream, docker: Dockerode, hordeId: string, logger: Logger): Promise<StandbyOutcome> {
  const line = readOneLine(stdin);
  const sweepAbort = new AbortController();
  const sweep = removeAbandonedContainers({
    docker,
    hordeId,
    self: { hostName: os.hostname(), token: '', nowMs: systemClock.nowMs(), maxAgeMs: STALE_JOB_CONTAINER_AGE_MS, isPidAlive },
    signal: sweepAbort.signal,
  }).then(
    (result) => {
      logger.debug('standby: stale containers swept', { removed: result.removed.length });
      return true;
    },
    (error: unknown) => {
      if (!sweepAbort.signal.aborted) logger.warn('standby: stale container sweep failed; the job will sweep', { error: toError(error).message });
      return false;
    },
  );
  const outcome = await line;
  if (outcome.kind !== 'token') {
    // A sweep still out must not hold a dismissed standby's exit.
    sweepAbort.abort();
    return outcome;
  }
  return { ...outcome, staleSweepDone: await sweep };
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
        finish(parsed.ok ? { kind: 'token', token: parsed.value, staleSweepDone: false } : { kind: 'invalid', problem: parsed.error });
      } else if (text.length > STANDBY_LINE_MAX_CHARS) {
        finish({ kind: 'invalid', problem: `the standby line is longer than ${STANDBY_LINE_MAX_CHARS} characters` });
      }
    };
    const onEnd = (): void =>
      finish(text.trim() === '' ? { kind: 'closed', reason: 'stdin closed' } : { kind: 'invalid', problem: 'stdin closed inside the standby line' });
    const onError = (error: Error): void => finish({ kind: 'closed', reason: `stdin failed: ${error.message}` });
    const onSignal = (signal: NodeJS.Signals): void => finish({ kind: 'closed', reason: signal });
    for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
    // A reused standby's stdin was unref'd after its previous line: waiting must keep the process alive again.
    (stdin as Partial<{ ref(): void }>).ref?.();
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

  // The telemetry server, when asked for, lives as long as the process (a reused standby serves several jobs).
  let telemetry: TelemetryHandle | undefined;
  const telemetryReady = async (): Promise<boolean> => {
    if (loaded.metricsPort === undefined || telemetry !== undefined) return true;
    try {
      // Loaded only when asked for: the OpenTelemetry SDK costs ~0.25 s of a one-shot process's start. A CommonJS
      // require, because an `import()` here would go through Node's ESM loader, which tsx/cjs does not hook.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { setupTelemetry } = require('../telemetry/setup') as typeof import('../telemetry/setup');
      telemetry = await setupTelemetry({ serviceName: 'horde-executor', role: 'executor', metricsServer: { port: loaded.metricsPort } });
      return true;
    } catch (error) {
      io.stderr(`horde executor: cannot serve metrics on port ${loaded.metricsPort}: ${toError(error).message}\n`);
      return false;
    }
  };

  const ownProcess = stdin === process.stdin;
  try {
    if (loaded.executorToken !== undefined) {
      if (!(await telemetryReady())) return EXIT_CODES.usage;
      return await runJob({ ...loaded, executorToken: loaded.executorToken }, logger, docker);
    }
    // Module loading is the standby's point; the telemetry SDK is loaded on demand, so load it now if it will be used.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    if (loaded.metricsPort !== undefined) require('../telemetry/setup');
    for (let jobsRun = 0; ; ) {
      // `ps` tells idle standbys from executors with a job (the token is in no environment to look at).
      if (ownProcess) process.title = STANDBY_TITLE;
      const standby = await waitAsStandby(stdin, docker, loaded.hordeId, logger);
      if (standby.kind === 'closed') {
        logger.info(jobsRun === 0 ? 'standby dismissed before a job' : 'standby dismissed', { reason: standby.reason, jobs_run: jobsRun });
        return 0;
      }
      if (standby.kind === 'invalid') {
        io.stderr(`horde executor: ${standby.problem}\n`);
        return EXIT_CODES.usage;
      }
      if (ownProcess) process.title = `${JOB_TITLE_PREFIX}${jobUuidFromToken(standby.token) ?? 'job'}`;
      if (!(await telemetryReady())) return EXIT_CODES.usage;
      const code = await runJob({ ...loaded, executorToken: standby.token }, logger, docker, standby.staleSweepDone);
      jobsRun += 1;
      // Only a clean ending is reused: a horde failure (lost miner, stop signal, a failed root) may have left this
      // process in a state nobody should inherit.
      if (jobsRun >= loaded.maxJobs || (code !== EXIT_CODES.completed && code !== EXIT_CODES.job_failed)) return code;
      io.stdout(jobEndedLine(code));
    }
  } finally {
    await telemetry?.shutdown();
  }
}

/** Runs one job to its end with a fresh executor root; resolves with the exit code of that job. */
async function runJob(config: ExecutorConfig, logger: Logger, docker: Dockerode, staleSweepDone = false): Promise<number> {
  // Built after telemetry setup: instruments taken before it would stay no-ops.
  const executor = createExecutorRoot({ config, logger, docker, staleSweepDone });
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
  }
}
