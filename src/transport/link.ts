/**
 * The per-message state of a transport and the functions on its hot path (send, flush). They mutate the context's
 * long-lived objects in place instead of going through `assign`, because they run once per message and copying
 * would cost O(outbox) per send. Both the machine's actions and the fast send path (`fastSend.ts`) use them, so
 * the two cannot drift apart.
 */
import type { TransportMetrics } from './metrics';
import type { TransportOptions } from './options';
import type { Outbox } from './outbox';
import { encodeDataFrame, ReliableReceiver, ReliableSender } from './reliable';
import type { SocketPort } from './socket';

/** Live counters of one transport (mutated in place: a snapshot shows current values; copy to keep them). */
export interface TransportStats {
  /** Data frames handed to sockets, resends included. */
  sent: number;
  /** Messages delivered to the owner. */
  received: number;
  /** Outgoing messages lost to overflow, refused while closing, or left unsent when the transport stopped. */
  dropped: number;
  decodeErrors: number;
  heartbeatMisses: number;
  /** Sockets that opened. */
  connects: number;
}

/** Per-connection state touched per message. */
export interface Link {
  /** Set while a socket is open (and closing). */
  port: SocketPort | undefined;
  /** This connection runs reliable mode (offered and accepted). */
  reliable: boolean;
  /** The socket's buffer passed its high-water mark: new messages wait in the outbox. */
  congested: boolean;
}

/** One reliable-mode session: its id and both sequence halves survive reconnects; a plain peer rotates it. */
export class ReliableSession {
  private generation = 0;
  id: string;
  sender: ReliableSender;
  receiver = new ReliableReceiver();

  constructor(
    private readonly baseId: string,
    private readonly window: number,
  ) {
    this.id = baseId;
    this.sender = new ReliableSender({ capacity: window });
  }

  /** Starts a fresh session (new id, seqs from 1) after a connection in plain mode broke the sequence. */
  rotate(): void {
    this.generation++;
    this.id = `${this.baseId}.${this.generation}`;
    this.sender = new ReliableSender({ capacity: this.window });
    this.receiver = new ReliableReceiver();
  }
}

/** The parts of the transport context the hot path reads and mutates. */
export interface HotPath {
  readonly options: TransportOptions;
  readonly metrics: TransportMetrics;
  readonly outbox: Outbox<string>;
  readonly stats: TransportStats;
  readonly link: Link;
  readonly session: ReliableSession | undefined;
}

/** Whether a frame may go to the socket now, the outbox aside. */
export function canTransmit(path: HotPath): boolean {
  const { link } = path;
  if (link.port === undefined || link.congested) return false;
  return !link.reliable || path.session!.sender.unackedCount < path.options.reliableWindow;
}

/** Sends one encoded message on the open socket (numbered in reliable mode). Call only when `canTransmit`. */
export function transmit(path: HotPath, text: string): void {
  const { link } = path;
  if (link.reliable) {
    // canTransmit checked the window, so push cannot refuse
    const pushed = path.session!.sender.push(text) as { seq: number };
    link.port!.send(encodeDataFrame(pushed.seq, text));
  } else {
    link.port!.send(text);
  }
  path.stats.sent++;
  path.metrics.messagesOut++;
}

/** Sends queued messages, oldest first, for as long as the socket and the reliable window allow. */
export function drainOutbox(path: HotPath): void {
  const { outbox } = path;
  while (outbox.size > 0 && canTransmit(path)) transmit(path, outbox.shift()!);
}

export function countDropped(path: HotPath, count: number): void {
  if (count <= 0) return;
  path.stats.dropped += count;
  path.metrics.outboxDropped(count);
}

/** Queues an encoded message; a drop under `drop_oldest`/`drop_newest` is counted here. */
export function enqueueText(path: HotPath, text: string): void {
  if (path.outbox.offer(text).outcome !== 'queued') countDropped(path, 1);
}

/** Sends now when nothing is queued ahead and the socket allows, else queues (keeping order). */
export function sendOrQueue(path: HotPath, text: string): void {
  if (path.outbox.size === 0 && canTransmit(path)) transmit(path, text);
  else enqueueText(path, text);
}
