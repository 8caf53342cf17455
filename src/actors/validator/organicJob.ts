/**
 * The organic job actor with its real effects: the miner link is a transport actor on a real `ws` socket (one
 * attempt, no reconnect: a job connection that drops is a failed job), messages are signed with the validator's
 * hotkey, excuses are checked against the metagraph and the miner's last manifest, statuses go to the injected
 * `StatusSink`, and what happens is logged and counted (`organicJobMetrics.ts`).
 *
 * Stopping the actor (`actor.stop()`, or a supervisor stopping it by force) is its abort: it makes no further
 * transition, so nothing more is reported, and the link's cleanup terminates the socket. For a graceful stop, send
 * `{ type: 'supervisor.shutdown' }`: the job reports `horde_failed` ("validator shutting down"), sends its JobFinished
 * receipt and closes the socket before it ends.
 */
import type { Meter } from '@opentelemetry/api';
import { fromCallback, type AnyActorLogic } from 'xstate';
import type { Hotkey } from '../../crypto';
import type { MetagraphProvider } from '../../metagraph';
import { duplexCodec, minerToValidatorCodec, validatorToMinerCodec, type MinerToValidatorMessage } from '../../protocol';
import { silentLogger, type Logger } from '../../telemetry/logger';
import { createTransport, type TransportOptions } from '../../transport';
import { systemClock, type Clock } from '../../util/clock';
import { toError } from '../../util/errors';
import {
  createOrganicJobMachine,
  type ExcuseVerdict,
  type OrganicJobEnvironment,
  type OrganicJobEvent,
  type OrganicJobObserver,
  type OrganicLinkCommand,
  type OrganicLinkInput,
  type OrganicStage,
} from '../../machines/organicJob.machine';
import { resolveOrganicJobTimings, type OrganicJobTimings } from './deadlines';
import { filterValidExcuseReceipts, isExcused } from './excuses';
import { createOrganicJobMessages } from './organicMessages';
import { createOrganicJobMetrics, type OrganicJobMetrics } from './organicJobMetrics';
import type { JobEnding } from './organicStatus';
import type { JobRoute, ManifestBook, MinerEndpoint, StatusSink } from './types';

export type { OrganicJobTimings } from './deadlines';
export { DEFAULT_ORGANIC_JOB_TIMINGS, resolveOrganicJobTimings } from './deadlines';

/** What every organic job actor of one validator shares. */
export interface OrganicJobDeps {
  readonly validator: Hotkey;
  readonly sink: StatusSink;
  /** The miners' last manifests: a busy decline is excused when its valid excuses cover the announced count. */
  readonly manifests: ManifestBook;
  /** Validators' activity and stake, for excuse receipts. */
  readonly metagraph: MetagraphProvider;
  /** Wall clock (receipt timestamps, deadlines). @default systemClock */
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly meter?: Meter;
  readonly timings?: Partial<OrganicJobTimings>;
  /** Transport overrides for the miner socket (tests); reconnects stay off whatever is given. */
  readonly transportOptions?: Partial<TransportOptions>;
}

/** `ws://{address}:{port}/v0.1/validator_interface/{validator}` (IPv6 addresses bracketed). */
export function minerJobUrl(miner: MinerEndpoint, validatorHotkey: string): string {
  const host = miner.address.includes(':') && !miner.address.startsWith('[') ? `[${miner.address}]` : miner.address;
  return `ws://${host}:${miner.port}/v0.1/validator_interface/${validatorHotkey}`;
}

/**
 * The miner link: one transport actor, one attempt. Every way the socket can end (refused, dropped, gave up, closed
 * by us) becomes one `organic.miner.disconnected`; nothing is sent back after it.
 */
export function minerLinkLogic(options: { logger: Logger; transportOptions?: Partial<TransportOptions> }) {
  return fromCallback<OrganicLinkCommand, OrganicLinkInput>(({ input, sendBack, receive }) => {
    let gone = false;
    const send = (event: OrganicJobEvent): void => {
      if (!gone) sendBack(event);
    };
    const disconnected = (reason: string): void => {
      if (gone) return;
      send({ type: 'organic.miner.disconnected', reason });
      gone = true;
    };
    let transport: ReturnType<typeof createTransport>;
    try {
      transport = createTransport({
        url: input.url,
        codec: duplexCodec(minerToValidatorCodec, validatorToMinerCodec),
        options: { ...options.transportOptions, connectTimeoutMs: input.connectTimeoutMs, maxReconnectAttempts: 0 },
      });
      transport.on('transport.open', () => send({ type: 'organic.miner.connected' }));
      transport.on('transport.message', ({ message }) => send({ type: 'organic.miner.message', message: message as MinerToValidatorMessage }));
      transport.on('transport.decode_error', ({ error }) =>
        options.logger.warn('undecodable frame from the miner', { url: input.url, code: error.code, error: error.message }),
      );
      transport.on('transport.encode_error', ({ error }) =>
        options.logger.error('could not encode a message to the miner', { url: input.url, error: error.message }),
      );
      transport.on('transport.closed', ({ code, reason }) => disconnected(`connection closed (${code}${reason === '' ? '' : ` ${reason}`})`));
      transport.on('transport.gave_up', ({ error }) => disconnected(toError(error.cause ?? error).message));
      transport.on('transport.stopped', ({ reason }) => disconnected(`transport stopped (${reason})`));
      transport.subscribe({ error: (error) => disconnected(`transport failed: ${toError(error).message}`) });
      transport.start();
    } catch (error) {
      // e.g. invalid transport options: an answer, not a crash of the job actor
      queueMicrotask(() => disconnected(`could not open the miner link: ${toError(error).message}`));
      return () => undefined;
    }
    receive((command) => {
      if (command.type === 'organic.link.send') transport.send({ type: 'transport.send', message: command.message });
      else transport.send({ type: 'transport.close' });
    });
    return () => {
      gone = true;
      transport.stop();
    };
  });
}

