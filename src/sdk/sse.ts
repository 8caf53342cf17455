/**
 * A Server-Sent Events parser (the WHATWG `text/event-stream` format), pure and incremental: feed it decoded text
 * as it arrives, get back the events completed so far. Only what the facilitator's job stream needs: `event`,
 * `data` (multi-line), `id`; comments and `retry` are ignored.
 */
import { HordeError } from '../util/errors';
import { SDK_SSE_MAX_LINE_BYTES } from './defaults';

/** One dispatched event. `event` is `message` when the stream named none. */
export interface ServerSentEvent {
  readonly event: string;
  readonly data: string;
  readonly id: string | undefined;
}

/** A line longer than the parser's bound: the stream is dropped rather than buffered without limit. */
export class SseLineTooLongError extends HordeError {
  constructor(maxLineBytes: number) {
    super('sdk.sse_line_too_long', `an event-stream line exceeded ${maxLineBytes} characters`);
  }
}

/**
 * Incremental parser state. `push` returns the events its chunk completed.
 *
 * @example
 * ```ts
 * const parser = new SseParser();
 * parser.push('event: status\ndata: {"status":"sent"}\n'); // []
 * parser.push('\n'); // [{ event: 'status', data: '{"status":"sent"}', id: undefined }]
 * ```
 */
export class SseParser {
  private buffer = '';
  private eventName = '';
  private dataLines: string[] = [];
  private lastId: string | undefined;
  /** A chunk ended on '\r': a '\n' starting the next chunk belongs to the same line break. */
  private skipLeadingLf = false;

  constructor(private readonly maxLineBytes: number = SDK_SSE_MAX_LINE_BYTES) {}

  push(chunk: string): ServerSentEvent[] {
    let text = chunk;
    if (this.skipLeadingLf && text.startsWith('\n')) text = text.slice(1);
    this.skipLeadingLf = false;
    this.buffer += text;
    const events: ServerSentEvent[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (match === null) break;
      // a lone '\r' at the very end may be the first half of '\r\n'
      if (match[0] === '\r' && match.index === this.buffer.length - 1) {
        this.skipLeadingLf = true;
      }
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const event = this.line(line);
      if (event !== undefined) events.push(event);
    }
    if (this.buffer.length > this.maxLineBytes) throw new SseLineTooLongError(this.maxLineBytes);
    return events;
  }

  private line(line: string): ServerSentEvent | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.eventName = value;
    else if (field === 'data') this.dataLines.push(value);
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
    return undefined;
  }

  private dispatch(): ServerSentEvent | undefined {
    const name = this.eventName;
    const data = this.dataLines;
    this.eventName = '';
    this.dataLines = [];
    if (data.length === 0) return undefined;
    return { event: name === '' ? 'message' : name, data: data.join('\n'), id: this.lastId };
  }
}
