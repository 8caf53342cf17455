import type { IncomingHttpHeaders } from 'node:http';
import type { ActorLogic, ActorRef, Snapshot } from 'xstate';
import type { DecodeError } from '../../protocol/codec.types';
import type { PathParams } from './routes';

/**
 * Commands a connection accepts from its role logic (and from anyone holding its handle, e.g. a facilitator fanning a
 * job out to every connection of one validator).
 */
export type ConnectionCommand<Out = unknown> =
  /** Encode `message` with the route's codec and send it (dropped and counted once the connection is closing). */
  | { readonly type: 'connection.send'; readonly message: Out }
  /** The role verified the peer: stop the auth deadline and register the connection under `identity`. */
  | { readonly type: 'connection.authenticated'; readonly identity: string }
  /** Close with this code and reason (see `closeEventFor()` to build it from an error code). */
  | { readonly type: 'connection.close'; readonly code: number; readonly reason: string };

/** Commands from the acceptor or a supervisor: wind down with 1001. */
export type ConnectionShutdownEvent =
  /** The supervisor's graceful-stop protocol; the connection closes with 1001 and its default close timeout. */
  | { readonly type: 'supervisor.shutdown' }
  /** `acceptor.close()`: close with 1001 (or `reason`) and terminate the socket after `graceMs` at the latest. */
  | { readonly type: 'connection.shutdown'; readonly reason?: string; readonly graceMs?: number };

/** Who ended a connection: we sent the close (or terminated the socket), or the peer did. */
export type CloseInitiator = 'server' | 'peer';

/** Events a connection delivers to its role logic. */
export type ConnectionRoleEvent<In = unknown> =
  /** One decoded incoming message (before and after authentication: the role sees the auth message too). */
  | { readonly type: 'connection.message'; readonly message: In }
  /** An incoming frame the codec refused; the connection stays open (the role may answer `GenericError`). */
  | { readonly type: 'connection.decode_error'; readonly error: DecodeError }
  /** The socket is gone; the role logic is stopped right after this event. */
  | {
      readonly type: 'connection.closed';
      readonly code: number;
      readonly reason: string;
      readonly initiator: CloseInitiator;
    };

/**
 * A live connection as seen from outside: send it {@link ConnectionCommand}s (or a shutdown event).
 *
 * @example
 * ```ts
 * connection.send({ type: 'connection.send', message: { message_type: 'GenericError', details: 'Malformed message' } });
 * ```
 */
export type ConnectionHandle<Out = unknown> = ActorRef<Snapshot<unknown>, ConnectionCommand<Out> | ConnectionShutdownEvent>;

/** What the role logic of a route is given when its connection starts. */
export interface ConnectionBehaviourInput<Out = unknown> {
  /** Unique per acceptor (`<route>-<n>`). */
  readonly connectionId: string;
  /** The route's name. */
  readonly route: string;
  /** Parameters of the route's path pattern, e.g. `{ validator_hotkey }`. */
  readonly params: PathParams;
  /** Headers of the upgrade request (e.g. `x-validator-version`). */
  readonly headers: IncomingHttpHeaders;
  /** The peer's address as the socket sees it (a proxy's `X-Real-IP` is in `headers`). */
  readonly remoteAddress: string | undefined;
  /** True when the peer negotiated reliable mode (`x-horde-reliable: 1`). */
  readonly reliable: boolean;
  /** This connection. */
  readonly connection: ConnectionHandle<Out>;
}

/**
 * The role's logic for one connection: any actor logic (usually a machine) that takes
 * {@link ConnectionBehaviourInput} and receives {@link ConnectionRoleEvent}s. It decides authentication by sending
 * `connection.authenticated` or `connection.close`. Reaching a final state closes the connection with 1000; failing
 * closes it with 1011.
 */
export type ConnectionBehaviour<In = unknown, Out = unknown> = ActorLogic<
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  any,
  ConnectionRoleEvent<In>,
  ConnectionBehaviourInput<Out>,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  any,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  any
>;
