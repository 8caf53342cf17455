/**
 * The task group machine with real children (promise, callback, machine, fromTask) on a SimulatedClock.
 * Regression cases cite upstream's synthetic-batch barrier deadlock (ComputeHorde PR #381).
 */
import { createActor, fromPromise, setup, sendParent, type Actor } from 'xstate';
import {
  TaskCancelledError,
  TaskGroupDeadlineError,
  TaskTimeoutError,
  fromTask,
  instrumentedTaskGroupMachine,
  runTaskGroup,
  taskGroupMachine,
  type TaskGroupEmitted,
  type TaskGroupInput,
  type TaskGroupOutput,
} from '../../../src/actors/taskGroup';
import type { TaskGroupMetrics } from '../../../src/resilience/metrics';
import { flush, testTime, type TestTime } from '../../support/resilienceClock';
import { controlledTasks } from '../../support/taskGroupTasks';

const actors: Array<Actor<typeof taskGroupMachine>> = [];
afterEach(() => {
  for (const actor of actors.splice(0)) actor.stop();
});

function startGroup(time: TestTime, input: Omit<TaskGroupInput, 'clock'>, machine = taskGroupMachine) {
  const emitted: TaskGroupEmitted[] = [];
  const actor = createActor(machine, { input: { ...input, clock: time.clock }, clock: time.timers });
  actor.on('*', (event) => emitted.push(event));
  actors.push(actor);
  actor.start();
  const output = (): TaskGroupOutput => {
    const snapshot = actor.getSnapshot();
    if (snapshot.status !== 'done') throw new Error(`group is ${snapshot.status}, not done`);
    return snapshot.output;
  };
  return { actor, emitted, output };
}

const statuses = (output: TaskGroupOutput): Record<string, string> =>
  Object.fromEntries(output.results.map((r) => [r.id, r.status]));

