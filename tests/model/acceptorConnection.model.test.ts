/**
 * Model-based test of the acceptor's connection machine (toolchain.md §4).
 *
 * `connectionModel` below is a PURE protocol model (no invoke, no `after`) of what the connection promises to the
 * outside: which role events, socket commands, registry writes and metric points each event causes, which timers
 * are pending and when they fall due, and how the connection ends. Time is part of the model: every pending timer
 * has a due time, and a TICK_* event is possible only when its timer is the next one due (so one tick fires exactly
 * one timer, as the real clock would).
 *
 * xstate/graph enumerates event sequences over the model: the shortest path to every model state, extended by every
 * event (so every transition, and every event ignored in every state, is exercised), plus every simple path
 * through authentication and the heartbeat. Each sequence drives the REAL `connectionMachine` (fake socket and
 * scripted role injected with `.provide()`, SimulatedClock, see tests/support/connectionModel.ts); after every step
 * the test compares, channel by channel, the effects the real actor produced with the ones the model announced,
 * and checks the pending timers, the registry entry and, once done, the actor's output and stopped children. A tick
 * first advances the clock to 1 ms before the due time and checks that nothing happened yet, so deadlines are
 * checked to the millisecond. Last, deliberately broken variants of the machine must each fail some sequence.
 */
import { assign, initialTransition, setup, transition, type Snapshot, type SnapshotFrom } from 'xstate';
import { getShortestPaths, getSimplePaths } from 'xstate/graph';
import { CLOSE_BY_ERROR_CODE, CloseCode } from '../../src/transport/acceptor/closeCodes';
import { connectionMachine, type ConnectionTimings } from '../../src/transport/acceptor/connection.machine';
import type { SocketCommand } from '../../src/transport/acceptor/socket.types';
import {
  ABNORMAL_CLOSE,
  CONNECTION_ID,
  IDENTITY,
  MALFORMED_FRAME,
  OVERSIZE_ERROR,
  PEER_CLOSE_FRAME,
  PEER_FRAME,
  PEER_MESSAGE,
  ROLE_CLOSE,
  ROLE_FRAME,
  ROUTE,
  SHUTDOWN_GRACE_MS,
  startConnection,
  type ConnectionUnderTest,
  type Effect,
  type RoleSeen,
} from '../support/connectionModel';

type ModelEvent =
  /** The role vouches for the peer (`connection.authenticated`). */
  | { type: 'AUTHENTICATE' }
  /** The peer sends a well-formed frame. */
  | { type: 'MESSAGE' }
  /** The peer sends a frame the codec refuses. */
  | { type: 'DECODE_ERROR' }
  /** The role sends a message (`connection.send`). */
  | { type: 'ROLE_SEND' }
  /** The role sends a message the codec cannot encode. */
  | { type: 'ROLE_SEND_UNENCODABLE' }
  /** The role closes with its own code (3001 unknown validator). */
  | { type: 'ROLE_CLOSE' }
  /** The role logic reaches its final state. */
  | { type: 'ROLE_FINISH' }
  /** The role logic fails. */
  | { type: 'ROLE_FAIL' }
  /** `acceptor.close()`: `connection.shutdown` with a short grace. */
  | { type: 'SHUTDOWN' }
  /** The peer answers a ping. */
  | { type: 'PONG' }
  /** Time reaches the auth deadline (possible only when it is the next timer due). */
  | { type: 'TICK_AUTH_DEADLINE' }
  /** Time reaches the heartbeat timer: the next ping when quiet, the pong timeout when probing. */
  | { type: 'TICK_HEARTBEAT' }
  /** Time reaches the close timeout while closing. */
  | { type: 'TICK_CLOSE_TIMEOUT' }
  /** The peer's close frame arrives (4321 "bye"). */
  | { type: 'PEER_CLOSE' }
  /** The socket reports it is gone without a close frame (1006). */
  | { type: 'SOCKET_CLOSED' }
  /** ws refuses an oversize frame. */
  | { type: 'SOCKET_ERROR' }
  /** The socket's send buffer is full. */
  | { type: 'OVERFLOW' }
  /** The socket actor itself fails. */
  | { type: 'SOCKET_FAIL' };

