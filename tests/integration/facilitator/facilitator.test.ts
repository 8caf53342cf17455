/**
 * A real `horde facilitator` process, a `ws` client playing the validator and `fetch` playing the SDK.
 */
import { request as httpRequest } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildAuthenticationRequest,
  devHotkey,
  initCrypto,
  signatureToHeaders,
  signJobBody,
  verifyV2JobRequestSignature,
  type Hotkey,
} from '../../../src/crypto';
import { facilitatorToValidatorCodec } from '../../../src/protocol';
import { JobJson } from '../../../src/sdk/facilitatorApi';
import { systemClock } from '../../../src/util/clock';
import { metagraphFile, removeDir } from '../miner/minerProcess';
import { FakeValidator, RestUser, startFacilitatorProcess, statusUpdate, type FacilitatorProcess } from './facilitatorProcess';

jest.setTimeout(60_000);

let validator: Hotkey;
let otherValidator: Hotkey;
let inactiveValidator: Hotkey;
let user: Hotkey;
let otherUser: Hotkey;
let meta: { dir: string; path: string };
let dataDir: string;
let facilitator: FacilitatorProcess;
let sdk: RestUser;
const sockets: FakeValidator[] = [];

const job = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  executor_class: 'always_on.test',
  docker_image: 'alpine:3.20',
  args: ['sh', '-c', 'echo hi'],
  env: { A: '1' },
  download_time_limit: 5,
  execution_time_limit: 10,
  upload_time_limit: 5,
  streaming_start_time_limit: 5,
  volumes: [{ volume_type: 'inline', contents: 'UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==', relative_path: 'in' }],
  tag: 'it',
  ...extra,
});

async function connect(hotkey: Hotkey): Promise<FakeValidator> {
  const v = await FakeValidator.authenticated(facilitator.wsUrl, hotkey);
  sockets.push(v);
  return v;
}

beforeAll(async () => {
  await initCrypto();
  validator = devHotkey('facilitator-it-validator');
  otherValidator = devHotkey('facilitator-it-validator-2');
  inactiveValidator = devHotkey('facilitator-it-inactive');
  user = devHotkey('facilitator-it-user');
  otherUser = devHotkey('facilitator-it-other-user');
  meta = metagraphFile([
    { hotkey: validator.ss58 },
    { hotkey: otherValidator.ss58 },
    { hotkey: inactiveValidator.ss58, active: false },
  ]);
  dataDir = mkdtempSync(join(tmpdir(), 'horde-fac-it-'));
  facilitator = await startFacilitatorProcess({ dataDir, metagraphPath: meta.path, whitelist: [user.ss58, otherUser.ss58] });
  sdk = await RestUser.login(facilitator.httpUrl, user);
});

afterEach(async () => {
  for (const s of sockets.splice(0)) await s.close();
});

afterAll(async () => {
  await facilitator?.stop();
  removeDir(dataDir);
  removeDir(meta.dir);
});

describe('validator authentication on /ws/v0/', () => {
  it('closes with 3000 on a bad signature', async () => {
    const v = await FakeValidator.connect(facilitator.wsUrl);
    const auth = buildAuthenticationRequest(validator);
    v.send({ ...auth, signature: buildAuthenticationRequest(otherValidator).signature });
    const answer = await v.next((f) => 'status' in f);
    expect(answer).toMatchObject({ status: 'error', errors: [{ type: 'auth.signature_invalid' }] });
    expect((await v.whenClosed()).code).toBe(3000);
  });

  it.each([
    ['unknown', () => devHotkey('facilitator-it-stranger')],
    ['inactive', () => inactiveValidator],
  ])('closes with 3001 for an %s validator', async (_what, key) => {
    const v = await FakeValidator.connect(facilitator.wsUrl);
    v.send(buildAuthenticationRequest(key()));
    expect(await v.next((f) => 'status' in f)).toMatchObject({ status: 'error', errors: [{ type: 'auth.validator_not_found' }] });
    expect((await v.whenClosed()).code).toBe(3001);
  });

  it('answers messages before auth, a second auth and malformed frames with Response errors', async () => {
    const v = await FakeValidator.connect(facilitator.wsUrl);
    sockets.push(v);
    expect(await v.request({ message_type: 'V0Heartbeat' })).toMatchObject({ status: 'error', errors: [{ type: 'auth.not_authenticated' }] });
    expect(await v.request(buildAuthenticationRequest(validator))).toEqual({ status: 'success', errors: [] });
    expect(await v.request(buildAuthenticationRequest(validator))).toMatchObject({ errors: [{ type: 'auth.already_authenticated' }] });
    const malformed = await v.request({ message_type: 'V0JobStatusUpdate', uuid: 'x', status: 'received', metadata: null, extra: 1 });
    expect(malformed).toMatchObject({ status: 'error', errors: [{ loc: ['extra'] }] });
    expect(await v.request(statusUpdate('no-such-job', 'received'))).toMatchObject({ errors: [{ type: 'job.not_found' }] });
  });
});

