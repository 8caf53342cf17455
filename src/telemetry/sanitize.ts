import { DEFAULT_SANITIZE_DEPTH, DEFAULT_SECRET_WORDS, REDACTED } from './defaults';

/** Decides whether a field's value must not leave the process. */
export type SecretFieldTest = (fieldName: string) => boolean;

/** Splits `signingKey`, `signing_key`, `signing-key`, `SIGNING_KEY` into lower-case words. */
export function fieldWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w.length > 0)
    .map((w) => w.toLowerCase());
}

/**
 * A field test matching names that contain one of `words` as a word: with the defaults `apiKey`, `signing_key`,
 * `executorToken`, `mnemonic`, `signature` are secret; `hotkey`, `keyword`, `monkey` are not.
 */
export function secretFieldTest(words: readonly string[] = DEFAULT_SECRET_WORDS): SecretFieldTest {
  const set = new Set(words.map((w) => w.toLowerCase()));
  const cache = new Map<string, boolean>();
  return (name) => {
    let secret = cache.get(name);
    if (secret === undefined) {
      secret = fieldWords(name).some((w) => set.has(w));
      if (cache.size < 10_000) cache.set(name, secret);
    }
    return secret;
  };
}

export interface SanitizeOptions {
  isSecret?: SecretFieldTest;
  /** Depth beyond which values become `[depth]`. */
  maxDepth?: number;
}

/**
 * A JSON-safe deep copy of `value` with every field whose name looks secret replaced by `[redacted]`. Handles
 * cycles (`[circular]`), functions (`{ type: name }`), errors (name, message, code), `toJSON` (actor refs, dates),
 * bigints, binary buffers (`[N bytes]`), Maps and Sets. A value that is merely secret-looking but sits under an
 * innocent field name is NOT caught: keep secrets in fields named as such, and out of machine configs.
 *
 * @example
 * ```ts
 * sanitize({ hotkey: '5F…', signingKey: 'abc' }); // { hotkey: '5F…', signingKey: '[redacted]' }
 * ```
 */
export function sanitize(value: unknown, options: SanitizeOptions = {}): unknown {
  const isSecret = options.isSecret ?? defaultSecretTest;
  const maxDepth = options.maxDepth ?? DEFAULT_SANITIZE_DEPTH;
  const seen = new WeakSet<object>();

  const copy = (v: unknown, depth: number): unknown => {
    switch (typeof v) {
      case 'string':
      case 'number':
      case 'boolean':
        return v;
      case 'undefined':
        return undefined;
      case 'bigint':
        return v.toString();
      case 'symbol':
        return v.toString();
      case 'function':
        return { type: v.name };
      default:
        break;
    }
    if (v === null) return null;
    const obj = v as object;
    if (seen.has(obj)) return '[circular]';
    if (depth >= maxDepth) return '[depth]';
    if (ArrayBuffer.isView(obj)) return `[${obj.byteLength} bytes]`;
    if (obj instanceof ArrayBuffer) return `[${obj.byteLength} bytes]`;
    seen.add(obj);
    try {
      if (obj instanceof Error) {
        const out: Record<string, unknown> = { name: obj.name, message: obj.message };
        const code = (obj as { code?: unknown }).code;
        if (typeof code === 'string' || typeof code === 'number') out['code'] = code;
        return out;
      }
      const toJSON = (obj as { toJSON?: unknown }).toJSON;
      // A toJSON result counts as one level deeper: XState machines serialise to fresh definition objects that can
      // lead back to machines (invoked logic), a cycle the `seen` set cannot catch.
      if (typeof toJSON === 'function') return copy(toJSON.call(obj), depth + 1);
      if (Array.isArray(obj)) return obj.map((item) => copy(item, depth + 1));
      if (obj instanceof Map) {
        const out: Record<string, unknown> = {};
        for (const [k, item] of obj) {
          const key = String(k);
          out[key] = isSecret(key) ? REDACTED : copy(item, depth + 1);
        }
        return out;
      }
      if (obj instanceof Set) return [...obj].map((item) => copy(item, depth + 1));
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(obj)) {
        const item = (obj as Record<string, unknown>)[key];
        out[key] = isSecret(key) && item !== undefined && item !== null ? REDACTED : copy(item, depth + 1);
      }
      return out;
    } finally {
      // Only ancestors count as cycles; the same object twice side by side is copied twice.
      seen.delete(obj);
    }
  };
  return copy(value, 0);
}

const defaultSecretTest = secretFieldTest();
