/**
 * The executor backends against the real thing: the child-process backend with real processes, the Docker backend
 * with the local engine and the busybox test image (no image with a Horde executor exists offline: these tests
 * check spawn, labels, environment, exit codes, kill and sweep, not a job).
 */
import Dockerode from 'dockerode';
import { childProcessBackend } from '../../../src/actors/miner/backends/childProcess';
import { dockerBackend } from '../../../src/actors/miner/backends/docker';
import { ExecutorSpawnError } from '../../../src/actors/miner/errors';
import type { ExecutorBackend, ExecutorHandle } from '../../../src/actors/miner/backends/types';
import { createLogger, memorySink } from '../../../src/telemetry/logger';
import { ensureTestImage, TEST_IMAGE } from '../../support/docker';
import { eventually } from './minerProcess';

const docker = new Dockerode({ socketPath: '/var/run/docker.sock' });
const hordeId = `it-backends-${process.pid}`;
let next = 0;
const request = () => {
  next += 1;
  const jobUuid = `00000000-0000-4000-8000-${String(next).padStart(12, '0')}`;
  return { token: `${jobUuid}-${process.pid}`, jobUuid, executorClass: 'always_on.test' as const };
};

const handles: ExecutorHandle[] = [];
afterEach(async () => {
  for (const handle of handles.splice(0)) {
    await handle.kill();
    await handle.exited;
    await handle.sweep(new AbortController().signal).catch(() => 0);
  }
  const left = await docker.listContainers({ all: true, filters: { label: [`horde.id=${hordeId}`] } });
  await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
  expect(left).toEqual([]);
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('docker executor backend', () => {
  beforeAll(() => ensureTestImage(docker));

  function backend(
    cmd: readonly string[],
    engines: ReadonlyArray<{ name: string; docker: Dockerode; publicAddress: string | undefined }> = [{ name: 'local', docker, publicAddress: undefined }],
  ): ExecutorBackend {
    return dockerBackend({ engines, image: TEST_IMAGE, cmd, minerAddress: 'ws://127.0.0.1:1', env: { EXTRA: 'yes' }, binds: [], hordeId });
  }

  it('starts a labelled container with the executor environment, and SIGKILL ends it', async () => {
    const b = backend(['sleep', '30']);
    const r = request();
    const handle = await b.spawn(r, new AbortController().signal);
    handles.push(handle);
    const info = await docker.getContainer(handle.id).inspect();
    expect(info.Name).toBe(`/horde-executor-${r.token}`);
    expect(info.Config.Labels).toMatchObject({
      'horde.managed': 'true',
      'horde.role': 'executor',
      'horde.token': r.token,
      'horde.job_uuid': r.jobUuid,
      'horde.executor_class': 'always_on.test',
      'horde.engine': 'local',
      'horde.id': hordeId,
    });
    expect(info.Config.Env).toEqual(expect.arrayContaining(['MINER_ADDRESS=ws://127.0.0.1:1', `EXECUTOR_TOKEN=${r.token}`, 'EXTRA=yes']));
    expect(await handle.isAlive(new AbortController().signal)).toBe(true);
    await handle.kill();
    expect(await handle.exited).toEqual({ code: 137, signal: null });
    expect(await handle.isAlive(new AbortController().signal)).toBe(false);
    expect(await handle.sweep(new AbortController().signal)).toBe(1);
  });

  it('reports the exit code of an executor that ends by itself', async () => {
    const handle = await backend(['sh', '-c', 'exit 3']).spawn(request(), new AbortController().signal);
    handles.push(handle);
    expect(await handle.exited).toEqual({ code: 3, signal: null });
  });

  it('removes a half-made container and rejects when the spawn is aborted', async () => {
    const controller = new AbortController();
    const spawning = backend(['sleep', '30']).spawn(request(), controller.signal);
    controller.abort();
    await expect(spawning).rejects.toBeInstanceOf(ExecutorSpawnError);
    await eventually(async () => (await docker.listContainers({ all: true, filters: { label: [`horde.id=${hordeId}`] } })).length === 0);
  });

  it('fails to spawn with a named error when the image does not exist', async () => {
    const b = dockerBackend({ engines: [{ name: 'local', docker, publicAddress: undefined }], image: 'horde-no-such-image:never', minerAddress: 'ws://x:1', hordeId });
    await expect(b.spawn(request(), new AbortController().signal)).rejects.toMatchObject({ code: 'miner.executor_spawn_failed' });
  });

  it('spreads executors over the engines, the least loaded first', async () => {
    const b = backend(['sleep', '30'], [
      { name: 'a', docker, publicAddress: 'host-a' },
      { name: 'b', docker, publicAddress: 'host-b' },
    ]);
    const first = await b.spawn(request(), new AbortController().signal);
    const second = await b.spawn(request(), new AbortController().signal);
    handles.push(first, second);
    expect([first.location, second.location]).toEqual(['a', 'b']);
    expect(second.publicAddress).toBe('host-b');
    await first.kill();
    await first.exited;
    const third = await b.spawn(request(), new AbortController().signal);
    handles.push(third);
    expect(third.location).toBe('a');
  });
});

describe('child process executor backend', () => {
  const logs = memorySink();
  const logger = createLogger({ component: 'test', level: 'debug', sink: logs.sink });

  function backend(script: string): ExecutorBackend {
    return childProcessBackend({ command: [process.execPath, '-e', script], minerAddress: 'ws://127.0.0.1:9', env: { HORDE_ID: hordeId }, docker, logger });
  }

  it('runs the executor with MINER_ADDRESS and EXECUTOR_TOKEN and copies its output to the log', async () => {
    const r = request();
    const handle = await backend('console.log(process.env.MINER_ADDRESS + " " + process.env.EXECUTOR_TOKEN)').spawn(r, new AbortController().signal);
    handles.push(handle);
    expect(await handle.exited).toEqual({ code: 0, signal: null });
    await eventually(() => logs.lines.some((line) => line.includes(`ws://127.0.0.1:9 ${r.token}`)));
  });

  it('kills the whole process group, children of the executor included', async () => {
    const script = 'const c = require("child_process").spawn("sleep", ["30"], { stdio: "ignore" }); console.log("grandchild " + c.pid); setInterval(() => {}, 1000);';
    const handle = await backend(script).spawn(request(), new AbortController().signal);
    handles.push(handle);
    let grandchild = 0;
    await eventually(() => {
      const line = logs.lines.find((l) => l.includes('grandchild '));
      grandchild = line === undefined ? 0 : Number(/grandchild (\d+)/.exec(line)![1]);
      return grandchild > 0;
    });
    expect(await handle.isAlive(new AbortController().signal)).toBe(true);
    await handle.terminate();
    expect(await handle.exited).toEqual({ code: null, signal: 'SIGTERM' });
    await eventually(() => !alive(grandchild));
    expect(await handle.isAlive(new AbortController().signal)).toBe(false);
  });

  it('kills every live executor synchronously on process exit', async () => {
    const b = backend('setInterval(() => {}, 1000)');
    const handle = await b.spawn(request(), new AbortController().signal);
    handles.push(handle);
    b.killAllSync();
    expect(await handle.exited).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('refuses to spawn a command that does not exist', async () => {
    const b = childProcessBackend({ command: ['/nonexistent/horde'], minerAddress: 'ws://x:1', docker: undefined, logger });
    await expect(b.spawn(request(), new AbortController().signal)).rejects.toMatchObject({ code: 'miner.executor_spawn_failed' });
  });
});
