import { assign, createActor, fromCallback, setup, type AnyActorRef } from 'xstate';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { SupervisorEscalationError } from '../../../src/supervisors/errors';
import { deciderFromCodes } from '../../../src/supervisors/decider';
import { SupervisorMetrics } from '../../../src/supervisors/metrics';
import type { Strategy, SupervisorPolicy } from '../../../src/supervisors/policy';
import { supervisorMachine } from '../../../src/supervisors/supervisor.machine';
import { seededRandom } from '../../../src/util/clock';
import { HordeError } from '../../../src/util/errors';
import {
  ManualReader,
  ProbeFailure,
  SteppingClock,
  probeLogic,
  startSupervisor,
  stopAllSupervisors,
  statusOf,
  type LogEntry,
} from './harness';

afterEach(stopAllSupervisors);

interface ParentContext {
  failure: unknown;
}

const noBackoff = (strategy: Strategy, intensity = 2, periodMs = 10_000): SupervisorPolicy => ({
  strategy,
  intensity,
  periodMs,
});
/** Independent restatement of the backoff (full jitter in [min, min(max, min * 2^attempt))). */
const delayFor = (minMs: number, maxMs: number, attempt: number, draw: number): number =>
  minMs + Math.floor(draw * (Math.min(maxMs, minMs * 2 ** attempt) - minMs));

