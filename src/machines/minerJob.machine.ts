/**
 * One accepted job on the miner: the bridge between the validator's connection(s) and the executor's (upstream's
 * Channels groups `validator_interface_{token}` / `executor_interface_{token}` and the `AcceptedJob` row).
 *
 * Lifecycle, upstream's `AcceptedJob.status` in brackets:
 * reserving → (declining → rejected [REJECTED]) | awaitingExecutor [WAITING_FOR_EXECUTOR] → waitingForPayload
 * [WAITING_FOR_PAYLOAD] → running [RUNNING] → reporting [FINISHED | FAILED] → done.
 *
 * - The job starts with its reservation already answered (the pool's desk is asked synchronously when the initial
 *   request arrives, see `executorPool.desk.ts`). Its first step hands the JobStarted receipt to the receipt store,
 *   then accepts or declines: the store is a FIFO, so any later excuse query sees the receipt (see
 *   `receiptStore.actor.ts`). The miner usually does both for a reserved job before starting its actor
 *   (`acceptSent`: answering a burst first is what keeps the accepts fast); the job then starts `active`. Verification and countersigning happen there, off the reservation path: like
 *   upstream, the accept does not wait for them. The executor starts afterwards.
 * - Every executor message is relayed with the token stripped; an executor that disconnects (or exits) while the job
 *   is active fails it with `V0HordeFailedRequest(executor_disconnected)` at once.
 * - Validator connections attach and detach: a validator that reconnects mid-job is attached again (every new
 *   connection of that validator is), gets `V0ExecutorReadyRequest` again while the job waits for its payload, and
 *   receives what was buffered while it was away (the final message is kept until delivered or
 *   `undeliveredResultTtlMs`).
 * - Stale jobs fail after upstream's windows: 10 min waiting for the payload, 1 day without a status change.
 */
import { assign, enqueueActions, setup, type AnyActorRef } from 'xstate';
import type { ExcuseQuery } from '../actors/miner/receiptStore';
import type { ReceiptStoreEvent, ReceiptStoreReply } from '../actors/miner/receiptStore.actor';
import type {
  ExecutorToMinerMessage,
  MinerToExecutorMessageInput,
  MinerToValidatorMessageInput,
  Receipt,
  V0InitialJobRequest,
  V0JobRequest,
} from '../protocol';
import type { ConnectionHandle } from '../transport/acceptor/connection.types';
import type { Clock } from '../util/clock';
import type { ExecutorNotice } from './executorInstance.machine';
import type { ReserveOutcome } from './executorPool.desk';
import type { ExecutorPoolEvent } from './executorPool.machine';
import { initialRequestForExecutor, minerHordeFailed, relayDecision, type JobOutcome, type RelayContext } from './minerJobRelay';

/** Durations and bounds of one job (defaults in `src/actors/miner/defaults.ts`). */
export interface MinerJobTimings {
  /** Reservation → executor connected; past it the job fails with `executor_spinup_failed`. */
  readonly executorConnectTimeoutMs: number;
  readonly waitingForPayloadStaleMs: number;
  readonly activeStaleMs: number;
  readonly undeliveredResultTtlMs: number;
  readonly detachedOutboxCapacity: number;
  readonly maxExcuseReceipts: number;
}

/** One validator connection the job talks through. */
export interface ValidatorLink {
  readonly sessionId: string;
  readonly connection: ConnectionHandle<MinerToValidatorMessageInput>;
}

/** Where the job reports what it does (metrics, logs). */
export interface MinerJobObserver {
  /** The reservation was answered (`latencyMs` from the initial request reaching the miner to the accept or decline). */
  reservation(outcome: JobReservation, latencyMs: number): void;
  ended(outcome: JobOutcome): void;
  dropped(queue: 'detached_outbox'): void;
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Readonly<Record<string, unknown>>): void;
}

export const silentJobObserver: MinerJobObserver = {
  reservation: () => undefined,
  ended: () => undefined,
  dropped: () => undefined,
  log: () => undefined,
};

/** The answer of the pool's desk to the job's reservation (`unknown_class`: the manifest has no such class). */
export type JobReservation = ReserveOutcome | 'unknown_class';

