/**
 * Harness for the model-based test of the acceptor's connection machine: the REAL machine, with a fake socket actor
 * and a scriptable role logic injected through `.provide()`, a SimulatedClock that can list its pending timers, and
 * a registry and meter that record every call. Each observable effect (a role event, a socket command, a registry
 * call, a metric point) lands in one log that the test drains after every step and compares with its model.
 */
import type { Attributes, Counter, Histogram, UpDownCounter } from '@opentelemetry/api';
import { createActor, fromCallback, sendTo, setup, SimulatedClock, type Actor, type AnyActorRef } from 'xstate';
import { closeEventFor } from '../../src/transport/acceptor/closeCodes';
import {
  connectionMachine,
  type ConnectionInput,
  type ConnectionRoleLogic,
  type ConnectionSocketLogic,
  type ConnectionTimings,
} from '../../src/transport/acceptor/connection.machine';
import type {
  ConnectionBehaviourInput,
  ConnectionHandle,
  ConnectionRoleEvent,
} from '../../src/transport/acceptor/connection.types';
import type { AcceptorMetrics } from '../../src/transport/acceptor/metrics';
import { ConnectionRegistry } from '../../src/transport/acceptor/registry';
import type { SocketActorInput, SocketCommand, SocketEvent } from '../../src/transport/acceptor/socket.types';
import { jsonCodec, type Json } from './acceptorHelpers';

export const CONNECTION_ID = 'validator-1';
export const ROUTE = 'validator';
/** What the scripted role authenticates the peer as. */
export const IDENTITY = 'hk-model';
/** The frame the peer sends for a well-formed message, and what the role must receive for it. */
export const PEER_FRAME = '{"message_type":"ping","n":1}';
export const PEER_MESSAGE: Json = { message_type: 'ping', n: 1 };
/** A frame the JSON codec refuses (`frame.malformed_json`). */
export const MALFORMED_FRAME = 'not json';
/** What the role sends, and the text the socket must get for it. */
export const ROLE_MESSAGE: Json = { message_type: 'pong', n: 2 };
export const ROLE_FRAME = '{"message_type":"pong","n":2}';
/** The role's own close: upstream's "unknown validator" (3001). */
export const ROLE_CLOSE = closeEventFor('auth.validator_not_found');
/** The peer's close frame. */
export const PEER_CLOSE_FRAME = { code: 4321, reason: 'bye' } as const;
/** What ws reports for a socket that went away without a close frame. */
export const ABNORMAL_CLOSE = { code: 1006, reason: '' } as const;
/** The oversize frame ws refuses while reading. */
export const OVERSIZE_ERROR = {
  type: 'socket.error',
  errorCode: 'frame.too_large',
  wsCode: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
  message: 'Max payload size exceeded',
} as const satisfies SocketEvent;
/** The grace `connection.shutdown` grants (shorter than every close timeout used here). */
export const SHUTDOWN_GRACE_MS = 200;

/** Test-only events the scripted role and the fake socket understand (they are not part of the protocol). */
export type RoleScript = 'authenticate' | 'send' | 'send_unencodable' | 'close' | 'finish' | 'fail';
const EXPLODE = 'test.explode';

/** One observable effect of the connection, on one of its four channels. */
export type Effect =
  | { readonly to: 'role'; readonly event: RoleSeen }
  | { readonly to: 'socket'; readonly command: SocketCommand }
  | { readonly to: 'registry'; readonly call: 'opened' | 'authenticated' | 'closed'; readonly identity?: string }
  | {
      readonly to: 'metric';
      readonly name: keyof AcceptorMetrics;
      readonly value: number;
      readonly attributes: Attributes;
    };

/** A role event as the test compares it (a decode error by its code only). */
export type RoleSeen =
  | { readonly type: 'connection.message'; readonly message: Json }
  | { readonly type: 'connection.decode_error'; readonly code: string }
  | { readonly type: 'connection.closed'; readonly code: number; readonly reason: string; readonly initiator: string };

/** A SimulatedClock that knows when each of its pending timers is due. */
export class TimerClock extends SimulatedClock {
  private readonly dueMs = new Map<number, number>();

  override setTimeout(fn: () => void, timeoutMs: number): number {
    const id: number = super.setTimeout(() => {
      this.dueMs.delete(id);
      fn();
    }, timeoutMs);
    this.dueMs.set(id, this.now() + timeoutMs);
    return id;
  }

