/**
 * The facilitator's REST API (upstream's DRF views, spec section 2.5) plus Horde's SSE extension, as one `Route` for
 * the shared HTTP server. Bad input is always a 4xx with a DRF-shaped body; a 500 only means a bug here.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { signatureFromHeaders, verifyRequestBodySignature, type Signature } from '../../crypto';
import type { Route } from '../../http/router';
import { JOB_STATUS_END_STATES } from '../../protocol';
import { parseJson, type JsonValue } from '../../protocol/json';
import {
  CheatedJobBody,
  FACILITATOR_API_PATHS,
  FACILITATOR_ERROR_DETAILS,
  JOB_EVENTS_STATUS_EVENT,
  JobJson,
  JobsPage,
  LoginBody,
  StatusHistoryEntry,
  validateCreateJobBody,
  type FieldErrors,
} from '../../sdk/facilitatorApi';
import type { Logger } from '../../telemetry/logger';
import type { Clock } from '../../util/clock';
import { HordeError } from '../../util/errors';
import type { RestAuth } from './auth';
import {
  JOBS_PAGE_SIZE_DEFAULT,
  JOBS_PAGE_SIZE_MAX,
  REST_MAX_BODY_BYTES,
  SSE_KEEPALIVE_INTERVAL_MS,
  SSE_MAX_STREAMS,
  SSE_STREAM_BUFFER_ENTRIES,
  VALIDATOR_FRESHNESS_MS,
} from './defaults';
import type { JobEvents } from './jobEvents';
import { historyEntryOf, jobJsonOf, jobRequestOf } from './jobJson';
import type { JobStore, StatusRecord, StoredJob } from './jobStore';
import type { FacilitatorMetrics } from './metrics';
import { selectValidator } from './selection';
import type { ValidatorChannels } from './validatorSession';

/** What the REST API needs from the facilitator. */
export interface RestDeps {
  readonly store: JobStore;
  readonly channels: ValidatorChannels;
  readonly events: JobEvents;
  readonly auth: RestAuth;
  readonly metrics: FacilitatorMetrics;
  readonly logger: Logger;
  readonly clock: Clock;
  /** New job uuids (`randomUUID` in production). */
  readonly newUuid: () => string;
  /** @default VALIDATOR_FRESHNESS_MS */
  readonly freshnessMs?: number;
  /** @default REST_MAX_BODY_BYTES */
  readonly maxBodyBytes?: number;
  /** @default SSE_MAX_STREAMS */
  readonly maxStreams?: number;
  /** @default SSE_STREAM_BUFFER_ENTRIES */
  readonly streamBufferEntries?: number;
  /** @default SSE_KEEPALIVE_INTERVAL_MS */
  readonly keepaliveIntervalMs?: number;
}

/** The REST API: its route and a way to end every open event stream (shutdown). */
export interface RestApi {
  readonly route: Route;
  /** Ends every open SSE stream. */
  closeStreams(): void;
  /** Open SSE streams. */
  readonly streamCount: number;
}

/** A request handling failure that maps to an HTTP answer (bad input, never a bug here). */
export class HttpProblem extends HordeError {
  constructor(
    readonly status: number,
    readonly body: { detail: string } | { errors: FieldErrors },
  ) {
    super(`facilitator.http_${status}`, 'detail' in body ? body.detail : JSON.stringify(body.errors));
  }
}

const detail = (status: number, text: string): HttpProblem => new HttpProblem(status, { detail: text });

function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

const sendJson = (res: ServerResponse, status: number, body: unknown): void => sendText(res, status, JSON.stringify(body));

/** Reads a body of at most `maxBytes`; a bigger one is a 413 (announced by Content-Length or found while reading). */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const announced = Number(req.headers['content-length']);
  if (Number.isFinite(announced) && announced > maxBytes) return Promise.reject(detail(413, FACILITATOR_ERROR_DETAILS.bodyTooLarge));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > maxBytes) {
        over = true;
        chunks.length = 0;
        reject(detail(413, FACILITATOR_ERROR_DETAILS.bodyTooLarge));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks));
    });
    req.on('error', (error) => reject(error));
  });
}

