/**
 * Socket writes of one acceptor, coalesced per event-loop turn. Each write to a local peer is a system call that
 * also runs the peer's TCP receive path and wakes it; written one by one, interleaved with the work that produces them,
 * they cost the writer several times what the same writes cost back to back (measured on the 2-core VM: 100 small
 * `ws.send`s cost ~6 ms of CPU one per 0.3 ms of work, ~2.5 ms back to back). A server answering a burst of requests
 * (`bench/miner.ts`: 100 initial requests at once) spent about half its CPU in those writes.
 *
 * Bounds: a held write goes out at the end of the current poll phase (`setImmediate`), or as soon as another write is
 * queued `maxDelayMs` after the oldest held one, whichever comes first. Each socket keeps its own writes in order
 * (the socket actor holds them); only writes to different sockets are batched together.
 */
import { toError } from '../../util/errors';
import { ACCEPTOR_DEFAULT_WRITE_COALESCE_MAX_DELAY_MS } from './defaults';

/** Writes the held frames of one socket, in order. Must not throw (the socket actor reports its own failures). */
export type SocketFlush = () => void;

/** Options of {@link WriteCoalescer}. */
export interface WriteCoalescerOptions {
  /** 0 writes at once (no coalescing). */
  readonly maxDelayMs?: number;
  /** Monotonic milliseconds (default `performance.now`). */
  readonly nowMs?: () => number;
  /** Runs a callback after the I/O callbacks of this turn (default `setImmediate`). */
  readonly schedule?: (callback: () => void) => void;
  /** Told when a socket's flush throws despite its contract (the other sockets are still flushed). */
  readonly onError: (error: Error) => void;
}

/**
 * The set of sockets with writes held (see the module comment).
 *
 * @example
 * ```ts
 * const coalescer = new WriteCoalescer({ maxDelayMs: 4, onError: (e) => logger.error(e.message) });
 * held.push(text);
 * coalescer.add(flushThisSocket); // runs at the end of the turn (or sooner, see maxDelayMs)
 * ```
 */
export class WriteCoalescer {
  private readonly dirty = new Set<SocketFlush>();
  private firstAtMs = 0;
  private scheduled = false;
  private readonly maxDelayMs: number;
  private readonly nowMs: () => number;
  private readonly schedule: (callback: () => void) => void;

  constructor(private readonly options: WriteCoalescerOptions) {
    this.maxDelayMs = options.maxDelayMs ?? ACCEPTOR_DEFAULT_WRITE_COALESCE_MAX_DELAY_MS;
    this.nowMs = options.nowMs ?? (() => performance.now());
    this.schedule = options.schedule ?? ((callback) => setImmediate(callback));
  }

  /** False when every write goes out at once (`maxDelayMs` 0). */
  get enabled(): boolean {
    return this.maxDelayMs > 0;
  }

  /** Sockets with writes held. */
  get size(): number {
    return this.dirty.size;
  }

  /** A socket has a write held: its `flush` runs once, at the end of the turn (or sooner). */
  add(flush: SocketFlush): void {
    if (!this.enabled) {
      this.run(flush);
      return;
    }
    const now = this.nowMs();
    if (this.dirty.size === 0) {
      this.firstAtMs = now;
      if (!this.scheduled) {
        this.scheduled = true;
        this.schedule(this.onTurnEnd);
      }
    }
    this.dirty.add(flush);
    if (now - this.firstAtMs >= this.maxDelayMs) this.flushAll();
  }

  /** Writes everything held now. */
  flushAll(): void {
    if (this.dirty.size === 0) return;
    const sockets = [...this.dirty];
    this.dirty.clear();
    for (const flush of sockets) this.run(flush);
  }

  private readonly onTurnEnd = (): void => {
    this.scheduled = false;
    this.flushAll();
  };

  private run(flush: SocketFlush): void {
    try {
      flush();
    } catch (error) {
      this.options.onError(toError(error));
    }
  }
}
