/**
 * The executor's job driver: upstream's `JobDriver.execute` as a state machine. It owns the job's lifecycle and
 * nothing else; every effect (docker, downloads, uploads, the temp dir) is an injected actor
 * (`src/actors/executor/jobDriver.ts` provides the real ones), and every message to the miner leaves as a
 * `job.send` event to the parent (and as an emitted event, for tests).
 *
 * Guarantees, by construction:
 * - One deadline (`context.deadlineAtMs`) set at start, re-set at ready, then only extended (see `jobDeadline.ts`);
 *   each stage state has one `after` computed from it.
 * - Exactly one final message: `reportingSuccess` and `reportingFailure` are the only states that send one; both are
 *   reachable only from `active`, which has no incoming transition, and both lead straight to `cleaningUp`. So one of
 *   them is entered exactly once, whatever happens (deadline, stop, link loss, effect failure).
 * - Cleanup always runs: every path out of `active` goes through `cleaningUp`, whose effect is bounded by a timer.
 */
import { assign, enqueueActions, fromPromise, setup, stateIn, type AnyActorRef } from 'xstate';
import type { JobTempDir } from '../actors/executor/tempDirs';
import { withDefaultTag } from '../actors/executor/wire';
import type {
  ExecutorToMinerMessageInput,
  MachineSpecs,
  MinerToExecutorMessage,
  OutputUpload,
  V0InitialJobRequest,
  V0JobRequest,
  Volume,
} from '../protocol';
import type { JobStage } from '../protocol';
import type { Clock } from '../util/clock';
import { toError } from '../util/errors';
import { containerDeadlineMs, deadlineAfterStage, jobTimingFrom, timeLeftMs, type DeadlineStage, type JobTiming } from './jobDeadline';
import {
  executionFromError,
  failureFromError,
  failureMessage,
  stageTimeoutFailure,
  type ExecutionRecord,
  type JobFailure,
  type JobOutcome,
} from './jobReport';

// ---------------------------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------------------------

/** Stages the driver times and traces: upstream's `JobStage`s plus the final cleanup. */
export type ObservedStage = 'executor_startup' | 'volume_download' | 'execution' | 'result_upload' | 'cleanup';

/** How a stage ended. */
export type StageOutcome = 'ok' | 'failed' | 'timeout' | 'aborted';

/**
 * Where the driver reports what it does (metrics, spans, logs). Injected so that the machine stays pure; the
 * default does nothing.
 */
export interface JobDriverObserver {
  stageStarted(stage: ObservedStage): void;
  stageEnded(stage: ObservedStage, outcome: StageOutcome, durationMs: number): void;
  finished(output: JobDriverOutput): void;
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Readonly<Record<string, unknown>>): void;
}

/** An observer that records nothing. */
export const silentJobDriverObserver: JobDriverObserver = {
  stageStarted: () => undefined,
  stageEnded: () => undefined,
  finished: () => undefined,
  log: () => undefined,
};

/** Knobs of one driver (the wiring fills them from settings; see `src/actors/executor/defaults.ts`). */
export interface JobDriverSettings {
  /** Upstream `--startup-time-limit`: from start to `V0ExecutorReadyRequest`, initial request and image pull included. */
  readonly startupTimeLimitMs: number;
  /** Upper bound of one image pull (further capped by the startup time left). */
  readonly imagePullTimeoutMs: number;
  /** The container is killed this long before the deadline, so that the kill and the report fit before it. */
  readonly executionReportReserveMs: number;
  /** After the execution deadline, how long to wait for the runner's own kill report (with the output so far). */
  readonly killGraceMs: number;
  /** Upper bound of the cleanup stage. */
  readonly cleanupTimeoutMs: number;
  /** Give GPU jobs (`docker_run_options_preset: nvidia_all`) all GPUs; off unless the host has them. */
  readonly gpuEnabled: boolean;
}

export interface JobDriverInput {
  readonly settings: JobDriverSettings;
  /** Monotonic milliseconds; must be the clock the actor's timers run on (SimulatedClock in tests). */
  readonly clock: Clock;
  /** Job uuid known before the initial request (from the executor token), so a startup failure can be reported. */
  readonly jobUuidHint?: string;
  readonly observer?: JobDriverObserver;
}

/** What the cleanup effect did. */
export interface CleanupReport {
  readonly containersRemoved: number;
  readonly tempDir: 'removed' | 'none' | 'failed';
  /** Problems met (each logged); empty when everything was removed. */
  readonly problems: readonly string[];
}

