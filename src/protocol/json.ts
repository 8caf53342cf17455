/**
 * JSON text <-> values, faithful to what ComputeHorde's Python peers write and read.
 *
 * `JSON.parse`/`JSON.stringify` are not enough for byte-compatible frames:
 * - Python ints are unbounded (`Signature.timestamp_ns` is ~1.7e18, past 2^53): integer literals outside the safe
 *   range parse to `bigint`, never to a rounded `number`.
 * - Python keeps `1.0` a float and writes it back as `1.0`: every JSON number written with a fraction or an exponent
 *   parses to a {@link JsonFloat}, so free-form values (`context`, `specs`, `details`) re-encode to the same bytes.
 * - `__proto__` keys become plain own properties (never a prototype change), exactly like `JSON.parse`.
 * - Lone surrogates (`"\ud800"`) are refused, as upstream's parser (jiter) refuses them.
 *
 * Writers come in two styles: `pydantic` (`model_dump_json()`: compact, raw UTF-8) and `python`
 * (`json.dumps()` defaults: `", "`/`": "` separators, `ensure_ascii`), which is what upstream's facilitator uses to
 * forward `V2JobRequest`/`V0JobCheated` and what receipt/signature blobs are built from. This is the only Python-
 * compatible encoder in the tree: the codecs and the signing code (`src/crypto`) both use it, so a signed blob and
 * the frame that carries it can never drift apart.
 */
import { DEFAULT_MAX_JSON_DEPTH, MAX_ENCODE_DEPTH } from './defaults';
import { HordeError } from '../util/errors';
import type { Result } from '../util/result';

/**
 * A JSON number that was written as a float (`1.0`, `2.5`, `1e-7`). Kept apart from integers so that it re-encodes
 * the way Python writes floats. Use `.value` (or unary `+`) to read it.
 *
 * @example
 * ```ts
 * const ctx = decoded.context; // { ratio: JsonFloat { value: 0.25 } }
 * const ratio = ctx.ratio instanceof JsonFloat ? ctx.ratio.value : undefined;
 * ```
 */
export class JsonFloat {
  constructor(readonly value: number) {}
  valueOf(): number {
    return this.value;
  }
  toJSON(): number {
    return this.value;
  }
}

/** Any JSON value as this module represents it (see the module comment for `bigint` and {@link JsonFloat}). */
export type JsonValue = null | boolean | number | bigint | string | JsonFloat | JsonValue[] | JsonObject;
/** A JSON object. Own keys only; may hold a `__proto__` own key. */
export interface JsonObject {
  [key: string]: JsonValue;
}

/**
 * What the writers accept: any {@link JsonValue}, plus read-only containers and `Map`s. A `Map` keeps its insertion
 * order even for integer-like keys ("1", "42"), which a plain object would move to the front.
 */
export type JsonInput =
  | JsonValue
  | readonly JsonInput[]
  | ReadonlyMap<string, JsonInput>
  | { readonly [key: string]: JsonInput };

/** Output style of a {@link JsonWriter}: pydantic's `model_dump_json()` or Python's `json.dumps()` defaults. */
export type JsonStyle = 'pydantic' | 'python';

/**
 * What a writer does with input that has no faithful, parseable JSON form.
 * - `wire` (codecs): never emit text upstream's parser would refuse (NaN/Infinity become `null`, lone surrogates
 *   U+FFFD), and leave out `undefined` object values as `JSON.stringify` does (optional fields).
 * - `signing`: the exact text Python signs over. The `python` style writes `NaN`, `Infinity` and `"\ud800"` as
 *   `json.dumps` does (a verifier re-dumps with Python), and an `undefined` value is refused: dropping the key would
 *   sign another payload than the caller built. The `pydantic` style writes non-finite floats as `null`, as
 *   pydantic's default `ser_json_inf_nan='null'` does.
 */
export type JsonWriteMode = 'wire' | 'signing';

const FAIL: unique symbol = Symbol('json.fail');
type Fail = typeof FAIL;

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

type WellFormedString = { isWellFormed(): boolean; toWellFormed(): string };
/** True when the string has no lone surrogate (String.prototype.isWellFormed, Node >= 20). */
export function isWellFormed(s: string): boolean {
  return (s as unknown as WellFormedString).isWellFormed();
}
function toWellFormed(s: string): string {
  return (s as unknown as WellFormedString).toWellFormed();
}