export interface MinerJobInput {
  readonly jobUuid: string;
  /** `{job_uuid}-{uuid4}`, single-use. */
  readonly token: string;
  readonly validatorHotkey: string;
  readonly initialRequest: V0InitialJobRequest;
  /** The connection the initial request came on (attached from the start). */
  readonly session: ValidatorLink;
  /** Wall-clock time the initial request reached the miner (reservation latency). */
  readonly receivedAtMs: number;
  readonly timings: MinerJobTimings;
  /** The class's pool (told when the job is over); undefined when the manifest has no such class. */
  readonly pool: AnyActorRef | undefined;
  /** The slot the desk gave this job, or why not (then the job declines busy). */
  readonly reservation: JobReservation;
  /**
   * The miner has already queued the JobStarted receipt and sent `V0AcceptJobRequest` (its fast path: a reserved job
   * is answered before its actor starts). The job then starts `active` without doing either again.
   */
  readonly acceptSent?: boolean;
  readonly receiptStore: AnyActorRef;
  readonly signStreamingReady: RelayContext['signStreamingReady'];
  readonly clock: Clock;
  readonly observer?: MinerJobObserver;
}

/** Events a job accepts. */
export type MinerJobEvent =
  /** The validator's full job (`V0JobRequest`), from the connection `from`. */
  | { readonly type: 'job.validator.message'; readonly message: V0JobRequest; readonly from: ValidatorLink }
  /** A connection of the job's validator authenticated: talk through it too. */
  | { readonly type: 'job.validator.attached'; readonly link: ValidatorLink }
  /** That connection closed. */
  | { readonly type: 'job.validator.detached'; readonly sessionId: string }
  /** The executor dialled in with the job's token. `realIp` is the proxy's `X-Real-IP`, if any. */
  | {
      readonly type: 'job.executor.connected';
      readonly connection: ConnectionHandle<MinerToExecutorMessageInput>;
      readonly peerAddress: string | undefined;
      readonly realIp: string | undefined;
    }
  | { readonly type: 'job.executor.message'; readonly message: ExecutorToMinerMessage }
  | { readonly type: 'job.executor.disconnected'; readonly code: number; readonly reason: string }
  | ExecutorNotice
  | ReceiptStoreReply
  /** The jobs supervisor is stopping (the miner shuts down). */
  | { readonly type: 'supervisor.shutdown' };

interface ExecutorLink {
  readonly connection: ConnectionHandle<MinerToExecutorMessageInput>;
  readonly peerAddress: string | undefined;
  readonly realIp: string | undefined;
}

interface MinerJobContext extends Omit<MinerJobInput, 'session' | 'observer'> {
  readonly observer: MinerJobObserver;
  sessions: readonly ValidatorLink[];
  executor: ExecutorLink | undefined;
  /** The backend's address for the executor (streaming). */
  executorPublicAddress: string | undefined;
  /** A slot is held for this job (given back through `pool.job_over`). */
  readonly reserved: boolean;
  /** A `V0JobRequest` that came before the executor connected. */
  pendingJobRequest: V0JobRequest | undefined;
  jobRequestForwarded: boolean;
  /** Non-final messages waiting for a validator connection. */
  outbox: readonly MinerToValidatorMessageInput[];
  finalMessage: MinerToValidatorMessageInput | undefined;
  finalDelivered: boolean;
  outcome: JobOutcome | undefined;
}

function executorIp(context: MinerJobContext): string | undefined {
  return context.executorPublicAddress ?? context.executor?.realIp ?? context.executor?.peerAddress;
}

const send = (message: MinerToValidatorMessageInput) => ({ type: 'connection.send' as const, message });

/**
 * The job machine (see the module comment). The miner spawns one per initial request under a jobs supervisor
 * (`temporary`), after asking the class's desk for a slot.
 *
 * @example
 * ```ts
 * jobs.send({ type: 'supervisor.start_child', spec: { id: `job:${uuid}`, logic: minerJobMachine, restart: 'temporary',
 *   shutdownMs: 5_000, input: { jobUuid: uuid, token, validatorHotkey, initialRequest, session, receivedAtMs,
 *   timings, pool, reservation: desk.reserve(token, uuid), receiptStore, signStreamingReady, clock } } });
 * ```
 */
