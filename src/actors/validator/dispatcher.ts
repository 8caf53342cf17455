/**
 * The validator's job dispatcher: what happens to each `job.new` the facilitator link hands over, up to the organic
 * job actor, and what happens to its outcome. Also the status sink every part reports through, the launcher that
 * starts job actors under the jobs supervisor, restart recovery and `V0JobCheated`.
 *
 * Per job (upstream `process_job_request`, section 3.1 B of the spec):
 * ```
 * job.new → store.recordJob ── false ──→ ignored (a redelivery)
 *         → verify signature ─ bad ───→ rejected (invalid_signature, by validator)
 *         → received
 *         → capacity ──────── full ──→ rejected (busy, by validator)
 *         → router.pick ───── none ──→ rejected (no_miner_for_job, by validator)
 *         → organic job actor (temporary child of the jobs supervisor) → its statuses … one terminal status
 *         → outcome → ledger incident, miner availability, busy.end
 * ```
 * There is no machine here: the dispatcher has no waits or timers of its own, only an open/closed flag; each job's
 * lifecycle lives in its organic job actor.
 */
import type { AnyActorLogic, AnyActorRef } from 'xstate';
import { verifyRequestBodySignature } from '../../crypto';
import {
  JOB_STATUS_END_STATES,
  type ExecutorClass,
  type HordeFailureReason,
  type JobRejectionReason,
  type JobStatus,
  type JobStatusMetadata,
  type V0JobCheated,
  type V0JobStatusUpdate,
  type V2JobRequest,
} from '../../protocol';
import type { SupervisorRejectedEvent } from '../../supervisors/supervisor.machine';
import { silentLogger, type Logger } from '../../telemetry/logger';
import { systemClock, type Clock } from '../../util/clock';
import { errorCode, toError } from '../../util/errors';
import type {
  BusyTracker,
  IncidentKind,
  JobRoute,
  JobRouter,
  MinerAvailability,
  OrganicJobOutcome,
  ReliabilityLedger,
  StatusSink,
} from './types';
import { createValidatorMetrics, type ValidatorMetrics } from './validatorMetrics';
import { VALIDATOR_FINISHED_JOBS_REMEMBERED, VALIDATOR_JOB_SHUTDOWN_MS, VALIDATOR_MAX_CONCURRENT_JOBS } from './validatorDefaults';

// ---------------------------------------------------------------------------------------------------------------
// Status updates

const EMPTY_METADATA: JobStatusMetadata = {
  miner_response: null,
  job_rejection_details: null,
  job_failure_details: null,
  horde_failure_details: null,
  streaming_details: null,
};

/** A status update with no metadata (`received`). */
export function plainStatus(uuid: string, status: JobStatus): V0JobStatusUpdate {
  return { message_type: 'V0JobStatusUpdate', uuid, status, metadata: null };
}

/** `rejected` by the validator (upstream `rejected_by=validator`). */
export function rejectedByValidator(uuid: string, reason: JobRejectionReason, message: string): V0JobStatusUpdate {
  return {
    message_type: 'V0JobStatusUpdate',
    uuid,
    status: 'rejected',
    metadata: { ...EMPTY_METADATA, job_rejection_details: { rejected_by: 'validator', reason, message, context: null } },
  };
}

/** `horde_failed` reported by the validator. */
export function hordeFailedByValidator(
  uuid: string,
  reason: HordeFailureReason,
  message: string,
  context: Record<string, string> | null = null,
): V0JobStatusUpdate {
  return {
    message_type: 'V0JobStatusUpdate',
    uuid,
    status: 'horde_failed',
    metadata: { ...EMPTY_METADATA, horde_failure_details: { reported_by: 'validator', reason, message, context } },
  };
}

/** The message of a job the validator ended because it had restarted (its process died mid-job). */
export const RESTARTED_MID_JOB_MESSAGE = 'validator restarted mid-job';

// ---------------------------------------------------------------------------------------------------------------
// The outbox sink

