import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  executorToMinerCodec,
  minerToExecutorCodec,
  type ExecutorToMinerMessage,
  type MinerToExecutorMessageInput,
  type OutputUploadInput,
  type VolumeInput,
} from '../../src/protocol';

/** One frame the executor sent, decoded with the real executor→miner codec (so wire compatibility is checked). */
export interface ReceivedFrame {
  readonly atMs: number;
  readonly token: string;
  readonly connection: number;
  readonly text: string;
  readonly message: ExecutorToMinerMessage;
}

/** What the miner does when an executor connects (upstream sends the initial request at once). */
export type OnConnect = (connection: { token: string; index: number; send: (message: MinerToExecutorMessageInput) => void }) => void;

/**
 * The miner's side of the executor link, as a real `ws` server on 127.0.0.1: it accepts
 * `/v0.1/executor_interface/{token}`, records every frame the executor sends (decoded with the real codec; a frame
 * that does not decode fails `waitFor`), and lets a test script the miner: send messages, drop the connection
 * (no close frame), refuse new connections.
 *
 * @example
 * ```ts
 * const miner = await ScriptedMiner.start({ onConnect: ({ send }) => send(initialJobRequest({ jobUuid })) });
 * // spawn `horde executor --miner-address ${miner.address} --executor-token ${token}`
 * await miner.waitFor('V0ExecutorReadyRequest');
 * miner.send(jobRequest({ jobUuid, image }));
 * const finished = await miner.waitFor('V0JobFinishedRequest');
 * await miner.close();
 * ```
 */
export class ScriptedMiner {
  readonly received: ReceivedFrame[] = [];
  /** Frames that did not decode as executor→miner messages (must stay empty). */
  readonly undecodable: string[] = [];
  /** Paths of accepted upgrade requests. */
  readonly connectedPaths: string[] = [];
  /** Upgrade request headers of every accepted connection. */
  readonly upgradeHeaders: IncomingMessage['headers'][] = [];
  refuseConnections = false;
  private socket: WebSocket | undefined;
  private readonly sockets = new Set<WebSocket>();
  private waiters: Array<() => void> = [];
  private readonly startedAt = Date.now();

  private constructor(
    private readonly http: Server,
    private readonly wss: WebSocketServer,
    readonly port: number,
  ) {}

  static async start(options: { onConnect?: OnConnect } = {}): Promise<ScriptedMiner> {
    const http = createServer((_req, res) => res.writeHead(404).end());
    const wss = new WebSocketServer({ noServer: true });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const miner = new ScriptedMiner(http, wss, (http.address() as AddressInfo).port);
    http.on('upgrade', (req, socket, head) => {
      // A client that dies mid-handshake (a SIGTERMed executor) resets the raw socket; unhandled, that 'error' would
      // crash the test process ("read ECONNRESET").
      socket.on('error', () => undefined);
      const match = /^\/v0\.1\/executor_interface\/([^/?]+)$/.exec(req.url ?? '');
      if (match === null || miner.refuseConnections) {
        socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => miner.accept(ws, decodeURIComponent(match[1]!), req, options.onConnect));
    });
    return miner;
  }