async function readJson(req: IncomingMessage, maxBytes: number): Promise<JsonValue> {
  const raw = await readBody(req, maxBytes);
  const parsed = parseJson(raw.toString('utf8'));
  if (!parsed.ok) throw detail(400, `${FACILITATOR_ERROR_DETAILS.invalidJson} - ${parsed.error}`);
  return parsed.value;
}

function headerSignature(req: IncomingMessage, scope: Signature['signature_scope']): Signature {
  let signature: Signature;
  try {
    signature = signatureFromHeaders(req.headers);
  } catch (error) {
    throw detail(400, (error as Error).message);
  }
  if (signature.signature_scope !== scope) throw detail(400, `Signature scope must be ${scope}`);
  return signature;
}

/** Route pattern of a path (metric label), and its uuid when it has one. */
function match(method: string, path: string): { route: string; uuid?: string } | undefined {
  const { nonce, login, createJob, jobs, cheatedJob } = FACILITATOR_API_PATHS;
  if (path === nonce || path === `${nonce}/`) return { route: nonce };
  if (path === login || path === `${login}/`) return { route: login };
  if (path === createJob) return { route: createJob };
  if (path === jobs) return { route: jobs };
  if (path === cheatedJob) return { route: cheatedJob };
  if (path.startsWith(jobs)) {
    const rest = path.slice(jobs.length).split('/');
    if (rest.length === 2 && rest[1] === '' && rest[0] !== '') return { route: `${jobs}{uuid}/`, uuid: decodeURIComponent(rest[0]!) };
    if (rest.length === 3 && rest[1] === 'events' && rest[2] === '' && rest[0] !== '') {
      return { route: `${jobs}{uuid}/events/`, uuid: decodeURIComponent(rest[0]!) };
    }
  }
  void method;
  return undefined;
}

const METHODS: Readonly<Record<string, string>> = {
  [FACILITATOR_API_PATHS.nonce]: 'GET',
  [FACILITATOR_API_PATHS.login]: 'POST',
  [FACILITATOR_API_PATHS.createJob]: 'POST',
  [FACILITATOR_API_PATHS.jobs]: 'GET',
  [FACILITATOR_API_PATHS.cheatedJob]: 'POST',
  [`${FACILITATOR_API_PATHS.jobs}{uuid}/`]: 'GET',
  [`${FACILITATOR_API_PATHS.jobs}{uuid}/events/`]: 'GET',
};

