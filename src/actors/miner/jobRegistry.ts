import type { AnyActorRef } from 'xstate';
import type { ExecutorClass } from '../../protocol/enums';

/** One job the miner knows, from its initial request until its actor ends. */
export interface JobEntry {
  readonly jobUuid: string;
  readonly token: string;
  readonly validatorHotkey: string;
  readonly executorClass: ExecutorClass;
  readonly childId: string;
  /** The job actor; undefined while its start is deferred (the job was accepted, its actor starts in a moment). */
  ref: AnyActorRef | undefined;
  /** Set when an executor connection took the token (tokens are single-use). */
  claimed: boolean;
  /** Events for a job whose actor is not started yet, delivered in order when it is (bounded, see {@link JobRegistry.send}). */
  early: Array<{ readonly type: string }>;
}

/** What {@link JobRegistry.send} did with an event. */
export type JobDelivery = 'sent' | 'queued' | 'dropped';

/** Why an executor's token was refused. */
export type ClaimRefusal = 'unknown_token' | 'token_used' | 'not_waiting';

/**
 * The jobs the miner runs, found by job uuid, executor token or validator: plain shared state read by the validator
 * and executor sessions (upstream kept this in the `AcceptedJob` table). Entries are added when a job is taken (its
 * actor may start a moment later: an accepted job is answered first, its actor is started after the burst, see
 * `miner.ts`) and removed when its supervisor reports it gone, so the registry is bounded by the jobs supervisor's
 * capacity. Everything sent to a job goes through {@link JobRegistry.send}, which holds events for a job whose actor
 * is not started yet and hands them over, in order, in {@link JobRegistry.bind}.
 *
 * @example
 * ```ts
 * registry.add(entry);
 * const claim = registry.claim(token, (ref) => isWaitingForExecutor(ref));
 * registry.removeByChildId(childId);
 * ```
 */
export class JobRegistry {
  private readonly byUuid = new Map<string, JobEntry>();
  private readonly byToken = new Map<string, JobEntry>();
  private readonly byChild = new Map<string, JobEntry>();
  private readonly byValidator = new Map<string, Set<JobEntry>>();

  /** @param earlyCapacity events held per job whose actor is not started yet; past it new ones are dropped. */
  constructor(private readonly earlyCapacity = 16) {}

  get size(): number {
    return this.byUuid.size;
  }

  has(jobUuid: string): boolean {
    return this.byUuid.has(jobUuid);
  }

  get(jobUuid: string): JobEntry | undefined {
    return this.byUuid.get(jobUuid);
  }

  /** Adds a job; false (and nothing changes) when its uuid or token is already known. */
  add(entry: Omit<JobEntry, 'claimed' | 'early'>): boolean {
    if (this.byUuid.has(entry.jobUuid) || this.byToken.has(entry.token)) return false;
    const stored: JobEntry = { ...entry, claimed: false, early: [] };
    this.byUuid.set(entry.jobUuid, stored);
    this.byToken.set(entry.token, stored);
    this.byChild.set(entry.childId, stored);
    let jobs = this.byValidator.get(entry.validatorHotkey);
    if (jobs === undefined) this.byValidator.set(entry.validatorHotkey, (jobs = new Set()));
    jobs.add(stored);
    return true;
  }

  /**
   * Sends `event` to the job's actor, or holds it until the actor is bound. The hold is bounded (a job not started yet
   * can only be sent a few events: its `V0JobRequest`, attach/detach of its validator's connections); past it the
   * event is dropped and the caller counts it.
   */
  send(entry: JobEntry, event: { readonly type: string }): JobDelivery {
    if (entry.ref !== undefined) {
      entry.ref.send(event);
      return 'sent';
    }
    if (entry.early.length >= this.earlyCapacity) return 'dropped';
    entry.early.push(event);
    return 'queued';
  }

  /** The deferred actor of `jobUuid` is running: it gets the events held for it, in order. */
  bind(jobUuid: string, ref: AnyActorRef): void {
    const entry = this.byUuid.get(jobUuid);
    if (entry === undefined || entry.ref !== undefined) return;
    entry.ref = ref;
    const early = entry.early;
    entry.early = [];
    for (const event of early) ref.send(event);
  }

  /** Jobs of one validator. */
  ofValidator(validatorHotkey: string): readonly JobEntry[] {
    return [...(this.byValidator.get(validatorHotkey) ?? [])];
  }

  /**
   * Takes `token` for an executor connection: only once, and only while `isWaiting(job)` says the job waits for its
   * executor.
   */
  claim(token: string, isWaiting: (ref: AnyActorRef) => boolean): { ok: true; entry: JobEntry } | { ok: false; refusal: ClaimRefusal } {
    const entry = this.byToken.get(token);
    if (entry === undefined) return { ok: false, refusal: 'unknown_token' };
    if (entry.claimed) return { ok: false, refusal: 'token_used' };
    // Not started yet: its executor cannot have been started either (the pool starts executors of bound jobs only).
    if (entry.ref === undefined || !isWaiting(entry.ref)) return { ok: false, refusal: 'not_waiting' };
    entry.claimed = true;
    return { ok: true, entry };
  }

  /** Forgets a job whose actor was never started. */
  remove(jobUuid: string): void {
    const entry = this.byUuid.get(jobUuid);
    if (entry !== undefined) this.removeByChildId(entry.childId);
  }

  /** Forgets the job whose actor had this child id. */
  removeByChildId(childId: string): void {
    const entry = this.byChild.get(childId);
    if (entry === undefined) return;
    this.byChild.delete(childId);
    this.byUuid.delete(entry.jobUuid);
    this.byToken.delete(entry.token);
    const jobs = this.byValidator.get(entry.validatorHotkey);
    jobs?.delete(entry);
    if (jobs?.size === 0) this.byValidator.delete(entry.validatorHotkey);
  }
}