describe('escalation', () => {
  describe.each<Strategy>(['one_for_one', 'one_for_all', 'rest_for_one'])('under %s', (strategy) => {
    it('stops every child in reverse start order and fails once restarts exceed intensity within periodMs', () => {
      const h = startSupervisor({ policy: noBackoff(strategy), name: 'pool' }, (spec) => [
        spec('a', 'permanent'),
        spec('b', 'permanent'),
        spec('c', 'permanent'),
      ]);
      const failure = new ProbeFailure('executor.crashed');
      h.fail('b', failure);
      h.clock.advanceBy(100);
      h.fail('b', failure);
      h.clock.advanceBy(100);
      expect(h.actor.getSnapshot().status).toBe('active');
      const askedBefore = h.shutdownRequests().length;

      h.fail('b', failure);

      expect(h.decisions.map((d) => d.directive)).toEqual(['restart', 'restart', 'escalate']);
      expect(h.shutdownRequests().slice(askedBefore)).toEqual(['c', 'a']);
      const snapshot = h.actor.getSnapshot();
      expect(snapshot.status).toBe('error');
      expect(snapshot.error).toBeInstanceOf(SupervisorEscalationError);
      const error = snapshot.error as SupervisorEscalationError;
      expect(error).toMatchObject({
        code: 'supervisor.escalated',
        supervisor: 'pool',
        childId: 'b',
        reason: 'intensity',
      });
      expect(error.cause).toBe(failure);
      expect(h.errors).toEqual([error]);
    });
  });

  it('stops a stubborn child by force at its shutdownMs before failing, leaving no orphan', () => {
    const h = startSupervisor({ policy: noBackoff('one_for_one', 0) }, (spec) => [
      spec('stubborn', 'permanent', { behaviour: { kind: 'stubborn' }, shutdownMs: 250 }),
      spec('a', 'permanent'),
    ]);
    const stubborn = h.child('stubborn')!;
    h.fail('a');
    expect(h.actor.getSnapshot().status).toBe('active');
    h.clock.advanceTo(249);
    expect(statusOf(stubborn)).toBe('active');
    h.clock.advanceTo(250);
    expect(statusOf(stubborn)).toBe('stopped');
    expect(h.actor.getSnapshot().status).toBe('error');
    expect(h.decisions.map((d) => d.directive)).toEqual(['escalate']);
    expect(h.clock.pendingDueTimes()).toEqual([]);
  });

  it('does not escalate when restarts are spread wider than periodMs', () => {
    const h = startSupervisor({ policy: noBackoff('one_for_one') }, (spec) => [spec('a', 'permanent')]);
    for (const atMs of [0, 6_000, 12_000, 18_000, 24_000]) {
      h.clock.advanceTo(atMs);
      h.fail('a');
    }
    expect(h.decisions.every((d) => d.directive === 'restart')).toBe(true);
    expect(h.actor.getSnapshot().status).toBe('active');
  });

  it('still counts a restart exactly periodMs old', () => {
    const h = startSupervisor({ policy: noBackoff('one_for_one') }, (spec) => [spec('a', 'permanent')]);
    for (const atMs of [0, 5_000, 10_000]) {
      h.clock.advanceTo(atMs);
      h.fail('a');
    }
    expect(h.decisions.map((d) => d.directive)).toEqual(['restart', 'restart', 'escalate']);
  });

  it('reaches the parent as xstate.error.actor.<id>', () => {
    const clock = new SteppingClock();
    const log: LogEntry[] = [];
    const parent = setup({
      types: { context: {} as ParentContext },
      actors: { supervisor: supervisorMachine },
    }).createMachine({
      context: { failure: undefined },
      initial: 'supervising',
      states: {
        supervising: {
          invoke: {
            id: 'pool',
            src: 'supervisor',
            input: {
              policy: noBackoff('one_for_one', 0),
              children: [{ id: 'w', logic: probeLogic('w', clock, log), restart: 'permanent', shutdownMs: 100 }],
              clock: clock.asClock(),
            },
            onError: { target: 'poolFailed', actions: assign({ failure: ({ event }) => event.error }) },
          },
        },
        poolFailed: {},
      },
    });
    const root = createActor(parent, { clock }).start();
    const pool = root.getSnapshot().children.pool as AnyActorRef;
    (pool.getSnapshot() as { children: Record<string, AnyActorRef> }).children.w!.send({ type: 'test.fail' });
    expect(root.getSnapshot().value).toBe('poolFailed');
    expect(root.getSnapshot().context.failure).toBeInstanceOf(SupervisorEscalationError);
    root.stop();
  });

  it('lets a parent supervisor restart an escalating child supervisor with its children', () => {
    const h = startSupervisor({ policy: noBackoff('one_for_one'), name: 'root' }, () => []);
    const inner = {
      id: 'inner',
      logic: supervisorMachine,
      input: {
        policy: noBackoff('one_for_one', 0),
        name: 'inner',
        children: [{ id: 'w', logic: probeLogic('w', h.clock, h.log), restart: 'permanent' as const, shutdownMs: 100 }],
        clock: h.clock.asClock(),
      },
      restart: 'permanent' as const,
      shutdownMs: 1_000,
    };
    h.actor.send({ type: 'supervisor.start_child', spec: inner });
    const innerRef = h.child('inner')!;
    (innerRef.getSnapshot() as { children: Record<string, AnyActorRef> }).children.w!.send({ type: 'test.fail' });
    expect(h.decisions).toEqual([
      {
        type: 'supervisor.decision',
        childId: 'inner',
        directive: 'restart',
        errorCode: 'supervisor.escalated',
        restartInMs: 0,
      },
    ]);
    expect(h.starts('w')).toEqual([0, 0]);
    expect(h.child('inner')).not.toBe(innerRef);
    expect(statusOf(h.child('inner'))).toBe('active');
  });
});

