/**
 * Warm standby executors of the process backend, for real: the backend with small stand-in processes (token handed
 * over on stdin, replacement, dismissal), then a real `horde miner` whose job runs on a standby `horde executor` in
 * Docker, and after SIGTERM no executor process — standby or not — remains.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { childProcessBackend } from '../../../src/actors/miner/backends/childProcess';
import type { BackendMetrics } from '../../../src/actors/miner/backends/metrics';
import type { ExecutorBackend, ExecutorHandle } from '../../../src/actors/miner/backends/types';
import { EXECUTOR_STANDBY_MIN_RETRY_DELAY_MS } from '../../../src/actors/miner/defaults';
import { devHotkey, initCrypto, type Hotkey } from '../../../src/crypto';
import { silentLogger } from '../../../src/telemetry/logger';
import { ensureTestImage } from '../../support/docker';
import { ScriptedValidator } from '../../support/scriptedValidator';
import {
  eventually,
  everyExecutorPid,
  executorPids,
  hordeContainers,
  heldSlots,
  metagraphFile,
  nothingLeft,
  removeDir,
  standbyPids,
  startMinerProcess,
  type MinerProcess,
} from './minerProcess';

const docker = new Dockerode({ socketPath: '/var/run/docker.sock' });

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+/g, ' ');
  } catch {
    return '(gone)';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A stand-in executor: with --standby it reads one stdin line and exits 0 when the line carries WANT_TOKEN, 5 when it
 * carries another, and 9 when stdin closes first. Without --standby it exits 7 (a cold start).
 */
const STAND_IN = `
const standby = process.argv.includes('--standby');
if (!standby) process.exit(7);
let text = '';
process.stdin.on('data', (c) => {
  text += c;
  if (text.includes('\\n')) {
    const line = JSON.parse(text.slice(0, text.indexOf('\\n')));
    setTimeout(() => process.exit(line.token === process.env.WANT_TOKEN ? 0 : 5), 50);
  }
});
process.stdin.on('end', () => { if (!text.includes('\\n')) process.exit(9); });
`;

/**
 * A reusable stand-in: with --standby --max-jobs N it runs each stdin token line as a 50 ms job, writes the job-ended
 * line after each one but the last, and exits 0 after the last one (or 9 when stdin closes).
 */
const REUSABLE_STAND_IN = `
const max = Number(process.argv[process.argv.indexOf('--max-jobs') + 1] || 1);
let text = '';
let jobs = 0;
process.stdin.on('data', (c) => {
  text += c;
  let end;
  while ((end = text.indexOf('\\n')) >= 0) {
    text = text.slice(end + 1);
    jobs += 1;
    const last = jobs >= max;
    setTimeout(() => (last ? process.exit(0) : process.stdout.write(JSON.stringify({ job_ended: 0 }) + '\\n')), 50);
  }
});
process.stdin.on('end', () => process.exit(9));
`;

