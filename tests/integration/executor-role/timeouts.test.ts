/**
 * Each stage's deadline, with the real `horde executor` process, the real engine and short limits: the executor
 * times out first and reports it itself (a horde failure at startup, `V0JobFailedRequest(timeout)` with the stage
 * after that), and leaves no container or temp dir.
 */
import type { ServerResponse } from 'node:http';
import { ensureTestImage, localDocker, TEST_IMAGE } from '../../support/docker';
import { startHttpFixture, type HttpFixture } from '../../support/httpFixtures';
import { jobRequest } from '../../support/scriptedMiner';
import { executorCase, exitCodeOf, type ExecutorCase } from './harness';

const docker = localDocker();
let http: HttpFixture;
let current: ExecutorCase | undefined;
/** Responses held open by "never answers" routes, ended after each test so the fixture can close. */
const held: ServerResponse[] = [];

beforeAll(async () => {
  await ensureTestImage(docker);
});

beforeEach(async () => {
  http = await startHttpFixture();
});

afterEach(async () => {
  await current?.close();
  current = undefined;
  for (const res of held.splice(0)) res.destroy();
  await http.close();
});

function neverAnswer(): (req: unknown, res: ServerResponse) => void {
  return (_req, res) => {
    held.push(res);
  };
}

describe('horde executor: stage deadlines', () => {
  it('reports a horde failure when the initial request does not come within the startup budget', async () => {
    current = await executorCase(docker, { name: 'startup', initial: null });
    const run = current.run(['--startup-time-limit-ms', '1500ms']);
    const failed = await current.miner.waitFor('V0HordeFailedRequest');
    expect(await exitCodeOf(run)).toBe(2);
    expect(failed).toEqual({
      message_type: 'V0HordeFailedRequest',
      job_uuid: current.jobUuid,
      reported_by: 'executor',
      message: 'Timed out waiting for initial job details from miner',
      reason: 'generic_error',
      context: { stage: 'executor_startup' },
    });
    expect(current.miner.messages).toHaveLength(1);
    expect(await current.leftovers()).toEqual({ containers: [], workDirEntries: [] });
  });

  it('fails the job with timeout in volume_download when the volume does not arrive in time', async () => {
    http.on('GET', '/slow.zip', neverAnswer());
    current = await executorCase(docker, {
      name: 'download',
      initial: {
        timing: { leeway: 0, download: 1, execution: 1, upload: 1 },
        volume: { volume_type: 'zip_url', contents: http.url('/slow.zip'), relative_path: null },
      },
    });
    const run = current.run();
    await current.miner.waitFor('V0ExecutorReadyRequest');
    current.miner.send(jobRequest({ jobUuid: current.jobUuid, image: TEST_IMAGE, cmd: ['true'] }));
    const failed = await current.miner.waitFor('V0JobFailedRequest');
    expect(await exitCodeOf(run)).toBe(1);
    expect(failed).toMatchObject({ reason: 'timeout', stage: 'volume_download', message: 'Download time exceeded' });
    expect(current.miner.messages.map((m) => m.message_type)).toEqual(['V0ExecutorReadyRequest', 'V0JobFailedRequest']);
    expect(await current.leftovers()).toEqual({ containers: [], workDirEntries: [] });
  });

  it('kills a container that outlives the execution deadline and reports what it printed', async () => {
    current = await executorCase(docker, { name: 'execution', initial: { timing: { leeway: 0, download: 1, execution: 1, upload: 1 } } });
    const run = current.run();
    await current.miner.waitFor('V0ExecutorReadyRequest');
    current.miner.send(jobRequest({ jobUuid: current.jobUuid, image: TEST_IMAGE, cmd: ['sh', '-c', 'echo started; sleep 30'] }));
    const failed = await current.miner.waitFor('V0JobFailedRequest');
    expect(await exitCodeOf(run)).toBe(1);
    expect(failed).toMatchObject({
      reason: 'timeout',
      stage: 'execution',
      docker_process_exit_status: null,
      docker_process_stdout: 'started\n',
    });
    expect(current.miner.messages.map((m) => m.message_type)).toEqual(['V0ExecutorReadyRequest', 'V0VolumesReadyRequest', 'V0JobFailedRequest']);
    expect(await current.leftovers()).toEqual({ containers: [], workDirEntries: [] });
  });

  it('fails the job with timeout in result_upload when the upload target does not answer in time', async () => {
    http.on('PUT', '/hang', neverAnswer());
    current = await executorCase(docker, { name: 'upload', initial: { timing: { leeway: 0, download: 1, execution: 2, upload: 1 } } });
    const run = current.run();
    await current.miner.waitFor('V0ExecutorReadyRequest');
    current.miner.send(
      jobRequest({
        jobUuid: current.jobUuid,
        image: TEST_IMAGE,
        cmd: ['sh', '-c', 'echo result > /output/r.txt'],
        upload: { output_upload_type: 'zip_and_http_put', url: http.url('/hang') },
      }),
    );
    const failed = await current.miner.waitFor('V0JobFailedRequest');
    expect(await exitCodeOf(run)).toBe(1);
    expect(failed).toMatchObject({ reason: 'timeout', stage: 'result_upload', message: 'Upload time exceeded', docker_process_exit_status: 0 });
    expect(current.miner.messages.map((m) => m.message_type)).toEqual([
      'V0ExecutorReadyRequest',
      'V0VolumesReadyRequest',
      'V0ExecutionDoneRequest',
      'V0JobFailedRequest',
    ]);
    expect(await current.leftovers()).toEqual({ containers: [], workDirEntries: [] });
  });
});