describe('jobs', () => {
  it('sends a job created over REST to every connection of its validator, stores statuses and streams them', async () => {
    const [a, b] = [await connect(validator), await connect(validator)];
    const created = await sdk.createJob(job({ target_validator_hotkey: validator.ss58 }));
    expect(created.status).toBe(201);
    expect(JobJson.validate(created.body).ok).toBe(true);
    expect(created.body).toMatchObject({ status: 'Sent', target_validator_hotkey: validator.ss58, tag: 'it' });
    const uuid = created.body['uuid'] as string;

    for (const v of [a, b]) {
      const frame = await v.next((f) => f['message_type'] === 'V2JobRequest' && f['uuid'] === uuid);
      expect(frame).toMatchObject({ type: 'job.new', volume: { volume_type: 'multi_volume' }, docker_image: 'alpine:3.20' });
      const decoded = facilitatorToValidatorCodec.decode(JSON.stringify(frame));
      expect(decoded.ok).toBe(true);
      // The validator's own check of the SDK signature passes on what the facilitator forwarded.
      if (decoded.ok) expect(verifyV2JobRequestSignature(decoded.value as never).ok).toBe(true);
    }

    // Follow the job over SSE while the validator reports.
    const events = fetch(`${facilitator.httpUrl}/api/v1/jobs/${uuid}/events/`, { headers: sdk.auth }).then((res) => res.text());
    const completed = {
      miner_response: { docker_process_stdout: 'hi\n', docker_process_stderr: '', artifacts: {}, upload_results: {} },
      job_rejection_details: null,
      job_failure_details: null,
      horde_failure_details: null,
      streaming_details: null,
    };
    for (const status of ['received', 'accepted', 'executor_ready', 'volumes_ready', 'execution_done']) {
      expect(await a.request(statusUpdate(uuid, status))).toEqual({ status: 'success', errors: [] });
    }
    expect(await b.request(statusUpdate(uuid, 'received'))).toMatchObject({ status: 'error', errors: [{ type: 'job.integrity_error' }] });
    expect(await a.request(statusUpdate(uuid, 'completed', completed))).toEqual({ status: 'success', errors: [] });

    const stream = await events;
    const statuses = [...stream.matchAll(/^data: (.*)$/gm)].map((m) => (JSON.parse(m[1]!) as { status: string }).status);
    expect(statuses).toEqual(['sent', 'received', 'accepted', 'executor_ready', 'volumes_ready', 'execution_done', 'completed']);
    expect(stream).toContain('event: status');

    const got = await sdk.get(`/api/v1/jobs/${uuid}/`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ status: 'Completed', stdout: 'hi\n' });
    expect((got.body['status_history'] as Array<{ status: string }>).map((h) => h.status)).toEqual(statuses);

    const page = await sdk.get(`/api/v1/jobs/?tag=it&uuid=${uuid}`);
    expect(page.body).toMatchObject({ count: 1, next: null, previous: null });
  });

  it('picks a fresh validator when no target is named, least recently used first', async () => {
    await connect(validator);
    const fresh = await connect(otherValidator);
    const created = await sdk.createJob(job());
    expect(created.status).toBe(201);
    // validator already had jobs in this file; otherValidator never did.
    expect(created.body['target_validator_hotkey']).toBe(otherValidator.ss58);
    await fresh.next((f) => f['uuid'] === created.body['uuid']);
  });

  it('redelivers a job that was never received to the next connection of its validator', async () => {
    const first = await connect(validator);
    const created = await sdk.createJob(job({ target_validator_hotkey: validator.ss58 }));
    const uuid = created.body['uuid'] as string;
    await first.next((f) => f['uuid'] === uuid);
    await first.close();
    const second = await FakeValidator.connect(facilitator.wsUrl);
    sockets.push(second);
    second.send(buildAuthenticationRequest(validator));
    // Response success first, then the redelivered job.
    await second.next((f) => f['status'] === 'success');
    expect(await second.next((f) => f['uuid'] === uuid)).toMatchObject({ type: 'job.new' });
    expect(await second.request(statusUpdate(uuid, 'received'))).toEqual({ status: 'success', errors: [] });
    await second.close();
    const third = await connect(validator);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(third.frames.some((f) => f['uuid'] === uuid)).toBe(false);
  });
});

