/**
 * `HordeClient`: the user's side of the facilitator's REST API (upstream `compute_horde_sdk.v1.ComputeHordeClient`).
 * Logs in with a hotkey (nonce + signature → JWT), signs and submits jobs, follows them (Horde's SSE push stream,
 * falling back to upstream's 3 s polling) and reports cheats. Every request is retried on 429/5xx/network errors
 * with full jitter, and a "Token expired" 401 re-authenticates once.
 */
import { initCrypto } from '../crypto/init';
import type { Hotkey } from '../crypto/keys';
import { signatureToHeaders, signFullRequestBody, signJobBody } from '../crypto/signed-fields';
import { buildLoginRequest } from '../crypto/auth';
import { JOB_STATUS_END_STATES, type JobStatus } from '../protocol/enums';
import { systemTimers, type Timers } from '../resilience/retry';
import { systemClock, systemRandom, type Clock, type Random } from '../util/clock';
import {
  SDK_HTTP_MAX_ATTEMPTS,
  SDK_HTTP_REQUEST_TIMEOUT_MS,
  SDK_JOB_POLL_INTERVAL_MS,
  SDK_JOB_RETRY_MAX_DELAY_MS,
  SDK_MAX_JOB_ATTEMPTS,
  SDK_REALM_HEADERS,
} from './defaults';
import {
  AbortedError,
  AuthFailedError,
  HttpError,
  JobTimeoutError,
  JobUnsuccessfulError,
  MalformedResponseError,
  NetworkError,
  NotFoundError,
  jobUnsuccessfulError,
} from './errors';
import {
  CheatedJobResponse,
  FACILITATOR_API_PATHS,
  FACILITATOR_ERROR_DETAILS,
  FieldErrorsBody,
  JOB_EVENTS_STATUS_EVENT,
  JobJson,
  JobsPage,
  NonceResponse,
  StatusHistoryEntry,
  TokenResponse,
  errorMessageOf,
  jobEventsPath,
  jobPath,
  type CreateJobBodyInput,
} from './facilitatorApi';
import { createJobBody, type JobSpec } from './jobSpec';
import { httpRetryDelayMs, shouldRetry, type HttpAttemptOutcome } from './retryPolicy';
import { SseParser } from './sse';
import type { Schema } from '../protocol/schema';

/** The `fetch` the client uses (Node's global one by default). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface HordeClientOptions {
  /** Base URL of the facilitator, e.g. `http://127.0.0.1:9000`. */
  readonly url: string;
  /** The user's hotkey: it logs in and signs every job. It must be whitelisted on the facilitator. */
  readonly hotkey: Hotkey;
  /** Validator every job goes to unless its spec names one; absent: the facilitator picks. */
  readonly targetValidatorHotkey?: string;
  readonly fetch?: FetchLike;
  /** Signature timestamps. */
  readonly clock?: Clock;
  /** Retry jitter. */
  readonly random?: Random;
  /** Waits between retries and polls, and request time-outs. */
  readonly timers?: Timers;
  /** @default SDK_HTTP_MAX_ATTEMPTS */
  readonly httpMaxAttempts?: number;
  /** @default SDK_HTTP_REQUEST_TIMEOUT_MS */
  readonly requestTimeoutMs?: number;
  /** @default SDK_JOB_POLL_INTERVAL_MS */
  readonly pollIntervalMs?: number;
  /** Told about each HTTP retry before its wait (for logs; must not throw). */
  readonly onRetry?: (info: { readonly path: string; readonly attempt: number; readonly delayMs: number; readonly reason: string }) => void;
}

/** Filter and page of {@link HordeClient.listJobs}. */
export interface JobFilter {
  readonly page?: number;
  readonly pageSize?: number;
  readonly tag?: string;
  readonly uuid?: string;
}

export interface FollowOptions {
  readonly signal?: AbortSignal;
  /** Polling period when the push stream is unavailable. @default the client's pollIntervalMs */
  readonly pollIntervalMs?: number;
  /** Skip the push stream and poll (upstream's behaviour). */
  readonly pollOnly?: boolean;
}

