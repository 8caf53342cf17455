/**
 * The validator's facilitator link: `facilitatorLinkMachine` (src/machines/facilitatorLink.machine.ts) wired to a
 * real transport actor (`createTransport`, full-jitter reconnect for ever), the durable outbox (store.ts) and the
 * facilitator↔validator codecs.
 *
 * Outgoing status frames are the outbox rows' stored text, sent as they are (the codec passes an
 * {@link EncodedFrame} through), so a resend after a restart is byte-for-byte the original.
 *
 * Delivery: at-least-once on the wire, exactly-once in the facilitator's table (it answers a repeated (job, status)
 * with `job.integrity_error`, which acknowledges the row). Statuses reported while the facilitator is down wait in
 * SQLite and leave oldest-first after the next authentication.
 *
 * Reliable transport mode (`reliable: true`) is offered in the upgrade and only changes the facilitator→validator
 * direction's guarantees (a `job.new` pushed into a dying connection is redelivered after the reconnect). Caveat:
 * the transport resends unacknowledged frames of the previous connection before this link's authentication; the
 * facilitator answers those `auth.not_authenticated`, which the link ignores while authenticating (the rows stay in
 * the outbox and are resent after authentication).
 */
import type { Meter } from '@opentelemetry/api';
import { createActor } from 'xstate';
import { buildAuthenticationRequest, type Hotkey } from '../../crypto';
import {
  facilitatorToValidatorCodec,
  validatorToFacilitatorCodec,
  type FacilitatorToValidatorMessage,
  type FrameCodec,
  type V0JobCheated,
  type V2JobRequest,
  type ValidatorToFacilitatorMessageInput,
} from '../../protocol';
import { createLogger, type Logger } from '../../telemetry/logger';
import { createTransport, TransportMetrics, type TransportActor, type TransportOptions } from '../../transport';
import type { BackoffPolicy } from '../../util/backoff';
import { systemRandom, type Clock, type Random } from '../../util/clock';
import { HordeError, toError } from '../../util/errors';
import {
  facilitatorLinkMachine,
  type AcknowledgeParams,
  type AuthFailedParams,
  type SendWindowParams,
} from '../../machines/facilitatorLink.machine';
import {
  DEFAULT_LINK_AUTH_RETRY,
  DEFAULT_LINK_AUTH_TIMEOUT_MS,
  DEFAULT_LINK_HEARTBEAT_INTERVAL_MS,
  DEFAULT_LINK_STOP_TIMEOUT_MS,
  DEFAULT_LINK_WINDOW,
  LINK_SEND_HIGH_WATER_MARK_BYTES,
} from './linkDefaults';
import { createLinkMetrics, type LinkMetrics } from './linkMetrics';
import type { ValidatorStore } from './store';

/** `whenAuthenticated()` was pending when the link stopped. */
export class FacilitatorLinkStoppedError extends HordeError {
  constructor() {
    super('validator.link_stopped', 'the facilitator link was stopped before it authenticated');
  }
}

/** A frame already encoded (an outbox row): the link's codec sends its text unchanged. */
export class EncodedFrame {
  constructor(readonly text: string) {}
}

/** What the link's transport sends: a protocol message to encode, or an outbox row's stored text. */
export type LinkOutgoing = ValidatorToFacilitatorMessageInput | EncodedFrame;

/** The validator side of `/ws/v0/`: decodes facilitator→validator frames, writes validator→facilitator ones. */
export const facilitatorLinkCodec: FrameCodec<FacilitatorToValidatorMessage, LinkOutgoing> = {
  decode: (text) => facilitatorToValidatorCodec.decode(text),
  encode: (message) => (message instanceof EncodedFrame ? message.text : validatorToFacilitatorCodec.encode(message)),
};

export interface FacilitatorLinkOptions {
  /** `ws://host:port/ws/v0/` */
  readonly url: string;
  readonly validator: Hotkey;
  /** The durable outbox the link drains. */
  readonly store: Pick<ValidatorStore, 'pendingFrames' | 'acknowledge'>;
  /** A `job.new`, decoded. The dispatcher de-duplicates (store.recordJob). Must not throw (a throw is logged). */
  onJob(request: V2JobRequest): void;
  onCheated(message: V0JobCheated): void;
  /** @default DEFAULT_LINK_HEARTBEAT_INTERVAL_MS (60 s) */
  readonly heartbeatIntervalMs?: number;
  /** In-flight window. @default DEFAULT_LINK_WINDOW (32) */
  readonly window?: number;
  /** @default DEFAULT_LINK_AUTH_TIMEOUT_MS */
  readonly authTimeoutMs?: number;
  /** Backoff after a refused authentication. @default DEFAULT_LINK_AUTH_RETRY */
  readonly authRetry?: BackoffPolicy;
  /** Offer the transport's reliable mode. @default false */
  readonly reliable?: boolean;
  /** Overrides of the transport's options (reconnect backoff, pings …). */
  readonly transportOptions?: Partial<TransportOptions>;
  /** Extra upgrade headers (upstream sends `X-Validator-Version`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Wall clock (logs only; timers run on XState's clock). */
  readonly clock?: Clock;
  readonly random?: Random;
  readonly logger?: Logger;
  readonly meter?: Meter;
}