/** Sets an own enumerable property, also for the key `__proto__` (which plain assignment would treat as the prototype). */
export function setOwn(target: object, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    (target as Record<string, unknown>)[key] = value;
  }
}

/** A JSON object value: not null, not an array, not a {@link JsonFloat}. */
export function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof JsonFloat);
}

/**
 * Objects the parser builds: fast-mode objects whose prototype chain holds nothing (not even Object.prototype), so a
 * schema reads a field with `obj[key]` and never sees an inherited (possibly polluted) value.
 */
class ParsedObject {}
Object.setPrototypeOf(ParsedObject.prototype, null);

/**
 * V8's `slice()` of 13+ chars is a view that keeps the whole source text alive: a `job_uuid` kept for a job's
 * lifetime would pin a 50 MiB frame. So strings of up to DETACH_MAX_CHARS taken from a text longer than
 * DETACH_MIN_SOURCE_CHARS are copied out. Smaller sources are not worth a copy (pinning 16 KiB is harmless); longer
 * strings stay views, as they are most of their frame anyway.
 */
const DETACH_MIN_SOURCE_CHARS = 16 * 1024;
const DETACH_MAX_CHARS = 1024;
function detachCopy(slice: string): string {
  // slicing a cons string flattens it into a fresh copy first; the result no longer references the source
  return (' ' + slice).slice(1);
}

