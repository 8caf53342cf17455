/**
 * `horde miner` end to end: a real miner process, real `horde executor` child processes running jobs in real Docker
 * containers (the busybox test image), and a scripted validator over ws. After each test no executor process and no
 * job container of the miner remains.
 */
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { devHotkey, initCrypto, verifyReceipt, type Hotkey } from '../../../src/crypto';
import { ensureTestImage } from '../../support/docker';
import { ScriptedValidator, type Json } from '../../support/scriptedValidator';
import {
  eventually,
  executorPidOf,
  executorPids,
  hordeContainers,
  metagraphFile,
  nothingLeft,
  removeDir,
  startMinerProcess,
  type MinerProcess,
} from './minerProcess';

const docker = new Dockerode({ socketPath: '/var/run/docker.sock' });
let validator: Hotkey;
let stranger: Hotkey;
let inactive: Hotkey;
let minerKey: Hotkey;
const validators: ScriptedValidator[] = [];

beforeAll(async () => {
  await initCrypto();
  await ensureTestImage(docker);
  validator = devHotkey('validator');
  stranger = devHotkey('stranger');
  inactive = devHotkey('inactive-validator');
  minerKey = devHotkey('miner');
});

afterEach(() => {
  for (const v of validators.splice(0)) v.terminate();
});

async function connect(miner: MinerProcess, key: Hotkey = validator): Promise<ScriptedValidator> {
  const v = await ScriptedValidator.connect({ minerUrl: miner.wsUrl, validator: key, minerHotkey: minerKey.ss58 });
  validators.push(v);
  return v;
}

async function authenticated(miner: MinerProcess): Promise<ScriptedValidator> {
  const v = await connect(miner);
  v.sendAuth();
  await v.nextOfType('V0ExecutorManifestRequest');
  return v;
}

async function text(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Headers }> {
  const response = await fetch(url, { headers });
  return { status: response.status, body: await response.text(), headers: response.headers };
}

function pageNow(): number {
  return Math.floor(Date.now() / 300_000);
}

/** Receipts of the last two pages (a test may straddle a 5-minute page boundary). */
async function recentReceipts(httpUrl: string): Promise<Json[]> {
  const receipts: Json[] = [];
  for (const page of [pageNow() - 1, pageNow()]) {
    const { status, body } = await text(`${httpUrl}/receipts/${page}.jsonl`);
    if (status === 200 && body.length > 0) receipts.push(...body.trim().split('\n').map((line) => JSON.parse(line) as Json));
  }
  return receipts;
}

