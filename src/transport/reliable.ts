/**
 * Reliable, ordered delivery over a WebSocket that may drop and reconnect: a Horde-only extension negotiated in the
 * upgrade, so a plain ComputeHorde peer never sees it (contract: /work/tmp/contracts.md, "Reliable delivery mode").
 *
 * Wire format, only after both sides agreed in the upgrade:
 * - data frame `R<seq> <payload>`: decimal `seq` from 1, one space, then the codec's JSON text;
 * - ack frame `A<seq>`: cumulative ("I delivered everything up to and including `seq`").
 *
 * The receiver delivers only `seq == lastDelivered + 1`, drops (but re-acks) `seq <= lastDelivered`, and acks after
 * delivering. After a reconnect the sender drops what the peer's `x-horde-last-received` covers and resends the rest
 * in order, before any new frame. Both halves here are plain synchronous classes with no IO: the client transport
 * actor and the server acceptor drive them.
 */

/** Upgrade header offering (request) and accepting (101 response) reliable mode; its value is `1`. */
export const RELIABLE_HEADER = 'x-horde-reliable';
/** Upgrade request header naming the session; stable across the reconnects of one client transport actor. */
export const SESSION_HEADER = 'x-horde-session';
/** Upgrade header (request and 101 response): the highest seq this side delivered from the other in the session. */
export const LAST_RECEIVED_HEADER = 'x-horde-last-received';

/** A parsed reliable-mode frame. `invalid` frames carry why, for a decode-error event; parsing never throws. */
export type ReliableFrame =
  | { readonly kind: 'data'; readonly seq: number; readonly text: string }
  | { readonly kind: 'ack'; readonly seq: number }
  | { readonly kind: 'invalid'; readonly reason: string };

/** `R<seq> <text>`. */
export function encodeDataFrame(seq: number, text: string): string {
  return `R${seq} ${text}`;
}

/** `A<seq>`. */
export function encodeAckFrame(seq: number): string {
  return `A${seq}`;
}

const CHAR_0 = 48;
const CHAR_9 = 57;
/** Longest decimal a safe integer needs (9007199254740991). */
const MAX_SEQ_DIGITS = 16;

/**
 * Reads the decimal seq in `raw[start, end)`: digits only, no sign, no leading zero, >= 1, a safe integer.
 * Returns 0 for anything else (0 is never a valid seq). Hand-rolled because this runs once per frame.
 */
function readSeq(raw: string, start: number, end: number): number {
  const length = end - start;
  if (length < 1 || length > MAX_SEQ_DIGITS || raw.charCodeAt(start) === CHAR_0) return 0;
  let seq = 0;
  for (let i = start; i < end; i++) {
    const c = raw.charCodeAt(i);
    if (c < CHAR_0 || c > CHAR_9) return 0;
    seq = seq * 10 + (c - CHAR_0);
  }
  return Number.isSafeInteger(seq) ? seq : 0;
}

/**
 * Parses one text frame of a reliable-mode connection.
 *
 * @example
 * ```ts
 * parseReliableFrame('R7 {"message_type":"V0JobRequest"}'); // { kind: 'data', seq: 7, text: '{"message_type":…}' }
 * parseReliableFrame('A7');                                  // { kind: 'ack', seq: 7 }
 * parseReliableFrame('{"message_type":"x"}');                // { kind: 'invalid', reason: … }
 * ```
 */
export function parseReliableFrame(raw: string): ReliableFrame {
  const tag = raw.charCodeAt(0);
  if (tag === 82 /* R */) {
    const space = raw.indexOf(' ', 1);
    if (space < 0) return { kind: 'invalid', reason: 'data frame without a space after its seq' };
    const seq = readSeq(raw, 1, space);
    if (seq === 0) return { kind: 'invalid', reason: `data frame with an invalid seq "${raw.slice(1, space)}"` };
    return { kind: 'data', seq, text: raw.slice(space + 1) };
  }
  if (tag === 65 /* A */) {
    const seq = readSeq(raw, 1, raw.length);
    if (seq === 0) return { kind: 'invalid', reason: `ack frame with an invalid seq "${truncate(raw.slice(1))}"` };
    return { kind: 'ack', seq };
  }
  const shown = raw.length === 0 ? 'an empty frame' : `a frame starting with "${truncate(raw)}"`;
  return { kind: 'invalid', reason: `expected R<seq> or A<seq>, got ${shown}` };
}