describe('process backend with warm standbys', () => {
  let backend: ExecutorBackend | undefined;

  afterEach(async () => {
    backend?.killAllSync();
    await backend?.close();
    backend = undefined;
  });

  function standIn(standby: number, token: string): ExecutorBackend {
    backend = childProcessBackend({
      command: [process.execPath, '-e', STAND_IN, '--'],
      minerAddress: 'ws://127.0.0.1:9',
      env: { WANT_TOKEN: token },
      docker: undefined,
      logger: silentLogger,
      standby,
    });
    return backend;
  }

  const spawnOne = (b: ExecutorBackend, token: string): Promise<ExecutorHandle> =>
    b.spawn({ token, jobUuid: token.slice(0, 36), executorClass: 'always_on.test' }, new AbortController().signal);

  it('hands the token to a ready standby on stdin and starts a replacement', async () => {
    const token = '00000000-0000-4000-8000-000000000001-abc';
    const b = standIn(1, token);
    // Let the standby start, so the job finds it.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const handle = await spawnOne(b, token);
    expect(await handle.exited).toEqual({ code: 0, signal: null });
    // The replacement is a standby too: the second job gets it (a cold start would exit 7).
    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = await spawnOne(b, token);
    expect(await second.exited).toEqual({ code: 0, signal: null });
  });

  it('takes a reusable standby back after its job: the next job runs in the same process, and the old handle lets go', async () => {
    backend = childProcessBackend({
      command: [process.execPath, '-e', REUSABLE_STAND_IN, '--'],
      minerAddress: 'ws://127.0.0.1:9',
      docker: undefined,
      logger: silentLogger,
      standby: 1,
      standbyMaxJobs: 3,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const first = await spawnOne(backend, '00000000-0000-4000-8000-000000000011-abc');
    // The job ended (its line), not the process.
    expect(await first.exited).toEqual({ code: 0, signal: null });
    const pid = Number(first.id);
    expect(alive(pid)).toBe(true);
    expect(await first.isAlive(new AbortController().signal)).toBe(false);
    // A late kill through the old job's handle must not reach the process: it may run another job by now.
    await first.kill();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(alive(pid)).toBe(true);

    const second = await spawnOne(backend, '00000000-0000-4000-8000-000000000012-abc');
    expect(Number(second.id)).toBe(pid);
    expect(await second.exited).toEqual({ code: 0, signal: null });
    const third = await spawnOne(backend, '00000000-0000-4000-8000-000000000013-abc');
    expect(Number(third.id)).toBe(pid);
    // Its last job: the process exits, and that ends the job.
    expect(await third.exited).toEqual({ code: 0, signal: null });
    await eventually(() => !alive(pid), 5_000, 'the reused process gone after its last job');
  });

  it('lets a job that finds no ready standby wait briefly for one finishing its previous job, instead of starting cold', async () => {
    backend = childProcessBackend({
      command: [process.execPath, '-e', REUSABLE_STAND_IN, '--'],
      minerAddress: 'ws://127.0.0.1:9',
      docker: undefined,
      logger: silentLogger,
      standby: 1,
      standbyMaxJobs: 5,
      standbyReturnWaitMs: 2_000,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const first = await spawnOne(backend, '00000000-0000-4000-8000-000000000021-abc');
    // Asked for while the only standby still runs the first job (50 ms).
    const second = await spawnOne(backend, '00000000-0000-4000-8000-000000000022-abc');
    expect(second.id).toBe(first.id);
    expect(await second.exited).toEqual({ code: 0, signal: null });
  });

  it('starts cold when standbys are off', async () => {
    const b = standIn(0, 'x');
    const handle = await spawnOne(b, '00000000-0000-4000-8000-000000000002-abc');
    expect(await handle.exited).toEqual({ code: 7, signal: null });
  });

  it('replaces a standby that keeps failing only after a backoff delay, and counts each failure', async () => {
    let failures = 0;
    const metrics = {
      executorStarts: { add: () => undefined },
      standbyFailures: { add: (n: number) => void (failures += n) },
    } as unknown as BackendMetrics;
    const startedAt = Date.now();
    backend = childProcessBackend({
      command: [process.execPath, '-e', 'process.exit(1)', '--'],
      minerAddress: 'ws://127.0.0.1:9',
      docker: undefined,
      logger: silentLogger,
      standby: 1,
      standbyBackoff: { baseMs: 100, capMs: 400, multiplier: 2 },
      metrics,
    });
    await eventually(() => failures >= 3, 10_000, 'three standby failures');
    // Every replacement waits at least EXECUTOR_STANDBY_MIN_RETRY_DELAY_MS: no tight loop.
    expect(failures).toBeLessThanOrEqual(Math.floor((Date.now() - startedAt) / EXECUTOR_STANDBY_MIN_RETRY_DELAY_MS) + 1);
    // With no standby to take, a job still starts (cold).
    const handle = await spawnOne(backend, '00000000-0000-4000-8000-000000000003-abc');
    expect(await handle.exited).toEqual({ code: 1, signal: null });
  });

  it('dismisses its standbys on close: stdin closed, the process gone', async () => {
    const b = standIn(2, 'x');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const handle = await spawnOne(b, 'not-the-token');
    const standbyPid = Number(handle.id);
    expect(await handle.exited).toEqual({ code: 5, signal: null });
    await b.close();
    backend = undefined;
    expect(alive(standbyPid)).toBe(false);
  });
});

describe('horde miner with a warm standby executor', () => {
  const hordeId = `it-standby-${process.pid}`;
  let validator: Hotkey;
  let minerKey: Hotkey;
  let files: { dir: string; path: string };
  let miner: MinerProcess | undefined;
  let v: ScriptedValidator | undefined;

  beforeAll(async () => {
    await initCrypto();
    await ensureTestImage(docker);
    validator = devHotkey('validator');
    minerKey = devHotkey('miner');
    files = metagraphFile([{ hotkey: validator.ss58 }]);
  });

  afterAll(async () => {
    v?.terminate();
    await miner?.stop('SIGKILL');
    await nothingLeft(docker, hordeId);
    removeDir(files.dir);
  });

  it('runs a job on the standby, takes it back for the next job, and leaves no executor process after SIGTERM', async () => {
    miner = await startMinerProcess({
      devKey: 'miner',
      metagraphPath: files.path,
      dataDir: join(files.dir, 'data'),
      hordeId,
      args: ['--manifest', '{"always_on.test": 1}', '--executor-standby', '1'],
    });
    await eventually(() => standbyPids(hordeId).length === 1, 15_000, 'a standby executor');
    const [standby] = standbyPids(hordeId);
    expect(executorPids(hordeId).map((pid) => `${pid}: ${cmdline(pid)}`)).toEqual([]);

    v = await ScriptedValidator.connect({ minerUrl: miner.wsUrl, validator, minerHotkey: minerKey.ss58 });
    v.sendAuth();
    await v.nextOfType('V0ExecutorManifestRequest');
    const { jobUuid } = v.sendInitialJob();
    expect(await v.next()).toEqual({ message_type: 'V0AcceptJobRequest', job_uuid: jobUuid });
    await v.nextOfType('V0ExecutorReadyRequest', { timeoutMs: 15_000 });
    // The job's executor is the former standby: its title now names the job.
    expect(executorPids(hordeId)).toContain(standby);
    v.sendJobRequest(jobUuid, ['sh', '-c', 'echo hello from a standby']);
    expect(await v.nextOfType('V0JobFinishedRequest', { timeoutMs: 30_000 })).toMatchObject({
      job_uuid: jobUuid,
      docker_process_stdout: 'hello from a standby\n',
    });
    const metrics = await (await fetch(`${miner.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/horde_miner_executor_starts_total\{[^}]*start="standby"[^}]*\} 1/);

    // Its job over and cleaned up, the same process is a standby again, and the next job runs on it.
    await eventually(() => executorPids(hordeId).length === 0 && standbyPids(hordeId).includes(standby!), 30_000, 'the standby back').catch(
      (error: Error) => {
        throw new Error(`${error.message}: ${everyExecutorPid(hordeId).map((pid) => `${pid}: ${cmdline(pid)}`).join('; ')}`);
      },
    );
    // The slot is freed once the miner has swept after the job's end (a moment after the process said it was done).
    await eventually(async () => (await heldSlots(miner!.httpUrl)) === 0, 15_000, 'the slot free');
    const next = v.sendInitialJob();
    expect(await v.nextOfType('V0AcceptJobRequest')).toEqual({ message_type: 'V0AcceptJobRequest', job_uuid: next.jobUuid });
    await v.nextOfType('V0ExecutorReadyRequest', { timeoutMs: 15_000 });
    expect(executorPids(hordeId)).toEqual([standby]);
    v.sendJobRequest(next.jobUuid, ['sh', '-c', 'echo again']);
    expect(await v.nextOfType('V0JobFinishedRequest', { timeoutMs: 30_000 })).toMatchObject({ job_uuid: next.jobUuid, docker_process_stdout: 'again\n' });
    const after = await (await fetch(`${miner.httpUrl}/metrics`)).text();
    expect(after).toMatch(/horde_miner_executor_starts_total\{[^}]*start="reused"[^}]*\} 1/);
    await eventually(() => executorPids(hordeId).length === 0, 30_000, 'the job executor back to standby');
    const before = everyExecutorPid(hordeId);
    expect(before.length).toBeGreaterThan(0);

    expect(await miner.stop('SIGTERM')).toBe(0);
    expect(everyExecutorPid(hordeId)).toEqual([]);
    for (const pid of [standby!, ...before]) expect(alive(pid)).toBe(false);
    expect(await hordeContainers(docker, hordeId)).toEqual([]);
  }, 60_000);
});