describe('horde miner with process executors', () => {
  const hordeId = `it-miner-${process.pid}`;
  let files: { dir: string; path: string };
  let miner: MinerProcess;

  beforeAll(async () => {
    files = metagraphFile([{ hotkey: validator.ss58 }, { hotkey: inactive.ss58, active: false }]);
    miner = await startMinerProcess({
      devKey: 'miner',
      metagraphPath: files.path,
      dataDir: join(files.dir, 'data'),
      hordeId,
      args: ['--manifest', '{"always_on.test": 1}'],
    });
  });

  afterEach(async () => {
    await nothingLeft(docker, hordeId, 15_000, miner.httpUrl);
  });

  afterAll(async () => {
    expect(await miner.stop('SIGTERM')).toBe(0);
    await nothingLeft(docker, hordeId);
    removeDir(files.dir);
  });

  it('refuses an unknown validator with GenericError and closes the connection', async () => {
    const v = await connect(miner, stranger);
    expect(await v.next()).toEqual({ message_type: 'GenericError', details: `Unknown validator: ${stranger.ss58}` });
    expect((await v.closed).code).toBe(1000);
  });

  it('refuses an inactive validator the same way', async () => {
    const v = await connect(miner, inactive);
    expect(await v.next()).toEqual({ message_type: 'GenericError', details: `Inactive validator: ${inactive.ss58}` });
    expect((await v.closed).code).toBe(1000);
  });

  it('refuses an authentication older than 10 seconds, and sends nothing before it', async () => {
    const v = await connect(miner);
    v.send({ message_type: 'V0MainHotkeyMessage', main_hotkey: null });
    v.sendAuth(11);
    const refusal = await v.next();
    expect(refusal['message_type']).toBe('GenericError');
    expect(refusal['details']).toMatch(/not authenticated due to: msg too old/);
    expect((await v.closed).code).toBe(1000);
    expect(v.received).toHaveLength(1);
  });

  it('answers malformed frames with GenericError and keeps the connection up; queued messages are replayed after auth', async () => {
    const v = await connect(miner);
    v.send({ message_type: 'V0MainHotkeyMessage', main_hotkey: null });
    v.send('{ this is not json');
    const malformed = await v.next();
    expect(malformed['message_type']).toBe('GenericError');
    expect(malformed['details']).toMatch(/^Malformed message: /);
    v.send({ message_type: 'NoSuchMessage' });
    expect((await v.next())['details']).toMatch(/^Malformed message: .*unknown message/);
    v.sendAuth();
    expect(await v.next()).toEqual({ message_type: 'V0ExecutorManifestRequest', manifest: { 'always_on.test': 1 } });
    expect(await v.next()).toEqual({ message_type: 'V0MainHotkeyMessage', main_hotkey: minerKey.ss58 });
  });

  it('runs a job end to end to V0JobFinishedRequest and serves its three receipts over HTTP with Range', async () => {
    const v = await authenticated(miner);
    const { jobUuid } = v.sendInitialJob();
    expect(await v.next()).toEqual({ message_type: 'V0AcceptJobRequest', job_uuid: jobUuid });
    v.sendAcceptedReceipt(jobUuid);
    expect(await v.nextOfType('V0ExecutorReadyRequest', { timeoutMs: 15_000 })).toEqual({
      message_type: 'V0ExecutorReadyRequest',
      job_uuid: jobUuid,
      executor_token: null,
    });
    v.sendJobRequest(jobUuid, ['sh', '-c', 'echo hello from the job']);
    const finished = await v.nextOfType('V0JobFinishedRequest', { timeoutMs: 30_000 });
    expect(finished).toMatchObject({ job_uuid: jobUuid, docker_process_stdout: 'hello from the job\n' });
    const types = v.received.map((m) => m['message_type']);
    expect(types).toEqual(
      expect.arrayContaining(['V0VolumesReadyRequest', 'V0ExecutionDoneRequest', 'V0MachineSpecsRequest', 'V0JobFinishedRequest']),
    );
    v.sendFinishedReceipt(jobUuid);

    let lines: Json[] = [];
    await eventually(async () => {
      lines = await recentReceipts(miner.httpUrl);
      return lines.filter((r) => (r['payload'] as Json)['job_uuid'] === jobUuid).length === 3;
    });
    // The job may straddle a 5-minute page boundary: check Range on whichever recent page holds two lines or more.
    let page = `${miner.httpUrl}/receipts/${pageNow()}.jsonl`;
    for (const candidate of [pageNow(), pageNow() - 1]) {
      const url = `${miner.httpUrl}/receipts/${candidate}.jsonl`;
      if ((await text(url)).body.trim().split('\n').length >= 2) {
        page = url;
        break;
      }
    }
    const mine = lines.filter((r) => (r['payload'] as Json)['job_uuid'] === jobUuid);
    expect(mine.map((r) => (r['payload'] as Json)['receipt_type'])).toEqual([
      'JobStartedReceipt',
      'JobAcceptedReceipt',
      'JobFinishedReceipt',
    ]);
    for (const receipt of mine) expect(verifyReceipt(receipt).ok).toBe(true);

    const whole = await text(page);
    const first = whole.body.indexOf('\n') + 1;
    const size = Buffer.byteLength(whole.body);
    const rest = await text(page, { Range: `bytes=${first}-` });
    expect(rest.status).toBe(206);
    expect(rest.headers.get('content-range')).toBe(`bytes ${first}-${size - 1}/${size}`);
    expect(rest.body).toBe(whole.body.slice(first));
    const none = await text(page, { Range: `bytes=${size}-` });
    expect(none.status).toBe(416);
    expect(none.headers.get('content-range')).toBe(`bytes */${size}`);
    expect((await text(`${miner.httpUrl}/receipts/../index.sqlite`)).status).toBe(404);
  });

  it('declines busy with the running job as excuse when the pool is full; a SIGKILLed executor fails its job within 2 s', async () => {
    const v = await authenticated(miner);
    const running = v.sendInitialJob();
    expect(await v.next()).toEqual({ message_type: 'V0AcceptJobRequest', job_uuid: running.jobUuid });
    await v.nextOfType('V0ExecutorReadyRequest', { timeoutMs: 15_000 });
    v.sendJobRequest(running.jobUuid, ['sleep', '60']);
    await v.nextOfType('V0VolumesReadyRequest', { jobUuid: running.jobUuid });

    const other = await authenticated(miner);
    const declined = other.sendInitialJob();
    const decline = await other.nextOfType('V0DeclineJobRequest');
    expect(decline).toMatchObject({ job_uuid: declined.jobUuid, reason: 'busy' });
    // Every JobStarted receipt of the class still valid at the request time excuses (upstream's rule): the running
    // job's, and those of earlier jobs whose receipt ttl has not run out.
    const receipts = decline['receipts'] as Json[];
    expect(receipts.map((r) => (r['payload'] as Json)['job_uuid'])).toContain(running.jobUuid);
    expect(receipts.map((r) => (r['payload'] as Json)['job_uuid'])).not.toContain(declined.jobUuid);
    for (const receipt of receipts) expect(verifyReceipt(receipt).ok).toBe(true);

    await eventually(async () => (await hordeContainers(docker, hordeId)).some((c) => c.State === 'running'), 15_000, 'job container running');
    const pid = executorPidOf(running.jobUuid);
    expect(pid).toBeDefined();
    const killedAt = Date.now();
    process.kill(pid!, 'SIGKILL');
    const failure = await v.nextOfType('V0HordeFailedRequest', { jobUuid: running.jobUuid, timeoutMs: 5_000 });
    expect(Date.now() - killedAt).toBeLessThan(2_000);
    expect(failure).toMatchObject({ reported_by: 'miner', reason: 'executor_disconnected' });
    // The orphaned job container is removed by the miner's sweep (label horde.token).
  });

  it('gives a validator that reconnects mid-job its job back (ready re-sent) and runs it to the end', async () => {
    const first = await authenticated(miner);
    const { jobUuid } = first.sendInitialJob();
    expect(await first.next()).toEqual({ message_type: 'V0AcceptJobRequest', job_uuid: jobUuid });
    await first.nextOfType('V0ExecutorReadyRequest', { timeoutMs: 15_000 });
    first.terminate();
    await first.closed;

    const second = await connect(miner);
    second.sendAuth();
    await second.nextOfType('V0ExecutorManifestRequest');
    expect(await second.next()).toEqual({ message_type: 'V0ExecutorReadyRequest', job_uuid: jobUuid, executor_token: null });
    second.sendJobRequest(jobUuid, ['echo', 'back again']);
    expect(await second.nextOfType('V0JobFinishedRequest', { timeoutMs: 30_000 })).toMatchObject({
      job_uuid: jobUuid,
      docker_process_stdout: 'back again\n',
    });
  });

  it('serves /version, /healthz and /metrics with the miner instruments', async () => {
    const version = JSON.parse((await text(`${miner.httpUrl}/version`)).body) as Json;
    expect(typeof version['miner_version']).toBe('string');
    expect((await text(`${miner.httpUrl}/healthz`)).status).toBe(200);
    expect((await text(`${miner.httpUrl}/readyz`)).status).toBe(200);
    const metrics = (await text(`${miner.httpUrl}/metrics`)).body;
    for (const name of [
      'horde_miner_validator_sessions_total',
      'horde_miner_reservations_total',
      'horde_miner_reservation_latency_ms',
      'horde_miner_pool_slots',
      'horde_miner_executor_exits_total',
      'horde_miner_executor_lifetime_ms',
      'horde_miner_receipts_stored_total',
    ]) {
      expect(metrics).toContain(name);
    }
    expect(metrics).toMatch(/horde_miner_pool_slots\{[^}]*state="capacity"[^}]*\} 1/);
    expect(executorPids(hordeId)).toEqual([]);
  });
});

