/**
 * Model-based test of the facilitator link machine.
 *
 * A small pure model (no timers, bounded counters) says what the link should do: where it is in its lifecycle, how
 * many outbox rows are pending and how many are in flight. `xstate/graph` finds a shortest path to every model
 * state; each path, extended by every event, is replayed on the real `facilitatorLinkMachine` over a SimulatedClock
 * with fake effects (an in-memory outbox, a transport counter), comparing the two after every step. Timer events
 * (`AUTH_TIMEOUT`, `RETRY`, `HEARTBEAT`) become clock advances on the real actor.
 */
import { assign, createActor, getInitialSnapshot, getNextSnapshot, setup, SimulatedClock, type SnapshotFrom } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { facilitatorLinkMachine, type AcknowledgeParams, type SendWindowParams } from '../../../src/machines/facilitatorLink.machine';
import type { Response } from '../../../src/protocol';
import { seededRandom } from '../../../src/util/clock';

const WINDOW = 2;
const MAX_PENDING = 3;
const HEARTBEAT_MS = 60_000;
const AUTH_TIMEOUT_MS = 30_000;

type ModelEvent =
  | { type: 'OPEN' }
  | { type: 'CLOSE' }
  | { type: 'RESPONSE_OK' }
  | { type: 'RESPONSE_DUPLICATE' }
  | { type: 'RESPONSE_NOT_AUTHENTICATED' }
  | { type: 'RESPONSE_REFUSED' }
  | { type: 'REPORT' }
  | { type: 'AUTH_TIMEOUT' }
  | { type: 'RETRY' }
  | { type: 'HEARTBEAT' }
  | { type: 'TRANSPORT_STOPPED' }
  | { type: 'STOP' };

interface ModelContext {
  pending: number;
  inFlight: number;
}

const model = setup({
  types: { context: {} as ModelContext, events: {} as ModelEvent },
  actions: {
    fill: assign(({ context }) => ({ inFlight: Math.min(context.pending, WINDOW) })),
    drop: assign({ inFlight: 0 }),
    ackOldest: assign(({ context }) => {
      const pending = context.pending - 1;
      return { pending, inFlight: Math.min(pending, WINDOW) };
    }),
    report: assign(({ context }) => ({ pending: context.pending + 1 })),
  },
  guards: {
    canReport: ({ context }) => context.pending < MAX_PENDING,
    somethingInFlight: ({ context }) => context.inFlight > 0,
  },
}).createMachine({
  id: 'linkModel',
  context: { pending: 0, inFlight: 0 },
  initial: 'connecting',
  on: {
    STOP: { target: '.stopped', actions: 'drop' },
    REPORT: { guard: 'canReport', actions: 'report' },
  },
  states: {
    connecting: {
      on: { OPEN: 'authenticating', TRANSPORT_STOPPED: 'backingOff' },
    },
    authenticating: {
      on: {
        RESPONSE_OK: { target: 'ready', actions: 'fill' },
        RESPONSE_DUPLICATE: 'backingOff',
        RESPONSE_REFUSED: 'backingOff',
        RESPONSE_NOT_AUTHENTICATED: {},
        AUTH_TIMEOUT: 'backingOff',
        CLOSE: 'connecting',
        TRANSPORT_STOPPED: 'backingOff',
      },
    },
    ready: {
      on: {
        REPORT: { guard: 'canReport', actions: ['report', 'fill'] },
        RESPONSE_OK: { guard: 'somethingInFlight', actions: 'ackOldest' },
        RESPONSE_DUPLICATE: { guard: 'somethingInFlight', actions: 'ackOldest' },
        RESPONSE_REFUSED: { target: 'backingOff', actions: 'drop' },
        RESPONSE_NOT_AUTHENTICATED: { target: 'backingOff', actions: 'drop' },
        CLOSE: { target: 'connecting', actions: 'drop' },
        TRANSPORT_STOPPED: { target: 'backingOff', actions: 'drop' },
        HEARTBEAT: {},
      },
    },
    backingOff: { on: { RETRY: 'connecting' } },
    stopped: { type: 'final' },
  },
});

type ModelSnapshot = SnapshotFrom<typeof model>;

