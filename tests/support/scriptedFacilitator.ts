/**
 * A scripted facilitator for validator tests: a real `ws` server on 127.0.0.1 speaking the facilitator side of
 * `/ws/v0/` as upstream does. It verifies `V0AuthenticationRequest` (`verifyAuthenticationRequest`), answers each
 * request with a `Response` in order, stores each status once per (job, status) and answers a repeat with
 * `job.integrity_error`, pushes `V2JobRequest` / `V0JobCheated`, records every frame, and can be stopped and
 * started again on the same port mid-test (the stored statuses survive, as a database would).
 *
 * Also exports {@link signedJobRequest}: a `V2JobRequest` with a valid SDK SignedFields signature.
 *
 * @example
 * ```ts
 * const facilitator = await ScriptedFacilitator.start();
 * const link = startFacilitatorLink({ url: facilitator.url, validator, store, onJob, onCheated });
 * await facilitator.waitFor(() => facilitator.authenticatedCount === 1, 'the validator authenticates');
 * facilitator.pushJob(signedJobRequest({ user: devHotkey('user') }));
 * await facilitator.waitFor(() => facilitator.statuses(uuid).includes('completed'), 'job completes');
 * await facilitator.restart();          // drops every connection; the validator reconnects
 * await link.stop(); await facilitator.close();
 * ```
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import {
  signedFieldsFromV2JobRequest,
  signedFieldsJson,
  signPayload,
  verifyAuthenticationRequest,
  type Hotkey,
} from '../../src/crypto';
import {
  facilitatorToValidatorCodec,
  validatorToFacilitatorCodec,
  type ExecutorClass,
  type JobStatus,
  type Response,
  type V0JobCheated,
  type V0JobStatusUpdate,
  type V2JobRequest,
  type ValidatorToFacilitatorMessage,
} from '../../src/protocol';
import { systemClock, type Clock } from '../../src/util/clock';

/** How the facilitator treats the next authentication requests. */
export type AuthMode =
  /** Verify the signature (and the `validators` allow-list): success, or error + close 3000/3001 like upstream. */
  | 'verify'
  /** Answer `auth.validator_not_found` and close with 3001, whatever the request. */
  | 'refuse'
  /** Answer `auth.validator_not_found` but keep the socket open (the validator must close it itself). */
  | 'refuse_open'
  /** Never answer (the validator's auth timeout must fire). */
  | 'silent';

/** One frame, as the facilitator saw or wrote it. */
export interface RecordedFrame {
  /** 1-based connection number (counts every accepted socket since start). */
  readonly connection: number;
  readonly direction: 'in' | 'out';
  readonly text: string;
  /** `message_type` of the frame (`Response` for responses, `?` when undecodable). */
  readonly type: string;
}

export interface ScriptedFacilitatorOptions {
  /** Port to listen on; 0 picks a free one (kept across `stop`/`start`). @default 0 */
  readonly port?: number;
  /** SS58 addresses allowed to authenticate in `verify` mode; undefined: anyone whose signature verifies. */
  readonly validators?: ReadonlySet<string>;
  /** Answer `job.not_found` to statuses of jobs never pushed (upstream does). @default false */
  readonly requireKnownJobs?: boolean;
}

interface Connection {
  readonly id: number;
  readonly ws: WebSocket;
  hotkey: string | undefined;
}

const CLOSE_BAD_SIGNATURE = 3000;
const CLOSE_UNKNOWN_VALIDATOR = 3001;

function errorResponse(type: string, msg: string): Response {
  return { status: 'error', errors: [{ msg, type, help: '' }] };
}

const SUCCESS: Response = { status: 'success', errors: [] };

export class ScriptedFacilitator {
  /** Every frame in and out, all connections, in order. */
  readonly frames: RecordedFrame[] = [];
  /** How authentication requests are answered; change it at any time. */
  authMode: AuthMode = 'verify';
  /** Statuses answered `job.integrity_error` (repeats of a stored (job, status)). */
  integrityErrors = 0;
  private server: WebSocketServer | undefined;
  private portNumber: number;
  private connectionSeq = 0;
  private readonly connections = new Set<Connection>();
  private readonly stored = new Map<string, JobStatus[]>();
  private readonly knownJobs = new Set<string>();
  private held: Array<{ connection: Connection; text: string }> | undefined;

  private constructor(private readonly options: ScriptedFacilitatorOptions) {
    this.portNumber = options.port ?? 0;
  }

  /** Starts listening on 127.0.0.1. */
  static async start(options: ScriptedFacilitatorOptions = {}): Promise<ScriptedFacilitator> {
    const facilitator = new ScriptedFacilitator(options);
    await facilitator.listen();
    return facilitator;
  }

  get port(): number {
    return this.portNumber;
  }