const ALL_EVENTS: ModelEvent[] = (
  [
    'AUTHENTICATE',
    'MESSAGE',
    'DECODE_ERROR',
    'ROLE_SEND',
    'ROLE_SEND_UNENCODABLE',
    'ROLE_CLOSE',
    'ROLE_FINISH',
    'ROLE_FAIL',
    'SHUTDOWN',
    'PONG',
    'TICK_AUTH_DEADLINE',
    'TICK_HEARTBEAT',
    'TICK_CLOSE_TIMEOUT',
    'PEER_CLOSE',
    'SOCKET_CLOSED',
    'SOCKET_ERROR',
    'OVERFLOW',
    'SOCKET_FAIL',
  ] as const
).map((type) => ({ type }));

const isTick = (event: ModelEvent): boolean => event.type.startsWith('TICK_');

/** How the connection ends, as the peer, the role and the supervisor see it. */
interface Ending {
  readonly code: number;
  readonly reason: string;
  readonly initiator: 'server' | 'peer';
  /** Ended without a close frame: the socket is terminated instead of closed. */
  readonly terminate: boolean;
}

/** A server-side ending with its documented close code; the wire reason is the one closeCodes.ts maps it to. */
const server = (errorCode: string, code: number, terminate = false): Ending => ({
  code,
  reason: CLOSE_BY_ERROR_CODE[errorCode]!.reason,
  initiator: 'server',
  terminate,
});

const ENDINGS = {
  authDeadline: server('auth.deadline_exceeded', CloseCode.policyViolation),
  heartbeat: server('connection.heartbeat_timeout', CloseCode.abnormal, true),
  roleFinished: server('connection.normal', CloseCode.normal),
  roleFailed: server('connection.role_failed', CloseCode.internalError),
  encodeFailed: server('connection.encode_failed', CloseCode.internalError),
  shutdown: server('acceptor.shutting_down', CloseCode.goingAway),
  oversize: server('frame.too_large', CloseCode.messageTooBig),
  overflow: server('transport.send_overflow', CloseCode.sendOverflow),
  roleClose: { code: ROLE_CLOSE.code, reason: ROLE_CLOSE.reason, initiator: 'server', terminate: false },
  socketFailed: { code: CloseCode.abnormal, reason: 'socket actor failed', initiator: 'server', terminate: true },
  peerClose: { ...PEER_CLOSE_FRAME, initiator: 'peer', terminate: false },
  peerGone: { ...ABNORMAL_CLOSE, initiator: 'peer', terminate: false },
} as const satisfies Record<string, Ending>;

interface ModelContext {
  readonly timings: ConnectionTimings;
  /** Simulated time; the connection opened at 0. */
  nowMs: number;
  /** When each timer falls due; meaningful only while its state is active (see `pendingTimers`). */
  authDueMs: number;
  livenessDueMs: number;
  closeDueMs: number;
  authenticated: boolean;
  roleAlive: boolean;
  /** The socket actor failed (XState then never runs its cleanup). */
  socketFailed: boolean;
  ending: Ending | undefined;
  closeTimeoutMs: number;
}

const metric = (name: Extract<Effect, { to: 'metric' }>['name'], value: number, attributes = {}): Effect => ({
  to: 'metric',
  name,
  value,
  attributes: { route: ROUTE, ...attributes },
});
const toSocket = (command: SocketCommand): Effect => ({ to: 'socket', command });
const closeCommand = (ending: Ending): SocketCommand =>
  ending.terminate ? { type: 'socket.terminate' } : { type: 'socket.close', code: ending.code, reason: ending.reason };
const roleGets = (event: RoleSeen): Effect => ({ to: 'role', event });
/** Model action: these effects must happen now. */
const emit = (...effects: Effect[]) => ({ type: 'emit', params: effects }) as const;
/** Model action: the connection ends this way (the first ending sticks). */
const end = (ending: Ending) => ({ type: 'end', params: ending }) as const;
const dropped = metric('droppedMessages', 1, { reason: 'closing' });
const socketErrorCounted = metric('socketErrors', 1, { error: OVERSIZE_ERROR.wsCode });

