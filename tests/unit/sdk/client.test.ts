import type { ServerResponse } from 'node:http';
import { devHotkey, initCrypto, type Hotkey } from '../../../src/crypto';
import {
  AuthFailedError,
  HordeClient,
  HttpError,
  JobFailedError,
  JobHordeFailedError,
  JobTimeoutError,
  NetworkError,
  NotFoundError,
  jobResult,
  type StatusHistoryEntry,
} from '../../../src/sdk';
import { seededRandom } from '../../../src/util/clock';
import { entry, instantTimers, jobJson, json, startFakeFacilitator, type FakeFacilitator } from '../../support/sdkFakeFacilitator';

const UUID = '7b0c4d2e-1111-4c3a-9a51-000000000001';
const HAPPY: StatusHistoryEntry[] = [
  entry('sent', 0),
  entry('received', 1),
  entry('accepted', 2),
  entry('executor_ready', 3),
  entry('volumes_ready', 4),
  entry('execution_done', 5),
  entry('completed', 6, {
    miner_response: { docker_process_stdout: 'hello\n', docker_process_stderr: '', artifacts: { '/artifacts/a.txt': Buffer.from('art').toString('base64') }, upload_results: {} },
  } as never),
];

let user: Hotkey;
let server: FakeFacilitator;
const delays: number[] = [];

beforeAll(async () => {
  await initCrypto();
  user = devHotkey('horde-dev-user');
});

beforeEach(async () => {
  delays.length = 0;
  server = await startFakeFacilitator();
});

afterEach(async () => {
  await server.close();
});

function client(extra: Partial<ConstructorParameters<typeof HordeClient>[0]> = {}): HordeClient {
  return new HordeClient({ url: server.url, hotkey: user, random: seededRandom(7), timers: instantTimers(delays), pollIntervalMs: 3_000, ...extra });
}

const SPEC = { executorClass: 'always_on.test', image: 'horde-testjob:local', command: ['echo', 'hello'] } as const;

function serveJob(history: () => StatusHistoryEntry[], uuid = UUID): void {
  server.route((req, res) => {
    if (req.method === 'POST' && req.path === '/api/v1/job-docker/') return json(res, 201, jobJson(uuid, [entry('sent', 0)]));
    if (req.method === 'GET' && req.path === `/api/v1/jobs/${uuid}/`) return json(res, 200, jobJson(uuid, history()));
    return false;
  });
}

function sse(res: ServerResponse, entries: StatusHistoryEntry[], end = true): true {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const e of entries) res.write(`event: status\ndata: ${JSON.stringify(e)}\n\n`);
  if (end) res.end();
  return true;
}

