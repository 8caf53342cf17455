import { startLocalCluster, type LocalCluster } from '../../src/cli/cluster';
import { JobUnsuccessfulError, jobResult, type HordeClient, type StatusHistoryEntry } from '../../src/sdk';
import { E2E_IMAGE, clientOf, nothingRunning, startUploadServer, type UploadServer } from './e2eHelpers';

let cluster: LocalCluster;
let client: HordeClient;
let uploads: UploadServer;

beforeAll(async () => {
  uploads = await startUploadServer();
  cluster = await startLocalCluster({});
  client = await clientOf(cluster);
}, 180_000);

afterAll(async () => {
  const swept = await cluster?.stop();
  await uploads?.close();
  expect(swept).toEqual({ leftoverProcesses: 0, leftoverContainers: 0 });
}, 120_000);

describe('a job through facilitator, validator, miner and executor', () => {
  it('reads an inline volume, uploads a file and returns an artifact, with the full status history', async () => {
    const statuses: StatusHistoryEntry['status'][] = [];
    const job = await client.runUntilComplete(
      {
        executorClass: 'always_on.test',
        image: E2E_IMAGE,
        command: ['sh', '-c', 'cat /volume/in.txt; cat /volume/in.txt > /output/up.txt; echo -n art > /artifacts/a.txt; echo -n posted > /output/post.txt'],
        volumes: [{ kind: 'inline', files: { 'in.txt': 'hello from the volume\n' } }],
        uploads: [
          { method: 'PUT', url: `${uploads.url}/put/up.txt`, path: '/output/up.txt' },
          { method: 'POST', url: `${uploads.url}/post`, path: '/output/post.txt', formFields: { kind: 'e2e' } },
        ],
        artifactsDir: '/artifacts',
      },
      { maxAttempts: 1, timeoutMs: 120_000, onStatus: (entry) => statuses.push(entry.status) },
    );
    expect(statuses).toEqual(['sent', 'received', 'accepted', 'executor_ready', 'volumes_ready', 'execution_done', 'completed']);
    expect(job.status_history.map((e) => e.status)).toEqual(statuses);
    const result = jobResult(job);
    expect(result.stdout).toBe('hello from the volume\n');
    expect(result.artifacts['/artifacts/a.txt']?.toString('utf8')).toBe('art');
    const put = uploads.received.find((r) => r.path === '/put/up.txt');
    expect(put?.method).toBe('PUT');
    expect(put?.body.toString('utf8')).toBe('hello from the volume\n');
    const post = uploads.received.find((r) => r.path === '/post');
    expect(post?.method).toBe('POST');
    expect(post?.body.toString('utf8')).toContain('posted');
    expect(Object.keys(result.uploadResults).sort()).toEqual(['post.txt', 'up.txt']);
    await nothingRunning(cluster);
  }, 150_000);

  it('fails a job whose image does not exist with a reason naming the image', async () => {
    const image = 'horde-e2e-no-such-image:missing';
    const error = (await client
      .runUntilComplete({ executorClass: 'always_on.test', image, command: ['true'] }, { maxAttempts: 1, timeoutMs: 120_000 })
      .catch((e: unknown) => e)) as JobUnsuccessfulError;
    expect(error).toBeInstanceOf(JobUnsuccessfulError);
    expect(['failed', 'horde_failed']).toContain(error.status);
    expect(error.message).toContain(image);
    await nothingRunning(cluster);
  }, 150_000);
});