  /** `ws://127.0.0.1:<port>/ws/v0/` */
  get url(): string {
    return `ws://127.0.0.1:${this.portNumber}/ws/v0/`;
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  /** Sockets open now. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Sockets open now that authenticated. */
  get authenticatedCount(): number {
    return [...this.connections].filter((c) => c.hotkey !== undefined).length;
  }

  /** Sockets accepted since the first start. */
  get totalConnections(): number {
    return this.connectionSeq;
  }

  /** Statuses stored for `uuid`, in arrival order (each at most once). */
  statuses(uuid: string): JobStatus[] {
    return [...(this.stored.get(uuid) ?? [])];
  }

  /** Status rows stored, all jobs. */
  get storedCount(): number {
    let n = 0;
    for (const list of this.stored.values()) n += list.length;
    return n;
  }

  /** Frames received of one `message_type`. */
  received(type: string): RecordedFrame[] {
    return this.frames.filter((f) => f.direction === 'in' && f.type === type);
  }

  /** Holds every Response (they queue, in order) until {@link releaseResponses}; a connection closing loses its held ones. */
  holdResponses(): void {
    this.held ??= [];
  }

  /** Sends the held Responses of still-open connections, in order, and stops holding. */
  releaseResponses(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const { connection, text } of held) if (this.connections.has(connection)) this.write(connection, text);
  }

  /** Sends a job to every authenticated connection (as upstream fans out to a validator's channels); returns how many. */
  pushJob(request: V2JobRequest): number {
    this.knownJobs.add(request.uuid);
    return this.broadcast(facilitatorToValidatorCodec.encode(request));
  }

  /** Sends a cheated-job report to every authenticated connection; returns how many. */
  pushCheated(message: V0JobCheated): number {
    return this.broadcast(facilitatorToValidatorCodec.encode(message));
  }

  /** Marks a job as known without pushing it (for `requireKnownJobs`). */
  knowJob(uuid: string): void {
    this.knownJobs.add(uuid);
  }

