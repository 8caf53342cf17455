/**
 * Builds the per-link {@link FrameCodec}s from message schemas. Decoding never throws; see {@link DecodeError}.
 */
import type { DecodeError, FrameCodec } from './codec.types';
import { DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_JSON_DEPTH } from './defaults';
import { JsonWriter, isJsonObject, parseJsonTree, type JsonStyle } from './json';
import { SchemaEncodeError, runParse, writeRoot, type AnySchema, type Infer, type Input, type ObjectSchema, type Shape } from './schema';
import { err, ok, type Result } from '../util/result';

/** Per-codec limits. */
export interface LinkCodecOptions {
  /** Frames longer than this many UTF-8 bytes are refused before parsing. Default {@link DEFAULT_MAX_FRAME_BYTES}. */
  readonly maxFrameBytes?: number;
  /** Deepest JSON nesting accepted. Default {@link DEFAULT_MAX_JSON_DEPTH}. */
  readonly maxJsonDepth?: number;
}

/** A message of a link, with the JSON style its upstream sender writes (pydantic's compact dump by default). */
export interface LinkMessage<S extends ObjectSchema<Shape> = ObjectSchema<Shape>> {
  readonly schema: S;
  readonly style?: JsonStyle;
}

/** What a link carries. */
export interface LinkDefinition<S extends ObjectSchema<Shape>> {
  /** For error messages, e.g. `validator->miner`. */
  readonly name: string;
  /** Messages told apart by `message_type`. */
  readonly messages: ReadonlyArray<LinkMessage<S>>;
  /** A message without `message_type` (the facilitator's `Response`), recognised by `when`. */
  readonly untagged?: { readonly message: LinkMessage<S>; readonly when: (frame: Record<string, unknown>) => boolean };
}

/**
 * The codec of one link direction: decodes what that direction carries and encodes the same set.
 *
 * @example
 * ```ts
 * const r = validatorToMinerCodec.decode(text);
 * if (!r.ok) return reply(GenericError(`Malformed message: ${r.error.message}`));
 * const text2 = validatorToMinerCodec.encode({ message_type: 'V0MainHotkeyMessage' });
 * ```
 */
export interface LinkCodec<Decoded, Encodable> extends FrameCodec<Decoded, Encodable> {
  /** The link direction, e.g. `validator->miner`. */
  readonly name: string;
  /** The `message_type`s this direction carries. */
  readonly messageTypes: readonly string[];
  /**
   * Encodes compact JSON in upstream's field order, optional fields as `null`.
   * Throws {@link SchemaEncodeError} (`protocol.encode_invalid`) for a message that does not fit its schema.
   */
  encode(message: Encodable): string;
}

function decodeError(code: DecodeError['code'], message: string, extra: { path?: string; messageType?: string } = {}): DecodeError {
  const e: { code: DecodeError['code']; message: string; path?: string; messageType?: string } = { code, message };
  if (extra.path !== undefined) e.path = extra.path;
  if (extra.messageType !== undefined) e.messageType = extra.messageType;
  return e;
}

/**
 * UTF-8 length of `text` is at least its UTF-16 length and at most three times it, so the exact (O(n)) count is
 * needed only in between.
 */
function exceeds(text: string, maxBytes: number): number | undefined {
  if (text.length > maxBytes) return text.length;
  if (text.length * 3 <= maxBytes) return undefined;
  const bytes = Buffer.byteLength(text, 'utf8');
  return bytes > maxBytes ? bytes : undefined;
}

/** Builds the codec of one link direction. */
export function createLinkCodec<S extends ObjectSchema<Shape>>(
  definition: LinkDefinition<S>,
  options: LinkCodecOptions = {},
): LinkCodec<Infer<S>, Input<S>> {
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const maxJsonDepth = options.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH;
  const byType = new Map<string, { schema: AnySchema; style: JsonStyle }>();
  for (const m of definition.messages) {
    const tag = m.schema.field('message_type') as unknown as { value?: unknown };
    if (typeof tag?.value !== 'string') throw new Error(`${definition.name}: message without a literal message_type`);
    byType.set(tag.value, { schema: m.schema, style: m.style ?? 'pydantic' });
  }
  const untagged = definition.untagged;
  const untaggedEntry = untagged ? { schema: untagged.message.schema as AnySchema, style: untagged.message.style ?? 'pydantic' } : undefined;
  const name = definition.name;

  return {
    name,
    messageTypes: [...byType.keys()],

    decode(text: string): Result<Infer<S>, DecodeError> {
      const size = exceeds(text, maxFrameBytes);
      if (size !== undefined) {
        return err(decodeError('frame.too_large', `${name}: frame of at least ${size} bytes exceeds the ${maxFrameBytes}-byte limit`));
      }
      const parsed = parseJsonTree(text, maxJsonDepth);
      if (!parsed.ok) return err(decodeError('frame.malformed_json', `${name}: malformed JSON: ${parsed.error}`));
      const frame = parsed.value;
      if (!isJsonObject(frame)) return err(decodeError('frame.malformed_json', `${name}: frame is JSON but not an object`));
      const messageType = Object.hasOwn(frame, 'message_type') ? frame.message_type : undefined;
      let entry: { schema: AnySchema; style: JsonStyle } | undefined;
      if (typeof messageType === 'string') entry = byType.get(messageType);
      else if (messageType === undefined && untagged !== undefined && untagged.when(frame)) entry = untaggedEntry;
      if (entry === undefined) {
        const shown = typeof messageType === 'string' ? JSON.stringify(messageType.slice(0, 100)) : messageType === undefined ? 'no message_type' : 'a non-string message_type';
        return err(
          decodeError('frame.unknown_message_type', `${name}: unknown message (${shown})`, typeof messageType === 'string' ? { messageType } : {}),
        );
      }
      const r = runParse(entry.schema, frame, true);
      if (!r.ok) {
        const mt = typeof messageType === 'string' ? messageType : undefined;
        const where = r.error.path === '' ? '' : ` at ${r.error.path}`;
        return err(
          decodeError('frame.invalid_field', `${name}: invalid ${mt ?? 'message'}${where}: ${r.error.message}`, {
            path: r.error.path,
            ...(mt !== undefined ? { messageType: mt } : {}),
          }),
        );
      }
      return ok(r.value as Infer<S>);
    },

    encode(message: Input<S>): string {
      const mt = (message as { message_type?: unknown }).message_type;
      const entry = typeof mt === 'string' ? byType.get(mt) : untaggedEntry;
      if (entry === undefined) throw new SchemaEncodeError(`${name} carries no message_type ${String(mt)}`, 'message_type');
      const w = new JsonWriter(entry.style);
      writeRoot(entry.schema, message, w);
      return w.out;
    },
  };
}

/**
 * Joins the decoder of the incoming direction and the encoder of the outgoing one: the codec a transport on one
 * end of a link uses.
 *
 * @example
 * ```ts
 * // the miner's side of a validator connection
 * const codec = duplexCodec(validatorToMinerCodec, minerToValidatorCodec);
 * ```
 */
export function duplexCodec<In, Out>(incoming: FrameCodec<In, unknown>, outgoing: FrameCodec<unknown, Out>): FrameCodec<In, Out> {
  return {
    decode: (text: string) => incoming.decode(text),
    encode: (message: Out) => outgoing.encode(message),
  };
}
