/**
 * Byte-exact reproductions of the two JSON encoders upstream signs over:
 *
 * - `pythonJsonDumps`: Python's `json.dumps(value, sort_keys=...)` with its defaults (`", "` and `": "` separators,
 *   `ensure_ascii=True`, `allow_nan=True`). Receipts, the SDK signature hash and `FullRequest` bodies use it.
 * - `pydanticJsonDumps`: pydantic v2's `model_dump_json()` of already-ordered data (compact, raw UTF-8, serde_json
 *   escapes). `SignedFields` uses it.
 *
 * Numbers: JavaScript has one number type, Python two, and they print differently (`1` vs `1.0`). Here an integral
 * `number` and any `bigint` print as a Python int; a non-integral `number` (and NaN/Infinity) prints as a Python
 * float; to print an integral value as a float, wrap it: `pyFloat(1)` prints `1.0`. Every payload upstream signs
 * holds only ints, strings, bools, nulls and lists/objects of them, so callers rarely need `pyFloat`. Integers past
 * 2^53 must be `bigint` to stay exact (see `parseJsonLossless`).
 *
 * Key order: without `sortKeys`, objects print in insertion order, as Python dicts do. JavaScript objects put
 * integer-like keys ("1", "42") first whatever the insertion order; pass a `Map` where such keys must keep their order.
 */
import { PythonJsonError } from './errors';

/** A value that must print as a Python float although it is integral (`pyFloat(1)` prints `1.0`). */
export class PythonFloat {
  constructor(readonly value: number) {}
}

/** Marks `value` as a Python float. */
export function pyFloat(value: number): PythonFloat {
  return new PythonFloat(value);
}

/** Anything the encoders here accept. */
export type PyJsonValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | PythonFloat
  | readonly PyJsonValue[]
  | ReadonlyMap<string, PyJsonValue>
  | { readonly [key: string]: PyJsonValue };

/**
 * Python's `json.dumps(value, sort_keys=sortKeys)` with every other argument at its default.
 *
 * @example
 * ```ts
 * pythonJsonDumps({ b: 1, a: ['é', null] }, { sortKeys: true }); // '{"a": ["\\u00e9", null], "b": 1}'
 * ```
 */
export function pythonJsonDumps(value: PyJsonValue, options: { sortKeys?: boolean } = {}): string {
  const parts: string[] = [];
  encode(value, parts, {
    sortKeys: options.sortKeys === true,
    itemSeparator: ', ',
    keySeparator: ': ',
    string: pythonAsciiString,
    float: pythonFloatRepr,
  });
  return parts.join('');
}

/**
 * pydantic v2's `model_dump_json()` output for data whose keys are already in the model's declared order: compact
 * separators, non-ASCII written raw, control characters escaped the serde_json way. Floats print pydantic's way
 * (`1.0`, `0.00001`, `1e+16`, `1e-6`).
 */
export function pydanticJsonDumps(value: PyJsonValue): string {
  const parts: string[] = [];
  encode(value, parts, {
    sortKeys: false,
    itemSeparator: ',',
    keySeparator: ':',
    string: serdeString,
    float: serdeFloat,
  });
  return parts.join('');
}

interface Style {
  readonly sortKeys: boolean;
  readonly itemSeparator: string;
  readonly keySeparator: string;
  readonly string: (text: string) => string;
  readonly float: (value: number) => string;
}

function encode(value: PyJsonValue, out: string[], style: Style, seen: unknown[] = []): void {
  if (value === null) {
    out.push('null');
    return;
  }
  switch (typeof value) {
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'string':
      out.push(style.string(value));
      return;
    case 'bigint':
      out.push(value.toString());
      return;
    case 'number':
      out.push(Number.isInteger(value) ? integerText(value) : style.float(value));
      return;
    case 'object':
      break;
    default:
      throw new PythonJsonError(`cannot encode a value of type ${typeof value}`);
  }
  if (value instanceof PythonFloat) {
    out.push(style.float(value.value));
    return;
  }
  // Python raises "Circular reference detected"; so do we, rather than recurse forever
  if (seen.includes(value)) throw new PythonJsonError('circular reference detected');
  seen.push(value);
  if (Array.isArray(value)) {
    out.push('[');
    (value as readonly PyJsonValue[]).forEach((item, index) => {
      if (index > 0) out.push(style.itemSeparator);
      if (item === undefined) throw new PythonJsonError(`undefined at index ${index}`);
      encode(item, out, style, seen);
    });
    out.push(']');
  } else {
    let entries: Array<[string, PyJsonValue]>;
    if (value instanceof Map) {
      entries = [...(value as ReadonlyMap<unknown, PyJsonValue>).entries()].map(([key, item]) => {
        if (typeof key !== 'string') throw new PythonJsonError(`map keys must be strings, got ${typeof key}`);
        return [key, item];
      });
    } else {
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        throw new PythonJsonError(`cannot encode an instance of ${describe(value)}`);
      }
      entries = Object.entries(value as Record<string, PyJsonValue>);
    }
    if (style.sortKeys) entries.sort(([a], [b]) => compareCodePoints(a, b));
    out.push('{');
    entries.forEach(([key, item], index) => {
      if (item === undefined) throw new PythonJsonError(`undefined value for key ${JSON.stringify(key)}`);
      if (index > 0) out.push(style.itemSeparator);
      out.push(style.string(key), style.keySeparator);
      encode(item, out, style, seen);
    });
    out.push('}');
  }
  seen.pop();
}