const connectionModel = setup({
  types: { context: {} as ModelContext, events: {} as ModelEvent, input: {} as ConnectionTimings },
  actions: {
    /** The effects this transition must have, in order per channel (compared with what the real actor did). */
    emit: (_, _effects: Effect[]) => undefined,
    end: assign((_, ending: Ending) => ({ ending })),
    roleGone: assign({ roleAlive: false }),
    socketGone: assign({ socketFailed: true }),
    advanceTo: assign(({ context }, timer: { due: 'authDueMs' | 'livenessDueMs' | 'closeDueMs' }) => ({
      nowMs: context[timer.due],
    })),
  },
  guards: {
    roleAlive: ({ context }) => context.roleAlive,
    // In `open`, the liveness timer always runs and the auth deadline runs until the role authenticates.
    authDueFirst: ({ context }) => !context.authenticated && context.authDueMs < context.livenessDueMs,
    livenessDueFirst: ({ context }) => context.authenticated || context.livenessDueMs < context.authDueMs,
    graceShortens: ({ context }) => SHUTDOWN_GRACE_MS < context.closeTimeoutMs,
  },
}).createMachine({
  id: 'connectionModel',
  context: ({ input }) => ({
    timings: input,
    nowMs: 0,
    authDueMs: 0,
    livenessDueMs: 0,
    closeDueMs: 0,
    authenticated: false,
    roleAlive: true,
    socketFailed: false,
    ending: undefined,
    closeTimeoutMs: input.closeTimeoutMs,
  }),
  entry: emit({ to: 'registry', call: 'opened' }, metric('openConnections', 1)),
  initial: 'open',
  states: {
    open: {
      type: 'parallel',
      on: {
        // Before and after authentication alike: the role sees the auth message too (connection.types.ts).
        MESSAGE: {
          actions: emit(
            metric('messages', 1, { direction: 'in' }),
            roleGets({ type: 'connection.message', message: PEER_MESSAGE }),
          ),
        },
        // The connection stays open: the role decides what a malformed frame means.
        DECODE_ERROR: {
          actions: emit(
            metric('messages', 1, { direction: 'in' }),
            metric('decodeErrors', 1),
            roleGets({ type: 'connection.decode_error', code: 'frame.malformed_json' }),
          ),
        },
        ROLE_SEND: {
          guard: 'roleAlive',
          actions: emit(toSocket({ type: 'socket.send', text: ROLE_FRAME }), metric('messages', 1, { direction: 'out' })),
        },
        ROLE_SEND_UNENCODABLE: { guard: 'roleAlive', target: 'closing', actions: end(ENDINGS.encodeFailed) },
        ROLE_CLOSE: { guard: 'roleAlive', target: 'closing', actions: end(ENDINGS.roleClose) },
        ROLE_FINISH: { guard: 'roleAlive', target: 'closing', actions: ['roleGone', end(ENDINGS.roleFinished)] },
        ROLE_FAIL: { guard: 'roleAlive', target: 'closing', actions: ['roleGone', end(ENDINGS.roleFailed)] },
        SHUTDOWN: { target: 'closing', actions: [end(ENDINGS.shutdown), assign({ closeTimeoutMs: SHUTDOWN_GRACE_MS })] },
        SOCKET_ERROR: { target: 'closing', actions: [emit(socketErrorCounted), end(ENDINGS.oversize)] },
        OVERFLOW: { target: 'closing', actions: end(ENDINGS.overflow) },
        // The socket is already gone: straight to `closed`, no command to it.
        PEER_CLOSE: { target: 'closed', actions: end(ENDINGS.peerClose) },
        SOCKET_CLOSED: { target: 'closed', actions: end(ENDINGS.peerGone) },
        SOCKET_FAIL: { target: 'closed', actions: ['socketGone', end(ENDINGS.socketFailed)] },
      },
      states: {
        session: {
          initial: 'awaitingAuth',
          states: {
            awaitingAuth: {
              entry: assign(({ context }) => ({ authDueMs: context.nowMs + context.timings.authDeadlineMs })),
              on: {
                AUTHENTICATE: {
                  guard: 'roleAlive',
                  target: 'serving',
                  actions: [
                    assign({ authenticated: true }),
                    {
                      type: 'emit',
                      params: ({ context }) => [
                        { to: 'registry', call: 'authenticated', identity: IDENTITY },
                        metric('authDurationMs', context.nowMs), // opened at 0
                      ],
                    },
                  ],
                },
                TICK_AUTH_DEADLINE: {
                  guard: 'authDueFirst',
                  target: '#connectionModel.closing',
                  actions: [{ type: 'advanceTo', params: { due: 'authDueMs' } }, end(ENDINGS.authDeadline)],
                },
              },
            },
            // A second AUTHENTICATE changes nothing: the identity is set once.
            serving: {},
          },
        },
        liveness: {
          initial: 'quiet',
          states: {
            quiet: {
              entry: assign(({ context }) => ({ livenessDueMs: context.nowMs + context.timings.heartbeatIntervalMs })),
              on: {
                TICK_HEARTBEAT: {
                  guard: 'livenessDueFirst',
                  target: 'probing',
                  actions: { type: 'advanceTo', params: { due: 'livenessDueMs' } },
                },
              },
            },
            probing: {
              entry: [
                assign(({ context }) => ({ livenessDueMs: context.nowMs + context.timings.pongTimeoutMs })),
                emit(toSocket({ type: 'socket.ping' })),
              ],
              on: {
                PONG: 'quiet',
                TICK_HEARTBEAT: {
                  guard: 'livenessDueFirst',
                  target: '#connectionModel.closing',
                  actions: [{ type: 'advanceTo', params: { due: 'livenessDueMs' } }, end(ENDINGS.heartbeat)],
                },
              },
            },
          },
        },
      },
    },
    // The ending is decided; frames in are ignored, sends are dropped (and counted), a later cause changes nothing.
    closing: {
      entry: [
        assign(({ context }) => ({ closeDueMs: context.nowMs + context.closeTimeoutMs })),
        { type: 'emit', params: ({ context }) => [toSocket(closeCommand(context.ending!))] },
      ],
      on: {
        ROLE_SEND: { guard: 'roleAlive', actions: emit(dropped) },
        ROLE_SEND_UNENCODABLE: { guard: 'roleAlive', actions: emit(dropped) },
        ROLE_FINISH: { guard: 'roleAlive', actions: 'roleGone' },
        ROLE_FAIL: { guard: 'roleAlive', actions: 'roleGone' },
        // A shorter grace restarts the wait, and the close goes out again (a no-op on a closing socket).
        SHUTDOWN: {
          guard: 'graceShortens',
          target: 'closing',
          reenter: true,
          actions: assign({ closeTimeoutMs: SHUTDOWN_GRACE_MS }),
        },
        SOCKET_ERROR: { actions: emit(socketErrorCounted) },
        PEER_CLOSE: 'closed',
        SOCKET_CLOSED: 'closed',
        SOCKET_FAIL: { target: 'closed', actions: 'socketGone' },
        TICK_CLOSE_TIMEOUT: {
          target: 'closed',
          actions: [{ type: 'advanceTo', params: { due: 'closeDueMs' } }, emit(toSocket({ type: 'socket.terminate' }))],
        },
      },
    },
    // Gone: the role (if still running) hears why, the registry entry goes, the close is counted. Nothing after.
    closed: {
      type: 'final',
      entry: [
        {
          type: 'emit',
          params: ({ context }) => {
            const { code, reason, initiator } = context.ending!;
            const effects: Effect[] = [];
            if (context.roleAlive) effects.push(roleGets({ type: 'connection.closed', code, reason, initiator }));
            effects.push(
              { to: 'registry', call: 'closed' },
              metric('openConnections', -1),
              metric('closes', 1, { code, initiator }),
            );
            return effects;
          },
        },
        'roleGone',
      ],
    },
  },
});

