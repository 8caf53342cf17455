/**
 * Model-based test of the manifest fetcher machine's lifecycle.
 *
 * A small pure model (idle / fetching / stopping / stopped, plus "a round was requested meanwhile") says what the
 * fetcher should do. `xstate/graph` gives a shortest path to every model state, extended by every event; each script
 * is replayed on the real `manifestFetcherMachine` with controllable round and drain actors and a SimulatedClock for
 * the interval, comparing state, round count and pending timers after each step, and checking that stopping aborts
 * the round in flight.
 */
import { assign, createActor, fromPromise, getInitialSnapshot, getNextSnapshot, setup, type SnapshotFrom } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { manifestFetcherMachine, type RoundReport } from '../../../src/machines/manifestFetcher.machine';
import { flush, testTime } from '../../support/resilienceClock';

const INTERVAL_MS = 60_000;

type ModelEvent =
  | { type: 'REQUEST' }
  | { type: 'ROUND_DONE' }
  | { type: 'ROUND_FAIL' }
  | { type: 'INTERVAL' }
  | { type: 'STOP' }
  | { type: 'DRAINED' };

const model = setup({
  types: { context: {} as { requested: boolean; rounds: number }, events: {} as ModelEvent },
  guards: { requested: ({ context }) => context.requested },
  actions: {
    startRound: assign(({ context }) => ({ requested: false, rounds: Math.min(context.rounds + 1, 3) })),
  },
}).createMachine({
  id: 'fetcherModel',
  context: { requested: false, rounds: 0 },
  initial: 'idle',
  states: {
    idle: {
      on: {
        REQUEST: { target: 'fetching', actions: 'startRound' },
        INTERVAL: { target: 'fetching', actions: 'startRound' },
        STOP: 'stopping',
      },
    },
    fetching: {
      on: {
        REQUEST: { actions: assign({ requested: true }) },
        ROUND_DONE: [{ guard: 'requested', target: 'fetching', reenter: true, actions: 'startRound' }, { target: 'idle' }],
        ROUND_FAIL: [{ guard: 'requested', target: 'fetching', reenter: true, actions: 'startRound' }, { target: 'idle' }],
        STOP: 'stopping',
      },
    },
    stopping: { on: { DRAINED: 'stopped' } },
    stopped: { type: 'final' },
  },
});

const allEvents: ModelEvent[] = [
  { type: 'REQUEST' },
  { type: 'ROUND_DONE' },
  { type: 'ROUND_FAIL' },
  { type: 'INTERVAL' },
  { type: 'STOP' },
  { type: 'DRAINED' },
];

const serializeState = (s: SnapshotFrom<typeof model>): string => JSON.stringify({ v: s.value, c: s.context, st: s.status });

function transitionCoveringScripts(): Array<{ name: string; events: ModelEvent[] }> {
  const scripts = new Map<string, ModelEvent[]>();
  for (const path of getShortestPaths(model, { events: allEvents, serializeState })) {
    const prefix = path.steps.slice(1).map((step) => step.event);
    for (const event of allEvents) {
      const events = [...prefix, event];
      scripts.set(events.map((e) => e.type).join(' → '), events);
    }
  }
  return [...scripts].map(([name, events]) => ({ name, events }));
}

const scripts = transitionCoveringScripts();

interface Deferred<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
  readonly signal: AbortSignal | undefined;
}

function report(round: number): RoundReport {
  return { round, startedAtMs: 0, durationMs: 0, miners: 0, fetched: 0, failed: 0, skipped: 0, cancelled: false, results: [] };
}

function harness(fetchOnStart: boolean) {
  const time = testTime();
  const rounds: Array<Deferred<RoundReport> & { round: number }> = [];
  const drains: Array<Deferred<void>> = [];
  const logic = manifestFetcherMachine.provide({
    actors: {
      fetchRound: fromPromise<RoundReport, { round: number }>(
        ({ input, signal }) => new Promise((resolve, reject) => rounds.push({ round: input.round, resolve, reject, signal })),
      ),
      drain: fromPromise<void>(() => new Promise((resolve, reject) => drains.push({ resolve, reject, signal: undefined }))),
    },
  });
  const actor = createActor(logic, { input: { intervalMs: INTERVAL_MS, fetchOnStart }, clock: time.timers });
  const emitted: string[] = [];
  actor.on('manifestFetcher.round.started', ({ round }) => emitted.push(`started ${round}`));
  actor.on('manifestFetcher.round.finished', ({ round }) => emitted.push(`finished ${round}`));
  actor.on('manifestFetcher.round.failed', ({ round }) => emitted.push(`failed ${round}`));
  return { time, rounds, drains, actor, emitted };
}

