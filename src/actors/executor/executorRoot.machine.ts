/**
 * The executor's root actor: one miner link (the transport actor) and one job driver, wound down together
 * (one_for_all, both `temporary`: the executor is one-shot, a restarted driver would have lost the job). It is the
 * only path between them, so it can promise what no child can alone:
 * - exactly one final message: a second one from the driver is refused (and counted), and when the driver dies
 *   without having sent one, the root sends a `V0HordeFailedRequest(unhandled_exception)` itself;
 * - cleanup even when the driver dies or hangs: the `sweep` effect removes the token's containers and the temp dir;
 * - the final message gets a chance to leave: the link is closed gracefully (outbox flushed), after waiting a short
 *   grace for a dropped link to come back.
 * The machine is pure: the link, the driver and the sweep are injected (`executorRoot.ts` provides the real ones).
 */
import { assign, enqueueActions, fromPromise, sendTo, setup } from 'xstate';
import { jobDriverMachine, type CleanupReport, type JobDriverEmitted, type JobDriverInput, type JobDriverOutput } from '../../machines/jobDriver.machine';
import { FINAL_MESSAGE_TYPES, exitCodeFor, type JobOutcome } from '../../machines/jobReport';
import type { ExecutorToMinerMessageInput, JobStage, MinerToExecutorMessage } from '../../protocol';
import { transportMachine, type TransportEmitted, type TransportInput, type TransportOutput } from '../../transport/transport.machine';
import { toError } from '../../util/errors';

/** How `horde executor` ended: the process exit code and what it is made of. */
export interface ExecutorExit {
  /** 0 completed, 1 job failed, 2 horde failed (see docs/executor.md). */
  readonly code: number;
  readonly outcome: JobOutcome;
  readonly reason: string;
  readonly stage: JobStage;
  readonly message: string;
  /** The final message handed to the link, and whether it was flushed before the link closed. */
  readonly finalMessage: { readonly type: string | undefined; readonly delivery: 'flushed' | 'undelivered' | 'none' };
  readonly cleanup: CleanupReport | undefined;
}

/** Where the root reports what only it sees (metrics, logs). */
export interface ExecutorRootObserver {
  finalForwarded(messageType: string): void;
  finalRefused(messageType: string): void;
  finalUndelivered(messageType: string): void;
  genericErrorSuppressed(): void;
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Readonly<Record<string, unknown>>): void;
}

export const silentRootObserver: ExecutorRootObserver = {
  finalForwarded: () => undefined,
  finalRefused: () => undefined,
  finalUndelivered: () => undefined,
  genericErrorSuppressed: () => undefined,
  log: () => undefined,
};

export interface ExecutorRootSettings {
  /** After the job ended, wait this long for a dropped link to reopen before closing it. */
  readonly finalDeliveryGraceMs: number;
  /** A stop request gives the driver this long to report and clean up before it is stopped by force. */
  readonly shutdownTimeoutMs: number;
  /** Upper bound of the graceful link close (the transport's own close timeout plus a margin). */
  readonly linkCloseTimeoutMs: number;
  /** GenericError replies allowed per process. */
  readonly maxGenericErrorReplies: number;
}

export interface ExecutorRootInput {
  readonly settings: ExecutorRootSettings;
  readonly link: TransportInput<MinerToExecutorMessage, ExecutorToMinerMessageInput>;
  readonly driver: JobDriverInput;
  readonly observer?: ExecutorRootObserver;
}

/** Public events of the root. */
export type ExecutorRootEvent =
  /** SIGTERM/SIGINT: report, clean up, exit. */
  | { type: 'executor.stop'; reason: string };

type InternalEvent =
  | ExecutorRootEvent
  | TransportEmitted<MinerToExecutorMessage>
  | JobDriverEmitted;

interface ExecutorRootContext {
  readonly settings: ExecutorRootSettings;
  readonly linkInput: TransportInput<MinerToExecutorMessage, ExecutorToMinerMessageInput>;
  readonly driverInput: JobDriverInput;
  readonly observer: ExecutorRootObserver;
  jobUuid: string | undefined;
  lastStage: JobStage;
  linkOpen: boolean;
  linkAlive: boolean;
  linkOutput: TransportOutput | undefined;
  finalType: string | undefined;
  /** The final message was handed to an open socket (not queued for a reconnect). */
  finalOnOpenLink: boolean;
  genericRepliesLeft: number;
  stopReason: string | undefined;
  driverOutput: JobDriverOutput | undefined;
  crash: { readonly message: string; readonly reason: 'unhandled_exception' | 'generic_error' } | undefined;
  sweep: CleanupReport | undefined;
}