type ModelSnapshot = SnapshotFrom<typeof connectionModel>;

/** The timers the model says are pending, as due times from the opening of the connection. */
function pendingTimers(state: ModelSnapshot): { auth?: number; liveness?: number; close?: number } {
  const { context } = state;
  if (state.matches('closing')) return { close: context.closeDueMs };
  if (!state.matches('open')) return {};
  const liveness = context.livenessDueMs;
  return context.authenticated ? { liveness } : { auth: context.authDueMs, liveness };
}

/** When the tick `event` fires its timer, or undefined when the model does not allow it now. */
function tickDueMs(state: ModelSnapshot, event: ModelEvent): number | undefined {
  if (!state.can(event)) return undefined;
  const timers = pendingTimers(state);
  if (event.type === 'TICK_AUTH_DEADLINE') return timers.auth;
  if (event.type === 'TICK_HEARTBEAT') return timers.liveness;
  return timers.close;
}

/** Graph key: what decides the future (time only relative to now; elapsed time matters only through the dues). */
function serializeState(state: ModelSnapshot): string {
  const { context } = state;
  const timers = Object.entries(pendingTimers(state)).map(([name, due]) => [name, due - context.nowMs]);
  return JSON.stringify({
    v: state.value,
    timers,
    a: context.authenticated,
    r: context.roleAlive,
    s: context.socketFailed,
    e: context.ending,
    c: context.closeTimeoutMs,
  });
}

