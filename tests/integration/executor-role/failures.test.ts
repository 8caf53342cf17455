/**
 * Failures the job's owner causes (V0JobFailedRequest with stage and reason, exit 1) and ones the network causes
 * (V0HordeFailedRequest reported by the executor, exit 2), with the real `horde executor` process and engine.
 */
import { ensureTestImage, localDocker, TEST_IMAGE } from '../../support/docker';
import { startHttpFixture, statusSequence, unreachableUrl, type HttpFixture } from '../../support/httpFixtures';
import { jobRequest } from '../../support/scriptedMiner';
import { makeZip } from '../executor/zipFixtures';
import { executorCase, exitCodeOf, type ExecutorCase } from './harness';

const docker = localDocker();
let http: HttpFixture;
let current: ExecutorCase | undefined;

beforeAll(async () => {
  await ensureTestImage(docker);
});

beforeEach(async () => {
  http = await startHttpFixture();
});

afterEach(async () => {
  await current?.close();
  current = undefined;
  await http.close();
});

/** Runs one job to its end and returns the final message, the exit code, and what was left behind. */
async function runJob(options: Parameters<typeof executorCase>[1], job: Omit<Parameters<typeof jobRequest>[0], 'jobUuid'>) {
  current = await executorCase(docker, options);
  const run = current.run();
  await current.miner.waitFor('V0ExecutorReadyRequest');
  current.miner.send(jobRequest({ jobUuid: current.jobUuid, ...job }));
  await current.miner.until(
    () => current!.miner.messages.some((m) => ['V0JobFailedRequest', 'V0HordeFailedRequest', 'V0JobFinishedRequest'].includes(m.message_type)),
    30_000,
    'no final message',
  );
  const code = await exitCodeOf(run);
  const types = current.miner.messages.map((m) => m.message_type);
  return { code, types, final: current.miner.messages.at(-1)!, leftovers: await current.leftovers() };
}

const NOTHING_LEFT = { containers: [], workDirEntries: [] };

describe('horde executor: the job owner’s failures', () => {
  it('reports a non-zero exit with the exit status and the output', async () => {
    const result = await runJob({ name: 'nonzero' }, { image: TEST_IMAGE, cmd: ['sh', '-c', 'echo out; echo oops >&2; exit 3'] });
    expect(result.code).toBe(1);
    expect(result.types).toEqual(['V0ExecutorReadyRequest', 'V0VolumesReadyRequest', 'V0JobFailedRequest']);
    expect(result.final).toMatchObject({
      message_type: 'V0JobFailedRequest',
      reason: 'nonzero_return_code',
      stage: 'execution',
      message: 'Job container exited with non-zero exit code: 3',
      docker_process_exit_status: 3,
      docker_process_stdout: 'out\n',
      docker_process_stderr: 'oops\n',
    });
    expect(result.leftovers).toEqual(NOTHING_LEFT);
  });

  it('refuses a volume that is not a zip, without running the job', async () => {
    const result = await runJob(
      { name: 'badzip', initial: { volume: { volume_type: 'inline', contents: Buffer.from('definitely not a zip').toString('base64'), relative_path: null } } },
      { image: TEST_IMAGE, cmd: ['true'] },
    );
    expect(result.code).toBe(1);
    expect(result.types).toEqual(['V0ExecutorReadyRequest', 'V0JobFailedRequest']);
    expect(result.final).toMatchObject({ reason: 'download_failed', stage: 'volume_download' });
    expect(result.leftovers).toEqual(NOTHING_LEFT);
  });

  it('refuses a zip whose entry escapes the volume folder', async () => {
    const evil = await makeZip([{ name: 'aa/escape.txt', patchedName: '../escape.txt', data: 'pwned' }]);
    const result = await runJob(
      { name: 'zipslip', initial: { volume: { volume_type: 'inline', contents: evil.toString('base64'), relative_path: null } } },
      { image: TEST_IMAGE, cmd: ['true'] },
    );
    expect(result.code).toBe(1);
    expect(result.final).toMatchObject({ reason: 'download_failed', stage: 'volume_download', context: { error_code: 'executor.volume_unsafe_zip' } });
    expect(result.leftovers).toEqual(NOTHING_LEFT);
  });

  it('reports an unreachable download URL as download_failed after its retries', async () => {
    const url = await unreachableUrl('/gone.zip');
    const result = await runJob(
      { name: 'unreachable', initial: { timing: { leeway: 1, download: 20, execution: 5, upload: 5 } } },
      { image: TEST_IMAGE, cmd: ['true'], volume: { volume_type: 'zip_url', contents: url, relative_path: null } },
    );
    expect(result.code).toBe(1);
    expect(result.final).toMatchObject({ reason: 'download_failed', stage: 'volume_download', context: { error_code: 'executor.volume_download_failed' } });
    expect((result.final as { message: string }).message).toMatch(/after 4 attempt/);
    expect(result.leftovers).toEqual(NOTHING_LEFT);
  });

  it('reports an upload answered 500 as upload_failed after three attempts', async () => {
    http.on('PUT', '/out.zip', statusSequence([500]));
    const result = await runJob({ name: 'upload500' }, {
      image: TEST_IMAGE,
      cmd: ['sh', '-c', 'echo r > /output/r.txt'],
      upload: { output_upload_type: 'zip_and_http_put', url: http.url('/out.zip') },
    });
    expect(result.code).toBe(1);
    expect(result.types).toEqual(['V0ExecutorReadyRequest', 'V0VolumesReadyRequest', 'V0ExecutionDoneRequest', 'V0JobFailedRequest']);
    expect(result.final).toMatchObject({ reason: 'upload_failed', stage: 'result_upload', docker_process_exit_status: 0 });
    expect(http.requests.filter((r) => r.path === '/out.zip')).toHaveLength(3);
    expect(result.leftovers).toEqual(NOTHING_LEFT);
  });
});

describe('horde executor: the network’s failures', () => {
  it('fails a streaming job cleanly with streaming_failed (streaming is not supported yet)', async () => {
    current = await executorCase(docker, { name: 'streaming', initial: { streaming: true } });
    const run = current.run();
    const failed = await current.miner.waitFor('V0HordeFailedRequest');
    expect(await exitCodeOf(run)).toBe(2);
    expect(failed).toMatchObject({ reason: 'streaming_failed', reported_by: 'executor', job_uuid: current.jobUuid });
    expect(current.miner.messages).toHaveLength(1);
    expect(await current.leftovers()).toEqual(NOTHING_LEFT);
  });

  it('reports an image that is neither present nor pullable as a horde failure before ready', async () => {
    current = await executorCase(docker, { name: 'noimage', initial: { image: 'horde-no-such-image:never' } });
    const run = current.run(['--image-pull-policy', 'never']);
    const failed = await current.miner.waitFor('V0HordeFailedRequest');
    expect(await exitCodeOf(run)).toBe(2);
    expect(failed).toMatchObject({ reason: 'generic_error', context: { stage: 'executor_startup', error_code: 'executor.image_missing' } });
    expect(await current.leftovers()).toEqual(NOTHING_LEFT);
  });
});