function truncate(text: string): string {
  return text.length > 32 ? `${text.slice(0, 32)}…` : text;
}

/** Options of a {@link ReliableSender}. */
export interface ReliableSenderOptions {
  /** Most frames kept unacknowledged; a push beyond it is refused (see {@link ReliableSender.push}). */
  readonly capacity: number;
  /** Called with each refused text, so the owner can count it (metric) or report it. */
  readonly onDrop?: (text: string) => void;
}

/** One frame awaiting its acknowledgement. */
export interface UnackedFrame {
  readonly seq: number;
  readonly text: string;
}

/**
 * The sending half of one reliable session: numbers frames, keeps them until the peer acknowledges them, and hands
 * back what to resend after a reconnect.
 *
 * Overflow: when `capacity` frames are unacknowledged, `push` refuses the new text (`{ dropped: true }`, `onDrop`
 * called) WITHOUT consuming a seq. Dropping the oldest instead would leave a hole the receiver waits on forever, so
 * "drop newest" is the only policy that keeps the stream gap-free; the owner decides what a refusal means for it.
 *
 * Peer state loss: `resumeFrom` renumbers when the peer's `lastReceived` contradicts what this sender knows (the peer
 * forgot the session, or this sender is a fresh instance for an old session), so the stream continues at
 * `lastReceived + 1` instead of stalling on a gap. Delivery is exactly-once while both sides keep the session, and
 * at-least-once across a peer that lost it (frames delivered to its previous incarnation but not acked are resent).
 *
 * @example
 * ```ts
 * const sender = new ReliableSender({ capacity: 1000, onDrop: () => dropped.add(1) });
 * const r = sender.push('{"message_type":"V0Heartbeat"}');
 * if ('seq' in r) ws.send(encodeDataFrame(r.seq, text));
 * sender.ack(3);                                     // on 'A3'
 * for (const f of sender.resumeFrom(peerLastReceived)) ws.send(encodeDataFrame(f.seq, f.text)); // after reconnect
 * ```
 */
export class ReliableSender {
  private readonly capacity: number;
  private readonly onDrop: ((text: string) => void) | undefined;
  /** Unacked frames, oldest first, from index `head` (a queue without O(n) shifts). */
  private frames: UnackedFrame[] = [];
  private head = 0;
  private lastSeqValue = 0;
  private ackedThroughValue = 0;

  constructor(options: ReliableSenderOptions) {
    if (!Number.isInteger(options.capacity) || options.capacity < 1) {
      throw new RangeError(`ReliableSender capacity must be an integer >= 1, got ${options.capacity}`);
    }
    this.capacity = options.capacity;
    this.onDrop = options.onDrop;
  }

  /** Frames sent (or to be sent) and not yet acknowledged. */
  get unackedCount(): number {
    return this.frames.length - this.head;
  }

  /** Highest seq assigned so far (0 before the first push). */
  get lastSeq(): number {
    return this.lastSeqValue;
  }

  /** Highest cumulative ack received (0 before the first). */
  get ackedThrough(): number {
    return this.ackedThroughValue;
  }

  /** Numbers `text` and keeps it until acknowledged; refuses it when `capacity` frames are unacknowledged. */
  push(text: string): { seq: number } | { dropped: true } {
    if (this.unackedCount >= this.capacity) {
      this.onDrop?.(text);
      return { dropped: true };
    }
    const seq = ++this.lastSeqValue;
    this.frames.push({ seq, text });
    return { seq };
  }