describe('shutdown', () => {
  it('stops children in reverse start order, waits for graceful ones, forces stubborn ones at exactly shutdownMs', () => {
    const h = startSupervisor({ policy: noBackoff('one_for_one') }, (spec) => [
      spec('a', 'permanent', { behaviour: { kind: 'graceful' } }),
      spec('b', 'permanent', { behaviour: { kind: 'windDown', afterMs: 200 }, shutdownMs: 1_000 }),
      spec('c', 'permanent', { behaviour: { kind: 'stubborn' }, shutdownMs: 500 }),
    ]);
    const c = h.child('c')!;
    const b = h.child('b')!;
    h.clock.advanceTo(1_000);
    h.actor.send({ type: 'supervisor.shutdown' });
    expect(h.shutdownRequests()).toEqual(['c']);

    h.clock.advanceTo(1_499);
    expect(statusOf(c)).toBe('active');
    expect(h.shutdownRequests()).toEqual(['c']);

    h.clock.advanceTo(1_500);
    expect(statusOf(c)).toBe('stopped');
    expect(h.log.filter((e) => e.what === 'asked_to_shut_down')).toEqual([
      { atMs: 1_000, child: 'c', what: 'asked_to_shut_down' },
      { atMs: 1_500, child: 'b', what: 'asked_to_shut_down' },
    ]);

    h.clock.advanceTo(1_699);
    expect(statusOf(b)).toBe('active');
    h.clock.advanceTo(1_700);
    expect(statusOf(b)).toBe('done');
    expect(h.shutdownRequests()).toEqual(['c', 'b', 'a']);
    expect(h.actor.getSnapshot().status).toBe('done');
    expect(h.clock.pendingDueTimes()).toEqual([]);
    expect(h.decisions).toEqual([]);
    expect(h.starts('a')).toEqual([0]);
  });

  it('stops a child with shutdownMs 0 by force without asking', () => {
    const h = startSupervisor({ policy: noBackoff('one_for_one') }, (spec) => [
      spec('a', 'permanent', { shutdownMs: 0 }),
    ]);
    const a = h.child('a')!;
    h.actor.send({ type: 'supervisor.shutdown' });
    expect(statusOf(a)).toBe('stopped');
    expect(h.shutdownRequests()).toEqual([]);
    expect(h.actor.getSnapshot().status).toBe('done');
  });

  it('restarts siblings stopped by force (shutdownMs 0) at once under the same systemIds', () => {
    const h = startSupervisor({ policy: noBackoff('one_for_all') }, (spec) => [
      spec('a', 'permanent', { systemId: 'a', shutdownMs: 0 }),
      spec('b', 'permanent', { systemId: 'b', shutdownMs: 0 }),
    ]);
    const oldA = h.child('a');
    h.fail('b');
    expect(statusOf(oldA)).toBe('stopped');
    expect(h.starts('a')).toEqual([0, 0]);
    expect(h.actor.system.get('a')).toBe(h.child('a'));
    expect(h.actor.system.get('b')).toBe(h.child('b'));
    expect(statusOf(h.child('a'))).toBe('active');
  });

  it('cancels pending restarts and rejects new children while stopping', () => {
    const h = startSupervisor(
      { policy: { ...noBackoff('one_for_one'), backoff: { minMs: 1_000, maxMs: 1_000, resetAfterMs: 0 } } },
      (spec) => [spec('a', 'permanent'), spec('b', 'permanent', { behaviour: { kind: 'stubborn' }, shutdownMs: 300 })],
    );
    h.fail('a');
    expect(h.clock.pendingDueTimes()).toEqual([1_000]);
    h.actor.send({ type: 'supervisor.shutdown' });
    h.actor.send({ type: 'supervisor.start_child', spec: h.spec('late', 'temporary') });
    expect(h.rejections).toEqual([
      { type: 'supervisor.rejected', request: 'start_child', childId: 'late', reason: 'the supervisor is stopping' },
    ]);
    expect(h.clock.pendingDueTimes()).toEqual([300]);
    h.clock.advanceTo(5_000);
    expect(h.starts('a')).toEqual([0]);
    expect(h.starts('late')).toEqual([]);
    expect(h.actor.getSnapshot().status).toBe('done');
  });

  it('decides nothing about a child that fails while it waits for its turn to stop', () => {
    const h = startSupervisor({ policy: noBackoff('one_for_one') }, (spec) => [
      spec('a', 'permanent'),
      spec('b', 'permanent', { behaviour: { kind: 'stubborn' }, shutdownMs: 300 }),
    ]);
    h.actor.send({ type: 'supervisor.shutdown' });
    h.fail('a', new ProbeFailure('late.failure'));
    expect(h.decisions).toEqual([
      { type: 'supervisor.decision', childId: 'a', directive: 'stop', errorCode: 'late.failure' },
    ]);
    h.clock.advanceTo(300);
    expect(h.shutdownRequests()).toEqual(['b']);
    expect(h.starts('a')).toEqual([0]);
    expect(h.actor.getSnapshot().status).toBe('done');
  });
});

