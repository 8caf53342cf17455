/**
 * Defaults of the protocol layer. Each one is a named constant so that a reader can find what a limit costs.
 */

/**
 * Largest text frame a codec accepts, in bytes of UTF-8 (50 MiB, upstream's `WSTransport` `max_size`).
 * A bigger frame is refused with `frame.too_large` before any parsing, so a hostile peer cannot make us allocate a
 * parse tree for it. Inline volumes (base64 zips) ride inside `V0InitialJobRequest`, so lowering this also lowers the
 * biggest inline volume a miner/executor can receive.
 */
export const DEFAULT_MAX_FRAME_BYTES = 50 * 1024 * 1024;

/**
 * Deepest nesting of JSON arrays/objects the parser accepts (jiter's recursion limit, which upstream's pydantic
 * uses). Deeper input is `frame.malformed_json`. It bounds the parser's stack use; no real message nests past ~8.
 */
export const DEFAULT_MAX_JSON_DEPTH = 200;

/**
 * Deepest nesting the JSON writer follows before giving up (a guard against cyclic values handed to an encoder,
 * which would otherwise overflow the stack). Higher than {@link DEFAULT_MAX_JSON_DEPTH} so that anything a codec
 * decoded, even with a raised depth limit up to this, can be encoded again.
 */
export const MAX_ENCODE_DEPTH = 1000;