export interface WaitOptions extends FollowOptions {
  /** Give up (JobTimeoutError) after this long; the job itself goes on. Unset: wait for ever. */
  readonly timeoutMs?: number;
  /** Told about every new status-history entry, in order. */
  readonly onStatus?: (entry: StatusHistoryEntry, jobUuid: string) => void;
}

export interface RunOptions extends WaitOptions {
  /** @default SDK_MAX_JOB_ATTEMPTS */
  readonly maxAttempts?: number;
  /** Told about each attempt's job right after it was created. */
  readonly onAttempt?: (job: JobJson, attempt: number) => void;
}

/** What a finished job produced, decoded. */
export interface JobResult {
  readonly stdout: string;
  readonly stderr: string;
  /** Path inside the container (`/artifacts/out.txt`) → contents. */
  readonly artifacts: Readonly<Record<string, Buffer>>;
  /** Upload path → the upload's HTTP answer (`{headers, body}`), or the raw text when it is not that JSON. */
  readonly uploadResults: Readonly<Record<string, { headers: Record<string, string>; body: string } | string>>;
}

interface RequestOptions {
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  readonly json?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal | undefined;
  readonly auth: boolean;
}

const TIMED_OUT = Symbol('horde.sdk.timed_out');

/**
 * A client of one facilitator, for one user hotkey. Safe to share between concurrent calls (one login is shared).
 *
 * @example
 * ```ts
 * await initCrypto();
 * const client = new HordeClient({ url: 'http://127.0.0.1:9000', hotkey: devHotkey('horde-dev-user') });
 * const job = await client.runUntilComplete({ executorClass: 'always_on.test', image: 'alpine', command: ['echo', 'hi'] });
 * console.log(jobResult(job).stdout); // "hi\n"
 * ```
 */
export class HordeClient {
  readonly url: string;
  private readonly hotkey: Hotkey;
  private readonly fetchFn: FetchLike;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly timers: Timers;
  private readonly maxAttempts: number;
  private readonly requestTimeoutMs: number;
  private readonly pollIntervalMs: number;
  private readonly targetValidatorHotkey: string | undefined;
  private readonly onRetry: HordeClientOptions['onRetry'];
  private token: string | undefined;
  private login: Promise<string> | undefined;

  constructor(options: HordeClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.hotkey = options.hotkey;
    this.fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? systemRandom;
    this.timers = options.timers ?? systemTimers;
    this.maxAttempts = options.httpMaxAttempts ?? SDK_HTTP_MAX_ATTEMPTS;
    this.requestTimeoutMs = options.requestTimeoutMs ?? SDK_HTTP_REQUEST_TIMEOUT_MS;
    this.pollIntervalMs = options.pollIntervalMs ?? SDK_JOB_POLL_INTERVAL_MS;
    this.targetValidatorHotkey = options.targetValidatorHotkey;
    this.onRetry = options.onRetry;
  }

  /** The user's SS58 address. */
  get hotkeyAddress(): string {
    return this.hotkey.ss58;
  }

  /**
   * Logs in (`GET /auth/nonce`, `POST /auth/login`) and keeps the JWT. Called by itself before the first request
   * and when a token expires; concurrent callers share one login. Throws `AuthFailedError` when refused.
   */
  async authenticate(signal?: AbortSignal): Promise<void> {
    this.token = undefined;
    await this.ensureToken(signal);
  }

  /**
   * Submits a job described by a friendly spec (see {@link createJobBody}); resolves with the job JSON (status `Sent`).
   *
   * @example
   * ```ts
   * const job = await client.createJob({ executorClass: 'always_on.test', image: 'alpine', command: ['true'] });
   * ```
   */
  async createJob(spec: JobSpec, options: { signal?: AbortSignal } = {}): Promise<JobJson> {
    return this.createJobFromBody(await createJobBody(spec), options);
  }

