import {
  assign,
  createActor,
  createMachine,
  emit,
  fromPromise,
  setup,
  spawnChild,
  stopChild,
  waitFor,
  type Actor,
  type AnyActor,
} from 'xstate';
import { HordeError } from '../../../src/util/errors';
import {
  actorKind,
  combineInspectors,
  createActorBridge,
  normaliseEventType,
  type ActorBridge,
} from '../../../src/telemetry/actor-bridge';
import { createActorBridgeInstruments } from '../../../src/telemetry/metrics';
import { testMeter, type TestMeter } from './metric-reader';

class JobBrokenError extends HordeError {
  constructor() {
    super('job.broken', 'the job broke');
  }
}

const worker = setup({
  types: { events: {} as { type: 'work.start' } | { type: 'work.finish' } },
}).createMachine({
  id: 'worker',
  initial: 'idle',
  states: {
    // waiting for work
    idle: { on: { 'work.start': 'busy' } },
    // working
    busy: { on: { 'work.finish': 'finished' } },
    // handed in its result
    finished: { type: 'final' },
  },
});

const rootMachine = setup({
  types: {
    events: {} as
      | { type: 'root.spawn'; n: number }
      | { type: 'root.stop_worker'; n: number }
      | { type: 'root.run_broken_job' }
      | { type: 'root.restart_decided' },
    context: {} as { failures: number },
    emitted: {} as { type: 'supervisor.decision'; childId: string; directive: string; errorCode: string },
  },
  actors: {
    worker,
    brokenJob: fromPromise(async (): Promise<void> => {
      throw new JobBrokenError();
    }),
  },
}).createMachine({
  id: 'root',
  context: { failures: 0 },
  initial: 'running',
  states: {
    // supervising workers
    running: {
      on: {
        'root.spawn': { actions: spawnChild('worker', { id: ({ event }) => `worker-${event.n}` }) },
        'root.stop_worker': { actions: stopChild(({ event }) => `worker-${event.n}`) },
        'root.run_broken_job': 'jobRunning',
        'root.restart_decided': {
          actions: emit({ type: 'supervisor.decision', childId: 'job-1', directive: 'restart', errorCode: 'job.broken' }),
        },
      },
    },
    // one job whose promise rejects
    jobRunning: {
      invoke: {
        id: 'job-7f3a',
        src: 'brokenJob',
        onError: { target: 'running', actions: assign({ failures: ({ context }) => context.failures + 1 }) },
      },
    },
  },
});