  override clearTimeout(id: number): void {
    this.dueMs.delete(id);
    super.clearTimeout(id);
  }

  /** Due times of the timers not yet fired nor cleared, earliest first. */
  pendingDueTimesMs(): number[] {
    return [...this.dueMs.values()].sort((a, b) => a - b);
  }
}

/** The real registry, with every write recorded (so "removed exactly once" is visible, not just "absent"). */
class RecordingRegistry extends ConnectionRegistry {
  constructor(private readonly effects: Effect[]) {
    super();
  }
  override opened(connectionId: string, route: string, connection: ConnectionHandle): void {
    this.effects.push({ to: 'registry', call: 'opened' });
    super.opened(connectionId, route, connection);
  }
  override authenticated(connectionId: string, identity: string): void {
    this.effects.push({ to: 'registry', call: 'authenticated', identity });
    super.authenticated(connectionId, identity);
  }
  override closed(connectionId: string): void {
    this.effects.push({ to: 'registry', call: 'closed' });
    super.closed(connectionId);
  }
}

function recordingMetrics(effects: Effect[]): AcceptorMetrics {
  const counter = (name: keyof AcceptorMetrics): Counter & UpDownCounter => ({
    add: (value, attributes = {}) => effects.push({ to: 'metric', name, value, attributes }),
  });
  const histogram = (name: keyof AcceptorMetrics): Histogram => ({
    record: (value, attributes = {}) => effects.push({ to: 'metric', name, value, attributes }),
  });
  return {
    connections: counter('connections'),
    openConnections: counter('openConnections'),
    closes: counter('closes'),
    messages: counter('messages'),
    decodeErrors: counter('decodeErrors'),
    droppedMessages: counter('droppedMessages'),
    socketErrors: counter('socketErrors'),
    authDurationMs: histogram('authDurationMs'),
    reliableFrames: counter('reliableFrames'),
    reliableSessionsEvicted: counter('reliableSessionsEvicted'),
  };
}

function roleSeen(event: ConnectionRoleEvent<Json>): RoleSeen {
  switch (event.type) {
    case 'connection.message':
      return { type: event.type, message: event.message };
    case 'connection.decode_error':
      return { type: event.type, code: event.error.code };
    case 'connection.closed':
      return { type: event.type, code: event.code, reason: event.reason, initiator: event.initiator };
  }
}

type ScriptedRoleEvent = ConnectionRoleEvent<Json> | { type: `test.${RoleScript}` };

/**
 * Where each running connection's fakes write their effects, keyed by objects the fakes are handed at start (the
 * role's `headers`, the socket's input): the connection passes both through untouched, and they exist before the
 * actor does, whose initial state already starts its children.
 */
const roleSinks = new WeakMap<object, Effect[]>();
interface FakeSocketState {
  readonly effects: Effect[];
  disposed: boolean;
  emit: (event: SocketEvent) => void;
}
const socketStates = new WeakMap<SocketActorInput, FakeSocketState>();

/**
 * A role that records what the connection tells it and does what the test asks, through its connection handle.
 * Built once (building machines per run would dominate the suite's time); it finds its run's log by `headers`.
 */
const scriptedRole = setup({
  types: {
    context: {} as { connection: ConnectionHandle; effects: Effect[] },
    input: {} as ConnectionBehaviourInput,
    events: {} as ScriptedRoleEvent,
  },
  actions: {
    record: ({ context, event }) => {
      if (event.type.startsWith('test.')) return;
      context.effects.push({ to: 'role', event: roleSeen(event as ConnectionRoleEvent<Json>) });
    },
    fail: () => {
      throw new Error('role failed on purpose');
    },
  },
}).createMachine({
  context: ({ input }) => {
    const effects = roleSinks.get(input.headers);
    if (effects === undefined) throw new Error('scripted role started without its test log');
    return { connection: input.connection, effects };
  },
  initial: 'running',
  states: {
    running: {
      on: {
        'connection.message': { actions: 'record' },
        'connection.decode_error': { actions: 'record' },
        'connection.closed': { actions: 'record' },
        'test.authenticate': {
          actions: sendTo(({ context }) => context.connection, { type: 'connection.authenticated', identity: IDENTITY }),
        },
        'test.send': {
          actions: sendTo(({ context }) => context.connection, { type: 'connection.send', message: ROLE_MESSAGE }),
        },
        // JSON.stringify throws on a BigInt: the codec fails to encode.
        'test.send_unencodable': {
          actions: sendTo(({ context }) => context.connection, { type: 'connection.send', message: { n: 1n } }),
        },
        'test.close': { actions: sendTo(({ context }) => context.connection, ROLE_CLOSE) },
        'test.finish': 'finished',
        'test.fail': { actions: 'fail' },
      },
    },
    finished: { type: 'final' },
  },
}) as unknown as ConnectionRoleLogic;

