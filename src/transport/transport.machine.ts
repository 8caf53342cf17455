import { randomUUID } from 'node:crypto';
import { assign, enqueueActions, fromCallback, setup, type AnyActorRef, type AnyEventObject } from 'xstate';
import type { DecodeError, FrameCodec } from '../protocol/codec.types';
import { systemRandom, type Random } from '../util/clock';
import { toError } from '../util/errors';
import {
  ConnectTimeoutError,
  EncodeError,
  HeartbeatTimeoutError,
  OutboxOverflowError,
  SocketClosedError,
  TransportGaveUpError,
} from './errors';
import {
  canTransmit,
  countDropped,
  drainOutbox,
  ReliableSession,
  sendOrQueue,
  transmit,
  type HotPath,
  type TransportStats,
} from './link';
import { defaultTransportMetrics, type TransportMetrics } from './metrics';
import { reconnectPolicy, resolveTransportOptions, type TransportOptions } from './options';
import { Outbox } from './outbox';
import { decideReconnect, type ReconnectDecision } from './reconnect';
import { encodeDataFrame, LAST_RECEIVED_HEADER, parseReliableFrame, RELIABLE_HEADER, SESSION_HEADER } from './reliable';
import { ABNORMAL_CLOSURE, type SocketEvent, type SocketInput } from './socket';

// ---------------------------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------------------------

/** Why a transport reached its final state. */
export type TransportStopReason =
  /** `transport.close` / `supervisor.shutdown`. */
  | 'closed'
  /** The reconnect budget (attempts or deadline) ran out. */
  | 'gave_up'
  /** The outbox was full under the `fail` overflow policy. */
  | 'outbox_overflow';

/** A frame that did not become a message: the codec's error, or a broken reliable-mode envelope. */
export type TransportDecodeError =
  | DecodeError
  | { readonly code: 'frame.reliable_invalid' | 'frame.reliable_gap'; readonly message: string };

/** What an owner sends to a transport actor. */
export type TransportCommand<Out = unknown> =
  /** Send one message: at once when open, else through the bounded outbox. */
  | { type: 'transport.send'; message: Out }
  /** Leave `idle` (when created with `autoConnect: false`), or skip the rest of a backoff wait. */
  | { type: 'transport.connect' }
  /**
   * Graceful stop. While open: flush the outbox as the socket allows, in reliable mode wait until the peer acked
   * everything, then the close handshake; all within `closeTimeoutMs`, after which the socket is terminated and what
   * is left is counted as dropped. While not open: stop at once, counting the outbox as dropped (connecting just to
   * flush would surprise an owner that is shutting down).
   */
  | { type: 'transport.close'; code?: number; reason?: string }
  /** The supervisor's graceful-shutdown request (contract in contracts.md); same as `transport.close`. */
  | { type: 'supervisor.shutdown' };

/** What a transport tells its owner: sent to the parent actor (if any) and emitted for `actor.on(...)`. */
export type TransportEmitted<In = unknown> =
  /** A socket opened; `reliable` says whether the peer accepted reliable mode on it. */
  | { type: 'transport.open'; reliable: boolean }
  /** A decoded incoming message (in reliable mode: each exactly once, in order). */
  | { type: 'transport.message'; message: In }
  /** An incoming frame that could not be decoded; the connection stays up (except after a reliable gap). */
  | { type: 'transport.decode_error'; error: TransportDecodeError }
  /** An outgoing message the codec could not encode; it was not sent. */
  | { type: 'transport.encode_error'; error: EncodeError }
  /** A socket that had opened closed (peer close, network loss, heartbeat miss, our own close). */
  | { type: 'transport.closed'; code: number; reason: string }
  /** The next attempt (1-based, since the last stable connection) starts in `delayMs`; `cause` is the failure's code. */
  | { type: 'transport.reconnecting'; attempt: number; delayMs: number; cause: string }
  /** The reconnect budget ran out; the transport stops (`transport.stopped` follows). */
  | { type: 'transport.gave_up'; error: TransportGaveUpError }
  /** The transport reached its final state. */
  | { type: 'transport.stopped'; reason: TransportStopReason };