  /** Polls `condition` every 10 ms; rejects naming `what` after `timeoutMs`. */
  async waitFor(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`scripted facilitator: timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Terminates every connection and stops listening (the port is kept for {@link start}). Idempotent. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const c of this.connections) c.ws.terminate();
    this.connections.clear();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Listens again on the same port (after {@link stop}). */
  async start(): Promise<void> {
    if (this.server === undefined) await this.listen();
  }

  /** stop() then start(): every validator connection drops and must reconnect. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Same as {@link stop}: call it in afterEach/afterAll. */
  close(): Promise<void> {
    return this.stop();
  }

  private async listen(): Promise<void> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: this.portNumber, path: '/ws/v0/' });
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    this.portNumber = (server.address() as AddressInfo).port;
    this.server = server;
    server.on('connection', (ws) => this.accept(ws));
  }

  private accept(ws: WebSocket): void {
    const connection: Connection = { id: ++this.connectionSeq, ws, hotkey: undefined };
    this.connections.add(connection);
    ws.on('message', (data) => this.onFrame(connection, String(data)));
    ws.on('close', () => this.connections.delete(connection));
    ws.on('error', () => this.connections.delete(connection));
  }

  private onFrame(connection: Connection, text: string): void {
    const decoded = validatorToFacilitatorCodec.decode(text);
    const type = decoded.ok ? decoded.value.message_type : '?';
    this.frames.push({ connection: connection.id, direction: 'in', text, type });
    if (!decoded.ok) {
      this.respond(connection, errorResponse('validation_error', decoded.error.message));
      return;
    }
    this.handle(connection, decoded.value);
  }

  private handle(connection: Connection, message: ValidatorToFacilitatorMessage): void {
    switch (message.message_type) {
      case 'V0AuthenticationRequest':
        this.authenticate(connection, message);
        return;
      case 'V0Heartbeat':
      case 'V0MachineSpecsUpdate':
        return; // no reply, as upstream
      case 'V0JobStatusUpdate':
        if (connection.hotkey === undefined) {
          this.respond(connection, errorResponse('auth.not_authenticated', 'Not authenticated'));
          return;
        }
        this.storeStatus(connection, message);
        return;
    }
  }

  private authenticate(connection: Connection, request: { public_key: string; signature: string }): void {
    if (connection.hotkey !== undefined) {
      this.respond(connection, errorResponse('auth.already_authenticated', 'Already authenticated'));
      return;
    }
    switch (this.authMode) {
      case 'silent':
        return;
      case 'refuse':
        this.respond(connection, errorResponse('auth.validator_not_found', 'Validator not found'));
        connection.ws.close(CLOSE_UNKNOWN_VALIDATOR, 'validator not found');
        return;
      case 'refuse_open':
        this.respond(connection, errorResponse('auth.validator_not_found', 'Validator not found'));
        return;
      case 'verify': {
        const verdict = verifyAuthenticationRequest(request);
        if (!verdict.ok) {
          this.respond(connection, errorResponse('auth.signature_invalid', verdict.error.message));
          connection.ws.close(CLOSE_BAD_SIGNATURE, 'invalid signature');
          return;
        }
        if (this.options.validators !== undefined && !this.options.validators.has(verdict.value.ss58)) {
          this.respond(connection, errorResponse('auth.validator_not_found', 'Validator not found'));
          connection.ws.close(CLOSE_UNKNOWN_VALIDATOR, 'validator not found');
          return;
        }
        connection.hotkey = verdict.value.ss58;
        this.respond(connection, SUCCESS);
      }
    }
  }

  private storeStatus(connection: Connection, update: V0JobStatusUpdate): void {
    if (this.options.requireKnownJobs === true && !this.knownJobs.has(update.uuid)) {
      this.respond(connection, errorResponse('job.not_found', `Job ${update.uuid} not found`));
      return;
    }
    const list = this.stored.get(update.uuid) ?? [];
    if (list.includes(update.status)) {
      this.integrityErrors++;
      this.respond(connection, errorResponse('job.integrity_error', `Status ${update.status} of job ${update.uuid} already stored`));
      return;
    }
    list.push(update.status);
    this.stored.set(update.uuid, list);
    this.respond(connection, SUCCESS);
  }

  private respond(connection: Connection, response: Response): void {
    const text = facilitatorToValidatorCodec.encode(response);
    if (this.held !== undefined) this.held.push({ connection, text });
    else this.write(connection, text);
  }

  private broadcast(text: string): number {
    let sent = 0;
    for (const c of this.connections) {
      if (c.hotkey === undefined) continue;
      this.write(c, text);
      sent++;
    }
    return sent;
  }

  private write(connection: Connection, text: string): void {
    if (connection.ws.readyState !== WebSocket.OPEN) return;
    const decoded = facilitatorToValidatorCodec.decode(text);
    const type = decoded.ok ? ('message_type' in decoded.value ? decoded.value.message_type : 'Response') : '?';
    this.frames.push({ connection: connection.id, direction: 'out', text, type });
    connection.ws.send(text);
  }
}

/** Fields of {@link signedJobRequest}; everything but `user` has a test-friendly default. */
export interface SignedJobRequestOptions {
  /** The SDK user who signs (use `devHotkey('user')`, and whitelist it in the validator). */
  readonly user: Hotkey;
  /** @default randomUUID() */
  readonly uuid?: string;
  /** @default 'horde-testjob:local' */
  readonly image?: string;
  /** @default ['sh', '-c', 'echo hello'] */
  readonly args?: readonly string[];
  /** @default 'always_on.test' */
  readonly executorClass?: ExecutorClass;
  readonly env?: Readonly<Record<string, string>>;
  /** @default false */
  readonly onTrustedMiner?: boolean;
  /** Seconds. @default { download: 5, execution: 10, upload: 5, streamingStart: 5 } */
  readonly timeLimitsS?: { download?: number; execution?: number; upload?: number; streamingStart?: number };
  readonly jobNamespace?: string | null;
  readonly artifactsDir?: string | null;
  /** `volume` as the facilitator forwards it (a multi_volume). @default null */
  readonly volume?: V2JobRequest['volume'];
  /** @default null */
  readonly outputUpload?: V2JobRequest['output_upload'];
  /** Signature timestamp source. @default systemClock */
  readonly clock?: Clock;
}

/**
 * A `V2JobRequest` (decoded form, as the validator's `onJob` receives it) carrying a valid SignedFields signature by
 * `user`, built exactly as the validator re-checks it (`signedFieldsFromV2JobRequest`). Call `initCrypto()` first.
 *
 * @example
 * ```ts
 * const request = signedJobRequest({ user: devHotkey('user'), args: ['sh', '-c', 'echo hi'] });
 * facilitator.pushJob(request);
 * const tampered = { ...request, docker_image: 'evil:latest' }; // no longer verifies
 * ```
 */
export function signedJobRequest(options: SignedJobRequestOptions): V2JobRequest {
  const limits = options.timeLimitsS ?? {};
  const unsigned: V2JobRequest = {
    signature: null,
    type: 'job.new',
    message_type: 'V2JobRequest',
    uuid: options.uuid ?? randomUUID(),
    job_namespace: options.jobNamespace ?? null,
    executor_class: options.executorClass ?? 'always_on.test',
    docker_image: options.image ?? 'horde-testjob:local',
    args: [...(options.args ?? ['sh', '-c', 'echo hello'])],
    env: { ...(options.env ?? {}) },
    use_gpu: false,
    volume: options.volume ?? null,
    output_upload: options.outputUpload ?? null,
    artifacts_dir: options.artifactsDir ?? null,
    on_trusted_miner: options.onTrustedMiner ?? false,
    download_time_limit: limits.download ?? 5,
    execution_time_limit: limits.execution ?? 10,
    upload_time_limit: limits.upload ?? 5,
    streaming_start_time_limit: limits.streamingStart ?? 5,
    streaming_details: null,
  };
  const payload = signedFieldsJson(signedFieldsFromV2JobRequest(unsigned));
  const signature = signPayload(options.user, payload, { clock: options.clock ?? systemClock, scope: 'SignedFields' });
  return { ...unsigned, signature };
}
