import {
  collectArtifacts,
  createDockerRuntime,
  createJobTempDir,
  downloadVolume,
  makeTreeWorldWritable,
  removeTempDirRootSafe,
  uploadOutput,
  writeStdStreamsToOutput,
  type JobTempDir,
} from '../../../src/actors/executor';
import { ensureTestImage, listLabelledContainers, localDocker, removeLabelledContainers, TEST_IMAGE, testHordeId } from '../../support/docker';
import { parseMultipart, startHttpFixture, statusSequence, type HttpFixture } from '../../support/httpFixtures';
import { makeZip, readZip } from './zipFixtures';

const docker = localDocker();
const hordeId = testHordeId('executor-flow');
const runtime = createDockerRuntime({ docker });
let server: HttpFixture;
let dirs: JobTempDir;

beforeAll(async () => {
  await ensureTestImage(docker);
});

beforeEach(async () => {
  server = await startHttpFixture();
  dirs = await createJobTempDir({ prefix: 'horde-flow-' });
});

afterEach(async () => {
  await server.close();
  const leftovers = await listLabelledContainers(docker, hordeId);
  await removeLabelledContainers(docker, hordeId);
  await removeTempDirRootSafe({ dir: dirs.root, docker, cleanupImage: TEST_IMAGE, hordeId, signal: new AbortController().signal });
  expect(leftovers).toEqual([]);
});

describe('a job through the effect modules', () => {
  it('downloads an inline volume, runs a container that reads it, and uploads what it wrote', async () => {
    const signal = new AbortController().signal;
    const volumeZip = await makeZip([{ name: 'input/numbers.txt', data: '1\n2\n3\n' }]);
    await downloadVolume({ volume: { volume_type: 'inline', contents: volumeZip.toString('base64') }, targetDir: dirs.volumeDir, signal });
    await makeTreeWorldWritable(dirs.root);

    const run = await runtime.runJobContainer({
      image: TEST_IMAGE,
      cmd: ['sh', '-c', 'wc -l < /volume/input/numbers.txt > /output/count.txt; echo artifact > /artifacts/note.txt; echo done'],
      volumeDir: dirs.volumeDir,
      outputDir: dirs.outputDir,
      artifacts: { hostDir: dirs.artifactsDir, containerDir: '/artifacts' },
      labels: { hordeId, jobUuid: 'flow-job', token: 'flow-token' },
      deadlineMs: 30_000,
      stdoutPath: dirs.stdoutPath,
      stderrPath: dirs.stderrPath,
      signal,
    });
    expect(run).toMatchObject({ exitCode: 0, stdout: 'done\n', stderr: '' });

    await writeStdStreamsToOutput({ stdoutPath: dirs.stdoutPath, stderrPath: dirs.stderrPath, outputDir: dirs.outputDir });
    const { artifacts } = await collectArtifacts({ hostDir: dirs.artifactsDir, artifactsDir: '/artifacts', signal });
    expect(Buffer.from(artifacts['/artifacts/note.txt']!, 'base64').toString()).toBe('artifact\n');

    server.on('POST', '/results', statusSequence([200], 'received'));
    const uploaded = await uploadOutput({
      upload: { output_upload_type: 'zip_and_http_post', url: server.url('/results'), form_fields: { job: 'flow-job' } },
      outputDir: dirs.outputDir,
      signal,
    });
    expect(uploaded.responses['output.zip']!.body).toBe('received');
    const request = server.requests[0]!;
    const parts = parseMultipart(request.body, request.headers['content-type']);
    const files = await readZip(parts.find((p) => p.name === 'file')!.data);
    expect(Object.fromEntries(files)).toEqual({ 'count.txt': '3\n', 'stdout.txt': 'done\n', 'stderr.txt': '' });
  });
});