const allEvents: ModelEvent[] = [
  { type: 'OPEN' },
  { type: 'CLOSE' },
  { type: 'RESPONSE_OK' },
  { type: 'RESPONSE_DUPLICATE' },
  { type: 'RESPONSE_NOT_AUTHENTICATED' },
  { type: 'RESPONSE_REFUSED' },
  { type: 'REPORT' },
  { type: 'AUTH_TIMEOUT' },
  { type: 'RETRY' },
  { type: 'HEARTBEAT' },
  { type: 'TRANSPORT_STOPPED' },
  { type: 'STOP' },
];

function scripts(): Array<{ name: string; events: ModelEvent[] }> {
  const paths = getShortestPaths(model, {
    events: allEvents,
    serializeState: (s: ModelSnapshot) => JSON.stringify({ v: s.value, c: s.context }),
  });
  const byName = new Map<string, ModelEvent[]>();
  for (const path of paths) {
    const prefix = path.steps.slice(1).map((step) => step.event);
    for (const event of allEvents) {
      const events = [...prefix, event];
      byName.set(events.map((e) => e.type).join(' → '), events);
    }
  }
  return [...byName].map(([name, events]) => ({ name, events }));
}

const response = (type?: string): Response =>
  type === undefined ? { status: 'success', errors: [] } : { status: 'error', errors: [{ msg: type, type, help: '' }] };

/** The real machine with fake effects over an in-memory outbox. */
function harness() {
  const clock = new SimulatedClock();
  const outbox: number[] = [];
  let nextId = 1;
  const effects = { transportsStarted: 0, transportsStopped: 0, auths: 0, heartbeats: 0, sent: [] as number[] };
  const machine = facilitatorLinkMachine.provide({
    actions: {
      startTransport: () => void effects.transportsStarted++,
      stopTransport: () => void effects.transportsStopped++,
      sendAuth: () => void effects.auths++,
      sendHeartbeat: () => void effects.heartbeats++,
      sendWindow: ({ self }, params: SendWindowParams) => {
        const ids = outbox.filter((id) => id > params.afterId).slice(0, params.room);
        effects.sent.push(...ids);
        if (ids.length > 0) self.send({ type: 'link.sent', ids });
      },
      acknowledge: (_, params: AcknowledgeParams) => {
        const at = outbox.indexOf(params.id);
        if (at >= 0) outbox.splice(at, 1);
      },
    },
  });
  const actor = createActor(machine, {
    clock,
    input: {
      window: WINDOW,
      heartbeatIntervalMs: HEARTBEAT_MS,
      authTimeoutMs: AUTH_TIMEOUT_MS,
      authRetry: { baseMs: 1_000, capMs: 8_000, multiplier: 2 },
      random: seededRandom(3),
    },
  });
  return {
    clock,
    outbox,
    effects,
    actor,
    report() {
      outbox.push(nextId++);
      actor.send({ type: 'link.kick' });
    },
  };
}

function phase(value: unknown): string {
  if (typeof value === 'string') return value;
  const online = (value as { online: unknown }).online;
  return typeof online === 'string' ? online : Object.keys(online as object)[0]!;
}

const all = scripts();