describe('restart backoff and intensity', () => {
  it('trips the intensity limit in a restart storm, with each restart at its exact backoff time', () => {
    const SEED = 3;
    const h = startSupervisor(
      {
        policy: {
          strategy: 'one_for_one',
          intensity: 5,
          periodMs: 30_000,
          backoff: { minMs: 100, maxMs: 1_000, resetAfterMs: 15_000 },
        },
        random: seededRandom(SEED),
      },
      (spec) => [spec('flaky', 'permanent')],
    );
    const draws = seededRandom(SEED);
    const expectedStarts = [0];
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      h.fail('flaky');
      const delayMs = delayFor(100, 1_000, attempt, draws());
      expect(h.decisions.at(-1)).toMatchObject({ directive: 'restart', restartInMs: delayMs });
      const dueMs = h.clock.now() + delayMs;
      h.clock.advanceTo(dueMs - 1);
      expect(h.child('flaky')).toBeUndefined();
      h.clock.advanceTo(dueMs);
      expectedStarts.push(dueMs);
      expect(h.starts('flaky')).toEqual(expectedStarts);
    }
    h.fail('flaky');
    expect(h.decisions.map((d) => d.directive)).toEqual([
      'restart',
      'restart',
      'restart',
      'restart',
      'restart',
      'escalate',
    ]);
    expect(h.actor.getSnapshot().status).toBe('error');
  });

  it('starts the backoff over after resetAfterMs of healthy running', () => {
    const SEED = 11;
    const backoff = { minMs: 1_000, maxMs: 30_000, resetAfterMs: 15_000 };
    const h = startSupervisor(
      { policy: { strategy: 'one_for_one', intensity: 10, periodMs: 60_000, backoff }, random: seededRandom(SEED) },
      (spec) => [spec('a', 'permanent')],
    );
    const draws = seededRandom(SEED);
    const expected: number[] = [];
    const failAfter = (ranForMs: number): void => {
      h.clock.advanceBy(ranForMs);
      h.fail('a');
      h.clock.fireNext();
    };
    failAfter(0); // attempt 1
    expected.push(delayFor(1_000, 30_000, 1, draws()));
    failAfter(14_999); // attempt 2: not healthy long enough
    expected.push(delayFor(1_000, 30_000, 2, draws()));
    failAfter(15_000); // healthy for resetAfterMs: attempt 1 again
    expected.push(delayFor(1_000, 30_000, 1, draws()));
    expect(h.decisions.map((d) => d.restartInMs)).toEqual(expected);
  });

  it('restarts a child that fails while starting, and escalates (no hot loop) when it always does', () => {
    let attempts = 0;
    const flaky = fromCallback(() => {
      attempts += 1;
      if (attempts <= 2) throw new HordeError('child.start_failed', `attempt ${attempts}`);
    });
    const h = startSupervisor({ policy: noBackoff('one_for_one', 3) }, () => [
      { id: 'flaky', logic: flaky, restart: 'permanent', shutdownMs: 100, systemId: 'flaky' },
    ]);
    expect(attempts).toBe(3);
    expect(h.decisions.map((d) => [d.directive, d.errorCode])).toEqual([
      ['restart', 'child.start_failed'],
      ['restart', 'child.start_failed'],
    ]);
    expect(h.actor.system.get('flaky')).toBe(h.child('flaky'));

    const hopeless = fromCallback(() => {
      throw new HordeError('child.start_failed', 'always');
    });
    const g = startSupervisor({ policy: noBackoff('one_for_one', 3) }, () => [
      { id: 'hopeless', logic: hopeless, restart: 'permanent', shutdownMs: 100 },
    ]);
    expect(g.decisions.map((d) => d.directive)).toEqual(['restart', 'restart', 'restart', 'escalate']);
    expect(g.actor.getSnapshot().status).toBe('error');
  });
});

