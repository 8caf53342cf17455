/**
 * End-to-end cost of Horde: a trivial job submitted through the SDK to a local cluster (facilitator, validator,
 * miner, executor: four real processes, real Docker), from `createJob` to the `completed` status, against
 * `docker run --rm` of the same image and command. Then throughput with 20 jobs in flight.
 *
 * Prints medians and spreads, jobs per minute at 20 concurrent, and as its last line `ratio: X` (Horde median /
 * docker median; target <= 1.3). Run with `npm run bench:e2e` (HORDE_BENCH_E2E_RUNS, HORDE_BENCH_E2E_JOBS tune it).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startLocalCluster, type LocalCluster } from '../src/cli/cluster';
import { devHotkey, initCrypto } from '../src/crypto';
import { HordeClient, JobUnsuccessfulError, jobResult, type JobSpec } from '../src/sdk';

const IMAGE = process.env['HORDE_TEST_IMAGE'] ?? 'horde-testjob:local';
const COMMAND = ['sh', '-c', 'echo hello'];
/** Sequential runs of each side (the first of each is a warm-up, not counted); ten measured pairs steady the medians. */
const RUNS = Number(process.env['HORDE_BENCH_E2E_RUNS'] ?? 11);
/** Jobs of the throughput phase, kept 20 in flight. */
const THROUGHPUT_JOBS = Number(process.env['HORDE_BENCH_E2E_JOBS'] ?? 40);
const CONCURRENCY = 20;
/**
 * Class of the throughput phase: its upstream readiness budget (spin-up 30 s + 5 s) fits 20 executors starting at
 * once on a small machine; always_on.test's 8 s does not (the latency phase uses always_on.test).
 */
const THROUGHPUT_CLASS = 'always_on.cpu.8c.16gb';

const run = promisify(execFile);

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function describe(label: string, samplesMs: readonly number[]): string {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  return `${label}: median ${median(sorted).toFixed(0)} ms (min ${sorted[0]!.toFixed(0)}, max ${sorted[sorted.length - 1]!.toFixed(0)}, n=${sorted.length})`;
}

async function dockerRunMs(): Promise<number> {
  const start = performance.now();
  const { stdout } = await run('docker', ['run', '--rm', '--network', 'none', IMAGE, ...COMMAND]);
  const elapsed = performance.now() - start;
  if (stdout !== 'hello\n') throw new Error(`docker run printed ${JSON.stringify(stdout)}`);
  return elapsed;
}

/** Time between consecutive statuses of a job, as the facilitator stamped them (`received` = sent→received). */
const stageSamples = new Map<string, number[]>();

async function hordeRunMs(client: HordeClient, spec: JobSpec, record: boolean): Promise<number> {
  const start = performance.now();
  const job = await client.runUntilComplete(spec, { maxAttempts: 1, timeoutMs: 120_000 });
  const elapsed = performance.now() - start;
  if (jobResult(job).stdout !== 'hello\n') throw new Error(`the job printed ${JSON.stringify(jobResult(job).stdout)}`);
  if (record) {
    const history = job.status_history;
    for (let i = 1; i < history.length; i++) {
      const ms = Date.parse(history[i]!.created_at) - Date.parse(history[i - 1]!.created_at);
      const samples = stageSamples.get(history[i]!.status) ?? [];
      samples.push(ms);
      stageSamples.set(history[i]!.status, samples);
    }
  }
  return elapsed;
}

async function main(): Promise<void> {
  await initCrypto();
  const cluster: LocalCluster = await startLocalCluster({
    minerManifest: { 'always_on.test': 2, [THROUGHPUT_CLASS]: CONCURRENCY },
    // the executor's startup stage sized to that class's spin-up (upstream's 5 s assumes one executor per machine)
    extraArgs: { miner: ['--executor-env', 'HORDE_EXECUTOR_STARTUP_TIME_LIMIT_MS=30000'] },
  });
  try {
    const client = new HordeClient({ url: cluster.facilitatorUrl, hotkey: devHotkey(cluster.userKeyName) });
    const spec: JobSpec = { executorClass: 'always_on.test', image: IMAGE, command: COMMAND };

    const horde: number[] = [];
    const docker: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      // interleaved, so machine load drifts hit both sides alike
      const h = await hordeRunMs(client, spec, i > 0);
      const d = await dockerRunMs();
      if (i > 0) {
        horde.push(h);
        docker.push(d);
      }
    }
    console.log(describe('horde submit→completed', horde));
    console.log(describe('docker run --rm', docker));
    const stages = [...stageSamples].map(([status, samples]) => `${status} +${median(samples).toFixed(0)}`).join(', ');
    console.log(`horde stages (median ms since the previous status): ${stages}`);

    let next = 0;
    let completed = 0;
    let failed = 0;
    let retries = 0;
    const reasons = new Map<string, number>();
    const start = performance.now();
    const worker = async (): Promise<void> => {
      while (next < THROUGHPUT_JOBS) {
        next++;
        try {
          // as a user would: upstream's SDK retries an unsuccessful job (here: a rejection while the validator still
          // counts the slot of a job that just completed) with a new one
          await client.runUntilComplete(
            { ...spec, executorClass: THROUGHPUT_CLASS, tag: 'bench-e2e' },
            { maxAttempts: 3, timeoutMs: 300_000, onAttempt: (_job, attempt) => void (attempt > 1 && retries++) },
          );
          completed++;
        } catch (error) {
          failed++;
          const reason = error instanceof JobUnsuccessfulError ? error.message.replace(/^job \S+ ended /, '') : String(error);
          reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const minutes = (performance.now() - start) / 60_000;
    console.log(
      `throughput: ${(completed / minutes).toFixed(1)} jobs/min at ${CONCURRENCY} concurrent, ${THROUGHPUT_CLASS} (${completed} completed, ${failed} failed, ${retries} retried, ${(minutes * 60).toFixed(1)} s)`,
    );
    for (const [reason, count] of reasons) console.log(`  failed ${count}x: ${reason}`);
    console.log(`ratio: ${(median(horde) / median(docker)).toFixed(2)}`);
  } finally {
    const swept = await cluster.stop();
    if (swept.leftoverProcesses + swept.leftoverContainers > 0) console.error(`cluster stop swept ${JSON.stringify(swept)}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
