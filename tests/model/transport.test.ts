import { assign, createActor, setup, SimulatedClock, type Actor, type SnapshotFrom } from 'xstate';
import { createTestModel } from 'xstate/graph';
import { transportMachine, type TransportEmitted } from '../../src/transport/transport.machine';
import { withFastSend } from '../../src/transport/fastSend';
import type { TransportOptions } from '../../src/transport/options';
import { fakeSockets, testCodec, type TestMessage } from '../support/transportFakeSocket';

/**
 * A pure protocol model of the transport (no invoke, no timers: `createTestModel` refuses them). Its events are what
 * the network and the clock can do; `xstate/graph` enumerates paths through it, and each path drives the REAL
 * transport actor (fake socket via `.provide()`, SimulatedClock), checking invariants at every state.
 *
 * Context is bounded (queued <= capacity; attempts <= MAX_ATTEMPT, after which the transport gives up) so the state
 * graph stays finite. Guards never block an event the model offers (a blocked event would be a self-loop in the
 * model but still act on the real actor), so the bound is a real state: `gaveUp`.
 */
const CAPACITY = 2;
const MAX_ATTEMPT = 3;

const protocolModel = setup({
  types: {
    context: {} as { queued: number; attempt: number; stable: boolean },
    events: {} as { type: 'OPEN' } | { type: 'DROP' } | { type: 'TIMER' } | { type: 'SEND' } | { type: 'UPTIME' },
  },
  guards: {
    mayRetry: ({ context }) => context.attempt + 1 <= MAX_ATTEMPT,
    unstable: ({ context }) => !context.stable,
  },
  actions: {
    queue: assign({ queued: ({ context }) => Math.min(CAPACITY, context.queued + 1) }),
    fail: assign({ attempt: ({ context }) => context.attempt + 1 }),
  },
}).createMachine({
  id: 'model',
  context: { queued: 0, attempt: 0, stable: false },
  initial: 'connecting',
  states: {
    connecting: {
      on: {
        OPEN: { target: 'open', actions: assign({ queued: 0, stable: false }) },
        DROP: [{ guard: 'mayRetry', target: 'backingOff', actions: 'fail' }, { target: 'gaveUp' }], // refused
        TIMER: [{ guard: 'mayRetry', target: 'backingOff', actions: 'fail' }, { target: 'gaveUp' }], // connect timeout
        SEND: { actions: 'queue' },
      },
    },
    open: {
      on: {
        DROP: [{ guard: 'mayRetry', target: 'backingOff', actions: 'fail' }, { target: 'gaveUp' }],
        UPTIME: { guard: 'unstable', actions: assign({ stable: true, attempt: 0 }) },
        SEND: {},
      },
    },
    backingOff: {
      on: {
        TIMER: 'connecting',
        SEND: { actions: 'queue' },
      },
    },
    gaveUp: { type: 'final' },
  },
});

type ModelSnapshot = SnapshotFrom<typeof protocolModel>;

const OPTIONS: Partial<TransportOptions> = {
  maxReconnectAttempts: MAX_ATTEMPT,
  outboxCapacity: CAPACITY,
  outboxOverflow: 'drop_oldest',
  connectTimeoutMs: 1000,
  minUptimeMs: 5000,
  pingIntervalMs: 0,
  reconnectBaseMs: 100,
  reconnectCapMs: 1000,
};

/** The real actor under test, plus what the test observed. */
function system(wrap: (m: typeof transportMachine) => typeof transportMachine) {
  const fake = fakeSockets();
  const clock = new SimulatedClock();
  let seed = 1;
  const actor: Actor<typeof transportMachine> = createActor(wrap(transportMachine).provide({ actors: { socket: fake.logic } }), {
    clock,
    // deterministic but varying jitter
    input: { url: 'ws://model.test/', codec: testCodec, options: OPTIONS, random: () => ((seed = (seed * 48271) % 2147483647) / 2147483647) },
  });
  const events: TransportEmitted[] = [];
  actor.on('*', (e) => events.push(e));
  let sent = 0;
  const delivered = () => fake.sockets.flatMap((s) => s.sent).map((t) => (JSON.parse(t) as TestMessage).n);
  return {
    fake,
    clock,
    actor,
    events,
    send: () => actor.send({ type: 'transport.send', message: { n: ++sent } }),
    get sent() {
      return sent;
    },
    delivered,
  };
}

type System = ReturnType<typeof system>;

