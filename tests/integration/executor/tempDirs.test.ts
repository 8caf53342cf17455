import { execFile } from 'node:child_process';
import { access, chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createJobTempDir, makeTreeWorldWritable, removeTempDirRootSafe, type JobTempDir } from '../../../src/actors/executor';
import { ensureTestImage, listLabelledContainers, localDocker, removeLabelledContainers, TEST_IMAGE, testHordeId } from '../../support/docker';

const run = promisify(execFile);
const docker = localDocker();
const hordeId = testHordeId('executor-tempdirs');
const signal = new AbortController().signal;
let dirs: JobTempDir | undefined;

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/** Makes root-owned, read-only files and folders inside `dir` from a container, as a root job would. */
async function fillAsRootJob(dir: string): Promise<void> {
  const container = await docker.createContainer({
    Image: TEST_IMAGE,
    Cmd: ['sh', '-c', 'mkdir -p /t/locked/deeper && echo x > /t/locked/deeper/ro.txt && echo y > /t/.hidden && chmod 444 /t/locked/deeper/ro.txt /t/.hidden && chmod 000 /t/locked/deeper && chmod 555 /t/locked'],
    Labels: { 'horde.managed': 'true', 'horde.id': hordeId },
    HostConfig: { Mounts: [{ Type: 'bind', Source: dir, Target: '/t' }], NetworkMode: 'none' },
  });
  try {
    await container.start();
    expect(((await container.wait()) as { StatusCode: number }).StatusCode).toBe(0);
  } finally {
    await container.remove({ force: true });
  }
}

beforeAll(async () => {
  await ensureTestImage(docker);
});

afterEach(async () => {
  const leftovers = await listLabelledContainers(docker, hordeId);
  await removeLabelledContainers(docker, hordeId);
  if (dirs) await rm(dirs.root, { recursive: true, force: true });
  dirs = undefined;
  expect(leftovers).toEqual([]);
});

describe('job temp dirs', () => {
  it('creates the upstream layout plus a logs folder', async () => {
    dirs = await createJobTempDir({ prefix: 'horde-layout-' });
    for (const dir of [dirs.volumeDir, dirs.outputDir, dirs.artifactsDir, dirs.specsDir, dirs.logsDir]) {
      expect((await stat(dir)).isDirectory()).toBe(true);
    }
    expect(path.dirname(dirs.stdoutPath)).toBe(dirs.logsDir);
  });

  it('makes the tree writable for a non-root job user without following symlinks', async () => {
    dirs = await createJobTempDir({ prefix: 'horde-chmod-' });
    await makeTreeWorldWritable(dirs.root);
    expect((await stat(dirs.volumeDir)).mode & 0o777).toBe(0o777);
  });

  it('removes a dir holding root-owned read-only files and folders (auto: plain delete as root)', async () => {
    dirs = await createJobTempDir({ prefix: 'horde-rootfiles-' });
    await fillAsRootJob(dirs.outputDir);
    expect((await stat(path.join(dirs.outputDir, 'locked'))).mode & 0o777).toBe(0o555);
    await expect(removeTempDirRootSafe({ dir: dirs.root, docker, cleanupImage: TEST_IMAGE, hordeId, signal })).resolves.toEqual({ method: 'fs' });
    expect(await exists(dirs.root)).toBe(false);
  });

  it('removes the same through a labelled cleanup container, which is itself removed', async () => {
    dirs = await createJobTempDir({ prefix: 'horde-container-clean-' });
    await fillAsRootJob(dirs.outputDir);
    await expect(
      removeTempDirRootSafe({ dir: dirs.root, strategy: 'container', docker, cleanupImage: TEST_IMAGE, hordeId, signal }),
    ).resolves.toEqual({ method: 'container' });
    expect(await exists(dirs.root)).toBe(false);
  });

  it('falls back to the cleanup container when an unprivileged executor cannot delete what a root job wrote', async () => {
    const group = (await readFile('/etc/group', 'utf8')).split('\n').find((line) => line.startsWith('docker:'));
    const dockerGid = Number(group?.split(':')[2]);
    expect(Number.isInteger(dockerGid)).toBe(true); // the engine socket is reachable through this group
    const base = await mkdtemp(path.join(os.tmpdir(), 'horde-unprivileged-'));
    await chmod(base, 0o777);
    try {
      const script = path.join(__dirname, 'removeAsUnprivileged.ts');
      const tsx = path.join(__dirname, '..', '..', '..', 'node_modules', '.bin', 'tsx');
      const { stdout } = await run(tsx, [script, base, TEST_IMAGE, hordeId], {
        uid: 65534,
        gid: dockerGid,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: base, TMPDIR: base },
        timeout: 60_000,
      });
      const report = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
      expect(report).toEqual({ uid: 65534, exitCode: 0, plainRmError: 'EACCES', method: 'container', exists: false });
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  }, 60_000);
});