function outcomeOf(context: ExecutorRootContext): { outcome: JobOutcome; reason: string; stage: JobStage; message: string } {
  const driver = context.driverOutput;
  if (driver !== undefined) return { outcome: driver.outcome, reason: driver.reason, stage: driver.stage, message: driver.message };
  return {
    outcome: 'horde_failed',
    reason: context.crash?.reason ?? 'unhandled_exception',
    stage: context.lastStage,
    message: context.crash?.message ?? 'the job driver stopped without reporting',
  };
}

function exitOf(context: ExecutorRootContext): ExecutorExit {
  const { outcome, reason, stage, message } = outcomeOf(context);
  const link = context.linkOutput;
  const flushed = link !== undefined && link.reason === 'closed' && link.stats.dropped === 0;
  return {
    code: exitCodeFor(outcome),
    outcome,
    reason,
    stage,
    message,
    finalMessage: { type: context.finalType, delivery: context.finalType === undefined ? 'none' : flushed ? 'flushed' : 'undelivered' },
    cleanup: context.driverOutput?.cleanup ?? context.sweep,
  };
}

/**
 * The executor root.
 *
 * @example
 * ```ts
 * const root = createActor(executorRootMachine.provide({ actors: { minerLink, jobDriver, sweep } }), { input });
 * root.start();
 * process.once('SIGTERM', () => root.send({ type: 'executor.stop', reason: 'SIGTERM' }));
 * const exit = await toPromise(root); // ExecutorExit
 * ```
 */
