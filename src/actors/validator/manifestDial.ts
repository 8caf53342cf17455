/**
 * One manifest fetch over a one-shot `ws` connection: dial
 * `ws://{address}:{port}/v0.1/validator_interface/{validator ss58}`, send a signed `ValidatorAuthForMiner`, wait for
 * the `V0ExecutorManifestRequest` the miner pushes after auth, close. A light socket rather than the transport actor:
 * a round opens hundreds of these and none reconnects, queues or lives past one message.
 *
 * Every path (manifest, refusal, close, error, abort) ends with the socket closed, and the promise settles only
 * after ws reported it closed, so a caller counting sockets never sees one linger.
 */
import WebSocket from 'ws';
import { signValidatorAuth, type Hotkey } from '../../crypto';
import { minerToValidatorCodec, validatorToMinerCodec, type ExecutorClass } from '../../protocol';
import { systemTimers, type Timers } from '../../resilience/retry';
import type { Clock } from '../../util/clock';
import { ManifestClosedError, ManifestConnectError, ManifestProtocolError, ManifestRefusedError } from './manifestErrors';
import { MANIFEST_CLOSE_GRACE_MS, MANIFEST_MAX_FRAME_BYTES, MANIFEST_MAX_OTHER_FRAMES } from './routingDefaults';
import type { MinerEndpoint } from './types';

/** The manifest exactly as the miner sent it (decoded; not yet capped). */
export type RawManifest = Readonly<Partial<Record<ExecutorClass, number>>>;

/** Sockets open right now, so that a stopping fetcher can wait for the last one to close. */
export class SocketRegistry {
  private readonly open = new Set<WebSocket>();
  private waiters: Array<() => void> = [];

  get size(): number {
    return this.open.size;
  }

  add(socket: WebSocket): void {
    this.open.add(socket);
  }

  remove(socket: WebSocket): void {
    this.open.delete(socket);
    if (this.open.size > 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Cuts every open socket off (ws then reports each closed). */
  terminateAll(): void {
    for (const socket of this.open) socket.terminate();
  }

  /** Resolves once no socket is open. */
  drained(): Promise<void> {
    if (this.open.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

export interface DialManifestOptions {
  readonly miner: MinerEndpoint;
  readonly validator: Hotkey;
  /** Aborting cuts the socket off; the promise then rejects with the signal's reason. */
  readonly signal: AbortSignal;
  /** Timestamps the auth message. */
  readonly clock: Clock;
  /** For the close grace. @default systemTimers */
  readonly timers?: Timers;
  readonly sockets?: SocketRegistry;
  /** @default MANIFEST_CLOSE_GRACE_MS */
  readonly closeGraceMs?: number;
}

/** `ws://{address}:{port}/v0.1/validator_interface/{validator}` (IPv6 addresses bracketed). */
export function validatorInterfaceUrl(miner: MinerEndpoint, validatorSs58: string): string {
  const host = miner.address.includes(':') && !miner.address.startsWith('[') ? `[${miner.address}]` : miner.address;
  return `ws://${host}:${miner.port}/v0.1/validator_interface/${validatorSs58}`;
}

/**
 * Fetches one miner's manifest. Rejects with `ManifestConnectError`, `ManifestClosedError`, `ManifestRefusedError`,
 * `ManifestProtocolError`, or the signal's reason. Unbounded in time by itself: the caller aborts it (the fetcher's
 * per-attempt timeout does).
 *
 * @example
 * ```ts
 * const manifest = await dialManifest({ miner, validator, signal: AbortSignal.timeout(30_000), clock: systemClock });
 * ```
 */
export function dialManifest(options: DialManifestOptions): Promise<RawManifest> {
  const { miner, validator, signal, clock, sockets } = options;
  const timers = options.timers ?? systemTimers;
  const closeGraceMs = options.closeGraceMs ?? MANIFEST_CLOSE_GRACE_MS;
  const url = validatorInterfaceUrl(miner, validator.ss58);
  if (signal.aborted) return Promise.reject(signal.reason as Error);

  return new Promise<RawManifest>((resolve, reject) => {
    const socket = new WebSocket(url, { maxPayload: MANIFEST_MAX_FRAME_BYTES, perMessageDeflate: false });
    sockets?.add(socket);
    let outcome: { ok: true; manifest: RawManifest } | { ok: false; error: unknown } | undefined;
    let graceTimer: unknown;
    let others = 0;

    const settle = (result: { ok: true; manifest: RawManifest } | { ok: false; error: unknown }): void => {
      if (outcome !== undefined) return;
      outcome = result;
      signal.removeEventListener('abort', onAbort);
      // Already closed: the 'close' handler settles the promise right after.
      if (socket.readyState === WebSocket.CLOSED) return;
      if (result.ok && socket.readyState === WebSocket.OPEN) {
        socket.close(1000);
        // A miner that never answers our close frame is cut off rather than waited on for ws's 30 s.
        graceTimer = timers.setTimeout(() => socket.terminate(), closeGraceMs);
      } else socket.terminate();
    };
    const finish = (): void => {
      if (graceTimer !== undefined) timers.clearTimeout(graceTimer);
      sockets?.remove(socket);
      if (outcome === undefined) return;
      if (outcome.ok) resolve(outcome.manifest);
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a HordeError, or the abort reason as given
      else reject(outcome.error);
    };
    function onAbort(): void {
      settle({ ok: false, error: signal.reason });
    }
    signal.addEventListener('abort', onAbort, { once: true });

    socket.on('open', () => {
      if (outcome !== undefined) return;
      try {
        socket.send(validatorToMinerCodec.encode({ ...signValidatorAuth(validator, miner.hotkey, clock), message_type: 'ValidatorAuthForMiner' }));
      } catch (error) {
        settle({ ok: false, error });
      }
    });
    socket.on('message', (data, isBinary) => {
      if (outcome !== undefined) return;
      const decoded = isBinary ? undefined : minerToValidatorCodec.decode(rawText(data));
      if (decoded?.ok === true) {
        const message = decoded.value;
        if (message.message_type === 'V0ExecutorManifestRequest') {
          settle({ ok: true, manifest: message.manifest });
          return;
        }
        if (message.message_type === 'GenericError') {
          settle({ ok: false, error: new ManifestRefusedError(url, message.details) });
          return;
        }
      }
      // Job messages may come first on a connection (upstream allows it); tolerate a few, not a flood.
      others++;
      if (others > MANIFEST_MAX_OTHER_FRAMES)
        settle({ ok: false, error: new ManifestProtocolError(url, `${others} frames without a manifest`) });
    });
    socket.on('error', (error) => settle({ ok: false, error: new ManifestConnectError(url, error) }));
    socket.on('close', (code, reason) => {
      settle({ ok: false, error: new ManifestClosedError(url, code, reason.toString('utf8')) });
      finish();
    });
  });
}

function rawText(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