/** Input of a transport actor. */
export interface TransportInput<In = unknown, Out = unknown> {
  /** `ws://` or `wss://` URL of the peer. */
  readonly url: string;
  /** Turns the link's text frames into typed messages and back. */
  readonly codec: FrameCodec<In, Out>;
  /** Extra upgrade request headers (W3C trace context, auth …). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Overrides of `defaults.ts`; validated when the actor starts (InvalidTransportOptionsError). */
  readonly options?: Partial<TransportOptions>;
  /** Source of reconnect jitter (seeded in tests). */
  readonly random?: Random;
  /** Instruments to report to (default: the process-wide ones on `hordeMeter()`). */
  readonly metrics?: TransportMetrics;
  /** Reliable-mode session id (default: a random UUID). */
  readonly sessionId?: string;
  /** Connect as soon as the actor starts (default true); otherwise wait in `idle` for `transport.connect`. */
  readonly autoConnect?: boolean;
}

/** Output of a transport that reached its final state. */
export interface TransportOutput {
  readonly reason: TransportStopReason;
  /** The failure behind `gave_up` / `outbox_overflow`. */
  readonly error?: Error;
  readonly stats: Readonly<TransportStats>;
}

// ---------------------------------------------------------------------------------------------------------------
// Context
// ---------------------------------------------------------------------------------------------------------------

/** The machine's context: the hot-path objects (mutated in place, see link.ts) plus rarely changing fields. */
export interface TransportContext extends HotPath {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly codec: FrameCodec<unknown, unknown>;
  readonly random: Random;
  readonly autoConnect: boolean;
  /** Consecutive failed attempts since the last connection that lived `minUptimeMs`. */
  failures: number;
  lastFailure: Error | undefined;
  decision: ReconnectDecision | undefined;
  deadlineArmed: boolean;
  deadlinePassed: boolean;
  closeRequest: { code: number; reason: string };
  stop: { reason: TransportStopReason; error?: Error } | undefined;
}

/** Private: the `giveUpAfterMs` deadline expired. */
type DeadlineEvent = { type: 'transport.deadline' };

type TransportEvent = TransportCommand | SocketEvent | DeadlineEvent;

const DEADLINE_ID = 'transport.deadline';
const NORMAL_CLOSURE = 1000;
const PROTOCOL_ERROR = 1002;

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

function socketInput(context: TransportContext): SocketInput {
  const { session, options } = context;
  const headers =
    session === undefined
      ? context.headers
      : {
          ...context.headers,
          [RELIABLE_HEADER]: '1',
          [SESSION_HEADER]: session.id,
          [LAST_RECEIVED_HEADER]: String(session.receiver.lastDelivered),
        };
  return {
    url: context.url,
    headers,
    maxPayloadBytes: options.maxPayloadBytes,
    highWaterMarkBytes: options.sendHighWaterMarkBytes,
    metrics: context.metrics,
  };
}

function hasParent(self: AnyActorRef): boolean {
  return self._parent !== undefined;
}

/** Placeholder until a real socket is provided: every attempt fails at once, loudly. */
const unprovidedSocket = fromCallback<AnyEventObject, SocketInput>(({ sendBack }) => {
  queueMicrotask(() =>
    sendBack({
      type: 'socket.closed',
      code: ABNORMAL_CLOSURE,
      reason: 'no socket actor provided',
      error: new Error('transportMachine needs .provide({ actors: { socket } }); see createTransport()'),
    } satisfies SocketEvent),
  );
});

// ---------------------------------------------------------------------------------------------------------------
// The machine
// ---------------------------------------------------------------------------------------------------------------

/**
 * The client side of one WebSocket link: connects, keeps the connection alive, reconnects with full-jitter
 * backoff, buffers while disconnected, and optionally runs reliable mode (exactly-once, ordered delivery across
 * reconnects with a Horde peer). Generic over the link's `FrameCodec`; the socket itself is the injected `socket`
 * actor (`wsSocket` in production, a fake in tests).
 *
 * Production code uses `createTransport()` (transport.ts: real sockets plus the fast send path); tests provide a
 * fake socket. A parent machine can invoke it and handle `transport.*` events; anything else subscribes with `on`.
 *
 * @example
 * ```ts
 * const transport = createActor(withFastSend(transportMachine.provide({ actors: { socket: wsSocket } })), {
 *   input: { url: 'ws://127.0.0.1:8000/v0.1/executor_interface/token', codec: executorCodec },
 * });
 * transport.on('transport.message', ({ message }) => handle(message));
 * transport.start();
 * transport.send({ type: 'transport.send', message: { message_type: 'V0ExecutorReadyRequest' } });
 * ```
 */