function checkAlways(sys: System): void {
  const { context } = sys.actor.getSnapshot();
  expect(context.outbox.size).toBeLessThanOrEqual(CAPACITY);
  expect(sys.fake.sockets.filter((s) => !s.stopped).length).toBeLessThanOrEqual(1);
  const delivered = sys.delivered();
  // in order, no duplicates
  for (let i = 1; i < delivered.length; i++) expect(delivered[i]!).toBeGreaterThan(delivered[i - 1]!);
  // every message is delivered, queued or counted as dropped
  expect(delivered.length + context.outbox.size + context.stats.dropped).toBe(sys.sent);
}

function stateTests(sys: System) {
  return {
    connecting: (model: ModelSnapshot) => {
      checkAlways(sys);
      expect(sys.actor.getSnapshot().value).toEqual({ online: 'connecting' });
      expect(sys.fake.current.stopped).toBe(false);
      expect(sys.actor.getSnapshot().context.outbox.size).toBe(model.context.queued);
    },
    open: () => {
      checkAlways(sys);
      expect(sys.actor.getSnapshot().matches({ online: 'open' })).toBe(true);
      expect(sys.fake.current.stopped).toBe(false);
      // the outbox was delivered, in order, when the socket opened
      expect(sys.actor.getSnapshot().context.outbox.size).toBe(0);
    },
    backingOff: (model: ModelSnapshot) => {
      checkAlways(sys);
      expect(sys.actor.getSnapshot().value).toBe('backingOff');
      // the old socket is disposed while waiting
      expect(sys.fake.sockets.every((s) => s.stopped)).toBe(true);
      // the attempt counter only reset after a connection lived minUptimeMs
      const reconnecting = sys.events.filter((e) => e.type === 'transport.reconnecting');
      expect(reconnecting.at(-1)).toMatchObject({ attempt: model.context.attempt });
      expect(sys.actor.getSnapshot().context.outbox.size).toBe(model.context.queued);
    },
    gaveUp: () => {
      checkAlways(sys);
      const snapshot = sys.actor.getSnapshot();
      expect(snapshot.status).toBe('done');
      expect(snapshot.output?.reason).toBe('gave_up');
      expect(sys.fake.sockets.every((s) => s.stopped)).toBe(true);
    },
  };
}

function eventExecutors(sys: System) {
  return {
    OPEN: () => sys.fake.current.open(),
    DROP: () => sys.fake.current.close(1006, 'dropped'),
    SEND: () => sys.send(),
    UPTIME: () => sys.clock.increment(OPTIONS.minUptimeMs!),
    TIMER: () => {
      if (sys.actor.getSnapshot().value === 'backingOff') {
        const last = sys.events.filter((e) => e.type === 'transport.reconnecting').at(-1);
        sys.clock.increment(last?.type === 'transport.reconnecting' ? last.delayMs : 0);
      } else {
        sys.clock.increment(OPTIONS.connectTimeoutMs!);
      }
    },
  };
}

const model = createTestModel(protocolModel);
const shortest = model.getShortestPaths();
const scripted = model.getPathsFromEvents(
  [
    { type: 'SEND' },
    { type: 'SEND' },
    { type: 'SEND' },
    { type: 'DROP' },
    { type: 'SEND' },
    { type: 'TIMER' },
    { type: 'OPEN' },
    { type: 'SEND' },
    { type: 'DROP' },
    { type: 'TIMER' },
    { type: 'TIMER' },
    { type: 'TIMER' },
    { type: 'OPEN' },
    { type: 'UPTIME' },
    { type: 'DROP' },
    { type: 'SEND' },
    { type: 'TIMER' },
    { type: 'OPEN' },
  ],
  {},
);

const variants = [
  ['plain machine', (m: typeof transportMachine) => m],
  ['machine with the fast send path', withFastSend],
] as const;

describe.each(variants)('transport model (%s)', (_name, wrap) => {
  it('explores a rich state graph', () => {
    expect(shortest.length).toBeGreaterThan(20);
  });

  describe.each([...shortest, ...scripted].map((path) => [path.description, path] as const))('%s', (_description, path) => {
    it('keeps every invariant along the path', async () => {
      const sys = system(wrap);
      sys.actor.start();
      try {
        await path.test({ states: stateTests(sys), events: eventExecutors(sys) });
      } finally {
        sys.actor.stop();
      }
    });
  });
});
