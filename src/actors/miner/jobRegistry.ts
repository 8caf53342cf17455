import type { AnyActorRef } from 'xstate';
import type { ExecutorClass } from '../../protocol/enums';

/** One job the miner knows, from its initial request until its actor ends. */
export interface JobEntry {
  readonly jobUuid: string;
  readonly token: string;
  readonly validatorHotkey: string;
  readonly executorClass: ExecutorClass;
  readonly childId: string;
  readonly ref: AnyActorRef;
  /** Set when an executor connection took the token (tokens are single-use). */
  claimed: boolean;
}

/** Why an executor's token was refused. */
export type ClaimRefusal = 'unknown_token' | 'token_used' | 'not_waiting';

/**
 * The jobs the miner runs, found by job uuid, executor token or validator: plain shared state read by the validator
 * and executor sessions (upstream kept this in the `AcceptedJob` table). Entries are added when a job actor is
 * started and removed when its supervisor reports it gone, so the registry is bounded by the jobs supervisor's
 * capacity.
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
  add(entry: Omit<JobEntry, 'claimed'>): boolean {
    if (this.byUuid.has(entry.jobUuid) || this.byToken.has(entry.token)) return false;
    const stored: JobEntry = { ...entry, claimed: false };
    this.byUuid.set(entry.jobUuid, stored);
    this.byToken.set(entry.token, stored);
    this.byChild.set(entry.childId, stored);
    let jobs = this.byValidator.get(entry.validatorHotkey);
    if (jobs === undefined) this.byValidator.set(entry.validatorHotkey, (jobs = new Set()));
    jobs.add(stored);
    return true;
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
    if (!isWaiting(entry.ref)) return { ok: false, refusal: 'not_waiting' };
    entry.claimed = true;
    return { ok: true, entry };
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