export const executorRootMachine = setup({
  types: {
    context: {} as ExecutorRootContext,
    events: {} as InternalEvent,
    input: {} as ExecutorRootInput,
    output: {} as ExecutorExit,
  },
  actors: {
    // Defaults are the pure machines (the transport without a socket fails every attempt loudly; the driver without
    // effects fails its first stage): the wiring provides the real ones.
    minerLink: transportMachine,
    jobDriver: jobDriverMachine,
    sweep: fromPromise<CleanupReport, void>(() => Promise.reject(new Error('executorRootMachine: "sweep" was not provided'))),
  },
  delays: {
    finalDeliveryGrace: ({ context }) => context.settings.finalDeliveryGraceMs,
    shutdownTimeout: ({ context }) => context.settings.shutdownTimeoutMs,
    linkCloseTimeout: ({ context }) => context.settings.linkCloseTimeoutMs,
  },
  guards: {
    linkGone: ({ context }) => !context.linkAlive,
    linkOpen: ({ context }) => context.linkOpen,
    /** Nothing waits in the outbox for a reconnect: no final message, or it left on an open socket. */
    nothingToDeliver: ({ context }) => context.finalType === undefined || context.finalOnOpenLink,
  },
  actions: {
    /** Hands a driver message to the link, enforcing one final message and the GenericError cap. */
    forwardToMiner: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'job.send') return;
      // Observer calls are enqueued: this callback runs while the transition is being computed.
      const { observer } = context;
      const type = event.message.message_type;
      const final = event.final || FINAL_MESSAGE_TYPES.has(type);
      if (final && context.finalType !== undefined) {
        const first = context.finalType;
        enqueue(() => {
          observer.finalRefused(type);
          observer.log('error', 'refused a second final message', { first, second: type });
        });
        return;
      }
      if (type === 'GenericError') {
        if (context.genericRepliesLeft <= 0) {
          enqueue(() => observer.genericErrorSuppressed());
          return;
        }
        enqueue.assign({ genericRepliesLeft: context.genericRepliesLeft - 1 });
      }
      if (!context.linkAlive) {
        enqueue(() => {
          if (final) observer.finalUndelivered(type);
          observer.log('warn', 'the miner link is gone: message not sent', { messageType: type });
        });
      } else {
        enqueue.sendTo('minerLink', { type: 'transport.send', message: event.message });
      }
      if (final) {
        enqueue(() => observer.finalForwarded(type));
        enqueue.assign({ finalType: type, finalOnOpenLink: context.linkAlive && context.linkOpen });
      }
    }),
    /** The driver died (or was stopped by force) before sending a final message: report a horde failure for it. */
    reportCrash: enqueueActions(({ context, enqueue }) => {
      if (context.finalType !== undefined || context.jobUuid === undefined) return;
      const message: ExecutorToMinerMessageInput = {
        message_type: 'V0HordeFailedRequest',
        job_uuid: context.jobUuid,
        reported_by: 'executor',
        message: context.crash?.reason === 'generic_error' ? context.crash.message : 'Unhandled exception',
        reason: context.crash?.reason ?? 'unhandled_exception',
        context: { stage: context.lastStage, detail: context.crash?.message ?? '' },
      };
      const { observer } = context;
      if (context.linkAlive) enqueue.sendTo('minerLink', { type: 'transport.send', message });
      else enqueue(() => observer.finalUndelivered(message.message_type));
      enqueue(() => observer.finalForwarded(message.message_type));
      enqueue.assign({ finalType: message.message_type, finalOnOpenLink: context.linkAlive && context.linkOpen });
    }),
    replyMalformed: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'transport.decode_error') return;
      const { observer } = context;
      const { code, message } = event.error;
      enqueue(() => observer.log('warn', 'malformed message from the miner', { code, error: message }));
      if (context.genericRepliesLeft <= 0) {
        enqueue(() => observer.genericErrorSuppressed());
        return;
      }
      enqueue.assign({ genericRepliesLeft: context.genericRepliesLeft - 1 });
      enqueue.sendTo('minerLink', {
        type: 'transport.send',
        message: { message_type: 'GenericError', details: `Malformed message from miner: ${event.error.message}` },
      });
    }),
    /** The link reached its final state (closed by us, gave up, or overflowed). */
    linkEnded: assign(({ event }) => ({
      linkAlive: false,
      linkOpen: false,
      linkOutput: (event as { output?: TransportOutput }).output,
    })),
    noteJobUuid: assign(({ context, event }) => {
      if (context.jobUuid !== undefined || event.type !== 'transport.message') return {};
      const message = event.message;
      return message.message_type === 'V0InitialJobRequest' ? { jobUuid: message.job_uuid } : {};
    }),
  },
}).createMachine({
  id: 'executorRoot',
  context: ({ input }) => ({
    settings: input.settings,
    linkInput: input.link,
    driverInput: input.driver,
    observer: input.observer ?? silentRootObserver,
    jobUuid: input.driver.jobUuidHint,
    lastStage: 'executor_startup',
    linkOpen: false,
    linkAlive: true,
    linkOutput: undefined,
    finalType: undefined,
    finalOnOpenLink: false,
    genericRepliesLeft: input.settings.maxGenericErrorReplies,
    stopReason: undefined,
    driverOutput: undefined,
    crash: undefined,
    sweep: undefined,
  }),
  // The miner link lives as long as the root: it must outlive the driver to flush the final message.
  invoke: {
    id: 'minerLink',
    src: 'minerLink',
    input: ({ context }) => context.linkInput,
    onDone: [
      { guard: ({ context }) => context.driverOutput !== undefined || context.crash !== undefined, target: '.done', actions: 'linkEnded' },
      { actions: 'linkEnded' },
    ],
    onError: [
      { guard: ({ context }) => context.driverOutput !== undefined || context.crash !== undefined, target: '.done', actions: 'linkEnded' },
      { actions: 'linkEnded' },
    ],
  },
  on: {
    'transport.open': { actions: assign({ linkOpen: true }) },
    'transport.closed': { actions: assign({ linkOpen: false }) },
    'transport.decode_error': { actions: 'replyMalformed' },
    'transport.encode_error': {
      actions: ({ context, event }) => context.observer.log('error', 'a message to the miner could not be encoded', { error: event.error.message }),
    },
    'transport.reconnecting': {
      actions: ({ context, event }) =>
        context.observer.log('info', 'reconnecting to the miner', { attempt: event.attempt, delayMs: event.delayMs, cause: event.cause }),
    },
    'transport.gave_up': {
      actions: ({ context, event }) => context.observer.log('error', 'gave up reconnecting to the miner', { error: event.error.message }),
    },
    'transport.message': {
      actions: ({ context, event }) =>
        context.observer.log('warn', 'message from the miner after the job ended', { messageType: event.message.message_type }),
    },
    'job.send': { actions: 'forwardToMiner' },
    'job.stage': { actions: assign({ lastStage: ({ event }) => event.stage }) },
    'executor.stop': {
      actions: ({ context, event }) => context.observer.log('info', 'stop requested while winding down', { reason: event.reason }),
    },
  },
  initial: 'running',
  states: {
    /** The job driver runs; miner messages and link changes are forwarded to it. */
    running: {
      invoke: {
        id: 'jobDriver',
        src: 'jobDriver',
        input: ({ context }) => context.driverInput,
        onDone: { target: 'draining', actions: assign({ driverOutput: ({ event }) => event.output }) },
        onError: {
          target: 'recovering',
          actions: [
            assign({ crash: ({ event }) => ({ message: toError(event.error).message, reason: 'unhandled_exception' as const }) }),
            ({ context, event }) => context.observer.log('error', 'the job driver crashed', { error: toError(event.error).message }),
          ],
        },
      },
      on: {
        'transport.message': {
          actions: ['noteJobUuid', sendTo('jobDriver', ({ event }) => ({ type: 'job.miner.message' as const, message: event.message }))],
        },
        'transport.closed': {
          actions: [
            assign({ linkOpen: false }),
            sendTo('jobDriver', ({ event }) => ({ type: 'job.miner.link_lost' as const, code: event.code, reason: event.reason })),
          ],
        },
        'transport.stopped': {
          actions: sendTo('jobDriver', ({ event }) => ({ type: 'job.miner.link_gone' as const, reason: `miner link stopped (${event.reason})` })),
        },
        'executor.stop': {
          target: '.stopping',
          actions: [
            assign({ stopReason: ({ event }) => event.reason }),
            sendTo('jobDriver', ({ event }) => ({ type: 'job.stop' as const, reason: event.reason })),
          ],
        },
      },
      initial: 'normal',
      states: {
        /** No stop requested. */
        normal: {},
        /** A stop was requested; the driver reports and cleans up, or is stopped by force after the timeout. */
        stopping: {
          on: { 'executor.stop': {} },
          after: {
            shutdownTimeout: {
              target: '#executorRoot.recovering',
              actions: assign({
                crash: ({ context }) => ({
                  message: `Executor stopped (${context.stopReason ?? 'stop'}): the job driver did not finish within ${context.settings.shutdownTimeoutMs} ms`,
                  reason: 'generic_error' as const,
                }),
              }),
            },
          },
        },
      },
    },
    /** The driver is gone without finishing: report for it (if it had not), and sweep its resources. */
    recovering: {
      entry: 'reportCrash',
      invoke: {
        src: 'sweep',
        onDone: { target: 'draining', actions: assign({ sweep: ({ event }) => event.output }) },
        onError: {
          target: 'draining',
          actions: assign({ sweep: ({ event }) => ({ containersRemoved: 0, tempDir: 'failed' as const, problems: [toError(event.error).message] }) }),
        },
      },
    },
    /** The job ended: let the final message leave, then close the link. */
    draining: {
      initial: 'deciding',
      states: {
        /** Transient: close now if the link is open or nothing waits for it, else give it a grace to come back. */
        deciding: {
          always: [
            { guard: 'linkGone', target: '#executorRoot.done' },
            { guard: 'linkOpen', target: 'closing' },
            // e.g. the miner closed the socket after reading our final message: no reason to wait for it
            { guard: 'nothingToDeliver', target: 'closing' },
            { target: 'awaitingLink' },
          ],
        },
        /** The link is down (reconnecting): the final message waits in the transport's outbox. */
        awaitingLink: {
          on: { 'transport.open': { target: 'closing', actions: assign({ linkOpen: true }) } },
          after: { finalDeliveryGrace: 'closing' },
        },
        /** Graceful close: the transport flushes its outbox, then the close handshake. */
        closing: {
          entry: sendTo('minerLink', { type: 'transport.close' as const, code: 1000, reason: 'job finished' }),
          after: { linkCloseTimeout: '#executorRoot.done' },
        },
      },
    },
    /** Final: the output is the process's exit. */
    done: {
      type: 'final',
      entry: ({ context }) => {
        const exit = exitOf(context);
        if (exit.finalMessage.delivery === 'undelivered' && exit.finalMessage.type !== undefined) {
          context.observer.finalUndelivered(exit.finalMessage.type);
        }
      },
    },
  },
  output: ({ context }) => exitOf(context),
});