/** A run of characters that need no attention inside a JSON string (sticky: matches at `lastIndex`). */
// eslint-disable-next-line no-control-regex -- JSON forbids raw control characters in strings: they end the run
const PLAIN_RUN = /[^"\\\u0000-\u001f]*/y;

const KEY_CACHE_MASK = 4095;
const keyCache: Array<string | undefined> = new Array<string | undefined>(KEY_CACHE_MASK + 1);

class Parser {
  pos = 0;
  depth = 0;
  error = '';
  private readonly detach: boolean;

  constructor(
    private readonly src: string,
    private readonly maxDepth: number,
  ) {
    this.detach = src.length > DETACH_MIN_SOURCE_CHARS;
  }

  fail(what: string): Fail {
    if (this.error === '') this.error = `${what} at position ${this.pos}`;
    return FAIL;
  }

  skipWs(): void {
    const s = this.src;
    let p = this.pos;
    for (;;) {
      const c = s.charCodeAt(p);
      if (c === 32 || c === 10 || c === 13 || c === 9) p++;
      else break;
    }
    this.pos = p;
  }

  value(): unknown {
    let c = this.src.charCodeAt(this.pos);
    if (c <= 32) {
      this.skipWs();
      c = this.src.charCodeAt(this.pos);
    }
    switch (c) {
      case 123: // {
        return this.object();
      case 91: // [
        return this.array();
      case 34: // "
        return this.string();
      case 116:
        return this.word('true', true);
      case 102:
        return this.word('false', false);
      case 110:
        return this.word('null', null);
      default:
        if (c === 45 || (c >= 48 && c <= 57)) return this.number();
        return this.fail(Number.isNaN(c) ? 'unexpected end of input' : 'unexpected character');
    }
  }

  word(w: string, v: boolean | null): unknown {
    if (!this.src.startsWith(w, this.pos)) return this.fail('unexpected character');
    this.pos += w.length;
    return v;
  }

  object(): unknown {
    if (++this.depth > this.maxDepth) return this.fail('nesting too deep');
    const s = this.src;
    this.pos++;
    const obj = new ParsedObject() as unknown as Record<string, unknown>;
    this.skipWs();
    if (s.charCodeAt(this.pos) === 125) {
      this.pos++;
      this.depth--;
      return obj;
    }
    for (;;) {
      this.skipWs();
      if (s.charCodeAt(this.pos) !== 34) return this.fail('expected a string key');
      const key = this.key();
      if (key === FAIL) return FAIL;
      this.skipWs();
      if (s.charCodeAt(this.pos) !== 58) return this.fail("expected ':'");
      this.pos++;
      const v = this.value();
      if (v === FAIL) return FAIL;
      obj[key] = v;
      this.skipWs();
      const c = s.charCodeAt(this.pos);
      if (c === 44) {
        this.pos++;
      } else if (c === 125) {
        this.pos++;
        this.depth--;
        return obj;
      } else {
        return this.fail("expected ',' or '}'");
      }
    }
  }

  array(): unknown {
    if (++this.depth > this.maxDepth) return this.fail('nesting too deep');
    const s = this.src;
    this.pos++;
    const arr: unknown[] = [];
    this.skipWs();
    if (s.charCodeAt(this.pos) === 93) {
      this.pos++;
      this.depth--;
      return arr;
    }
    for (;;) {
      const v = this.value();
      if (v === FAIL) return FAIL;
      arr.push(v);
      this.skipWs();
      const c = s.charCodeAt(this.pos);
      if (c === 44) {
        this.pos++;
      } else if (c === 93) {
        this.pos++;
        this.depth--;
        return arr;
      } else {
        return this.fail("expected ',' or ']'");
      }
    }
  }

  /**
   * Reads an object key. Protocol keys repeat in every frame, so a key equal to one seen before (same slot of a
   * small direct-mapped cache) reuses that string: no new allocation, and it is already internalized as a property
   * name, which is most of what a key costs.
   */
  key(): string | Fail {
    const s = this.src;
    const start = this.pos + 1;
    const end = s.indexOf('"', start);
    const len = end - start;
    if (end > 0 && len > 0 && len <= 64) {
      let h = Math.imul(len, 0x9e3779b1) ^ s.charCodeAt(start);
      h = Math.imul(h, 0x85ebca6b) ^ s.charCodeAt(start + 1);
      h = Math.imul(h, 0xc2b2ae35) ^ s.charCodeAt(start + (len >> 1));
      h = Math.imul(h, 0x27d4eb2f) ^ s.charCodeAt(end - 2);
      h = Math.imul(h, 0x165667b1) ^ s.charCodeAt(end - 1);
      // two candidate slots, so that two hot keys sharing one slot do not evict each other forever
      const slotA = (h ^ (h >>> 15)) & KEY_CACHE_MASK;
      const slotB = (h >>> 17) & KEY_CACHE_MASK;
      const a = keyCache[slotA];
      if (a !== undefined && a.length === len && s.startsWith(a, start)) {
        this.pos = end + 1;
        return a;
      }
      const b = keyCache[slotB];
      if (b !== undefined && b.length === len && s.startsWith(b, start)) {
        this.pos = end + 1;
        return b;
      }
      const k = this.string();
      // only keys read without escapes: the raw text then equals the key, which the startsWith test relies on
      if (k !== FAIL && k.length === len && this.pos === end + 1) {
        keyCache[a === undefined ? slotA : slotB] = len >= 13 ? detachCopy(k) : k;
      }
      return k;
    }
    return this.string();
  }

  string(): string | Fail {
    const s = this.src;
    const start = ++this.pos;
    let p = start;
    for (let i = 0; ; i++) {
      if (i === 24) {
        // a long string (base64 volume, stdout): let the regex engine find the next special character
        PLAIN_RUN.lastIndex = p;
        PLAIN_RUN.test(s);
        p = PLAIN_RUN.lastIndex;
      }
      const c = s.charCodeAt(p);
      if (c === 34) {
        this.pos = p + 1;
        const len = p - start;
        return this.detach && len >= 13 && len <= DETACH_MAX_CHARS ? detachCopy(s.slice(start, p)) : s.slice(start, p);
      }
      if (c === 92) {
        this.pos = p;
        return this.stringWithEscapes(s.slice(start, p));
      }
      if (!(c >= 32)) {
        this.pos = p;
        return this.fail(Number.isNaN(c) ? 'unterminated string' : 'control character in string');
      }
      p++;
    }
  }

  private stringWithEscapes(prefix: string): string | Fail {
    const s = this.src;
    let out = prefix;
    let p = this.pos;
    let runStart = p;
    for (;;) {
      const c = s.charCodeAt(p);
      if (c === 34) {
        out += s.slice(runStart, p);
        this.pos = p + 1;
        // a cons of slices of `s` until flattened; flatten now so it does not pin the frame
        return this.detach && out.length <= DETACH_MAX_CHARS ? detachCopy(out) : out;
      }
      if (c === 92) {
        out += s.slice(runStart, p);
        const e = s.charCodeAt(p + 1);
        p += 2;
        switch (e) {
          case 34:
            out += '"';
            break;
          case 92:
            out += '\\';
            break;
          case 47:
            out += '/';
            break;
          case 98:
            out += '\b';
            break;
          case 102:
            out += '\f';
            break;
          case 110:
            out += '\n';
            break;
          case 114:
            out += '\r';
            break;
          case 116:
            out += '\t';
            break;
          case 117: {
            const unit = this.hex4(p);
            if (unit < 0) {
              this.pos = p;
              return this.fail('invalid \\u escape');
            }
            p += 4;
            if (unit >= 0xd800 && unit <= 0xdbff) {
              const low = s.charCodeAt(p) === 92 && s.charCodeAt(p + 1) === 117 ? this.hex4(p + 2) : -1;
              if (low < 0xdc00 || low > 0xdfff) {
                this.pos = p;
                return this.fail('lone surrogate in \\u escape');
              }
              p += 6;
              out += String.fromCharCode(unit, low);
            } else if (unit >= 0xdc00 && unit <= 0xdfff) {
              this.pos = p;
              return this.fail('lone surrogate in \\u escape');
            } else {
              out += String.fromCharCode(unit);
            }
            break;
          }
          default:
            this.pos = p - 1;
            return this.fail('invalid escape');
        }
        runStart = p;
        continue;
      }
      if (!(c >= 32)) {
        this.pos = p;
        return this.fail(Number.isNaN(c) ? 'unterminated string' : 'control character in string');
      }
      PLAIN_RUN.lastIndex = p;
      PLAIN_RUN.test(s);
      p = PLAIN_RUN.lastIndex;
    }
  }

  private hex4(p: number): number {
    let v = 0;
    for (let i = 0; i < 4; i++) {
      const c = this.src.charCodeAt(p + i);
      let d: number;
      if (c >= 48 && c <= 57) d = c - 48;
      else if (c >= 97 && c <= 102) d = c - 87;
      else if (c >= 65 && c <= 70) d = c - 55;
      else return -1;
      v = v * 16 + d;
    }
    return v;
  }

  number(): unknown {
    const s = this.src;
    const start = this.pos;
    let p = start;
    let c = s.charCodeAt(p);
    if (c === 45) c = s.charCodeAt(++p);
    const intStart = p;
    if (c === 48) {
      c = s.charCodeAt(++p);
    } else if (c >= 49 && c <= 57) {
      do c = s.charCodeAt(++p);
      while (c >= 48 && c <= 57);
    } else {
      this.pos = p;
      return this.fail('invalid number');
    }
    const intDigits = p - intStart;
    let isFloat = false;
    if (c === 46) {
      isFloat = true;
      c = s.charCodeAt(++p);
      if (!(c >= 48 && c <= 57)) {
        this.pos = p;
        return this.fail('invalid number');
      }
      do c = s.charCodeAt(++p);
      while (c >= 48 && c <= 57);
    }
    if (c === 101 || c === 69) {
      isFloat = true;
      c = s.charCodeAt(++p);
      if (c === 43 || c === 45) c = s.charCodeAt(++p);
      if (!(c >= 48 && c <= 57)) {
        this.pos = p;
        return this.fail('invalid number');
      }
      do c = s.charCodeAt(++p);
      while (c >= 48 && c <= 57);
    }
    this.pos = p;
    const literal = s.slice(start, p);
    if (!isFloat) {
      if (intDigits <= 15) {
        const n = +literal;
        return n === 0 ? 0 : n; // "-0" is the int 0 in Python
      }
      const b = BigInt(literal);
      return b >= MIN_SAFE && b <= MAX_SAFE ? Number(b) : b;
    }
    const f = +literal;
    if (!Number.isFinite(f)) {
      this.pos = start;
      return this.fail('number out of range');
    }
    return new JsonFloat(f);
  }
}

/**
 * @internal Parses JSON text into a tree whose objects are `ParsedObject`s (nothing inherited). Schemas read it
 * directly; anything handed out must go through {@link toPlainJson}.
 */
export function parseJsonTree(text: string, maxDepth: number = DEFAULT_MAX_JSON_DEPTH): Result<unknown, string> {
  if (!isWellFormed(text)) return { ok: false, error: 'text holds a lone surrogate (not valid UTF-8)' };
  const parser = new Parser(text, maxDepth);
  const value = parser.value();
  if (value !== FAIL) {
    parser.skipWs();
    if (parser.pos !== text.length) parser.fail('unexpected data after the JSON value');
  }
  if (parser.error !== '') return { ok: false, error: parser.error };
  return { ok: true, value };
}

/** @internal Copies a parsed (sub)tree into plain objects and arrays; `__proto__` keys stay own data properties. */
export function toPlainJson(v: unknown): JsonValue {
  if (typeof v !== 'object' || v === null || v instanceof JsonFloat) return v as JsonValue;
  if (Array.isArray(v)) {
    const out = new Array<JsonValue>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = toPlainJson(v[i]);
    return out;
  }
  const out: JsonObject = {};
  for (const k of Object.keys(v)) setOwn(out, k, toPlainJson((v as Record<string, unknown>)[k]));
  return out;
}

/**
 * Parses JSON text. Never throws. Integers beyond 2^53 become `bigint`, floats become {@link JsonFloat}, objects are
 * plain objects (a `__proto__` key is an own property). Refuses lone surrogates (raw or escaped), `NaN`/`Infinity`,
 * leading zeros, a BOM and nesting deeper than `maxDepth`.
 *
 * @example
 * ```ts
 * const r = parseJson('{"timestamp_ns":1737000000123456789,"score":1.0}');
 * if (r.ok) r.value; // { timestamp_ns: 1737000000123456789n, score: JsonFloat { value: 1 } }
 * ```
 */
export function parseJson(text: string, maxDepth: number = DEFAULT_MAX_JSON_DEPTH): Result<JsonValue, string> {
  const r = parseJsonTree(text, maxDepth);
  return r.ok ? { ok: true, value: toPlainJson(r.value) } : r;
}

/**
 * Formats a finite float the way upstream writes it.
 * - `pydantic`: pydantic-core's float writer, as measured with pydantic 2.13 — shortest round-trip digits, fixed
 *   notation for 1e-5 <= |x| < 1e16 (always with a fraction: `3000.0`), otherwise `1e-6`, `1e+16`, `1.5e+300`.
 * - `python`: Python's `repr(float)` as `json.dumps` writes it — fixed for 1e-4 <= |x| < 1e16, otherwise `1e-05`,
 *   `1e+16` (exponent padded to two digits).
 *
 * @example
 * ```ts
 * formatFloat(1, 'pydantic'); // '1.0'
 * formatFloat(1e-7, 'python'); // '1e-07'
 * ```
 */
export function formatFloat(x: number, style: JsonStyle): string {
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const exp = x.toExponential(); // shortest round-trip digits, e.g. "-1.2345e+2"
  const ePos = exp.indexOf('e');
  const neg = exp.charCodeAt(0) === 45;
  const mantissa = exp.slice(neg ? 1 : 0, ePos);
  const digits = mantissa.length > 1 ? mantissa[0]! + mantissa.slice(2) : mantissa;
  const e = Number(exp.slice(ePos + 1));
  const minFixedExp = style === 'pydantic' ? -5 : -4;
  let body: string;
  if (e >= minFixedExp && e < 16) {
    if (e >= 0) {
      const intPart = digits.length > e + 1 ? digits.slice(0, e + 1) : digits.padEnd(e + 1, '0');
      const frac = digits.length > e + 1 ? digits.slice(e + 1) : '0';
      body = `${intPart}.${frac}`;
    } else {
      body = `0.${'0'.repeat(-e - 1)}${digits}`;
    }
  } else {
    const abs = Math.abs(e);
    const expDigits = style === 'python' && abs < 10 ? `0${abs}` : String(abs);
    body = `${digits[0]!}${digits.length > 1 ? `.${digits.slice(1)}` : ''}e${e < 0 ? '-' : '+'}${expDigits}`;
  }
  return neg ? `-${body}` : body;
}

const NON_ASCII = /[\u007f-\uffff]/g;
function asciiEscape(ch: string): string {
  return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * A value cannot be written as JSON (a function, a class instance, a cycle...). Carries the path, innermost segment
 * first, which schemas turn into a `SchemaEncodeError`.
 */
export class JsonEncodeIssue extends HordeError {
  readonly segments: Array<string | number> = [];
  constructor(message: string) {
    super('protocol.json_unencodable', message);
  }
}

/**
 * Compares two strings by Unicode code point, as Python's `sorted()` does: JS `<` compares UTF-16 units, which puts
 * an astral character (U+1F600, units D83D DE00) before U+E000..U+FFFF. A lone surrogate counts as its own code point
 * (U+D800 sorts before U+E000), as in Python.
 *
 * @example
 * ```ts
 * ['\u{1f600}', '\uffff'].sort(compareCodePoints); // ['\uffff', '\u{1f600}']
 * ```
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a.charCodeAt(i) === b.charCodeAt(i)) continue;
    if (i > 0) {
      const prev = a.charCodeAt(i - 1);
      // the strings part inside a shared high surrogate: compare what it starts (a pair, or a lone surrogate)
      if (prev >= 0xd800 && prev <= 0xdbff) {
        const d = a.codePointAt(i - 1)! - b.codePointAt(i - 1)!;
        if (d !== 0) return d;
      }
    }
    return a.codePointAt(i)! - b.codePointAt(i)!;
  }
  return a.length - b.length;
}

function describeInstance(v: object): string {
  const ctor = (v as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === 'string' && ctor.name !== '' ? ctor.name : 'an unknown class';
}

/**
 * Appends JSON text in one of the two upstream styles. Schemas drive it field by field; {@link JsonWriter.value}
 * writes a free-form {@link JsonValue}.
 */
export class JsonWriter {
  out = '';
  readonly python: boolean;
  readonly itemSep: string;
  readonly keySep: string;
  private readonly signing: boolean;

  constructor(
    readonly style: JsonStyle,
    readonly sortKeys = false,
    readonly mode: JsonWriteMode = 'wire',
  ) {
    this.python = style === 'python';
    this.itemSep = this.python ? ', ' : ',';
    this.keySep = this.python ? ': ' : ':';
    this.signing = mode === 'signing';
  }

  raw(text: string): void {
    this.out += text;
  }

  /**
   * Writes a string literal. Lone surrogates become U+FFFD: upstream's parser refuses the whole frame otherwise
   * (a `python`-style signing writer escapes them as `json.dumps` does instead).
   */
  string(s: string): void {
    this.out += this.quote(s);
  }

  quote(s: string): string {
    // JSON.stringify already writes a lone surrogate as a lowercase `\udXXX` escape, as json.dumps does
    const q = JSON.stringify(isWellFormed(s) || (this.python && this.signing) ? s : toWellFormed(s));
    return this.python ? q.replace(NON_ASCII, asciiEscape) : q;
  }

  /**
   * Writes a JSON number for a JS number: an integral one as a Python int (past 2^53 too: `1e21` prints
   * `1000000000000000000000`, as `json.dumps(10**21)`), any other as a float. Wrap a value in {@link JsonFloat} to
   * write an integral value as a float (`1.0`).
   */
  number(n: number): void {
    if (Number.isSafeInteger(n)) this.out += n === 0 ? '0' : String(n);
    else if (Number.isInteger(n)) this.out += BigInt(n).toString();
    else this.float(n);
  }

  float(n: number): void {
    if (Number.isFinite(n)) this.out += formatFloat(n, this.style);
    // json.dumps writes NaN/Infinity (allow_nan=True); pydantic writes null (ser_json_inf_nan='null'); on the wire
    // we never emit the non-JSON NaN/Infinity
    else if (this.python && this.signing) this.out += Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity';
    else this.out += 'null';
  }

  /** Writes a free-form JSON value. Throws {@link JsonEncodeIssue} for anything that is not JSON. */
  value(v: unknown, depth = 0): void {
    if (v === null) {
      this.out += 'null';
      return;
    }
    switch (typeof v) {
      case 'string':
        this.out += this.quote(v);
        return;
      case 'boolean':
        this.out += v ? 'true' : 'false';
        return;
      case 'number':
        this.number(v);
        return;
      case 'bigint':
        this.out += v.toString();
        return;
      case 'object':
        break;
      default:
        throw new JsonEncodeIssue(`${typeof v} is not a JSON value`);
    }
    if (v instanceof JsonFloat) {
      this.float(v.value);
      return;
    }
    // a cycle also ends here: cheaper than tracking every container on the hot path
    if (depth >= MAX_ENCODE_DEPTH) throw new JsonEncodeIssue('value nests too deep (or is circular)');
    if (Array.isArray(v)) {
      this.out += '[';
      for (let i = 0; i < v.length; i++) {
        if (i > 0) this.out += this.itemSep;
        try {
          this.value(v[i], depth + 1);
        } catch (e) {
          if (e instanceof JsonEncodeIssue) e.segments.push(i);
          throw e;
        }
      }
      this.out += ']';
      return;
    }
    if (v instanceof Map) {
      this.map(v as Map<unknown, unknown>, depth);
      return;
    }
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) {
      throw new JsonEncodeIssue(`only plain objects are JSON objects, not an instance of ${describeInstance(v)}`);
    }
    const keys = Object.keys(v);
    if (this.sortKeys) keys.sort(compareCodePoints);
    this.out += '{';
    let first = true;
    for (const k of keys) {
      if (this.member(k, (v as Record<string, unknown>)[k], first, depth)) first = false;
    }
    this.out += '}';
  }

  /** A Map is written as the object it stands for, in its own key order (unless sorted). */
  private map(m: Map<unknown, unknown>, depth: number): void {
    const keys: string[] = [];
    for (const k of m.keys()) {
      if (typeof k !== 'string') throw new JsonEncodeIssue(`map keys must be strings, got ${typeof k}`);
      keys.push(k);
    }
    if (this.sortKeys) keys.sort(compareCodePoints);
    this.out += '{';
    let first = true;
    for (const k of keys) {
      if (this.member(k, m.get(k), first, depth)) first = false;
    }
    this.out += '}';
  }

  /** Writes one `"key": value` member; returns false when an `undefined` value was left out. */
  private member(k: string, item: unknown, first: boolean, depth: number): boolean {
    if (item === undefined) {
      if (this.signing) throw new JsonEncodeIssue(`undefined value for key ${JSON.stringify(k)}`);
      return false;
    }
    if (!first) this.out += this.itemSep;
    this.out += this.quote(k);
    this.out += this.keySep;
    try {
      this.value(item, depth + 1);
    } catch (e) {
      if (e instanceof JsonEncodeIssue) e.segments.push(k);
      throw e;
    }
    return true;
  }
}

/**
 * Python's `json.dumps(value)` (default separators, `ensure_ascii=True`, `allow_nan=True`), optionally with
 * `sort_keys=True`. This is the text upstream signs for receipts (`sort_keys=True`), the SDK signature hash and
 * `FullRequest` signatures, so it defaults to the `signing` {@link JsonWriteMode} (exactly what Python writes).
 * Integral numbers print as ints, other numbers and {@link JsonFloat}s as floats. Throws {@link JsonEncodeIssue} for
 * a value that is not JSON.
 *
 * @example
 * ```ts
 * pythonJsonDumps({ b: 1, a: new JsonFloat(2) }, { sortKeys: true }); // '{"a": 2.0, "b": 1}'
 * ```
 */
export function pythonJsonDumps(value: unknown, options: { sortKeys?: boolean; mode?: JsonWriteMode } = {}): string {
  const w = new JsonWriter('python', options.sortKeys ?? false, options.mode ?? 'signing');
  w.value(value);
  return w.out;
}

/**
 * Compact JSON as pydantic's `model_dump_json()` writes a free-form value whose keys are already in the model's
 * order (raw UTF-8, serde escapes, pydantic float format, non-finite floats as `null`). Defaults to the `wire`
 * {@link JsonWriteMode}; signing code passes `mode: 'signing'` so that an `undefined` value is refused.
 *
 * @example
 * ```ts
 * pydanticJsonDumps({ score: new JsonFloat(1) }); // '{"score":1.0}'
 * ```
 */
export function pydanticJsonDumps(value: unknown, options: { mode?: JsonWriteMode } = {}): string {
  const w = new JsonWriter('pydantic', false, options.mode ?? 'wire');
  w.value(value);
  return w.out;
}