describe('actor bridge', () => {
  let metrics: TestMeter;
  let bridge: ActorBridge;
  const actors: AnyActor[] = [];

  beforeEach(() => {
    metrics = testMeter();
    bridge = createActorBridge({ instruments: createActorBridgeInstruments(metrics.meter) });
  });

  afterEach(async () => {
    for (const a of actors.splice(0)) a.stop();
    bridge.dispose();
    await metrics.shutdown();
  });

  function start(): Actor<typeof rootMachine> {
    const root = createActor(rootMachine, { inspect: bridge.inspect }).start();
    actors.push(root);
    return root;
  }

  function child(root: Actor<typeof rootMachine>, id: string): AnyActor {
    return (root.getSnapshot() as unknown as { children: Record<string, AnyActor> }).children[id]!;
  }

  it('counts delivered events per actor kind and event type, not per instance', async () => {
    const root = start();
    for (const n of [1, 2, 3]) root.send({ type: 'root.spawn', n });
    for (const n of [1, 2, 3]) child(root, `worker-${n}`).send({ type: 'work.start' });

    expect(await metrics.value('horde_actor_events', { kind: 'worker', event: 'work.start' })).toBe(3);
    expect(await metrics.value('horde_actor_events', { kind: 'root', event: 'root.spawn' })).toBe(3);
    expect(await metrics.value('horde_actor_started', { kind: 'worker' })).toBe(3);
    expect(await metrics.value('horde_actor_live', { kind: 'worker' })).toBe(3);
    const kinds = new Set((await metrics.labels('horde_actor_events')).map((a) => a['kind']));
    expect([...kinds].sort()).toEqual(['root', 'worker']);
  });

  it('takes an actor out of the live gauge when it finishes or is stopped', async () => {
    const root = start();
    for (const n of [1, 2, 3]) root.send({ type: 'root.spawn', n });
    const w1 = child(root, 'worker-1');
    w1.send({ type: 'work.start' });
    w1.send({ type: 'work.finish' });
    root.send({ type: 'root.stop_worker', n: 2 });

    expect(await metrics.value('horde_actor_live', { kind: 'worker' })).toBe(1);
    expect(await metrics.value('horde_actor_events', { kind: 'root', event: 'xstate.done.actor' })).toBe(1);

    root.stop();
    expect(await metrics.value('horde_actor_live', { kind: 'worker' })).toBe(0);
    expect(await metrics.value('horde_actor_live', { kind: 'root' })).toBe(0);
    expect(await metrics.value('horde_actor_started', { kind: 'worker' })).toBe(3);
  });

  it('counts a failed child under its kind and error code, and folds the per-instance error event type', async () => {
    const root = start();
    root.send({ type: 'root.run_broken_job' });
    await waitFor(root, (s) => (s as { context: { failures: number } }).context.failures === 1);

    expect(await metrics.value('horde_actor_errors', { kind: 'brokenJob', code: 'job.broken' })).toBe(1);
    expect(await metrics.value('horde_actor_events', { kind: 'root', event: 'xstate.error.actor' })).toBe(1);
    expect(await metrics.value('horde_actor_live', { kind: 'brokenJob' })).toBe(0);
    const eventLabels = (await metrics.labels('horde_actor_events')).map((a) => String(a['event']));
    expect(eventLabels.some((e) => e.includes('job-7f3a'))).toBe(false);
  });

  it('counts a root actor that fails', async () => {
    const failingRoot = createActor(
      fromPromise(async function rootJob(): Promise<void> {
        throw new JobBrokenError();
      }),
      { inspect: bridge.inspect },
    );
    const failed = new Promise<void>((resolve) => failingRoot.subscribe({ error: () => resolve() }));
    failingRoot.start();
    await failed;
    expect(await metrics.value('horde_actor_errors', { kind: 'rootJob', code: 'job.broken' })).toBe(1);
    expect(await metrics.value('horde_actor_live', { kind: 'rootJob' })).toBe(0);
  });

  it('counts supervisor restart decisions under the supervisor kind', async () => {
    const root = start();
    root.send({ type: 'root.restart_decided' });
    root.send({ type: 'root.restart_decided' });
    expect(await metrics.value('horde_actor_restarts', { supervisor: 'root' })).toBe(2);
  });

  it('folds new kinds into "other" once the kind cap is reached, and counts the overflow', async () => {
    bridge.dispose();
    bridge = createActorBridge({ instruments: createActorBridgeInstruments(metrics.meter), maxKinds: 1 });
    const root = start();
    root.send({ type: 'root.spawn', n: 1 });
    child(root, 'worker-1').send({ type: 'work.start' });

    expect(await metrics.value('horde_actor_events', { kind: 'other', event: 'work.start' })).toBe(1);
    expect(await metrics.value('horde_telemetry_label_overflow', { label: 'kind' })).toBeGreaterThan(0);
    const kinds = new Set((await metrics.labels('horde_actor_started')).map((a) => a['kind']));
    expect([...kinds].sort()).toEqual(['other', 'root']);
  });

  it('folds new event types into "other" once the per-kind cap is reached', async () => {
    bridge.dispose();
    bridge = createActorBridge({
      instruments: createActorBridgeInstruments(metrics.meter),
      maxEventTypesPerKind: 2,
    });
    const root = start(); // root: xstate.init
    root.send({ type: 'root.spawn', n: 1 }); // root: root.spawn (cap reached)
    root.send({ type: 'root.restart_decided' }); // root: other
    expect(await metrics.value('horde_actor_events', { kind: 'root', event: 'other' })).toBe(1);
    expect(await metrics.value('horde_telemetry_label_overflow', { label: 'event' })).toBe(1);
  });

  it('keeps an exception inside the bridge away from the actors', async () => {
    const errors: unknown[] = [];
    bridge.dispose();
    bridge = createActorBridge({
      instruments: createActorBridgeInstruments(metrics.meter),
      kindOf: () => {
        throw new Error('kind lookup broke');
      },
      onError: (e) => errors.push(e),
    });
    const root = start();
    root.send({ type: 'root.spawn', n: 1 });
    expect(root.getSnapshot().status).toBe('active');
    expect(errors.length).toBeGreaterThan(0);
    expect(await metrics.value('horde_telemetry_inspector_failures', { observer: 'actor_bridge' })).toBe(errors.length);
  });

  it('stops counting after dispose', async () => {
    const root = start();
    bridge.dispose();
    root.send({ type: 'root.spawn', n: 1 });
    expect(await metrics.value('horde_actor_events', { kind: 'root', event: 'root.spawn' })).toBeUndefined();
  });
});

describe('normaliseEventType', () => {
  it.each([
    ['xstate.error.actor.job-7f3a', 'xstate.error.actor'],
    ['xstate.done.actor.worker-1', 'xstate.done.actor'],
    ['xstate.done.state.root.running', 'xstate.done.state'],
    ['xstate.after.1000.transport.waiting', 'xstate.after'],
    ['xstate.snapshot.child-3', 'xstate.snapshot'],
    ['xstate.init', 'xstate.init'],
    ['xstate.stop', 'xstate.stop'],
    ['transport.open', 'transport.open'],
  ])('maps %s to %s', (type, label) => {
    expect(normaliseEventType(type)).toBe(label);
  });
});

describe('actorKind', () => {
  it('names a machine by its id, a named logic by its src, and inline logic by its function or invoke key', () => {
    const parent = createMachine(
      {
        id: 'parent',
        invoke: [
          { id: 'a', src: 'fetchManifest' },
          { id: 'b', src: fromPromise(async function uploadReceipts() {}) },
          { id: 'c', src: fromPromise(async () => undefined) },
        ],
      },
      { actors: { fetchManifest: fromPromise(async () => undefined) } },
    );
    const root = createActor(parent).start();
    const children = (root.getSnapshot() as unknown as { children: Record<string, AnyActor> }).children;
    expect(actorKind(root)).toBe('parent');
    expect(actorKind(children['a']!)).toBe('fetchManifest');
    expect(actorKind(children['b']!)).toBe('uploadReceipts');
    expect(actorKind(children['c']!)).toMatch(/^xstate\.invoke\.\d+\.parent$/);
    root.stop();
    const spawned = createActor(fromPromise(async () => undefined));
    expect(actorKind(spawned)).toBe('anonymous');
  });
});

describe('combineInspectors', () => {
  it('is undefined when there is nothing to combine, so actors pay nothing', () => {
    expect(combineInspectors(undefined, false, null)).toBeUndefined();
  });

  it('feeds every observer even when one throws', () => {
    const seen: string[] = [];
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const inspect = combineInspectors(
      () => {
        throw new Error('broken observer');
      },
      { next: (e) => seen.push(e.type) },
    );
    const actor = createActor(worker, { inspect }).start();
    actor.stop();
    expect(seen).toContain('@xstate.actor');
    expect(warn).toHaveBeenCalled();
    warn.mockRestore();
  });
});
