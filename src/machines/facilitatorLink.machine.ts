/**
 * The lifecycle of the validator's link to the facilitator (`/ws/v0/`): connect, authenticate, then send the
 * durable outbox oldest-first inside a bounded in-flight window, matching each `Response` to the oldest request in
 * flight (Responses carry no id, and the facilitator answers in order). Heartbeats every `heartbeatIntervalMs`.
 *
 * Pure: every effect (start/stop the transport actor, send a frame, read/acknowledge outbox rows, log, count) is a
 * named action the wiring (src/actors/validator/facilitatorLink.ts) provides. Socket-level reconnects happen inside
 * the transport actor (full-jitter backoff, for ever); this machine only leaves `online` when authentication fails,
 * and then starts a fresh transport after its own full-jitter delay.
 *
 * Resend rule: rows in flight when a connection drops are not acknowledged, so they stay in the outbox; the next
 * `ready` starts again from the oldest pending row. The facilitator stores one row per (job, status) and answers a
 * repeat with `job.integrity_error`, which acknowledges the row: each status is stored exactly once.
 */
import { assign, setup, type ActorRefFrom } from 'xstate';
import type { Response } from '../protocol';
import { fullJitterDelayMs, type BackoffPolicy } from '../util/backoff';
import type { Random } from '../util/clock';

/** How a status row left the outbox. */
export type AckOutcome = 'stored' | 'duplicate' | 'job_not_found' | 'refused';

/** What a `Response` to `V0AuthenticationRequest` means. */
export type AuthVerdict =
  | { readonly kind: 'authenticated' }
  /** `auth.not_authenticated`: the answer to a frame that reached the new connection before our auth (ignored). */
  | { readonly kind: 'stale' }
  | { readonly kind: 'refused'; readonly reason: string };

/** What a `Response` to a status update means for the oldest row in flight. */
export type StatusVerdict =
  | { readonly kind: 'ack'; readonly outcome: AckOutcome }
  /** An `auth.*` error: the facilitator no longer knows us; the row stays pending and the link re-authenticates. */
  | { readonly kind: 'reauthenticate'; readonly reason: string };

function errorTypes(response: Response): string[] {
  return response.errors.map((e) => e.type);
}

/**
 * Reads the answer to our `V0AuthenticationRequest`. `auth.already_authenticated` counts as success (we are).
 *
 * @example
 * ```ts
 * classifyAuthResponse({ status: 'error', errors: [{ msg: 'x', type: 'auth.signature_invalid', help: '' }] });
 * // { kind: 'refused', reason: 'auth.signature_invalid' }
 * ```
 */
export function classifyAuthResponse(response: Response): AuthVerdict {
  if (response.status === 'success') return { kind: 'authenticated' };
  const types = errorTypes(response);
  if (types.includes('auth.already_authenticated')) return { kind: 'authenticated' };
  if (types.length > 0 && types.every((t) => t === 'auth.not_authenticated')) return { kind: 'stale' };
  return { kind: 'refused', reason: types[0] ?? 'unknown' };
}

/**
 * Reads the answer to a `V0JobStatusUpdate`. Everything but an `auth.*` error acknowledges the row: resending a
 * refused status for ever would block the outbox behind it.
 *
 * @example
 * ```ts
 * classifyStatusResponse({ status: 'error', errors: [{ msg: 'dup', type: 'job.integrity_error', help: '' }] });
 * // { kind: 'ack', outcome: 'duplicate' }
 * ```
 */
export function classifyStatusResponse(response: Response): StatusVerdict {
  if (response.status === 'success') return { kind: 'ack', outcome: 'stored' };
  const types = errorTypes(response);
  const auth = types.find((t) => t.startsWith('auth.'));
  if (auth !== undefined) return { kind: 'reauthenticate', reason: auth };
  if (types.includes('job.integrity_error')) return { kind: 'ack', outcome: 'duplicate' };
  if (types.includes('job.not_found')) return { kind: 'ack', outcome: 'job_not_found' };
  return { kind: 'ack', outcome: 'refused' };
}

export interface FacilitatorLinkMachineInput {
  /** Most status rows sent and not yet answered. */
  readonly window: number;
  readonly heartbeatIntervalMs: number;
  readonly authTimeoutMs: number;
  /** Delay before a fresh transport after a failed authentication. */
  readonly authRetry: BackoffPolicy;
  readonly random: Random;
}

export interface FacilitatorLinkContext extends FacilitatorLinkMachineInput {
  /** Row ids sent on this connection and not answered yet, oldest first (the FIFO the Responses are matched to). */
  inFlight: readonly number[];
  /** Highest row id sent on this connection (0: none). The next window continues after it. */
  lastSentId: number;
  /** Highest row id ever sent, any connection: a row at or below it is a resend. */
  everSentThrough: number;
  /** Failed authentications since the last success (drives the retry backoff). */
  authFailures: number;
  /** The delay drawn for the current `backingOff`. */
  retryDelayMs: number;
}