describe('HordeClient', () => {
  it('logs in with a signed nonce and sends a signed job body with the bearer token', async () => {
    serveJob(() => HAPPY);
    const job = await client().createJob(SPEC);
    expect(job.uuid).toBe(UUID);
    const login = server.requests.find((r) => r.path === '/auth/login')!;
    expect(JSON.parse(login.body)).toMatchObject({ hotkey: user.ss58, nonce: 'nonce-1' });
    const create = server.requests.find((r) => r.path === '/api/v1/job-docker/')!;
    expect(create.headers['authorization']).toBe('Bearer token-1');
    expect(create.headers['realm']).toBe('mainnet');
    expect(create.headers['x-ch-signatory']).toBe(user.ss58);
    expect(create.signatureValid).toBe(true);
    expect(JSON.parse(create.body)).toMatchObject({ docker_image: 'horde-testjob:local', args: ['echo', 'hello'], executor_class: 'always_on.test' });
  });

  it('shares one login between concurrent requests', async () => {
    serveJob(() => HAPPY);
    const c = client();
    await Promise.all([c.getJob(UUID), c.getJob(UUID), c.getJob(UUID)]);
    expect(server.tokens).toHaveLength(1);
  });

  it('retries 503 answers with full-jitter waits between 0.2 and 5 s, then succeeds', async () => {
    let failures = 2;
    server.route((req, res) => (req.path.startsWith('/api/v1/jobs/') && failures-- > 0 ? json(res, 503, { detail: 'busy' }) : false));
    serveJob(() => HAPPY);
    const job = await client().getJob(UUID);
    expect(job.status).toBe('Completed');
    expect(delays).toHaveLength(2);
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(200);
      expect(d).toBeLessThanOrEqual(5_000);
    }
  });

  it('gives up after 5 attempts on a persistent 500 with an HttpError carrying the status', async () => {
    server.route((req, res) => (req.path.startsWith('/api/v1/jobs/') ? json(res, 500, { detail: 'boom' }) : false));
    await expect(client().getJob(UUID)).rejects.toMatchObject({ constructor: HttpError, status: 500, code: 'sdk.http_error' });
    expect(server.requests.filter((r) => r.path.startsWith('/api/v1/jobs/'))).toHaveLength(5);
  });

  it('retries 429 but not 400, and keeps the field errors of a 400', async () => {
    let limited = 1;
    server.route((req, res) => {
      if (req.path !== '/api/v1/job-docker/') return false;
      if (limited-- > 0) return json(res, 429, { detail: 'slow down' });
      return json(res, 400, { errors: { docker_image: ['This field may not be blank.'] } });
    });
    const error = (await client().createJob(SPEC).catch((e: unknown) => e)) as HttpError;
    expect(error).toBeInstanceOf(HttpError);
    expect(error.status).toBe(400);
    expect(error.errors).toEqual({ docker_image: ['This field may not be blank.'] });
    expect(server.requests.filter((r) => r.path === '/api/v1/job-docker/')).toHaveLength(2);
  });

  it('throws NotFoundError for an unknown job without retrying', async () => {
    await expect(client().getJob(UUID)).rejects.toBeInstanceOf(NotFoundError);
    expect(server.requests.filter((r) => r.path.startsWith('/api/v1/jobs/'))).toHaveLength(1);
  });

  it('throws NetworkError after 5 attempts when nothing listens', async () => {
    const url = server.url;
    await server.close();
    const c = new HordeClient({ url, hotkey: user, random: seededRandom(1), timers: instantTimers(delays) });
    await expect(c.getJob(UUID)).rejects.toBeInstanceOf(NetworkError);
    expect(delays).toHaveLength(4);
    server = await startFakeFacilitator(); // afterEach closes it
  });

  it('re-authenticates once on "Token expired" and retries the request', async () => {
    let expired = 1;
    server.route((req, res) => (req.path.startsWith('/api/v1/jobs/') && expired-- > 0 ? json(res, 401, { detail: 'Token expired' }) : false));
    serveJob(() => HAPPY);
    await client().getJob(UUID);
    expect(server.tokens).toEqual(['token-1', 'token-2']);
    const gets = server.requests.filter((r) => r.path.startsWith('/api/v1/jobs/'));
    expect(gets.map((r) => r.headers['authorization'])).toEqual(['Bearer token-1', 'Bearer token-2']);
  });

  it('fails with AuthFailedError when the token expires twice in a row (no login loop)', async () => {
    server.route((req, res) => (req.path.startsWith('/api/v1/jobs/') ? json(res, 401, { detail: 'Token expired' }) : false));
    await expect(client().getJob(UUID)).rejects.toBeInstanceOf(AuthFailedError);
    expect(server.tokens).toHaveLength(2);
  });

  it('fails with AuthFailedError when the login is refused', async () => {
    await server.close();
    server = await startFakeFacilitator({ refuseLogin: true });
    const error = (await client().getJob(UUID).catch((e: unknown) => e)) as AuthFailedError;
    expect(error).toBeInstanceOf(AuthFailedError);
    expect(error.message).toContain('Hotkey is not whitelisted');
  });

  it('follows a job through the push stream, each entry once and in order', async () => {
    serveJob(() => HAPPY.slice(0, 2));
    server.route((req, res) => (req.path === `/api/v1/jobs/${UUID}/events/` ? sse(res, HAPPY) : false));
    const seen: string[] = [];
    for await (const e of client().followJob(UUID)) seen.push(e.status);
    expect(seen).toEqual(HAPPY.map((e) => e.status));
    expect(server.requests.filter((r) => r.path === `/api/v1/jobs/${UUID}/`)).toHaveLength(1);
  });

  it('falls back to polling every pollIntervalMs when the push stream is not available', async () => {
    let polls = 0;
    serveJob(() => HAPPY.slice(0, Math.min(HAPPY.length, 1 + 2 * polls++)));
    const seen: string[] = [];
    for await (const e of client().followJob(UUID)) seen.push(e.status);
    expect(seen).toEqual(HAPPY.map((e) => e.status));
    expect(delays.filter((d) => d === 3_000).length).toBeGreaterThanOrEqual(3);
  });

  it('switches to polling when the push stream breaks before the end', async () => {
    let polls = 0;
    serveJob(() => (polls++ === 0 ? HAPPY.slice(0, 1) : HAPPY));
    server.route((req, res) => (req.path === `/api/v1/jobs/${UUID}/events/` ? sse(res, HAPPY.slice(0, 3)) : false));
    const seen: string[] = [];
    for await (const e of client().followJob(UUID)) seen.push(e.status);
    expect(seen).toEqual(HAPPY.map((e) => e.status));
  });

  it('waitForCompletion returns the completed job with its decoded result', async () => {
    serveJob(() => HAPPY);
    const statuses: string[] = [];
    const job = await client().waitForCompletion(UUID, { onStatus: (e) => statuses.push(e.status), pollOnly: true });
    expect(statuses).toEqual(HAPPY.map((e) => e.status));
    const result = jobResult(job);
    expect(result.stdout).toBe('hello\n');
    expect(result.artifacts['/artifacts/a.txt']?.toString()).toBe('art');
  });

  it('waitForCompletion throws JobFailedError with the failure details', async () => {
    const details = { reason: 'nonzero_return_code', stage: 'execution', message: 'exit 3', context: null, docker_process_exit_status: 3, docker_process_stdout: null, docker_process_stderr: null };
    serveJob(() => [entry('sent', 0), entry('failed', 1, { job_failure_details: details } as never)]);
    const error = (await client().waitForCompletion(UUID, { pollOnly: true }).catch((e: unknown) => e)) as JobFailedError;
    expect(error).toBeInstanceOf(JobFailedError);
    expect(error.code).toBe('sdk.job_failed');
    expect(error.details).toMatchObject({ job_failure_details: { reason: 'nonzero_return_code' } });
    expect(error.message).toContain('nonzero_return_code');
    expect(error.message).toContain('exit 3');
  });

  it('waitForCompletion gives up with JobTimeoutError naming the last status', async () => {
    serveJob(() => HAPPY.slice(0, 2));
    const c = new HordeClient({ url: server.url, hotkey: user, pollIntervalMs: 20 });
    const error = (await c.waitForCompletion(UUID, { timeoutMs: 150, pollOnly: true }).catch((e: unknown) => e)) as JobTimeoutError;
    expect(error).toBeInstanceOf(JobTimeoutError);
    expect(error.lastStatus).toBe('received');
  });

  it('runUntilComplete creates a new job after a horde failure and returns the completed one', async () => {
    const uuids = ['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002'];
    let created = 0;
    server.route((req, res) => {
      if (req.path === '/api/v1/job-docker/') return json(res, 201, jobJson(uuids[created++]!, [entry('sent', 0)]));
      if (req.path === `/api/v1/jobs/${uuids[0]}/`) return json(res, 200, jobJson(uuids[0]!, [entry('sent', 0), entry('horde_failed', 1)]));
      if (req.path === `/api/v1/jobs/${uuids[1]}/`) return json(res, 200, jobJson(uuids[1]!, HAPPY));
      return false;
    });
    const attempts: string[] = [];
    const job = await client().runUntilComplete(SPEC, { onAttempt: (j) => attempts.push(j.uuid) });
    expect(job.uuid).toBe(uuids[1]);
    expect(attempts).toEqual(uuids);
  });

  it('runUntilComplete stops after 3 attempts and throws the last failure', async () => {
    let created = 0;
    server.route((req, res) => {
      if (req.path === '/api/v1/job-docker/') return json(res, 201, jobJson(`00000000-0000-4000-8000-00000000000${++created}`, [entry('sent', 0)]));
      if (req.path.startsWith('/api/v1/jobs/')) {
        const uuid = req.path.split('/')[4]!;
        return json(res, 200, jobJson(uuid, [entry('sent', 0), entry('horde_failed', 1)]));
      }
      return false;
    });
    await expect(client().runUntilComplete(SPEC)).rejects.toBeInstanceOf(JobHordeFailedError);
    expect(created).toBe(3);
  });

  it('lists jobs with the filter as query parameters', async () => {
    server.route((req, res) =>
      req.path === '/api/v1/jobs/' ? json(res, 200, { count: 1, next: null, previous: null, results: [jobJson(UUID, HAPPY)] }) : false,
    );
    const page = await client().listJobs({ tag: 'bench', page: 2, pageSize: 5 });
    expect(page.results[0]?.uuid).toBe(UUID);
    const list = server.requests.find((r) => r.path === '/api/v1/jobs/')!;
    expect(Object.fromEntries(list.query)).toEqual({ tag: 'bench', page: '2', page_size: '5' });
  });

  it('reports a cheated job with a FullRequest signature', async () => {
    server.route((req, res) => (req.path === '/api/v1/cheated-job/' ? json(res, 201, { message: 'Job reported as cheated' }) : false));
    const answer = await client().reportCheated(UUID, '00000000-0000-4000-8000-00000000000f');
    expect(answer.message).toBe('Job reported as cheated');
    const report = server.requests.find((r) => r.path === '/api/v1/cheated-job/')!;
    expect(report.headers['x-ch-signature-scope']).toBe('FullRequest');
    expect(report.signatureValid).toBe(true);
  });
});