describe('horde miner pool TTL', () => {
  const hordeId = `it-miner-ttl-${process.pid}`;
  let files: { dir: string; path: string };
  let miner: MinerProcess;

  beforeAll(async () => {
    files = metagraphFile([{ hotkey: validator.ss58 }]);
    miner = await startMinerProcess({
      devKey: 'miner',
      metagraphPath: files.path,
      dataDir: join(files.dir, 'data'),
      hordeId,
      args: ['--manifest', '{"always_on.test": 1}', '--executor-ttl-ms', '6s', '--stop-grace-ms', '2s'],
    });
  });

  afterAll(async () => {
    expect(await miner.stop('SIGTERM')).toBe(0);
    await nothingLeft(docker, hordeId);
    removeDir(files.dir);
  });

  it('kills an executor that outlives its TTL, fails its job and frees the slot', async () => {
    const v = await authenticated(miner);
    const { jobUuid } = v.sendInitialJob({
      timing: { allowed_leeway: 5, download_time_limit: 10, execution_time_limit: 120, upload_time_limit: 10, streaming_start_time_limit: 5 },
    });
    await v.nextOfType('V0AcceptJobRequest');
    await v.nextOfType('V0ExecutorReadyRequest', { timeoutMs: 15_000 });
    v.sendJobRequest(jobUuid, ['sleep', '120']);
    const failure = await v.nextOfType('V0HordeFailedRequest', { jobUuid, timeoutMs: 20_000 });
    expect(failure['job_uuid']).toBe(jobUuid);
    await nothingLeft(docker, hordeId, 15_000, miner.httpUrl);
    const next = v.sendInitialJob();
    expect(await v.nextOfType('V0AcceptJobRequest')).toEqual({ message_type: 'V0AcceptJobRequest', job_uuid: next.jobUuid });
    await v.nextOfType('V0ExecutorReadyRequest', { timeoutMs: 15_000 });
    v.sendJobRequest(next.jobUuid, ['true']);
    await v.nextOfType('V0JobFinishedRequest', { timeoutMs: 30_000 });
    await nothingLeft(docker, hordeId, 15_000, miner.httpUrl);
    expect(miner.logs.some((line) => line.includes('"end":"killed_ttl"'))).toBe(true);
  });
});

