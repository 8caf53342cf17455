import { createActor, type ActorOptions, type Actor } from 'xstate';
import { withFastSend } from './fastSend';
import { wsSocket } from './socket';
import { transportMachine, type TransportInput } from './transport.machine';

/** The transport machine wired to real `ws` sockets, with the fast send path (fastSend.ts). */
export const wsTransportMachine = withFastSend(transportMachine.provide({ actors: { socket: wsSocket } }));

/** A running transport actor. */
export type TransportActor = Actor<typeof wsTransportMachine>;

/**
 * Creates (does not start) a transport actor on real `ws` sockets. `actorOptions` passes XState options through
 * (`clock`, `inspect`, `id`).
 *
 * @example
 * ```ts
 * const transport = createTransport({ url: 'ws://127.0.0.1:8000/ws/v0/', codec, options: { reliable: true } });
 * transport.on('transport.message', ({ message }) => handle(message));
 * transport.on('transport.gave_up', ({ error }) => log.error(error));
 * transport.start();
 * transport.send({ type: 'transport.send', message });
 * // later
 * transport.send({ type: 'transport.close' });
 * ```
 */
export function createTransport<In, Out>(
  input: TransportInput<In, Out>,
  actorOptions: Omit<ActorOptions<typeof wsTransportMachine>, 'input'> = {},
): TransportActor {
  return createActor(wsTransportMachine, { ...actorOptions, input: input });
}
