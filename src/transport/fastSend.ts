import { canTransmit, transmit } from './link';
import type { transportMachine } from './transport.machine';

type TransportLogic = typeof transportMachine;
type Snapshot = ReturnType<TransportLogic['getInitialSnapshot']>;
type Event = Parameters<TransportLogic['transition']>[1];
type Scope = Parameters<TransportLogic['transition']>[2];

/** True when the snapshot is `online.open` (not connecting, not closing). */
function isOpen(snapshot: Snapshot): boolean {
  const value = snapshot.value as unknown;
  if (typeof value !== 'object' || value === null) return false;
  const online = (value as { online?: unknown }).online;
  return typeof online === 'object' && online !== null && 'open' in online;
}

/**
 * Wraps the transport machine so that the commonest event, `transport.send` on an open, uncongested socket with
 * nothing queued, skips XState's macrostep: it encodes and writes at once and returns the snapshot unchanged.
 *
 * Why: on this hardware one machine transition costs several times a `ws.send` of a small frame (measured in
 * `bench/transport.ts`), and in that situation the machine's own transition is targetless and does exactly this
 * (`sendOrQueue` in link.ts, shared by both). Every other event, and every send that would queue, overflow or fail
 * to encode, goes through the machine unchanged. The event still passes through the actor's mailbox, so ordering
 * with other events is preserved, and `@xstate.event`/`@xstate.snapshot` inspection still sees it.
 *
 * @example
 * ```ts
 * const logic = withFastSend(transportMachine.provide({ actors: { socket: wsSocket } }));
 * const actor = createActor(logic, { input });
 * ```
 */
export function withFastSend(machine: TransportLogic): TransportLogic {
  const fast = Object.create(machine) as TransportLogic;
  fast.transition = (snapshot: Snapshot, event: Event, actorScope: Scope): Snapshot => {
    if (event.type === 'transport.send' && snapshot.status === 'active' && isOpen(snapshot)) {
      const context = snapshot.context;
      if (context.outbox.size === 0 && canTransmit(context)) {
        let text: string | undefined;
        try {
          text = context.codec.encode(event.message);
        } catch {
          // the machine path encodes again and reports the error as transport.encode_error
        }
        if (text !== undefined) {
          transmit(context, text);
          return snapshot;
        }
      }
    }
    return machine.transition(snapshot, event, actorScope);
  };
  fast.provide = (implementations) => withFastSend(machine.provide(implementations));
  return fast;
}
