/**
 * One validator connection on the miner (upstream's `MinerValidatorConsumer`), run by the acceptor as the role logic
 * of `/v0.1/validator_interface/{validator_hotkey}`.
 *
 * Lifecycle: checking → (refusing → closed) | awaitingAuth → serving → closed.
 * - An unknown or inactive validator (per the metagraph) gets `GenericError` and the connection is closed (1000).
 * - `ValidatorAuthForMiner` is verified (10 s freshness, both hotkeys, signature). Nothing is sent before it
 *   succeeds; messages that arrive before it are queued (bounded) and replayed after it, in order.
 * - Right after auth: `V0ExecutorManifestRequest`, then the validator's in-flight jobs are attached to this
 *   connection (a job waiting for its payload re-sends `V0ExecutorReadyRequest`), then the queue is replayed.
 * - Malformed frames are answered with `GenericError("Malformed message: …")`; the connection stays up.
 *
 * The machine is built per miner by {@link createValidatorSessionMachine}: the acceptor gives every connection the
 * same input shape, so the miner's services are bound when the machine is made.
 */
import { assign, enqueueActions, fromCallback, setup } from 'xstate';
import type {
  ExecutorClass,
  MinerToValidatorMessageInput,
  V0InitialJobRequest,
  ValidatorToMinerMessage,
} from '../protocol';
import type {
  ConnectionBehaviourInput,
  ConnectionCommand,
  ConnectionHandle,
  ConnectionRoleEvent,
} from '../transport/acceptor/connection.types';
import type { ValidatorLink } from './minerJob.machine';

/** How a validator stands in the metagraph. */
export type ValidatorStanding = 'active' | 'inactive' | 'unknown';

/** What starting a job for an initial request came to. */
export type StartJobOutcome =
  | { readonly kind: 'started' }
  /** A job with this uuid already exists. */
  | { readonly kind: 'duplicate' }
  /** The jobs supervisor refused (too many jobs). */
  | { readonly kind: 'refused'; readonly reason: string };

/** Where a session reports what it does (metrics, logs). */
export interface ValidatorSessionObserver {
  opened(): void;
  closed(): void;
  outcome(outcome: 'authenticated' | 'unknown_validator' | 'inactive_validator' | 'auth_refused'): void;
  dropped(queue: 'pre_auth'): void;
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Readonly<Record<string, unknown>>): void;
}

/** The miner services a validator session uses; bound once per miner. */
export interface ValidatorSessionServices {
  standing(validatorHotkey: string): ValidatorStanding;
  /** Checks `ValidatorAuthForMiner` (freshness, hotkeys, signature); a refusal's message ends up in a GenericError. */
  verifyAuth(message: Extract<ValidatorToMinerMessage, { message_type: 'ValidatorAuthForMiner' }>, validatorHotkey: string):
    | { readonly ok: true }
    | { readonly ok: false; readonly message: string };
  manifest(): Readonly<Partial<Record<ExecutorClass, number>>>;
  /** Answer to `V0MainHotkeyMessage`. */
  mainHotkey(): string | null;
  isBlacklisted(validatorHotkey: string): boolean;
  /**
   * Takes an initial request: reserves, and answers it (an accept at once, before the job actor starts; a decline
   * from the job actor, after its excuse query).
   */
  startJob(request: V0InitialJobRequest, validatorHotkey: string, session: ValidatorLink, receivedAtMs: number): StartJobOutcome;
  /** Tells every in-flight job of the validator that `session` can reach it now. */
  attachJobs(validatorHotkey: string, session: ValidatorLink): void;
  /** Tells them the session is gone. */
  detachJobs(validatorHotkey: string, sessionId: string): void;
  /** Routes a `V0JobRequest` to its job; false when the validator has no such job. */
  routeJobRequest(validatorHotkey: string, message: Extract<ValidatorToMinerMessage, { message_type: 'V0JobRequest' }>, from: ValidatorLink): boolean;
  /** Hands a receipt to the receipt store (verified, countersigned and stored there). */
  submitReceipt(validatorHotkey: string, message: Extract<ValidatorToMinerMessage, { message_type: 'V0JobAcceptedReceiptRequest' | 'V0JobFinishedReceiptRequest' }>): void;
  nowMs(): number;
  readonly preAuthQueueCapacity: number;
  readonly observer: ValidatorSessionObserver;
}

