import { readFile, stat } from 'node:fs/promises';
import {
  createDockerRuntime,
  createJobTempDir,
  removeTempDirRootSafe,
  type DockerRuntime,
  type JobTempDir,
  type RunJobContainerInput,
} from '../../../src/actors/executor';
import {
  ensureTestImage,
  listLabelledContainers,
  localDocker,
  removeLabelledContainers,
  startFakeDockerEngine,
  TEST_IMAGE,
  testHordeId,
  waitForRunningContainer,
} from '../../support/docker';

const docker = localDocker();
const hordeId = testHordeId('executor-docker');
let runtime: DockerRuntime;
let dirs: JobTempDir;
let warnings: string[];

function jobInput(cmd: string[], overrides: Partial<RunJobContainerInput> = {}): RunJobContainerInput {
  return {
    image: TEST_IMAGE,
    cmd,
    volumeDir: dirs.volumeDir,
    outputDir: dirs.outputDir,
    labels: { hordeId, jobUuid: 'job-1', token: 'token-1' },
    deadlineMs: 30_000,
    stdoutPath: dirs.stdoutPath,
    stderrPath: dirs.stderrPath,
    signal: new AbortController().signal,
    ...overrides,
  };
}

beforeAll(async () => {
  await ensureTestImage(docker);
});

beforeEach(async () => {
  warnings = [];
  runtime = createDockerRuntime({ docker, onCleanupError: (error) => warnings.push(error.message) });
  dirs = await createJobTempDir({ prefix: 'horde-docker-test-' });
});

afterEach(async () => {
  const leftovers = await listLabelledContainers(docker, hordeId);
  await removeLabelledContainers(docker, hordeId);
  await removeTempDirRootSafe({ dir: dirs.root, docker, cleanupImage: TEST_IMAGE, hordeId, signal: new AbortController().signal });
  expect(leftovers.map((info) => info.Id)).toEqual([]);
  expect(warnings).toEqual([]);
});

describe('runJobContainer', () => {
  it('runs a job to completion and returns its exit code and separated stdout/stderr', async () => {
    const result = await runtime.runJobContainer(jobInput(['sh', '-c', 'echo out-line; echo err-line >&2; echo more']));
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('out-line\nmore\n');
    expect(result.stderr).toBe('err-line\n');
    expect(result.truncated).toEqual({ stdout: false, stderr: false });
    expect(await readFile(dirs.stdoutPath, 'utf8')).toBe('out-line\nmore\n');
    expect(await readFile(dirs.stderrPath, 'utf8')).toBe('err-line\n');
  });

  it('reports a non-zero exit code as a result, not an error', async () => {
    const result = await runtime.runJobContainer(jobInput(['sh', '-c', 'echo failing >&2; exit 7']));
    expect(result.exitCode).toBe(7);
    expect(result.stderr).toBe('failing\n');
  });

  it('passes env and mounts volume and output, with no network', async () => {
    const result = await runtime.runJobContainer(
      jobInput(['sh', '-c', 'echo "$GREETING" > /output/env.txt; ls /volume >/dev/null && ls /sys/class/net'], { env: { GREETING: 'hello job' } }),
    );
    expect(result.exitCode).toBe(0);
    expect(await readFile(`${dirs.outputDir}/env.txt`, 'utf8')).toBe('hello job\n');
    // NetworkMode none: only the loopback interface exists.
    expect(result.stdout.trim().split('\n')).toEqual(['lo']);
  });

  it('kills a job that outlives its deadline, keeps what it printed, and leaves no container', async () => {
    const error: unknown = await runtime
      .runJobContainer(jobInput(['sh', '-c', 'echo started; echo warming >&2; sleep 30'], { deadlineMs: 4_000 }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'executor.execution_timeout',
      output: { stdout: 'started\n', stderr: 'warming\n', truncated: { stdout: false, stderr: false } },
    });
    expect(await listLabelledContainers(docker, hordeId)).toEqual([]);
  });

  it('kills and removes the container when the caller aborts mid-run', async () => {
    const controller = new AbortController();
    const running = runtime.runJobContainer(jobInput(['sleep', '30'], { signal: controller.signal }));
    await waitForRunningContainer(docker, hordeId);
    const abortedAt = Date.now();
    controller.abort();
    await expect(running).rejects.toMatchObject({ code: 'executor.aborted' });
    expect(Date.now() - abortedAt).toBeLessThan(10_000);
    expect(await listLabelledContainers(docker, hordeId)).toEqual([]);
  });

  it('refuses to start when already aborted, creating nothing', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(runtime.runJobContainer(jobInput(['echo', 'hi'], { signal: controller.signal }))).rejects.toMatchObject({
      code: 'executor.aborted',
    });
  });

  it('truncates long output for the wire as upstream (500k head + " ... " + 500k tail) while the file keeps it all', async () => {
    const result = await runtime.runJobContainer(
      jobInput(['sh', '-c', 'echo HEAD; yes x | head -c 1200000; echo TAIL; echo short >&2']),
    );
    expect(result.truncated).toEqual({ stdout: true, stderr: false });
    expect(result.stdout).toHaveLength(1_000_005);
    expect(result.stdout.startsWith('HEAD\nx\nx\n')).toBe(true);
    expect(result.stdout.slice(500_000, 500_005)).toBe(' ... ');
    expect(result.stdout.endsWith('x\nTAIL\n')).toBe(true);
    expect(result.stderr).toBe('short\n');
    expect(result.stdoutBytes).toBe(5 + 1_200_000 + 5);
    expect((await stat(dirs.stdoutPath)).size).toBe(5 + 1_200_000 + 5);
  });

  it('truncates output larger than the in-memory capture exactly as well', async () => {
    const result = await runtime.runJobContainer(jobInput(['sh', '-c', 'echo HEAD; yes y | head -c 6000000; echo TAIL']));
    const full = await readFile(dirs.stdoutPath, 'utf8');
    expect(full).toHaveLength(6_000_010);
    expect(result.stdout).toBe(`${full.slice(0, 500_000)} ... ${full.slice(-500_000)}`);
  });

  it('reports an image that cannot be created as container_start_failed, leaving nothing behind', async () => {
    await expect(runtime.runJobContainer(jobInput(['true'], { image: 'horde-no-such-image:never' }))).rejects.toMatchObject({
      code: 'executor.container_start_failed',
    });
  });
});