describe('manifest fetcher machine agrees with its model', () => {
  it('enumerates transition-covering scripts', () => {
    expect(scripts.length).toBeGreaterThan(30);
    expect(scripts.length).toBeLessThan(300);
  });

  it.each(scripts.map((s) => [s.name, s.events] as const))('%s', async (_name, events) => {
    const { time, rounds, drains, actor } = harness(false);
    const settled = new Set<unknown>();
    actor.start();
    try {
      let expected = getInitialSnapshot(model);
      for (const [step, event] of events.entries()) {
        const current = rounds[rounds.length - 1];
        switch (event.type) {
          case 'REQUEST':
            actor.send({ type: 'manifestFetcher.round.request' });
            break;
          case 'ROUND_DONE':
            if (current && !current.signal?.aborted) settled.add(current);
            current?.resolve(report(current.round));
            break;
          case 'ROUND_FAIL':
            if (current && !current.signal?.aborted) settled.add(current);
            current?.reject(new Error('round blew up'));
            break;
          case 'INTERVAL':
            time.xstateClock.increment(INTERVAL_MS);
            break;
          case 'STOP':
            actor.send({ type: 'manifestFetcher.stop' });
            break;
          case 'DRAINED':
            drains[drains.length - 1]?.resolve();
            break;
        }
        await flush();
        // An event the model does not take in this state must not move the real machine either.
        expected = getNextSnapshot(model, expected, event);
        const real = actor.getSnapshot();
        expect({ step, value: real.value }).toEqual({ step, value: expected.value });
        expect({ step, rounds: Math.min(rounds.length, 3) }).toEqual({ step, rounds: expected.context.rounds });
        if (expected.value === 'fetching') expect(real.context.requested).toBe(expected.context.requested);
        // The interval timer runs only while idle.
        expect({ step, timers: time.timers.pending }).toEqual({ step, timers: expected.value === 'idle' ? 1 : 0 });
        // Stopping aborts the round in flight (its dials close); no round is ever left running after a stop.
        if (expected.value === 'stopping' || expected.value === 'stopped')
          expect(rounds.filter((r) => !settled.has(r)).every((r) => r.signal?.aborted === true)).toBe(true);
        expect(real.status).toBe(expected.value === 'stopped' ? 'done' : 'active');
      }
    } finally {
      actor.stop();
    }
    expect(time.timers.pending).toBe(0);
  });
});

describe('manifest fetcher machine', () => {
  it('fetches at once on start, then every interval after a round ends', async () => {
    const { time, rounds, actor, emitted } = harness(true);
    actor.start();
    expect(actor.getSnapshot().value).toBe('fetching');
    time.xstateClock.increment(10 * INTERVAL_MS); // a long round: no second round starts meanwhile
    expect(rounds).toHaveLength(1);
    rounds[0]!.resolve(report(1));
    await flush();
    expect(actor.getSnapshot().context.lastReport?.round).toBe(1);
    time.xstateClock.increment(INTERVAL_MS - 1);
    expect(rounds).toHaveLength(1);
    time.xstateClock.increment(1);
    expect(rounds.map((r) => r.round)).toEqual([1, 2]);
    rounds[1]!.reject(new Error('boom'));
    await flush();
    expect(actor.getSnapshot().context.failedRounds).toBe(1);
    expect(emitted).toEqual(['started 1', 'finished 1', 'started 2', 'failed 2']);
    actor.stop();
  });

  it('coalesces requests made during a round into one follow-up round', async () => {
    const { rounds, actor } = harness(true);
    actor.start();
    actor.send({ type: 'manifestFetcher.round.request' });
    actor.send({ type: 'manifestFetcher.round.request' });
    rounds[0]!.resolve(report(1));
    await flush();
    expect(rounds).toHaveLength(2);
    rounds[1]!.resolve(report(2));
    await flush();
    expect(rounds).toHaveLength(2);
    expect(actor.getSnapshot().value).toBe('idle');
    actor.stop();
  });
});
