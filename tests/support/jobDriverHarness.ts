import { createActor, fromPromise, SimulatedClock, type Actor } from 'xstate';
import { ExecutorAbortedError } from '../../src/actors/executor/errors';
import type { JobTempDir } from '../../src/actors/executor/tempDirs';
import {
  jobDriverMachine,
  type CleanupReport,
  type JobDriverEmitted,
  type JobDriverObserver,
  type JobDriverOutput,
  type JobDriverSettings,
  type ObservedStage,
  type StageOutcome,
} from '../../src/machines/jobDriver.machine';
import { minerToExecutorCodec, type ExecutorToMinerMessageInput, type MinerToExecutorMessage, type MinerToExecutorMessageInput } from '../../src/protocol';

/** The driver's injected effects. */
export const EFFECT_NAMES = [
  'collectSpecs',
  'prepareWorkspace',
  'removeStaleContainers',
  'ensureImage',
  'downloadVolume',
  'runJob',
  'finishOutputs',
  'cleanup',
] as const;
export type EffectName = (typeof EFFECT_NAMES)[number];

/** One invocation of an effect, controllable when the effect is manual. */
export interface EffectCall {
  readonly name: EffectName;
  readonly input: unknown;
  readonly signal: AbortSignal;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** An effect's behaviour: answer with a value (or throw) at once, or wait for the test (`manual`). */
export type EffectBehaviour = 'manual' | ((input: unknown) => unknown);

export const FAKE_WORKSPACE: JobTempDir = {
  root: '/fake/job',
  volumeDir: '/fake/job/volume',
  outputDir: '/fake/job/output',
  artifactsDir: '/fake/job/artifacts',
  specsDir: '/fake/job/specs',
  logsDir: '/fake/job/logs',
  stdoutPath: '/fake/job/logs/stdout.txt',
  stderrPath: '/fake/job/logs/stderr.txt',
};

export const CLEAN_REPORT: CleanupReport = { containersRemoved: 0, tempDir: 'removed', problems: [] };

const DEFAULT_BEHAVIOUR: Record<EffectName, EffectBehaviour> = {
  collectSpecs: () => ({ specs: { os: 'test' } }),
  prepareWorkspace: () => FAKE_WORKSPACE,
  removeStaleContainers: () => ({ removed: 0 }),
  ensureImage: (input) => ({ image: (input as { image: string }).image, pulled: false }),
  downloadVolume: () => ({ files: 0 }),
  runJob: () => ({ exitCode: 0, stdout: 'out', stderr: 'err' }),
  finishOutputs: () => ({ artifacts: { '/artifacts/a': 'YQ==' }, uploadResults: {} }),
  cleanup: () => CLEAN_REPORT,
};

export const DEFAULT_SETTINGS: JobDriverSettings = {
  startupTimeLimitMs: 5_000,
  imagePullTimeoutMs: 60_000,
  executionReportReserveMs: 1_000,
  killGraceMs: 3_000,
  cleanupTimeoutMs: 30_000,
  gpuEnabled: false,
};

/** Decodes an encodable message with the real codec, as the transport would hand it over. */
export function decoded(message: MinerToExecutorMessageInput): MinerToExecutorMessage {
  const result = minerToExecutorCodec.decode(minerToExecutorCodec.encode(message));
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
}

export interface DriverHarnessOptions {
  readonly settings?: Partial<JobDriverSettings>;
  /** `null`: no job uuid known before the initial request. */
  readonly jobUuidHint?: string | null;
  readonly effects?: Partial<Record<EffectName, EffectBehaviour>>;
  /** Also report to this observer (metrics and spans tests). */
  readonly observer?: JobDriverObserver;
}

/**
 * The job driver machine on a SimulatedClock with injected effects that either answer at once or wait for the
 * test. Every `job.send` is recorded, and the observer's stage reports too.
 *
 * @example
 * ```ts
 * const h = driverHarness({ effects: { runJob: 'manual' } });
 * h.start(); h.deliver(initialJobRequest({ jobUuid })); await h.flush();
 * ```
 */
export function driverHarness(options: DriverHarnessOptions = {}) {
  const clock = new SimulatedClock();
  const calls: EffectCall[] = [];
  const behaviours = { ...DEFAULT_BEHAVIOUR, ...options.effects };
  const effect = (name: EffectName) =>
    fromPromise<unknown, unknown>(({ input, signal }) => {
      const behaviour = behaviours[name];
      return new Promise<unknown>((resolve, reject) => {
        calls.push({ name, input, signal, resolve, reject });
        if (behaviour === 'manual') {
          signal.addEventListener('abort', () => reject(new ExecutorAbortedError(name)), { once: true });
          return;
        }
        queueMicrotask(() => {
          try {
            resolve(behaviour(input));
          } catch (error) {
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        });
      });
    });
  const actors = Object.fromEntries(EFFECT_NAMES.map((name) => [name, effect(name)]));
  const stages: Array<{ stage: ObservedStage; event: 'start' | StageOutcome; durationMs?: number }> = [];
  const finished: JobDriverOutput[] = [];
  const also = options.observer;
  const observer: JobDriverObserver = {
    stageStarted: (stage) => {
      stages.push({ stage, event: 'start' });
      also?.stageStarted(stage);
    },
    stageEnded: (stage, outcome, durationMs) => {
      stages.push({ stage, event: outcome, durationMs });
      also?.stageEnded(stage, outcome, durationMs);
    },
    finished: (output) => {
      finished.push(output);
      also?.finished(output);
    },
    log: (level, msg, fields) => also?.log(level, msg, fields),
  };
  // Every effect is the same controllable shape; the machine's per-effect types do not matter to the test.
  const logic = jobDriverMachine.provide({ actors });
  const hint = options.jobUuidHint === undefined ? 'hint-uuid' : options.jobUuidHint;
  const actor: Actor<typeof logic> = createActor(logic, {
    clock,
    input: {
      settings: { ...DEFAULT_SETTINGS, ...options.settings },
      clock: { nowMs: () => clock.now() },
      ...(hint === null ? {} : { jobUuidHint: hint }),
      observer,
    },
  });
  const emitted: JobDriverEmitted[] = [];
  actor.on('*', (event) => emitted.push(event));
  const sent = (): Array<{ message: ExecutorToMinerMessageInput; final: boolean }> =>
    emitted.filter((e): e is Extract<JobDriverEmitted, { type: 'job.send' }> => e.type === 'job.send').map(({ message, final }) => ({ message, final }));

  const harness = {
    clock,
    actor,
    calls,
    stages,
    finished,
    emitted,
    sent,
    /** `message_type`s sent, in order. */
    types: () => sent().map((s) => s.message.message_type),
    finals: () => sent().filter((s) => s.final),
    start: () => {
      actor.start();
      return harness;
    },
    deliver: (message: MinerToExecutorMessageInput) => actor.send({ type: 'job.miner.message', message: decoded(message) }),
    /** Lets queued promise callbacks run (no timers involved). */
    flush: async () => {
      for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve));
    },
    /** Moves simulated time forward, then flushes. */
    advance: async (ms: number) => {
      clock.increment(ms);
      await harness.flush();
    },
    callsOf: (name: EffectName) => calls.filter((c) => c.name === name),
    /** The latest call of a (manual) effect. */
    last: (name: EffectName): EffectCall => {
      const found = calls.filter((c) => c.name === name).at(-1);
      if (found === undefined) throw new Error(`${name} was not called`);
      return found;
    },
    state: () => actor.getSnapshot().value,
    output: () => actor.getSnapshot().output,
    status: () => actor.getSnapshot().status,
  };
  return harness;
}

export type DriverHarness = ReturnType<typeof driverHarness>;