/** The driver's final output: how the job ended and what was left behind. */
export interface JobDriverOutput {
  readonly outcome: JobOutcome;
  readonly stage: JobStage;
  /** `completed`, or the failure's reason. */
  readonly reason: string;
  readonly message: string;
  readonly jobUuid: string | undefined;
  /** False only when no job uuid was ever known, so no final message could be built. */
  readonly finalMessageSent: boolean;
  readonly cleanup: CleanupReport;
}

/** Events the driver accepts (public). */
export type JobDriverEvent =
  /** A decoded message from the miner. */
  | { type: 'job.miner.message'; message: MinerToExecutorMessage }
  /** The miner link dropped (the transport is reconnecting). Fatal once the job started: the miner failed it. */
  | { type: 'job.miner.link_lost'; code: number; reason: string }
  /** The miner link is gone for good (the transport gave up or stopped). */
  | { type: 'job.miner.link_gone'; reason: string }
  /** Stop the job (SIGTERM, a parent shutting down): report a horde failure, clean up, finish. */
  | { type: 'job.stop'; reason: string };

/** What the driver tells its parent (sent to the parent and emitted). */
export type JobDriverEmitted =
  /** Send this to the miner. `final` marks the one message that ends the job. */
  | { type: 'job.send'; message: ExecutorToMinerMessageInput; final: boolean }
  /** The job's temp dir exists (so a parent can remove it should the driver die). */
  | { type: 'job.workspace'; root: string }
  /** The driver entered a stage (a parent reports it if the driver dies). */
  | { type: 'job.stage'; stage: JobStage };

// Inputs and outputs of the injected effects.

