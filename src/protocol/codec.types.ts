import type { Result } from '../util/result';

/**
 * Why a text frame could not become a message. Decoders return these; they never throw.
 * - `frame.too_large`: refused before parsing (size limit).
 * - `frame.malformed_json`: not JSON, or JSON that is not an object.
 * - `frame.unknown_message_type`: valid JSON whose `message_type` this link does not know.
 * - `frame.invalid_field`: a known message with a field that fails validation (`path` points at it).
 */
export interface DecodeError {
  readonly code: 'frame.too_large' | 'frame.malformed_json' | 'frame.unknown_message_type' | 'frame.invalid_field';
  readonly message: string;
  /** JSON path of the offending field, e.g. `volume.volumes[0].contents`, when `code` is `frame.invalid_field`. */
  readonly path?: string;
  /** The `message_type` of the frame, when it could be read. */
  readonly messageType?: string;
}

/**
 * Turns text frames of one link into typed messages and back. The transport actor is generic over this, so a
 * link's codec is the only place that knows its messages.
 *
 * @example
 * ```ts
 * const r = codec.decode(frameText);
 * if (r.ok) handle(r.value); else log(r.error.code, r.error.path);
 * socket.send(codec.encode(reply));
 * ```
 */
export interface FrameCodec<In, Out> {
  decode(text: string): Result<In, DecodeError>;
  encode(message: Out): string;
}
