/**
 * Costs of the resilience area. Run: `npx tsx --expose-gc bench/resilience.ts` (without --expose-gc the memory
 * figure is noisier). Prints:
 * - CircuitBreaker (class): µs per admit+report cycle, and retained heap per idle breaker with some history (the
 *   validator keeps one per miner);
 * - circuitBreakerMachine: µs per request+success through an actor, for comparison;
 * - nextRetry: µs per decision;
 * - task group: wall ms to run N immediately-resolving promise children, and N fromTask children through one barrier.
 * CPU-time figures use the best of 5 rounds so that other load on a shared machine inflates them less.
 */
import { performance } from 'node:perf_hooks';
import { createActor, fromPromise } from 'xstate';
import { fromTask, runTaskGroup } from '../src/actors/taskGroup';
import { admitThrough, circuitBreakerMachine } from '../src/machines/circuitBreaker.machine';
import { CircuitBreaker } from '../src/resilience/circuitBreaker';
import { UPSTREAM_VOLUME_DOWNLOAD_RETRY } from '../src/resilience/defaults';
import { nextRetry } from '../src/resilience/retry';
import { manualClock, seededRandom } from '../src/util/clock';

function cpuMicrosPerOp(ops: number, fn: () => void): number {
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const start = process.cpuUsage();
    for (let i = 0; i < ops; i++) fn();
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / ops);
  }
  return best;
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function breakerClass(): void {
  const clock = manualClock(0);
  // Failures every 10th call, 10 ms apart, in a 25 ms window: at most 3 in the window, so it never trips.
  const breaker = new CircuitBreaker({ name: 'bench', clock, policy: { failureThreshold: 5, failureWindowMs: 25 } });
  let i = 0;
  const us = cpuMicrosPerOp(200_000, () => {
    clock.advance(1);
    const admission = breaker.tryAcquire();
    if (!admission.allowed) return;
    if (i++ % 10 === 0) breaker.recordFailure(admission.generation);
    else breaker.recordSuccess(admission.generation);
  });
  console.log(`CircuitBreaker class: ${us.toFixed(3)} µs per admit+report (${(1 / us).toFixed(2)}M ops/s)`);

  const count = 10_000;
  gc();
  const before = process.memoryUsage().heapUsed;
  const breakers: CircuitBreaker[] = [];
  for (let n = 0; n < count; n++) {
    const b = new CircuitBreaker({ name: `miner-${n}`, clock, policy: { failureThreshold: 5 } });
    for (let f = 0; f < 4; f++) b.recordFailure();
    breakers.push(b);
  }
  gc();
  const after = process.memoryUsage().heapUsed;
  console.log(`CircuitBreaker class: ${Math.round((after - before) / count)} bytes retained per breaker (4 failures recorded, ${count} breakers)`);
  if (breakers.length !== count) throw new Error('unreachable');
}

function breakerMachine(): void {
  const clock = manualClock(0);
  const actor = createActor(circuitBreakerMachine, { input: { name: 'bench', clock } }).start();
  const us = cpuMicrosPerOp(20_000, () => {
    const admission = admitThrough(actor);
    if (admission.allowed) actor.send({ type: 'circuit.success', generation: admission.generation });
  });
  actor.stop();
  console.log(`circuitBreakerMachine: ${us.toFixed(2)} µs per request+success`);
}

function retryDecision(): void {
  const random = seededRandom(1);
  const error = new Error('x');
  let attempt = 0;
  const us = cpuMicrosPerOp(500_000, () => {
    nextRetry(UPSTREAM_VOLUME_DOWNLOAD_RETRY, (attempt++ % 4) + 1, error, random);
  });
  console.log(`nextRetry: ${us.toFixed(3)} µs per decision`);
}

/** Wall and CPU time of one group run (CPU: this process, so less sensitive to other load than wall time). */
async function timed(run: () => Promise<unknown>): Promise<{ wallMs: number; cpuMs: number }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await run();
  const used = process.cpuUsage(cpu);
  return { wallMs: performance.now() - start, cpuMs: (used.user + used.system) / 1000 };
}

async function taskGroups(): Promise<void> {
  const done = fromPromise(async ({ input }: { input: number }) => input);
  await runTaskGroup({ children: Array.from({ length: 200 }, (_, i) => ({ id: `w${i}`, logic: done, input: i })) }); // warm-up
  for (const n of [100, 1_000, 5_000]) {
    const children = Array.from({ length: n }, (_, i) => ({ id: `c${i}`, logic: done, input: i }));
    const { wallMs, cpuMs } = await timed(async () => {
      const output = await runTaskGroup({ children });
      if (output.results.length !== n) throw new Error('lost results');
    });
    console.log(
      `task group: ${n} promise children: ${wallMs.toFixed(0)} ms wall, ${cpuMs.toFixed(0)} ms CPU (${((cpuMs * 1000) / n).toFixed(0)} µs CPU/child)`,
    );
  }
  const atBarrier = fromTask<number, number>(async ({ input, barrier }) => {
    await barrier('go');
    return input;
  });
  for (const n of [100, 1_000]) {
    const children = Array.from({ length: n }, (_, i) => ({ id: `c${i}`, logic: atBarrier, input: i }));
    const { wallMs, cpuMs } = await timed(async () => {
      const output = await runTaskGroup({ children });
      if (output.results.some((r) => r.status !== 'done')) throw new Error('a child did not pass the barrier');
    });
    console.log(`task group: ${n} fromTask children through one barrier: ${wallMs.toFixed(0)} ms wall, ${cpuMs.toFixed(0)} ms CPU`);
  }
}

async function main(): Promise<void> {
  breakerClass();
  breakerMachine();
  retryDecision();
  await taskGroups();
}

void main();