  /** Submits a raw create-job body (upstream field names); signs it with the SignedFields scope. */
  async createJobFromBody(body: CreateJobBodyInput, options: { signal?: AbortSignal } = {}): Promise<JobJson> {
    const withTarget =
      body.target_validator_hotkey === undefined && this.targetValidatorHotkey !== undefined
        ? { ...body, target_validator_hotkey: this.targetValidatorHotkey }
        : body;
    await initCrypto();
    const signature = signJobBody(this.hotkey, withTarget, { clock: this.clock });
    const path = FACILITATOR_API_PATHS.createJob;
    const text = await this.request('POST', path, {
      json: withTarget,
      headers: signatureToHeaders(signature),
      signal: options.signal,
      auth: true,
    });
    return parseAs(JobJson, path, text);
  }

  /** `GET /api/v1/jobs/{uuid}/`. Throws `NotFoundError` for an unknown job (or another user's). */
  async getJob(uuid: string, options: { signal?: AbortSignal } = {}): Promise<JobJson> {
    const path = jobPath(uuid);
    return parseAs(JobJson, path, await this.request('GET', path, { signal: options.signal, auth: true }));
  }

  /** One page of the user's jobs, newest first, optionally filtered by tag or uuid. */
  async listJobs(filter: JobFilter = {}, options: { signal?: AbortSignal } = {}): Promise<JobsPage> {
    const path = FACILITATOR_API_PATHS.jobs;
    const text = await this.request('GET', path, {
      query: { page: filter.page, page_size: filter.pageSize, tag: filter.tag, uuid: filter.uuid },
      signal: options.signal,
      auth: true,
    });
    return parseAs(JobsPage, path, text);
  }

  /**
   * Reports that a job's result disagrees with the same job run on the trusted miner (`POST /api/v1/cheated-job/`,
   * FullRequest signature). Both jobs must be the caller's.
   */
  async reportCheated(
    jobUuid: string,
    trustedJobUuid: string,
    options: { details?: unknown; signal?: AbortSignal } = {},
  ): Promise<CheatedJobResponse> {
    const body = { job_uuid: jobUuid, trusted_job_uuid: trustedJobUuid, details: (options.details ?? null) as never };
    await initCrypto();
    const signature = signFullRequestBody(this.hotkey, body, { clock: this.clock });
    const path = FACILITATOR_API_PATHS.cheatedJob;
    const text = await this.request('POST', path, { json: body, headers: signatureToHeaders(signature), signal: options.signal, auth: true });
    return parseAs(CheatedJobResponse, path, text);
  }

  /**
   * Every status-history entry of a job, in order and each once, ending after a terminal one. Uses the push stream
   * (`/events/`) and falls back to polling when it is unavailable or breaks.
   *
   * @example
   * ```ts
   * for await (const entry of client.followJob(job.uuid)) console.log(entry.status);
   * ```
   */
  async *followJob(uuid: string, options: FollowOptions = {}): AsyncGenerator<StatusHistoryEntry, void, undefined> {
    const seen = new Set<string>();
    const fresh = function* (entries: readonly StatusHistoryEntry[]): Generator<StatusHistoryEntry> {
      for (const entry of entries) {
        const key = entryKey(entry);
        if (seen.has(key)) continue;
        seen.add(key);
        yield entry;
      }
    };
    if (options.pollOnly !== true) {
      const stream = await this.openEventStream(uuid, options.signal);
      if (stream !== undefined) {
        try {
          // the stream may start with the history or only with what comes next: the snapshot covers both
          const snapshot = await this.getJob(uuid, { signal: options.signal });
          for (const entry of fresh(snapshot.status_history)) {
            yield entry;
            if (isTerminal(entry.status)) return;
          }
          for await (const entry of stream.entries) {
            for (const fresher of fresh([entry])) {
              yield fresher;
              if (isTerminal(fresher.status)) return;
            }
          }
        } catch (error) {
          if (options.signal?.aborted) throw new AbortedError(options.signal.reason);
          if (error instanceof AbortedError || error instanceof NotFoundError || error instanceof AuthFailedError) throw error;
          // a broken stream: polling picks up from what was seen
        } finally {
          stream.close();
        }
      }
    }
    const intervalMs = options.pollIntervalMs ?? this.pollIntervalMs;
    for (;;) {
      const job = await this.getJob(uuid, { signal: options.signal });
      for (const entry of fresh(job.status_history)) {
        yield entry;
        if (isTerminal(entry.status)) return;
      }
      await this.sleep(intervalMs, options.signal);
    }
  }