function describe(value: object): string {
  const ctor = (value as { constructor?: { name?: string } }).constructor;
  return ctor?.name ?? 'an unknown class';
}

function integerText(value: number): string {
  // -0 is the int 0 in Python; past 2^53 `String(1e21)` would print an exponent
  if (Object.is(value, -0)) return '0';
  return Number.isSafeInteger(value) ? String(value) : BigInt(value).toString();
}

/**
 * Python sorts `str` keys by code point. JavaScript's default sort compares UTF-16 code units, which orders an
 * astral character (a surrogate pair starting at 0xD800) before U+E000..U+FFFF; compare code points instead.
 */
export function compareCodePoints(a: string, b: string): number {
  const left = [...a];
  const right = [...b];
  const length = Math.min(left.length, right.length);
  for (let i = 0; i < length; i++) {
    const x = left[i]!.codePointAt(0)!;
    const y = right[i]!.codePointAt(0)!;
    if (x !== y) return x - y;
  }
  return left.length - right.length;
}

const SHORT_ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"',
  '\\': '\\\\',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

function unicodeEscape(codeUnit: number): string {
  return `\\u${codeUnit.toString(16).padStart(4, '0')}`;
}

/**
 * Python's `py_encode_basestring_ascii`: everything outside printable ASCII (space..tilde) is escaped, with
 * lowercase hex; characters past U+FFFF become a surrogate pair, which iterating UTF-16 code units yields directly.
 */
function pythonAsciiString(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    const code = text.charCodeAt(i);
    const short = SHORT_ESCAPES[char];
    if (short !== undefined) out += short;
    else if (code < 0x20 || code > 0x7e) out += unicodeEscape(code);
    else out += char;
  }
  return `${out}"`;
}

/** serde_json's string escaping (what pydantic-core writes): only `"`, `\` and C0 control characters. */
function serdeString(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    const code = text.charCodeAt(i);
    const short = SHORT_ESCAPES[char];
    if (short !== undefined) out += short;
    else if (code < 0x20) out += unicodeEscape(code);
    else out += char;
  }
  return `${out}"`;
}

/** The shortest round-tripping digits of a finite non-zero |value| and the decimal exponent of the first digit. */
function shortestDigits(value: number): { digits: string; exponent: number } {
  // toExponential() without an argument gives as many digits as needed to round-trip, like Python's repr
  const [mantissa, exp] = Math.abs(value).toExponential().split('e') as [string, string];
  return { digits: mantissa.replace('.', ''), exponent: Number(exp) };
}

/**
 * Python's `float.__repr__` (what `json.dumps` prints for a float): shortest round-trip digits, positional when the
 * exponent is in [-4, 16), scientific otherwise with a signed exponent of at least two digits (`1e-05`, `1e+16`).
 */
export function pythonFloatRepr(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  const sign = value < 0 || Object.is(value, -0) ? '-' : '';
  if (value === 0) return `${sign}0.0`;
  const { digits, exponent } = shortestDigits(value);
  if (exponent >= -4 && exponent < 16) return sign + positional(digits, exponent, true);
  const mantissa = digits.length === 1 ? digits : `${digits[0]}.${digits.slice(1)}`;
  const expSign = exponent < 0 ? '-' : '+';
  return `${sign}${mantissa}e${expSign}${String(Math.abs(exponent)).padStart(2, '0')}`;
}

/**
 * pydantic-core's float formatting (checked against pydantic 2.13): shortest digits, positional for exponents in
 * [-5, 16), otherwise `1e+16` / `1e-6` (signed exponent, no padding). Non-finite values are refused.
 */