export interface PrepareWorkspaceInput {
  readonly jobUuid: string;
}
export interface EnsureImageEffectInput {
  readonly image: string;
  readonly timeoutMs: number;
}
export interface DownloadEffectInput {
  readonly volume: Volume | null;
  readonly workspace: JobTempDir;
}
export interface RunJobEffectInput {
  readonly jobUuid: string;
  readonly image: string;
  readonly cmd: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly workspace: JobTempDir;
  readonly artifactsDir: string | null;
  readonly gpu: boolean;
  /** The container is killed when it runs longer (`containerDeadlineMs`: execution limit, minus the report reserve). */
  readonly deadlineMs: number;
  /** The image was not made present at startup (the job request names another): make it present first. */
  readonly ensureImage: boolean;
}
export interface RunJobEffectOutput extends ExecutionRecord {
  readonly exitCode: number;
}
export interface FinishOutputsInput {
  readonly workspace: JobTempDir;
  readonly artifactsDir: string | null;
  readonly outputUpload: OutputUpload | null;
}
export interface FinishOutputsOutput {
  readonly artifacts: Readonly<Record<string, string>>;
  readonly uploadResults: Readonly<Record<string, string>>;
}
export interface CleanupInput {
  readonly jobUuid: string | undefined;
  readonly workspace: JobTempDir | undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Context
// ---------------------------------------------------------------------------------------------------------------

export interface JobDriverContext {
  readonly settings: JobDriverSettings;
  readonly clock: Clock;
  readonly observer: JobDriverObserver;
  jobUuid: string | undefined;
  initial: V0InitialJobRequest | undefined;
  job: V0JobRequest | undefined;
  timing: JobTiming | undefined;
  /** The single deadline, on `clock`. */
  deadlineAtMs: number;
  /** Upstream's `current_stage` (what a failure reports). */
  stage: JobStage;
  /** The stage being timed for the observer, and since when. */
  openStage: { readonly stage: ObservedStage; readonly startedAtMs: number } | undefined;
  workspace: JobTempDir | undefined;
  preparedImage: string | undefined;
  specs: MachineSpecs | undefined;
  execution: ExecutionRecord | undefined;
  results: FinishOutputsOutput | undefined;
  failure: JobFailure | undefined;
  outcome: { outcome: JobOutcome; reason: string; message: string; finalMessageSent: boolean } | undefined;
  cleanup: CleanupReport | undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers (module-level: no closure per event)
// ---------------------------------------------------------------------------------------------------------------

/** Placeholder effect: fails loudly until `.provide({ actors })` replaces it. */
function notProvided<TOutput, TInput = void>(name: string) {
  return fromPromise<TOutput, TInput>(() => Promise.reject(new Error(`jobDriverMachine: effect "${name}" was not provided`)));
}

function hasParent(self: AnyActorRef): boolean {
  return self._parent !== undefined;
}

function messageOf(event: { type: string }): MinerToExecutorMessage | undefined {
  return event.type === 'job.miner.message' ? (event as unknown as { message: MinerToExecutorMessage }).message : undefined;
}

function isType<T extends MinerToExecutorMessage['message_type']>(
  event: { type: string },
  type: T,
): boolean {
  return messageOf(event)?.message_type === type;
}

function outcomeOfFailure(failure: JobFailure): StageOutcome {
  if (failure.kind === 'job_failed' && failure.reason === 'timeout') return 'timeout';
  if (failure.kind === 'horde_failed' && failure.message.startsWith('Executor stopped')) return 'aborted';
  return 'failed';
}

function stopFailure(stage: JobStage, reason: string): JobFailure {
  return { kind: 'horde_failed', stage, reason: 'generic_error', message: `Executor stopped (${reason}) during ${stage}`, context: { stage, signal: reason } };
}

function linkFailure(stage: JobStage, detail: string): JobFailure {
  return {
    kind: 'horde_failed',
    stage,
    reason: 'miner_connection_failed',
    message: `Lost the connection to the miner during ${stage}: ${detail}`,
    context: { stage },
  };
}

function outputOf(context: JobDriverContext): JobDriverOutput {
  return {
    outcome: context.outcome?.outcome ?? 'horde_failed',
    stage: context.stage,
    reason: context.outcome?.reason ?? 'unknown',
    message: context.outcome?.message ?? '',
    jobUuid: context.jobUuid,
    finalMessageSent: context.outcome?.finalMessageSent ?? false,
    cleanup: context.cleanup ?? { containersRemoved: 0, tempDir: 'failed', problems: ['cleanup did not report'] },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The machine
// ---------------------------------------------------------------------------------------------------------------

/**
 * The job driver. Provide the effects with `.provide({ actors })` (see `createJobDriverLogic`), start it, feed it the
 * miner's messages as `job.miner.message`, and forward its `job.send` events to the miner link.
 *
 * @example
 * ```ts
 * const driver = createActor(jobDriverMachine.provide({ actors: effects }), {
 *   input: { settings, clock: { nowMs: () => performance.now() }, jobUuidHint },
 * });
 * driver.on('job.send', ({ message }) => link.send({ type: 'transport.send', message }));
 * driver.start();
 * driver.send({ type: 'job.miner.message', message: initialRequest });
 * ```
 */
export const jobDriverMachine = setup({
  types: {
    context: {} as JobDriverContext,
    events: {} as JobDriverEvent,
    input: {} as JobDriverInput,
    output: {} as JobDriverOutput,
    emitted: {} as JobDriverEmitted,
  },
  actors: {
    collectSpecs: notProvided<MachineSpecs, void>('collectSpecs'),
    prepareWorkspace: notProvided<JobTempDir, PrepareWorkspaceInput>('prepareWorkspace'),
    removeStaleContainers: notProvided<{ removed: number }, void>('removeStaleContainers'),
    ensureImage: notProvided<{ image: string; pulled: boolean }, EnsureImageEffectInput>('ensureImage'),
    downloadVolume: notProvided<{ files: number }, DownloadEffectInput>('downloadVolume'),
    runJob: notProvided<RunJobEffectOutput, RunJobEffectInput>('runJob'),
    finishOutputs: notProvided<FinishOutputsOutput, FinishOutputsInput>('finishOutputs'),
    cleanup: notProvided<CleanupReport, CleanupInput>('cleanup'),
  },
  delays: {
    deadline: ({ context }) => timeLeftMs(context.deadlineAtMs, context.clock.nowMs()),
    killGrace: ({ context }) => context.settings.killGraceMs,
    cleanupTimeout: ({ context }) => context.settings.cleanupTimeoutMs,
  },
  guards: {
    isInitialRequest: ({ event }) => isType(event, 'V0InitialJobRequest'),
    isStreamingRequest: ({ event }) => {
      const message = messageOf(event);
      return message?.message_type === 'V0InitialJobRequest' && message.streaming_details !== null;
    },
    hasNoTiming: ({ event }) => {
      const message = messageOf(event);
      return message?.message_type === 'V0InitialJobRequest' && jobTimingFrom(message) === undefined;
    },
    initialReceived: ({ context }) => context.initial !== undefined,
    isInitialRequestAgain: ({ context, event }) => context.initial !== undefined && isType(event, 'V0InitialJobRequest'),
    isJobRequestBeforeInitial: ({ context, event }) => context.initial === undefined && isType(event, 'V0JobRequest'),
    isFirstJobRequest: ({ context, event }) => context.initial !== undefined && context.job === undefined && isType(event, 'V0JobRequest'),
    isJobRequestAgain: ({ context, event }) => context.job !== undefined && isType(event, 'V0JobRequest'),
    isGenericError: ({ event }) => isType(event, 'GenericError'),
    hasJob: ({ context }) => context.job !== undefined,
    needsNoImage: ({ context }) => (context.initial?.docker_image ?? null) === null,
    hasMultipleVolumes: ({ context }) => (context.initial?.volume ?? null) !== null && (context.job?.volume ?? null) !== null,
    hasRawScript: ({ context }) => (context.job?.raw_script ?? '') !== '',
    exitedCleanly: ({ event }) => (event as { output?: RunJobEffectOutput }).output?.exitCode === 0,
    isContainerTimeout: ({ event }) => executionFromError((event as { error?: unknown }).error) !== undefined,
  },
  actions: {
    /** Sends a message to the miner through the parent (and emits it, for observers and tests). */
    send: enqueueActions(({ enqueue, self }, params: { message: ExecutorToMinerMessageInput; final?: boolean }) => {
      const emitted: JobDriverEmitted = { type: 'job.send', message: params.message, final: params.final === true };
      enqueue.emit(emitted);
      if (hasParent(self)) enqueue.sendParent(emitted);
    }),
    /** Opens a stage for the observer (closing the previous one as `ok`) and tells the parent. */
    beginStage: enqueueActions(({ context, enqueue, self }, params: { stage: ObservedStage }) => {
      const now = context.clock.nowMs();
      const open = context.openStage;
      const { observer } = context;
      // Observer calls are enqueued, not made here: this callback runs while the transition is being computed.
      if (open !== undefined) enqueue(() => observer.stageEnded(open.stage, 'ok', now - open.startedAtMs));
      enqueue(() => observer.stageStarted(params.stage));
      const stage: JobStage = params.stage === 'cleanup' ? context.stage : params.stage;
      enqueue.assign({ openStage: { stage: params.stage, startedAtMs: now }, stage });
      if (params.stage !== 'cleanup') {
        const emitted: JobDriverEmitted = { type: 'job.stage', stage };
        enqueue.emit(emitted);
        if (hasParent(self)) enqueue.sendParent(emitted);
      }
    }),
    /** Closes the open stage for the observer. */
    endStage: enqueueActions(({ context, enqueue }, params: { outcome: StageOutcome }) => {
      const open = context.openStage;
      if (open === undefined) return;
      const durationMs = context.clock.nowMs() - open.startedAtMs;
      const { observer } = context;
      enqueue(() => observer.stageEnded(open.stage, params.outcome, durationMs));
      enqueue.assign({ openStage: undefined });
    }),
    /** Moves the single deadline for a stage (set, re-set or extend: see jobDeadline.ts). */
    moveDeadline: assign(({ context }, params: { stage: DeadlineStage }) => ({
      deadlineAtMs: deadlineAfterStage(params.stage, {
        nowMs: context.clock.nowMs(),
        currentDeadlineMs: context.deadlineAtMs,
        ...(context.timing === undefined ? {} : { timing: context.timing }),
        startupTimeLimitMs: context.settings.startupTimeLimitMs,
        streaming: false,
      }),
    })),
    storeInitial: assign(({ event }) => {
      const initial = messageOf(event) as V0InitialJobRequest;
      return { initial, jobUuid: initial.job_uuid, timing: jobTimingFrom(initial) };
    }),
    storeJob: assign(({ event }) => ({ job: messageOf(event) as V0JobRequest })),
    /** Records the one failure the job ends with (the next state is `reportingFailure`). */
    recordFailure: assign((_, params: { failure: JobFailure; execution?: ExecutionRecord }) =>
      params.execution === undefined ? { failure: params.failure } : { failure: params.failure, execution: params.execution },
    ),
    log: ({ context }, params: { level: 'debug' | 'info' | 'warn' | 'error'; msg: string; fields?: Record<string, unknown> }) =>
      context.observer.log(params.level, params.msg, params.fields),
    /** Answers the miner with GenericError (duplicate or out-of-order message); the job carries on. */
    reply: enqueueActions(({ enqueue, context, self }, params: { details: string }) => {
      const { observer } = context;
      enqueue(() => observer.log('warn', 'answering the miner with GenericError', { details: params.details }));
      const emitted: JobDriverEmitted = { type: 'job.send', message: { message_type: 'GenericError', details: params.details }, final: false };
      enqueue.emit(emitted);
      if (hasParent(self)) enqueue.sendParent(emitted);
    }),
  },
}).createMachine({
  id: 'jobDriver',
  context: ({ input }) => ({
    settings: input.settings,
    clock: input.clock,
    observer: input.observer ?? silentJobDriverObserver,
    jobUuid: input.jobUuidHint,
    initial: undefined,
    job: undefined,
    timing: undefined,
    deadlineAtMs: input.clock.nowMs() + input.settings.startupTimeLimitMs,
    stage: 'executor_startup',
    openStage: undefined,
    workspace: undefined,
    preparedImage: undefined,
    specs: undefined,
    execution: undefined,
    results: undefined,
    failure: undefined,
    outcome: undefined,
    cleanup: undefined,
  }),
  initial: 'active',
  output: ({ context }) => outputOf(context),
  // Messages no stage state handles: duplicates and out-of-order ones are answered with GenericError, as upstream's
  // MinerClient does, and the driver carries on.
  on: {
    'job.miner.message': [
      {
        guard: 'isInitialRequestAgain',
        actions: {
          type: 'reply',
          params: ({ context, event }) => ({
            details: `Received duplicate initial job request: first job_uuid=${context.jobUuid ?? ''} and then job_uuid=${(event.message as { job_uuid?: string }).job_uuid ?? ''}`,
          }),
        },
      },
      {
        guard: 'isJobRequestBeforeInitial',
        actions: {
          type: 'reply',
          params: ({ event }) => ({
            details: `Received job request before an initial job request job_uuid=${(event.message as { job_uuid?: string }).job_uuid ?? ''}`,
          }),
        },
      },
      {
        guard: 'isJobRequestAgain',
        actions: {
          type: 'reply',
          params: ({ context, event }) => ({
            details: `Received duplicate full job payload request: first job_uuid=${context.jobUuid ?? ''} and then job_uuid=${(event.message as { job_uuid?: string }).job_uuid ?? ''}`,
          }),
        },
      },
      {
        guard: 'isGenericError',
        actions: {
          type: 'reply',
          params: ({ event }) => ({
            details: `Unsupported message from miner: GenericError(${JSON.stringify((event.message as { details?: string | null }).details ?? null)})`,
          }),
        },
      },
      {
        actions: {
          type: 'log',
          params: ({ event }) => ({ level: 'warn', msg: 'ignoring a message that arrived after the job ended', fields: { messageType: event.message.message_type } }),
        },
      },
    ],
  },
  states: {
    /** The job is running; every child is a stage. Entered once, at start; leaving it always means reporting. */
    active: {
      invoke: {
        // Machine specs are gathered while the job runs and sent before the result when ready in time.
        src: 'collectSpecs',
        onDone: { actions: assign({ specs: ({ event }) => event.output }) },
        onError: { actions: { type: 'log', params: ({ event }) => ({ level: 'warn', msg: 'machine specs not collected', fields: { error: toError(event.error).message } }) } },
      },
      on: {
        'job.miner.message': { guard: 'isFirstJobRequest', actions: 'storeJob' },
        'job.stop': {
          target: '#jobDriver.reportingFailure',
          actions: { type: 'recordFailure', params: ({ context, event }) => ({ failure: stopFailure(context.stage, event.reason) }) },
        },
        'job.miner.link_lost': {
          guard: 'initialReceived',
          target: '#jobDriver.reportingFailure',
          actions: {
            type: 'recordFailure',
            params: ({ context, event }) => ({ failure: linkFailure(context.stage, `closed with ${event.code} ${event.reason}`.trim()) }),
          },
        },
        'job.miner.link_gone': {
          target: '#jobDriver.reportingFailure',
          actions: { type: 'recordFailure', params: ({ context, event }) => ({ failure: linkFailure(context.stage, event.reason) }) },
        },
      },
      initial: 'awaitingInitialRequest',
      states: {
        /** Waiting for the miner's V0InitialJobRequest, within the startup budget. */
        awaitingInitialRequest: {
          entry: [{ type: 'beginStage', params: { stage: 'executor_startup' } }, { type: 'moveDeadline', params: { stage: 'executor_startup' } }],
          after: {
            deadline: {
              target: '#jobDriver.reportingFailure',
              actions: { type: 'recordFailure', params: { failure: stageTimeoutFailure('executor_startup') } },
            },
          },
          on: {
            'job.miner.message': [
              {
                guard: 'isStreamingRequest',
                target: '#jobDriver.reportingFailure',
                actions: [
                  'storeInitial',
                  {
                    type: 'recordFailure',
                    params: {
                      failure: {
                        kind: 'horde_failed',
                        stage: 'executor_startup',
                        reason: 'streaming_failed',
                        message: 'Streaming jobs are not supported by this executor',
                        context: { stage: 'executor_startup' },
                      },
                    },
                  },
                ],
              },
              {
                guard: 'hasNoTiming',
                target: '#jobDriver.reportingFailure',
                actions: [
                  'storeInitial',
                  {
                    type: 'recordFailure',
                    params: {
                      failure: {
                        kind: 'horde_failed',
                        stage: 'executor_startup',
                        reason: 'generic_error',
                        message: 'No timing received: either timeout_seconds or timing_details must be set',
                        context: { stage: 'executor_startup' },
                      },
                    },
                  },
                ],
              },
              { guard: 'isInitialRequest', target: 'preparing', actions: 'storeInitial' },
            ],
          },
        },
        /** Initial request in hand: temp dir, stale containers, image. Still on the startup budget. */
        preparing: {
          after: {
            deadline: {
              target: '#jobDriver.reportingFailure',
              actions: { type: 'recordFailure', params: { failure: stageTimeoutFailure('executor_startup') } },
            },
          },
          initial: 'workspace',
          states: {
            /** Creating the job's temp dir (volume, output, artifacts, logs). */
            workspace: {
              invoke: {
                src: 'prepareWorkspace',
                input: ({ context }) => ({ jobUuid: context.jobUuid ?? 'unknown' }),
                onDone: {
                  target: 'staleContainers',
                  actions: enqueueActions(({ enqueue, event, self }) => {
                    enqueue.assign({ workspace: event.output });
                    const emitted: JobDriverEmitted = { type: 'job.workspace', root: event.output.root };
                    enqueue.emit(emitted);
                    if (hasParent(self)) enqueue.sendParent(emitted);
                  }),
                },
                onError: {
                  target: '#jobDriver.reportingFailure',
                  actions: { type: 'recordFailure', params: ({ event }) => ({ failure: failureFromError(event.error, 'executor_startup') }) },
                },
              },
            },
            /** Removing job containers left by dead executors of this horde. */
            staleContainers: {
              invoke: {
                src: 'removeStaleContainers',
                onDone: [{ guard: 'needsNoImage', target: '#jobDriver.active.becomingReady' }, { target: 'image' }],
                onError: {
                  target: '#jobDriver.reportingFailure',
                  actions: { type: 'recordFailure', params: ({ event }) => ({ failure: failureFromError(event.error, 'executor_startup') }) },
                },
              },
            },
            /** Making the initial request's image present (pull policy), within the pull timeout and the budget. */
            image: {
              invoke: {
                src: 'ensureImage',
                input: ({ context }) => ({
                  image: context.initial!.docker_image!,
                  timeoutMs: Math.min(context.settings.imagePullTimeoutMs, timeLeftMs(context.deadlineAtMs, context.clock.nowMs())),
                }),
                onDone: { target: '#jobDriver.active.becomingReady', actions: assign({ preparedImage: ({ event }) => event.output.image }) },
                onError: {
                  target: '#jobDriver.reportingFailure',
                  actions: { type: 'recordFailure', params: ({ event }) => ({ failure: failureFromError(event.error, 'executor_startup') }) },
                },
              },
            },
          },
        },
        /** Transient: arm the deadline (leeway + download) BEFORE telling the miner, so we time out first. */
        becomingReady: {
          entry: [
            { type: 'moveDeadline', params: { stage: 'volume_download' } },
            {
              type: 'send',
              params: ({ context }) => ({
                message: { message_type: 'V0ExecutorReadyRequest', job_uuid: context.jobUuid!, executor_token: null },
              }),
            },
          ],
          always: 'volumeDownload',
        },
        /** Waiting for V0JobRequest, then downloading the volume (stage volume_download). */
        volumeDownload: {
          entry: { type: 'beginStage', params: { stage: 'volume_download' } },
          after: {
            deadline: {
              target: '#jobDriver.reportingFailure',
              actions: { type: 'recordFailure', params: { failure: stageTimeoutFailure('volume_download') } },
            },
          },
          initial: 'awaitingJobRequest',
          states: {
            /** Ready sent; the job request may already be here (it can arrive while preparing). */
            awaitingJobRequest: {
              always: { guard: 'hasJob', target: 'checking' },
            },
            /** Transient: refuse what upstream refuses before downloading. */
            checking: {
              always: [
                {
                  guard: 'hasMultipleVolumes',
                  target: '#jobDriver.reportingFailure',
                  actions: {
                    type: 'recordFailure',
                    params: { failure: { kind: 'horde_failed', stage: 'volume_download', reason: 'generic_error', message: 'Received multiple volumes', context: { stage: 'volume_download' } } },
                  },
                },
                {
                  guard: 'hasRawScript',
                  target: '#jobDriver.reportingFailure',
                  actions: {
                    type: 'recordFailure',
                    params: { failure: { kind: 'horde_failed', stage: 'volume_download', reason: 'generic_error', message: 'raw_script jobs are not supported by this executor', context: { stage: 'volume_download' } } },
                  },
                },
                { target: 'fetching' },
              ],
            },
            /** Downloading the volume (initial XOR late) into the temp dir, then making it writable for the job. */
            fetching: {
              invoke: {
                src: 'downloadVolume',
                input: ({ context }) => ({ volume: context.initial?.volume ?? context.job?.volume ?? null, workspace: context.workspace! }),
                onDone: {
                  target: '#jobDriver.active.execution',
                  actions: { type: 'send', params: ({ context }) => ({ message: { message_type: 'V0VolumesReadyRequest', job_uuid: context.jobUuid! } }) },
                },
                onError: {
                  target: '#jobDriver.reportingFailure',
                  actions: { type: 'recordFailure', params: ({ event }) => ({ failure: failureFromError(event.error, 'volume_download') }) },
                },
              },
            },
          },
        },
        /** The job container runs (stage execution); the deadline now includes the execution limit. */
        execution: {
          entry: [{ type: 'moveDeadline', params: { stage: 'execution' } }, { type: 'beginStage', params: { stage: 'execution' } }],
          after: { deadline: '.overtime' },
          invoke: {
            src: 'runJob',
            input: ({ context }) => {
              const job = context.job!;
              const image = job.docker_image;
              return {
                jobUuid: context.jobUuid!,
                image,
                cmd: job.docker_run_cmd,
                env: job.env,
                workspace: context.workspace!,
                artifactsDir: job.artifacts_dir,
                gpu: context.settings.gpuEnabled && job.docker_run_options_preset === 'nvidia_all',
                deadlineMs: containerDeadlineMs({
                  timing: context.timing,
                  timeLeftMs: timeLeftMs(context.deadlineAtMs, context.clock.nowMs()),
                  reserveMs: context.settings.executionReportReserveMs,
                }),
                ensureImage: context.preparedImage === undefined || withDefaultTag(context.preparedImage) !== withDefaultTag(image),
              };
            },
            onDone: [
              {
                // Past the deadline a finished container is still a timeout, as upstream's wait_for decides.
                guard: stateIn('#executionOvertime'),
                target: '#jobDriver.reportingFailure',
                actions: {
                  type: 'recordFailure',
                  params: ({ event }) => ({
                    failure: stageTimeoutFailure('execution'),
                    execution: { exitCode: event.output.exitCode, stdout: event.output.stdout, stderr: event.output.stderr },
                  }),
                },
              },
              {
                guard: 'exitedCleanly',
                target: 'upload',
                actions: [
                  assign({ execution: ({ event }) => ({ exitCode: event.output.exitCode, stdout: event.output.stdout, stderr: event.output.stderr }) }),
                  { type: 'send', params: ({ context }) => ({ message: { message_type: 'V0ExecutionDoneRequest', job_uuid: context.jobUuid! } }) },
                ],
              },
              {
                target: '#jobDriver.reportingFailure',
                actions: {
                  type: 'recordFailure',
                  params: ({ event }) => ({
                    failure: {
                      kind: 'job_failed',
                      stage: 'execution',
                      reason: 'nonzero_return_code',
                      message: `Job container exited with non-zero exit code: ${event.output.exitCode}`,
                    },
                    execution: { exitCode: event.output.exitCode, stdout: event.output.stdout, stderr: event.output.stderr },
                  }),
                },
              },
            ],
            onError: [
              {
                guard: 'isContainerTimeout',
                target: '#jobDriver.reportingFailure',
                actions: {
                  type: 'recordFailure',
                  params: ({ event }) => ({ failure: failureFromError(event.error, 'execution'), execution: executionFromError(event.error)! }),
                },
              },
              {
                target: '#jobDriver.reportingFailure',
                actions: { type: 'recordFailure', params: ({ event }) => ({ failure: failureFromError(event.error, 'execution') }) },
              },
            ],
          },
          initial: 'running',
          states: {
            /** Waiting for the container to exit. */
            running: {},
            /** The deadline passed: the runner kills the container; wait briefly for its report with the output. */
            overtime: {
              id: 'executionOvertime',
              after: {
                killGrace: {
                  target: '#jobDriver.reportingFailure',
                  actions: { type: 'recordFailure', params: { failure: stageTimeoutFailure('execution') } },
                },
              },
            },
          },
        },
        /** stdout/stderr into /output, artifacts, uploads (stage result_upload); deadline + upload limit. */
        upload: {
          entry: [{ type: 'moveDeadline', params: { stage: 'result_upload' } }, { type: 'beginStage', params: { stage: 'result_upload' } }],
          after: {
            deadline: {
              target: '#jobDriver.reportingFailure',
              actions: { type: 'recordFailure', params: { failure: stageTimeoutFailure('result_upload') } },
            },
          },
          invoke: {
            src: 'finishOutputs',
            input: ({ context }) => ({
              workspace: context.workspace!,
              artifactsDir: context.job!.artifacts_dir,
              outputUpload: context.job!.output_upload,
            }),
            onDone: { target: '#jobDriver.reportingSuccess', actions: assign({ results: ({ event }) => event.output }) },
            onError: {
              target: '#jobDriver.reportingFailure',
              actions: { type: 'recordFailure', params: ({ event }) => ({ failure: failureFromError(event.error, 'result_upload') }) },
            },
          },
        },
      },
    },
    /** Sends the one success message: machine specs (when collected), then V0JobFinishedRequest. Entered at most once. */
    reportingSuccess: {
      entry: [
        { type: 'endStage', params: { outcome: 'ok' } },
        enqueueActions(({ context, enqueue }) => {
          const jobUuid = context.jobUuid!;
          if (context.specs !== undefined) {
            enqueue({ type: 'send', params: { message: { message_type: 'V0MachineSpecsRequest', job_uuid: jobUuid, specs: context.specs } } });
          }
          const execution = context.execution!;
          const results = context.results!;
          enqueue({
            type: 'send',
            params: {
              final: true,
              message: {
                message_type: 'V0JobFinishedRequest',
                job_uuid: jobUuid,
                docker_process_stdout: execution.stdout,
                docker_process_stderr: execution.stderr,
                artifacts: { ...results.artifacts },
                upload_results: { ...results.uploadResults },
              },
            },
          });
          enqueue.assign({ outcome: { outcome: 'completed', reason: 'completed', message: '', finalMessageSent: true } });
        }),
      ],
      always: 'cleaningUp',
    },
    /** Sends the one failure message (V0JobFailedRequest or V0HordeFailedRequest). Entered at most once. */
    reportingFailure: {
      entry: [
        { type: 'endStage', params: ({ context }) => ({ outcome: outcomeOfFailure(context.failure!) }) },
        enqueueActions(({ context, enqueue }) => {
          const failure = context.failure!;
          const canReport = context.jobUuid !== undefined;
          const { observer } = context;
          if (canReport) {
            enqueue({ type: 'send', params: { final: true, message: failureMessage(context.jobUuid!, failure, context.execution) } });
          } else {
            enqueue(() => observer.log('error', 'no job uuid is known: the failure cannot be reported to the miner', { reason: failure.reason }));
          }
          enqueue(() =>
            observer.log(failure.kind === 'job_failed' ? 'warn' : 'error', 'job failed', {
              kind: failure.kind,
              stage: failure.stage,
              reason: failure.reason,
              message: failure.message,
            }),
          );
          enqueue.assign({ outcome: { outcome: failure.kind, reason: failure.reason, message: failure.message, finalMessageSent: canReport } });
        }),
      ],
      always: 'cleaningUp',
    },
    /** Removing the job's container (if any survived) and temp dir; bounded in time. */
    cleaningUp: {
      entry: { type: 'beginStage', params: { stage: 'cleanup' } },
      invoke: {
        src: 'cleanup',
        input: ({ context }) => ({ jobUuid: context.jobUuid, workspace: context.workspace }),
        onDone: { target: 'done', actions: assign({ cleanup: ({ event }) => event.output }) },
        onError: {
          target: 'done',
          actions: assign({ cleanup: ({ event }) => ({ containersRemoved: 0, tempDir: 'failed' as const, problems: [toError(event.error).message] }) }),
        },
      },
      after: {
        cleanupTimeout: {
          target: 'done',
          actions: assign({
            cleanup: ({ context }) => ({
              containersRemoved: 0,
              tempDir: 'failed' as const,
              problems: [`cleanup did not finish within ${context.settings.cleanupTimeoutMs} ms`],
            }),
          }),
        },
      },
    },
    /** Final: the output says how the job ended and what cleanup did. */
    done: {
      type: 'final',
      entry: [
        { type: 'endStage', params: ({ context }) => ({ outcome: context.cleanup !== undefined && context.cleanup.problems.length === 0 ? 'ok' : 'failed' }) },
        ({ context }) => context.observer.finished(outputOf(context)),
      ],
    },
  },
});
