/**
 * The reservation desk of one executor pool: the slot count of its class, taken synchronously when an initial request
 * arrives (upstream's `ExecutorClassPool.reserve_executor` under its `_reservation_lock`, which resolves the
 * reservation before any executor starts). Plain shared state, like the job registry: the miner reserves here, then
 * starts the job actor already knowing its answer; the pool actor picks the new reservations up in batches, starts
 * their executors and gives the slots back when the executors are gone.
 *
 * Why not a message round trip to the pool actor: a reservation is a counter decrement, and on one event loop shared
 * by a burst of initial requests each round trip (the pool's macrostep, then the job's) came off every later accept.
 *
 * Who writes what: `reserve`/`bind`/`cancel`/`markJobOver` (the miner and the jobs, before the pool has the
 * reservation); `take`, `takeAll`, `release`, `stopAccepting` (the pool actor only, in its executed actions).
 */
import type { AnyActorRef } from 'xstate';
import type { ExecutorClass } from '../protocol/enums';

/** What a reservation came to. */
export type ReserveOutcome = 'reserved' | 'busy' | 'draining';

/** A granted slot the pool has not picked up yet. */
export interface PendingReservation {
  readonly token: string;
  readonly jobUuid: string;
  /** Its job actor, once started (`bind`); the pool takes a reservation only once it has one (or its job is over). */
  job: AnyActorRef | undefined;
  /** The job ended before the pool picked the reservation up: no executor is started. */
  jobOver: boolean;
  readonly reservedAtMs: number;
}

/** Where a desk reports (the pool's occupancy gauge, the SIGTERM drain). */
export interface ReservationDeskListener {
  /** `held` of `capacity` slots are taken (pending reservations included). */
  held(executorClass: ExecutorClass, capacity: number, held: number): void;
  /** A reservation is ready for the pool (bound to its job) and none was before: the pool should arm its batch. */
  pending(): void;
}

/**
 * @example
 * ```ts
 * const desk = new ReservationDesk('always_on.test', 2, clock);
 * if (desk.reserve(token, jobUuid) === 'reserved') desk.bind(token, jobActor);
 * ```
 */
export class ReservationDesk {
  private heldCount = 0;
  private accepting = true;
  private readonly waiting = new Map<string, PendingReservation>();
  /** Waiting reservations the pool can take: bound to their job, or with their job over. */
  private readyCount = 0;
  private listener: ReservationDeskListener | undefined;
  /** Clock time of the newest reservation (the pool's spawn batch waits for reservations to pause). */
  lastReservedAtMs = 0;

  constructor(
    readonly executorClass: ExecutorClass,
    readonly capacity: number,
    private readonly nowMs: () => number,
  ) {}

  /** Slots taken: reserved (pending or picked up) and not yet given back. */
  get held(): number {
    return this.heldCount;
  }

  /** False once the pool drains: every reservation is refused `draining`. */
  get isAccepting(): boolean {
    return this.accepting;
  }

  /** Reservations the pool has not taken yet, oldest first. */
  get pendingCount(): number {
    return this.waiting.size;
  }

  /** The pool listens here (one listener: its actor). */
  listen(listener: ReservationDeskListener | undefined): void {
    this.listener = listener;
  }

  /** Takes a slot for `token` at once, or says why not. A token already waiting is refused (`busy`). */
  reserve(token: string, jobUuid: string): ReserveOutcome {
    if (!this.accepting) return 'draining';
    if (this.heldCount >= this.capacity || this.waiting.has(token)) return 'busy';
    const nowMs = this.nowMs();
    this.heldCount += 1;
    this.lastReservedAtMs = nowMs;
    this.waiting.set(token, { token, jobUuid, job: undefined, jobOver: false, reservedAtMs: nowMs });
    this.listener?.held(this.executorClass, this.capacity, this.heldCount);
    return 'reserved';
  }

  /**
   * Gives the pending reservation of `token` its job actor (told about the executor from then on). From now on the
   * pool may take it: an executor started before its job existed would have nobody to report to.
   */
  bind(token: string, job: AnyActorRef): void {
    const reservation = this.waiting.get(token);
    if (reservation === undefined) return;
    const wasReady = reservation.job !== undefined || reservation.jobOver;
    reservation.job = job;
    if (!wasReady) this.becameReady();
  }

  /** The job of a pending reservation could not be started: the slot is given back at once. */
  cancel(token: string): void {
    const reservation = this.waiting.get(token);
    if (reservation === undefined) return;
    this.waiting.delete(token);
    if (reservation.job !== undefined || reservation.jobOver) this.readyCount -= 1;
    this.release();
  }

  /** The job of `token` is over; true when its reservation was still pending (it will get no executor). */
  markJobOver(token: string): boolean {
    const reservation = this.waiting.get(token);
    if (reservation === undefined) return false;
    const wasReady = reservation.job !== undefined || reservation.jobOver;
    reservation.jobOver = true;
    if (!wasReady) this.becameReady();
    return true;
  }

  /**
   * The pool takes every pending reservation that is bound to its job or whose job is over (their slots stay held
   * until it releases them); one still waiting for its job actor stays for the next batch.
   */
  take(): PendingReservation[] {
    if (this.readyCount === this.waiting.size) return this.takeAll();
    const taken: PendingReservation[] = [];
    for (const reservation of this.waiting.values()) {
      if (reservation.job === undefined && !reservation.jobOver) continue;
      taken.push(reservation);
      this.waiting.delete(reservation.token);
    }
    this.readyCount = 0;
    return taken;
  }

  /** The pool takes every pending reservation, bound or not (it is stopping: none will get an executor). */
  takeAll(): PendingReservation[] {
    const taken = [...this.waiting.values()];
    this.waiting.clear();
    this.readyCount = 0;
    return taken;
  }

  /** Reservations the pool could take now. */
  get readyForPool(): number {
    return this.readyCount;
  }

  private becameReady(): void {
    this.readyCount += 1;
    if (this.readyCount === 1) this.listener?.pending();
  }

  /** The pool gives `count` slots back. */
  release(count = 1): void {
    if (count <= 0) return;
    this.heldCount = Math.max(0, this.heldCount - count);
    this.listener?.held(this.executorClass, this.capacity, this.heldCount);
  }

  /** No new reservation from now on (drain, kill, stop). */
  stopAccepting(): void {
    this.accepting = false;
  }
}