export const minerJobMachine = setup({
  types: {
    context: {} as MinerJobContext,
    input: {} as MinerJobInput,
    events: {} as MinerJobEvent,
  },
  delays: {
    executorConnectTimeout: ({ context }) => context.timings.executorConnectTimeoutMs,
    waitingForPayloadStale: ({ context }) => context.timings.waitingForPayloadStaleMs,
    activeStale: ({ context }) => context.timings.activeStaleMs,
    undeliveredResultTtl: ({ context }) => context.timings.undeliveredResultTtlMs,
  },
  guards: {
    slotReserved: ({ context }) => context.reserved,
    acceptSent: ({ context }) => context.reserved && context.acceptSent === true,
    finalDelivered: ({ context }) => context.finalDelivered,
    jobRequestForwarded: ({ context }) => context.jobRequestForwarded,
    executorConnected: ({ context }) => context.executor !== undefined,
    volumeSentTwice: ({ context, event }) =>
      event.type === 'job.validator.message' &&
      context.initialRequest.volume !== null &&
      context.initialRequest.volume !== undefined &&
      event.message.volume !== null &&
      event.message.volume !== undefined,
    isReady: ({ context, event }) =>
      event.type === 'job.executor.message' && relayDecision(event.message, relayContextOf(context)).kind === 'ready',
    isFinal: ({ context, event }) =>
      event.type === 'job.executor.message' && relayDecision(event.message, relayContextOf(context)).kind === 'final',
  },
  actions: {
    submitStartedReceipt: enqueueActions(({ context, enqueue }) => {
      if (context.reserved && context.acceptSent === true) return;
      enqueue.sendTo(context.receiptStore, {
        type: 'receipts.submit',
        payload: context.initialRequest.job_started_receipt_payload,
        validatorSignature: context.initialRequest.job_started_receipt_signature,
        expectedValidatorHotkey: context.validatorHotkey,
      } satisfies ReceiptStoreEvent);
    }),
    sendAccept: enqueueActions(({ context, enqueue }) => {
      for (const s of context.sessions) {
        enqueue.sendTo(s.connection, send({ message_type: 'V0AcceptJobRequest', job_uuid: context.jobUuid }));
      }
      const latency = context.clock.nowMs() - context.receivedAtMs;
      const { observer } = context;
      enqueue(() => observer.reservation('reserved', latency));
    }),
    recordRefusal: ({ context }) => {
      context.observer.reservation(context.reservation, context.clock.nowMs() - context.receivedAtMs);
    },
    findExcuses: enqueueActions(({ context, enqueue, self }) => {
      const stamped = Date.parse(context.initialRequest.job_started_receipt_payload.timestamp);
      const query: ExcuseQuery = {
        executorClass: context.initialRequest.executor_class,
        atMs: Number.isFinite(stamped) ? stamped : context.clock.nowMs(),
        excludeJobUuid: context.jobUuid,
        limit: context.timings.maxExcuseReceipts,
      };
      enqueue.sendTo(context.receiptStore, { type: 'receipts.find_excuses', query, replyTo: self } satisfies ReceiptStoreEvent);
    }),
    sendDecline: enqueueActions(({ context, event, enqueue }) => {
      const receipts: readonly Receipt[] = event.type === 'receipts.excuses' ? event.receipts : [];
      const message: MinerToValidatorMessageInput = {
        message_type: 'V0DeclineJobRequest',
        job_uuid: context.jobUuid,
        message: '',
        reason: 'busy',
        receipts: [...receipts],
        context: null,
      };
      for (const s of context.sessions) enqueue.sendTo(s.connection, send(message));
      const { observer } = context;
      enqueue(() => {
        observer.log('info', 'job declined: all executors busy', { jobUuid: context.jobUuid, excuses: receipts.length });
        observer.ended('rejected');
      });
    }),
    connectExecutor: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'job.executor.connected') return;
      const executor: ExecutorLink = { connection: event.connection, peerAddress: event.peerAddress, realIp: event.realIp };
      enqueue.assign({ executor });
      const ip = context.executorPublicAddress ?? executor.realIp ?? executor.peerAddress;
      enqueue.sendTo(event.connection, {
        type: 'connection.send',
        message: initialRequestForExecutor(context.initialRequest, ip),
      });
      if (context.pendingJobRequest !== undefined) {
        enqueue.sendTo(event.connection, { type: 'connection.send', message: context.pendingJobRequest });
        enqueue.assign({ pendingJobRequest: undefined, jobRequestForwarded: true });
      }
    }),
    forwardOrHoldJobRequest: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'job.validator.message') return;
      if (context.executor === undefined) {
        enqueue.assign({ pendingJobRequest: event.message });
        return;
      }
      enqueue.sendTo(context.executor.connection, { type: 'connection.send', message: event.message });
      enqueue.assign({ jobRequestForwarded: true });
    }),
    replyVolumeTwice: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'job.validator.message') return;
      enqueue.sendTo(
        event.from.connection,
        send({ message_type: 'GenericError', details: `Received job volume twice job_uuid: ${context.jobUuid}` }),
      );
    }),
    replyDuplicateJobRequest: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'job.validator.message') return;
      enqueue.sendTo(
        event.from.connection,
        send({ message_type: 'GenericError', details: `Received JobRequest twice for job_uuid: ${context.jobUuid}` }),
      );
    }),
    relayExecutorMessage: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'job.executor.message') return;
      const decision = relayDecision(event.message, relayContextOf(context));
      if (decision.kind === 'ignore') {
        const { observer } = context;
        enqueue(() => observer.log('warn', 'executor message dropped', { jobUuid: context.jobUuid, why: decision.why }));
        return;
      }
      if (decision.kind === 'final') {
        enqueue.assign({ outcome: decision.outcome, finalMessage: decision.message });
        return;
      }
      if (context.sessions.length > 0) {
        for (const s of context.sessions) enqueue.sendTo(s.connection, send(decision.message));
        return;
      }
      // Nobody to tell right now: keep it for the validator's return (bounded; the oldest goes first).
      if (decision.kind === 'ready') return;
      const outbox = [...context.outbox, decision.message];
      if (outbox.length > context.timings.detachedOutboxCapacity) {
        outbox.shift();
        const { observer } = context;
        enqueue(() => observer.dropped('detached_outbox'));
      }
      enqueue.assign({ outbox });
    }),
    resendReadyTo: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'job.validator.attached') return;
      enqueue.sendTo(
        event.link.connection,
        send({ message_type: 'V0ExecutorReadyRequest', job_uuid: context.jobUuid, executor_token: null }),
      );
    }),
    attach: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'job.validator.attached') return;
      const link = event.link;
      const sessions = [...context.sessions.filter((s) => s.sessionId !== link.sessionId), link];
      enqueue.assign({ sessions, outbox: [] });
      for (const message of context.outbox) enqueue.sendTo(link.connection, send(message));
      if (context.finalMessage !== undefined && !context.finalDelivered) {
        enqueue.sendTo(link.connection, send(context.finalMessage));
        enqueue.assign({ finalDelivered: true });
      }
    }),
    detach: assign({
      sessions: ({ context, event }) =>
        event.type === 'job.validator.detached' ? context.sessions.filter((s) => s.sessionId !== event.sessionId) : context.sessions,
    }),
    failWith: assign((_, params: { outcome: JobOutcome; message: MinerToValidatorMessageInput | undefined }) => ({
      outcome: params.outcome,
      finalMessage: params.message,
    })),
    deliverFinal: enqueueActions(({ context, enqueue }) => {
      if (context.finalMessage === undefined) {
        enqueue.assign({ finalDelivered: true });
        return;
      }
      if (context.sessions.length === 0) return;
      for (const s of context.sessions) enqueue.sendTo(s.connection, send(context.finalMessage));
      enqueue.assign({ finalDelivered: true });
    }),
    releaseExecutor: enqueueActions(({ context, enqueue }) => {
      if (!context.reserved || context.pool === undefined) return;
      enqueue.sendTo(context.pool, { type: 'pool.job_over', token: context.token } satisfies ExecutorPoolEvent);
    }),
    recordOutcome: ({ context }) => {
      const outcome = context.outcome ?? 'horde_failed';
      context.observer.ended(outcome);
      context.observer.log(outcome === 'finished' ? 'info' : 'warn', 'job ended', { jobUuid: context.jobUuid, outcome });
    },
    rememberPublicAddress: assign({
      executorPublicAddress: ({ context, event }) =>
        event.type === 'job.executor.started' ? event.publicAddress : context.executorPublicAddress,
    }),
  },
}).createMachine({
  id: 'minerJob',
  context: ({ input }) => ({
    jobUuid: input.jobUuid,
    token: input.token,
    validatorHotkey: input.validatorHotkey,
    initialRequest: input.initialRequest,
    receivedAtMs: input.receivedAtMs,
    timings: input.timings,
    pool: input.pool,
    reservation: input.reservation,
    acceptSent: input.acceptSent === true,
    receiptStore: input.receiptStore,
    signStreamingReady: input.signStreamingReady,
    clock: input.clock,
    observer: input.observer ?? silentJobObserver,
    sessions: [input.session],
    executor: undefined,
    executorPublicAddress: undefined,
    reserved: input.reservation === 'reserved',
    pendingJobRequest: undefined,
    jobRequestForwarded: false,
    outbox: [],
    finalMessage: undefined,
    finalDelivered: false,
    outcome: undefined,
  }),
  on: {
    'job.validator.attached': { actions: 'attach' },
    'job.validator.detached': { actions: 'detach' },
  },
  initial: 'reserving',
  states: {
    // Transient: the receipt is queued for storing, then the reservation's answer decides accept or decline (both
    // already done when the miner accepted before starting the job).
    reserving: {
      entry: 'submitStartedReceipt',
      always: [
        { guard: 'acceptSent', target: 'active' },
        { guard: 'slotReserved', target: 'active', actions: 'sendAccept' },
        { target: 'declining', actions: 'recordRefusal' },
      ],
    },
    // No slot: waiting for the excuse receipts (other jobs' valid JobStarted receipts of the class).
    declining: {
      entry: 'findExcuses',
      on: {
        'receipts.excuses': { target: 'rejected', actions: 'sendDecline' },
        'supervisor.shutdown': 'done',
      },
    },
    // Declined busy (REJECTED). Final.
    rejected: { type: 'final' },
    // Accepted; an executor holds a slot for this job.
    active: {
      on: {
        'job.executor.started': { actions: 'rememberPublicAddress' },
        'job.executor.spinup_failed': {
          target: 'reporting',
          actions: {
            type: 'failWith',
            params: ({ context, event }) => ({
              outcome: 'horde_failed' as const,
              message: minerHordeFailed(context.jobUuid, 'executor_spinup_failed', `Executor failed to start: ${event.message}`),
            }),
          },
        },
        'job.executor.disconnected': {
          target: 'reporting',
          actions: {
            type: 'failWith',
            params: ({ context, event }) => ({
              outcome: 'horde_failed' as const,
              message: minerHordeFailed(
                context.jobUuid,
                'executor_disconnected',
                `Executor disconnected while job was running (code: ${event.code})`,
              ),
            }),
          },
        },
        'job.executor.exited': [
          {
            guard: 'executorConnected',
            target: 'reporting',
            actions: {
              type: 'failWith',
              params: ({ context, event }) => ({
                outcome: 'horde_failed' as const,
                message: minerHordeFailed(
                  context.jobUuid,
                  'executor_disconnected',
                  `Executor exited while job was running (exit code: ${event.exit?.code ?? 'unknown'}, signal: ${event.exit?.signal ?? 'none'})`,
                ),
              }),
            },
          },
          {
            target: 'reporting',
            actions: {
              type: 'failWith',
              params: ({ context, event }) => ({
                outcome: 'horde_failed' as const,
                message: minerHordeFailed(
                  context.jobUuid,
                  'executor_spinup_failed',
                  `Executor exited before connecting (exit code: ${event.exit?.code ?? 'unknown'}, signal: ${event.exit?.signal ?? 'none'})`,
                ),
              }),
            },
          },
        ],
        'job.executor.message': [
          { guard: 'isFinal', target: 'reporting', actions: 'relayExecutorMessage' },
          { actions: 'relayExecutorMessage' },
        ],
        'supervisor.shutdown': {
          target: 'reporting',
          actions: {
            type: 'failWith',
            params: ({ context }) => ({
              outcome: 'horde_failed' as const,
              message: minerHordeFailed(context.jobUuid, 'generic_error', 'Miner is shutting down'),
            }),
          },
        },
      },
      initial: 'awaitingExecutor',
      states: {
        // WAITING_FOR_EXECUTOR: the executor is starting, then connects, gets the initial request, runs its startup.
        awaitingExecutor: {
          after: {
            executorConnectTimeout: {
              guard: ({ context }) => context.executor === undefined,
              target: '#minerJob.reporting',
              actions: {
                type: 'failWith',
                params: ({ context }) => ({
                  outcome: 'horde_failed' as const,
                  message: minerHordeFailed(
                    context.jobUuid,
                    'executor_spinup_failed',
                    `Executor did not connect within ${context.timings.executorConnectTimeoutMs} ms`,
                  ),
                }),
              },
            },
          },
          on: {
            'job.executor.connected': { guard: ({ context }) => context.executor === undefined, actions: 'connectExecutor' },
            'job.executor.message': [
              { guard: 'isFinal', target: '#minerJob.reporting', actions: 'relayExecutorMessage' },
              {
                guard: ({ context, event }) => guardReady(context, event) && context.jobRequestForwarded,
                target: 'running',
                actions: 'relayExecutorMessage',
              },
              { guard: 'isReady', target: 'waitingForPayload', actions: 'relayExecutorMessage' },
              { actions: 'relayExecutorMessage' },
            ],
            'job.validator.message': [
              { guard: 'volumeSentTwice', actions: 'replyVolumeTwice' },
              { guard: 'jobRequestForwarded', actions: 'replyDuplicateJobRequest' },
              { actions: 'forwardOrHoldJobRequest' },
            ],
          },
        },
        // WAITING_FOR_PAYLOAD: the executor is ready; the validator's V0JobRequest is awaited.
        waitingForPayload: {
          after: {
            waitingForPayloadStale: {
              target: '#minerJob.reporting',
              actions: { type: 'failWith', params: { outcome: 'stale' as const, message: undefined } },
            },
          },
          on: {
            'job.validator.attached': { actions: ['attach', 'resendReadyTo'] },
            'job.validator.message': [
              { guard: 'volumeSentTwice', actions: 'replyVolumeTwice' },
              { target: 'running', actions: 'forwardOrHoldJobRequest' },
            ],
          },
        },
        // RUNNING: the job runs on the executor; its progress is relayed.
        running: {
          after: {
            activeStale: {
              target: '#minerJob.reporting',
              actions: { type: 'failWith', params: { outcome: 'stale' as const, message: undefined } },
            },
          },
          on: {
            'job.validator.message': { actions: 'replyDuplicateJobRequest' },
          },
        },
      },
    },
    // FINISHED/FAILED: the final message goes to the validator (now, or when it reconnects); the executor is released.
    reporting: {
      entry: ['releaseExecutor', 'recordOutcome', 'deliverFinal'],
      always: { guard: 'finalDelivered', target: 'done' },
      after: { undeliveredResultTtl: 'done' },
      on: { 'supervisor.shutdown': 'done' },
    },
    // Nothing left to do. Final.
    done: { type: 'final' },
  },
});

function relayContextOf(context: MinerJobContext): RelayContext {
  return { jobUuid: context.jobUuid, executorIp: executorIp(context), signStreamingReady: context.signStreamingReady };
}

function guardReady(context: MinerJobContext, event: MinerJobEvent): boolean {
  return event.type === 'job.executor.message' && relayDecision(event.message, relayContextOf(context)).kind === 'ready';
}