interface ValidatorSessionContext {
  readonly connectionId: string;
  readonly validatorHotkey: string;
  readonly connection: ConnectionHandle<MinerToValidatorMessageInput>;
  readonly link: ValidatorLink;
  /** Messages received before authentication, replayed after it. */
  queue: readonly ValidatorToMinerMessage[];
  /** Why the connection is refused (GenericError details), set before `refusing`. */
  refusal: string | undefined;
}

/** Internal events the session raises itself. */
type SessionInternalEvent =
  | { readonly type: 'session.auth.accepted' }
  | { readonly type: 'session.auth.refused'; readonly message: string }
  | { readonly type: 'session.replay'; readonly message: ValidatorToMinerMessage }
  | { readonly type: 'session.attach_jobs' };

type SessionEvent = ConnectionRoleEvent<ValidatorToMinerMessage> | SessionInternalEvent;

const send = (message: MinerToValidatorMessageInput): ConnectionCommand<MinerToValidatorMessageInput> => ({
  type: 'connection.send',
  message,
});

const genericError = (details: string) => send({ message_type: 'GenericError', details });

/**
 * Sends a command to the connection at once, in the order the session acts. XState defers `sendTo` to the end of
 * the macrostep, while the services a session calls (starting a job, attaching jobs) make other actors send to the
 * same connection synchronously; deferring only the session's own messages would reorder them (a re-sent
 * `V0ExecutorReadyRequest` overtaking the manifest).
 */
function toConnection(
  enqueue: (action: () => void) => void,
  connection: ConnectionHandle<MinerToValidatorMessageInput>,
  command: ConnectionCommand<MinerToValidatorMessageInput>,
): void {
  enqueue(() => connection.send(command));
}

/**
 * What `serving` does with a message that leaves the session's state alone (every message but a repeated
 * `ValidatorAuthForMiner`), as one thunk run in place: the machine's `handle` action and the fast path of
 * {@link createValidatorSessionLogic} both run exactly this. Undefined for a message that needs the machine.
 */
function servingEffect(
  services: ValidatorSessionServices,
  context: Pick<ValidatorSessionContext, 'validatorHotkey' | 'connection' | 'link'>,
  message: ValidatorToMinerMessage,
): (() => void) | undefined {
  const hotkey = context.validatorHotkey;
  const { connection, link } = context;
  switch (message.message_type) {
    case 'ValidatorAuthForMiner':
      return undefined;
    case 'V0InitialJobRequest':
      return () => {
        if (services.isBlacklisted(hotkey)) {
          connection.send(
            send({
              message_type: 'V0DeclineJobRequest',
              job_uuid: message.job_uuid,
              message: '',
              reason: 'validator_blacklisted',
              receipts: [],
              context: null,
            }),
          );
          return;
        }
        const outcome = services.startJob(message, hotkey, link, services.nowMs());
        if (outcome.kind === 'duplicate') {
          connection.send(genericError(`Job ${message.job_uuid} already exists`));
        } else if (outcome.kind === 'refused') {
          connection.send(genericError(`Cannot take job ${message.job_uuid}: ${outcome.reason}`));
        }
      };
    case 'V0JobRequest':
      return () => {
        if (!services.routeJobRequest(hotkey, message, link)) {
          connection.send(genericError(`Received JobRequest for unknown job_uuid: ${message.job_uuid}`));
        }
      };
    case 'V0JobAcceptedReceiptRequest':
    case 'V0JobFinishedReceiptRequest':
      return () => services.submitReceipt(hotkey, message);
    case 'V0MainHotkeyMessage':
      return () => connection.send(send({ message_type: 'V0MainHotkeyMessage', main_hotkey: services.mainHotkey() }));
    case 'GenericError':
      return () => services.observer.log('warn', 'GenericError from validator', { validator: hotkey, details: message.details });
  }
}

/**
 * Builds the validator session machine bound to `services` (see the module comment).
 *
 * @example
 * ```ts
 * const behaviour = createValidatorSessionMachine(services);
 * createAcceptor({ server, routes: [{ name: 'validator', path: '/v0.1/validator_interface/:validator_hotkey',
 *   codec: duplexCodec(validatorToMinerCodec, minerToValidatorCodec), behaviour }] });
 * ```
 */
