/**
 * The image pull path: a real registry (Debian's docker-registry) on 127.0.0.1 serves a copy of the test image that
 * is not present locally; `horde executor` pulls it during startup, by policy, and runs the job from it.
 */
import { ensureTestImage, localDocker, TEST_IMAGE } from '../../support/docker';
import { startLocalRegistry, type LocalRegistry } from '../../support/registry';
import { jobRequest } from '../../support/scriptedMiner';
import { executorCase, exitCodeOf, type ExecutorCase } from './harness';

const docker = localDocker();
let registry: LocalRegistry;
let reference: string;
let current: ExecutorCase | undefined;

beforeAll(async () => {
  await ensureTestImage(docker);
  registry = await startLocalRegistry();
  reference = await registry.pushCopy(docker, TEST_IMAGE, `horde/testjob-${process.pid}:pull`);
}, 60_000);

afterAll(async () => {
  await docker.getImage(reference).remove({ noprune: true }).catch(() => undefined);
  await registry.close();
});

afterEach(async () => {
  await current?.close();
  current = undefined;
  // each test starts with the image absent locally
  await docker.getImage(reference).remove({ noprune: true }).catch(() => undefined);
});

async function imagePresent(image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch {
    return false;
  }
}

describe('horde executor: pulling the job image', () => {
  it('pulls an absent image from the registry before saying ready, and runs the job from it', async () => {
    expect(await imagePresent(reference)).toBe(false);
    current = await executorCase(docker, { name: 'pull', initial: { image: reference } });
    const run = current.run(['--image-pull-policy', 'if-missing']);
    await current.miner.waitFor('V0ExecutorReadyRequest', 20_000);
    expect(await imagePresent(reference)).toBe(true);
    current.miner.send(jobRequest({ jobUuid: current.jobUuid, image: reference, cmd: ['echo', 'pulled'] }));
    const finished = await current.miner.waitFor('V0JobFinishedRequest');
    expect(await exitCodeOf(run)).toBe(0);
    expect(finished.docker_process_stdout).toBe('pulled\n');
    expect(await current.leftovers()).toEqual({ containers: [], workDirEntries: [] });
  });

  it('fails startup with a horde failure when the policy forbids pulling an absent image', async () => {
    current = await executorCase(docker, { name: 'nopull', initial: { image: reference } });
    const run = current.run(['--image-pull-policy', 'never']);
    const failed = await current.miner.waitFor('V0HordeFailedRequest');
    expect(await exitCodeOf(run)).toBe(2);
    expect(failed).toMatchObject({ reason: 'generic_error', context: { stage: 'executor_startup', error_code: 'executor.image_missing' } });
    expect(await imagePresent(reference)).toBe(false);
  });

  it('reports a pull of an image the registry does not have as a horde failure', async () => {
    current = await executorCase(docker, { name: 'pullmissing', initial: { image: `${registry.host}/horde/absent:nope` } });
    const run = current.run(['--image-pull-policy', 'always']);
    const failed = await current.miner.waitFor('V0HordeFailedRequest');
    expect(await exitCodeOf(run)).toBe(2);
    expect(failed).toMatchObject({ reason: 'generic_error', context: { stage: 'executor_startup', error_code: 'executor.image_pull_failed' } });
  });
});