describe('dynamic children', () => {
  it('starts children on request, reachable by id and systemId, and stops them gracefully without restarting', () => {
    const h = startSupervisor({ policy: noBackoff('one_for_one') });
    h.clock.advanceTo(50);
    h.actor.send({ type: 'supervisor.start_child', spec: h.spec('conn-1', 'permanent', { systemId: 'conn-1' }) });
    expect(h.starts('conn-1')).toEqual([50]);
    expect(h.actor.system.get('conn-1')).toBe(h.child('conn-1'));

    h.actor.send({ type: 'supervisor.stop_child', id: 'conn-1' });
    expect(h.shutdownRequests()).toEqual(['conn-1']);
    expect(h.child('conn-1')).toBeUndefined();
    expect(h.actor.system.get('conn-1')).toBeUndefined();
    h.clock.advanceBy(60_000);
    expect(h.starts('conn-1')).toEqual([50]);
    expect(h.decisions).toEqual([]);
    expect(h.actor.getSnapshot().context.children).toEqual([]);
  });

  it('rejects a duplicate id, a taken systemId, an invalid spec and an unknown stop, with the reason', () => {
    const h = startSupervisor({ policy: noBackoff('one_for_one') }, (spec) => [
      spec('a', 'permanent', { systemId: 'link' }),
    ]);
    h.actor.send({ type: 'supervisor.start_child', spec: h.spec('a', 'temporary') });
    h.actor.send({ type: 'supervisor.start_child', spec: h.spec('b', 'temporary', { systemId: 'link' }) });
    h.actor.send({ type: 'supervisor.start_child', spec: h.spec('c', 'temporary', { shutdownMs: -5 }) });
    h.actor.send({ type: 'supervisor.stop_child', id: 'nobody' });
    expect(h.rejections.map(({ request, childId, reason }) => [request, childId, reason])).toEqual([
      ['start_child', 'a', 'spec.id "a" is already in use'],
      ['start_child', 'b', 'spec.systemId "link" is already registered'],
      ['start_child', 'c', 'spec.shutdownMs must be a finite number >= 0 (got -5)'],
      ['stop_child', 'nobody', 'no child with id "nobody"'],
    ]);
    expect(Object.keys(h.actor.getSnapshot().children)).toEqual(['a']);
  });

  it('rejects start_child beyond maxChildren and counts every rejection', async () => {
    const reader = new ManualReader();
    const provider = new MeterProvider({ readers: [reader] });
    const metrics = new SupervisorMetrics(provider.getMeter('test'));
    const h = startSupervisor({ policy: noBackoff('one_for_one'), maxChildren: 2, name: 'jobs', metrics }, (spec) => [
      spec('a', 'temporary'),
    ]);
    h.actor.send({ type: 'supervisor.start_child', spec: h.spec('b', 'temporary') });
    h.actor.send({ type: 'supervisor.start_child', spec: h.spec('c', 'temporary') });
    h.actor.send({ type: 'supervisor.stop_child', id: 'zz' });
    expect(h.rejections.map((r) => r.reason)).toEqual([
      'the supervisor already holds its maximum of 2 children',
      'no child with id "zz"',
    ]);
    expect(h.starts('c')).toEqual([]);
    h.actor.send({ type: 'supervisor.stop_child', id: 'a' });
    h.actor.send({ type: 'supervisor.start_child', spec: h.spec('c', 'temporary') });
    expect(h.starts('c')).toEqual([0]);
    const points = await reader.sums('horde_supervisor_rejections');
    expect(points.map((p) => [p.attributes, p.value])).toEqual([
      [{ supervisor: 'jobs', request: 'start_child' }, 1],
      [{ supervisor: 'jobs', request: 'stop_child' }, 1],
    ]);
    await provider.shutdown();
  });

  it('puts dynamic children after the static ones in the start order (rest_for_one takes them along)', () => {
    const h = startSupervisor({ policy: noBackoff('rest_for_one') }, (spec) => [spec('link', 'permanent')]);
    h.actor.send({ type: 'supervisor.start_child', spec: h.spec('session', 'transient') });
    h.fail('link');
    expect(h.shutdownRequests()).toEqual(['session']);
    expect(h.log.filter((e) => e.what === 'started').map((e) => e.child)).toEqual([
      'link',
      'session',
      'link',
      'session',
    ]);
  });
});