function effectsOf(actions: ReadonlyArray<{ type: string; params?: unknown }>): Effect[] {
  return actions.filter((a) => a.type === 'emit').flatMap((a) => a.params as Effect[]);
}

/** Effects split by channel: their order matters within a channel, not across channels. */
function byChannel(effects: Effect[]): Record<Effect['to'], Effect[]> {
  const channels: Record<Effect['to'], Effect[]> = { role: [], socket: [], registry: [], metric: [] };
  for (const effect of effects) channels[effect.to].push(effect);
  return channels;
}

function perform(sut: ConnectionUnderTest, event: ModelEvent): void {
  switch (event.type) {
    case 'AUTHENTICATE':
      return sut.roleDoes('authenticate');
    case 'MESSAGE':
      return sut.fromSocket({ type: 'socket.message', text: PEER_FRAME });
    case 'DECODE_ERROR':
      return sut.fromSocket({ type: 'socket.message', text: MALFORMED_FRAME });
    case 'ROLE_SEND':
      return sut.roleDoes('send');
    case 'ROLE_SEND_UNENCODABLE':
      return sut.roleDoes('send_unencodable');
    case 'ROLE_CLOSE':
      return sut.roleDoes('close');
    case 'ROLE_FINISH':
      return sut.roleDoes('finish');
    case 'ROLE_FAIL':
      return sut.roleDoes('fail');
    case 'SHUTDOWN':
      return sut.actor.send({ type: 'connection.shutdown', graceMs: SHUTDOWN_GRACE_MS });
    case 'PONG':
      return sut.fromSocket({ type: 'socket.pong' });
    case 'PEER_CLOSE':
      return sut.fromSocket({ type: 'socket.closed', ...PEER_CLOSE_FRAME });
    case 'SOCKET_CLOSED':
      return sut.fromSocket({ type: 'socket.closed', ...ABNORMAL_CLOSE });
    case 'SOCKET_ERROR':
      return sut.fromSocket(OVERSIZE_ERROR);
    case 'OVERFLOW':
      return sut.fromSocket({ type: 'socket.overflow' });
    case 'SOCKET_FAIL':
      return sut.explodeSocket();
    case 'TICK_AUTH_DEADLINE':
    case 'TICK_HEARTBEAT':
    case 'TICK_CLOSE_TIMEOUT':
      throw new Error(`${event.type} is played by advancing the clock`);
  }
}

/** Model steps, memoized per snapshot: the scripts share their prefixes, and a model step costs more than a real one. */
const modelStarts = new Map<ConnectionTimings, readonly [ModelSnapshot, Effect[]]>();
const modelSteps = new WeakMap<ModelSnapshot, Map<ModelEvent['type'], readonly [ModelSnapshot, Effect[]]>>();