export const transportMachine = setup({
  types: {
    context: {} as TransportContext,
    events: {} as TransportEvent,
    input: {} as TransportInput,
    output: {} as TransportOutput,
    emitted: {} as TransportEmitted,
  },
  actors: { socket: unprovidedSocket },
  delays: {
    connectTimeout: ({ context }) => context.options.connectTimeoutMs,
    backoff: ({ context }) => (context.decision?.action === 'retry' ? context.decision.delayMs : 0),
    minUptime: ({ context }) => context.options.minUptimeMs,
    pingInterval: ({ context }) => context.options.pingIntervalMs,
    pongTimeout: ({ context }) => context.options.pongTimeoutMs,
    closeTimeout: ({ context }) => context.options.closeTimeoutMs,
  },
  guards: {
    autoConnect: ({ context }) => context.autoConnect,
    /** Under `fail`, one more message would overflow: the transport stops instead of dropping silently. */
    overflowFails: ({ context }) =>
      context.options.outboxOverflow === 'fail' &&
      context.outbox.size >= context.options.outboxCapacity &&
      !(context.outbox.size === 0 && canTransmit(context)),
    givingUp: ({ context }) => context.decision?.action === 'give_up',
    heartbeatOff: ({ context }) => context.options.pingIntervalMs === 0,
    /** Graceful close may proceed to the handshake: nothing queued, and in reliable mode nothing unacked. */
    flushed: ({ context }) =>
      context.outbox.size === 0 && (!context.link.reliable || context.session!.sender.unackedCount === 0),
  },
  actions: {
    /** Hot path: encode, then send at once when nothing is queued ahead, else queue. */
    send: enqueueActions(({ context, event, enqueue: q, self }) => {
      if (event.type !== 'transport.send') return;
      let text: string;
      try {
        text = context.codec.encode(event.message);
      } catch (cause) {
        const emitted: TransportEmitted = { type: 'transport.encode_error', error: new EncodeError({ cause }) };
        q.emit(emitted);
        if (hasParent(self)) q.sendParent(emitted);
        return;
      }
      sendOrQueue(context, text);
    }),
    /** Hot path: decode each frame (unwrapping reliable envelopes) and hand it to the owner. */
    receive: enqueueActions(({ context, event, enqueue: q, self }) => {
      if (event.type !== 'socket.messages') return;
      const { link, stats, metrics, codec } = context;
      const toParent = hasParent(self);
      const notify = (emitted: TransportEmitted): void => {
        q.emit(emitted);
        if (toParent) q.sendParent(emitted);
      };
      const decodeFailed = (error: TransportDecodeError): void => {
        stats.decodeErrors++;
        metrics.decodeError();
        notify({ type: 'transport.decode_error', error });
      };
      const deliver = (text: string): void => {
        const decoded = codec.decode(text);
        if (decoded.ok) {
          stats.received++;
          metrics.messagesIn++;
          notify({ type: 'transport.message', message: decoded.value });
        } else {
          decodeFailed(decoded.error);
        }
      };
      if (!link.reliable) {
        for (const frame of event.frames) deliver(frame);
        return;
      }
      const session = context.session!;
      let acked = false;
      for (const raw of event.frames) {
        const frame = parseReliableFrame(raw);
        if (frame.kind === 'ack') {
          if (session.sender.ack(frame.seq) > 0) acked = true;
        } else if (frame.kind === 'invalid') {
          decodeFailed({ code: 'frame.reliable_invalid', message: frame.reason });
        } else {
          const verdict = session.receiver.accept(frame.seq);
          if (verdict === 'deliver') deliver(frame.text);
          if (verdict === 'gap') {
            // frames on one TCP connection cannot overtake each other, so the peer skipped one: reconnecting
            // makes both sides resume from what was really delivered
            decodeFailed({
              code: 'frame.reliable_gap',
              message: `expected seq ${session.receiver.lastDelivered + 1}, got ${frame.seq}`,
            });
            link.port?.close(PROTOCOL_ERROR, 'reliable sequence gap');
            break;
          }
          link.port?.ack(session.receiver.lastDelivered);
        }
      }
      if (acked) drainOutbox(context);
    }),
    /** The socket opened: resume or reset the reliable session, flush what waited, tell the owner. */
    opened: enqueueActions(({ context, event, enqueue: q, self }) => {
      if (event.type !== 'socket.open') return;
      const { link, session, stats, metrics } = context;
      link.port = event.port;
      link.congested = false;
      link.reliable = session !== undefined && event.reliable;
      stats.connects++;
      metrics.connectAttempt('success');
      if (session !== undefined) {
        if (link.reliable) {
          for (const frame of session.sender.resumeFrom(event.peerLastReceived)) {
            event.port.send(encodeDataFrame(frame.seq, frame.text));
            stats.sent++;
            metrics.messagesOut++;
          }
        } else if (session.sender.lastSeq > 0 || session.receiver.lastDelivered > 0) {
          // a peer that no longer speaks reliable mode: send what it may have missed as plain frames
          // (at-least-once), and start a fresh session so a later reliable peer does not wait on old seqs
          const leftovers = session.sender.resumeFrom(session.sender.ackedThrough);
          session.rotate();
          for (const frame of leftovers) transmit(context, frame.text);
        }
      }
      drainOutbox(context);
      const emitted: TransportEmitted = { type: 'transport.open', reliable: link.reliable };
      q.emit(emitted);
      if (hasParent(self)) q.sendParent(emitted);
    }),
    markCongested: ({ context }) => {
      context.link.congested = true;
    },
    drained: ({ context }) => {
      context.link.congested = false;
      drainOutbox(context);
    },
    /** Leaving the socket: forget its port so nothing is sent to a disposed socket. */
    forgetSocket: ({ context }) => {
      context.link.port = undefined;
      context.link.congested = false;
      context.link.reliable = false;
    },
    ping: ({ context }) => context.link.port?.ping(),
    /** An attempt failed before opening (refused, 4xx upgrade, timeout …). */
    attemptFailed: enqueueActions(({ context, event, enqueue: q }) => {
      const timedOut = event.type !== 'socket.closed';
      context.metrics.connectAttempt(timedOut ? 'timeout' : 'failure');
      const failure = timedOut
        ? new ConnectTimeoutError(context.url, context.options.connectTimeoutMs)
        : (event.error ?? new SocketClosedError(event.code, event.reason));
      q.assign(failed(context, failure));
    }),
    /** An open socket closed under us (peer close, network loss). */
    connectionLost: enqueueActions(({ context, event, enqueue: q, self }) => {
      if (event.type !== 'socket.closed') return;
      const emitted: TransportEmitted = { type: 'transport.closed', code: event.code, reason: event.reason };
      q.emit(emitted);
      if (hasParent(self)) q.sendParent(emitted);
      q.assign(failed(context, new SocketClosedError(event.code, event.reason, { cause: event.error })));
    }),
    /** A ping went unanswered: the socket is terminated when `online` is left. */
    heartbeatMissed: enqueueActions(({ context, enqueue: q, self }) => {
      context.stats.heartbeatMisses++;
      context.metrics.heartbeatMissed();
      const emitted: TransportEmitted = { type: 'transport.closed', code: ABNORMAL_CLOSURE, reason: 'heartbeat timeout' };
      q.emit(emitted);
      if (hasParent(self)) q.sendParent(emitted);
      q.assign(failed(context, new HeartbeatTimeoutError(context.options.pongTimeoutMs)));
    }),
    /** The connection lived `minUptimeMs`: it counts as stable, so the attempt counter and the deadline reset. */
    stable: enqueueActions(({ enqueue: q }) => {
      q.cancel(DEADLINE_ID);
      q.assign({ failures: 0, deadlineArmed: false, deadlinePassed: false });
    }),
    /** Starts the `giveUpAfterMs` clock unless it already runs (or is Infinity). */
    armDeadline: enqueueActions(({ context, enqueue: q }) => {
      if (context.deadlineArmed || !Number.isFinite(context.options.giveUpAfterMs)) return;
      q.raise({ type: 'transport.deadline' }, { id: DEADLINE_ID, delay: context.options.giveUpAfterMs });
      q.assign({ deadlineArmed: true });
    }),
    deadlinePassed: assign({ deadlineArmed: false, deadlinePassed: true }),
    /** The deadline expired while no connection was open: decide (give up) now. */
    giveUpNow: assign(({ context }) => ({
      deadlineArmed: false,
      deadlinePassed: true,
      decision: { action: 'give_up', rule: 'deadline' } as const,
      lastFailure: context.lastFailure ?? new Error('no connection before the give-up deadline'),
    })),
    announceReconnect: enqueueActions(({ context, enqueue: q, self }) => {
      const decision = context.decision;
      if (decision?.action !== 'retry') return;
      context.metrics.reconnectScheduled();
      const emitted: TransportEmitted = {
        type: 'transport.reconnecting',
        attempt: decision.attempt,
        delayMs: decision.delayMs,
        cause: context.lastFailure === undefined ? 'unknown' : codeOf(context.lastFailure),
      };
      q.emit(emitted);
      if (hasParent(self)) q.sendParent(emitted);
    }),
    giveUp: enqueueActions(({ context, enqueue: q, self }) => {
      const rule = context.decision?.action === 'give_up' ? context.decision.rule : 'attempts';
      const error = new TransportGaveUpError(context.failures, rule, { cause: context.lastFailure });
      const emitted: TransportEmitted = { type: 'transport.gave_up', error };
      q.emit(emitted);
      if (hasParent(self)) q.sendParent(emitted);
      q.assign({ stop: { reason: 'gave_up', error } });
    }),
    /** `fail` policy: the message that did not fit is lost, and the transport stops. */
    overflowed: enqueueActions(({ context, enqueue: q }) => {
      countDropped(context, 1);
      q.assign({ stop: { reason: 'outbox_overflow', error: new OutboxOverflowError(context.options.outboxCapacity) } });
    }),
    requestClose: assign(({ event }) => {
      if (event.type !== 'transport.close') return { closeRequest: { code: NORMAL_CLOSURE, reason: 'shutdown' } };
      return { closeRequest: { code: event.code ?? NORMAL_CLOSURE, reason: event.reason ?? '' } };
    }),
    sendClose: ({ context }) => context.link.port?.close(context.closeRequest.code, context.closeRequest.reason),
    /** A send while closing is refused: the owner asked to stop. */
    refuseSend: ({ context }) => countDropped(context, 1),
    closedByUs: enqueueActions(({ event, enqueue: q, self }) => {
      const emitted: TransportEmitted =
        event.type === 'socket.closed'
          ? { type: 'transport.closed', code: event.code, reason: event.reason }
          : { type: 'transport.closed', code: ABNORMAL_CLOSURE, reason: 'close timeout' };
      q.emit(emitted);
      if (hasParent(self)) q.sendParent(emitted);
    }),
    /** Final: whatever never reached the peer is counted as dropped; the owner hears why we stopped. */
    finish: enqueueActions(({ context, enqueue: q, self }) => {
      const leftover = context.outbox.clear().length + (context.session?.sender.unackedCount ?? 0);
      countDropped(context, leftover);
      context.link.port = undefined;
      const emitted: TransportEmitted = { type: 'transport.stopped', reason: context.stop?.reason ?? 'closed' };
      q.emit(emitted);
      if (hasParent(self)) q.sendParent(emitted);
    }),
  },
}).createMachine({
  id: 'transport',
  context: ({ input }) => {
    const options = resolveTransportOptions(input.options);
    return {
      url: input.url,
      headers: input.headers ?? {},
      codec: input.codec,
      options,
      random: input.random ?? systemRandom,
      metrics: input.metrics ?? defaultTransportMetrics(),
      autoConnect: input.autoConnect ?? true,
      outbox: new Outbox<string>(options.outboxCapacity, options.outboxOverflow),
      stats: { sent: 0, received: 0, dropped: 0, decodeErrors: 0, heartbeatMisses: 0, connects: 0 },
      link: { port: undefined, reliable: false, congested: false },
      session: options.reliable ? new ReliableSession(input.sessionId ?? randomUUID(), options.reliableWindow) : undefined,
      failures: 0,
      lastFailure: undefined,
      decision: undefined,
      deadlineArmed: false,
      deadlinePassed: false,
      closeRequest: { code: NORMAL_CLOSURE, reason: '' },
      stop: undefined,
    };
  },
  initial: 'idle',
  output: ({ context }) => ({
    reason: context.stop?.reason ?? 'closed',
    ...(context.stop?.error === undefined ? {} : { error: context.stop.error }),
    stats: { ...context.stats },
  }),
  states: {
    /** Created, not connecting yet (autoConnect: false); sends wait in the outbox. */
    idle: {
      always: { guard: 'autoConnect', target: 'online' },
      on: {
        'transport.connect': 'online',
        'transport.send': [{ guard: 'overflowFails', target: 'closed', actions: 'overflowed' }, { actions: 'send' }],
        'transport.close': 'closed',
        'supervisor.shutdown': 'closed',
      },
    },
    /** A socket actor exists for the current attempt; the child state says how far it got. */
    online: {
      entry: 'armDeadline',
      exit: 'forgetSocket',
      invoke: { id: 'socket', src: 'socket', input: ({ context }) => socketInput(context) },
      initial: 'connecting',
      on: {
        'transport.send': [
          { guard: 'overflowFails', target: 'closed', actions: 'overflowed' },
          { actions: 'send' },
        ],
        'socket.messages': { actions: 'receive' },
        'socket.congested': { actions: 'markCongested' },
        'socket.drained': { actions: 'drained' },
        'transport.deadline': { actions: 'deadlinePassed' },
      },
      states: {
        /** The upgrade is in flight; abandoned after connectTimeoutMs. Sends wait in the outbox. */
        connecting: {
          after: { connectTimeout: { target: '#transport.disconnected', actions: 'attemptFailed' } },
          on: {
            'socket.open': { target: 'open', actions: 'opened' },
            'socket.closed': { target: '#transport.disconnected', actions: 'attemptFailed' },
            'transport.deadline': { target: '#transport.disconnected', actions: 'giveUpNow' },
            'transport.close': '#transport.closed',
            'supervisor.shutdown': '#transport.closed',
          },
        },
        /** The socket is open: sends go straight out, pings check the peer, uptime earns an attempt reset. */
        open: {
          after: { minUptime: { actions: 'stable' } },
          on: {
            'socket.closed': { target: '#transport.disconnected', actions: 'connectionLost' },
            'transport.close': { target: 'closing', actions: 'requestClose' },
            'supervisor.shutdown': { target: 'closing', actions: 'requestClose' },
          },
          initial: 'heartbeat',
          states: {
            /** Chooses whether the heartbeat runs (pingIntervalMs 0 turns it off). */
            heartbeat: { always: [{ guard: 'heartbeatOff', target: 'unmonitored' }, { target: 'waitingToPing' }] },
            /** Heartbeat off: only TCP notices a dead peer. */
            unmonitored: {},
            /** Alive as far as we know; pings after pingIntervalMs. */
            waitingToPing: { after: { pingInterval: 'awaitingPong' } },
            /** A ping is out; no pong within pongTimeoutMs ends the socket. */
            awaitingPong: {
              entry: 'ping',
              on: { 'socket.pong': 'waitingToPing' },
              after: { pongTimeout: { target: '#transport.disconnected', actions: 'heartbeatMissed' } },
            },
          },
        },
        /** Graceful close: flush, wait for reliable acks, then the close handshake; bounded by closeTimeoutMs. */
        closing: {
          after: { closeTimeout: { target: '#transport.closed', actions: 'closedByUs' } },
          on: {
            'transport.send': { actions: 'refuseSend' },
            'socket.closed': { target: '#transport.closed', actions: 'closedByUs' },
            'transport.deadline': {},
          },
          initial: 'flushing',
          states: {
            /** Queued messages (and, in reliable mode, unacked ones) are still on their way. */
            flushing: { always: { guard: 'flushed', target: 'handshaking' } },
            /** Our close frame is out; waiting for the peer's. */
            handshaking: { entry: 'sendClose' },
          },
        },
      },
    },
    /** Transient: the last attempt failed or the connection was lost; decides between retrying and giving up. */
    disconnected: {
      entry: 'armDeadline',
      always: [
        { guard: 'givingUp', target: 'closed', actions: 'giveUp' },
        { target: 'backingOff', actions: 'announceReconnect' },
      ],
    },
    /** Waiting a full-jitter delay before the next attempt; sends wait in the outbox. */
    backingOff: {
      after: { backoff: 'online' },
      on: {
        'transport.connect': 'online',
        'transport.send': [{ guard: 'overflowFails', target: 'closed', actions: 'overflowed' }, { actions: 'send' }],
        'transport.deadline': { target: 'closed', actions: ['giveUpNow', 'giveUp'] },
        'transport.close': 'closed',
        'supervisor.shutdown': 'closed',
      },
    },
    /** Final: will not connect again; the output says why (closed, gave_up, outbox_overflow). */
    closed: { type: 'final', entry: 'finish' },
  },
});

/** Records a failure: one more consecutive failure, and the reconnect decision it leads to. */
function failed(context: TransportContext, failure: Error): Partial<TransportContext> {
  const failures = context.failures + 1;
  const decision = decideReconnect(
    { failures, maxReconnectAttempts: context.options.maxReconnectAttempts, deadlinePassed: context.deadlinePassed },
    reconnectPolicy(context.options),
    context.random,
  );
  return { failures, lastFailure: failure, decision };
}

function codeOf(error: Error): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && code.length > 0 ? code : toError(error).name;
}