  /**
   * Follows a job to its end and returns its JSON when it completed; throws `JobFailedError`, `JobRejectedError` or
   * `JobHordeFailedError` (with the failure details) otherwise, and `JobTimeoutError` past `timeoutMs`.
   */
  async waitForCompletion(uuid: string, options: WaitOptions = {}): Promise<JobJson> {
    return this.withTimeout(uuid, options, async (signal, lastStatus) => {
      for await (const entry of this.followJob(uuid, { ...options, signal })) {
        lastStatus.value = entry.status;
        options.onStatus?.(entry, uuid);
      }
      // the terminal entry was seen; the job JSON carries the decoded result of the same status
      for (;;) {
        const job = await this.getJob(uuid, { signal });
        const last = job.status_history[job.status_history.length - 1];
        if (last !== undefined && isTerminal(last.status)) {
          if (last.status === 'completed') return job;
          throw jobUnsuccessfulError(job);
        }
        await this.sleep(options.pollIntervalMs ?? this.pollIntervalMs, signal);
      }
    });
  }

  /**
   * Creates the job and waits for it; when it ends unsuccessfully, creates it again (a new uuid each time), up to
   * `maxAttempts` in all, within one `timeoutMs` budget. Throws the last attempt's error.
   *
   * @example
   * ```ts
   * const job = await client.runUntilComplete(spec, { timeoutMs: 120_000, onStatus: (e) => console.log(e.status) });
   * ```
   */
  async runUntilComplete(spec: JobSpec | CreateJobBodyInput, options: RunOptions = {}): Promise<JobJson> {
    const body = 'docker_image' in spec ? spec : await createJobBody(spec);
    const maxAttempts = options.maxAttempts ?? SDK_MAX_JOB_ATTEMPTS;
    const startedMs = this.clock.nowMs();
    for (let attempt = 1; ; attempt++) {
      const job = await this.createJobFromBody(body, { signal: options.signal });
      options.onAttempt?.(job, attempt);
      const leftMs = options.timeoutMs === undefined ? undefined : Math.max(1, options.timeoutMs - (this.clock.nowMs() - startedMs));
      try {
        return await this.waitForCompletion(job.uuid, { ...options, timeoutMs: leftMs });
      } catch (error) {
        if (!(error instanceof JobUnsuccessfulError) || attempt >= maxAttempts) throw error;
        await this.sleep(Math.floor(this.random() * SDK_JOB_RETRY_MAX_DELAY_MS), options.signal);
      }
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // HTTP

  private async ensureToken(signal: AbortSignal | undefined): Promise<string> {
    if (this.token !== undefined) return this.token;
    this.login ??= this.logIn(signal).finally(() => {
      this.login = undefined;
    });
    return this.login;
  }

  private async logIn(signal: AbortSignal | undefined): Promise<string> {
    await initCrypto();
    try {
      const nonce = parseAs(NonceResponse, FACILITATOR_API_PATHS.nonce, await this.request('GET', FACILITATOR_API_PATHS.nonce, { signal, auth: false }));
      const body = buildLoginRequest(this.hotkey, nonce.nonce);
      const text = await this.request('POST', FACILITATOR_API_PATHS.login, { json: body, signal, auth: false });
      const token = parseAs(TokenResponse, FACILITATOR_API_PATHS.login, text).token;
      this.token = token;
      return token;
    } catch (error) {
      if (error instanceof HttpError && error.status < 500) {
        throw new AuthFailedError(`login refused: ${errorMessageOf(safeJson(error.body)) ?? error.body}`, error.status, { cause: error });
      }
      throw error;
    }
  }

  private async authHeaders(signal: AbortSignal | undefined): Promise<Record<string, string>> {
    return { Authorization: `Bearer ${await this.ensureToken(signal)}`, ...SDK_REALM_HEADERS };
  }

  private fullUrl(path: string, query?: RequestOptions['query']): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) params.set(key, String(value));
    const search = params.toString();
    return `${this.url}${path}${search === '' ? '' : `?${search}`}`;
  }