/** Events of the link machine (the wiring translates transport events into the `link.transport.*` ones). */
export type FacilitatorLinkEvent =
  /** The transport's socket opened. */
  | { type: 'link.transport.open' }
  /** The transport's socket closed (the transport reconnects by itself). */
  | { type: 'link.transport.closed' }
  /** The transport actor ended without being asked to (it never gives up by default; defensive). */
  | { type: 'link.transport.stopped' }
  /** A `Response` from the facilitator. */
  | { type: 'link.response'; response: Response }
  /** The wiring sent these outbox rows (answer to the `sendWindow` action), oldest first. */
  | { type: 'link.sent'; ids: readonly number[] }
  /** New rows may be in the outbox. */
  | { type: 'link.kick' }
  /** Close the link for good (pending rows stay in the store). */
  | { type: 'link.stop' };

/** Parameters of the `sendWindow` effect: send up to `room` outbox rows with id > `afterId`, then reply `link.sent`. */
export interface SendWindowParams {
  readonly afterId: number;
  readonly room: number;
  /** Rows with id <= this were sent before (count them as resends). */
  readonly resendThrough: number;
}

export interface AcknowledgeParams {
  readonly id: number;
  readonly outcome: AckOutcome;
  readonly response: Response;
}

export interface AuthFailedParams {
  readonly reason: string;
  readonly retryInMs: number;
  readonly failures: number;
}

const noop = (): void => undefined;

function retryAfterFailure(context: FacilitatorLinkContext): Partial<FacilitatorLinkContext> {
  const authFailures = context.authFailures + 1;
  return { authFailures, retryDelayMs: fullJitterDelayMs(context.authRetry, authFailures, context.random) };
}

/**
 * The facilitator link's lifecycle. Provide its effects with `.provide({ actions })`; see facilitatorLink.ts.
 *
 * @example
 * ```ts
 * const actor = createActor(facilitatorLinkMachine.provide({ actions: { startTransport, stopTransport, sendAuth, … } }), {
 *   input: { window: 32, heartbeatIntervalMs: 60_000, authTimeoutMs: 30_000, authRetry, random: systemRandom },
 * });
 * actor.start();
 * actor.send({ type: 'link.kick' });
 * ```
 */
