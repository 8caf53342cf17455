/**
 * Model-based test of the task group with three children and one barrier, under both error policies.
 *
 * The model tracks each child as running → waiting (arrived) → released → done | failed | timed_out | cancelled, and
 * the barrier as closed/open. `xstate/graph` gives a shortest path to every model state; each path, extended by
 * every event, is replayed on the real group with hand-driven children over a SimulatedClock, and after every step
 * the real children must match the model: who is still running, who was released, every result.
 */
import { assign, createActor, getInitialSnapshot, getNextSnapshot, setup, type SnapshotFrom } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { taskGroupMachine, type ErrorPolicy } from '../../src/actors/taskGroup';
import { resultOf } from '../../src/actors/taskGroup/book';
import { testTime } from '../support/resilienceClock';
import { controlledTasks } from '../support/taskGroupTasks';

const IDS = ['a', 'b', 'c'] as const;
const TIMEOUT_MS = 1_000;
type Kid = 'running' | 'waiting' | 'released' | 'done' | 'failed' | 'timed_out' | 'cancelled';
type Index = 0 | 1 | 2;

type ModelEvent =
  | { type: 'ARRIVE'; i: Index }
  | { type: 'FINISH'; i: Index }
  | { type: 'FAIL'; i: Index }
  /** Child `c` has a timeout; the others do not. */
  | { type: 'TIMEOUT_C' };

interface ModelContext {
  policy: ErrorPolicy;
  kids: Kid[];
  opened: boolean;
}

const isLive = (k: Kid): boolean => k === 'running' || k === 'waiting' || k === 'released';

/** After any change: open the barrier if someone waits and every live child waits. */
function settleBarrier(ctx: ModelContext): ModelContext {
  if (ctx.opened) return ctx;
  const live = ctx.kids.filter(isLive);
  if (live.length === 0 || !live.every((k) => k === 'waiting')) return ctx;
  return { ...ctx, opened: true, kids: ctx.kids.map((k) => (k === 'waiting' ? 'released' : k)) };
}

function end(ctx: ModelContext, i: number, outcome: 'done' | 'failed' | 'timed_out'): ModelContext {
  let kids = ctx.kids.map((k, j) => (j === i ? outcome : k));
  if (ctx.policy === 'fail_fast' && outcome !== 'done') kids = kids.map((k) => (isLive(k) ? 'cancelled' : k));
  return settleBarrier({ ...ctx, kids });
}

const model = setup({
  types: { context: {} as ModelContext, events: {} as ModelEvent, input: {} as ErrorPolicy },
  guards: {
    canArrive: ({ context, event }) => event.type === 'ARRIVE' && context.kids[event.i] === 'running',
    isLiveKid: ({ context, event }) => 'i' in event && isLive(context.kids[event.i]!),
    cLive: ({ context }) => isLive(context.kids[2]!),
    allSettled: ({ context }) => !context.kids.some(isLive),
  },
}).createMachine({
  id: 'taskGroupModel',
  context: ({ input }) => ({ policy: input, kids: ['running', 'running', 'running'], opened: false }),
  initial: 'running',
  states: {
    running: {
      always: { guard: 'allSettled', target: 'finished' },
      on: {
        ARRIVE: {
          guard: 'canArrive',
          actions: assign(({ context, event }) => {
            const kids = context.kids.map((k, j) => (j === event.i ? (context.opened ? 'released' : 'waiting') : k));
            return settleBarrier({ ...context, kids });
          }),
        },
        FINISH: { guard: 'isLiveKid', actions: assign(({ context, event }) => end(context, event.i, 'done')) },
        FAIL: { guard: 'isLiveKid', actions: assign(({ context, event }) => end(context, event.i, 'failed')) },
        TIMEOUT_C: { guard: 'cLive', actions: assign(({ context }) => end(context, 2, 'timed_out')) },
      },
    },
    finished: { type: 'final' },
  },
});

type ModelSnapshot = SnapshotFrom<typeof model>;