export interface FacilitatorLinkHandle {
  /** Wake the sender after store.report() (the dispatcher calls this after every report). */
  kick(): void;
  /** True while authenticated. */
  readonly connected: boolean;
  /** Resolves once authenticated (a Response success to V0AuthenticationRequest); rejects if the link stops first. */
  whenAuthenticated(): Promise<void>;
  /** Closes the socket, clears timers; pending outbox rows stay in SQLite. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts the link: dials at once, authenticates, drains the outbox, heartbeats, reconnects for ever.
 *
 * @example
 * ```ts
 * const link = startFacilitatorLink({
 *   url: 'ws://127.0.0.1:9000/ws/v0/', validator: devHotkey('validator'), store,
 *   onJob: (request) => dispatcher.handleJob(request), onCheated: (m) => dispatcher.handleCheated(m),
 * });
 * store.report(update); link.kick();
 * await link.whenAuthenticated();
 * await link.stop();
 * ```
 */
export function startFacilitatorLink(options: FacilitatorLinkOptions): FacilitatorLinkHandle {
  const logger = options.logger ?? createLogger({ component: 'validator.link' });
  const metrics: LinkMetrics = createLinkMetrics(options.meter);
  const transportMetrics = new TransportMetrics(options.meter);
  const random = options.random ?? systemRandom;
  const { store } = options;

  let transport: TransportActor | undefined;
  const closing = new Set<Promise<void>>();
  let waiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  let authenticated = false;
  let stopped = false;

  const send = (message: LinkOutgoing): void => {
    transport?.send({ type: 'transport.send', message });
  };

  const closeTransport = (actor: TransportActor): void => {
    const done = new Promise<void>((resolve) => {
      if (actor.getSnapshot().status !== 'active') {
        actor.stop();
        resolve();
        return;
      }
      let finished = false;
      const finish = (): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        subscription.unsubscribe();
        actor.stop();
        resolve();
      };
      // deferred: `subscription` must exist when finish runs
      const later = (): void => queueMicrotask(finish);
      const timer = setTimeout(finish, DEFAULT_LINK_STOP_TIMEOUT_MS);
      const subscription = actor.subscribe({ complete: later, error: later });
      actor.send({ type: 'transport.close', code: 1000, reason: 'validator link closing' });
    });
    closing.add(done);
    void done.then(() => closing.delete(done));
  };

  const deliver = (message: FacilitatorToValidatorMessage): void => {
    const kind = 'message_type' in message ? message.message_type : 'Response';
    try {
      if ('message_type' in message) {
        if (message.message_type === 'V2JobRequest') options.onJob(message);
        else options.onCheated(message);
      } else {
        link.send({ type: 'link.response', response: message });
      }
    } catch (error) {
      logger.error('handling a facilitator message failed', { messageType: kind, error: toError(error).message });
    }
  };

