import { startLocalCluster, type LocalCluster } from '../../src/cli/cluster';
import { jobResult, type HordeClient } from '../../src/sdk';
import { E2E_IMAGE, clientOf, nothingRunning } from './e2eHelpers';

const PARALLEL_JOBS = 20;
/**
 * A class whose upstream readiness budget (spin-up 30 s + 5 s) fits 20 executors starting at once on a 2-core machine;
 * always_on.test's (3 s + 5 s) assumes one executor per machine and times out here.
 */
const EXECUTOR_CLASS = 'always_on.cpu.8c.16gb';
/** The executor's own startup stage (upstream `--startup-time-limit`, 5 s) sized to that class's spin-up, as a miner of it would. */
const EXECUTOR_STARTUP_TIME_LIMIT_MS = 30_000;

let cluster: LocalCluster;
let client: HordeClient;

beforeAll(async () => {
  cluster = await startLocalCluster({
    minerManifest: { [EXECUTOR_CLASS]: PARALLEL_JOBS },
    extraArgs: { miner: ['--executor-env', `HORDE_EXECUTOR_STARTUP_TIME_LIMIT_MS=${EXECUTOR_STARTUP_TIME_LIMIT_MS}`] },
  });
  client = await clientOf(cluster);
}, 180_000);

afterAll(async () => {
  const swept = await cluster?.stop();
  expect(swept).toEqual({ leftoverProcesses: 0, leftoverContainers: 0 });
}, 120_000);

it(`completes ${PARALLEL_JOBS} jobs submitted at once on one miner with ${PARALLEL_JOBS} slots`, async () => {
  // allSettled: every job ends before the assertions (a failure must not leave the others running into afterAll)
  const outcomes = await Promise.allSettled(
    Array.from({ length: PARALLEL_JOBS }, (_, i) =>
      client.runUntilComplete(
        { executorClass: EXECUTOR_CLASS, image: E2E_IMAGE, command: ['sh', '-c', `echo job-${i}`], tag: 'e2e-parallel' },
        { maxAttempts: 1, timeoutMs: 240_000 },
      ),
    ),
  );
  const failures = outcomes.flatMap((o) => (o.status === 'rejected' ? [String(o.reason)] : []));
  expect(failures).toEqual([]);
  const jobs = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  expect(jobs.map((job) => jobResult(job).stdout).sort()).toEqual(Array.from({ length: PARALLEL_JOBS }, (_, i) => `job-${i}\n`).sort());
  const page = await client.listJobs({ tag: 'e2e-parallel', pageSize: 50 });
  expect(page.count).toBe(PARALLEL_JOBS);
  await nothingRunning(cluster);
}, 300_000);
