/**
 * `horde executor --standby` as a real process: it waits (no connection, no container) until one stdin line gives it
 * a token, then runs that job exactly as a cold executor; closing stdin first ends it at once; a bad line is bad usage.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { jobUuidFromToken } from '../../../src/machines/jobReport';
import { ensureTestImage, localDocker, TEST_IMAGE } from '../../support/docker';
import { executorTokenFor, initialJobRequest, jobRequest } from '../../support/scriptedMiner';
import { executorCase, REPO_ROOT, type ExecutorCase } from './harness';

const docker = localDocker();
let current: ExecutorCase | undefined;
const children: ChildProcess[] = [];

beforeAll(async () => {
  await ensureTestImage(docker);
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
  }
  await current?.close();
  current = undefined;
});

interface Standby {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
  stdout(): string;
}

function startStandby(minerAddress: string, hordeId: string, workDir: string, extraArgs: readonly string[] = []): Standby {
  const env: NodeJS.ProcessEnv = { ...process.env, HORDE_LOG_LEVEL: 'debug' };
  delete env['EXECUTOR_TOKEN'];
  const child = spawn(
    process.execPath,
    [
      path.join(REPO_ROOT, 'bin', 'horde.js'),
      'executor',
      '--standby',
      '--miner-address',
      minerAddress,
      '--horde-id',
      hordeId,
      '--work-dir',
      workDir,
      '--cleanup-image',
      TEST_IMAGE,
      '--startup-time-limit-ms',
      '10s',
      ...extraArgs,
    ],
    { cwd: REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  children.push(child);
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, stderr: () => stderr, stdout: () => stdout };
}

/** Resolves once the standby logged that it is waiting (modules loaded, stale containers swept). */
async function ready(standby: Standby, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!standby.stderr().includes('standby: stale containers swept')) {
    if (Date.now() - start > timeoutMs) throw new Error(`standby not ready:\n${standby.stderr()}`);
    if (standby.child.exitCode !== null) throw new Error(`standby exited ${standby.child.exitCode}:\n${standby.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(what)), timeoutMs)))]);
  } finally {
    clearTimeout(timer);
  }
}

describe('horde executor --standby', () => {
  it('does not dial the miner before its token, then runs the job the token names and exits 0', async () => {
    current = await executorCase(docker, { name: 'standby-run' });
    const standby = startStandby(current.miner.address, current.hordeId, current.workDir);
    await ready(standby);
    expect(current.miner.messages).toEqual([]);

    standby.child.stdin!.end(`${JSON.stringify({ token: current.token })}\n`);
    await current.miner.waitFor('V0ExecutorReadyRequest');
    current.miner.send(jobRequest({ jobUuid: current.jobUuid, image: TEST_IMAGE, cmd: ['sh', '-c', 'echo warm'] }));
    const finished = await current.miner.waitFor('V0JobFinishedRequest');
    expect(finished).toMatchObject({ job_uuid: current.jobUuid, docker_process_stdout: 'warm\n' });
    expect((await within(standby.exited, 30_000, `no exit:\n${standby.stderr()}`)).code).toBe(0);
    expect(await current.leftovers()).toEqual({ containers: [], workDirEntries: [] });
  }, 60_000);

  it('with --max-jobs runs jobs one after another in one process, saying when each ended, then exits', async () => {
    const secondUuid = randomUUID();
    const secondToken = executorTokenFor(secondUuid);
    current = await executorCase(docker, {
      name: 'standby-reuse',
      // Each connection is a job: its initial request names the job its token is for.
      onConnect: (connection) => connection.send(initialJobRequest({ jobUuid: jobUuidFromToken(connection.token)!, image: TEST_IMAGE })),
    });
    const standby = startStandby(current.miner.address, current.hordeId, current.workDir, ['--max-jobs', '2']);
    await ready(standby);

    standby.child.stdin!.write(`${JSON.stringify({ token: current.token })}\n`);
    await current.miner.waitFor('V0ExecutorReadyRequest');
    current.miner.send(jobRequest({ jobUuid: current.jobUuid, image: TEST_IMAGE, cmd: ['sh', '-c', 'echo first'] }));
    expect(await current.miner.waitFor('V0JobFinishedRequest')).toMatchObject({ job_uuid: current.jobUuid, docker_process_stdout: 'first\n' });
    const started = Date.now();
    while (!standby.stdout().includes('{"job_ended":0}')) {
      if (Date.now() - started > 15_000) throw new Error(`no job-ended line:\n${standby.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Its job is over and cleaned up, and it is still there, waiting like a fresh standby.
    expect(await current.leftovers()).toEqual({ containers: [], workDirEntries: [] });
    expect(standby.child.exitCode).toBeNull();

    standby.child.stdin!.write(`${JSON.stringify({ token: secondToken })}\n`);
    await current.miner.until(() => current!.miner.ofType('V0ExecutorReadyRequest').length === 2, 15_000, 'no second ready');
    current.miner.send(jobRequest({ jobUuid: secondUuid, image: TEST_IMAGE, cmd: ['sh', '-c', 'echo second'] }));
    await current.miner.until(() => current!.miner.ofType('V0JobFinishedRequest').length === 2, 30_000, 'no second result');
    expect(current.miner.ofType('V0JobFinishedRequest')[1]).toMatchObject({ job_uuid: secondUuid, docker_process_stdout: 'second\n' });
    // Its last job: it exits instead of waiting for a third.
    expect(await within(standby.exited, 30_000, `no exit:\n${standby.stderr()}`)).toEqual({ code: 0, signal: null });
    expect(standby.stdout().match(/job_ended/g)).toHaveLength(1);
    expect(await current.leftovers()).toEqual({ containers: [], workDirEntries: [] });
  }, 90_000);

  it('with --max-jobs does not reuse itself after a horde failure: it exits with that job', async () => {
    current = await executorCase(docker, { name: 'standby-noreuse' });
    const standby = startStandby(current.miner.address, current.hordeId, current.workDir, ['--max-jobs', '5', '--final-delivery-grace-ms', '1s']);
    await ready(standby);
    standby.child.stdin!.write(`${JSON.stringify({ token: current.token })}\n`);
    await current.miner.waitFor('V0ExecutorReadyRequest');
    // The miner link is lost mid-job: a horde failure, which may leave this process in a state nobody should inherit.
    current.miner.dropConnection();
    expect((await within(standby.exited, 30_000, `no exit:\n${standby.stderr()}`)).code).toBe(2);
    expect(standby.stdout()).not.toContain('job_ended');
    expect(await current.leftovers()).toEqual({ containers: [], workDirEntries: [] });
  }, 60_000);

  it('exits 0 at once when its stdin closes before a token (the miner went away)', async () => {
    current = await executorCase(docker, { name: 'standby-closed' });
    const standby = startStandby(current.miner.address, current.hordeId, current.workDir);
    await ready(standby);
    const closedAt = Date.now();
    standby.child.stdin!.end();
    expect(await within(standby.exited, 5_000, 'still running after stdin closed')).toEqual({ code: 0, signal: null });
    expect(Date.now() - closedAt).toBeLessThan(2_000);
    expect(current.miner.messages).toEqual([]);
  }, 30_000);

  it('exits 3 for a line that is not {"token": "..."}', async () => {
    current = await executorCase(docker, { name: 'standby-bad' });
    const standby = startStandby(current.miner.address, current.hordeId, current.workDir);
    standby.child.stdin!.write('{"token": "a b"}\n');
    expect(await within(standby.exited, 20_000, 'still running after a bad line')).toEqual({ code: 3, signal: null });
    expect(standby.stderr()).toContain('"token": use letters, digits');
  }, 30_000);
});
