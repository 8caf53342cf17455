/**
 * One organic job on the validator (upstream's `SyncOrganicJobDriver`), as a state machine: dial the miner chosen by
 * the router, reserve an executor, watch each stage under its time budget, report every status to the `StatusSink`,
 * and always end with the JobFinished receipt and a closed socket.
 *
 * Lifecycle: connecting → authenticating → reserving → spinningUp → running(downloading → [streamingStartup] →
 * executing → uploading) → finishing → done.
 *
 * Guarantees, by construction:
 * - Exactly one terminal status: only `finishing` reports one, it is entered only from `active` (which nothing
 *   re-enters), and it leads only to `done`. Whatever ends the job (miner message, timeout, socket loss, shutdown)
 *   goes there once.
 * - One extending deadline for the stages after readiness (`deadlines.ts`): set at readiness to leeway + download,
 *   then extended by each stage's limit, so unused time carries over.
 * - The first answer per stage wins: stage messages are kept in `inbox` (first only), and a stage that finds its
 *   answer already there moves on at once (a miner may run ahead of us, as upstream's futures allow).
 * - Every effect is injected: the miner link is the `link` actor (`.provide({ actors })`), messages are built and
 *   signed by `input.messages`, statuses go to `input.sink`, excuses are judged by `input.judgeDecline`.
 */
import { assign, enqueueActions, fromCallback, sendTo, setup, type AnyEventObject } from 'xstate';
import {
  hordeFailure,
  minerHordeFailure,
  outcomeOf,
  progressUpdate,
  terminalUpdate,
  type JobEnding,
} from '../actors/validator/organicStatus';
import type { JobRoute, OrganicJobOutcome, StatusSink } from '../actors/validator/types';
import type { OrganicJobMessages } from '../actors/validator/organicMessages';
import {
  jobLimitsMs,
  organicDeadlineAfter,
  readinessTimeoutMs,
  timeLeftMs,
  type DeadlineStage,
  type JobLimitsMs,
  type OrganicJobTimings,
} from '../actors/validator/deadlines';
import { legacyToHordeFailed, type MinerToValidatorMessage, type V0DeclineJobRequest, type V2JobRequest, type ValidatorToMinerMessageInput } from '../protocol';
import type { HordeFailureReason, JobStatus } from '../protocol';
import type { Clock } from '../util/clock';
import { toError } from '../util/errors';

// ---------------------------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------------------------

/** Events the organic job machine accepts. The `organic.miner.*` ones come from its `link` child. */
export type OrganicJobEvent =
  /** The miner socket opened. */
  | { type: 'organic.miner.connected' }
  /** A decoded message from the miner. */
  | { type: 'organic.miner.message'; message: MinerToValidatorMessage }
  /** The miner socket is gone (refused, dropped, timed out, or closed by us); the link sends nothing after it. */
  | { type: 'organic.miner.disconnected'; reason: string }
  /** Graceful stop: report `horde_failed` (validator shutting down), send the receipt, close, finish. */
  | { type: 'supervisor.shutdown' };

/** What the machine tells its `link` child. */
export type OrganicLinkCommand =
  | { type: 'organic.link.send'; message: ValidatorToMinerMessageInput }
  /** Flush what was sent, close the socket, then report `organic.miner.disconnected`. */
  | { type: 'organic.link.close' };

/** Input of the `link` actor. */
export interface OrganicLinkInput {
  /** `ws://{address}:{port}/v0.1/validator_interface/{validator ss58}` */
  readonly url: string;
  readonly connectTimeoutMs: number;
}

/** The stages the observer hears about (and metrics time). */
export type OrganicStage = 'connecting' | 'reserving' | 'spinning_up' | 'downloading' | 'streaming_startup' | 'executing' | 'uploading' | 'finishing';

/** What a busy decline's excuses are worth (see `excuses.ts`). */
export interface ExcuseVerdict {
  readonly excused: boolean;
  readonly validExcuses: number;
  readonly requiredExcuses: number;
}