/** Logs and counts what one job does. */
function jobObserver(metrics: OrganicJobMetrics, logger: Logger, clock: Clock, executorClass: string): OrganicJobObserver {
  let current: { stage: OrganicStage; sinceMs: number } | undefined;
  const startedAtMs = clock.nowMs();
  const closeStage = (): void => {
    if (current === undefined) return;
    metrics.stageDurationMs.record(clock.nowMs() - current.sinceMs, { executor_class: executorClass, stage: current.stage });
    current = undefined;
  };
  metrics.active.add(1);
  return {
    stage: (stage) => {
      closeStage();
      current = { stage, sinceMs: clock.nowMs() };
      logger.debug('job stage', { stage });
    },
    ignored: (why) => metrics.ignoredMessages.add(1, { why }),
    reportFailed: (status) => metrics.reportFailures.add(1, { status }),
    ended: (outcome, ending: JobEnding) => {
      closeStage();
      metrics.active.add(-1);
      const reason = reasonOf(ending);
      metrics.outcomes.add(1, { executor_class: executorClass, status: outcome.status, reason });
      metrics.durationMs.record(clock.nowMs() - startedAtMs, { executor_class: executorClass, status: outcome.status });
      if (ending.kind === 'rejected' && ending.decline.reason === 'busy') metrics.busyDeclines.add(1, { excused: String(ending.excused) });
      const fields = { status: outcome.status, reason, incident: outcome.incident ?? null, excused: outcome.excused };
      if (outcome.status === 'completed') logger.info('job completed', fields);
      else logger.warn('job did not complete', { ...fields, message: messageOf(ending) });
    },
    log: (level, msg, fields) => logger.log(level, msg, fields),
  };
}

function reasonOf(ending: JobEnding): string {
  switch (ending.kind) {
    case 'completed':
      return 'completed';
    case 'rejected':
      return ending.decline.reason;
    case 'failed':
      return ending.failure.reason;
    case 'horde_failed':
      return ending.details.reason;
  }
}

function messageOf(ending: JobEnding): string {
  switch (ending.kind) {
    case 'completed':
      return '';
    case 'rejected':
      return ending.decline.message;
    case 'failed':
      return ending.failure.message;
    case 'horde_failed':
      return ending.details.message;
  }
}

/**
 * The organic job actor logic of one validator: start it (as a temporary child of the jobs supervisor) with
 * `{ request, route }`; it reports every status to `deps.sink` and outputs an `OrganicJobOutcome`. It never throws
 * and every path closes the miner socket.
 *
 * @example
 * ```ts
 * const logic = organicJobLogic({ validator, sink: store, manifests: fetcher, metagraph });
 * const job = createActor(logic, { input: { request, route } });
 * job.subscribe({ complete: () => ledger.note(job.getSnapshot().output) });
 * job.start();
 * // on SIGTERM
 * job.send({ type: 'supervisor.shutdown' });
 * ```
 */
export function organicJobLogic(deps: OrganicJobDeps): AnyActorLogic {
  return createOrganicJobLogic(deps);
}

/** {@link organicJobLogic} with its precise machine type (tests and tools that inspect the snapshot). */
export function createOrganicJobLogic(deps: OrganicJobDeps) {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? silentLogger;
  const metrics = createOrganicJobMetrics(deps.meter);
  const timings = resolveOrganicJobTimings(deps.timings);
  const env: OrganicJobEnvironment = {
    timings,
    clock,
    sink: deps.sink,
    messagesFor: (request, route) => createOrganicJobMessages({ validator: deps.validator, minerHotkey: route.miner.hotkey, request, timings }),
    minerUrlFor: (route: JobRoute) => minerJobUrl(route.miner, deps.validator.ss58),
    judgeDecline: ({ decline, request, route, checkTimeMs }): ExcuseVerdict => {
      const { valid, refused } = filterValidExcuseReceipts({
        receipts: decline.receipts,
        minerHotkey: route.miner.hotkey,
        jobUuid: request.uuid,
        executorClass: request.executor_class,
        selfHotkey: deps.validator.ss58,
        checkTimeMs,
        validator: (hotkey) => deps.metagraph.validator(hotkey),
      });
      const required = deps.manifests.get(route.miner.hotkey)?.manifest[request.executor_class] ?? 0;
      if (refused.length > 0) {
        logger.info('excuse receipts refused', { jobUuid: request.uuid, refused: refused.map((r) => `${r.jobUuid}:${r.why}`) });
      }
      return { excused: isExcused(valid.length, required), validExcuses: valid.length, requiredExcuses: required };
    },
    observerFor: (request, route) =>
      jobObserver(
        metrics,
        logger.child({ jobUuid: request.uuid, minerHotkey: route.miner.hotkey, executorClass: request.executor_class }),
        clock,
        request.executor_class,
      ),
  };
  const linkLogger = logger.child({}, { component: 'validator.job.link' });
  return createOrganicJobMachine(env).provide({
    actors: { link: minerLinkLogic({ logger: linkLogger, ...(deps.transportOptions === undefined ? {} : { transportOptions: deps.transportOptions }) }) },
  });
}
