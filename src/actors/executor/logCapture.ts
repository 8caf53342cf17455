import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { LOG_CAPTURE_EDGE_BYTES } from './defaults';
import { headCodePoints, tailCodePoints, truncateLikeUpstream, type TruncationLimits, UPSTREAM_TRUNCATION } from './wire';

function decodeUtf8(buffer: Buffer): string {
  const decoder = new StringDecoder('utf8');
  return decoder.write(buffer) + decoder.end();
}

/**
 * Keeps the first and the last `edgeBytes` of a byte stream in memory (a bounded buffer: the middle is dropped and
 * counted) and turns them into upstream's character-exact wire truncation.
 *
 * Why this is exact: with `edgeBytes ≥ 4·headChars + 3` (a UTF-8 character is at most 4 bytes), whenever bytes were
 * dropped the stream has more than `maxChars` characters, the head buffer holds at least `headChars` whole
 * characters and the tail buffer at least `tailChars`.
 *
 * @example
 * ```ts
 * const capture = new HeadTailCapture();
 * capture.push(Buffer.from('hello'));
 * capture.wireText(); // { text: 'hello', truncated: false }
 * ```
 */
export class HeadTailCapture {
  private readonly headChunks: Buffer[] = [];
  private headBytes = 0;
  private readonly tailChunks: Buffer[] = [];
  private tailBytes = 0;
  private total = 0;

  constructor(
    readonly edgeBytes: number = LOG_CAPTURE_EDGE_BYTES,
    readonly limits: TruncationLimits = UPSTREAM_TRUNCATION,
  ) {
    const needed = 4 * Math.max(limits.headChars, limits.tailChars) + 3;
    if (edgeBytes < needed) throw new RangeError(`edgeBytes must be >= ${needed} for these limits`);
    if (2 * edgeBytes < 4 * limits.maxChars) throw new RangeError('2 × edgeBytes must cover maxChars characters');
  }

  /** Bytes pushed so far. */
  get totalBytes(): number {
    return this.total;
  }

  /** Bytes no longer in memory (between head and tail). */
  get droppedBytes(): number {
    return this.total - this.headBytes - this.tailBytes;
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    let rest = chunk;
    if (this.headBytes < this.edgeBytes) {
      const take = Math.min(this.edgeBytes - this.headBytes, rest.length);
      this.headChunks.push(Buffer.from(rest.subarray(0, take)));
      this.headBytes += take;
      rest = rest.subarray(take);
    }
    if (rest.length === 0) return;
    this.tailChunks.push(Buffer.from(rest));
    this.tailBytes += rest.length;
    while (this.tailBytes > this.edgeBytes) {
      const first = this.tailChunks[0]!;
      const excess = this.tailBytes - this.edgeBytes;
      if (first.length <= excess) {
        this.tailChunks.shift();
        this.tailBytes -= first.length;
      } else {
        this.tailChunks[0] = first.subarray(excess);
        this.tailBytes -= excess;
      }
    }
  }

  /** The text upstream would put on the wire for this stream. */
  wireText(): { text: string; truncated: boolean } {
    const head = Buffer.concat(this.headChunks);
    const tail = Buffer.concat(this.tailChunks);
    if (this.droppedBytes === 0) return truncateLikeUpstream(decodeUtf8(Buffer.concat([head, tail])), this.limits);
    return {
      text: `${headCodePoints(decodeUtf8(head), this.limits.headChars)} ... ${tailCodePoints(decodeUtf8(tail), this.limits.tailChars)}`,
      truncated: true,
    };
  }
}

/**
 * One output stream of a container: every byte goes to a file (the full copy upstream writes to
 * `/output/stdout.txt`) and to a `HeadTailCapture`. Writes respect the file's back-pressure.
 */
export class LogSink {
  readonly capture: HeadTailCapture;
  private readonly file: WriteStream;
  private fileError: Error | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    readonly path: string,
    capture: HeadTailCapture = new HeadTailCapture(),
  ) {
    this.capture = capture;
    this.file = createWriteStream(path, { flags: 'w' });
    this.file.on('error', (error) => {
      this.fileError = error;
    });
  }

  /** Resolves when the file can take more (immediately unless its buffer is full). */
  async write(chunk: Buffer): Promise<void> {
    if (this.fileError) throw this.fileError;
    this.capture.push(chunk);
    if (!this.file.write(chunk)) await once(this.file, 'drain');
  }

  /** Flushes and closes the file (idempotent). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (!this.file.closed) {
        const closed = once(this.file, 'close').catch(() => undefined);
        this.file.end();
        await closed;
      }
      if (this.fileError) throw this.fileError;
    })();
    return this.closing;
  }
}

/**
 * Splits Docker's multiplexed attach stream (8-byte frame headers: stream type, 3 zero bytes, big-endian length)
 * into stdout and stderr sinks. Unlike docker-modem's `demuxStream` it waits for the sinks, so a fast job cannot
 * grow memory when the disk is slower than the container.
 */
export class DockerStreamDemuxer extends Writable {
  private pending: Buffer = Buffer.alloc(0);

  constructor(
    private readonly stdout: LogSink,
    private readonly stderr: LogSink,
  ) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.consume(chunk).then(
      () => callback(),
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
    );
  }

  private async consume(chunk: Buffer): Promise<void> {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 8) {
      const streamType = this.pending.readUInt8(0);
      const length = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + length) return;
      const payload = this.pending.subarray(8, 8 + length);
      this.pending = this.pending.subarray(8 + length);
      // Type 0 (stdin echo) cannot occur without a TTY/stdin; treat anything but stderr as stdout.
      await (streamType === 2 ? this.stderr : this.stdout).write(payload);
    }
  }
}
