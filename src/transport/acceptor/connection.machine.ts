import type { IncomingHttpHeaders } from 'node:http';
import { assign, enqueueActions, fromCallback, raise, sendTo, setup, type ActorRefFrom, type EventObject } from 'xstate';
import type { FrameCodec } from '../../protocol/codec.types';
import type { Clock } from '../../util/clock';
import { clampCloseReason, closeFor, isSendableCloseCode } from './closeCodes';
import type {
  CloseInitiator,
  ConnectionBehaviourInput,
  ConnectionCommand,
  ConnectionRoleEvent,
  ConnectionShutdownEvent,
} from './connection.types';
import { ConnectionNotWiredError, EncodeFailedError, RoleFailedError } from './errors';
import type { AcceptorMetrics } from './metrics';
import type { ConnectionRegistry } from './registry';
import type { PathParams } from './routes';
import type { SocketActorInput, SocketCommand, SocketEvent } from './socket.types';

/** The per-connection durations (each route sets its own; defaults in defaults.ts). */
export interface ConnectionTimings {
  readonly authDeadlineMs: number;
  readonly heartbeatIntervalMs: number;
  readonly pongTimeoutMs: number;
  readonly closeTimeoutMs: number;
}

/** Input of one connection actor (built by the acceptor for each accepted socket). */
export interface ConnectionInput {
  readonly connectionId: string;
  readonly route: string;
  readonly codec: FrameCodec<unknown, unknown>;
  readonly timings: ConnectionTimings;
  readonly params: PathParams;
  readonly headers: IncomingHttpHeaders;
  readonly remoteAddress: string | undefined;
  readonly reliable: boolean;
  /** Passed through, unread, to the socket actor. */
  readonly socket: SocketActorInput;
  readonly metrics: AcceptorMetrics;
  readonly registry: ConnectionRegistry | undefined;
  /** Wall clock, for the auth duration histogram. */
  readonly clock: Clock;
}

/** Why and how the connection is ending; set once, when it leaves `open`. */
interface Ending {
  readonly code: number;
  readonly reason: string;
  readonly initiator: CloseInitiator;
  /** End without a close frame (heartbeat timeout, reset socket): terminate instead of close. */
  readonly terminate: boolean;
}

interface ConnectionContext extends ConnectionInput {
  identity: string | undefined;
  openedAtMs: number;
  ending: Ending | undefined;
  /** How long `closing` waits for the peer's close frame; `connection.shutdown` may shorten it. */
  closeTimeoutMs: number;
}

/** What a finished connection reports (its supervisor sees it as the child's output). */
export interface ConnectionOutput {
  readonly connectionId: string;
  readonly identity: string | undefined;
  readonly code: number;
  readonly reason: string;
  readonly initiator: CloseInitiator;
}

/** Internal: raised by the machine itself, never sent from outside. */
type InternalEvent =
  | { readonly type: 'connection.role_finished' }
  | { readonly type: 'connection.role_failed'; readonly error: unknown }
  | { readonly type: 'connection.encode_failed'; readonly error: unknown }
  | { readonly type: 'connection.socket_failed'; readonly error: unknown };

/** Every event the connection machine handles. */
export type ConnectionEvent = ConnectionCommand | ConnectionShutdownEvent | SocketEvent | InternalEvent;

const serverEnding = (errorCode: string, reason?: string): Ending => {
  const spec = closeFor(errorCode);
  return {
    code: spec.code,
    reason: clampCloseReason(reason ?? spec.reason),
    initiator: 'server',
    terminate: !isSendableCloseCode(spec.code),
  };
};

const unwiredSocket = fromCallback<SocketCommand, SocketActorInput>(() => {
  throw new ConnectionNotWiredError('socket');
});
const unwiredRole = fromCallback<EventObject, ConnectionBehaviourInput>(() => {
  throw new ConnectionNotWiredError('role');
});

