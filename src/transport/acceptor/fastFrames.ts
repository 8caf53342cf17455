import type { AnyActorRef } from 'xstate';
import type { connectionMachine } from './connection.machine';
import type { ConnectionRoleEvent } from './connection.types';
import type { SocketCommand } from './socket.types';

type ConnectionLogic = typeof connectionMachine;
type Snapshot = ReturnType<ConnectionLogic['getInitialSnapshot']>;
type Event = Parameters<ConnectionLogic['transition']>[1];
type Scope = Parameters<ConnectionLogic['transition']>[2];

/** True when the snapshot is `open` (neither closing nor closed). */
function isOpen(snapshot: Snapshot): boolean {
  const value = snapshot.value as unknown;
  return typeof value === 'object' && value !== null && 'open' in value;
}

function child(snapshot: Snapshot, id: 'role' | 'socket'): AnyActorRef | undefined {
  return (snapshot.children as Record<string, AnyActorRef | undefined>)[id];
}

/**
 * Wraps the connection machine so that the two commonest events of an open connection skip XState's macrostep, in
 * the spirit of the transport's `withFastSend`: an inbound frame (`socket.message`) is decoded and handed to the role
 * at once, and an outbound message (`connection.send`) is encoded and handed to the socket actor at once; the
 * snapshot is returned unchanged. In `open` the machine's own transitions for both are targetless and
 * context-free and do exactly this (`deliver`, `encodeAndSend`); a message that fails to encode, an event in any other
 * state, or a connection whose role or socket actor is gone goes through the machine unchanged. The event still
 * passes through the actor's mailbox, so ordering with the connection's other events holds.
 *
 * Why: each request to a miner crossed two connection macrosteps (its frame in, its answer out), a quarter of the
 * miner's CPU in a burst of initial requests (`bench/miner.ts`).
 *
 * @example
 * ```ts
 * const machine = withFastFrames(connectionMachine.provide({ actors: { socket, role } }));
 * ```
 */
export function withFastFrames(machine: ConnectionLogic): ConnectionLogic {
  const fast = Object.create(machine) as ConnectionLogic;
  fast.transition = (snapshot: Snapshot, event: Event, scope: Scope): Snapshot => {
    if (snapshot.status === 'active' && (event.type === 'socket.message' || event.type === 'connection.send') && isOpen(snapshot)) {
      const { context } = snapshot;
      if (event.type === 'socket.message') {
        const role = child(snapshot, 'role');
        if (role !== undefined) {
          const decoded = context.codec.decode(event.text);
          context.metrics.messages.add(1, { route: context.route, direction: 'in' });
          if (decoded.ok) {
            role.send({ type: 'connection.message', message: decoded.value } satisfies ConnectionRoleEvent);
          } else {
            context.metrics.decodeErrors.add(1, { route: context.route });
            role.send({ type: 'connection.decode_error', error: decoded.error } satisfies ConnectionRoleEvent);
          }
          return snapshot;
        }
      } else {
        const socket = child(snapshot, 'socket');
        let text: string | undefined;
        try {
          text = context.codec.encode(event.message);
        } catch {
          // the machine encodes again and ends the connection with connection.encode_failed
        }
        if (socket !== undefined && text !== undefined) {
          socket.send({ type: 'socket.send', text } satisfies SocketCommand);
          context.metrics.messages.add(1, { route: context.route, direction: 'out' });
          return snapshot;
        }
      }
    }
    return machine.transition(snapshot, event, scope);
  };
  fast.provide = (implementations) => withFastFrames(machine.provide(implementations));
  return fast;
}
