import { assign, createActor, fromCallback, setup, SimulatedClock, type Actor } from 'xstate';
import {
  connectionMachine,
  type ConnectionInput,
  type ConnectionRoleLogic,
} from '../../../src/transport/acceptor/connection.machine';
import type { ConnectionRoleEvent } from '../../../src/transport/acceptor/connection.types';
import { withFastFrames } from '../../../src/transport/acceptor/fastFrames';
import { ConnectionRegistry } from '../../../src/transport/acceptor/registry';
import type { SocketActorInput, SocketCommand, SocketEvent } from '../../../src/transport/acceptor/socket.types';
import { manualClock } from '../../../src/util/clock';
import { jsonCodec, testMetrics, type Json, type TestMetrics } from '../../support/acceptorHelpers';

const TIMINGS = { authDeadlineMs: 10_000, heartbeatIntervalMs: 30_000, pongTimeoutMs: 120_000, closeTimeoutMs: 5_000 };

/** A socket actor that records the machine's commands and lets the test play the socket's events. */
function fakeSocket() {
  const commands: SocketCommand[] = [];
  const state = { stopped: false, emit: (_event: SocketEvent): void => undefined };
  const logic = fromCallback<SocketCommand, SocketActorInput>(({ sendBack, receive }) => {
    state.emit = (event) => sendBack(event);
    receive((command) => commands.push(command));
    return () => {
      state.stopped = true;
    };
  });
  return { logic, commands, state, emit: (event: SocketEvent) => state.emit(event) };
}

/**
 * A role that records every event; a message `{cmd:'finish'}` makes it reach its final state and `{cmd:'fail'}`
 * makes it throw.
 */
function recordingRole(log: ConnectionRoleEvent<Json>[]) {
  return setup({
    types: { events: {} as ConnectionRoleEvent<Json>, context: {} as { n: number } },
    actions: {
      fail: () => {
        throw new Error('role bug');
      },
    },
  }).createMachine({
    context: { n: 0 },
    initial: 'running',
    states: {
      running: {
        on: {
          'connection.message': [
            { guard: ({ event }) => event.message.cmd === 'finish', target: 'finished' },
            { guard: ({ event }) => event.message.cmd === 'fail', actions: 'fail' },
            { actions: [({ event }) => log.push(event), assign({ n: ({ context }) => context.n + 1 })] },
          ],
          'connection.decode_error': { actions: ({ event }) => log.push(event) },
          'connection.closed': { actions: ({ event }) => log.push(event) },
        },
      },
      finished: { type: 'final' },
    },
  }) as unknown as ConnectionRoleLogic;
}

interface Harness {
  actor: Actor<typeof connectionMachine>;
  clock: SimulatedClock;
  wall: ReturnType<typeof manualClock>;
  socket: ReturnType<typeof fakeSocket>;
  roleLog: ConnectionRoleEvent<Json>[];
  registry: ConnectionRegistry;
  telemetry: TestMetrics;
  slowEvents: string[];
}

const running: Harness[] = [];
/** Every behaviour below holds for the bare machine and for the acceptor's `withFastFrames` wrapper of it. */
let fastFrames = false;

function start(overrides: Partial<ConnectionInput> = {}): Harness {
  const clock = new SimulatedClock();
  const wall = manualClock(1_700_000_000_000);
  const socket = fakeSocket();
  const roleLog: ConnectionRoleEvent<Json>[] = [];
  const registry = new ConnectionRegistry();
  const telemetry = testMetrics();
  const input: ConnectionInput = {
    connectionId: 'validator-1',
    route: 'validator',
    codec: jsonCodec,
    timings: TIMINGS,
    params: { validator_hotkey: 'hk' },
    headers: {},
    remoteAddress: '127.0.0.1',
    reliable: false,
    socket: {} as SocketActorInput, // the fake socket ignores it
    metrics: telemetry.metrics,
    registry,
    clock: wall,
    ...overrides,
  };
  const provided = connectionMachine.provide({ actors: { socket: socket.logic, role: recordingRole(roleLog) } });
  // Events the wrapped machine itself transitions on (with fast frames: those the fast path left to it).
  const slowEvents: string[] = [];
  const transition = provided.transition.bind(provided);
  provided.transition = (snapshot, event, scope) => {
    slowEvents.push(event.type);
    return transition(snapshot, event, scope);
  };
  const machine = fastFrames ? withFastFrames(provided) : provided;
  const actor = createActor(machine, { input, clock });
  actor.start();
  const harness = { actor, clock, wall, socket, roleLog, registry, telemetry, slowEvents };
  running.push(harness);
  return harness;
}