/** The logic type the `socket` actor is provided as. */
export type ConnectionSocketLogic = typeof unwiredSocket;
/** The logic type the `role` actor is provided as (any `ConnectionBehaviour` is cast to it). */
export type ConnectionRoleLogic = typeof unwiredRole;

/**
 * One accepted WebSocket: authentication deadline, heartbeat, framing through the route's codec, and a documented
 * close. The socket itself is owned by the invoked `socket` actor (real one in socket.actor.ts); the route's role
 * logic is the invoked `role` actor. Both are provided with `.provide({ actors })` (the acceptor does it).
 *
 * Lifecycle: `open` (parallel: `session` = awaitingAuth → serving, and `liveness` = quiet ⇄ probing) → `closing` →
 * `closed`. The role decides authentication; the connection only enforces the deadline.
 *
 * @example
 * ```ts
 * const machine = connectionMachine.provide({ actors: { socket: wsSocketActor, role: myRoleMachine as never } });
 * supervisor.send({ type: 'supervisor.start_child', spec: { id, logic: machine, input, restart: 'temporary', shutdownMs } });
 * ```
 */
export const connectionMachine = setup({
  types: {
    context: {} as ConnectionContext,
    events: {} as ConnectionEvent,
    input: {} as ConnectionInput,
    output: {} as ConnectionOutput,
  },
  actors: {
    socket: unwiredSocket,
    role: unwiredRole,
  },
  delays: {
    authDeadline: ({ context }) => context.timings.authDeadlineMs,
    heartbeatInterval: ({ context }) => context.timings.heartbeatIntervalMs,
    pongTimeout: ({ context }) => context.timings.pongTimeoutMs,
    closeTimeout: ({ context }) => context.closeTimeoutMs,
  },
  guards: {
    shortensGrace: ({ context, event }) =>
      event.type === 'connection.shutdown' && event.graceMs !== undefined && event.graceMs < context.closeTimeoutMs,
  },
  actions: {
    registerOpened: ({ context, self }) => {
      context.metrics.openConnections.add(1, { route: context.route });
      context.registry?.opened(context.connectionId, context.route, self);
    },
    deliver: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'socket.message') return;
      const decoded = context.codec.decode(event.text);
      const route = context.route;
      const metrics = context.metrics;
      enqueue(() => metrics.messages.add(1, { route, direction: 'in' }));
      if (decoded.ok) {
        enqueue.sendTo('role', { type: 'connection.message', message: decoded.value } satisfies ConnectionRoleEvent);
      } else {
        enqueue(() => metrics.decodeErrors.add(1, { route }));
        enqueue.sendTo('role', { type: 'connection.decode_error', error: decoded.error } satisfies ConnectionRoleEvent);
      }
    }),
    encodeAndSend: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'connection.send') return;
      let text: string;
      try {
        text = context.codec.encode(event.message);
      } catch (error) {
        enqueue.raise({ type: 'connection.encode_failed', error: new EncodeFailedError(error) });
        return;
      }
      const route = context.route;
      const metrics = context.metrics;
      enqueue.sendTo('socket', { type: 'socket.send', text } satisfies SocketCommand);
      enqueue(() => metrics.messages.add(1, { route, direction: 'out' }));
    }),
    countDropped: ({ context }) => context.metrics.droppedMessages.add(1, { route: context.route, reason: 'closing' }),
    countSocketError: ({ context, event }) => {
      if (event.type !== 'socket.error') return;
      context.metrics.socketErrors.add(1, { route: context.route, error: event.wsCode });
    },
    authenticate: assign(({ event }) => {
      if (event.type !== 'connection.authenticated') return {};
      return { identity: event.identity };
    }),
    recordAuthenticated: ({ context }) => {
      if (context.identity === undefined) return;
      context.metrics.authDurationMs.record(context.clock.nowMs() - context.openedAtMs, { route: context.route });
      context.registry?.authenticated(context.connectionId, context.identity);
    },
    sendPing: sendTo('socket', { type: 'socket.ping' } satisfies SocketCommand),
    endByRole: assign(({ event }) => {
      if (event.type !== 'connection.close') return {};
      const sendable = isSendableCloseCode(event.code);
      const ending: Ending = sendable
        ? { code: event.code, reason: clampCloseReason(event.reason), initiator: 'server', terminate: false }
        : { ...serverEnding('connection.role_failed'), reason: `invalid close code ${event.code}` };
      return { ending };
    }),
    endByShutdown: assign(({ context, event }) => {
      const grace = event.type === 'connection.shutdown' ? event.graceMs : undefined;
      const reason = event.type === 'connection.shutdown' ? event.reason : undefined;
      return {
        ending: serverEnding('acceptor.shutting_down', reason),
        closeTimeoutMs: grace ?? context.closeTimeoutMs,
      };
    }),
    shortenGrace: assign(({ context, event }) =>
      event.type === 'connection.shutdown' && event.graceMs !== undefined
        ? { closeTimeoutMs: Math.min(event.graceMs, context.closeTimeoutMs) }
        : {},
    ),
    endBySocketError: assign(({ event }) => (event.type === 'socket.error' ? { ending: serverEnding(event.errorCode) } : {})),
    endByOverflow: assign({ ending: () => serverEnding('transport.send_overflow') }),
    endByReliableViolation: assign(({ event }) =>
      event.type === 'socket.reliable_violation' ? { ending: serverEnding(event.errorCode) } : {},
    ),
    endByAuthDeadline: assign({ ending: () => serverEnding('auth.deadline_exceeded') }),
    endByHeartbeat: assign({ ending: () => serverEnding('connection.heartbeat_timeout') }),
    endByRoleFinished: assign({ ending: () => serverEnding('connection.normal') }),
    endByRoleFailed: assign({ ending: () => serverEnding('connection.role_failed') }),
    endByEncodeFailure: assign({ ending: () => serverEnding('connection.encode_failed') }),
    endBySocketFailure: assign({ ending: () => ({ ...serverEnding('connection.reset'), reason: 'socket actor failed' }) }),
    endByPeer: assign(({ event }) =>
      event.type === 'socket.closed'
        ? { ending: { code: event.code, reason: event.reason, initiator: 'peer', terminate: false } satisfies Ending }
        : {},
    ),
    closeSocket: enqueueActions(({ context, enqueue }) => {
      const ending = context.ending;
      if (ending === undefined) return;
      if (ending.terminate) enqueue.sendTo('socket', { type: 'socket.terminate' } satisfies SocketCommand);
      else enqueue.sendTo('socket', { type: 'socket.close', code: ending.code, reason: ending.reason } satisfies SocketCommand);
    }),
    terminateSocket: sendTo('socket', { type: 'socket.terminate' } satisfies SocketCommand),
    notifyRoleClosed: sendTo('role', ({ context }) => {
      const ending = context.ending ?? serverEnding('connection.reset');
      return {
        type: 'connection.closed',
        code: ending.code,
        reason: ending.reason,
        initiator: ending.initiator,
      } satisfies ConnectionRoleEvent;
    }),
    recordClosed: ({ context }) => {
      const ending = context.ending ?? serverEnding('connection.reset');
      const route = context.route;
      context.metrics.openConnections.add(-1, { route });
      context.metrics.closes.add(1, { route, code: ending.code, initiator: ending.initiator });
      context.registry?.closed(context.connectionId);
    },
  },
}).createMachine({
  id: 'connection',
  context: ({ input }) => ({
    ...input,
    identity: undefined,
    openedAtMs: input.clock.nowMs(),
    ending: undefined,
    closeTimeoutMs: input.timings.closeTimeoutMs,
  }),
  entry: 'registerOpened',
  invoke: [
    {
      id: 'socket',
      src: 'socket',
      input: ({ context }) => context.socket,
      onError: { actions: raise(({ event }) => ({ type: 'connection.socket_failed' as const, error: event.error })) },
    },
    {
      id: 'role',
      src: 'role',
      input: ({ context, self }) => ({
        connectionId: context.connectionId,
        route: context.route,
        params: context.params,
        headers: context.headers,
        remoteAddress: context.remoteAddress,
        reliable: context.reliable,
        connection: self,
      }),
      onDone: { actions: raise({ type: 'connection.role_finished' }) },
      onError: {
        actions: raise(({ event }) => ({ type: 'connection.role_failed' as const, error: new RoleFailedError(event.error) })),
      },
    },
  ],
  initial: 'open',
  states: {
    // The socket is up and frames flow both ways; the role may still be deciding who the peer is.
    open: {
      type: 'parallel',
      on: {
        'socket.message': { actions: 'deliver' },
        'connection.send': { actions: 'encodeAndSend' },
        'connection.close': { target: 'closing', actions: 'endByRole' },
        'supervisor.shutdown': { target: 'closing', actions: 'endByShutdown' },
        'connection.shutdown': { target: 'closing', actions: 'endByShutdown' },
        'socket.error': { target: 'closing', actions: ['countSocketError', 'endBySocketError'] },
        'socket.overflow': { target: 'closing', actions: 'endByOverflow' },
        'socket.reliable_violation': { target: 'closing', actions: 'endByReliableViolation' },
        'socket.closed': { target: 'closed', actions: 'endByPeer' },
        'connection.role_finished': { target: 'closing', actions: 'endByRoleFinished' },
        'connection.role_failed': { target: 'closing', actions: 'endByRoleFailed' },
        'connection.encode_failed': { target: 'closing', actions: 'endByEncodeFailure' },
        'connection.socket_failed': { target: 'closed', actions: 'endBySocketFailure' },
      },
      states: {
        // Who the peer is: the role decides, the machine enforces the deadline.
        session: {
          initial: 'awaitingAuth',
          states: {
            // Upgraded but not yet vouched for by the role; the auth deadline runs.
            awaitingAuth: {
              on: {
                'connection.authenticated': { target: 'serving', actions: ['authenticate', 'recordAuthenticated'] },
              },
              after: { authDeadline: { target: '#connection.closing', actions: 'endByAuthDeadline' } },
            },
            // Authenticated: registered under its identity, serving the role's protocol.
            serving: {},
          },
        },
        // Whether the peer is still there: ping, then wait for the pong.
        liveness: {
          initial: 'quiet',
          states: {
            // Waiting for the next heartbeat ping to be due.
            quiet: { after: { heartbeatInterval: 'probing' } },
            // A ping is out; a pong must come back before the pong timeout, or the socket is terminated.
            probing: {
              entry: 'sendPing',
              on: { 'socket.pong': 'quiet' },
              after: { pongTimeout: { target: '#connection.closing', actions: 'endByHeartbeat' } },
            },
          },
        },
      },
    },
    // Our close frame is out (or the socket was terminated); waiting for the socket to be gone.
    closing: {
      entry: 'closeSocket',
      on: {
        'socket.closed': 'closed',
        'socket.error': { actions: 'countSocketError' },
        'connection.send': { actions: 'countDropped' },
        'connection.socket_failed': 'closed',
        // close() must not wait longer than its grace for a connection that was already closing: restart the
        // wait with the shorter deadline (re-sending the close is a no-op on a closing socket).
        'connection.shutdown': { guard: 'shortensGrace', target: 'closing', reenter: true, actions: 'shortenGrace' },
      },
      after: { closeTimeout: { target: 'closed', actions: 'terminateSocket' } },
    },
    // The socket is gone; the role was told why; the registry and metrics are updated. Final.
    closed: {
      type: 'final',
      entry: ['notifyRoleClosed', 'recordClosed'],
    },
  },
  output: ({ context }) => {
    const ending = context.ending ?? serverEnding('connection.reset');
    return {
      connectionId: context.connectionId,
      identity: context.identity,
      code: ending.code,
      reason: ending.reason,
      initiator: ending.initiator,
    };
  },
});

/** A running connection actor. */
export type ConnectionActorRef = ActorRefFrom<typeof connectionMachine>;