describe('facilitator link machine agrees with its model', () => {
  it('enumerates a useful number of transition-covering scripts', () => {
    expect(all.length).toBeGreaterThan(100);
    expect(all.length).toBeLessThan(1_000);
  });

  it.each(all.map((s) => [s.name, s.events] as const))('%s', (_name, events) => {
    const h = harness();
    h.actor.start();
    let expected = getInitialSnapshot(model);
    try {
      for (const [step, event] of events.entries()) {
        const before = { ...h.effects, value: phase(h.actor.getSnapshot().value) };
        const modelPhase = expected.value as string;
        switch (event.type) {
          case 'OPEN':
            h.actor.send({ type: 'link.transport.open' });
            break;
          case 'CLOSE':
            h.actor.send({ type: 'link.transport.closed' });
            break;
          case 'RESPONSE_OK':
            h.actor.send({ type: 'link.response', response: response() });
            break;
          case 'RESPONSE_DUPLICATE':
            h.actor.send({ type: 'link.response', response: response('job.integrity_error') });
            break;
          case 'RESPONSE_NOT_AUTHENTICATED':
            h.actor.send({ type: 'link.response', response: response('auth.not_authenticated') });
            break;
          case 'RESPONSE_REFUSED':
            h.actor.send({ type: 'link.response', response: response('auth.validator_not_found') });
            break;
          case 'REPORT':
            if (h.outbox.length < MAX_PENDING) h.report();
            break;
          case 'AUTH_TIMEOUT':
            if (modelPhase === 'authenticating') h.clock.increment(AUTH_TIMEOUT_MS);
            break;
          case 'RETRY':
            if (modelPhase === 'backingOff') h.clock.increment(h.actor.getSnapshot().context.retryDelayMs + 1);
            break;
          case 'HEARTBEAT':
            if (modelPhase === 'ready') h.clock.increment(HEARTBEAT_MS);
            break;
          case 'TRANSPORT_STOPPED':
            h.actor.send({ type: 'link.transport.stopped' });
            break;
          case 'STOP':
            h.actor.send({ type: 'link.stop' });
            break;
        }
        expected = getNextSnapshot(model, expected, event);
        const real = h.actor.getSnapshot();
        const where = { step, event: event.type };
        expect({ ...where, phase: phase(real.value) }).toEqual({ ...where, phase: expected.value });
        expect({ ...where, pending: h.outbox.length }).toEqual({ ...where, pending: expected.context.pending });
        const inFlight = phase(real.value) === 'ready' ? real.context.inFlight : [];
        expect({ ...where, inFlight: inFlight.length }).toEqual({ ...where, inFlight: expected.context.inFlight });
        // FIFO: what is in flight is always the oldest pending rows, in order
        expect(inFlight).toEqual(h.outbox.slice(0, inFlight.length));
        // exactly one transport while online, none otherwise
        const online = ['connecting', 'authenticating', 'ready'].includes(String(expected.value));
        expect({ ...where, live: h.effects.transportsStarted - h.effects.transportsStopped }).toEqual({ ...where, live: online ? 1 : 0 });
        // authentication is sent exactly when a socket opens
        const enteredAuth = expected.value === 'authenticating' && before.value !== 'authenticating';
        expect(h.effects.auths - before.auths).toBe(enteredAuth ? 1 : 0);
        // a heartbeat on becoming ready and every interval while ready
        const enteredReady = expected.value === 'ready' && before.value !== 'ready';
        const beat = event.type === 'HEARTBEAT' && modelPhase === 'ready';
        expect(h.effects.heartbeats - before.heartbeats).toBe(enteredReady || beat ? 1 : 0);
      }
    } finally {
      h.actor.stop();
    }
  });

  it('resends the rows in flight at a disconnect first, after the next authentication', () => {
    const h = harness();
    h.actor.start();
    h.actor.send({ type: 'link.transport.open' });
    h.actor.send({ type: 'link.response', response: response() });
    h.report();
    h.report();
    h.report();
    expect(h.effects.sent).toEqual([1, 2]);
    h.actor.send({ type: 'link.response', response: response() }); // acks 1, sends 3
    expect(h.effects.sent).toEqual([1, 2, 3]);
    h.actor.send({ type: 'link.transport.closed' });
    h.actor.send({ type: 'link.transport.open' });
    h.actor.send({ type: 'link.response', response: response() });
    expect(h.effects.sent).toEqual([1, 2, 3, 2, 3]);
    expect(h.actor.getSnapshot().context.everSentThrough).toBe(3);
    h.actor.stop();
  });

  it('draws a growing full-jitter delay after each failed authentication and resets it on success', () => {
    const h = harness();
    h.actor.start();
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      h.actor.send({ type: 'link.transport.open' });
      h.actor.send({ type: 'link.response', response: response('auth.validator_not_found') });
      const { retryDelayMs, authFailures } = h.actor.getSnapshot().context;
      expect(authFailures).toBe(i + 1);
      expect(retryDelayMs).toBeLessThanOrEqual(Math.min(8_000, 1_000 * 2 ** i));
      delays.push(retryDelayMs);
      h.clock.increment(retryDelayMs + 1);
    }
    h.actor.send({ type: 'link.transport.open' });
    h.actor.send({ type: 'link.response', response: response() });
    expect(h.actor.getSnapshot().context.authFailures).toBe(0);
    expect(new Set(delays).size).toBeGreaterThan(1);
    h.actor.stop();
  });
});