  /** `ws://127.0.0.1:<port>`: the executor's `--miner-address`. */
  get address(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  get connections(): number {
    return this.connectedPaths.length;
  }

  /** The decoded messages, in order. */
  get messages(): ExecutorToMinerMessage[] {
    return this.received.map((frame) => frame.message);
  }

  /** Messages of one type. */
  ofType<T extends ExecutorToMinerMessage['message_type']>(type: T): Array<Extract<ExecutorToMinerMessage, { message_type: T }>> {
    return this.messages.filter((m): m is Extract<ExecutorToMinerMessage, { message_type: T }> => m.message_type === type);
  }

  /** Sends a miner→executor message (encoded by the real codec) on the current connection. */
  send(message: MinerToExecutorMessageInput): void {
    this.sendRaw(minerToExecutorCodec.encode(message));
  }

  sendRaw(text: string): void {
    if (this.socket === undefined || this.socket.readyState !== 1) throw new Error('no executor connected');
    this.socket.send(text);
  }

  /** Drops the executor's connection without a close frame (a network loss). */
  dropConnection(): void {
    this.socket?.terminate();
    this.socket = undefined;
  }

  /** Resolves with the first message of `type` (already received or still to come). */
  async waitFor<T extends ExecutorToMinerMessage['message_type']>(
    type: T,
    timeoutMs = 15_000,
  ): Promise<Extract<ExecutorToMinerMessage, { message_type: T }>> {
    const found = () => this.ofType(type)[0];
    await this.until(() => found() !== undefined, timeoutMs, `no ${type} from the executor`);
    return found()!;
  }

  /** Resolves once `predicate` holds (checked on every frame and connection). */
  async until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (this.undecodable.length > 0) throw new Error(`undecodable frame from the executor: ${this.undecodable[0]!}`);
    if (predicate()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`${what} within ${timeoutMs} ms; got ${this.messages.map((m) => m.message_type).join(', ') || 'nothing'}`));
      }, timeoutMs);
      const check = (): void => {
        if (this.undecodable.length > 0) {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== check);
          reject(new Error(`undecodable frame from the executor: ${this.undecodable[0]!}`));
        } else if (predicate()) {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== check);
          resolve();
        }
      };
      this.waiters.push(check);
    });
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.terminate();
    this.sockets.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private accept(ws: WebSocket, token: string, req: IncomingMessage, onConnect: OnConnect | undefined): void {
    const index = this.connectedPaths.length;
    this.connectedPaths.push(req.url ?? '');
    this.upgradeHeaders.push(req.headers);
    this.socket = ws;
    this.sockets.add(ws);
    ws.on('message', (data: Buffer) => {
      const text = data.toString('utf8');
      const decoded = executorToMinerCodec.decode(text);
      if (decoded.ok) this.received.push({ atMs: Date.now() - this.startedAt, token, connection: index, text, message: decoded.value });
      else this.undecodable.push(`${text} (${decoded.error.message})`);
      this.notify();
    });
    ws.on('close', () => {
      this.sockets.delete(ws);
      if (this.socket === ws) this.socket = undefined;
      this.notify();
    });
    ws.on('error', () => undefined);
    onConnect?.({ token, index, send: (message) => ws.send(minerToExecutorCodec.encode(message)) });
    this.notify();
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** A token in upstream's shape: `"{job_uuid}-{uuid4}"`. */
export function executorTokenFor(jobUuid: string): string {
  return `${jobUuid}-${randomUUID()}`;
}

export interface TimingSeconds {
  readonly leeway?: number;
  readonly download?: number;
  readonly execution?: number;
  readonly upload?: number;
  readonly streaming?: number;
}

/** A `V0InitialJobRequest` as a validator would send it (the miner forwards it verbatim). */
export function initialJobRequest(options: {
  jobUuid: string;
  image?: string | null;
  timing?: TimingSeconds | null;
  timeoutSeconds?: number | null;
  volume?: VolumeInput | null;
  streaming?: boolean;
}): MinerToExecutorMessageInput {
  const timing = options.timing === undefined ? {} : options.timing;
  return {
    message_type: 'V0InitialJobRequest',
    job_uuid: options.jobUuid,
    executor_class: 'always_on.test',
    docker_image: options.image ?? null,
    timeout_seconds: options.timeoutSeconds ?? null,
    volume: options.volume ?? null,
    job_started_receipt_payload: {
      job_uuid: options.jobUuid,
      miner_hotkey: '5Hminerhotkeyxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
      validator_hotkey: '5Fvalidatorhotkeyxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
      timestamp: '2025-09-01T12:00:00Z',
      receipt_type: 'JobStartedReceipt',
      executor_class: 'always_on.test',
      is_organic: true,
      ttl: 7,
    },
    job_started_receipt_signature: '0x00',
    streaming_details: options.streaming === true ? { public_key: 'PEM', executor_ip: '127.0.0.1' } : null,
    executor_timing:
      timing === null
        ? null
        : {
            allowed_leeway: timing.leeway ?? 1,
            download_time_limit: timing.download ?? 10,
            execution_time_limit: timing.execution ?? 20,
            upload_time_limit: timing.upload ?? 10,
            streaming_start_time_limit: timing.streaming ?? 5,
          },
  };
}

/** A `V0JobRequest`. */
export function jobRequest(options: {
  jobUuid: string;
  image: string;
  cmd?: readonly string[];
  env?: Record<string, string>;
  volume?: VolumeInput | null;
  upload?: OutputUploadInput | null;
  artifactsDir?: string | null;
  rawScript?: string | null;
}): MinerToExecutorMessageInput {
  return {
    message_type: 'V0JobRequest',
    job_uuid: options.jobUuid,
    executor_class: 'always_on.test',
    docker_image: options.image,
    raw_script: options.rawScript ?? null,
    docker_run_options_preset: 'none',
    docker_run_cmd: [...(options.cmd ?? [])],
    env: options.env ?? {},
    volume: options.volume ?? null,
    output_upload: options.upload ?? null,
    artifacts_dir: options.artifactsDir ?? null,
  };
}