describe('cancelling a delayed restart', () => {
  const backoff = { minMs: 1_000, maxMs: 1_000, resetAfterMs: 0 };

  it('lets stop_child during the backoff win over the restart', () => {
    const h = startSupervisor(
      { policy: { strategy: 'one_for_one', intensity: 3, periodMs: 10_000, backoff } },
      (spec) => [spec('a', 'permanent'), spec('b', 'permanent')],
    );
    h.fail('a');
    expect(h.clock.pendingDueTimes()).toEqual([1_000]);
    h.clock.advanceTo(500);
    h.actor.send({ type: 'supervisor.stop_child', id: 'a' });
    expect(h.clock.pendingDueTimes()).toEqual([]);
    h.clock.advanceTo(5_000);
    expect(h.starts('a')).toEqual([0]);
    expect(h.actor.getSnapshot().context.children.map((c) => c.spec.id)).toEqual(['b']);
    expect(h.rejections).toEqual([]);
  });

  it('restarts only the members still wanted when one of a group is stopped during the backoff', () => {
    const h = startSupervisor(
      { policy: { strategy: 'one_for_all', intensity: 3, periodMs: 10_000, backoff } },
      (spec) => [spec('a', 'permanent'), spec('b', 'permanent'), spec('c', 'permanent')],
    );
    h.fail('a');
    h.clock.advanceTo(500);
    h.actor.send({ type: 'supervisor.stop_child', id: 'b' });
    h.clock.advanceTo(1_000);
    expect(h.starts('a')).toEqual([0, 1_000]);
    expect(h.starts('b')).toEqual([0]);
    expect(h.starts('c')).toEqual([0, 1_000]);
  });
});

describe('decider directives', () => {
  const decider = deciderFromCodes({
    'pool.full': 'resume',
    'job.cancelled': 'stop',
    'config.invalid': 'escalate',
    'link.dropped': 'restart',
  });
  const fail = (code: string): ProbeFailure => new ProbeFailure(code);

  it('resume: starts only the failed child again at once, without using the intensity budget', () => {
    const h = startSupervisor(
      {
        policy: {
          strategy: 'one_for_all',
          intensity: 1,
          periodMs: 10_000,
          decider,
          backoff: { minMs: 1_000, maxMs: 1_000, resetAfterMs: 0 },
        },
      },
      (spec) => [spec('a', 'permanent'), spec('b', 'permanent')],
    );
    h.clock.advanceTo(100);
    h.fail('b', fail('pool.full'));
    expect(h.decisions).toEqual([
      { type: 'supervisor.decision', childId: 'b', directive: 'resume', errorCode: 'pool.full', restartInMs: 0 },
    ]);
    expect(h.starts('b')).toEqual([0, 100]);
    expect(h.starts('a')).toEqual([0]);
    expect(h.shutdownRequests()).toEqual([]);
    // the intensity budget (1) is untouched: one real restart still fits
    h.fail('b', fail('link.dropped'));
    expect(h.decisions.at(-1)!.directive).toBe('restart');
    expect(h.actor.getSnapshot().status).toBe('active');
  });

  it('resume: a child resumed more than intensity times within periodMs is restarted (and counted) instead', () => {
    const h = startSupervisor(
      { policy: { strategy: 'one_for_one', intensity: 2, periodMs: 10_000, decider } },
      (spec) => [spec('a', 'permanent')],
    );
    for (let i = 0; i < 5; i += 1) h.fail('a', fail('pool.full'));
    expect(h.decisions.map((d) => d.directive)).toEqual(['resume', 'resume', 'restart', 'restart', 'escalate']);
  });

  it('stop: forgets the failed child and touches nothing else', () => {
    const h = startSupervisor(
      { policy: { strategy: 'one_for_all', intensity: 1, periodMs: 10_000, decider } },
      (spec) => [spec('a', 'permanent'), spec('b', 'permanent')],
    );
    h.fail('b', fail('job.cancelled'));
    expect(h.decisions.map((d) => d.directive)).toEqual(['stop']);
    expect(Object.keys(h.actor.getSnapshot().children).filter((id) => statusOf(h.child(id)) === 'active')).toEqual([
      'a',
    ]);
    expect(h.actor.getSnapshot().context.children.map((c) => c.spec.id)).toEqual(['a']);
    expect(h.shutdownRequests()).toEqual([]);
  });

  it('restart: restarts per the strategy', () => {
    const h = startSupervisor(
      { policy: { strategy: 'one_for_all', intensity: 1, periodMs: 10_000, decider } },
      (spec) => [spec('a', 'transient'), spec('b', 'transient')],
    );
    h.fail('b', fail('link.dropped'));
    expect(h.starts('a')).toEqual([0, 0]);
    expect(h.starts('b')).toEqual([0, 0]);
  });

  it('escalate: stops the other children and fails with reason decider, on the first such error', () => {
    const h = startSupervisor(
      { policy: { strategy: 'one_for_one', intensity: 10, periodMs: 10_000, decider } },
      (spec) => [spec('a', 'permanent'), spec('b', 'permanent')],
    );
    const error = fail('config.invalid');
    h.fail('a', error);
    expect(h.shutdownRequests()).toEqual(['b']);
    expect(h.actor.getSnapshot().error).toMatchObject({ reason: 'decider', childId: 'a', cause: error });
  });

  it('escalates when the decider throws, with what it threw as the cause', () => {
    const bug = new TypeError('decider bug');
    const h = startSupervisor(
      {
        policy: {
          strategy: 'one_for_one',
          intensity: 10,
          periodMs: 10_000,
          decider: () => {
            throw bug;
          },
        },
      },
      (spec) => [spec('a', 'permanent')],
    );
    h.fail('a');
    expect(h.decisions.map((d) => [d.directive, d.errorCode])).toEqual([['escalate', 'probe.failed']]);
    expect((h.actor.getSnapshot().error as SupervisorEscalationError).cause).toBe(bug);
  });

  it('never restarts a temporary child, whatever the decider says', () => {
    const h = startSupervisor(
      { policy: { strategy: 'one_for_one', intensity: 10, periodMs: 10_000, decider } },
      (spec) => [spec('job', 'temporary')],
    );
    h.fail('job', fail('pool.full'));
    expect(h.decisions.map((d) => d.directive)).toEqual(['stop']);
    expect(h.starts('job')).toEqual([0]);
  });
});