  /** One request with retries and one re-login on "Token expired"; resolves with the 2xx body text. */
  private async request(method: string, path: string, options: RequestOptions): Promise<string> {
    const { signal } = options;
    let reauthenticated = false;
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw new AbortedError(signal.reason);
      const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
      if (options.auth) Object.assign(headers, await this.authHeaders(signal));
      if (options.json !== undefined) headers['Content-Type'] = 'application/json';
      let outcome: HttpAttemptOutcome;
      let failure: Error;
      try {
        const { status, text } = await this.fetchText(this.fullUrl(path, options.query), {
          method,
          headers,
          body: options.json === undefined ? undefined : JSON.stringify(options.json),
        }, signal);
        if (status >= 200 && status < 300) return text;
        if (status === 401 && options.auth && !reauthenticated && text.includes(FACILITATOR_ERROR_DETAILS.tokenExpired)) {
          reauthenticated = true;
          this.token = undefined;
          attempt--; // a re-login is not a failed attempt
          continue;
        }
        outcome = { kind: 'response', status };
        failure = errorForStatus(status, path, text);
      } catch (error) {
        if (signal?.aborted) throw new AbortedError(signal.reason);
        outcome = { kind: 'network' };
        failure = new NetworkError(path, error);
      }
      if (!shouldRetry(outcome, attempt, this.maxAttempts)) throw failure;
      const delayMs = httpRetryDelayMs(attempt, this.random);
      this.onRetry?.({ path, attempt, delayMs, reason: failure.message });
      await this.sleep(delayMs, signal);
    }
  }

  /** fetch + body, bounded by the request time-out and the caller's signal. */
  private async fetchText(url: string, init: RequestInit, signal: AbortSignal | undefined): Promise<{ status: number; text: string }> {
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = this.timers.setTimeout(() => controller.abort(new Error(`no answer within ${this.requestTimeoutMs} ms`)), this.requestTimeoutMs);
    try {
      const response = await this.fetchFn(url, { ...init, signal: controller.signal });
      return { status: response.status, text: await response.text() };
    } finally {
      this.timers.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Opens `/events/` once (re-logging in once on "Token expired"). Undefined when the stream is not available (any
   * non-200, not an event stream, or no connection): the caller polls instead.
   */
  private async openEventStream(
    uuid: string,
    signal: AbortSignal | undefined,
  ): Promise<{ entries: AsyncIterable<StatusHistoryEntry>; close(): void } | undefined> {
    const path = jobEventsPath(uuid);
    for (let tries = 0; tries < 2; tries++) {
      const controller = new AbortController();
      const onAbort = () => controller.abort(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      const close = () => {
        signal?.removeEventListener('abort', onAbort);
        controller.abort();
      };
      const timer = this.timers.setTimeout(() => controller.abort(new Error('no stream headers in time')), this.requestTimeoutMs);
      let response: Response;
      try {
        response = await this.fetchFn(this.fullUrl(path), {
          method: 'GET',
          headers: { Accept: 'text/event-stream', ...(await this.authHeaders(signal)) },
          signal: controller.signal,
        });
      } catch (error) {
        close();
        if (signal?.aborted) throw new AbortedError(signal.reason);
        if (error instanceof AuthFailedError) throw error;
        return undefined;
      } finally {
        this.timers.clearTimeout(timer);
      }
      const type = response.headers.get('content-type') ?? '';
      if (response.status === 200 && type.startsWith('text/event-stream') && response.body !== null) {
        return { entries: statusEntries(response.body), close };
      }
      const text = await response.text().catch(() => '');
      close();
      if (response.status === 401 && tries === 0 && text.includes(FACILITATOR_ERROR_DETAILS.tokenExpired)) {
        this.token = undefined;
        continue;
      }
      return undefined;
    }
    return undefined;
  }

  private sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(new AbortedError(signal.reason));
        return;
      }
      const onAbort = () => {
        this.timers.clearTimeout(handle);
        reject(new AbortedError(signal?.reason));
      };
      const handle = this.timers.setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Runs `body` under a signal that also fires after `timeoutMs`, turning that into `JobTimeoutError`. */
  private async withTimeout<T>(
    uuid: string,
    options: WaitOptions,
    body: (signal: AbortSignal, lastStatus: { value: string | undefined }) => Promise<T>,
  ): Promise<T> {
    const controller = new AbortController();
    const outer = options.signal;
    const onAbort = () => controller.abort(outer?.reason);
    if (outer?.aborted) throw new AbortedError(outer.reason);
    outer?.addEventListener('abort', onAbort, { once: true });
    const timeoutMs = options.timeoutMs;
    const timer = timeoutMs === undefined ? undefined : this.timers.setTimeout(() => controller.abort(TIMED_OUT), timeoutMs);
    const lastStatus = { value: undefined as string | undefined };
    try {
      return await body(controller.signal, lastStatus);
    } catch (error) {
      if (controller.signal.reason === TIMED_OUT && timeoutMs !== undefined) throw new JobTimeoutError(uuid, timeoutMs, lastStatus.value);
      if (error instanceof AbortedError && outer?.aborted) throw new AbortedError(outer.reason);
      throw error;
    } finally {
      if (timer !== undefined) this.timers.clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    }
  }
}

/**
 * Decodes what a finished job produced: base64 artifacts to bytes, upload results to `{headers, body}`.
 *
 * @example
 * ```ts
 * const { stdout, artifacts } = jobResult(await client.getJob(uuid));
 * artifacts['/artifacts/result.json']?.toString('utf8');
 * ```
 */
export function jobResult(job: JobJson): JobResult {
  const artifacts: Record<string, Buffer> = {};
  for (const [path, base64] of Object.entries(job.artifacts)) artifacts[path] = Buffer.from(base64, 'base64');
  const uploadResults: Record<string, { headers: Record<string, string>; body: string } | string> = {};
  for (const [path, raw] of Object.entries(job.upload_results)) {
    const parsed = safeJson(raw);
    const ok =
      typeof parsed === 'object' && parsed !== null && typeof (parsed as Record<string, unknown>)['body'] === 'string' && typeof (parsed as Record<string, unknown>)['headers'] === 'object';
    uploadResults[path] = ok ? (parsed as { headers: Record<string, string>; body: string }) : raw;
  }
  return { stdout: job.stdout, stderr: job.stderr, artifacts, uploadResults };
}

/** The wire status of a job JSON (its last status-history entry). */
export function lastStatusOf(job: JobJson): JobStatus | undefined {
  return job.status_history[job.status_history.length - 1]?.status;
}

function isTerminal(status: JobStatus): boolean {
  return JOB_STATUS_END_STATES.has(status);
}

function entryKey(entry: StatusHistoryEntry): string {
  return `${entry.status}|${entry.created_at}`;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function parseAs<T>(schema: Schema<T, unknown>, path: string, text: string): T {
  const json = safeJson(text);
  if (json === undefined) throw new MalformedResponseError(path, 'not JSON');
  const parsed = schema.validate(json);
  if (!parsed.ok) throw new MalformedResponseError(path, `${parsed.error.path || '(root)'}: ${parsed.error.message}`);
  return parsed.value;
}

function errorForStatus(status: number, path: string, text: string): Error {
  const json = safeJson(text);
  if (status === 401 || status === 403) return new AuthFailedError(`${path} refused (${status}): ${errorMessageOf(json) ?? text}`, status);
  if (status === 404) return new NotFoundError(path);
  const fields = FieldErrorsBody.validate(json);
  return new HttpError(status, path, text, fields.ok ? fields.value.errors : undefined);
}

/** Decodes an SSE body into status-history entries (unknown events and malformed entries are skipped). */
async function* statusEntries(body: ReadableStream<Uint8Array>): AsyncGenerator<StatusHistoryEntry> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      for (const event of parser.push(decoder.decode(value, { stream: true }))) {
        if (event.event !== JOB_EVENTS_STATUS_EVENT) continue;
        const parsed = StatusHistoryEntry.validate(safeJson(event.data));
        if (parsed.ok) yield parsed.value;
      }
    }
  } finally {
    reader.releaseLock();
  }
}
