/**
 * One validator connection on the facilitator (upstream's `ValidatorConsumer` on `/ws/v0/`), run by the acceptor as
 * the role logic of the route.
 *
 * Lifecycle: awaitingAuth → authenticated.live (↺ on every heartbeat) → closed, or → refusing / evicting → closed.
 * - The first useful message must be `V0AuthenticationRequest`: a bad signature gets `Response` error
 *   `auth.signature_invalid` and close 3000; an unknown or inactive validator `auth.validator_not_found` and close
 *   3001; success gets `Response` success, and the connection joins the validator's channel group (every connection
 *   of a validator gets every job), which first redelivers the validator's jobs it never acknowledged.
 * - Anything else before auth gets `Response` error `auth.not_authenticated` (the connection stays up until the
 *   acceptor's auth deadline); a second auth gets `auth.already_authenticated`.
 * - `V0Heartbeat` refreshes the connection (no reply); `V0JobStatusUpdate` is stored and answered `Response`
 *   success, or `job.not_found` / `job.integrity_error`; `V0MachineSpecsUpdate` is accepted without a reply; a frame
 *   the codec refuses gets a `Response` error shaped like a pydantic validation error.
 * - No heartbeat for `evictAfterMs` → close 3001 (upstream evicts channels with a heartbeat older than 10 min).
 *
 * Built per facilitator by {@link createFacilitatorSessionMachine}: the acceptor gives every connection the same
 * input, so the facilitator's services are bound when the machine is made. Time comes from the actor system's clock.
 */
import { enqueueActions, fromCallback, setup } from 'xstate';
import type {
  FacilitatorToValidatorMessageInput,
  ResponseError,
  V0AuthenticationRequest,
  V0JobStatusUpdate,
  V0MachineSpecsUpdate,
  ValidatorToFacilitatorMessage,
} from '../protocol';
import type { DecodeError } from '../protocol/codec.types';
import type {
  ConnectionBehaviourInput,
  ConnectionCommand,
  ConnectionHandle,
  ConnectionRoleEvent,
} from '../transport/acceptor/connection.types';

/** Close code of a bad authentication signature (upstream). */
export const FACILITATOR_CLOSE_BAD_SIGNATURE = 3000;
/** Close code of an unknown/inactive/deregistered validator or a stale heartbeat (upstream). */
export const FACILITATOR_CLOSE_UNKNOWN_VALIDATOR = 3001;

/** What checking a `V0AuthenticationRequest` came to. */
export type AuthVerdict =
  | { readonly kind: 'ok'; readonly hotkey: string }
  | { readonly kind: 'bad_signature'; readonly message: string }
  | { readonly kind: 'unknown_validator'; readonly hotkey: string; readonly message: string };

/** What storing a status update came to. */
export type StatusVerdict = 'stored' | 'not_found' | 'duplicate';

/** How a session ended or was refused, for metrics. */
export type SessionOutcome = 'authenticated' | 'bad_signature' | 'unknown_validator' | 'evicted';

/** Where a session reports what it does (metrics, logs). */
export interface FacilitatorSessionObserver {
  opened(): void;
  closed(): void;
  outcome(outcome: SessionOutcome): void;
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Readonly<Record<string, unknown>>): void;
}

/** A validator connection as the facilitator's registry sees it. */
export interface ValidatorChannel {
  readonly connectionId: string;
  readonly hotkey: string;
  readonly connection: ConnectionHandle<FacilitatorToValidatorMessageInput>;
}

/** The facilitator services a session uses; bound once per facilitator. */
export interface FacilitatorSessionServices {
  /** Signature, then metagraph standing. */
  verifyAuth(message: V0AuthenticationRequest): AuthVerdict;
  /** The connection joins its validator's group; jobs not yet received are redelivered on it. */
  attach(channel: ValidatorChannel): void;
  /** The connection left the group (closed, evicted or stopped). */
  detach(channel: ValidatorChannel): void;
  /** A heartbeat (refreshes the validator's freshness). */
  heartbeat(channel: ValidatorChannel): void;
  /** Stores a status update reported by `validatorHotkey`. */
  storeStatus(validatorHotkey: string, update: V0JobStatusUpdate): StatusVerdict;
  machineSpecs(validatorHotkey: string, update: V0MachineSpecsUpdate): void;
  /** No heartbeat for this long closes the connection with 3001. */
  readonly evictAfterMs: number;
  readonly observer: FacilitatorSessionObserver;
}

/** Events the session handles: the acceptor's role events plus the ones it raises itself. */
export type FacilitatorSessionEvent =
  | ConnectionRoleEvent<ValidatorToFacilitatorMessage>
  | { readonly type: 'session.auth.accepted'; readonly hotkey: string }
  | { readonly type: 'session.auth.refused'; readonly closeCode: number; readonly errorType: string; readonly message: string; readonly outcome: SessionOutcome };

interface SessionContext {
  readonly connectionId: string;
  readonly connection: ConnectionHandle<FacilitatorToValidatorMessageInput>;
  /** Set once authenticated. */
  hotkey: string | undefined;
}