describe('REST errors', () => {
  it('answers 401 without a token and with a bad one', async () => {
    expect((await fetch(`${facilitator.httpUrl}/api/v1/jobs/`)).status).toBe(401);
    const bad = await fetch(`${facilitator.httpUrl}/api/v1/jobs/`, { headers: { authorization: 'Bearer x.y.z' } });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({ detail: 'Invalid token' });
  });

  it('answers 400 with field errors, a missing signature, an unknown target and bad JSON', async () => {
    await connect(validator);
    const invalid = await sdk.createJob({ ...job(), docker_image: 42 }, { sign: false });
    expect(invalid).toEqual({ status: 400, body: { errors: { docker_image: ['expected a string, got the integer 42'] } } });
    const unsigned = await sdk.createJob(job(), { sign: false });
    expect(unsigned).toEqual({ status: 400, body: { detail: 'Signature not found in headers' } });
    const tampered = await fetch(`${facilitator.httpUrl}/api/v1/job-docker/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...sdk.auth, ...signedHeaders(job()) },
      body: JSON.stringify(job({ docker_image: 'evil' })),
    });
    expect(tampered.status).toBe(400);
    const stale = await sdk.createJob(job({ target_validator_hotkey: devHotkey('facilitator-it-stranger').ss58 }));
    expect(stale).toEqual({ status: 400, body: { detail: 'Could not select Validator' } });
    const badJson = await fetch(`${facilitator.httpUrl}/api/v1/job-docker/`, { method: 'POST', headers: sdk.auth, body: '{' });
    expect(badJson.status).toBe(400);
  });

  it('answers 404 for an unknown job, an unknown path and another user\'s job', async () => {
    expect((await sdk.get('/api/v1/jobs/00000000-0000-0000-0000-000000000000/')).status).toBe(404);
    expect((await sdk.get('/api/v1/nothing-here/')).status).toBe(404);
    await connect(validator);
    const created = await sdk.createJob(job({ target_validator_hotkey: validator.ss58 }));
    const other = await RestUser.login(facilitator.httpUrl, otherUser);
    expect((await other.get(`/api/v1/jobs/${String(created.body['uuid'])}/`)).status).toBe(404);
    expect((await other.get('/api/v1/jobs/')).body).toMatchObject({ count: 0, results: [] });
  });

  it('answers 413 to a body over the limit without reading it', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${facilitator.httpUrl}/api/v1/job-docker/`, {
        method: 'POST',
        headers: { ...sdk.auth, 'content-type': 'application/json', 'content-length': String(60 * 1024 * 1024) },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write('{"executor_class":');
    });
    expect(status).toBe(413);
  });
});

function signedHeaders(body: Record<string, unknown>): Record<string, string> {
  return signatureToHeaders(signJobBody(user, body, { clock: systemClock }));
}

describe('restart', () => {
  it('keeps jobs, their history and the login secret across a restart', async () => {
    const v = await connect(validator);
    const created = await sdk.createJob(job({ target_validator_hotkey: validator.ss58, tag: 'restart' }));
    const uuid = created.body['uuid'] as string;
    await v.next((f) => f['uuid'] === uuid);
    expect(await v.request(statusUpdate(uuid, 'received'))).toEqual({ status: 'success', errors: [] });
    await facilitator.stop();
    await v.whenClosed();
    sockets.splice(0);
    facilitator = await startFacilitatorProcess({ dataDir, metagraphPath: meta.path, whitelist: [user.ss58, otherUser.ss58] });
    // The old token still works: the secret is kept in the data dir.
    const again = RestUser.withToken(facilitator.httpUrl, user, sdk.token);
    const got = await again.get(`/api/v1/jobs/${uuid}/`);
    expect(got.status).toBe(200);
    expect((got.body['status_history'] as Array<{ status: string }>).map((h) => h.status)).toEqual(['sent', 'received']);
    const reconnected = await FakeValidator.authenticated(facilitator.wsUrl, validator);
    sockets.push(reconnected);
    expect(await reconnected.request(statusUpdate(uuid, 'received'))).toMatchObject({ errors: [{ type: 'job.integrity_error' }] });
  });
});

describe('freshness and eviction', () => {
  it('stops routing to a validator without heartbeats and then evicts it with 3001', async () => {
    const quickDir = mkdtempSync(join(tmpdir(), 'horde-fac-it-quick-'));
    const quick = await startFacilitatorProcess({
      dataDir: quickDir,
      metagraphPath: meta.path,
      whitelist: [user.ss58],
      args: ['--freshness-ms', '400', '--eviction-ms', '1500'],
    });
    try {
      const client = await RestUser.login(quick.httpUrl, user);
      const v = await FakeValidator.authenticated(quick.wsUrl, validator);
      sockets.push(v);
      expect((await client.createJob(job({ target_validator_hotkey: validator.ss58 }))).status).toBe(201);
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(await client.createJob(job())).toEqual({ status: 400, body: { detail: 'Could not select Validator' } });
      // A heartbeat makes it routable again and restarts the eviction window.
      v.send({ message_type: 'V0Heartbeat' });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await client.createJob(job())).status).toBe(201);
      const closed = await v.whenClosed(5_000);
      expect(closed.code).toBe(3001);
    } finally {
      await quick.stop();
      removeDir(quickDir);
    }
  });
});