describe('removeStaleJobContainers', () => {
  it('removes leftover containers of this Horde id only', async () => {
    const otherId = `${hordeId}-other`;
    const labels = (id: string) => ({ 'horde.managed': 'true', 'horde.id': id });
    const mine = await docker.createContainer({ Image: TEST_IMAGE, Cmd: ['sleep', '30'], Labels: labels(hordeId) });
    await mine.start();
    const theirs = await docker.createContainer({ Image: TEST_IMAGE, Cmd: ['true'], Labels: labels(otherId) });
    try {
      const { removed } = await runtime.removeStaleJobContainers({ hordeId, signal: new AbortController().signal });
      expect(removed).toEqual([mine.id]);
      expect((await listLabelledContainers(docker, otherId)).map((info) => info.Id)).toEqual([theirs.id]);
    } finally {
      await removeLabelledContainers(docker, otherId);
    }
  });
});

describe('ensureImage', () => {
  const signal = new AbortController().signal;

  it('accepts a present image without pulling under "never" and "if-missing"', async () => {
    await expect(runtime.ensureImage({ image: TEST_IMAGE, policy: 'never', signal })).resolves.toEqual({ image: TEST_IMAGE, pulled: false });
    await expect(runtime.ensureImage({ image: TEST_IMAGE, policy: 'if-missing', signal })).resolves.toEqual({ image: TEST_IMAGE, pulled: false });
  });

  it('fails with image_missing for an absent image under "never"', async () => {
    await expect(runtime.ensureImage({ image: 'horde-no-such-image', policy: 'never', signal })).rejects.toMatchObject({
      code: 'executor.image_missing',
      image: 'horde-no-such-image:latest',
    });
  });

  it('reports the engine\'s pull error as image_pull_failed (fake engine: no registry is contacted)', async () => {
    const engine = await startFakeDockerEngine((req, res) => {
      if (req.method === 'POST' && req.url?.startsWith('/images/create')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(`${JSON.stringify({ status: 'Pulling from library/app' })}\n`);
        res.end(`${JSON.stringify({ errorDetail: { message: 'manifest unknown' }, error: 'manifest unknown' })}\n`);
        return true;
      }
      return false;
    });
    try {
      const fake = createDockerRuntime({ engine: { socketPath: engine.socketPath } });
      const error = await fake.ensureImage({ image: 'app', policy: 'if-missing', signal }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'executor.image_pull_failed' });
      expect((error as Error).message).toContain('manifest unknown');
      expect(engine.requests.map((r) => r.method)).toEqual(['GET', 'POST']);
      expect(engine.requests[1]!.url).toContain('fromImage=app');
    } finally {
      await engine.close();
    }
  });

  it('gives up a pull that hangs after its timeout', async () => {
    const engine = await startFakeDockerEngine((req, res) => {
      if (req.method === 'POST' && req.url?.startsWith('/images/create')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(`${JSON.stringify({ status: 'Waiting' })}\n`); // and then nothing, ever
        return true;
      }
      return false;
    });
    try {
      const fake = createDockerRuntime({ engine: { socketPath: engine.socketPath } });
      const error = await fake.ensureImage({ image: 'app:1', policy: 'always', timeoutMs: 300, signal }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'executor.image_pull_failed' });
      expect((error as Error).message).toContain('timed out after 300 ms');
    } finally {
      await engine.close();
    }
  });
});