function modelStart(timings: ConnectionTimings): readonly [ModelSnapshot, Effect[]] {
  let start = modelStarts.get(timings);
  if (start === undefined) {
    const [state, actions] = initialTransition(connectionModel, timings);
    modelStarts.set(timings, (start = [state, effectsOf(actions)]));
  }
  return start;
}

function modelStep(state: ModelSnapshot, event: ModelEvent): readonly [ModelSnapshot, Effect[]] {
  let from = modelSteps.get(state);
  if (from === undefined) modelSteps.set(state, (from = new Map<ModelEvent['type'], readonly [ModelSnapshot, Effect[]]>()));
  let step = from.get(event.type);
  if (step === undefined) {
    const [next, actions] = transition(connectionModel, state, event);
    from.set(event.type, (step = [next, effectsOf(actions)]));
  }
  return step;
}

/** What a test can see of a connection after a step; the model predicts all of it. */
interface View {
  readonly effects: Record<Effect['to'], Effect[]>;
  readonly value: unknown;
  readonly status: string;
  readonly nowMs: number;
  /** Due times of the pending timers, earliest first. */
  readonly dueMs: number[];
  readonly registered: boolean;
  readonly identity: string | undefined;
  /** Once done: the actor's output, and whether its children still run (none may) or were disposed. */
  readonly end?: { output: unknown; roleRuns: boolean; socketRuns: boolean; socketDisposed: boolean };
}

function expectedView(state: ModelSnapshot, effects: Effect[]): View {
  const done = state.status === 'done';
  const identity = state.context.authenticated ? IDENTITY : undefined;
  const view: View = {
    effects: byChannel(effects),
    value: state.value,
    status: done ? 'done' : 'active',
    nowMs: state.context.nowMs,
    dueMs: Object.values(pendingTimers(state)).sort((a, b) => a - b),
    registered: !done,
    identity: done ? undefined : identity,
  };
  if (!done) return view;
  const { code, reason, initiator } = state.context.ending!;
  return {
    ...view,
    end: {
      output: { connectionId: CONNECTION_ID, identity, code, reason, initiator },
      roleRuns: false,
      socketRuns: false,
      // XState never disposes a callback actor that failed; every other one is stopped with the connection.
      socketDisposed: !state.context.socketFailed,
    },
  };
}

function actualView(sut: ConnectionUnderTest): View {
  const real = sut.actor.getSnapshot();
  const entry = sut.registry.get(CONNECTION_ID);
  const view: View = {
    effects: byChannel(sut.takeEffects()),
    value: real.value,
    status: real.status,
    nowMs: sut.clock.now(),
    dueMs: sut.clock.pendingDueTimesMs(),
    registered: entry !== undefined,
    identity: entry?.identity,
  };
  if (real.status !== 'done') return view;
  return {
    ...view,
    end: {
      output: real.output,
      roleRuns: (sut.role.getSnapshot() as Snapshot<unknown>).status === 'active',
      socketRuns: (sut.socket.getSnapshot() as Snapshot<unknown>).status === 'active',
      socketDisposed: sut.socketDisposed(),
    },
  };
}

/** JSON with sorted keys (undefined properties dropped, as `toEqual` ignores them). */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );

/** Compares cheaply, and through jest (for a readable diff naming the step) only when they differ. */
function expectAgreement(actual: View, expected: View, where: string): void {
  if (canonical(actual) !== canonical(expected)) expect({ where, ...actual }).toEqual({ where, ...expected });
}

/**
 * Plays `events` on the real connection machine (or `machine`) and on the model, checking them against each other
 * after every step. Throws (a jest assertion error) at the first disagreement.
 */
function agreesWithModel(timings: ConnectionTimings, events: ModelEvent[], machine = connectionMachine): void {
  const script = describeEvents(events);
  const sut = startConnection(timings, machine);
  try {
    let [state, effects] = modelStart(timings);
    expectAgreement(actualView(sut), expectedView(state, effects), `${script} | start`);
    for (const [i, event] of events.entries()) {
      const where = `${script} | step ${i + 1} (${event.type})`;
      if (isTick(event)) {
        const dueMs = tickDueMs(state, event);
        if (dueMs === undefined) continue; // not this timer's turn: the model offers no such tick
        sut.clock.increment(dueMs - 1 - sut.clock.now());
        // One millisecond early, nothing may have happened yet.
        const early = { ...expectedView(state, []), nowMs: dueMs - 1 };
        expectAgreement(actualView(sut), early, `${where}, 1 ms before it is due`);
        sut.clock.increment(1);
      } else {
        perform(sut, event);
      }
      [state, effects] = modelStep(state, event);
      expectAgreement(actualView(sut), expectedView(state, effects), where);
    }
  } finally {
    sut.stop();
  }
  expect(sut.clock.pendingDueTimesMs()).toEqual([]);
}