export function createValidatorSessionMachine(services: ValidatorSessionServices) {
  const { observer } = services;

  return setup({
    types: {
      context: {} as ValidatorSessionContext,
      input: {} as ConnectionBehaviourInput<MinerToValidatorMessageInput>,
      events: {} as SessionEvent,
    },
    actors: {
      // Counts the session as open for exactly as long as the actor lives, however it ends (a forced stop included).
      presence: fromCallback(() => {
        observer.opened();
        return () => observer.closed();
      }),
    },
    guards: {
      unknownValidator: ({ context }) => services.standing(context.validatorHotkey) === 'unknown',
      inactiveValidator: ({ context }) => services.standing(context.validatorHotkey) === 'inactive',
    },
    actions: {
      refuseUnknown: assign(({ context }) => {
        observer.outcome('unknown_validator');
        return { refusal: `Unknown validator: ${context.validatorHotkey}` };
      }),
      refuseInactive: assign(({ context }) => {
        observer.outcome('inactive_validator');
        return { refusal: `Inactive validator: ${context.validatorHotkey}` };
      }),
      sendRefusal: enqueueActions(({ context, enqueue }) => {
        toConnection(enqueue, context.connection, genericError(context.refusal ?? 'Refused'));
        const reason = context.refusal;
        enqueue(() => observer.log('info', 'validator refused', { reason }));
      }),
      checkAuth: enqueueActions(({ context, event, enqueue }) => {
        const message = messageOf(event);
        if (message?.message_type !== 'ValidatorAuthForMiner') return;
        const verdict = services.verifyAuth(message, context.validatorHotkey);
        if (verdict.ok) enqueue.raise({ type: 'session.auth.accepted' });
        else enqueue.raise({ type: 'session.auth.refused', message: verdict.message });
      }),
      refuseAuth: assign(({ context, event }) => {
        observer.outcome('auth_refused');
        const why = event.type === 'session.auth.refused' ? event.message : 'invalid authentication';
        return { refusal: `Validator ${context.validatorHotkey} not authenticated due to: ${why}` };
      }),
      authenticate: enqueueActions(({ context, enqueue }) => {
        toConnection(enqueue, context.connection, { type: 'connection.authenticated', identity: context.validatorHotkey });
        toConnection(
          enqueue,
          context.connection,
          send({ message_type: 'V0ExecutorManifestRequest', manifest: { ...services.manifest() } as Record<ExecutorClass, number> }),
        );
        enqueue(() => observer.outcome('authenticated'));
        // Upstream's order after auth: manifest, the messages that came early, then the jobs' deferred readiness.
        for (const message of context.queue) enqueue.raise({ type: 'session.replay', message });
        enqueue.raise({ type: 'session.attach_jobs' });
        enqueue.assign({ queue: [] });
      }),
      attachJobs: ({ context }) => services.attachJobs(context.validatorHotkey, context.link),
      enqueueEarly: enqueueActions(({ context, event, enqueue }) => {
        const message = messageOf(event);
        if (message === undefined) return;
        if (context.queue.length >= services.preAuthQueueCapacity) {
          toConnection(enqueue, context.connection, genericError('Too many messages before authentication; message dropped'));
          enqueue(() => observer.dropped('pre_auth'));
          return;
        }
        enqueue.assign({ queue: [...context.queue, message] });
      }),
      answerMalformed: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'connection.decode_error') return;
        toConnection(enqueue, context.connection, genericError(`Malformed message: ${event.error.message}`));
      }),
      handle: enqueueActions(({ context, event, enqueue }) => {
        const message = messageOf(event);
        if (message === undefined) return;
        const effect = servingEffect(services, context, message);
        if (effect !== undefined) {
          enqueue(effect);
          return;
        }
        if (message.message_type !== 'ValidatorAuthForMiner') return;
        // Upstream runs the authentication again (and sends the manifest again); a bad one closes.
        const verdict = services.verifyAuth(message, context.validatorHotkey);
        if (verdict.ok) {
          toConnection(enqueue, context.connection, send({ message_type: 'V0ExecutorManifestRequest', manifest: { ...services.manifest() } as Record<ExecutorClass, number> }));
        } else {
          enqueue.raise({ type: 'session.auth.refused', message: verdict.message });
        }
      }),
      detachJobs: ({ context }) => services.detachJobs(context.validatorHotkey, context.link.sessionId),
    },
  }).createMachine({
    id: 'validatorSession',
    context: ({ input }) => {
      const connection = input.connection;
      return {
        connectionId: input.connectionId,
        validatorHotkey: input.params['validator_hotkey'] ?? '',
        connection,
        link: { sessionId: input.connectionId, connection },
        queue: [],
        refusal: undefined,
      };
    },
    invoke: { src: 'presence' },
    initial: 'checking',
    states: {
      // Looking the validator up in the metagraph; nothing has been read from the socket yet.
      checking: {
        always: [
          { guard: 'unknownValidator', target: 'refusing', actions: 'refuseUnknown' },
          { guard: 'inactiveValidator', target: 'refusing', actions: 'refuseInactive' },
          { target: 'awaitingAuth' },
        ],
      },
      // Refused: the GenericError goes out, then the role ends and the connection closes with 1000.
      refusing: {
        entry: 'sendRefusal',
        always: 'closed',
      },
      // Known validator, not yet authenticated: only ValidatorAuthForMiner is acted on; the rest waits in the queue.
      awaitingAuth: {
        on: {
          'connection.message': [
            {
              guard: ({ event }) => event.message.message_type === 'ValidatorAuthForMiner',
              actions: 'checkAuth',
            },
            { actions: 'enqueueEarly' },
          ],
          'connection.decode_error': { actions: 'answerMalformed' },
          'session.auth.accepted': { target: 'serving', actions: 'authenticate' },
          'session.auth.refused': { target: 'refusing', actions: 'refuseAuth' },
          'connection.closed': 'closed',
        },
      },
      // Authenticated: jobs, receipts and main-hotkey questions are served.
      serving: {
        tags: ['authenticated'],
        on: {
          'connection.message': { actions: 'handle' },
          'session.replay': { actions: 'handle' },
          'session.attach_jobs': { actions: 'attachJobs' },
          'connection.decode_error': { actions: 'answerMalformed' },
          'session.auth.refused': { target: 'refusing', actions: ['refuseAuth', 'detachJobs'] },
          'connection.closed': { target: 'closed', actions: 'detachJobs' },
        },
      },
      // The connection is over (or about to be closed by the acceptor). Final.
      closed: { type: 'final' },
    },
  });
}

