/** What a full outbox does with one more message (see `DEFAULT_OUTBOX_OVERFLOW`). */
export type OverflowPolicy = 'drop_oldest' | 'drop_newest' | 'fail';

/** Result of {@link Outbox.offer}: whether the item was queued, and what was lost to make room (if anything). */
export type OfferResult =
  | { readonly outcome: 'queued' }
  | { readonly outcome: 'dropped_oldest' }
  | { readonly outcome: 'dropped_newest' }
  | { readonly outcome: 'overflow' };

const QUEUED: OfferResult = { outcome: 'queued' };
const DROPPED_OLDEST: OfferResult = { outcome: 'dropped_oldest' };
const DROPPED_NEWEST: OfferResult = { outcome: 'dropped_newest' };
const OVERFLOW: OfferResult = { outcome: 'overflow' };

/**
 * A bounded FIFO of encoded frames waiting for a socket, with an explicit overflow policy and a drop counter.
 * Mutable on purpose: the transport keeps one per actor in its context and touches it per message, where copying an
 * array per `assign` would cost O(n) per send. Under `fail` the new item is not queued and the caller fails.
 *
 * @example
 * ```ts
 * const outbox = new Outbox<string>(1000, 'drop_oldest');
 * outbox.offer('{"message_type":"V0Heartbeat"}'); // { outcome: 'queued' }
 * while (outbox.size > 0) ws.send(outbox.shift()!);
 * ```
 */
export class Outbox<T> {
  /** Items from index `head`; a queue without O(n) shifts. */
  private items: T[] = [];
  private head = 0;
  /** Items lost to overflow since creation (never reset; the metric counts across actors). */
  dropped = 0;

  constructor(
    readonly capacity: number,
    readonly policy: OverflowPolicy,
  ) {
    if (!Number.isInteger(capacity) || capacity < 0) {
      throw new RangeError(`Outbox capacity must be an integer >= 0, got ${capacity}`);
    }
  }

  get size(): number {
    return this.items.length - this.head;
  }

  /** Queues `item`, applying the overflow policy when `capacity` items are already queued. */
  offer(item: T): OfferResult {
    if (this.size < this.capacity) {
      this.items.push(item);
      return QUEUED;
    }
    switch (this.policy) {
      case 'drop_oldest':
        this.dropped++;
        if (this.capacity === 0) return DROPPED_NEWEST;
        this.head++;
        this.items.push(item);
        this.compact();
        return DROPPED_OLDEST;
      case 'drop_newest':
        this.dropped++;
        return DROPPED_NEWEST;
      case 'fail':
        this.dropped++;
        return OVERFLOW;
    }
  }

  /** The oldest item, without removing it. */
  peek(): T | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  /** Removes and returns the oldest item. */
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head]!;
    // release the reference so a long-lived outbox does not pin sent frames until the next compaction
    (this.items as (T | undefined)[])[this.head] = undefined;
    this.head++;
    this.compact();
    return item;
  }

  /** Empties the queue (counting nothing) and returns what it held, oldest first. */
  clear(): T[] {
    const rest = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return rest;
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