/** A socket actor that records the commands it gets and lets the test play the socket's events. */
const fakeSocket: ConnectionSocketLogic = fromCallback<SocketCommand, SocketActorInput>(({ input, sendBack, receive }) => {
  const state = socketStates.get(input);
  if (state === undefined) throw new Error('fake socket started without its test state');
  state.emit = (event) => sendBack(event);
  receive((command) => {
    if ((command as { type: string }).type === EXPLODE) throw new Error('socket actor failed on purpose');
    state.effects.push({ to: 'socket', command });
  });
  return () => {
    state.disposed = true;
  };
});

const provided = new WeakMap<typeof connectionMachine, typeof connectionMachine>();
function withFakes(machine: typeof connectionMachine): typeof connectionMachine {
  let wired = provided.get(machine);
  if (wired === undefined) {
    wired = machine.provide({ actors: { socket: fakeSocket, role: scriptedRole } });
    provided.set(machine, wired);
  }
  return wired;
}

/** One running connection and the handles a test drives it through. */
export interface ConnectionUnderTest {
  readonly actor: Actor<typeof connectionMachine>;
  readonly clock: TimerClock;
  readonly registry: ConnectionRegistry;
  /** The role actor, kept from the start (it stays addressable after it stopped; sends to it are then dropped). */
  readonly role: AnyActorRef;
  /** The socket actor, kept from the start. */
  readonly socket: AnyActorRef;
  /** True once the connection stopped the fake socket (its cleanup ran). */
  socketDisposed(): boolean;
  /** Plays an event of the socket (dropped by XState once the socket actor is stopped). */
  fromSocket(event: SocketEvent): void;
  /** Asks the scripted role to do something through its connection handle. */
  roleDoes(what: RoleScript): void;
  /** Makes the socket actor fail (its receive handler throws, so XState reports an actor error). */
  explodeSocket(): void;
  /** Effects observed since the last call, in order. */
  takeEffects(): Effect[];
  stop(): void;
}

/**
 * Starts the connection machine (or a variant of it, e.g. a deliberately broken one) at simulated time 0, with
 * `timings`, a fake socket and the scripted role.
 */
export function startConnection(
  timings: ConnectionTimings,
  machine: typeof connectionMachine = connectionMachine,
): ConnectionUnderTest {
  const effects: Effect[] = [];
  const clock = new TimerClock();
  const registry = new RecordingRegistry(effects);
  const socketInput = {} as SocketActorInput; // the fake socket reads nothing from it but its identity
  const socketState: FakeSocketState = { effects, disposed: false, emit: () => undefined };
  socketStates.set(socketInput, socketState);
  const headers = {};
  roleSinks.set(headers, effects);
  const input: ConnectionInput = {
    connectionId: CONNECTION_ID,
    route: ROUTE,
    codec: jsonCodec,
    timings,
    params: { validator_hotkey: IDENTITY },
    headers,
    remoteAddress: '127.0.0.1',
    reliable: false,
    socket: socketInput,
    metrics: recordingMetrics(effects),
    registry,
    clock: { nowMs: () => clock.now() },
  };
  const actor = createActor(withFakes(machine), { input, clock });
  actor.start();
  const children = actor.getSnapshot().children as Record<string, AnyActorRef | undefined>;
  const role = children.role;
  const socket = children.socket;
  if (role === undefined || socket === undefined) throw new Error('the connection did not start its role and socket');
  return {
    actor,
    clock,
    registry,
    role,
    socket,
    socketDisposed: () => socketState.disposed,
    fromSocket: (event) => socketState.emit(event),
    roleDoes: (what) => role.send({ type: `test.${what}` }),
    explodeSocket: () => socket.send({ type: EXPLODE }),
    takeEffects: () => effects.splice(0),
    stop: () => actor.stop(),
  };
}