describe('metrics', () => {
  it('counts decisions by directive, restarts per child and escalations', async () => {
    const reader = new ManualReader();
    const provider = new MeterProvider({ readers: [reader] });
    const metrics = new SupervisorMetrics(provider.getMeter('test'));
    const decider = deciderFromCodes({ 'pool.full': 'resume' });
    const h = startSupervisor(
      { policy: { strategy: 'one_for_all', intensity: 1, periodMs: 10_000, decider }, name: 'pool', metrics },
      (spec) => [spec('a', 'permanent'), spec('b', 'permanent')],
    );
    h.fail('a', new ProbeFailure('pool.full'));
    h.fail('a');
    h.fail('b');

    const byLabels = (points: Array<{ attributes: Record<string, unknown>; value: number }>) =>
      Object.fromEntries(points.map((p) => [Object.values(p.attributes).join('/'), p.value]));
    expect(byLabels(await reader.sums('horde_supervisor_decisions'))).toEqual({
      'pool/a/resume': 1,
      'pool/a/restart': 1,
      'pool/b/escalate': 1,
    });
    expect(byLabels(await reader.sums('horde_supervisor_restarts'))).toEqual({ 'pool/a': 1, 'pool/b': 1 });
    expect(byLabels(await reader.sums('horde_supervisor_escalations'))).toEqual({ pool: 1 });
    await provider.shutdown();
  });
});

describe('memory', () => {
  it('keeps a bounded context through many restarts', () => {
    const h = startSupervisor({ policy: noBackoff('one_for_one', 5, 1_000) }, (spec) => [spec('a', 'permanent')]);
    for (let i = 0; i < 200; i += 1) {
      h.clock.advanceBy(300);
      h.fail('a');
    }
    const { context } = h.actor.getSnapshot();
    expect(context.restarts.length).toBeLessThanOrEqual(6);
    expect(context.groups).toEqual([]);
    expect(context.children).toHaveLength(1);
  });
});
