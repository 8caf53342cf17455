/**
 * Many light miners in one process: each is a real `ws` server on 127.0.0.1 with its own port and dev hotkey that
 * speaks the validator interface just far enough for manifest fetching. It accepts
 * `/v0.1/validator_interface/{validator}`, verifies the `ValidatorAuthForMiner` (real sr25519), then pushes
 * `V0ExecutorManifestRequest`, and keeps the connection open until the validator closes it (as upstream does).
 *
 * A miner's mode can be switched at any time:
 * - `ok`: answers at once.
 * - `slow`: answers after `delayMs`.
 * - `silent`: authenticates, never answers (the validator's timeout must end it).
 * - `refusing`: answers `GenericError("Unknown validator: …")` and closes (upstream's refusal).
 * - `down`: its listener is closed, so dials are refused (ECONNREFUSED); switching back re-listens on the same port.
 *
 * Connections are counted at the TCP level across all miners (`concurrent`, `maxConcurrent`), so a test can check
 * how many sockets a validator holds at once.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { devHotkey, verifyValidatorAuth } from '../../src/crypto';
import { minerToValidatorCodec, validatorToMinerCodec, type ExecutorClass } from '../../src/protocol';
import { systemClock } from '../../src/util/clock';

export type LightMinerMode = 'ok' | 'slow' | 'silent' | 'refusing' | 'down';

export interface LightMinerSpec {
  readonly manifest?: Readonly<Partial<Record<ExecutorClass, number>>>;
  readonly mode?: LightMinerMode;
  /** For `slow`. @default 200 */
  readonly delayMs?: number;
}

export interface LightMiner {
  readonly hotkey: string;
  readonly address: string;
  readonly port: number;
  mode: LightMinerMode;
  delayMs: number;
  manifest: Readonly<Partial<Record<ExecutorClass, number>>>;
  /** TCP connections accepted so far. */
  connections: number;
  /** Auth messages that verified. */
  authenticated: number;
  /** Auth messages that did not verify (must stay 0 in a test of a correct validator). */
  badAuth: number;
}

interface Internal {
  readonly miner: LightMiner;
  readonly http: Server;
  readonly wss: WebSocketServer;
  listening: boolean;
}

export class LightMiners {
  /** Open TCP connections right now, across all miners. */
  concurrent = 0;
  /** Highest `concurrent` seen. */
  maxConcurrent = 0;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(private readonly internals: Internal[]) {}

  /** The miners, in the order of the specs. */
  get miners(): readonly LightMiner[] {
    return this.internals.map((i) => i.miner);
  }

  /** Starts one server per spec (hotkeys `devHotkey(prefix + index)`; `initCrypto()` must have run). */
  static async start(specs: readonly LightMinerSpec[], options: { hotkeyPrefix?: string } = {}): Promise<LightMiners> {
    const prefix = options.hotkeyPrefix ?? 'horde-light-miner-';
    const internals: Internal[] = [];
    const group = new LightMiners(internals);
    for (const [index, spec] of specs.entries()) {
      const http = createServer((_req, res) => res.writeHead(404).end());
      const wss = new WebSocketServer({ noServer: true });
      const miner: LightMiner = {
        hotkey: devHotkey(`${prefix}${index}`).ss58,
        address: '127.0.0.1',
        port: 0,
        mode: spec.mode ?? 'ok',
        delayMs: spec.delayMs ?? 200,
        manifest: spec.manifest ?? { 'always_on.test': 1 },
        connections: 0,
        authenticated: 0,
        badAuth: 0,
      };
      const internal: Internal = { miner, http, wss, listening: false };
      group.wire(internal);
      internals.push(internal);
      await group.listen(internal, 0);
      (miner as { port: number }).port = (http.address() as AddressInfo).port;
      if (miner.mode === 'down') await group.unlisten(internal);
    }
    return group;
  }

  /** The metagraph file content listing every miner (and the given validators, active). */
  metagraph(validators: readonly string[]): { validators: Array<{ hotkey: string }>; miners: Array<{ hotkey: string; address: string; port: number }> } {
    return {
      validators: validators.map((hotkey) => ({ hotkey })),
      miners: this.miners.map(({ hotkey, address, port }) => ({ hotkey, address, port })),
    };
  }

  /** Switches a miner's behaviour; `down` closes its listener (and its open connections), leaving it re-listens. */
  async setMode(index: number, mode: LightMinerMode): Promise<void> {
    const internal = this.internals[index]!;
    internal.miner.mode = mode;
    if (mode === 'down' && internal.listening) await this.unlisten(internal);
    if (mode !== 'down' && !internal.listening) await this.listen(internal, internal.miner.port);
  }

  /** Closes every server and connection. */
  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(this.internals.map((internal) => this.unlisten(internal)));
    for (const internal of this.internals) internal.wss.close();
  }

  private wire(internal: Internal): void {
    const { http, wss, miner } = internal;
    http.on('connection', (socket: Socket) => {
      miner.connections++;
      this.sockets.add(socket);
      this.concurrent++;
      this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
      socket.once('close', () => {
        this.sockets.delete(socket);
        this.concurrent--;
      });
    });
    http.on('upgrade', (req, socket, head) => {
      const match = /^\/v0\.1\/validator_interface\/([^/?]+)/.exec(req.url ?? '');
      if (match === null) {
        socket.destroy();
        return;
      }
      const validator = decodeURIComponent(match[1]!);
      wss.handleUpgrade(req, socket, head, (ws) => this.session(miner, validator, ws));
    });
  }

  private session(miner: LightMiner, validator: string, ws: WebSocket): void {
    ws.on('error', () => undefined);
    ws.once('message', (data) => {
      const decoded = validatorToMinerCodec.decode(String(data));
      if (!decoded.ok || decoded.value.message_type !== 'ValidatorAuthForMiner') {
        ws.close(1008, 'expected ValidatorAuthForMiner');
        return;
      }
      const verdict = verifyValidatorAuth(decoded.value, {
        expectedValidatorHotkey: validator,
        expectedMinerHotkey: miner.hotkey,
        clock: systemClock,
      });
      if (!verdict.ok) {
        miner.badAuth++;
        ws.send(minerToValidatorCodec.encode({ message_type: 'GenericError', details: verdict.error.message }));
        ws.close(1000);
        return;
      }
      miner.authenticated++;
      const push = (): void => {
        if (ws.readyState === ws.OPEN)
          ws.send(minerToValidatorCodec.encode({ message_type: 'V0ExecutorManifestRequest', manifest: { ...miner.manifest } as Record<ExecutorClass, number> }));
      };
      switch (miner.mode) {
        case 'ok':
          push();
          return;
        case 'slow': {
          const timer = setTimeout(() => {
            this.timers.delete(timer);
            push();
          }, miner.delayMs);
          this.timers.add(timer);
          return;
        }
        case 'refusing':
          ws.send(minerToValidatorCodec.encode({ message_type: 'GenericError', details: `Unknown validator: ${validator}` }));
          ws.close(1000);
          return;
        case 'silent':
        case 'down':
          return;
      }
    });
  }

  private listen(internal: Internal, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      internal.http.once('error', reject);
      internal.http.listen(port, '127.0.0.1', () => {
        internal.http.off('error', reject);
        internal.listening = true;
        resolve();
      });
    });
  }

  private unlisten(internal: Internal): Promise<void> {
    if (!internal.listening) return Promise.resolve();
    internal.listening = false;
    for (const client of internal.wss.clients) client.terminate();
    return new Promise((resolve) => {
      internal.http.close(() => resolve());
      internal.http.closeAllConnections();
    });
  }
}
