/**
 * `horde executor` as a real process, against a scripted miner (real ws on 127.0.0.1), a local HTTP server for
 * volumes and uploads, and the real Docker engine: a whole job succeeds with upstream's messages in upstream's order,
 * and leaves no container and no temp dir behind.
 */
import { ensureTestImage, localDocker, TEST_IMAGE } from '../../support/docker';
import { serveBytes, startHttpFixture, statusSequence, type HttpFixture } from '../../support/httpFixtures';
import { executorToMinerCodec } from '../../../src/protocol';
import { jobRequest } from '../../support/scriptedMiner';
import { makeZip, readZip } from '../executor/zipFixtures';
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

describe('horde executor: a successful job', () => {
  it('downloads volumes, runs the container, uploads the output and reports the result with an artifact', async () => {
    const inline = await makeZip([{ name: 'input/a.txt', data: 'alpha\n' }]);
    const zipped = await makeZip([{ name: 'data/b.txt', data: 'beta\n' }]);
    http.on('GET', '/volume.zip', serveBytes(zipped));
    http.on('GET', '/model.bin', serveBytes(Buffer.alloc(1234, 7)));
    http.on('PUT', '/put/joined', statusSequence([200], 'joined stored', { etag: '"j1"' }));
    http.on('PUT', '/put/system', statusSequence([200], 'system stored'));

    current = await executorCase(docker, {
      name: 'success',
      initial: {
        volume: {
          volume_type: 'multi_volume',
          volumes: [
            { volume_type: 'inline', contents: inline.toString('base64'), relative_path: null },
            { volume_type: 'zip_url', contents: http.url('/volume.zip'), relative_path: null },
            { volume_type: 'single_file', url: http.url('/model.bin'), relative_path: 'models/c.bin' },
          ],
        },
      },
    });
    const { miner } = current;
    const run = current.run();
    await miner.waitFor('V0ExecutorReadyRequest');
    miner.send(
      jobRequest({
        jobUuid: current.jobUuid,
        image: TEST_IMAGE,
        cmd: [
          'sh',
          '-c',
          'cat /volume/input/a.txt /volume/data/b.txt > /output/joined.txt; wc -c < /volume/models/c.bin > /output/size.txt; ' +
            'echo artifact > /artifacts/art.txt; echo "$GREETING"; echo warn >&2',
        ],
        env: { GREETING: 'done' },
        artifactsDir: '/artifacts',
        upload: {
          output_upload_type: 'multi_upload',
          uploads: [{ output_upload_type: 'single_file_put', url: http.url('/put/joined'), relative_path: 'joined.txt', signed_headers: null }],
          system_output: { output_upload_type: 'zip_and_http_put', url: http.url('/put/system') },
        },
      }),
    );
    const finished = await miner.waitFor('V0JobFinishedRequest', 30_000);
    expect(await exitCodeOf(run)).toBe(0);

    expect(miner.messages.map((m) => m.message_type)).toEqual([
      'V0ExecutorReadyRequest',
      'V0VolumesReadyRequest',
      'V0ExecutionDoneRequest',
      'V0MachineSpecsRequest',
      'V0JobFinishedRequest',
    ]);
    expect(miner.messages.every((m) => (m as { job_uuid?: string }).job_uuid === current!.jobUuid)).toBe(true);
    expect(finished.docker_process_stdout).toBe('done\n');
    expect(finished.docker_process_stderr).toBe('warn\n');
    expect(finished.artifacts).toEqual({ '/artifacts/art.txt': Buffer.from('artifact\n').toString('base64') });
    expect(Object.keys(finished.upload_results ?? {}).sort()).toEqual(['joined.txt', 'system_output']);
    expect(JSON.parse(finished.upload_results!['joined.txt']!)).toMatchObject({ body: 'joined stored', headers: { etag: '"j1"' } });

    const joined = http.requests.find((r) => r.method === 'PUT' && r.path === '/put/joined')!;
    expect(joined.body.toString()).toBe('alpha\nbeta\n');
    const system = await readZip(http.requests.find((r) => r.path === '/put/system')!.body);
    expect(Object.fromEntries(system)).toEqual({ 'size.txt': '1234\n', 'stdout.txt': 'done\n', 'stderr.txt': 'warn\n' });

    // the frames are byte-for-byte what the codec writes (upstream's compact pydantic JSON)
    for (const frame of miner.received) expect(executorToMinerCodec.encode(frame.message)).toBe(frame.text);
    expect(miner.connectedPaths).toEqual([`/v0.1/executor_interface/${current.token}`]);
    expect(await current.leftovers()).toEqual({ containers: [], workDirEntries: [] });
  });

  it('reports machine specs with upstream’s keys and units', async () => {
    current = await executorCase(docker, { name: 'specs' });
    const run = current.run();
    await current.miner.waitFor('V0ExecutorReadyRequest');
    current.miner.send(jobRequest({ jobUuid: current.jobUuid, image: TEST_IMAGE, cmd: ['true'] }));
    const specs = await current.miner.waitFor('V0MachineSpecsRequest');
    expect(await exitCodeOf(run)).toBe(0);
    expect(Object.keys(specs.specs.specs)).toEqual(expect.arrayContaining(['gpu', 'cpu', 'ram', 'hard_disk', 'os']));
    expect(specs.specs.specs.cpu).toMatchObject({ count: expect.any(Number) as number });
    expect(await current.leftovers()).toEqual({ containers: [], workDirEntries: [] });
  });
});
