/**
 * Helpers for facilitator integration tests: a real `horde facilitator` process, a plain `ws` client playing a
 * validator, and a small REST client playing the SDK (nonce → login → signed create).
 */
import type { ChildProcess } from 'node:child_process';
import WebSocket from 'ws';
import { buildAuthenticationRequest, buildLoginRequest, signatureToHeaders, signJobBody, type Hotkey } from '../../../src/crypto';
import { systemClock } from '../../../src/util/clock';
import { spawnRole } from '../../support/roleProcess';

export interface FacilitatorProcess {
  readonly child: ChildProcess;
  readonly httpUrl: string;
  readonly wsUrl: string;
  readonly logs: string[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `horde facilitator` on a free port (or `port`); resolves once it listens. */
export async function startFacilitatorProcess(options: {
  dataDir: string;
  metagraphPath: string;
  whitelist: readonly string[];
  port?: number;
  args?: readonly string[];
}): Promise<FacilitatorProcess> {
  const role = await spawnRole('facilitator', [
    '--host',
    '127.0.0.1',
    '--port',
    String(options.port ?? 0),
    '--data-dir',
    options.dataDir,
    '--metagraph-file',
    options.metagraphPath,
    '--metagraph-poll-interval-ms',
    '100',
    ...options.whitelist.flatMap((key) => ['--whitelist', key]),
    ...(options.args ?? []),
  ]);
  const exited = role.exited.then(({ code }) => code);
  return {
    child: role.child,
    httpUrl: `http://127.0.0.1:${role.port}`,
    wsUrl: `ws://127.0.0.1:${role.port}/ws/v0/`,
    logs: role.logs,
    stop(signal: NodeJS.Signals = 'SIGTERM') {
      void role.stop(signal);
      return exited;
    },
  };
}

/** A validator connection played by a plain `ws` client: every frame it got, parsed, and how it closed. */
export class FakeValidator {
  readonly frames: Array<Record<string, unknown>> = [];
  closed: { code: number; reason: string } | undefined;
  private readonly waiters: Array<() => void> = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as Record<string, unknown>);
      this.wake();
    });
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
  }

  static async connect(url: string): Promise<FakeValidator> {
    const socket = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return new FakeValidator(socket);
  }

  /** Connects and authenticates as `hotkey`; resolves after the success Response. */
  static async authenticated(url: string, hotkey: Hotkey): Promise<FakeValidator> {
    const v = await FakeValidator.connect(url);
    v.send(buildAuthenticationRequest(hotkey));
    const answer = await v.next((f) => 'status' in f);
    if (answer['status'] !== 'success') throw new Error(`auth refused: ${JSON.stringify(answer)}`);
    return v;
  }

  send(message: unknown): void {
    this.socket.send(JSON.stringify(message));
  }

  /** The first frame (from `from` on) matching `predicate`; waits up to `timeoutMs`. */
  async next(predicate: (frame: Record<string, unknown>) => boolean, timeoutMs = 10_000, from = 0): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.slice(from).find(predicate);
      if (found !== undefined) return found;
      if (this.closed !== undefined) throw new Error(`socket closed (${this.closed.code}) before a matching frame`);
      if (Date.now() > deadline) throw new Error(`no matching frame within ${timeoutMs} ms: ${JSON.stringify(this.frames)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends `message` and returns the next Response after it (the facilitator answers in order). */
  async request(message: unknown): Promise<Record<string, unknown>> {
    const from = this.frames.length;
    this.send(message);
    return this.next((f) => 'status' in f && !('message_type' in f), 10_000, from);
  }

  async whenClosed(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + timeoutMs;
    while (this.closed === undefined) {
      if (Date.now() > deadline) throw new Error('socket not closed in time');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.closed;
  }

  async close(): Promise<void> {
    if (this.closed !== undefined) return;
    this.socket.close(1000);
    await this.whenClosed();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** The SDK side: a logged-in user that creates signed jobs. */
export class RestUser {
  private constructor(
    readonly baseUrl: string,
    readonly hotkey: Hotkey,
    readonly token: string,
  ) {}

  /** A user with a token from an earlier login (e.g. against a restarted facilitator). */
  static withToken(baseUrl: string, hotkey: Hotkey, token: string): RestUser {
    return new RestUser(baseUrl, hotkey, token);
  }

  static async login(baseUrl: string, hotkey: Hotkey): Promise<RestUser> {
    const { nonce } = (await (await fetch(`${baseUrl}/auth/nonce`)).json()) as { nonce: string };
    const res = await fetch(`${baseUrl}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(buildLoginRequest(hotkey, nonce)),
    });
    const body = (await res.json()) as { token?: string; detail?: string };
    if (body.token === undefined) throw new Error(`login failed: ${res.status} ${JSON.stringify(body)}`);
    return new RestUser(baseUrl, hotkey, body.token);
  }

  get auth(): Record<string, string> {
    return { authorization: `Bearer ${this.token}` };
  }

  async createJob(body: Record<string, unknown>, options: { sign?: boolean } = {}): Promise<{ status: number; body: Record<string, unknown> }> {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...this.auth };
    if (options.sign !== false) Object.assign(headers, signatureToHeaders(signJobBody(this.hotkey, body, { clock: systemClock })));
    const res = await fetch(`${this.baseUrl}/api/v1/job-docker/`, { method: 'POST', headers, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  async get(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${this.baseUrl}${path}`, { headers: this.auth });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }
}

/** A status update frame as a validator sends it. */
export function statusUpdate(uuid: string, status: string, metadata: Record<string, unknown> | null = null): Record<string, unknown> {
  return { message_type: 'V0JobStatusUpdate', uuid, status, metadata };
}
