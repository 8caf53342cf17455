/**
 * Whatever happens, one final message is attempted, the container is removed and the temp dir deleted: the miner
 * link dropping mid-execution (with and without a reconnect), SIGTERM mid-execution, and the startup sweep that
 * removes an abandoned job container but never a live sibling executor's.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import type Dockerode from 'dockerode';
import { ensureTestImage, localDocker, TEST_IMAGE } from '../../support/docker';
import { jobRequest } from '../../support/scriptedMiner';
import { executorCase, exitCodeOf, runningContainerOf, type ExecutorCase } from './harness';

const docker = localDocker();
let current: ExecutorCase | undefined;
const extraContainers: Dockerode.Container[] = [];

beforeAll(async () => {
  await ensureTestImage(docker);
});

afterEach(async () => {
  await current?.close();
  current = undefined;
  for (const container of extraContainers.splice(0)) await container.remove({ force: true }).catch(() => undefined);
});

const NOTHING_LEFT = { containers: [], workDirEntries: [] };

describe('horde executor: the miner link drops mid-execution', () => {
  it('aborts the container, sends its horde failure once the link is back, and exits 2', async () => {
    current = await executorCase(docker, { name: 'linkdrop' });
    const { miner } = current;
    const run = current.run();
    await miner.waitFor('V0ExecutorReadyRequest');
    miner.send(jobRequest({ jobUuid: current.jobUuid, image: TEST_IMAGE, cmd: ['sleep', '30'] }));
    await runningContainerOf(docker, current.hordeId);
    miner.dropConnection();
    const failed = await miner.waitFor('V0HordeFailedRequest');
    expect(await exitCodeOf(run)).toBe(2);
    expect(failed).toMatchObject({ reason: 'miner_connection_failed', reported_by: 'executor', context: { stage: 'execution' } });
    // it came on the second connection: the transport reconnected within the final-delivery grace
    expect(miner.received.find((f) => f.message.message_type === 'V0HordeFailedRequest')!.connection).toBe(1);
    expect(miner.ofType('V0HordeFailedRequest')).toHaveLength(1);
    expect(await current.leftovers()).toEqual(NOTHING_LEFT);
  });

  it('still cleans up and exits 2 when the miner does not take the executor back', async () => {
    current = await executorCase(docker, { name: 'linkgone' });
    const { miner } = current;
    const run = current.run(['--final-delivery-grace-ms', '1500ms']);
    await miner.waitFor('V0ExecutorReadyRequest');
    miner.send(jobRequest({ jobUuid: current.jobUuid, image: TEST_IMAGE, cmd: ['sleep', '30'] }));
    await runningContainerOf(docker, current.hordeId);
    miner.refuseConnections = true;
    miner.dropConnection();
    expect(await exitCodeOf(run)).toBe(2);
    expect(miner.ofType('V0HordeFailedRequest')).toHaveLength(0);
    const finished = run.logLines().find((line) => line.msg === 'executor finished')!;
    expect(finished).toMatchObject({ code: 2, reason: 'miner_connection_failed', final_message: { type: 'V0HordeFailedRequest', delivery: 'undelivered' } });
    expect(await current.leftovers()).toEqual(NOTHING_LEFT);
  });
});

describe('horde executor: SIGTERM', () => {
  it('reports a horde failure, removes the running container and the temp dir, and exits 2', async () => {
    current = await executorCase(docker, { name: 'sigterm' });
    const { miner } = current;
    const run = current.run();
    await miner.waitFor('V0ExecutorReadyRequest');
    miner.send(
      jobRequest({
        jobUuid: current.jobUuid,
        image: TEST_IMAGE,
        // leaves files this user could not delete without first restoring permissions
        cmd: ['sh', '-c', 'mkdir -p /output/locked/deep && echo x > /output/locked/deep/f && chmod -R 000 /output/locked && sleep 30'],
      }),
    );
    await runningContainerOf(docker, current.hordeId);
    run.child.kill('SIGTERM');
    const failed = await miner.waitFor('V0HordeFailedRequest');
    expect(await exitCodeOf(run)).toBe(2);
    expect(failed).toMatchObject({
      reason: 'generic_error',
      reported_by: 'executor',
      message: 'Executor stopped (SIGTERM) during execution',
      context: { stage: 'execution', signal: 'SIGTERM' },
    });
    expect(miner.messages.filter((m) => m.message_type.endsWith('FailedRequest') || m.message_type === 'V0JobFinishedRequest')).toHaveLength(1);
    expect(await current.leftovers()).toEqual(NOTHING_LEFT);
  });
});

describe('horde executor: the startup sweep', () => {
  async function labelledContainer(hordeId: string, token: string, pid: number): Promise<Dockerode.Container> {
    const container = await docker.createContainer({
      Image: TEST_IMAGE,
      Cmd: ['sleep', '60'],
      Labels: {
        'horde.managed': 'true',
        'horde.id': hordeId,
        'horde.token': token,
        'horde.role': 'job',
        'horde.executor_host': os.hostname(),
        'horde.executor_pid': String(pid),
      },
      HostConfig: { NetworkMode: 'none' },
    });
    extraContainers.push(container);
    await container.start();
    return container;
  }

  it('removes a job container whose executor died, and leaves a live sibling executor’s running job alone', async () => {
    current = await executorCase(docker, { name: 'sweep' });
    const deadPid = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['-e', '0']);
      child.once('exit', () => resolve(child.pid!));
    });
    const abandoned = await labelledContainer(current.hordeId, 'dead-executor-token', deadPid);
    const sibling = await labelledContainer(current.hordeId, 'live-executor-token', process.pid);

    const run = current.run();
    await current.miner.waitFor('V0ExecutorReadyRequest');
    current.miner.send(jobRequest({ jobUuid: current.jobUuid, image: TEST_IMAGE, cmd: ['true'] }));
    await current.miner.waitFor('V0JobFinishedRequest');
    expect(await exitCodeOf(run)).toBe(0);

    await expect(abandoned.inspect()).rejects.toMatchObject({ statusCode: 404 });
    expect((await sibling.inspect()).State.Running).toBe(true);
    const remaining = (await current.leftovers()).containers.map((c) => c.Labels['horde.token']);
    expect(remaining).toEqual(['live-executor-token']);
  });
});