/** Where the machine reports what it does (metrics, logs); injected so the machine stays pure. */
export interface OrganicJobObserver {
  stage(stage: OrganicStage): void;
  /** A miner message that changed nothing: another job's, a repeated stage answer, or one after the end. */
  ignored(why: 'other_job' | 'duplicate' | 'late' | 'unhandled', messageType: string): void;
  /** `sink.report` threw (the outbox could not write): the job goes on, the status is lost. */
  reportFailed(status: JobStatus, error: Error): void;
  ended(outcome: OrganicJobOutcome, ending: JobEnding): void;
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Readonly<Record<string, unknown>>): void;
}

export const silentOrganicJobObserver: OrganicJobObserver = {
  stage: () => undefined,
  ignored: () => undefined,
  reportFailed: () => undefined,
  ended: () => undefined,
  log: () => undefined,
};

/** What one job actor is started with (the dispatcher's `OrganicJobInput`). */
export interface OrganicJobMachineInput {
  readonly request: V2JobRequest;
  readonly route: JobRoute;
}

/** Everything the machine needs besides its input; fixed for every job of one validator. */
export interface OrganicJobEnvironment {
  readonly timings: OrganicJobTimings;
  /** Must read the clock the actor's timers run on (`SimulatedClock` in tests); also stamps receipts. */
  readonly clock: Clock;
  readonly sink: StatusSink;
  /** Builds (and signs) the messages of one job. */
  messagesFor(request: V2JobRequest, route: JobRoute): OrganicJobMessages;
  /** Where the `link` actor dials for this route. */
  minerUrlFor(route: JobRoute): string;
  /** Judges a busy decline's excuse receipts at `checkTimeMs` (when our JobStarted receipt was issued). */
  judgeDecline(input: { readonly decline: V0DeclineJobRequest; readonly request: V2JobRequest; readonly route: JobRoute; readonly checkTimeMs: number }): ExcuseVerdict;
  observerFor?(request: V2JobRequest, route: JobRoute): OrganicJobObserver;
}

/** Stage answers, first one kept. */
type StageMessageType =
  | 'V0AcceptJobRequest'
  | 'V0ExecutorReadyRequest'
  | 'V0VolumesReadyRequest'
  | 'V0StreamingJobReadyRequest'
  | 'V0ExecutionDoneRequest'
  | 'V0JobFinishedRequest';
type Inbox = Partial<{ [K in StageMessageType]: Extract<MinerToValidatorMessage, { message_type: K }> }>;

const STAGE_MESSAGE_TYPES: ReadonlySet<string> = new Set<StageMessageType>([
  'V0AcceptJobRequest',
  'V0ExecutorReadyRequest',
  'V0VolumesReadyRequest',
  'V0StreamingJobReadyRequest',
  'V0ExecutionDoneRequest',
  'V0JobFinishedRequest',
]);

/** GenericError texts with which a miner refuses us before closing (upstream's `closing_phrases`). */
const REFUSAL_PHRASES: readonly string[] = ['Unknown validator', 'Inactive validator', 'not authenticated'];