  /**
   * Cumulative acknowledgement: forgets every frame up to `seq`. An ack at or below an earlier one changes nothing,
   * and one beyond the last assigned seq (a confused peer) is clamped to it. Returns how many frames it released.
   */
  ack(seq: number): number {
    const through = Math.min(seq, this.lastSeqValue);
    if (!(through > this.ackedThroughValue)) return 0;
    this.ackedThroughValue = through;
    const before = this.unackedCount;
    while (this.head < this.frames.length && this.frames[this.head]!.seq <= through) this.head++;
    this.compact();
    return before - this.unackedCount;
  }

  /**
   * Call once per (re)connection, with the peer's `x-horde-last-received`. Returns the frames to send, in order,
   * before any new frame.
   * - Normal case (`ackedThrough <= peerLastReceived <= lastSeq`): acks through `peerLastReceived`, returns the rest.
   * - The peer lost the session (`peerLastReceived < ackedThrough`) or this sender never sent that far
   *   (`peerLastReceived > lastSeq`): nothing the peer claims can be trusted against this buffer, so every unacked
   *   frame is kept and renumbered from `peerLastReceived + 1`; new pushes continue after them.
   */
  resumeFrom(peerLastReceived: number): UnackedFrame[] {
    const peer = Number.isSafeInteger(peerLastReceived) && peerLastReceived > 0 ? peerLastReceived : 0;
    if (peer >= this.ackedThroughValue && peer <= this.lastSeqValue) {
      this.ack(peer);
    } else {
      const kept = this.frames.slice(this.head);
      this.frames = kept.map((frame, i) => ({ seq: peer + 1 + i, text: frame.text }));
      this.head = 0;
      this.ackedThroughValue = peer;
      this.lastSeqValue = peer + kept.length;
    }
    return this.frames.slice(this.head);
  }

  /** Drops the consumed prefix once it is both large and most of the array, so compaction stays amortised O(1). */
  private compact(): void {
    if (this.head === this.frames.length) {
      this.frames = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.head = 0;
    }
  }
}

/**
 * The receiving half of one reliable session: decides, per data frame, whether to deliver it.
 *
 * @example
 * ```ts
 * const receiver = new ReliableReceiver();
 * switch (receiver.accept(frame.seq)) {
 *   case 'deliver': handle(frame.text); ws.send(encodeAckFrame(receiver.lastDelivered)); break;
 *   case 'duplicate': ws.send(encodeAckFrame(receiver.lastDelivered)); break; // re-ack so the sender can forget it
 *   case 'gap': break; // a frame is missing: wait for the resend after the next reconnect
 * }
 * ```
 */
export class ReliableReceiver {
  private lastDeliveredValue: number;

  constructor(lastDelivered = 0) {
    if (!Number.isSafeInteger(lastDelivered) || lastDelivered < 0) {
      throw new RangeError(`ReliableReceiver lastDelivered must be a safe integer >= 0, got ${lastDelivered}`);
    }
    this.lastDeliveredValue = lastDelivered;
  }

  /** Highest seq delivered in order (what to put in `x-horde-last-received`). */
  get lastDelivered(): number {
    return this.lastDeliveredValue;
  }

  /** `deliver` (and advance) only the next seq in order; `duplicate` for one already delivered; `gap` past a hole. */
  accept(seq: number): 'deliver' | 'duplicate' | 'gap' {
    if (seq === this.lastDeliveredValue + 1) {
      this.lastDeliveredValue = seq;
      return 'deliver';
    }
    return seq <= this.lastDeliveredValue ? 'duplicate' : 'gap';
  }
}

/**
 * Reads a numeric upgrade header (`x-horde-last-received`) leniently: a missing or malformed value counts as 0,
 * which makes the sender resend everything unacknowledged rather than lose anything.
 */
export function parseLastReceivedHeader(value: string | string[] | undefined): number {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return 0;
  const trimmed = raw.trim();
  return trimmed === '0' ? 0 : readSeq(trimmed, 0, trimmed.length);
}

/** True when an upgrade header says `x-horde-reliable: 1`. */
export function isReliableHeader(value: string | string[] | undefined): boolean {
  const raw = Array.isArray(value) ? value[0] : value;
  return raw !== undefined && raw.trim() === '1';
}
