/**
 * Model-based test of the circuit breaker machine.
 *
 * A small pure model (no timers, bounded counters) states what the breaker should do. `xstate/graph` enumerates a
 * shortest path to every model state, extended by every event (so every transition of the model is exercised);
 * each path is replayed on the real `circuitBreakerMachine` over a SimulatedClock, comparing the two after each
 * step. The cool-down elapsing is the model event `COOL_DOWN`; the real actor gets a clock advance instead.
 */
import { assign, createActor, getInitialSnapshot, getNextSnapshot, setup, type SnapshotFrom } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { admitThrough, circuitBreakerMachine } from '../../src/machines/circuitBreaker.machine';
import type { CircuitBreakerPolicy } from '../../src/resilience/circuitBreaker';
import { testTime } from '../support/resilienceClock';

const THRESHOLD = 2;
const PROBES = 2;
const policy: CircuitBreakerPolicy = {
  failureThreshold: THRESHOLD,
  failureWindowMs: 3_600_000,
  coolDownMs: 1_000,
  coolDownMultiplier: 2,
  maxCoolDownMs: 4_000,
  halfOpenProbes: PROBES,
  probeTimeoutMs: 3_600_000,
};
/** Opens beyond this all have the capped cool-down; the model stops counting there to stay finite. */
const OPENS_CAP = 3;

type ModelEvent =
  | { type: 'REQUEST' }
  | { type: 'SUCCESS' }
  | { type: 'FAILURE' }
  | { type: 'COOL_DOWN' }
  | { type: 'TRIP' }
  | { type: 'RESET' };

interface ModelContext {
  failures: number;
  opens: number;
  inFlight: number;
  successes: number;
}

const model = setup({
  types: { context: {} as ModelContext, events: {} as ModelEvent },
  actions: {
    reopen: assign(({ context }) => ({
      opens: Math.min(context.opens + 1, OPENS_CAP),
      failures: 0,
      inFlight: 0,
      successes: 0,
    })),
    closedAgain: assign({ failures: 0, opens: 0, inFlight: 0, successes: 0 }),
  },
  guards: {
    reachesThreshold: ({ context }) => context.failures + 1 >= THRESHOLD,
    slotFree: ({ context }) => context.inFlight < PROBES,
    lastProbe: ({ context }) => context.successes + 1 >= PROBES,
  },
}).createMachine({
  id: 'breakerModel',
  context: { failures: 0, opens: 0, inFlight: 0, successes: 0 },
  initial: 'closed',
  states: {
    closed: {
      on: {
        FAILURE: [
          { guard: 'reachesThreshold', target: 'open', actions: 'reopen' },
          { actions: assign({ failures: ({ context }) => context.failures + 1 }) },
        ],
        TRIP: { target: 'open', actions: 'reopen' },
        RESET: { actions: 'closedAgain' },
      },
    },
    open: {
      on: {
        COOL_DOWN: 'half_open',
        TRIP: { target: 'open', actions: 'reopen' },
        RESET: { target: 'closed', actions: 'closedAgain' },
      },
    },
    half_open: {
      on: {
        REQUEST: { guard: 'slotFree', actions: assign({ inFlight: ({ context }) => context.inFlight + 1 }) },
        SUCCESS: [
          { guard: 'lastProbe', target: 'closed', actions: 'closedAgain' },
          {
            actions: assign({
              successes: ({ context }) => context.successes + 1,
              inFlight: ({ context }) => Math.max(0, context.inFlight - 1),
            }),
          },
        ],
        FAILURE: { target: 'open', actions: 'reopen' },
        TRIP: { target: 'open', actions: 'reopen' },
        RESET: { target: 'closed', actions: 'closedAgain' },
      },
    },
  },
});

type ModelSnapshot = SnapshotFrom<typeof model>;

const allEvents: ModelEvent[] = [
  { type: 'REQUEST' },
  { type: 'SUCCESS' },
  { type: 'FAILURE' },
  { type: 'COOL_DOWN' },
  { type: 'TRIP' },
  { type: 'RESET' },
];

const serializeState = (s: ModelSnapshot): string => JSON.stringify({ v: s.value, c: s.context });

const expectedCoolDownMs = (opens: number): number => Math.min(policy.coolDownMs * 2 ** (opens - 1), policy.maxCoolDownMs);

/** Shortest path to each model state, then each event from there: every transition of the model is covered. */
function transitionCoveringScripts(): Array<{ name: string; events: ModelEvent[] }> {
  const toStates = getShortestPaths(model, { events: allEvents, serializeState });
  const scripts = new Map<string, ModelEvent[]>();
  for (const path of toStates) {
    // The first step of every path is the model's own `xstate.init`.
    const prefix = path.steps.slice(1).map((step) => step.event);
    for (const event of allEvents) {
      const events = [...prefix, event];
      scripts.set(events.map((e) => e.type).join(' → '), events);
    }
  }
  return [...scripts].map(([name, events]) => ({ name, events }));
}

const scripts = transitionCoveringScripts();

describe('circuit breaker machine agrees with its model', () => {
  it('enumerates a useful number of transition-covering scripts', () => {
    // 2 closed + 3 open + 3 × 3 × 2 half-open model states, times 6 events (bounded, so the run stays small).
    expect(scripts.length).toBeGreaterThan(60);
    expect(scripts.length).toBeLessThan(400);
  });

  it.each(scripts.map((s) => [s.name, s.events] as const))('%s', (_name, events) => {
    const time = testTime();
    const actor = createActor(circuitBreakerMachine, { input: { name: 'm', policy, clock: time.clock }, clock: time.timers });
    actor.start();
    try {
      let expected = getInitialSnapshot(model);
      for (const [i, event] of events.entries()) {
        const before = actor.getSnapshot().context.circuit;
        switch (event.type) {
          case 'REQUEST': {
            const admission = admitThrough(actor);
            const shouldAdmit = expected.value !== 'open' && (expected.value === 'closed' || expected.context.inFlight < PROBES);
            expect({ step: i, allowed: admission.allowed }).toEqual({ step: i, allowed: shouldAdmit });
            break;
          }
          case 'COOL_DOWN':
            time.xstateClock.increment(before.phase === 'open' ? before.coolDownMs : 1);
            break;
          case 'SUCCESS':
            actor.send({ type: 'circuit.success' });
            break;
          case 'FAILURE':
            actor.send({ type: 'circuit.failure' });
            break;
          case 'TRIP':
            actor.send({ type: 'circuit.trip' });
            break;
          case 'RESET':
            actor.send({ type: 'circuit.reset' });
            break;
        }
        expected = getNextSnapshot(model, expected, event);
        const real = actor.getSnapshot();
        const circuit = real.context.circuit;
        expect({ step: i, value: real.value }).toEqual({ step: i, value: expected.value });
        // The machine's state always mirrors the pure phase.
        expect(real.value).toBe(circuit.phase);
        if (expected.value === 'closed') expect(circuit.failureTimesMs.length).toBe(expected.context.failures);
        if (expected.value !== 'closed') expect(circuit.coolDownMs).toBe(expectedCoolDownMs(expected.context.opens));
        if (expected.value === 'half_open') {
          expect(circuit.probeStartsMs.length).toBe(expected.context.inFlight);
          expect(circuit.probeSuccesses).toBe(expected.context.successes);
        }
        // Exactly one timer while open (the cool-down), none otherwise.
        expect(time.timers.pending).toBe(expected.value === 'open' ? 1 : 0);
      }
    } finally {
      actor.stop();
    }
    expect(time.timers.pending).toBe(0);
  });
});