const allEvents: ModelEvent[] = [
  ...([0, 1, 2] as const).flatMap((i) => [
    { type: 'ARRIVE' as const, i },
    { type: 'FINISH' as const, i },
    { type: 'FAIL' as const, i },
  ]),
  { type: 'TIMEOUT_C' },
];

const label = (e: ModelEvent): string => (e.type === 'TIMEOUT_C' ? e.type : `${e.type}(${IDS[e.i]})`);

function scriptsFor(policy: ErrorPolicy): Array<[string, ModelEvent[]]> {
  const serializeState = (s: ModelSnapshot): string => JSON.stringify({ v: s.value, k: s.context.kids, o: s.context.opened });
  const paths = getShortestPaths(model, { events: allEvents, serializeState, input: policy });
  const scripts = new Map<string, ModelEvent[]>();
  for (const path of paths) {
    // The first step of every path is the model's own `xstate.init`.
    const prefix = path.steps.slice(1).map((s) => s.event);
    for (const event of allEvents) {
      // Only extensions the model accepts (the real children could not do the others, e.g. arrive after finishing).
      const before = prefix.reduce<ModelSnapshot>((s, e) => getNextSnapshot(model, s, e), getInitialSnapshot(model, policy));
      const after = getNextSnapshot(model, before, event);
      if (serializeState(after) === serializeState(before)) continue;
      const events = [...prefix, event];
      scripts.set(events.map(label).join(' → '), events);
    }
  }
  return [...scripts];
}

describe.each<ErrorPolicy>(['isolate', 'fail_fast'])('task group agrees with its model under %s', (policy) => {
  const scripts = scriptsFor(policy);

  it('enumerates a bounded, non-trivial set of scripts', () => {
    expect(scripts.length).toBeGreaterThan(50);
    expect(scripts.length).toBeLessThan(2_000);
  });

  it.each(scripts)('%s', (_name, events) => {
    const time = testTime();
    const tasks = controlledTasks();
    const actor = createActor(taskGroupMachine, {
      input: {
        children: [tasks.spec('a'), tasks.spec('b'), tasks.spec('c', { timeoutMs: TIMEOUT_MS })],
        errorPolicy: policy,
        clock: time.clock,
      },
      clock: time.timers,
    });
    actor.start();
    try {
      let expected = getInitialSnapshot(model, policy);
      for (const [step, event] of events.entries()) {
        switch (event.type) {
          case 'ARRIVE':
            tasks.control(IDS[event.i]).arrive('b');
            break;
          case 'FINISH':
            tasks.control(IDS[event.i]).finish(IDS[event.i]);
            break;
          case 'FAIL':
            tasks.control(IDS[event.i]).fail(new Error(`${IDS[event.i]} failed`));
            break;
          case 'TIMEOUT_C':
            time.xstateClock.increment(TIMEOUT_MS);
            break;
        }
        expected = getNextSnapshot(model, expected, event);
        const snapshot = actor.getSnapshot();
        const observed = IDS.map((id) => {
          const control = tasks.control(id);
          if (!control.stopped) return control.released.length > 0 ? 'released' : 'running-or-waiting';
          return snapshot.status === 'done'
            ? snapshot.output.results.find((r) => r.id === id)?.status
            : resultOf(snapshot.context.book, snapshot.context.config, id)?.status;
        });
        const wanted = expected.context.kids.map((k) => (k === 'running' || k === 'waiting' ? 'running-or-waiting' : k));
        expect({ step, kids: observed }).toEqual({ step, kids: wanted });
        expect({ step, status: snapshot.status }).toEqual({ step, status: expected.value === 'finished' ? 'done' : 'active' });
        // Nobody is released twice from the one barrier.
        for (const id of IDS) expect(tasks.control(id).released.length).toBeLessThanOrEqual(1);
      }
      // Only child c's timeout can be pending, and only while c is live.
      expect(time.timers.pending).toBe(actor.getSnapshot().status === 'active' && tasks.control('c').stopped === false ? 1 : 0);
    } finally {
      actor.stop();
    }
    expect(tasks.live()).toEqual([]);
    expect(time.timers.pending).toBe(0);
  });
});