afterEach(async () => {
  for (const h of running.splice(0)) {
    h.actor.stop();
    await h.telemetry.shutdown();
  }
});

const closeCommands = (h: Harness) => h.socket.commands.filter((c) => c.type === 'socket.close' || c.type === 'socket.terminate');

describe.each([
  ['connection machine', false],
  ['connection machine with fast frames', true],
])('%s', (_name, fast) => {
  beforeAll(() => {
    fastFrames = fast;
  });

  it('starts awaiting authentication, registered, with the heartbeat quiet', () => {
    const h = start();
    expect(h.actor.getSnapshot().value).toEqual({ open: { session: 'awaitingAuth', liveness: 'quiet' } });
    expect(h.registry.get('validator-1')).toMatchObject({ route: 'validator', identity: undefined });
  });

  it('closes with 1008 when the role has not authenticated by the auth deadline', async () => {
    const h = start();
    h.clock.increment(TIMINGS.authDeadlineMs - 1);
    expect(closeCommands(h)).toEqual([]);
    h.clock.increment(1);
    expect(closeCommands(h)).toEqual([{ type: 'socket.close', code: 1008, reason: 'authentication deadline exceeded' }]);
    expect(h.actor.getSnapshot().value).toBe('closing');
    h.socket.emit({ type: 'socket.closed', code: 1008, reason: 'authentication deadline exceeded' });
    expect(h.actor.getSnapshot().status).toBe('done');
    expect(h.actor.getSnapshot().output).toEqual({
      connectionId: 'validator-1',
      identity: undefined,
      code: 1008,
      reason: 'authentication deadline exceeded',
      initiator: 'server',
    });
    expect(await h.telemetry.sum('horde_acceptor_closes_total', { code: 1008, initiator: 'server' })).toBe(1);
    expect(h.registry.size).toBe(0);
  });

  it('stops the auth deadline once the role authenticates, and records the identity and auth time', async () => {
    const h = start();
    h.clock.increment(2_000);
    h.wall.advance(2_000);
    h.actor.send({ type: 'connection.authenticated', identity: 'hk' });
    expect(h.actor.getSnapshot().value).toEqual({ open: { session: 'serving', liveness: 'quiet' } });
    h.clock.increment(TIMINGS.authDeadlineMs * 3);
    expect(closeCommands(h)).toEqual([]);
    expect(h.registry.byIdentity('hk').map((e) => e.connectionId)).toEqual(['validator-1']);
    expect(await h.telemetry.histogramCount('horde_acceptor_auth_duration_ms', { route: 'validator' })).toBe(1);
  });

  it('delivers decoded messages and decode errors to the role and stays open', async () => {
    const h = start();
    h.socket.emit({ type: 'socket.message', text: '{"message_type":"V0JobRequest"}' });
    h.socket.emit({ type: 'socket.message', text: 'not json' });
    expect(h.roleLog).toEqual([
      { type: 'connection.message', message: { message_type: 'V0JobRequest' } },
      { type: 'connection.decode_error', error: expect.objectContaining({ code: 'frame.malformed_json' }) as unknown },
    ]);
    expect(h.actor.getSnapshot().matches('open')).toBe(true);
    expect(await h.telemetry.sum('horde_acceptor_decode_errors_total', { route: 'validator' })).toBe(1);
    expect(await h.telemetry.sum('horde_acceptor_messages_total', { direction: 'in' })).toBe(2);
  });

  it('encodes connection.send with the route codec', async () => {
    const h = start();
    h.actor.send({ type: 'connection.send', message: { message_type: 'GenericError', details: 'x' } });
    expect(h.socket.commands).toEqual([{ type: 'socket.send', text: '{"message_type":"GenericError","details":"x"}' }]);
    expect(await h.telemetry.sum('horde_acceptor_messages_total', { direction: 'out' })).toBe(1);
  });

  it('closes with 1011 when the codec cannot encode a message', () => {
    const h = start({
      codec: {
        decode: jsonCodec.decode,
        encode: () => {
          throw new TypeError('Do not know how to serialize a BigInt');
        },
      },
    });
    h.actor.send({ type: 'connection.send', message: { n: 1n } });
    expect(closeCommands(h)).toEqual([{ type: 'socket.close', code: 1011, reason: 'internal error' }]);
  });

  it("closes with the role's code and reason, clamped to what a close frame carries", () => {
    const h = start();
    h.actor.send({ type: 'connection.close', code: 3001, reason: `Unknown validator: ${'5'.repeat(200)}` });
    const [command] = closeCommands(h);
    expect(command).toMatchObject({ type: 'socket.close', code: 3001 });
    const reason = (command as { reason: string }).reason;
    expect(reason.startsWith('Unknown validator: 555')).toBe(true);
    expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(123);
  });

  it('turns a close code a frame cannot carry into 1011', () => {
    const h = start();
    h.actor.send({ type: 'connection.close', code: 1006, reason: 'nope' });
    expect(closeCommands(h)).toEqual([{ type: 'socket.close', code: 1011, reason: 'invalid close code 1006' }]);
  });

  it('pings after each heartbeat interval and stays up while pongs come back', () => {
    const h = start();
    h.actor.send({ type: 'connection.authenticated', identity: 'hk' });
    for (let i = 1; i <= 3; i++) {
      h.clock.increment(TIMINGS.heartbeatIntervalMs);
      expect(h.socket.commands.filter((c) => c.type === 'socket.ping')).toHaveLength(i);
      h.clock.increment(TIMINGS.pongTimeoutMs - 1);
      h.socket.emit({ type: 'socket.pong' });
    }
    expect(closeCommands(h)).toEqual([]);
  });

  it('terminates the socket when a ping goes unanswered for the pong timeout, recording 1006', async () => {
    const h = start();
    h.actor.send({ type: 'connection.authenticated', identity: 'hk' });
    h.clock.increment(TIMINGS.heartbeatIntervalMs);
    h.clock.increment(TIMINGS.pongTimeoutMs);
    expect(closeCommands(h)).toEqual([{ type: 'socket.terminate' }]);
    h.socket.emit({ type: 'socket.closed', code: 1006, reason: '' });
    expect(h.actor.getSnapshot().output).toMatchObject({ code: 1006, reason: 'heartbeat timeout', initiator: 'server' });
    expect(await h.telemetry.sum('horde_acceptor_closes_total', { code: 1006 })).toBe(1);
  });

  it('closes with 1001 on supervisor.shutdown and terminates after its close timeout', () => {
    const h = start();
    h.actor.send({ type: 'supervisor.shutdown' });
    expect(closeCommands(h)).toEqual([{ type: 'socket.close', code: 1001, reason: 'server shutting down' }]);
    h.clock.increment(TIMINGS.closeTimeoutMs);
    expect(closeCommands(h)).toEqual([
      { type: 'socket.close', code: 1001, reason: 'server shutting down' },
      { type: 'socket.terminate' },
    ]);
    expect(h.actor.getSnapshot().status).toBe('done');
  });

  it('honours the grace and reason of connection.shutdown', () => {
    const h = start();
    h.actor.send({ type: 'connection.shutdown', graceMs: 200, reason: 'miner restarting' });
    expect(closeCommands(h)).toEqual([{ type: 'socket.close', code: 1001, reason: 'miner restarting' }]);
    h.clock.increment(199);
    expect(h.actor.getSnapshot().value).toBe('closing');
    h.clock.increment(1);
    expect(h.actor.getSnapshot().status).toBe('done');
  });

  it('shortens the wait of a connection already closing when shutdown grants less grace', () => {
    const h = start();
    h.actor.send({ type: 'connection.close', code: 1000, reason: 'done' });
    h.clock.increment(1_000);
    h.actor.send({ type: 'connection.shutdown', graceMs: 100 });
    h.clock.increment(99);
    expect(h.actor.getSnapshot().value).toBe('closing');
    h.clock.increment(1);
    expect(h.actor.getSnapshot().status).toBe('done');
    expect(h.actor.getSnapshot().output).toMatchObject({ code: 1000, reason: 'done' });
  });

  it('tells the role why the connection closed before stopping it, when the peer closes', () => {
    const h = start();
    h.socket.emit({ type: 'socket.closed', code: 4321, reason: 'bye' });
    expect(h.roleLog).toEqual([{ type: 'connection.closed', code: 4321, reason: 'bye', initiator: 'peer' }]);
    expect(h.actor.getSnapshot().status).toBe('done');
    expect(h.socket.state.stopped).toBe(true);
    expect(closeCommands(h)).toEqual([]);
  });

  it('closes with 1000 when the role finishes and with 1011 when it fails', () => {
    const finishing = start();
    finishing.socket.emit({ type: 'socket.message', text: '{"cmd":"finish"}' });
    expect(closeCommands(finishing)).toEqual([{ type: 'socket.close', code: 1000, reason: 'normal closure' }]);
    const failing = start();
    failing.socket.emit({ type: 'socket.message', text: '{"cmd":"fail"}' });
    expect(closeCommands(failing)).toEqual([{ type: 'socket.close', code: 1011, reason: 'internal error' }]);
  });

  it('records 1009 when ws reports an oversize frame', async () => {
    const h = start();
    h.socket.emit({
      type: 'socket.error',
      errorCode: 'frame.too_large',
      wsCode: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
      message: 'Max payload size exceeded',
    });
    h.socket.emit({ type: 'socket.closed', code: 1006, reason: '' });
    expect(h.actor.getSnapshot().output).toMatchObject({ code: 1009, reason: 'message too big', initiator: 'server' });
    expect(await h.telemetry.sum('horde_acceptor_socket_errors_total', { error: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' })).toBe(1);
  });

  it('closes as a slow consumer with 4000 when the socket overflows', () => {
    const h = start();
    h.socket.emit({ type: 'socket.overflow' });
    expect(closeCommands(h)).toEqual([{ type: 'socket.close', code: 4000, reason: 'send buffer overflow' }]);
  });

  it('drops and counts messages sent while closing, and ignores frames arriving then', async () => {
    const h = start();
    h.actor.send({ type: 'connection.close', code: 1000, reason: 'done' });
    h.actor.send({ type: 'connection.send', message: { late: true } });
    h.socket.emit({ type: 'socket.message', text: '{"late":true}' });
    expect(h.socket.commands.filter((c) => c.type === 'socket.send')).toEqual([]);
    expect(h.roleLog).toEqual([]);
    expect(await h.telemetry.sum('horde_acceptor_dropped_messages_total', { reason: 'closing' })).toBe(1);
  });

  it('keeps the open-connection gauge balanced over a whole lifecycle', async () => {
    const h = start();
    expect(await h.telemetry.sum('horde_acceptor_open_connections', { route: 'validator' })).toBe(1);
    h.socket.emit({ type: 'socket.closed', code: 1000, reason: '' });
    expect(await h.telemetry.sum('horde_acceptor_open_connections', { route: 'validator' })).toBe(0);
  });
});

describe('fast frames', () => {
  beforeAll(() => {
    fastFrames = true;
  });

  it('hands an inbound frame to the role and writes an answer without a macrostep of the connection', () => {
    const h = start();
    const before = h.actor.getSnapshot();
    h.slowEvents.length = 0;
    h.socket.emit({ type: 'socket.message', text: '{"a":1}' });
    h.actor.send({ type: 'connection.send', message: { b: 2 } });
    expect(h.slowEvents).toEqual([]);
    expect(h.actor.getSnapshot()).toBe(before);
    expect(h.roleLog).toEqual([{ type: 'connection.message', message: { a: 1 } }]);
    expect(h.socket.commands).toEqual([{ type: 'socket.send', text: '{"b":2}' }]);
  });

  it('leaves a closing connection to the machine: a send is dropped, not written', () => {
    const h = start();
    h.actor.send({ type: 'connection.close', code: 1000, reason: 'bye' });
    h.slowEvents.length = 0;
    h.actor.send({ type: 'connection.send', message: { late: true } });
    expect(h.slowEvents).toEqual(['connection.send']);
    expect(h.socket.commands.filter((c) => c.type === 'socket.send')).toEqual([]);
  });
});
