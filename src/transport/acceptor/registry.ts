import { createStore } from '@xstate/store';
import type { ConnectionHandle } from './connection.types';

/** One live connection in the registry. */
export interface ConnectionEntry {
  readonly connectionId: string;
  readonly route: string;
  /** Set once the role logic authenticated the peer (e.g. the validator hotkey). */
  readonly identity: string | undefined;
  readonly connection: ConnectionHandle;
}

/** The observable summary of the registry: small, immutable, one new object per change. */
export interface RegistrySummary {
  /** Increases on every change; compare it to know whether to query again. */
  readonly version: number;
  /** Live connections. */
  readonly size: number;
  /** Live connections that authenticated. */
  readonly authenticated: number;
}

const EMPTY_SUMMARY: RegistrySummary = { version: 0, size: 0, authenticated: 0 };

function createRegistryStore() {
  return createStore({
    context: EMPTY_SUMMARY,
    on: {
      opened: (context, _event: { connectionId: string }) => ({
        ...context,
        version: context.version + 1,
        size: context.size + 1,
      }),
      authenticated: (context, _event: { connectionId: string; identity: string }) => ({
        ...context,
        version: context.version + 1,
        authenticated: context.authenticated + 1,
      }),
      closed: (context, event: { connectionId: string; wasAuthenticated: boolean }) => ({
        version: context.version + 1,
        size: context.size - 1,
        authenticated: context.authenticated - (event.wasAuthenticated ? 1 : 0),
      }),
    },
  });
}

/** The `@xstate/store` carrying the registry's summary, for subscriptions and selectors. */
export type ConnectionRegistryStore = ReturnType<typeof createRegistryStore>;

/**
 * Every live connection of one acceptor, by id, route and identity: plain shared state with no lifecycle of its own,
 * written by the connection actors and read by whoever fans messages out (the facilitator sends each job to every
 * connection of a validator hotkey).
 *
 * The entries live in Maps owned here, with an index by identity, so that opening, authenticating, closing and
 * looking up are O(1) whatever the number of connections; an immutable copy per change (a Record or a Map inside
 * the store) cost 0.3–5 ms per change at 1,000 connections. Changes are published through {@link store}, whose
 * context is a small {@link RegistrySummary}.
 *
 * @example
 * ```ts
 * for (const entry of acceptor.connections.byIdentity(hotkey)) {
 *   entry.connection.send({ type: 'connection.send', message: jobRequest });
 * }
 * acceptor.connections.store.subscribe(({ context }) => gauge.record(context.size));
 * ```
 */
export class ConnectionRegistry {
  readonly store: ConnectionRegistryStore = createRegistryStore();
  private readonly entries = new Map<string, ConnectionEntry>();
  private readonly idsByIdentity = new Map<string, Set<string>>();

  /** Number of live connections. */
  get size(): number {
    return this.entries.size;
  }

  get(connectionId: string): ConnectionEntry | undefined {
    return this.entries.get(connectionId);
  }

  /** All live connections, oldest first. */
  all(): ConnectionEntry[] {
    return [...this.entries.values()];
  }

  /** Authenticated connections of one identity, oldest first (several per validator are allowed, as upstream). */
  byIdentity(identity: string): ConnectionEntry[] {
    const ids = this.idsByIdentity.get(identity);
    if (ids === undefined) return [];
    const found: ConnectionEntry[] = [];
    for (const id of ids) {
      const entry = this.entries.get(id);
      if (entry !== undefined) found.push(entry);
    }
    return found;
  }

  /** Live connections of one route. */
  byRoute(route: string): ConnectionEntry[] {
    const found: ConnectionEntry[] = [];
    for (const entry of this.entries.values()) if (entry.route === route) found.push(entry);
    return found;
  }

  /** @internal Written by connection actors. */
  opened(connectionId: string, route: string, connection: ConnectionHandle): void {
    if (this.entries.has(connectionId)) return;
    this.entries.set(connectionId, { connectionId, route, identity: undefined, connection });
    this.store.trigger.opened({ connectionId });
  }

  /** @internal An identity is set once; a second one is ignored (the connection actor allows one). */
  authenticated(connectionId: string, identity: string): void {
    const entry = this.entries.get(connectionId);
    if (entry === undefined || entry.identity !== undefined) return;
    this.entries.set(connectionId, { ...entry, identity });
    let ids = this.idsByIdentity.get(identity);
    if (ids === undefined) this.idsByIdentity.set(identity, (ids = new Set()));
    ids.add(connectionId);
    this.store.trigger.authenticated({ connectionId, identity });
  }

  /** @internal */
  closed(connectionId: string): void {
    const entry = this.entries.get(connectionId);
    if (entry === undefined) return;
    this.entries.delete(connectionId);
    if (entry.identity !== undefined) {
      const ids = this.idsByIdentity.get(entry.identity);
      ids?.delete(connectionId);
      if (ids?.size === 0) this.idsByIdentity.delete(entry.identity);
    }
    this.store.trigger.closed({ connectionId, wasAuthenticated: entry.identity !== undefined });
  }
}