/** Where statuses are durably written (the validator store's `report`). */
export interface OutboxWriter {
  report(update: V0JobStatusUpdate): void;
}

/** The sink every part of the validator reports through; it remembers which running jobs reached a terminal status. */
export interface OutboxSink extends StatusSink {
  /** The terminal status reported for `uuid` since it was last released, if any. */
  terminalOf(uuid: string): JobStatus | undefined;
  /** Forgets `uuid` (its job is over and dealt with). */
  release(uuid: string): void;
}

/**
 * A {@link StatusSink} in front of the durable outbox: it writes each update (synchronously, before returning),
 * wakes the facilitator link (`kick`), and refuses a second terminal status for a job (logged and counted: the
 * facilitator would answer `job.integrity_error`, and a job ends once). A failed disk write is logged, counted and
 * rethrown: the caller must know its status was not kept.
 *
 * @example
 * ```ts
 * const sink = createOutboxSink({ writer: store, kick: () => link.kick() });
 * sink.report(plainStatus(uuid, 'received'));
 * ```
 */
export function createOutboxSink(options: {
  writer: OutboxWriter;
  kick: () => void;
  /**
   * Told once a job's terminal status is stored, before the facilitator is woken: the validator frees the job's
   * capacity here, so that a user who resubmits on seeing the status finds the slot free (the job actor itself ends
   * a little later, after closing its miner connection).
   */
  onTerminal?: (uuid: string) => void;
  logger?: Logger;
  metrics?: ValidatorMetrics;
}): OutboxSink {
  const logger = options.logger ?? silentLogger;
  const metrics = options.metrics ?? createValidatorMetrics();
  const terminal = new Map<string, JobStatus>();
  return {
    report(update) {
      const previous = terminal.get(update.uuid);
      if (previous !== undefined) {
        metrics.statusesDropped.add(1, { reason: 'second_terminal' });
        logger.error('status after the terminal one dropped', { job_uuid: update.uuid, status: update.status, terminal: previous });
        return;
      }
      try {
        options.writer.report(update);
      } catch (error) {
        metrics.statusesDropped.add(1, { reason: 'write_failed' });
        logger.error('status could not be written to the outbox', {
          job_uuid: update.uuid,
          status: update.status,
          code: errorCode(error),
          error: toError(error).message,
        });
        throw error;
      }
      if (JOB_STATUS_END_STATES.has(update.status)) {
        terminal.set(update.uuid, update.status);
        options.onTerminal?.(update.uuid);
      }
      metrics.statusesReported.add(1, { status: update.status });
      options.kick();
    },
    terminalOf: (uuid) => terminal.get(uuid),
    release: (uuid) => {
      terminal.delete(uuid);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Launching job actors

/** What an organic job actor is started with. */
export interface OrganicJobInput {
  readonly request: V2JobRequest;
  readonly route: JobRoute;
}

/** Starts one organic job actor. */
export interface JobLauncher {
  /**
   * Starts the job actor; resolves with its outcome, or `undefined` when it ended without one (stopped by force),
   * and rejects when it failed or could not start.
   */
  launch(input: OrganicJobInput): Promise<OrganicJobOutcome | undefined>;
}

interface ChildrenSnapshot {
  children?: Record<string, AnyActorRef | undefined>;
}

/**
 * A {@link JobLauncher} starting each job actor as a temporary child `job:<uuid>` of the jobs supervisor and
 * watching it until it ends. A start the supervisor refuses (`supervisor.rejected`) rejects the launch.
 *
 * @example
 * ```ts
 * const launcher = supervisedJobLauncher({ supervisor: jobsRef, logic: organicJobLogic(deps) });
 * const outcome = await launcher.launch({ request, route });
 * ```
 */
export function supervisedJobLauncher(options: {
  supervisor: AnyActorRef;
  logic: AnyActorLogic;
  /** @default VALIDATOR_JOB_SHUTDOWN_MS */
  shutdownMs?: number;
}): JobLauncher & { close(): void } {
  const refusals = new Map<string, string>();
  const rejected = options.supervisor.on('supervisor.rejected', (event: SupervisorRejectedEvent) => {
    refusals.set(event.childId, event.reason);
  });
  return {
    launch(input) {
      const id = `job:${input.request.uuid}`;
      refusals.delete(id);
      options.supervisor.send({
        type: 'supervisor.start_child',
        spec: { id, logic: options.logic, input, restart: 'temporary', shutdownMs: options.shutdownMs ?? VALIDATOR_JOB_SHUTDOWN_MS },
      });
      const refusal = refusals.get(id);
      refusals.delete(id);
      if (refusal !== undefined) return Promise.reject(new Error(`job actor not started: ${refusal}`));
      const child = (options.supervisor.getSnapshot() as ChildrenSnapshot).children?.[id];
      if (child === undefined) return Promise.reject(new Error('job actor not started: the jobs supervisor is not running'));
      return new Promise((resolve, reject) => {
        const settle = (): void => {
          const snapshot = child.getSnapshot() as { status: string; output?: unknown; error?: unknown };
          if (snapshot.status === 'done') resolve(snapshot.output as OrganicJobOutcome);
          else if (snapshot.status === 'error') reject(toError(snapshot.error));
          else resolve(undefined);
        };
        if ((child.getSnapshot() as { status: string }).status !== 'active') {
          settle();
          return;
        }
        child.subscribe({ complete: settle, error: (error: unknown) => reject(toError(error)) });
      });
    },
    close: () => rejected.unsubscribe(),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// V0JobCheated

/**
 * Checks a `V0JobCheated` report as upstream does: the SDK signed the request body it posted
 * (`{job_uuid, trusted_job_uuid, details}`) with a FullRequest signature. A report whose `details` is null is also
 * accepted when the signature covers the body without `details` (the SDK leaves it out when it has none).
 *
 * @example
 * ```ts
 * if (!verifyCheatedReport(message).ok) logger.warn('cheated report with a bad signature');
 * ```
 */
export function verifyCheatedReport(message: V0JobCheated): { ok: true } | { ok: false; message: string } {
  const signature = message.signature;
  if (signature === null || signature === undefined) return { ok: false, message: 'Signature is empty' };
  const bodies: unknown[] = [{ job_uuid: message.job_uuid, trusted_job_uuid: message.trusted_job_uuid, details: message.details }];
  if (message.details === null) bodies.push({ job_uuid: message.job_uuid, trusted_job_uuid: message.trusted_job_uuid });
  let last = 'Signature is invalid';
  for (const body of bodies) {
    const verdict = verifyRequestBodySignature(signature, body);
    if (verdict.ok) return { ok: true };
    last = verdict.error.message;
  }
  return { ok: false, message: last };
}

// ---------------------------------------------------------------------------------------------------------------
// The dispatcher

/** The part of the validator store the dispatcher uses. */
export interface DispatcherStore {
  recordJob(request: V2JobRequest): boolean;
  unfinishedJobs(): Array<{ uuid: string; lastStatus: JobStatus }>;
}

/** `verifyJobRequest`'s shape. */
export type JobVerifier = (
  request: V2JobRequest,
  options: { validatorHotkey: string; whitelist: ReadonlySet<string> },
) => { ok: true } | { ok: false; message: string };

export interface JobDispatcherDeps {
  readonly validatorHotkey: string;
  /** Job signatories accepted besides the validator itself. */
  readonly whitelist: ReadonlySet<string>;
  readonly store: DispatcherStore;
  readonly sink: OutboxSink;
  readonly verify: JobVerifier;
  readonly router: JobRouter;
  readonly launcher: JobLauncher;
  readonly ledger: ReliabilityLedger;
  readonly availability: MinerAvailability;
  readonly busy: BusyTracker;
  /** @default verifyCheatedReport */
  readonly verifyCheated?: (message: V0JobCheated) => { ok: true } | { ok: false; message: string };
  /** @default VALIDATOR_MAX_CONCURRENT_JOBS */
  readonly maxConcurrentJobs?: number;
  /** @default VALIDATOR_FINISHED_JOBS_REMEMBERED */
  readonly finishedJobsRemembered?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly metrics?: ValidatorMetrics;
}

/** What the dispatcher remembers of a job it routed (for `V0JobCheated`, and for the outcome). */
export interface RoutedJob {
  readonly minerHotkey: string;
  readonly executorClass: ExecutorClass;
  readonly trusted: boolean;
  readonly receivedAtMs: number;
  /** Terminal status, once the job is over. */
  status: JobStatus | undefined;
}

export interface JobDispatcher {
  /** Takes one `job.new` (never throws: every problem is reported, logged and counted). */
  handleJob(request: V2JobRequest): void;
  /** Takes one `V0JobCheated` (never throws). */
  handleCheated(message: V0JobCheated): void;
  /** Ends every job a previous process left without a terminal status (`horde_failed`); returns how many. */
  recoverUnfinished(): number;
  /** Stops taking jobs: a later `job.new` is rejected (`busy`, "validator shutting down"). Running jobs go on. */
  close(): void;
  /** Job actors running now. */
  readonly running: number;
  /** Resolves once no job actor runs (and its outcome has been dealt with). */
  whenIdle(): Promise<void>;
  /** A routed job, while remembered. */
  job(uuid: string): RoutedJob | undefined;
}

/** Incidents that say the miner could not be reached or did not answer in time: they feed its circuit breaker. */
const UNREACHABLE: ReadonlySet<IncidentKind> = new Set<IncidentKind>(['connection_failed', 'timed_out']);

/**
 * Creates the dispatcher. Wire `link.onJob` to `handleJob` and `link.onCheated` to `handleCheated`, and call
 * `recoverUnfinished()` once at start-up, before the link connects.
 *
 * @example
 * ```ts
 * const dispatcher = createJobDispatcher({ validatorHotkey: hotkey.ss58, whitelist: new Set(), store, sink,
 *   verify: verifyJobRequest, router, launcher, ledger, availability, busy, logger });
 * dispatcher.recoverUnfinished();
 * const link = startFacilitatorLink({ ..., onJob: dispatcher.handleJob, onCheated: dispatcher.handleCheated });
 * ```
 */
export function createJobDispatcher(deps: JobDispatcherDeps): JobDispatcher {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? silentLogger;
  const metrics = deps.metrics ?? createValidatorMetrics();
  const maxConcurrentJobs = deps.maxConcurrentJobs ?? VALIDATOR_MAX_CONCURRENT_JOBS;
  const remembered = deps.finishedJobsRemembered ?? VALIDATOR_FINISHED_JOBS_REMEMBERED;
  const verifyCheated = deps.verifyCheated ?? verifyCheatedReport;
  const jobs = new Map<string, RoutedJob>();
  let running = 0;
  let open = true;
  let idleWaiters: Array<() => void> = [];

  /** Reports; false when the outbox could not take it (already logged and counted by the sink). */
  const report = (update: V0JobStatusUpdate): boolean => {
    try {
      deps.sink.report(update);
      return true;
    } catch {
      return false;
    }
  };

  const refuse = (uuid: string, result: string, update: V0JobStatusUpdate): void => {
    metrics.jobsReceived.add(1, { result });
    report(update);
    deps.sink.release(uuid);
  };

  const remember = (uuid: string, job: RoutedJob): void => {
    jobs.set(uuid, job);
    while (jobs.size > remembered) {
      const oldest = jobs.keys().next().value as string;
      jobs.delete(oldest);
      metrics.jobMemoryEvictions.add(1);
    }
  };

  const finish = (request: V2JobRequest, job: RoutedJob, outcome: OrganicJobOutcome | undefined, failure: unknown): void => {
    const uuid = request.uuid;
    const nowMs = clock.nowMs();
    deps.busy.end(uuid);
    if (deps.sink.terminalOf(uuid) === undefined) {
      const reason = failure !== undefined ? 'actor_failed' : 'no_outcome';
      const message =
        failure !== undefined
          ? `job actor failed: ${toError(failure).message}`
          : 'job actor ended without reporting a terminal status';
      logger.error('job ended without a terminal status; reporting horde_failed', {
        job_uuid: uuid,
        miner: job.minerHotkey,
        reason,
        ...(failure === undefined ? {} : { code: errorCode(failure), error: toError(failure).message }),
      });
      metrics.jobsFinishedByDispatcher.add(1, { reason });
      report(hordeFailedByValidator(uuid, 'unhandled_exception', message));
    }
    const status = deps.sink.terminalOf(uuid) ?? outcome?.status ?? 'horde_failed';
    deps.sink.release(uuid);
    job.status = status;
    if (outcome !== undefined) {
      if (outcome.incident !== undefined) {
        deps.ledger.recordIncident(job.minerHotkey, job.executorClass, outcome.incident, nowMs);
        metrics.incidents.add(1, { kind: outcome.incident });
      }
      if (outcome.incident !== undefined && UNREACHABLE.has(outcome.incident)) deps.availability.recordFailure(job.minerHotkey, nowMs);
      else deps.availability.recordSuccess(job.minerHotkey, nowMs);
    }
    metrics.jobsFinished.add(1, { status, excused: String(outcome?.excused ?? false), executor_class: job.executorClass });
    metrics.jobDurationMs.record(Math.max(0, nowMs - job.receivedAtMs), { status });
    logger.info('job over', {
      job_uuid: uuid,
      miner: job.minerHotkey,
      status,
      ...(outcome?.incident === undefined ? {} : { incident: outcome.incident }),
      ...(outcome?.excused === true ? { excused: true } : {}),
      duration_ms: nowMs - job.receivedAtMs,
    });
    running -= 1;
    metrics.jobsRunning.add(-1);
    if (running === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  };

  const launch = (request: V2JobRequest, route: JobRoute, receivedAtMs: number): void => {
    const job: RoutedJob = {
      minerHotkey: route.miner.hotkey,
      executorClass: request.executor_class,
      trusted: route.trusted,
      receivedAtMs,
      status: undefined,
    };
    remember(request.uuid, job);
    running += 1;
    metrics.jobsRunning.add(1);
    metrics.jobsReceived.add(1, { result: 'dispatched' });
    deps.busy.begin(request.uuid, route.miner.hotkey, request.executor_class);
    logger.info('job routed', {
      job_uuid: request.uuid,
      miner: route.miner.hotkey,
      address: `${route.miner.address}:${route.miner.port}`,
      trusted: route.trusted,
      executor_class: request.executor_class,
    });
    let launched: Promise<OrganicJobOutcome | undefined>;
    try {
      launched = deps.launcher.launch({ request, route });
    } catch (error) {
      launched = Promise.reject(toError(error));
    }
    launched.then(
      (outcome) => finish(request, job, outcome, undefined),
      (error: unknown) => finish(request, job, undefined, error ?? new Error('job actor failed')),
    );
  };

  return {
    handleJob(request) {
      const uuid = request.uuid;
      let fresh: boolean;
      try {
        fresh = deps.store.recordJob(request);
      } catch (error) {
        metrics.jobsReceived.add(1, { result: 'store_failed' });
        logger.error('job could not be recorded; it is left to the facilitator', {
          job_uuid: uuid,
          code: errorCode(error),
          error: toError(error).message,
        });
        return;
      }
      if (!fresh) {
        metrics.jobsReceived.add(1, { result: 'duplicate' });
        logger.info('job delivered again; ignored', { job_uuid: uuid });
        return;
      }
      const receivedAtMs = clock.nowMs();
      if (!open) {
        refuse(uuid, 'shutting_down', rejectedByValidator(uuid, 'busy', 'validator shutting down'));
        return;
      }
      const verdict = deps.verify(request, { validatorHotkey: deps.validatorHotkey, whitelist: deps.whitelist });
      if (!verdict.ok) {
        logger.warn('job refused: bad signature', { job_uuid: uuid, signatory: request.signature?.signatory, why: verdict.message });
        refuse(uuid, 'invalid_signature', rejectedByValidator(uuid, 'invalid_signature', verdict.message));
        return;
      }
      if (!report(plainStatus(uuid, 'received'))) {
        metrics.jobsReceived.add(1, { result: 'store_failed' });
        deps.sink.release(uuid);
        return;
      }
      if (running >= maxConcurrentJobs) {
        logger.warn('job refused: too many jobs running', { job_uuid: uuid, running, max: maxConcurrentJobs });
        refuse(uuid, 'over_capacity', rejectedByValidator(uuid, 'busy', `validator is running its maximum of ${maxConcurrentJobs} jobs`));
        return;
      }
      let decision: ReturnType<JobRouter['pick']>;
      try {
        decision = deps.router.pick(request, receivedAtMs);
      } catch (error) {
        logger.error('router failed', { job_uuid: uuid, code: errorCode(error), error: toError(error).message });
        decision = { ok: false, reason: 'no_miner_for_job', message: `routing failed: ${toError(error).message}`, skipped: [] };
      }
      if (!decision.ok) {
        for (const skip of decision.skipped) metrics.routeSkips.add(1, { why: skip.why });
        logger.info('job refused: no miner', {
          job_uuid: uuid,
          executor_class: request.executor_class,
          why: decision.message,
          skipped: decision.skipped.length,
        });
        refuse(uuid, 'no_miner_for_job', rejectedByValidator(uuid, 'no_miner_for_job', decision.message));
        return;
      }
      launch(request, decision.route, receivedAtMs);
    },

    handleCheated(message) {
      const verdict = verifyCheated(message);
      if (!verdict.ok) {
        metrics.cheatedReports.add(1, { result: 'bad_signature' });
        logger.warn('cheated report refused: bad signature', { job_uuid: message.job_uuid, why: verdict.message });
        return;
      }
      const job = jobs.get(message.job_uuid);
      if (job === undefined) {
        metrics.cheatedReports.add(1, { result: 'unknown_job' });
        logger.warn('cheated report about a job this validator does not remember', { job_uuid: message.job_uuid });
        return;
      }
      deps.ledger.recordIncident(job.minerHotkey, job.executorClass, 'cheated', clock.nowMs());
      metrics.incidents.add(1, { kind: 'cheated' });
      metrics.cheatedReports.add(1, { result: 'recorded' });
      logger.warn('miner reported cheating', {
        job_uuid: message.job_uuid,
        trusted_job_uuid: message.trusted_job_uuid,
        miner: job.minerHotkey,
        status: job.status,
        signatory: message.signature?.signatory,
        details: message.details,
      });
    },

    recoverUnfinished() {
      let unfinished: Array<{ uuid: string; lastStatus: JobStatus }>;
      try {
        unfinished = deps.store.unfinishedJobs();
      } catch (error) {
        logger.error('unfinished jobs could not be read', { code: errorCode(error), error: toError(error).message });
        return 0;
      }
      for (const { uuid, lastStatus } of unfinished) {
        logger.warn('job left unfinished by the previous process; reporting horde_failed', { job_uuid: uuid, last_status: lastStatus });
        metrics.jobsFinishedByDispatcher.add(1, { reason: 'restarted' });
        report(hordeFailedByValidator(uuid, 'unhandled_exception', RESTARTED_MID_JOB_MESSAGE, { last_status: lastStatus }));
        deps.sink.release(uuid);
      }
      return unfinished.length;
    },

    close() {
      open = false;
    },

    get running() {
      return running;
    },

    whenIdle() {
      if (running === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },

    job: (uuid) => jobs.get(uuid),
  };
}
