import { createActor, type EventObject } from 'xstate';
import { ReservationDesk, type ReserveOutcome } from '../../../src/machines/executorPool.desk';
import { executorPoolMachine, spawnsAtOnce, type ExecutorPoolObserver } from '../../../src/machines/executorPool.machine';
import type { ExecutorInstanceOutput } from '../../../src/machines/executorInstance.machine';
import { EXECUTOR_SPAWN_MAX_DELAY_MS, EXECUTOR_SPAWN_QUIET_MS } from '../../../src/actors/miner/defaults';
import { FakeBackend, fakeExecutorLogic, flush, recordingActor, simulatedTime, TEST_TIMINGS } from './fakes';

function startPool(capacity: number, backend = new FakeBackend()) {
  const { sim, clock } = simulatedTime();
  const ended: ExecutorInstanceOutput[] = [];
  const occupancy: number[] = [];
  const observer: ExecutorPoolObserver = {
    occupancy: (_c, _capacity, held) => occupancy.push(held),
    executorEnded: (output) => ended.push(output),
    executorFailed: () => undefined,
  };
  const desk = new ReservationDesk('always_on.test', capacity, () => clock.nowMs());
  const pool = createActor(executorPoolMachine.provide({ actors: { executor: fakeExecutorLogic(backend) } }), {
    input: { executorClass: 'always_on.test', desk, timings: TEST_TIMINGS, clock, observer },
    clock: sim,
  }).start();
  const job = recordingActor();
  /** What the miner does for an initial request: reserve at the desk, then hand the job actor over. */
  const reserveOnly = (token: string): ReserveOutcome => {
    const outcome = desk.reserve(token, `uuid-${token}`);
    if (outcome === 'reserved') desk.bind(token, job.ref);
    return outcome;
  };
  /** Reserves and lets the deferred spawn happen (reservations pause for the quiet time). */
  const reserve = (token: string): ReserveOutcome => {
    const outcome = reserveOnly(token);
    sim.increment(EXECUTOR_SPAWN_QUIET_MS);
    return outcome;
  };
  const types = () => job.events.map((e: EventObject) => e.type);
  return { pool, desk, sim, backend, job, reserve, reserveOnly, types, ended, occupancy, held: () => desk.held };
}

const actors: Array<{ stop(): void }> = [];
afterEach(() => {
  for (const actor of actors.splice(0)) actor.stop();
});

function track<T extends { pool: { stop(): void }; job: { ref: { stop(): void } } }>(t: T): T {
  actors.push(t.pool, t.job.ref);
  return t;
}

