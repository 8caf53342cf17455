import type { Clock } from '../../util/clock';
import { ReliableReceiver, ReliableSender } from '../reliable';

/**
 * One client's reliable-mode state on the server, kept across its reconnects: what we sent that it has not acked,
 * and what we delivered from it.
 */
export interface AcceptorReliableSession {
  /** `<request path>|<x-horde-session>`: a session id only resumes on the same path (same hotkey or token). */
  readonly key: string;
  readonly sender: ReliableSender;
  readonly receiver: ReliableReceiver;
  /** The connection using the session now, if any. */
  ownerConnectionId: string | undefined;
  /** When the session was last prepared or released (the TTL counts from here while it has no owner). */
  lastSeenMs: number;
}

/** Why a session was forgotten. */
export type SessionEvictionReason = 'ttl' | 'capacity';

export interface ReliableSessionRegistryOptions {
  /** Most sessions kept, live and detached. */
  readonly capacity: number;
  /** How long a detached session survives. */
  readonly ttlMs: number;
  /** Unacked-frame window of each session's sender. */
  readonly sendCapacity: number;
  readonly clock: Clock;
  /** Called once per forgotten session (metrics). */
  readonly onEvict?: (reason: SessionEvictionReason) => void;
}

/**
 * The server's bounded registry of reliable sessions. No timers: expired sessions are swept whenever a session is
 * prepared, which is the only moment memory grows.
 *
 * Overflow policy: when `capacity` sessions exist, the least recently used detached one is evicted; if every session
 * has a live connection, `prepare` refuses (the acceptor answers the upgrade with 503).
 *
 * @example
 * ```ts
 * const sessions = new ReliableSessionRegistry({ capacity: 10_000, ttlMs: 300_000, sendCapacity: 1000, clock: systemClock });
 * const session = sessions.prepare(`${path}|${sessionId}`);          // before the 101: its receiver says last-received
 * const superseded = sessions.attach(session, connectionId);         // after the upgrade
 * sessions.release(session, connectionId);                            // when the socket closes
 * ```
 */
export class ReliableSessionRegistry {
  /** Insertion order is recency order: `prepare` moves a session to the end. */
  private readonly sessions = new Map<string, AcceptorReliableSession>();

  constructor(private readonly options: ReliableSessionRegistryOptions) {}

  get size(): number {
    return this.sessions.size;
  }

  get(key: string): AcceptorReliableSession | undefined {
    return this.sessions.get(key);
  }

  /** The session for `key`, created when new; `undefined` when the registry is full of live sessions. */
  prepare(key: string): AcceptorReliableSession | undefined {
    const nowMs = this.options.clock.nowMs();
    this.sweep(nowMs);
    const existing = this.sessions.get(key);
    if (existing !== undefined) {
      this.sessions.delete(key);
      this.sessions.set(key, existing);
      existing.lastSeenMs = nowMs;
      return existing;
    }
    if (this.sessions.size >= this.options.capacity && !this.evictOldestDetached()) return undefined;
    const session: AcceptorReliableSession = {
      key,
      sender: new ReliableSender({ capacity: this.options.sendCapacity }),
      receiver: new ReliableReceiver(),
      ownerConnectionId: undefined,
      lastSeenMs: nowMs,
    };
    this.sessions.set(key, session);
    return session;
  }

  /** Makes `connectionId` the owner; returns the previous owner, which must now be closed (4001). */
  attach(session: AcceptorReliableSession, connectionId: string): string | undefined {
    const previous = session.ownerConnectionId;
    session.ownerConnectionId = connectionId;
    // An evicted session may be re-attached by a connection that prepared it earlier: keep it reachable.
    if (this.sessions.get(session.key) !== session) this.sessions.set(session.key, session);
    return previous !== connectionId ? previous : undefined;
  }

  /** The connection is gone: the session waits for a reconnect, for at most the TTL. */
  release(session: AcceptorReliableSession, connectionId: string): void {
    if (session.ownerConnectionId !== connectionId) return; // superseded: the newer owner keeps it
    session.ownerConnectionId = undefined;
    session.lastSeenMs = this.options.clock.nowMs();
  }

  private sweep(nowMs: number): void {
    for (const [key, session] of this.sessions) {
      if (session.ownerConnectionId === undefined && nowMs - session.lastSeenMs >= this.options.ttlMs) {
        this.sessions.delete(key);
        this.options.onEvict?.('ttl');
      }
    }
  }

  private evictOldestDetached(): boolean {
    for (const [key, session] of this.sessions) {
      if (session.ownerConnectionId === undefined) {
        this.sessions.delete(key);
        this.options.onEvict?.('capacity');
        return true;
      }
    }
    return false;
  }
}