const describeEvents = (events: readonly ModelEvent[]): string => events.map((e) => e.type).join(' → ') || '(start)';
const withoutInit = (steps: ReadonlyArray<{ event: ModelEvent | { type: string } }>): ModelEvent[] =>
  steps.map((s) => s.event).filter((e): e is ModelEvent => !e.type.startsWith('xstate.'));

const scriptsByTimings = new Map<ConnectionTimings, StateScripts[]>();

interface StateScripts {
  /** The shortest way to reach the state. */
  readonly prefix: ModelEvent[];
  readonly state: ModelSnapshot;
  readonly scripts: ModelEvent[][];
}

/**
 * Scripts covering every transition of the model: the shortest path to every model state, then, from there, each
 * event that moves the model elsewhere (one script each), and all the events it ignores or loops on, one after the
 * other in a single script (the model stays put, so chaining them is the same as trying each alone).
 */
function transitionScripts(timings: ConnectionTimings): StateScripts[] {
  const known = scriptsByTimings.get(timings);
  if (known !== undefined) return known;
  const paths = getShortestPaths(connectionModel, { events: ALL_EVENTS, serializeState, input: timings });
  const byState = paths.map((path) => {
    const prefix = withoutInit(path.steps);
    // Replayed rather than taken from the path: the graph keeps one snapshot per key, not necessarily this path's
    // (absolute time may differ), and replaying fills the cache the scripts will run from.
    const state = prefix.reduce((s, event) => modelStep(s, event)[0], modelStart(timings)[0]);
    const here = serializeState(state);
    const stays: ModelEvent[] = [];
    const scripts: ModelEvent[][] = [];
    for (const event of ALL_EVENTS) {
      // An untimely tick is no event at all; every other event may happen in any state.
      if (isTick(event) && !state.can(event)) continue;
      if (serializeState(modelStep(state, event)[0]) === here) stays.push(event);
      else scripts.push([...prefix, event]);
    }
    scripts.push([...prefix, ...stays]);
    return { prefix, state, scripts };
  });
  scriptsByTimings.set(timings, byState);
  return byState;
}

const CLOSE_TIMEOUT_MS = 5_000;
const PROFILES: ReadonlyArray<{ name: string; timings: ConnectionTimings }> = [
  {
    name: 'auth deadline before the first heartbeat',
    timings: { authDeadlineMs: 500, heartbeatIntervalMs: 1_000, pongTimeoutMs: 700, closeTimeoutMs: CLOSE_TIMEOUT_MS },
  },
  {
    // Ping at 1000, pong timeout at 1700, or (after a pong) the next ping at 2000: the deadline at 2500 lands mid-probe.
    name: 'heartbeats while awaiting authentication',
    timings: { authDeadlineMs: 2_500, heartbeatIntervalMs: 1_000, pongTimeoutMs: 700, closeTimeoutMs: CLOSE_TIMEOUT_MS },
  },
];