describe('executor pool', () => {
  it('answers a reservation before the executor is started, and starts it on the next tick when the pool was quiet', async () => {
    const backend = new FakeBackend();
    backend.instant = false;
    const t = track(startPool(1, backend));
    expect(t.reserveOnly('a')).toBe('reserved');
    expect(t.held()).toBe(1);
    // Not inside the reservation: the job binds itself (and accepts) first.
    expect(backend.spawns).toEqual([]);
    t.sim.increment(0);
    expect(backend.spawns.map((s) => s.token)).toEqual(['a']);
    expect(backend.handles.size).toBe(0);
    backend.release('a');
    await flush();
    expect(t.types()).toEqual(['job.executor.started']);
    expect(t.held()).toBe(1);
  });

  it('starts the first executor of a burst at once and the rest together after its last grant, no later than the max delay', () => {
    const t = track(startPool(1_000));
    t.reserveOnly('first');
    t.sim.increment(0);
    expect(t.backend.spawns.map((s) => s.token)).toEqual(['first']);
    // Grants every half quiet time: the batch waits for a pause that never comes, up to the max delay.
    let n = 0;
    let elapsedMs = 0;
    while (t.backend.spawns.length === 1) {
      if (elapsedMs % (EXECUTOR_SPAWN_QUIET_MS / 2) === 0) t.reserveOnly(`t${n++}`);
      t.sim.increment(1);
      elapsedMs += 1;
    }
    expect(elapsedMs).toBe(EXECUTOR_SPAWN_MAX_DELAY_MS);
    expect(t.backend.spawns.slice(1).map((s) => s.token)).toEqual(Array.from({ length: n }, (_, i) => `t${i}`));
    // A grant right after a batch is batched too…
    t.reserveOnly('late');
    t.sim.increment(EXECUTOR_SPAWN_QUIET_MS - 1);
    expect(t.backend.spawns.at(-1)?.token).not.toBe('late');
    t.sim.increment(1);
    expect(t.backend.spawns.at(-1)?.token).toBe('late');
    // …and one after a quiet time starts at once again.
    t.sim.increment(EXECUTOR_SPAWN_QUIET_MS);
    t.reserveOnly('lone');
    t.sim.increment(0);
    expect(t.backend.spawns.at(-1)?.token).toBe('lone');
    expect(t.held()).toBe(n + 3);
  });

  it('starts an executor only once its job is bound, keeping an unbound reservation for a later batch', () => {
    const t = track(startPool(2));
    expect(t.desk.reserve('a', 'uuid-a')).toBe('reserved');
    t.sim.increment(EXECUTOR_SPAWN_MAX_DELAY_MS);
    // Its job actor does not exist yet: nobody could be told about the executor.
    expect(t.backend.spawns).toEqual([]);
    t.reserveOnly('b');
    t.sim.increment(0);
    expect(t.backend.spawns.map((s) => s.token)).toEqual(['b']);
    expect(t.held()).toBe(2);
    t.desk.bind('a', t.job.ref);
    t.sim.increment(EXECUTOR_SPAWN_QUIET_MS);
    expect(t.backend.spawns.map((s) => s.token)).toEqual(['b', 'a']);
    expect(t.held()).toBe(2);
  });

  it('starts no executor for a job that ended before its executor was spawned, and frees the slot', () => {
    const t = track(startPool(1));
    t.reserveOnly('a');
    t.pool.send({ type: 'pool.job_over', token: 'a' });
    t.sim.increment(EXECUTOR_SPAWN_QUIET_MS);
    expect(t.backend.spawns).toEqual([]);
    expect(t.held()).toBe(0);
  });

  it('tells the job there will be no executor when the pool is killed before the spawn', () => {
    const t = track(startPool(1));
    t.reserveOnly('a');
    t.pool.send({ type: 'pool.kill_all' });
    t.sim.increment(EXECUTOR_SPAWN_QUIET_MS);
    expect(t.backend.spawns).toEqual([]);
    expect(t.held()).toBe(0);
    expect(t.job.events).toContainEqual({ type: 'job.executor.spinup_failed', token: 'a', message: 'the miner is stopping' });
  });

  it('declines busy when every slot is held', async () => {
    const t = track(startPool(1));
    expect(t.reserve('a')).toBe('reserved');
    expect(t.reserve('b')).toBe('busy');
    await flush();
    expect(t.backend.spawns.map((s) => s.token)).toEqual(['a']);
  });

  it('never gives a waiting token a second slot', () => {
    const t = track(startPool(2));
    expect(t.reserveOnly('a')).toBe('reserved');
    expect(t.reserveOnly('a')).toBe('busy');
    expect(t.held()).toBe(1);
  });

  it('gives the slot back at once when the job could not be started', () => {
    const t = track(startPool(1));
    t.desk.reserve('a', 'uuid-a');
    t.desk.cancel('a');
    expect(t.held()).toBe(0);
    expect(t.reserve('b')).toBe('reserved');
    expect(t.backend.spawns.map((s) => s.token)).toEqual(['b']);
  });

  it('holds the slot until the executor exits, not until its job ends', async () => {
    const t = track(startPool(1));
    t.reserve('a');
    await flush();
    t.pool.send({ type: 'pool.job_over', token: 'a' });
    await flush();
    expect(t.held()).toBe(1);
    t.backend.handle('a').exit({ code: 0, signal: null });
    await flush();
    expect(t.held()).toBe(0);
    expect(t.ended).toEqual([expect.objectContaining({ token: 'a', end: 'exited', exit: { code: 0, signal: null } })]);
    expect(t.backend.handle('a').swept).toBe(1);
    expect(t.occupancy).toEqual([0, 1, 0]);
  });

  it('tells the job when its executor exits while the job still runs', async () => {
    const t = track(startPool(1));
    t.reserve('a');
    await flush();
    t.backend.handle('a').exit({ code: 137, signal: null });
    await flush();
    expect(t.job.events).toContainEqual(
      expect.objectContaining({ type: 'job.executor.exited', token: 'a', exit: { code: 137, signal: null }, end: 'exited' }),
    );
  });

  it('kills an executor that outlives its TTL and frees the slot', async () => {
    const t = track(startPool(1));
    t.reserve('a');
    await flush();
    t.sim.increment(TEST_TIMINGS.ttlMs - 1);
    await flush();
    expect(t.backend.handle('a').terminated).toBe(0);
    t.sim.increment(1);
    await flush();
    expect(t.backend.handle('a').terminated).toBe(1);
    expect(t.held()).toBe(0);
    expect(t.ended[0]).toMatchObject({ end: 'killed_ttl' });
  });

  it('kills an executor that has not exited within the grace after its job was over', async () => {
    const t = track(startPool(1));
    t.reserve('a');
    await flush();
    t.pool.send({ type: 'pool.job_over', token: 'a' });
    t.sim.increment(TEST_TIMINGS.exitGraceAfterJobMs);
    await flush();
    expect(t.backend.handle('a').terminated).toBe(1);
    expect(t.ended[0]).toMatchObject({ end: 'killed_job_over' });
  });

  it('sends SIGKILL when SIGTERM is ignored for the stop grace', async () => {
    const t = track(startPool(1));
    t.reserve('a');
    await flush();
    t.backend.handle('a').exitOnTerminate = false;
    t.pool.send({ type: 'pool.kill_all' });
    await flush();
    expect(t.backend.handle('a').terminated).toBe(1);
    expect(t.held()).toBe(1);
    t.sim.increment(TEST_TIMINGS.stopGraceMs);
    await flush();
    expect(t.backend.handle('a').killed).toBe(1);
    expect(t.held()).toBe(0);
    expect(t.ended[0]).toMatchObject({ end: 'killed_drain', exit: { code: null, signal: 'SIGKILL' } });
  });

  it('fails the spin-up when the backend does not start the executor within the class spin-up time', async () => {
    const backend = new FakeBackend();
    backend.instant = false;
    const t = track(startPool(1, backend));
    t.reserve('a');
    t.sim.increment(TEST_TIMINGS.spinUpTimeoutMs);
    await flush();
    expect(t.job.events).toContainEqual(expect.objectContaining({ type: 'job.executor.spinup_failed', token: 'a' }));
    expect(backend.aborted).toEqual(['a']);
    expect(t.held()).toBe(0);
    expect(t.ended[0]).toMatchObject({ end: 'spinup_timeout' });
  });

  it('frees the slot and tells the job when the backend cannot start the executor', async () => {
    const backend = new FakeBackend();
    backend.failWith = new Error('no such image');
    const t = track(startPool(1, backend));
    t.reserve('a');
    await flush();
    expect(t.job.events).toContainEqual({ type: 'job.executor.spinup_failed', token: 'a', message: 'no such image' });
    expect(t.held()).toBe(0);
  });

  it('frees the slot of an executor that vanished without an exit report', async () => {
    const t = track(startPool(1));
    t.reserve('a');
    await flush();
    t.backend.handle('a').vanish();
    await flush();
    expect(t.held()).toBe(0);
    expect(t.ended[0]).toMatchObject({ end: 'vanished', exit: undefined });
  });

  it('drains: refuses new reservations, lets running executors finish, kills the rest on kill_all', async () => {
    const t = track(startPool(2));
    t.reserve('a');
    t.reserve('b');
    await flush();
    t.pool.send({ type: 'pool.drain' });
    expect(t.reserve('c')).toBe('draining');
    t.backend.handle('a').exit();
    await flush();
    expect(t.held()).toBe(1);
    expect(t.backend.handle('b').terminated).toBe(0);
    t.pool.send({ type: 'pool.kill_all' });
    await flush();
    expect(t.backend.handle('b').terminated).toBe(1);
    expect(t.held()).toBe(0);
    expect(t.ended.map((o) => o.end).sort()).toEqual(['exited', 'killed_drain']);
  });

  it('ends on supervisor.shutdown once every executor is gone', async () => {
    const t = track(startPool(1));
    t.reserve('a');
    await flush();
    t.pool.send({ type: 'supervisor.shutdown' });
    await flush();
    expect(t.backend.handle('a').terminated).toBe(1);
    expect(t.pool.getSnapshot().status).toBe('done');
  });

  it('kills the executor when its actor is stopped by force', async () => {
    const t = track(startPool(1));
    t.reserve('a');
    await flush();
    t.pool.stop();
    await flush();
    expect(t.backend.handle('a').killed).toBe(1);
  });
});

describe('spawnsAtOnce', () => {
  it.each([
    // nowMs, lastSpawnAtMs, quietMs, at once?
    [0, Number.NEGATIVE_INFINITY, 50, true],
    [1_000, 950, 50, true],
    [1_000, 951, 50, false],
    [1_000, 1_000, 50, false],
    [1_000, 1_000, 0, true],
  ])('now %d, last spawn %d, quiet %d ms → %s', (nowMs, lastSpawnAtMs, quietMs, expected) => {
    expect(spawnsAtOnce(nowMs, lastSpawnAtMs, quietMs)).toBe(expected);
  });
});
