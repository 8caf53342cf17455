/**
 * Named barriers for a task group, as pure functions over a small record.
 *
 * A barrier opens when every LIVE child (started and not yet settled) has arrived at it; the children waiting there
 * are then released together. A child that settles without arriving (done, failed, timed out, cancelled) departs:
 * it is no longer waited for, so the others are never left hanging on it. Upstream's synthetic batch hung exactly
 * this way until PR #381 ("Barrier wait fix": every task must reach the barrier even on error).
 *
 * Once open, a barrier stays open: a child that arrives later (one started after it opened, under a concurrency
 * limit) passes straight through. So a barrier synchronises the children running when it opens.
 */

export interface BarrierBook {
  /** Closed barriers that someone waits at: name → ids of the children waiting, in arrival order. (A Map: names
   * are caller strings, and `__proto__` or `constructor` must be plain keys.) */
  readonly waiting: ReadonlyMap<string, readonly string[]>;
  /** Names of barriers that have opened. */
  readonly opened: readonly string[];
}

/** Children released from one barrier. */
export interface BarrierRelease {
  readonly name: string;
  readonly childIds: readonly string[];
}

export const emptyBarrierBook: BarrierBook = Object.freeze({ waiting: new Map<string, readonly string[]>(), opened: [] });

/**
 * Child `childId` (live) arrives at `name` while `liveCount` children are live (it included). Returns the release
 * this causes, if any: everyone waiting when the last live child arrives, or just the arriving child when the
 * barrier is already open. A repeated arrival of a waiting child changes nothing.
 */
export function arriveAtBarrier(
  book: BarrierBook,
  name: string,
  childId: string,
  liveCount: number,
): { book: BarrierBook; release: BarrierRelease | undefined } {
  if (book.opened.includes(name)) return { book, release: { name, childIds: [childId] } };
  const already = book.waiting.get(name) ?? [];
  if (already.includes(childId)) return { book, release: undefined };
  const waiters = [...already, childId];
  if (waiters.length >= liveCount) return { book: open(book, name), release: { name, childIds: waiters } };
  return { book: { ...book, waiting: new Map(book.waiting).set(name, waiters) }, release: undefined };
}

/**
 * Child `childId` settled; `liveCount` children remain live. It stops being waited for (and stops waiting), and
 * every barrier whose waiters now cover all live children opens.
 */
export function departFromBarriers(
  book: BarrierBook,
  childId: string,
  liveCount: number,
): { book: BarrierBook; releases: BarrierRelease[] } {
  const releases: BarrierRelease[] = [];
  let next = book;
  for (const [name, waiters] of book.waiting) {
    const remaining = waiters.includes(childId) ? waiters.filter((id) => id !== childId) : waiters;
    if (remaining.length === 0) {
      next = withoutWaiting(next, name);
    } else if (remaining.length >= liveCount) {
      next = open(next, name);
      releases.push({ name, childIds: remaining });
    } else if (remaining !== waiters) {
      next = { ...next, waiting: new Map(next.waiting).set(name, remaining) };
    }
  }
  return { book: next, releases };
}

function open(book: BarrierBook, name: string): BarrierBook {
  return { waiting: withoutWaiting(book, name).waiting, opened: [...book.opened, name] };
}

function withoutWaiting(book: BarrierBook, name: string): BarrierBook {
  const waiting = new Map(book.waiting);
  waiting.delete(name);
  return { ...book, waiting };
}