describe('task group', () => {
  it('collects one result per child, in input order, from every kind of logic', async () => {
    const time = testTime();
    const tasks = controlledTasks();
    const boom = new Error('boom');
    const worker = setup({}).createMachine({ initial: 'work', states: { work: { after: { 50: 'finished' } }, finished: { type: 'final' } }, output: () => 'machine-out' });
    const { output } = startGroup(time, {
      children: [
        { id: 'promise', logic: fromPromise(async () => 'promise-out') },
        { id: 'rejects', logic: fromPromise(() => Promise.reject(boom)) },
        { id: 'machine', logic: worker },
        tasks.spec('callback'),
      ],
    });
    await flush();
    time.xstateClock.increment(50);
    tasks.control('callback').finish('callback-out');
    expect(output().results).toEqual([
      { id: 'promise', status: 'done', output: 'promise-out' },
      { id: 'rejects', status: 'failed', error: boom },
      { id: 'machine', status: 'done', output: 'machine-out' },
      { id: 'callback', status: 'done', output: 'callback-out' },
    ]);
    expect(output().reason).toBe('completed');
  });

  it('keeps siblings running after a failure under isolate', () => {
    const time = testTime();
    const tasks = controlledTasks();
    const { actor, output } = startGroup(time, { children: ['a', 'b', 'c'].map((id) => tasks.spec(id)), errorPolicy: 'isolate' });
    tasks.control('a').fail(new Error('miner gone'));
    expect(tasks.live()).toEqual(['b', 'c']);
    expect(actor.getSnapshot().status).toBe('active');
    tasks.control('b').finish(1);
    tasks.control('c').finish(2);
    expect(statuses(output())).toEqual({ a: 'failed', b: 'done', c: 'done' });
  });

  it('stops every other child at the first failure under fail_fast, including those not yet started', () => {
    const time = testTime();
    const tasks = controlledTasks();
    const { output, emitted } = startGroup(time, {
      children: ['a', 'b', 'c', 'd'].map((id) => tasks.spec(id)),
      errorPolicy: 'fail_fast',
      concurrency: 3,
    });
    tasks.control('b').finish('fine');
    tasks.control('a').fail(new Error('bad'));
    expect(tasks.control('c').stopped).toBe(true);
    expect(tasks.control('d').stopped).toBe(true);
    expect(statuses(output())).toEqual({ a: 'failed', b: 'done', c: 'cancelled', d: 'cancelled' });
    expect(output().reason).toBe('fail_fast');
    const cancelled = output().results.find((r) => r.id === 'c')?.error;
    expect(cancelled).toBeInstanceOf(TaskCancelledError);
    expect(cancelled).toMatchObject({ code: 'taskgroup.cancelled', reason: 'fail_fast' });
    expect(emitted.filter((e) => e.type === 'taskGroup.child.settled')).toHaveLength(4);
  });

  it('treats a child timeout as a failure under fail_fast', () => {
    const time = testTime();
    const tasks = controlledTasks();
    const { output } = startGroup(time, {
      children: [tasks.spec('slow', { timeoutMs: 100 }), tasks.spec('other')],
      errorPolicy: 'fail_fast',
    });
    time.xstateClock.increment(100);
    expect(statuses(output())).toEqual({ slow: 'timed_out', other: 'cancelled' });
  });

  it('stops a child that overruns its timeout and reports a timeout error, leaving its siblings alone', async () => {
    const time = testTime();
    let abortedSignal: AbortSignal | undefined;
    const stuck = fromPromise(({ signal }) => {
      abortedSignal = signal;
      return new Promise<never>(() => {});
    });
    const tasks = controlledTasks();
    const { output } = startGroup(time, {
      children: [{ id: 'stuck', logic: stuck }, tasks.spec('own-timeout', { timeoutMs: 500 }), tasks.spec('quick')],
      childTimeoutMs: 200,
    });
    await flush();
    time.xstateClock.increment(199);
    tasks.control('quick').finish('ok');
    time.xstateClock.increment(1);
    expect(abortedSignal?.aborted).toBe(true);
    expect(tasks.control('own-timeout').stopped).toBe(false);
    time.xstateClock.increment(300);
    expect(statuses(output())).toEqual({ stuck: 'timed_out', 'own-timeout': 'timed_out', quick: 'done' });
    const error = output().results[0]?.error;
    expect(error).toBeInstanceOf(TaskTimeoutError);
    expect(error).toMatchObject({ code: 'taskgroup.child_timeout', childId: 'stuck', timeoutMs: 200 });
    expect(time.timers.pending).toBe(0);
  });

  describe('barriers', () => {
    it('releases nobody until every live child has arrived, then everyone together', () => {
      const time = testTime();
      const tasks = controlledTasks();
      const { emitted } = startGroup(time, { children: ['a', 'b', 'c'].map((id) => tasks.spec(id)) });
      tasks.control('a').arrive('start');
      tasks.control('b').arrive('start');
      expect(tasks.control('a').released).toEqual([]);
      tasks.control('c').arrive('start');
      expect(['a', 'b', 'c'].map((id) => tasks.control(id).released)).toEqual([['start'], ['start'], ['start']]);
      expect(emitted.filter((e) => e.type === 'taskGroup.barrier.released')).toEqual([
        { type: 'taskGroup.barrier.released', name: 'start', childIds: ['a', 'b', 'c'] },
      ]);
    });

    it('lets the others proceed when a child fails before arriving (upstream PR #381)', () => {
      const time = testTime();
      const tasks = controlledTasks();
      startGroup(time, { children: ['a', 'b', 'c'].map((id) => tasks.spec(id)) });
      tasks.control('a').arrive('serialize');
      tasks.control('b').arrive('serialize');
      tasks.control('c').fail(new Error('send failed before the barrier'));
      expect(tasks.control('a').released).toEqual(['serialize']);
      expect(tasks.control('b').released).toEqual(['serialize']);
    });

    it('under fail_fast, cancels the waiters instead of releasing them when the failure would open the barrier', () => {
      // Found by the model test: the departure opened the barrier while fail_fast stopped its waiters, and sending
      // the release to a stopped child failed the whole group.
      const time = testTime();
      const tasks = controlledTasks();
      const { output } = startGroup(time, { children: ['a', 'b', 'c'].map((id) => tasks.spec(id)), errorPolicy: 'fail_fast' });
      tasks.control('a').arrive('start');
      tasks.control('b').arrive('start');
      tasks.control('c').fail(new Error('boom'));
      expect(tasks.control('a').released).toEqual([]);
      expect(statuses(output())).toEqual({ a: 'cancelled', b: 'cancelled', c: 'failed' });
    });

    it('lets the others proceed when a child times out before arriving', () => {
      const time = testTime();
      const tasks = controlledTasks();
      startGroup(time, { children: [tasks.spec('a'), tasks.spec('b'), tasks.spec('hung', { timeoutMs: 1_000 })] });
      tasks.control('a').arrive('start');
      tasks.control('b').arrive('start');
      expect(tasks.control('a').released).toEqual([]);
      time.xstateClock.increment(1_000);
      expect(tasks.control('a').released).toEqual(['start']);
      expect(tasks.control('b').released).toEqual(['start']);
    });

    it('does not release a child that finished after arriving, and keeps counting those still live', () => {
      const time = testTime();
      const tasks = controlledTasks();
      startGroup(time, { children: ['a', 'b', 'c'].map((id) => tasks.spec(id)) });
      tasks.control('a').arrive('x');
      tasks.control('a').finish();
      tasks.control('b').arrive('x');
      expect(tasks.control('b').released).toEqual([]);
      tasks.control('c').arrive('x');
      expect(tasks.control('b').released).toEqual(['x']);
      expect(tasks.control('c').released).toEqual(['x']);
    });

    it('keeps several named barriers apart, in sequence', () => {
      const time = testTime();
      const tasks = controlledTasks();
      startGroup(time, { children: ['a', 'b'].map((id) => tasks.spec(id)) });
      tasks.control('a').arrive('start');
      tasks.control('b').arrive('start');
      tasks.control('a').arrive('serialize');
      expect(tasks.control('a').released).toEqual(['start']);
      tasks.control('b').arrive('serialize');
      expect(tasks.control('a').released).toEqual(['start', 'serialize']);
      expect(tasks.control('b').released).toEqual(['start', 'serialize']);
    });

    it('lets a child started after a barrier opened pass straight through it', () => {
      const time = testTime();
      const tasks = controlledTasks();
      startGroup(time, { children: ['a', 'b', 'late'].map((id) => tasks.spec(id)), concurrency: 2 });
      tasks.control('a').arrive('go');
      tasks.control('b').arrive('go');
      tasks.control('a').finish();
      tasks.control('late').arrive('go');
      expect(tasks.control('late').released).toEqual(['go']);
    });

    it('synchronises fromTask children through barrier()', async () => {
      const time = testTime();
      const order: string[] = [];
      const step = fromTask<string, { id: string; prepMs: number }>(async ({ input, barrier }) => {
        await new Promise<void>((resolve) => time.timers.setTimeout(resolve, input.prepMs));
        order.push(`${input.id} ready`);
        await barrier('fire');
        order.push(`${input.id} fired`);
        return input.id;
      });
      const { output } = startGroup(time, {
        children: [
          { id: 'fast', logic: step, input: { id: 'fast', prepMs: 10 } },
          { id: 'slow', logic: step, input: { id: 'slow', prepMs: 300 } },
        ],
      });
      await time.advance(10);
      await time.advance(290);
      await flush();
      expect(order).toEqual(['fast ready', 'slow ready', 'fast fired', 'slow fired']);
      expect(statuses(output())).toEqual({ fast: 'done', slow: 'done' });
    });
  });

  it('never runs more than `concurrency` children at once and starts the next as one settles', () => {
    const time = testTime();
    const tasks = controlledTasks();
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const { emitted, output } = startGroup(time, { children: ids.map((id) => tasks.spec(id)), concurrency: 2 });
    let maxLive = 0;
    const order: string[] = [];
    const settleFirstLive = (): void => {
      maxLive = Math.max(maxLive, tasks.live().length);
      const [first] = tasks.live();
      order.push(first!);
      tasks.control(first!).finish();
    };
    while (tasks.live().length > 0) settleFirstLive();
    expect(maxLive).toBe(2);
    expect(order).toEqual(ids);
    expect(emitted.filter((e) => e.type === 'taskGroup.child.started').map((e) => (e as { childId: string }).childId)).toEqual(ids);
    expect(output().reason).toBe('completed');
  });

  it('at the deadline, times out the running children and cancels those not started', () => {
    const time = testTime();
    const tasks = controlledTasks();
    const { output } = startGroup(time, {
      children: ['a', 'b', 'c'].map((id) => tasks.spec(id)),
      concurrency: 2,
      deadlineMs: 5_000,
    });
    tasks.control('a').finish('in time');
    time.xstateClock.increment(5_000);
    expect(statuses(output())).toEqual({ a: 'done', b: 'timed_out', c: 'timed_out' });
    expect(output().reason).toBe('deadline');
    expect(output().results[1]?.error).toBeInstanceOf(TaskGroupDeadlineError);
  });

  it('cancels children that never started when the deadline passes first', () => {
    const time = testTime();
    const tasks = controlledTasks();
    const { output } = startGroup(time, { children: ['a', 'b'].map((id) => tasks.spec(id)), concurrency: 1, deadlineMs: 100 });
    time.xstateClock.increment(100);
    expect(statuses(output())).toEqual({ a: 'timed_out', b: 'cancelled' });
    expect(output().results[1]?.error).toMatchObject({ reason: 'deadline' });
  });

  it('stops every child and leaves no timer when the group is stopped', async () => {
    const time = testTime();
    const tasks = controlledTasks();
    let promiseSignal: AbortSignal | undefined;
    const hanging = fromPromise(({ signal }) => {
      promiseSignal = signal;
      return new Promise<never>(() => {});
    });
    const { actor } = startGroup(time, {
      children: [tasks.spec('a', { timeoutMs: 10_000 }), tasks.spec('b'), { id: 'p', logic: hanging }],
      deadlineMs: 60_000,
      childTimeoutMs: 30_000,
    });
    await flush();
    expect(time.timers.pending).toBe(4); // the deadline and three child timeouts
    actor.stop();
    expect(tasks.live()).toEqual([]);
    expect(promiseSignal?.aborted).toBe(true);
    expect(time.timers.pending).toBe(0);
  });

  it('finishes with every unsettled child cancelled on taskGroup.cancel', () => {
    const time = testTime();
    const tasks = controlledTasks();
    const { actor, output } = startGroup(time, { children: ['a', 'b'].map((id) => tasks.spec(id)), deadlineMs: 1_000 });
    tasks.control('a').finish();
    actor.send({ type: 'taskGroup.cancel' });
    expect(statuses(output())).toEqual({ a: 'done', b: 'cancelled' });
    expect(output().reason).toBe('cancelled');
    expect(tasks.live()).toEqual([]);
    expect(time.timers.pending).toBe(0);
  });

  it('finishes at once when it has no children', () => {
    const { output, emitted } = startGroup(testTime(), { children: [] });
    expect(output()).toEqual({ results: [], reason: 'completed' });
    expect(emitted.map((e) => e.type)).toEqual(['taskGroup.finished']);
  });

  it('ignores a second outcome from the same child: the first one wins', () => {
    const time = testTime();
    const tasks = controlledTasks();
    const { output } = startGroup(time, { children: [tasks.spec('a'), tasks.spec('b')] });
    const a = tasks.control('a');
    a.finish('first');
    a.fail(new Error('second'));
    tasks.control('b').finish();
    expect(output().results[0]).toEqual({ id: 'a', status: 'done', output: 'first' });
  });

  it('accepts child ids that collide with Object.prototype names', () => {
    const time = testTime();
    const tasks = controlledTasks();
    const { output } = startGroup(time, { children: ['constructor', '__proto__', 'toString'].map((id) => tasks.spec(id)) });
    tasks.control('constructor').arrive('b');
    tasks.control('__proto__').arrive('b');
    tasks.control('toString').arrive('b');
    expect(tasks.control('__proto__').released).toEqual(['b']);
    for (const id of ['constructor', '__proto__', 'toString']) tasks.control(id).finish(id);
    expect(output().results.map((r) => r.output)).toEqual(['constructor', '__proto__', 'toString']);
  });

  it('fails to start with every input problem listed', () => {
    const time = testTime();
    const tasks = controlledTasks();
    const actor = createActor(taskGroupMachine, {
      input: {
        children: [tasks.spec('a'), tasks.spec('a'), { id: '', logic: {} as never }],
        concurrency: 0,
        deadlineMs: -1,
      },
      clock: time.timers,
    });
    const errors: unknown[] = [];
    actor.subscribe({ error: (e) => errors.push(e) });
    actor.start();
    expect(actor.getSnapshot().status).toBe('error');
    expect(errors[0]).toMatchObject({
      code: 'taskgroup.invalid_input',
      problems: [
        "children[1].id 'a' is not unique",
        'children[2].id must be a non-empty string',
        'children[2].logic must be XState actor logic (fromPromise, fromCallback, a machine…)',
        'deadlineMs must be a finite number > 0',
        'concurrency must be an integer >= 1 or Infinity',
      ],
    });
  });

  it('records each child outcome and the group duration through the provided metrics', () => {
    const time = testTime();
    const tasks = controlledTasks();
    const log: string[] = [];
    const metrics: TaskGroupMetrics = {
      childSettled: (outcome, durationMs) => log.push(`${outcome} ${String(durationMs)}`),
      groupFinished: (reason, durationMs) => log.push(`group ${reason} ${durationMs}`),
    };
    startGroup(
      time,
      { children: [tasks.spec('a'), tasks.spec('b', { timeoutMs: 300 }), tasks.spec('c')], concurrency: 2 },
      instrumentedTaskGroupMachine(metrics),
    );
    time.xstateClock.increment(100);
    tasks.control('a').finish();
    time.xstateClock.increment(200);
    tasks.control('c').fail(new Error('x'));
    expect(log).toEqual(['done 100', 'timed_out 300', 'failed 200', 'group completed 300']);
  });

  it('works as an invoked child of another machine', () => {
    const time = testTime();
    const tasks = controlledTasks();
    const parent = setup({ actors: { group: taskGroupMachine } }).createMachine({
      initial: 'running',
      context: { output: undefined as TaskGroupOutput | undefined },
      states: {
        running: {
          invoke: {
            src: 'group',
            input: { children: [tasks.spec('a')], clock: time.clock },
            onDone: { target: 'done', actions: ({ event }) => void (outputs.push(event.output)) },
          },
        },
        done: { type: 'final' },
      },
    });
    const outputs: TaskGroupOutput[] = [];
    const actor = createActor(parent, { clock: time.timers }).start();
    tasks.control('a').finish(7);
    expect(actor.getSnapshot().status).toBe('done');
    expect(outputs[0]?.results).toEqual([{ id: 'a', status: 'done', output: 7 }]);
  });

  it('relays barrier events for machine children that use sendParent', () => {
    const time = testTime();
    const tasks = controlledTasks();
    const waiter = setup({}).createMachine({
      initial: 'arriving',
      states: {
        arriving: { entry: sendParent({ type: 'taskGroup.barrier.arrive', name: 'go' }), on: { 'taskGroup.barrier.release': 'released' } },
        released: { type: 'final' },
      },
      output: () => 'released',
    });
    const { output } = startGroup(time, { children: [{ id: 'machine', logic: waiter }, tasks.spec('cb')] });
    tasks.control('cb').arrive('go');
    tasks.control('cb').finish();
    expect(output().results[0]).toEqual({ id: 'machine', status: 'done', output: 'released' });
  });
});