function messageOf(event: SessionEvent): ValidatorToMinerMessage | undefined {
  if (event.type === 'connection.message' || event.type === 'session.replay') return event.message;
  return undefined;
}

/** The session machine type (one per miner). */
export type ValidatorSessionMachine = ReturnType<typeof createValidatorSessionMachine>;

type SessionSnapshot = ReturnType<ValidatorSessionMachine['getInitialSnapshot']>;
type SessionScope = Parameters<ValidatorSessionMachine['transition']>[2];

/**
 * The session logic the miner runs: {@link createValidatorSessionMachine} with a fast path, in the spirit of the
 * transport's `withFastSend`. A message an authenticated session serves without changing state (an initial request,
 * a job request, a receipt, a main-hotkey question, a GenericError: all but a repeated auth) is served in place,
 * skipping XState's macrostep, and the snapshot is returned unchanged. The machine's own transition for them is
 * targetless and context-free and runs the same {@link servingEffect}, so the two cannot differ. The event still
 * goes through the actor's mailbox (ordering with the session's other events holds) and inspection still sees it.
 *
 * Why: each initial request costs one XState macrostep per actor it passes; on a 2-core machine a burst of 100 queues
 * on one event loop, so every hop saved comes off the last accept's latency (`bench/miner.ts`).
 *
 * @example
 * ```ts
 * createAcceptor({ server, routes: [{ name: 'validator', path: '/v0.1/validator_interface/:validator_hotkey',
 *   codec: duplexCodec(validatorToMinerCodec, minerToValidatorCodec), behaviour: createValidatorSessionLogic(services) }] });
 * ```
 */
export function createValidatorSessionLogic(services: ValidatorSessionServices): ValidatorSessionMachine {
  return withFastServing(createValidatorSessionMachine(services), services);
}

function withFastServing(machine: ValidatorSessionMachine, services: ValidatorSessionServices): ValidatorSessionMachine {
  const fast = Object.create(machine) as ValidatorSessionMachine;
  fast.transition = (snapshot: SessionSnapshot, event: SessionEvent, scope: SessionScope): SessionSnapshot => {
    if (event.type === 'connection.message' && snapshot.status === 'active' && snapshot.value === 'serving') {
      const effect = servingEffect(services, snapshot.context, event.message);
      if (effect !== undefined) {
        effect();
        return snapshot;
      }
    }
    return machine.transition(snapshot, event, scope);
  };
  fast.provide = (implementations) => withFastServing(machine.provide(implementations), services);
  return fast;
}