export interface OrganicJobContext {
  readonly request: V2JobRequest;
  readonly route: JobRoute;
  readonly minerUrl: string;
  readonly timings: OrganicJobTimings;
  readonly limits: JobLimitsMs;
  readonly clock: Clock;
  readonly sink: StatusSink;
  readonly messages: OrganicJobMessages;
  readonly judgeDecline: (decline: V0DeclineJobRequest, checkTimeMs: number) => ExcuseVerdict;
  readonly observer: OrganicJobObserver;
  readonly startedAtMs: number;
  /** When the JobStarted receipt was issued (excuses are checked at this time). */
  checkTimeMs: number | undefined;
  connected: boolean;
  deadlineAtMs: number;
  /** Where the job is (for failure messages). */
  stage: OrganicStage;
  inbox: Inbox;
  ending: JobEnding | undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Pure helpers
// ---------------------------------------------------------------------------------------------------------------

function messageOf(event: AnyEventObject): MinerToValidatorMessage | undefined {
  return event.type === 'organic.miner.message' ? (event as unknown as { message: MinerToValidatorMessage }).message : undefined;
}

function jobUuidOf(message: MinerToValidatorMessage): string | undefined {
  return 'job_uuid' in message ? message.job_uuid : undefined;
}

/** Cheap test: does this message end the job (decline, failures, refusals)? `endingFromMessage` then says how. */
export function isEndingMessage(message: MinerToValidatorMessage): boolean {
  switch (message.message_type) {
    case 'V0DeclineJobRequest':
    case 'V0JobFailedRequest':
    case 'V0HordeFailedRequest':
    case 'V0ExecutorFailedRequest':
    case 'V0StreamingJobNotReadyRequest':
    case 'UnauthorizedError':
      return true;
    case 'GenericError':
      return REFUSAL_PHRASES.some((phrase) => (message.details ?? '').includes(phrase));
    default:
      return false;
  }
}

/** The ending a miner message forces, if it is one that ends the job (decline, failures, refusals). */
export function endingFromMessage(context: Pick<OrganicJobContext, 'judgeDecline' | 'checkTimeMs' | 'clock'>, message: MinerToValidatorMessage): JobEnding | undefined {
  switch (message.message_type) {
    case 'V0DeclineJobRequest': {
      const verdict: ExcuseVerdict =
        message.reason === 'busy'
          ? context.judgeDecline(message, context.checkTimeMs ?? context.clock.nowMs())
          : { excused: false, validExcuses: 0, requiredExcuses: 0 };
      return { kind: 'rejected', decline: message, excused: verdict.excused, validExcuses: verdict.validExcuses, requiredExcuses: verdict.requiredExcuses };
    }
    case 'V0JobFailedRequest':
      return { kind: 'failed', failure: message };
    case 'V0HordeFailedRequest':
      return minerHordeFailure(message);
    case 'V0ExecutorFailedRequest':
    case 'V0StreamingJobNotReadyRequest':
      return minerHordeFailure(legacyToHordeFailed(message));
    case 'UnauthorizedError':
      return hordeFailure('miner_connection_failed', `Miner returned unauthorized error: ${message.code} ${message.details ?? ''}`.trim(), {
        incident: 'job_rejected',
        reportedBy: 'miner',
      });
    case 'GenericError': {
      const details = message.details ?? '';
      if (!REFUSAL_PHRASES.some((phrase) => details.includes(phrase))) return undefined;
      return hordeFailure('miner_connection_failed', `Miner closed connection: ${details}`, { incident: 'job_rejected', reportedBy: 'miner' });
    }
    default:
      return undefined;
  }
}

/** The timeout ending of a stage, with upstream's reason name. */
function timeoutEnding(reason: HordeFailureReason, waitedFor: string, stage: OrganicStage, budgetMs: number): JobEnding {
  return hordeFailure(reason, `Timed out waiting for ${waitedFor} from the miner (${stage}, ${budgetMs} ms)`, {
    incident: 'timed_out',
    context: { stage, waited_for: waitedFor },
  });
}

/** Placeholder link: fails loudly until `.provide({ actors: { link } })` replaces it. */
const unprovidedLink = fromCallback<OrganicLinkCommand, OrganicLinkInput>(({ sendBack }) => {
  queueMicrotask(() => sendBack({ type: 'organic.miner.disconnected', reason: 'organicJobMachine: the link actor was not provided' } satisfies OrganicJobEvent));
});

// ---------------------------------------------------------------------------------------------------------------
// The machine
// ---------------------------------------------------------------------------------------------------------------

/**
 * The organic job machine for one environment. Provide the `link` actor (`organicJobLogic` in
 * `src/actors/validator/organicJob.ts` provides the real one), start it with `{ request, route }`; it reports
 * statuses to `env.sink` and outputs an `OrganicJobOutcome`.
 *
 * @example
 * ```ts
 * const machine = createOrganicJobMachine({ timings, clock: { nowMs: () => sim.now() }, sink, messagesFor, minerUrlFor, judgeDecline });
 * const job = createActor(machine.provide({ actors: { link: fakeLink } }), { clock: sim, input: { request, route } });
 * job.subscribe({ complete: () => console.log(job.getSnapshot().output) });
 * job.start();
 * ```
 */
export function createOrganicJobMachine(env: OrganicJobEnvironment) {
  return setup({
    types: {
      context: {} as OrganicJobContext,
      events: {} as OrganicJobEvent,
      input: {} as OrganicJobMachineInput,
      output: {} as OrganicJobOutcome,
    },
    actors: { link: unprovidedLink },
    delays: {
      connectTimeout: ({ context }) => context.timings.connectTimeoutMs,
      reservation: ({ context }) => context.timings.reservationTimeLimitMs,
      readiness: ({ context }) => readinessTimeoutMs(context.request.executor_class, context.timings),
      deadline: ({ context }) => timeLeftMs(context.deadlineAtMs, context.clock.nowMs()),
      closeTimeout: ({ context }) => context.timings.closeTimeoutMs,
    },
    guards: {
      has: ({ context }, params: { type: StageMessageType }) => context.inbox[params.type] !== undefined,
      isStreaming: ({ context }) => context.request.streaming_details !== null,
      disconnected: ({ context }) => !context.connected,
      isOtherJob: ({ context, event }) => {
        const message = messageOf(event);
        const uuid = message === undefined ? undefined : jobUuidOf(message);
        return uuid !== undefined && uuid !== context.request.uuid;
      },
      endsJob: ({ event }) => {
        const message = messageOf(event);
        return message !== undefined && isEndingMessage(message);
      },
      isFirstStageAnswer: ({ context, event }) => {
        const message = messageOf(event);
        return message !== undefined && STAGE_MESSAGE_TYPES.has(message.message_type) && context.inbox[message.message_type as StageMessageType] === undefined;
      },
      isRepeatedStageAnswer: ({ event }) => {
        const message = messageOf(event);
        return message !== undefined && STAGE_MESSAGE_TYPES.has(message.message_type);
      },
    },
    actions: {
      send: sendTo('link', (_, params: { message: ValidatorToMinerMessageInput }) => ({ type: 'organic.link.send', message: params.message }) satisfies OrganicLinkCommand),
      closeLink: sendTo('link', { type: 'organic.link.close' } satisfies OrganicLinkCommand),
      /** Reports one status; a failing sink is logged and counted, never thrown (the job must still end cleanly). */
      report: ({ context }, params: { status: JobStatus; streaming?: boolean }) => {
        const ready = context.inbox.V0StreamingJobReadyRequest;
        const update =
          params.streaming === true && ready !== undefined
            ? progressUpdate(context.request.uuid, params.status, {
                streaming_server_cert: ready.public_key,
                streaming_server_address: ready.ip,
                streaming_server_port: ready.port,
              })
            : progressUpdate(context.request.uuid, params.status);
        try {
          context.sink.report(update);
        } catch (error) {
          context.observer.reportFailed(params.status, toError(error));
          context.observer.log('error', 'could not report a job status', { jobUuid: context.request.uuid, status: params.status, error: toError(error).message });
        }
      },
      enterStage: enqueueActions(({ context, enqueue }, params: { stage: OrganicStage }) => {
        const { observer } = context;
        enqueue(() => observer.stage(params.stage));
        enqueue.assign({ stage: params.stage });
      }),
      moveDeadline: assign(({ context }, params: { stage: DeadlineStage }) => ({
        deadlineAtMs: organicDeadlineAfter(params.stage, {
          nowMs: context.clock.nowMs(),
          currentDeadlineMs: context.deadlineAtMs,
          limits: context.limits,
          leewayMs: context.timings.allowedLeewayMs,
        }),
      })),
      remember: assign(({ context, event }) => {
        const message = messageOf(event)!;
        return { inbox: { ...context.inbox, [message.message_type]: message } };
      }),
      endWith: assign((_, params: { ending: JobEnding }) => ({ ending: params.ending })),
      endFromMessage: assign(({ context, event }) => ({ ending: endingFromMessage(context, messageOf(event)!) })),
      ignore: ({ context, event }, params: { why: 'other_job' | 'duplicate' | 'late' | 'unhandled' }) => {
        const message = messageOf(event);
        if (message === undefined) return;
        context.observer.ignored(params.why, message.message_type);
        const level = params.why === 'other_job' ? 'warn' : 'debug';
        context.observer.log(level, 'ignoring a miner message', {
          jobUuid: context.request.uuid,
          why: params.why,
          messageType: message.message_type,
          ...(message.message_type === 'GenericError' ? { details: message.details } : {}),
        });
      },
      /** The end: JobFinished receipt (if the socket is still up), the terminal status, then close the socket. */
      finish: enqueueActions(({ context, enqueue }) => {
        const ending = context.ending ?? hordeFailure('unhandled_exception', 'the job ended without a recorded cause', { incident: undefined });
        const nowMs = context.clock.nowMs();
        if (context.connected) {
          const receipt = context.messages.finishedReceipt({ startedAtMs: context.startedAtMs, nowMs, success: ending.kind === 'completed' });
          enqueue.sendTo('link', { type: 'organic.link.send', message: receipt } satisfies OrganicLinkCommand);
        }
        const update = terminalUpdate(context.request.uuid, ending);
        const outcome = outcomeOf(context.request.uuid, context.route.miner.hotkey, ending);
        const { sink, observer } = context;
        enqueue(() => {
          try {
            sink.report(update);
          } catch (error) {
            observer.reportFailed(update.status, toError(error));
            observer.log('error', 'could not report the terminal job status', { jobUuid: update.uuid, status: update.status, error: toError(error).message });
          }
          observer.ended(outcome, ending);
        });
        if (context.connected) enqueue.sendTo('link', { type: 'organic.link.close' } satisfies OrganicLinkCommand);
        enqueue.assign({ ending });
      }),
      markConnected: assign({ connected: true }),
      markDisconnected: assign({ connected: false }),
    },
  }).createMachine({
    id: 'organicJob',
    context: ({ input: { request, route } }) => ({
      request,
      route,
      minerUrl: env.minerUrlFor(route),
      timings: env.timings,
      limits: jobLimitsMs(request),
      clock: env.clock,
      sink: env.sink,
      messages: env.messagesFor(request, route),
      judgeDecline: (decline, checkTimeMs) => env.judgeDecline({ decline, request, route, checkTimeMs }),
      observer: env.observerFor?.(request, route) ?? silentOrganicJobObserver,
      startedAtMs: env.clock.nowMs(),
      checkTimeMs: undefined,
      connected: false,
      deadlineAtMs: 0,
      stage: 'connecting',
      inbox: {},
      ending: undefined,
    }),
    // The link lives as long as the job: it is stopped (socket terminated) when the machine reaches `done` or is stopped.
    invoke: {
      id: 'link',
      src: 'link',
      input: ({ context }) => ({ url: context.minerUrl, connectTimeoutMs: context.timings.connectTimeoutMs }),
    },
    output: ({ context }) =>
      outcomeOf(context.request.uuid, context.route.miner.hotkey, context.ending ?? hordeFailure('unhandled_exception', 'stopped', { incident: undefined })),
    initial: 'active',
    states: {
      /** The job is in progress; every child is a stage. Leaving it always means `finishing`. */
      active: {
        on: {
          'organic.miner.message': [
            { guard: 'isOtherJob', actions: { type: 'ignore', params: { why: 'other_job' } } },
            { guard: 'endsJob', target: 'finishing', actions: 'endFromMessage' },
            { guard: 'isFirstStageAnswer', actions: 'remember' },
            { guard: 'isRepeatedStageAnswer', actions: { type: 'ignore', params: { why: 'duplicate' } } },
            { actions: { type: 'ignore', params: { why: 'unhandled' } } },
          ],
          'organic.miner.disconnected': {
            target: 'finishing',
            actions: [
              'markDisconnected',
              {
                type: 'endWith',
                params: ({ context, event }) => ({
                  ending: hordeFailure(
                    'miner_connection_failed',
                    context.stage === 'connecting'
                      ? `Could not connect to the miner at ${context.minerUrl}: ${event.reason}`
                      : `Lost the connection to the miner while ${context.stage.replace('_', ' ')}: ${event.reason}`,
                    { incident: 'connection_failed', context: { stage: context.stage } },
                  ),
                }),
              },
            ],
          },
          'supervisor.shutdown': {
            target: 'finishing',
            actions: {
              type: 'endWith',
              params: ({ context }) => ({
                ending: hordeFailure('unhandled_exception', 'validator shutting down', { incident: undefined, context: { stage: context.stage } }),
              }),
            },
          },
        },
        initial: 'connecting',
        states: {
          /** Dialling the miner (one attempt, no reconnect). */
          connecting: {
            entry: { type: 'enterStage', params: { stage: 'connecting' } },
            after: {
              connectTimeout: {
                target: '#organicJob.finishing',
                actions: {
                  type: 'endWith',
                  params: ({ context }) => ({
                    ending: hordeFailure(
                      'miner_connection_failed',
                      `Could not connect to the miner at ${context.minerUrl} within ${context.timings.connectTimeoutMs} ms`,
                      { incident: 'connection_failed', context: { stage: 'connecting' } },
                    ),
                  }),
                },
              },
            },
            on: { 'organic.miner.connected': { target: 'authenticating', actions: 'markConnected' } },
          },
          /** Transient: ValidatorAuthForMiner goes first; the miner queues what follows until it has checked it. */
          authenticating: {
            entry: { type: 'send', params: ({ context }) => ({ message: context.messages.auth(context.clock.nowMs()) }) },
            always: 'reserving',
          },
          /** V0InitialJobRequest (with the JobStarted receipt) sent; waiting for accept or decline. */
          reserving: {
            entry: [
              { type: 'enterStage', params: { stage: 'reserving' } },
              assign({ checkTimeMs: ({ context }) => context.clock.nowMs() }),
              { type: 'send', params: ({ context }) => ({ message: context.messages.initialRequest(context.checkTimeMs!) }) },
            ],
            always: {
              guard: { type: 'has', params: { type: 'V0AcceptJobRequest' } },
              target: 'spinningUp',
              actions: [
                { type: 'report', params: { status: 'accepted' } },
                { type: 'send', params: ({ context }) => ({ message: context.messages.acceptedReceipt(context.clock.nowMs()) }) },
              ],
            },
            after: {
              reservation: {
                target: '#organicJob.finishing',
                actions: {
                  type: 'endWith',
                  params: ({ context }) => ({
                    ending: timeoutEnding('initial_response_timed_out', 'V0AcceptJobRequest', 'reserving', context.timings.reservationTimeLimitMs),
                  }),
                },
              },
            },
          },
          /** Accepted (JobAccepted receipt sent); waiting for the executor to be ready, within spin-up + startup. */
          spinningUp: {
            entry: { type: 'enterStage', params: { stage: 'spinning_up' } },
            always: {
              guard: { type: 'has', params: { type: 'V0ExecutorReadyRequest' } },
              target: 'running',
              actions: [
                { type: 'report', params: { status: 'executor_ready' } },
                { type: 'send', params: ({ context }) => ({ message: context.messages.jobRequest() }) },
              ],
            },
            after: {
              readiness: {
                target: '#organicJob.finishing',
                actions: {
                  type: 'endWith',
                  params: ({ context }) => ({
                    ending: timeoutEnding(
                      'executor_readiness_response_timed_out',
                      'V0ExecutorReadyRequest',
                      'spinning_up',
                      readinessTimeoutMs(context.request.executor_class, context.timings),
                    ),
                  }),
                },
              },
            },
          },
          /** V0JobRequest sent; the stages run under one deadline, extended on entering each. */
          running: {
            initial: 'downloading',
            states: {
              /** Deadline = ready + leeway + download; waiting for V0VolumesReadyRequest. */
              downloading: {
                entry: [{ type: 'enterStage', params: { stage: 'downloading' } }, { type: 'moveDeadline', params: { stage: 'volumes' } }],
                always: [
                  {
                    guard: { type: 'has', params: { type: 'V0VolumesReadyRequest' } },
                    target: 'routing',
                    actions: { type: 'report', params: { status: 'volumes_ready' } },
                  },
                ],
                after: {
                  deadline: {
                    target: '#organicJob.finishing',
                    actions: {
                      type: 'endWith',
                      params: ({ context }) => ({
                        ending: timeoutEnding('volumes_timed_out', 'V0VolumesReadyRequest', 'downloading', context.limits.downloadMs + context.timings.allowedLeewayMs),
                      }),
                    },
                  },
                },
              },
              /** Transient: a streaming job has one more stage. */
              routing: {
                always: [{ guard: 'isStreaming', target: 'streamingStartup' }, { target: 'executing' }],
              },
              /** Deadline += streaming start; waiting for V0StreamingJobReadyRequest. */
              streamingStartup: {
                entry: [{ type: 'enterStage', params: { stage: 'streaming_startup' } }, { type: 'moveDeadline', params: { stage: 'streaming' } }],
                always: {
                  guard: { type: 'has', params: { type: 'V0StreamingJobReadyRequest' } },
                  target: 'executing',
                  actions: { type: 'report', params: { status: 'streaming_ready', streaming: true } },
                },
                after: {
                  deadline: {
                    target: '#organicJob.finishing',
                    actions: {
                      type: 'endWith',
                      params: ({ context }) => ({
                        ending: timeoutEnding('streaming_job_ready_timed_out', 'V0StreamingJobReadyRequest', 'streaming_startup', context.limits.streamingStartMs),
                      }),
                    },
                  },
                },
              },
              /** Deadline += execution; waiting for V0ExecutionDoneRequest. */
              executing: {
                entry: [{ type: 'enterStage', params: { stage: 'executing' } }, { type: 'moveDeadline', params: { stage: 'execution' } }],
                always: {
                  guard: { type: 'has', params: { type: 'V0ExecutionDoneRequest' } },
                  target: 'uploading',
                  actions: { type: 'report', params: { status: 'execution_done' } },
                },
                after: {
                  deadline: {
                    target: '#organicJob.finishing',
                    actions: {
                      type: 'endWith',
                      params: ({ context }) => ({
                        ending: timeoutEnding('execution_timed_out', 'V0ExecutionDoneRequest', 'executing', context.limits.executionMs),
                      }),
                    },
                  },
                },
              },
              /** Deadline += upload; waiting for V0JobFinishedRequest (the result). */
              uploading: {
                entry: [{ type: 'enterStage', params: { stage: 'uploading' } }, { type: 'moveDeadline', params: { stage: 'upload' } }],
                always: {
                  guard: { type: 'has', params: { type: 'V0JobFinishedRequest' } },
                  target: '#organicJob.finishing',
                  actions: {
                    type: 'endWith',
                    params: ({ context }) => ({ ending: { kind: 'completed', result: context.inbox.V0JobFinishedRequest! } }),
                  },
                },
                after: {
                  deadline: {
                    target: '#organicJob.finishing',
                    actions: {
                      type: 'endWith',
                      params: ({ context }) => ({
                        ending: timeoutEnding('final_response_timed_out', 'V0JobFinishedRequest', 'uploading', context.limits.uploadMs),
                      }),
                    },
                  },
                },
              },
            },
          },
        },
      },
      /** The end, entered once: receipt, terminal status, close; then wait (bounded) for the socket to go. */
      finishing: {
        entry: [{ type: 'enterStage', params: { stage: 'finishing' } }, 'finish'],
        always: { guard: 'disconnected', target: 'done' },
        after: { closeTimeout: 'done' },
        on: {
          'organic.miner.disconnected': { target: 'done', actions: 'markDisconnected' },
          'organic.miner.message': { actions: { type: 'ignore', params: { why: 'late' } } },
          'supervisor.shutdown': 'done',
        },
      },
      /** Final: the link child is stopped with the machine (its socket terminated if still open). */
      done: { type: 'final' },
    },
  });
}

/** The machine type (one per environment). */
export type OrganicJobMachine = ReturnType<typeof createOrganicJobMachine>;