export const facilitatorLinkMachine = setup({
  types: {
    context: {} as FacilitatorLinkContext,
    events: {} as FacilitatorLinkEvent,
    input: {} as FacilitatorLinkMachineInput,
  },
  actions: {
    /** Effect: create and start a transport actor dialling the facilitator. */
    startTransport: noop,
    /** Effect: close the current transport actor (graceful; the wiring bounds the wait). */
    stopTransport: noop,
    /** Effect: send `V0AuthenticationRequest`. */
    sendAuth: noop,
    /** Effect: send `V0Heartbeat`. */
    sendHeartbeat: noop,
    /** Effect: send rows after `afterId` (at most `room`), then reply `link.sent` with their ids. */
    sendWindow: (_, _params: SendWindowParams) => undefined,
    /** Effect: delete the row from the outbox, count and log its outcome. */
    acknowledge: (_, _params: AcknowledgeParams) => undefined,
    /** Effect: authenticated (resolve waiters, gauge up). */
    authenticated: noop,
    /** Effect: no longer authenticated (gauge down). */
    unauthenticated: noop,
    /** Effect: log and count a failed authentication. */
    authFailed: (_, _params: AuthFailedParams) => undefined,
    /** Effect: a Response arrived with nothing in flight. */
    unmatchedResponse: (_, _params: { response: Response }) => undefined,
    resetWindow: assign({ inFlight: [], lastSentId: 0 }),
    recordSent: assign(({ context, event }) => {
      if (event.type !== 'link.sent' || event.ids.length === 0) return {};
      const last = event.ids[event.ids.length - 1]!;
      return {
        inFlight: [...context.inFlight, ...event.ids],
        lastSentId: Math.max(context.lastSentId, last),
        everSentThrough: Math.max(context.everSentThrough, last),
      };
    }),
    shiftInFlight: assign(({ context }) => ({ inFlight: context.inFlight.slice(1) })),
    authSucceeded: assign({ authFailures: 0 }),
    scheduleRetry: assign(({ context }) => retryAfterFailure(context)),
  },
  guards: {
    authAccepted: ({ event }) => event.type === 'link.response' && classifyAuthResponse(event.response).kind === 'authenticated',
    staleAuthAnswer: ({ event }) => event.type === 'link.response' && classifyAuthResponse(event.response).kind === 'stale',
    nothingInFlight: ({ context }) => context.inFlight.length === 0,
    revokesAuth: ({ event }) => event.type === 'link.response' && classifyStatusResponse(event.response).kind === 'reauthenticate',
    windowHasRoom: ({ context }) => context.inFlight.length < context.window,
  },
  delays: {
    heartbeatInterval: ({ context }) => context.heartbeatIntervalMs,
    authTimeout: ({ context }) => context.authTimeoutMs,
    authRetry: ({ context }) => context.retryDelayMs,
  },
}).createMachine({
  id: 'facilitatorLink',
  context: ({ input }) => ({
    ...input,
    inFlight: [],
    lastSentId: 0,
    everSentThrough: 0,
    authFailures: 0,
    retryDelayMs: 0,
  }),
  initial: 'online',
  on: {
    'link.stop': '.stopped',
  },
  states: {
    /** A transport actor exists and dials (and redials, with its own backoff) the facilitator. */
    online: {
      entry: 'startTransport',
      exit: 'stopTransport',
      initial: 'connecting',
      on: {
        'link.transport.stopped': {
          target: 'backingOff',
          actions: [
            'scheduleRetry',
            {
              type: 'authFailed',
              params: ({ context }) => ({ reason: 'transport_stopped', retryInMs: context.retryDelayMs, failures: context.authFailures }),
            },
          ],
        },
      },
      states: {
        /** No socket open: the transport is connecting or waiting out its reconnect delay. */
        connecting: {
          on: { 'link.transport.open': 'authenticating' },
        },
        /** Socket open and V0AuthenticationRequest sent; waiting (at most authTimeoutMs) for its Response. */
        authenticating: {
          entry: 'sendAuth',
          after: {
            authTimeout: {
              target: '#facilitatorLink.backingOff',
              actions: [
                'scheduleRetry',
                {
                  type: 'authFailed',
                  params: ({ context }) => ({ reason: 'timeout', retryInMs: context.retryDelayMs, failures: context.authFailures }),
                },
              ],
            },
          },
          on: {
            'link.response': [
              { guard: 'authAccepted', target: 'ready', actions: 'authSucceeded' },
              { guard: 'staleAuthAnswer' },
              {
                target: '#facilitatorLink.backingOff',
                actions: [
                  'scheduleRetry',
                  {
                    type: 'authFailed',
                    params: ({ context, event }) => ({
                      reason: classifyAuthResponseReason(event),
                      retryInMs: context.retryDelayMs,
                      failures: context.authFailures,
                    }),
                  },
                ],
              },
            ],
            'link.transport.closed': 'connecting',
          },
        },
        /** Authenticated: outbox rows flow oldest-first inside the window; each Response answers the oldest in flight. */
        ready: {
          entry: [
            'resetWindow',
            'authenticated',
            'sendHeartbeat',
            {
              type: 'sendWindow',
              params: ({ context }) => ({ afterId: 0, room: context.window, resendThrough: context.everSentThrough }),
            },
          ],
          exit: ['unauthenticated', 'resetWindow'],
          on: {
            'link.kick': {
              guard: 'windowHasRoom',
              actions: {
                type: 'sendWindow',
                params: ({ context }) => ({
                  afterId: context.lastSentId,
                  room: context.window - context.inFlight.length,
                  resendThrough: context.everSentThrough,
                }),
              },
            },
            'link.sent': { actions: 'recordSent' },
            'link.response': [
              {
                guard: 'revokesAuth',
                target: '#facilitatorLink.backingOff',
                actions: [
                  'scheduleRetry',
                  {
                    type: 'authFailed',
                    params: ({ context, event }) => ({
                      reason: classifyStatusReason(event),
                      retryInMs: context.retryDelayMs,
                      failures: context.authFailures,
                    }),
                  },
                ],
              },
              {
                guard: 'nothingInFlight',
                actions: { type: 'unmatchedResponse', params: ({ event }) => ({ response: (event).response }) },
              },
              {
                actions: [
                  {
                    type: 'acknowledge',
                    params: ({ context, event }) => {
                      const response = (event).response;
                      const verdict = classifyStatusResponse(response);
                      return { id: context.inFlight[0]!, outcome: verdict.kind === 'ack' ? verdict.outcome : 'refused', response };
                    },
                  },
                  'shiftInFlight',
                  {
                    type: 'sendWindow',
                    params: ({ context }) => ({
                      afterId: context.lastSentId,
                      room: context.window - context.inFlight.length,
                      resendThrough: context.everSentThrough,
                    }),
                  },
                ],
              },
            ],
            'link.transport.closed': 'connecting',
          },
          initial: 'beating',
          states: {
            /** Waiting heartbeatIntervalMs for the next V0Heartbeat (re-entered after each one). */
            beating: {
              after: { heartbeatInterval: { target: 'beating', reenter: true, actions: 'sendHeartbeat' } },
            },
          },
        },
      },
    },
    /** Authentication failed or the transport ended: no transport; a fresh one starts after a full-jitter delay. */
    backingOff: {
      after: { authRetry: 'online' },
    },
    /** Final: stop() was called; the transport is closed, unacknowledged rows stay in the outbox. */
    stopped: { type: 'final' },
  },
});

function classifyAuthResponseReason(event: FacilitatorLinkEvent): string {
  if (event.type !== 'link.response') return 'unknown';
  const verdict = classifyAuthResponse(event.response);
  return verdict.kind === 'refused' ? verdict.reason : verdict.kind;
}

function classifyStatusReason(event: FacilitatorLinkEvent): string {
  if (event.type !== 'link.response') return 'unknown';
  const verdict = classifyStatusResponse(event.response);
  return verdict.kind === 'reauthenticate' ? verdict.reason : verdict.outcome;
}

export type FacilitatorLinkActorRef = ActorRefFrom<typeof facilitatorLinkMachine>;