type Out = ConnectionCommand<FacilitatorToValidatorMessageInput>;

const send = (message: FacilitatorToValidatorMessageInput): Out => ({ type: 'connection.send', message });
const success = (): Out => send({ status: 'success', errors: [] });
const failure = (type: string, msg: string, extra: Readonly<Record<string, unknown>> = {}): Out =>
  send({ status: 'error', errors: [{ msg, type, help: '', ...extra }] });

/** Path `a.b[0].c` → pydantic `loc` `["a", "b", 0, "c"]`. */
export function locOf(path: string | undefined): Array<string | number> {
  if (path === undefined || path === '') return [];
  const loc: Array<string | number> = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]/g)) {
    if (m[2] !== undefined) loc.push(Number(m[2]));
    else if (m[3] !== undefined) loc.push(JSON.parse(`"${m[3]}"`) as string);
    else if (m[1] !== undefined) loc.push(m[1]);
  }
  return loc;
}

/** The pydantic-like `Response` error of a frame the codec refused. */
export function decodeErrorResponse(error: DecodeError): FacilitatorToValidatorMessageInput {
  const type =
    error.code === 'frame.malformed_json'
      ? 'json_invalid'
      : error.code === 'frame.unknown_message_type'
        ? 'union_tag_invalid'
        : error.code === 'frame.too_large'
          ? 'frame_too_large'
          : 'value_error';
  return { status: 'error', errors: [{ msg: error.message, type, help: '', loc: locOf(error.path) } as ResponseError] };
}

/**
 * Sends a command to the connection at once, in the order the session acts: the services it calls (attach →
 * redelivery) send to the same connection synchronously, and XState's deferred `sendTo` would let them overtake
 * the session's own `Response`.
 */
function toConnection(enqueue: (action: () => void) => void, connection: SessionContext['connection'], command: Out): void {
  enqueue(() => connection.send(command));
}

function isMessage<T extends ValidatorToFacilitatorMessage['message_type']>(
  event: FacilitatorSessionEvent,
  type: T,
): event is { type: 'connection.message'; message: Extract<ValidatorToFacilitatorMessage, { message_type: T }> } {
  return event.type === 'connection.message' && event.message.message_type === type;
}

/**
 * Builds the session machine bound to `services` (see the module comment).
 *
 * @example
 * ```ts
 * const behaviour = createFacilitatorSessionMachine(services);
 * createAcceptor({ server, routes: [{ name: 'facilitator', path: '/ws/v0/',
 *   codec: duplexCodec(validatorToFacilitatorCodec, facilitatorToValidatorCodec), behaviour }] });
 * ```
 */
