import { startLocalCluster, type LocalCluster } from '../../src/cli/cluster';
import { JobHordeFailedError, type HordeClient } from '../../src/sdk';
import { E2E_IMAGE, clientOf, containersOf, nothingRunning } from './e2eHelpers';

let cluster: LocalCluster;
let client: HordeClient;

beforeAll(async () => {
  cluster = await startLocalCluster({});
  client = await clientOf(cluster);
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
}, 120_000);

it('ends a job horde_failed when its miner process is killed mid-job, leaving no executor or container', async () => {
  const miner = cluster.processes.find((p) => p.role === 'miner')!;
  let killed = false;
  const outcome = client
    .runUntilComplete(
      { executorClass: 'always_on.test', image: E2E_IMAGE, command: ['sh', '-c', 'echo started; sleep 60'], executionTimeLimitS: 120 },
      {
        maxAttempts: 1,
        timeoutMs: 120_000,
        onStatus: (entry) => {
          if (entry.status === 'volumes_ready' && !killed) {
            killed = true;
            // the container runs by now (or is about to): kill the miner without a chance to clean up
            miner.child.kill('SIGKILL');
          }
        },
      },
    )
    .catch((e: unknown) => e);
  const error = (await outcome) as JobHordeFailedError;
  expect(killed).toBe(true);
  expect(error).toBeInstanceOf(JobHordeFailedError);
  expect(error.status).toBe('horde_failed');
  expect(await miner.exited).not.toBe(0);
  await nothingRunning(cluster, 60_000, { idleStandbysAllowed: false });
  expect(await containersOf(cluster)).toEqual([]);
}, 180_000);