  const machine = facilitatorLinkMachine.provide({
    actions: {
      startTransport: () => {
        const actor = createTransport<FacilitatorToValidatorMessage, LinkOutgoing>({
          url: options.url,
          codec: facilitatorLinkCodec,
          ...(options.headers === undefined ? {} : { headers: options.headers }),
          options: {
            reliable: options.reliable ?? false,
            sendHighWaterMarkBytes: LINK_SEND_HIGH_WATER_MARK_BYTES,
            ...options.transportOptions,
          },
          random,
          metrics: transportMetrics,
        });
        transport = actor;
        const mine = (): boolean => transport === actor;
        actor.on('transport.open', () => {
          if (mine()) link.send({ type: 'link.transport.open' });
        });
        actor.on('transport.closed', ({ code, reason }) => {
          if (!mine()) return;
          logger.info('facilitator connection closed', { code, reason });
          link.send({ type: 'link.transport.closed' });
        });
        actor.on('transport.message', ({ message }) => {
          if (mine()) deliver(message as FacilitatorToValidatorMessage);
        });
        actor.on('transport.decode_error', ({ error }) => {
          metrics.decodeErrors.add(1);
          logger.warn('undecodable frame from the facilitator', { code: error.code, error: error.message });
        });
        actor.on('transport.encode_error', ({ error }) => {
          logger.error('a message to the facilitator did not encode', { error: error.message });
        });
        actor.on('transport.reconnecting', ({ attempt, delayMs, cause }) => {
          logger.info('reconnecting to the facilitator', { attempt, delayMs, cause });
        });
        actor.on('transport.stopped', ({ reason }) => {
          if (!mine()) return;
          logger.warn('facilitator transport stopped', { reason });
          link.send({ type: 'link.transport.stopped' });
        });
        actor.subscribe({ error: (error) => logger.error('facilitator transport failed', { error: toError(error).message }) });
        actor.start();
      },
      stopTransport: () => {
        const actor = transport;
        transport = undefined;
        if (actor !== undefined) closeTransport(actor);
      },
      sendAuth: () => send(buildAuthenticationRequest(options.validator)),
      sendHeartbeat: () => {
        send({ message_type: 'V0Heartbeat' });
        metrics.heartbeats.add(1);
      },
      sendWindow: ({ self }, params: SendWindowParams) => {
        if (params.room <= 0) return;
        let frames;
        try {
          frames = store.pendingFrames(params.afterId, params.room);
        } catch (error) {
          logger.error('reading the outbox failed; retrying on the next kick', { error: toError(error).message });
          return;
        }
        if (frames.length === 0) return;
        let resends = 0;
        for (const frame of frames) {
          send(new EncodedFrame(frame.frame));
          if (frame.id <= params.resendThrough) resends++;
        }
        if (resends > 0) metrics.sent.add(resends, { resend: true });
        if (frames.length > resends) metrics.sent.add(frames.length - resends, { resend: false });
        self.send({ type: 'link.sent', ids: frames.map((f) => f.id) });
      },
      acknowledge: (_, params: AcknowledgeParams) => {
        try {
          store.acknowledge(params.id);
        } catch (error) {
          // the row stays pending: it is resent after the next reconnect and answered job.integrity_error
          logger.error('acknowledging an outbox row failed', { rowId: params.id, error: toError(error).message });
        }
        metrics.acked.add(1, { outcome: params.outcome });
        if (params.outcome === 'job_not_found') {
          logger.warn('the facilitator does not know the job of a status update', { rowId: params.id });
        } else if (params.outcome === 'refused') {
          logger.error('the facilitator refused a status update; dropping it', {
            rowId: params.id,
            errors: JSON.stringify(params.response.errors),
          });
        }
      },
      authenticated: () => {
        authenticated = true;
        metrics.authenticated.add(1);
        logger.info('authenticated to the facilitator', { url: options.url });
        const ready = waiters;
        waiters = [];
        for (const w of ready) w.resolve();
      },
      unauthenticated: () => {
        authenticated = false;
        metrics.authenticated.add(-1);
      },
      authFailed: (_, params: AuthFailedParams) => {
        metrics.authRefusals.add(1, { reason: params.reason });
        logger.warn('facilitator authentication failed; retrying', { ...params });
      },
      unmatchedResponse: (_, params: { response: { status: string } }) => {
        metrics.unmatchedResponses.add(1);
        logger.warn('a Response from the facilitator matched no request', { status: params.response.status });
      },
    },
  });

  const link = createActor(machine, {
    input: {
      window: options.window ?? DEFAULT_LINK_WINDOW,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? DEFAULT_LINK_HEARTBEAT_INTERVAL_MS,
      authTimeoutMs: options.authTimeoutMs ?? DEFAULT_LINK_AUTH_TIMEOUT_MS,
      authRetry: options.authRetry ?? DEFAULT_LINK_AUTH_RETRY,
      random,
    },
  });
  link.subscribe({ error: (error) => logger.error('facilitator link failed', { error: toError(error).message }) });
  link.start();

  return {
    kick() {
      if (!stopped) link.send({ type: 'link.kick' });
    },
    get connected() {
      return authenticated;
    },
    whenAuthenticated() {
      if (authenticated) return Promise.resolve();
      if (stopped) return Promise.reject(new FacilitatorLinkStoppedError());
      return new Promise<void>((resolve, reject) => waiters.push({ resolve, reject }));
    },
    async stop() {
      if (!stopped) {
        stopped = true;
        link.send({ type: 'link.stop' });
        link.stop();
        const pending = waiters;
        waiters = [];
        for (const w of pending) w.reject(new FacilitatorLinkStoppedError());
      }
      await Promise.all([...closing]);
    },
  };
}