function positiveInt(text: string | null): number | undefined {
  if (text === null || !/^\d{1,9}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 ? n : undefined;
}

/**
 * Builds the REST API of one facilitator.
 *
 * @example
 * ```ts
 * const api = createRestApi({ store, channels, events, auth, metrics, logger, clock: systemClock, newUuid: randomUUID });
 * const router = createRouter().use(api.route);
 * ```
 */
export function createRestApi(deps: RestDeps): RestApi {
  const { store, channels, events, auth, metrics, logger, clock } = deps;
  const freshnessMs = deps.freshnessMs ?? VALIDATOR_FRESHNESS_MS;
  const maxBodyBytes = deps.maxBodyBytes ?? REST_MAX_BODY_BYTES;
  const maxStreams = deps.maxStreams ?? SSE_MAX_STREAMS;
  const streamBufferEntries = deps.streamBufferEntries ?? SSE_STREAM_BUFFER_ENTRIES;
  const keepaliveIntervalMs = deps.keepaliveIntervalMs ?? SSE_KEEPALIVE_INTERVAL_MS;
  const streams = new Set<() => void>();

  const user = (req: IncomingMessage): string => {
    const who = auth.authenticate(req.headers.authorization);
    if (!who.ok) throw detail(401, who.error.detail);
    return who.value;
  };

  const ownJob = (uuid: string, owner: string): StoredJob => {
    const job = store.get(uuid);
    if (job === undefined || job.owner !== owner) throw detail(404, FACILITATOR_ERROR_DETAILS.notFound);
    return job;
  };

  const login = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = LoginBody.validate(await readJson(req, maxBodyBytes));
    if (!body.ok) throw new HttpProblem(400, { errors: { [body.error.path || 'non_field_errors']: [body.error.message] } });
    const token = auth.login(body.value);
    if (!token.ok) throw detail(401, token.error.detail);
    sendJson(res, 200, { token: token.value });
  };

  const createJob = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const startedMs = clock.nowMs();
    const owner = user(req);
    const raw = await readJson(req, maxBodyBytes);
    const body = validateCreateJobBody(raw);
    if (!body.ok) throw new HttpProblem(400, { errors: body.error });
    const signature = headerSignature(req, 'SignedFields');
    const verdict = verifyRequestBodySignature(signature, raw);
    if (!verdict.ok) throw detail(400, verdict.error.message);
    const fresh = channels.fresh(freshnessMs);
    const choice = selectValidator({ target: body.value.target_validator_hotkey, fresh, lastJobMs: store.lastJobTimes(fresh) });
    if (!choice.ok) throw detail(400, FACILITATOR_ERROR_DETAILS.couldNotSelectValidator);
    const job = store.createJob({ uuid: deps.newUuid(), owner, validator: choice.hotkey, body: body.value, signature });
    metrics.jobStatuses.add(1, { status: 'sent' });
    // Persisted (job + sent) before this: a validator's `received` always finds the job.
    const sent = channels.send(choice.hotkey, jobRequestOf(job));
    metrics.jobsDispatched.add(sent, { reason: 'new' });
    metrics.dispatchLatencyMs.record(clock.nowMs() - startedMs);
    logger.info('job created', { job: job.uuid, validator: choice.hotkey, connections: sent });
    sendText(res, 201, JobJson.toJson(jobJsonOf(job)));
  };

  const listJobs = (req: IncomingMessage, res: ServerResponse): void => {
    const owner = user(req);
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    const pageText = url.searchParams.get('page');
    const page = pageText === null ? 1 : positiveInt(pageText);
    if (page === undefined) throw detail(404, 'Invalid page.');
    const pageSize = Math.min(positiveInt(url.searchParams.get('page_size')) ?? JOBS_PAGE_SIZE_DEFAULT, JOBS_PAGE_SIZE_MAX);
    const tag = url.searchParams.get('tag');
    const uuid = url.searchParams.get('uuid');
    const { count, jobs } = store.list({
      owner,
      ...(tag === null ? {} : { tag }),
      ...(uuid === null ? {} : { uuid }),
      offset: (page - 1) * pageSize,
      limit: pageSize,
    });
    const pages = Math.max(1, Math.ceil(count / pageSize));
    if (page > pages) throw detail(404, 'Invalid page.');
    const link = (n: number): string => {
      const next = new URL(url);
      next.searchParams.set('page', String(n));
      return next.toString();
    };
    sendText(
      res,
      200,
      JobsPage.toJson({
        count,
        next: page < pages ? link(page + 1) : null,
        previous: page > 1 ? link(page - 1) : null,
        results: jobs.map(jobJsonOf),
      }),
    );
  };

  const getJob = (req: IncomingMessage, res: ServerResponse, uuid: string): void => {
    const job = ownJob(uuid, user(req));
    sendText(res, 200, JobJson.toJson(jobJsonOf(job)));
  };

  const followJob = (req: IncomingMessage, res: ServerResponse, uuid: string): void => {
    const job = ownJob(uuid, user(req));
    if (streams.size >= maxStreams) {
      metrics.dropped.add(1, { queue: 'sse_streams' });
      throw detail(503, 'Too many event streams; poll the job instead.');
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    let seq = 0;
    let backlog = 0;
    let ended = false;
    const write = (record: StatusRecord): void => {
      seq += 1;
      const data = StatusHistoryEntry.toJson(historyEntryOf(record));
      if (!res.write(`id: ${seq}\nevent: ${JOB_EVENTS_STATUS_EVENT}\ndata: ${data}\n\n`)) backlog += 1;
      if (JOB_STATUS_END_STATES.has(record.status)) end();
      else if (backlog > streamBufferEntries) {
        // A reader this slow resumes by polling; holding its entries would grow without bound.
        metrics.dropped.add(1, { queue: 'sse_buffer' });
        end();
      }
    };
    const onDrain = (): void => {
      backlog = 0;
    };
    const keepalive = setInterval(() => {
      if (!res.write(': keepalive\n\n')) backlog += 1;
    }, keepaliveIntervalMs);
    let unsubscribe: () => void = () => undefined;
    const end = (): void => {
      if (ended) return;
      ended = true;
      clearInterval(keepalive);
      unsubscribe();
      streams.delete(end);
      res.off('drain', onDrain);
      metrics.sseStreams.add(-1);
      res.end();
    };
    streams.add(end);
    metrics.sseStreams.add(1);
    res.on('drain', onDrain);
    res.once('close', end);
    for (const record of job.history) {
      write(record);
      if (ended) return;
    }
    // Synchronous since the history was read: no status can fall between the two.
    unsubscribe = events.subscribe(uuid, write);
  };

  const reportCheated = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const owner = user(req);
    const raw = await readJson(req, maxBodyBytes);
    const body = CheatedJobBody.validate(raw);
    if (!body.ok) throw new HttpProblem(400, { errors: { [body.error.path || 'non_field_errors']: [body.error.message] } });
    const signature = headerSignature(req, 'FullRequest');
    const verdict = verifyRequestBodySignature(signature, raw);
    if (!verdict.ok) throw detail(400, verdict.error.message);
    const job = ownJob(body.value.job_uuid, owner);
    const trusted = ownJob(body.value.trusted_job_uuid, owner);
    if (!trusted.body.on_trusted_miner) throw detail(400, 'The trusted job did not run on a trusted miner.');
    if (job.history[job.history.length - 1]?.status !== 'completed') throw detail(400, 'Only completed jobs can be reported as cheated.');
    const sent = channels.send(job.validator, {
      signature,
      type: 'job.cheated',
      message_type: 'V0JobCheated',
      job_uuid: job.uuid,
      trusted_job_uuid: trusted.uuid,
      details: body.value.details,
    });
    if (sent === 0) throw detail(503, 'The validator of this job is not connected; try again later.');
    logger.info('job reported as cheated', { job: job.uuid, trustedJob: trusted.uuid, validator: job.validator });
    sendJson(res, 201, { message: 'Job reported as cheated' });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, route: string, uuid: string | undefined): Promise<void> => {
    const method = req.method ?? 'GET';
    const allowed = METHODS[route]!;
    if (method !== allowed && !(allowed === 'GET' && method === 'HEAD')) {
      res.setHeader('allow', allowed);
      throw detail(405, `Method "${method}" not allowed.`);
    }
    switch (route) {
      case FACILITATOR_API_PATHS.nonce:
        sendJson(res, 200, { nonce: auth.nonce() });
        return;
      case FACILITATOR_API_PATHS.login:
        return login(req, res);
      case FACILITATOR_API_PATHS.createJob:
        return createJob(req, res);
      case FACILITATOR_API_PATHS.jobs:
        listJobs(req, res);
        return;
      case FACILITATOR_API_PATHS.cheatedJob:
        return reportCheated(req, res);
      case `${FACILITATOR_API_PATHS.jobs}{uuid}/`:
        getJob(req, res, uuid!);
        return;
      default:
        followJob(req, res, uuid!);
    }
  };

  const route: Route = (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (!path.startsWith('/auth/') && !path.startsWith('/api/')) return false;
    const matched = match(req.method ?? 'GET', path);
    const routeLabel = matched?.route ?? 'unmatched';
    res.once('finish', () => metrics.restRequests.add(1, { route: routeLabel, method: req.method ?? 'GET', code: res.statusCode }));
    if (matched === undefined) {
      sendJson(res, 404, { detail: FACILITATOR_ERROR_DETAILS.notFound });
      return true;
    }
    handle(req, res, matched.route, matched.uuid).catch((error: unknown) => {
      if (error instanceof HttpProblem) {
        const closing = error.status === 413;
        sendText(res, error.status, JSON.stringify(error.body), closing ? { connection: 'close' } : {});
        // The rest of an oversize body is not read: drop the connection once the answer is out.
        if (closing) res.once('finish', () => req.socket.destroySoon());
        return;
      }
      logger.error('REST handler failed', { route: routeLabel, error: (error as Error).message });
      sendJson(res, 500, { detail: 'Internal server error' });
    });
    return true;
  };

  return {
    route,
    closeStreams: () => {
      for (const end of [...streams]) end();
    },
    get streamCount() {
      return streams.size;
    },
  };
}