export function createFacilitatorSessionMachine(services: FacilitatorSessionServices) {
  const { observer } = services;
  const channelOf = (context: SessionContext): ValidatorChannel => ({
    connectionId: context.connectionId,
    hotkey: context.hotkey ?? '',
    connection: context.connection,
  });

  return setup({
    types: {
      context: {} as SessionContext,
      input: {} as ConnectionBehaviourInput<FacilitatorToValidatorMessageInput>,
      events: {} as FacilitatorSessionEvent,
    },
    delays: {
      evictAfterMs: () => services.evictAfterMs,
    },
    actors: {
      // Counts the session as open for exactly as long as the actor lives, however it ends (a forced stop included).
      presence: fromCallback(() => {
        observer.opened();
        return () => observer.closed();
      }),
      // Membership of the validator's group for exactly as long as the session is authenticated.
      membership: fromCallback<{ type: string }, ValidatorChannel>(({ input }) => {
        services.attach(input);
        return () => services.detach(input);
      }),
    },
    actions: {
      checkAuth: enqueueActions(({ event, enqueue }) => {
        if (!isMessage(event, 'V0AuthenticationRequest')) return;
        const verdict = services.verifyAuth(event.message);
        switch (verdict.kind) {
          case 'ok':
            enqueue.raise({ type: 'session.auth.accepted', hotkey: verdict.hotkey });
            return;
          case 'bad_signature':
            enqueue.raise({
              type: 'session.auth.refused',
              closeCode: FACILITATOR_CLOSE_BAD_SIGNATURE,
              errorType: 'auth.signature_invalid',
              message: verdict.message,
              outcome: 'bad_signature',
            });
            return;
          case 'unknown_validator':
            enqueue.raise({
              type: 'session.auth.refused',
              closeCode: FACILITATOR_CLOSE_UNKNOWN_VALIDATOR,
              errorType: 'auth.validator_not_found',
              message: verdict.message,
              outcome: 'unknown_validator',
            });
            return;
        }
      }),
      accept: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'session.auth.accepted') return;
        enqueue.assign({ hotkey: event.hotkey });
        toConnection(enqueue, context.connection, { type: 'connection.authenticated', identity: event.hotkey });
        toConnection(enqueue, context.connection, success());
        const hotkey = event.hotkey;
        enqueue(() => {
          observer.outcome('authenticated');
          observer.log('info', 'validator authenticated', { validator: hotkey, connection: context.connectionId });
        });
      }),
      refuse: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'session.auth.refused') return;
        toConnection(enqueue, context.connection, failure(event.errorType, event.message));
        toConnection(enqueue, context.connection, { type: 'connection.close', code: event.closeCode, reason: event.message.slice(0, 100) });
        const { outcome, message } = event;
        enqueue(() => {
          observer.outcome(outcome);
          observer.log('info', 'validator refused', { outcome, reason: message, connection: context.connectionId });
        });
      }),
      notAuthenticated: enqueueActions(({ context, enqueue }) => {
        toConnection(enqueue, context.connection, failure('auth.not_authenticated', 'Not authenticated'));
      }),
      alreadyAuthenticated: enqueueActions(({ context, enqueue }) => {
        toConnection(enqueue, context.connection, failure('auth.already_authenticated', 'Already authenticated'));
      }),
      answerMalformed: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'connection.decode_error') return;
        toConnection(enqueue, context.connection, send(decodeErrorResponse(event.error)));
      }),
      recordHeartbeat: ({ context }) => services.heartbeat(channelOf(context)),
      storeStatus: enqueueActions(({ context, event, enqueue }) => {
        if (!isMessage(event, 'V0JobStatusUpdate')) return;
        const update = event.message;
        const hotkey = context.hotkey ?? '';
        const connection = context.connection;
        enqueue(() => {
          const verdict = services.storeStatus(hotkey, update);
          if (verdict === 'stored') connection.send(success());
          else if (verdict === 'not_found') connection.send(failure('job.not_found', `Job ${update.uuid} not found`));
          else connection.send(failure('job.integrity_error', `Job ${update.uuid} already has status ${update.status}`));
        });
      }),
      storeSpecs: ({ context, event }) => {
        if (isMessage(event, 'V0MachineSpecsUpdate')) services.machineSpecs(context.hotkey ?? '', event.message);
      },
      evict: enqueueActions(({ context, enqueue }) => {
        toConnection(enqueue, context.connection, {
          type: 'connection.close',
          code: FACILITATOR_CLOSE_UNKNOWN_VALIDATOR,
          reason: 'heartbeat timeout',
        });
        const hotkey = context.hotkey;
        enqueue(() => {
          observer.outcome('evicted');
          observer.log('warn', 'validator connection evicted: no heartbeat', { validator: hotkey, connection: context.connectionId });
        });
      }),
    },
  }).createMachine({
    id: 'facilitatorSession',
    context: ({ input }) => ({ connectionId: input.connectionId, connection: input.connection, hotkey: undefined }),
    invoke: { src: 'presence' },
    initial: 'awaitingAuth',
    states: {
      // Connected, not authenticated: only V0AuthenticationRequest is acted on; everything else is refused.
      awaitingAuth: {
        on: {
          'connection.message': [
            { guard: ({ event }) => event.message.message_type === 'V0AuthenticationRequest', actions: 'checkAuth' },
            { actions: 'notAuthenticated' },
          ],
          'connection.decode_error': { actions: 'answerMalformed' },
          'session.auth.accepted': { target: 'authenticated', actions: 'accept' },
          'session.auth.refused': { target: 'refusing', actions: 'refuse' },
          'connection.closed': 'closed',
        },
      },
      // Refused (3000/3001 sent): waiting for the socket to be gone.
      refusing: {
        on: { 'connection.closed': 'closed' },
      },
      // Authenticated: member of the validator's group, gets jobs, reports statuses; evicted without heartbeats.
      authenticated: {
        tags: ['authenticated'],
        invoke: { src: 'membership', input: ({ context }) => channelOf(context) },
        initial: 'live',
        states: {
          // Heard from within evictAfterMs; each heartbeat re-enters this state and restarts the timer.
          live: {
            after: { evictAfterMs: { target: '#facilitatorSession.evicting', actions: 'evict' } },
          },
        },
        on: {
          'connection.message': [
            { guard: ({ event }) => event.message.message_type === 'V0Heartbeat', target: '.live', reenter: true, actions: 'recordHeartbeat' },
            { guard: ({ event }) => event.message.message_type === 'V0JobStatusUpdate', actions: 'storeStatus' },
            { guard: ({ event }) => event.message.message_type === 'V0MachineSpecsUpdate', actions: 'storeSpecs' },
            { guard: ({ event }) => event.message.message_type === 'V0AuthenticationRequest', actions: 'alreadyAuthenticated' },
          ],
          'connection.decode_error': { actions: 'answerMalformed' },
          'connection.closed': 'closed',
        },
      },
      // Evicted (3001 sent): out of the group, waiting for the socket to be gone.
      evicting: {
        on: { 'connection.closed': 'closed' },
      },
      // The connection is over. Final.
      closed: { type: 'final' },
    },
  });
}

/** The session machine type (one per facilitator). */
export type FacilitatorSessionMachine = ReturnType<typeof createFacilitatorSessionMachine>;