describe('fromTask', () => {
  it('aborts its signal and rejects a pending barrier() when stopped, ignoring the late result', async () => {
    const time = testTime();
    const seen: string[] = [];
    const task = fromTask(async ({ signal, barrier }) => {
      signal.addEventListener('abort', () => seen.push('aborted'));
      try {
        await barrier('never');
      } catch {
        seen.push('barrier rejected');
      }
      return 'late';
    });
    const tasks = controlledTasks();
    const { actor } = startGroup(time, { children: [{ id: 't', logic: task }, tasks.spec('other')] });
    await flush();
    actor.send({ type: 'taskGroup.cancel' });
    await flush();
    expect(seen).toEqual(['aborted', 'barrier rejected']);
  });

  it('reports a rejection as the child failure', async () => {
    const time = testTime();
    const boom = new Error('upload failed');
    const { output } = startGroup(time, { children: [{ id: 't', logic: fromTask(() => Promise.reject(boom)) }] });
    await flush();
    expect(output().results[0]).toEqual({ id: 't', status: 'failed', error: boom });
  });
});

describe('runTaskGroup', () => {
  it('resolves with the output and reports progress', async () => {
    const time = testTime();
    const events: string[] = [];
    const output = await runTaskGroup(
      { children: [{ id: 'x', logic: fromPromise(async () => 1) }], clock: time.clock },
      { timers: time.timers, onEvent: (e) => events.push(e.type) },
    );
    expect(output).toEqual({ results: [{ id: 'x', status: 'done', output: 1 }], reason: 'completed' });
    expect(events).toEqual(['taskGroup.child.started', 'taskGroup.child.settled', 'taskGroup.finished']);
  });

  it('cancels the group when its signal aborts, still resolving with the results so far', async () => {
    const time = testTime();
    const controller = new AbortController();
    const pending = runTaskGroup(
      {
        children: [
          { id: 'quick', logic: fromPromise(async () => 'ok') },
          { id: 'hangs', logic: fromPromise(() => new Promise<never>(() => {})) },
        ],
        clock: time.clock,
      },
      { timers: time.timers, signal: controller.signal },
    );
    await flush();
    controller.abort();
    const output = await pending;
    expect(statuses(output)).toEqual({ quick: 'done', hangs: 'cancelled' });
    expect(time.timers.pending).toBe(0);
  });

  it('rejects with TaskGroupInputError for an invalid input', async () => {
    await expect(runTaskGroup({ children: [], concurrency: -3 })).rejects.toMatchObject({ code: 'taskgroup.invalid_input' });
  });
});