describe('horde miner SIGTERM drain', () => {
  const hordeId = `it-miner-drain-${process.pid}`;
  let files: { dir: string; path: string };

  beforeAll(() => {
    files = metagraphFile([{ hotkey: validator.ss58 }]);
  });
  afterAll(() => removeDir(files.dir));

  it('stops taking jobs, lets a short job finish, kills a long one after the grace, and leaves nothing behind', async () => {
    const miner = await startMinerProcess({
      devKey: 'miner',
      metagraphPath: files.path,
      dataDir: join(files.dir, 'data'),
      hordeId,
      args: ['--manifest', '{"always_on.test": 2}', '--drain-grace-ms', '6s', '--stop-grace-ms', '2s'],
    });
    const v = await authenticated(miner);
    const short = v.sendInitialJob();
    const long = v.sendInitialJob();
    await v.nextOfType('V0AcceptJobRequest', { jobUuid: short.jobUuid });
    await v.nextOfType('V0AcceptJobRequest', { jobUuid: long.jobUuid });
    await v.nextOfType('V0ExecutorReadyRequest', { jobUuid: short.jobUuid, timeoutMs: 15_000 });
    await eventually(() => v.allOfType('V0ExecutorReadyRequest').length === 2, 15_000, 'both executors ready');
    v.sendJobRequest(short.jobUuid, ['sleep', '2']);
    v.sendJobRequest(long.jobUuid, ['sleep', '120']);
    await eventually(() => v.allOfType('V0VolumesReadyRequest').length === 2, 15_000, 'both jobs running');

    const signalledAt = Date.now();
    void miner.stop('SIGTERM');
    const refused = v.sendInitialJob();
    expect(await v.nextOfType('V0DeclineJobRequest', { jobUuid: refused.jobUuid })).toMatchObject({ reason: 'busy' });
    expect(await v.nextOfType('V0JobFinishedRequest', { jobUuid: short.jobUuid, timeoutMs: 15_000 })).toBeDefined();
    const failure = await v.nextOfType('V0HordeFailedRequest', { jobUuid: long.jobUuid, timeoutMs: 20_000 });
    expect(failure['job_uuid']).toBe(long.jobUuid);
    expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(5_000);
    expect(await miner.exited).toBe(0);
    await nothingLeft(docker, hordeId, 5_000);

    // The receipts survive the restart.
    const again = await startMinerProcess({ devKey: 'miner', metagraphPath: files.path, dataDir: join(files.dir, 'data'), hordeId });
    const jobs = (await recentReceipts(again.httpUrl)).map((r) => (r['payload'] as Json)['job_uuid']);
    expect(jobs).toEqual(expect.arrayContaining([short.jobUuid, long.jobUuid]));
    expect(await again.stop('SIGINT')).toBe(0);
  });
});