describe.each(PROFILES)('connection machine against its model: $name', ({ timings }) => {
  const byState = transitionScripts(timings);
  const closing = byState.filter(({ state }) => state.matches('closing'));
  const done = byState.filter(({ state }) => state.status === 'done');

  it('reaches every documented ending, and never has two timers due at the same millisecond', () => {
    const endings = new Set(done.map(({ state }) => canonical(state.context.ending)));
    expect(endings).toEqual(new Set(Object.values(ENDINGS).map(canonical)));
    for (const { state } of byState) {
      const dues = Object.values(pendingTimers(state));
      expect(new Set(dues).size).toBe(dues.length); // a tie would leave the real firing order to chance
    }
    expect(closing.length).toBeGreaterThan(10);
  });

  it('closes an unauthenticated connection with 1008 exactly at the auth deadline', () => {
    const atDeadline = byState.filter(
      ({ state }) => state.matches('closing') && state.context.ending === ENDINGS.authDeadline,
    );
    expect(atDeadline.length).toBeGreaterThan(0);
    expect(ENDINGS.authDeadline).toMatchObject({ code: 1008, reason: 'authentication deadline exceeded' });
    for (const { prefix, state } of atDeadline) {
      expect(state.context.nowMs).toBe(timings.authDeadlineMs);
      agreesWithModel(timings, prefix);
    }
  });

  it.each(byState.map((s) => [describeEvents(s.prefix), s] as const))(
    'after %s, agrees with the model on every event',
    (_name, { scripts }) => {
      for (const script of scripts) agreesWithModel(timings, script);
    },
  );
});

describe('every simple path through authentication and the heartbeat', () => {
  const timings = PROFILES[1]!.timings;
  // Every interleaving of the role authenticating, pings, pongs and the deadlines, and the socket going away.
  const events: ModelEvent[] = [
    { type: 'AUTHENTICATE' },
    { type: 'PONG' },
    { type: 'TICK_AUTH_DEADLINE' },
    { type: 'TICK_HEARTBEAT' },
    { type: 'TICK_CLOSE_TIMEOUT' },
    { type: 'SOCKET_CLOSED' },
  ];
  const paths = getSimplePaths(connectionModel, { events, serializeState, input: timings });
  const scripts = paths.map((p) => withoutInit(p.steps));

  it('agrees with the model along each of them', () => {
    expect(scripts.length).toBeGreaterThan(40);
    for (const script of scripts) agreesWithModel(timings, script);
  });
});

/** Deliberately broken variants of the machine (through `.provide()`): each must disagree with the model somewhere. */
const mutantProfile = PROFILES[0]!.timings;
const MUTANTS: ReadonlyArray<{ flaw: string; machine: typeof connectionMachine }> = [
  {
    flaw: 'enforces the auth deadline 1 ms late',
    machine: connectionMachine.provide({ delays: { authDeadline: ({ context }) => context.timings.authDeadlineMs + 1 } }),
  },
  {
    flaw: 'waits 1 ms too long for a pong',
    machine: connectionMachine.provide({ delays: { pongTimeout: ({ context }) => context.timings.pongTimeoutMs + 1 } }),
  },
  { flaw: 'never pings', machine: connectionMachine.provide({ actions: { sendPing: () => undefined } }) },
  {
    flaw: 'closes with 1011 at the auth deadline',
    machine: connectionMachine.provide({
      actions: {
        endByAuthDeadline: assign({
          ending: () => ({ code: 1011, reason: 'internal error', initiator: 'server' as const, terminate: false }),
        }),
      },
    }),
  },
  {
    flaw: 'sends a close frame instead of terminating a silent peer',
    machine: connectionMachine.provide({
      actions: {
        endByHeartbeat: assign({
          ending: () => ({ code: 1000, reason: 'heartbeat timeout', initiator: 'server' as const, terminate: false }),
        }),
      },
    }),
  },
  {
    flaw: 'does not tell the role why it closed',
    machine: connectionMachine.provide({ actions: { notifyRoleClosed: () => undefined } }),
  },
  {
    flaw: 'leaves its registry entry behind',
    machine: connectionMachine.provide({ actions: { recordClosed: () => undefined } }),
  },
];

describe('the model test itself', () => {
  // Shortest first: a flaw shows up early, and the search stops at the first disagreement.
  const scripts = transitionScripts(mutantProfile)
    .flatMap((s) => s.scripts)
    .sort((a, b) => a.length - b.length);

  it.each(MUTANTS)('catches a connection machine that $flaw', ({ machine }) => {
    const caught = scripts.find((script) => {
      try {
        agreesWithModel(mutantProfile, script, machine);
        return false;
      } catch {
        return true;
      }
    });
    expect(caught).toBeDefined();
  });
});