function serdeFloat(value: number): string {
  if (!Number.isFinite(value)) throw new PythonJsonError(`pydantic JSON cannot hold ${value}`);
  const sign = value < 0 || Object.is(value, -0) ? '-' : '';
  if (value === 0) return `${sign}0.0`;
  const { digits, exponent } = shortestDigits(value);
  if (exponent >= -5 && exponent < 16) return sign + positional(digits, exponent, true);
  const mantissa = digits.length === 1 ? digits : `${digits[0]}.${digits.slice(1)}`;
  return `${sign}${mantissa}e${exponent < 0 ? '-' : '+'}${Math.abs(exponent)}`;
}

function positional(digits: string, exponent: number, forceFraction: boolean): string {
  if (exponent < 0) return `0.${'0'.repeat(-exponent - 1)}${digits}`;
  const integerDigits = exponent + 1;
  if (digits.length <= integerDigits) {
    const whole = digits + '0'.repeat(integerDigits - digits.length);
    return forceFraction ? `${whole}.0` : whole;
  }
  return `${digits.slice(0, integerDigits)}.${digits.slice(integerDigits)}`;
}

/**
 * `JSON.parse` that keeps integers exact: an integer literal outside ±(2^53 - 1) becomes a `bigint` instead of a
 * rounded number (Node 20's `JSON.parse` has no access to the source text). Use it for messages that carry
 * `timestamp_ns` (a nanosecond timestamp is ~1.7e18). Throws `SyntaxError` on invalid JSON, like `JSON.parse`.
 *
 * @example
 * ```ts
 * parseJsonLossless('{"timestamp_ns": 1729622861880448856}'); // { timestamp_ns: 1729622861880448856n }
 * ```
 */
export function parseJsonLossless(text: string): unknown {
  const parser = new LosslessParser(text);
  parser.skipWhitespace();
  const value = parser.value();
  parser.skipWhitespace();
  if (parser.position !== text.length) parser.fail('unexpected data after the JSON value');
  return value;
}

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

class LosslessParser {
  position = 0;

  constructor(private readonly text: string) {}

  fail(message: string): never {
    throw new SyntaxError(`${message} at position ${this.position}`);
  }

  skipWhitespace(): void {
    while (this.position < this.text.length) {
      const char = this.text[this.position];
      if (char !== ' ' && char !== '\t' && char !== '\n' && char !== '\r') break;
      this.position++;
    }
  }

  value(): unknown {
    const char = this.text[this.position];
    if (char === '{') return this.object();
    if (char === '[') return this.array();
    if (char === '"') return this.string();
    if (char === '-' || (char !== undefined && char >= '0' && char <= '9')) return this.number();
    for (const [word, result] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (this.text.startsWith(word, this.position)) {
        this.position += word.length;
        return result;
      }
    }
    return this.fail(char === undefined ? 'unexpected end of JSON' : `unexpected character ${JSON.stringify(char)}`);
  }

  private object(): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    this.position++;
    this.skipWhitespace();
    if (this.text[this.position] === '}') {
      this.position++;
      return result;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.position] !== '"') this.fail('expected a string key');
      const key = this.string();
      this.skipWhitespace();
      if (this.text[this.position] !== ':') this.fail("expected ':'");
      this.position++;
      this.skipWhitespace();
      // defineProperty: a "__proto__" key must become an own property, as with JSON.parse
      Object.defineProperty(result, key, { value: this.value(), enumerable: true, writable: true, configurable: true });
      this.skipWhitespace();
      const next = this.text[this.position++];
      if (next === '}') return result;
      if (next !== ',') this.fail("expected ',' or '}'");
    }
  }

  private array(): unknown[] {
    const result: unknown[] = [];
    this.position++;
    this.skipWhitespace();
    if (this.text[this.position] === ']') {
      this.position++;
      return result;
    }
    for (;;) {
      this.skipWhitespace();
      result.push(this.value());
      this.skipWhitespace();
      const next = this.text[this.position++];
      if (next === ']') return result;
      if (next !== ',') this.fail("expected ',' or ']'");
    }
  }

  private string(): string {
    const start = this.position;
    this.position++;
    for (;;) {
      const char = this.text[this.position];
      if (char === undefined) this.fail('unterminated string');
      if (char === '"') break;
      if (char === '\\') this.position++;
      else if (char < ' ') this.fail('control character in string');
      this.position++;
    }
    this.position++;
    // the slice is a well-formed JSON string literal; let the engine decode its escapes
    return JSON.parse(this.text.slice(start, this.position)) as string;
  }

  private number(): number | bigint {
    NUMBER.lastIndex = this.position;
    const match = NUMBER.exec(this.text);
    if (match === null) this.fail('invalid number');
    const literal = match[0];
    this.position += literal.length;
    const isInteger = match[1] === undefined && match[2] === undefined;
    const value = Number(literal);
    if (isInteger && !Number.isSafeInteger(value)) return BigInt(literal);
    return value;
  }
}
