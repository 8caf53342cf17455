/**
 * A small schema library shaped after pydantic v2, just big enough for ComputeHorde's messages.
 *
 * One definition gives the runtime validator, the TypeScript type (`type X = Infer<typeof X>`) and the encoder:
 * - objects keep their declared field order when encoding; absent optional fields decode as `null` and encode as
 *   `null` (pydantic writes every field); pydantic defaults are applied; `extra` is `'ignore' | 'forbid' | 'allow'`;
 * - the first invalid field is reported with its JSON path (`volume.volumes[0].contents`);
 * - discriminated unions, enums with pydantic's `_missing_ -> unknown` fallback, int vs float, records, lists,
 *   nullable, validation aliases;
 * - outputs are fresh plain objects; keys taken from input (`__proto__`, `constructor`) become own data properties
 *   or are dropped/refused per the object's `extra` policy, and never reach a prototype.
 *
 * Decoding never throws (it returns a failure). Encoding trusts the static types but still checks each value it
 * writes, and throws a {@link SchemaEncodeError} naming the path of a value that would produce a frame upstream
 * refuses (a fractional number in an int field, a missing required field, ...).
 */
import type { Result } from '../util/result';
import { HordeError } from '../util/errors';
import { JsonEncodeIssue, JsonFloat, JsonWriter, isJsonObject, setOwn, toPlainJson, type JsonStyle, type JsonValue } from './json';
import { DEFAULT_MAX_JSON_DEPTH } from './defaults';

/** @internal Sentinel returned by `_parse` on failure; the issue is on the context. */
export const FAIL: unique symbol = Symbol('schema.fail');
/** @internal */
export type Fail = typeof FAIL;

/** Why a value did not match a schema: a message and the JSON path of the offending field. */
export interface SchemaIssue {
  readonly message: string;
  /** `volume.volumes[0].contents`; empty for the root value. */
  readonly path: string;
}

/** @internal State of one validation run. */
export class ParseContext {
  message = '';
  /** Innermost segment first; reversed into a path once, on failure. */
  readonly segments: Array<string | number> = [];
  constructor(
    /** True when the input came from {@link parseJson}: free-form values need no deep re-check. */
    readonly trusted: boolean,
  ) {}
  fail(message: string): Fail {
    this.message = message;
    return FAIL;
  }
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Formats path segments (outermost first) as `a.b[0]["odd key"]`. */
export function formatPath(segments: ReadonlyArray<string | number>): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (IDENT.test(s)) out += out === '' ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

/** A value handed to an encoder does not fit its schema (a programming error on our side, never a peer's). */
export class SchemaEncodeError extends HordeError {
  constructor(
    message: string,
    /** JSON path of the offending value. */
    readonly path: string,
  ) {
    super('protocol.encode_invalid', path === '' ? message : `${path}: ${message}`);
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof JsonFloat) return `the float ${v.value}`;
  switch (typeof v) {
    case 'string':
      return 'a string';
    case 'number':
      return Number.isInteger(v) ? `the integer ${v}` : `the float ${v}`;
    case 'bigint':
      return `the integer ${v}`;
    case 'boolean':
      return `${v}`;
    case 'object':
      return 'an object';
    default:
      return typeof v;
  }
}

/**
 * Base of every schema. `Out` is what decoding yields, `In` what encoding accepts (fields with a default may be
 * left out).
 */
export abstract class Schema<Out, In = Out> {
  declare readonly _out: Out;
  declare readonly _in: In;

  /** @internal Validates a parsed JSON value. Returns {@link FAIL} with the message on `ctx`. */
  abstract _parse(input: unknown, ctx: ParseContext): Out | Fail;
  /** @internal Writes `value`. Throws {@link JsonEncodeIssue} on a value that does not fit. */
  abstract _write(value: unknown, w: JsonWriter): void;

  /**
   * Validates a JSON value (from {@link parseJson} or `JSON.parse`) and returns the typed value or the first issue.
   *
   * @example
   * ```ts
   * const r = Volume.validate(JSON.parse(text));
   * if (!r.ok) console.log(r.error.path, r.error.message);
   * ```
   */
  validate(input: unknown): Result<Out, SchemaIssue> {
    return runParse(this, input, false);
  }

  /**
   * Encodes `value` as JSON text in the given style (default: pydantic's compact `model_dump_json()`).
   * Throws {@link SchemaEncodeError} when `value` does not fit the schema.
   */
  toJson(value: In, style: JsonStyle = 'pydantic'): string {
    const w = new JsonWriter(style);
    writeRoot(this, value, w);
    return w.out;
  }
}

/** Any schema. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnySchema = Schema<any, any>;
/** The decoded type of a schema. */
export type Infer<S extends AnySchema> = S['_out'];
/** The type an encoder of the schema accepts. */
export type Input<S extends AnySchema> = S['_in'];

/** @internal Runs a schema over an input and formats the failure. */
export function runParse<Out>(schema: Schema<Out, unknown>, input: unknown, trusted: boolean): Result<Out, SchemaIssue> {
  const ctx = new ParseContext(trusted);
  const out = schema._parse(input, ctx);
  if (out === FAIL) return { ok: false, error: { message: ctx.message, path: formatPath(ctx.segments.reverse()) } };
  return { ok: true, value: out };
}

/** @internal Writes a root value, turning an encode issue into a {@link SchemaEncodeError}. */
export function writeRoot(schema: AnySchema, value: unknown, w: JsonWriter): void {
  try {
    schema._write(value, w);
  } catch (e) {
    if (e instanceof JsonEncodeIssue) throw new SchemaEncodeError(e.message, formatPath(e.segments.reverse()));
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Scalars

class StringSchema extends Schema<string> {
  _parse(input: unknown, ctx: ParseContext): string | Fail {
    return typeof input === 'string' ? input : ctx.fail(`expected a string, got ${describe(input)}`);
  }
  _write(value: unknown, w: JsonWriter): void {
    if (typeof value !== 'string') throw new JsonEncodeIssue(`expected a string, got ${describe(value)}`);
    w.string(value);
  }
}

class PatternStringSchema extends Schema<string> {
  constructor(
    private readonly pattern: RegExp,
    private readonly what: string,
  ) {
    super();
  }
  _parse(input: unknown, ctx: ParseContext): string | Fail {
    if (typeof input !== 'string') return ctx.fail(`expected ${this.what}, got ${describe(input)}`);
    return this.pattern.test(input) ? input : ctx.fail(`expected ${this.what}`);
  }
  _write(value: unknown, w: JsonWriter): void {
    if (typeof value !== 'string' || !this.pattern.test(value)) throw new JsonEncodeIssue(`expected ${this.what}`);
    w.string(value);
  }
}

/**
 * Python `int` within JS's safe range. Accepts JSON integers and floats with no fraction (`5.0`, as pydantic's lax
 * mode does); refuses fractions, strings and booleans. Always encodes as an integer literal.
 */
class IntSchema extends Schema<number> {
  _parse(input: unknown, ctx: ParseContext): number | Fail {
    if (typeof input === 'number') {
      if (Number.isSafeInteger(input)) return input === 0 ? 0 : input;
      return ctx.fail(Number.isInteger(input) ? 'integer out of the safe range (|n| > 2^53-1)' : `expected an integer, got ${describe(input)}`);
    }
    if (input instanceof JsonFloat) {
      const v = input.value;
      if (Number.isSafeInteger(v)) return v === 0 ? 0 : v;
      return ctx.fail(Number.isInteger(v) ? 'integer out of the safe range (|n| > 2^53-1)' : `expected an integer, got ${describe(input)}`);
    }
    if (typeof input === 'bigint') return ctx.fail('integer out of the safe range (|n| > 2^53-1)');
    return ctx.fail(`expected an integer, got ${describe(input)}`);
  }
  _write(value: unknown, w: JsonWriter): void {
    if (typeof value !== 'number' || !Number.isSafeInteger(value))
      throw new JsonEncodeIssue(`expected a safe integer, got ${describe(value)}`);
    w.raw(value === 0 ? '0' : String(value));
  }
}

/** Python `int` of any size, as `bigint` (e.g. `timestamp_ns`, which is past 2^53). */
class BigIntSchema extends Schema<bigint> {
  _parse(input: unknown, ctx: ParseContext): bigint | Fail {
    if (typeof input === 'bigint') return input;
    if (typeof input === 'number' && Number.isInteger(input)) return BigInt(input);
    if (input instanceof JsonFloat && Number.isInteger(input.value)) return BigInt(input.value);
    return ctx.fail(`expected an integer, got ${describe(input)}`);
  }
  _write(value: unknown, w: JsonWriter): void {
    if (typeof value !== 'bigint') throw new JsonEncodeIssue(`expected a bigint, got ${describe(value)}`);
    w.raw(value.toString());
  }
}

/** Python `float`: accepts any JSON number, encodes as Python would (`1.0`, `1e-7`). */
class FloatSchema extends Schema<number> {
  _parse(input: unknown, ctx: ParseContext): number | Fail {
    if (typeof input === 'number') return input;
    if (input instanceof JsonFloat) return input.value;
    if (typeof input === 'bigint') return Number(input);
    return ctx.fail(`expected a number, got ${describe(input)}`);
  }
  _write(value: unknown, w: JsonWriter): void {
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw new JsonEncodeIssue(`expected a finite number, got ${describe(value)}`);
    w.float(value);
  }
}

class BoolSchema extends Schema<boolean> {
  _parse(input: unknown, ctx: ParseContext): boolean | Fail {
    return typeof input === 'boolean' ? input : ctx.fail(`expected a boolean, got ${describe(input)}`);
  }
  _write(value: unknown, w: JsonWriter): void {
    if (typeof value !== 'boolean') throw new JsonEncodeIssue(`expected a boolean, got ${describe(value)}`);
    w.raw(value ? 'true' : 'false');
  }
}

class LiteralSchema<T extends string> extends Schema<T> {
  constructor(readonly value: T) {
    super();
  }
  _parse(input: unknown, ctx: ParseContext): T | Fail {
    return input === this.value ? this.value : ctx.fail(`expected ${JSON.stringify(this.value)}`);
  }
  _write(value: unknown, w: JsonWriter): void {
    if (value !== this.value) throw new JsonEncodeIssue(`expected ${JSON.stringify(this.value)}`);
    w.string(this.value);
  }
}

/**
 * A string enum. With a `fallback`, any value that is not a member decodes as the fallback (pydantic's
 * `_missing_ -> UNKNOWN`), so a newer peer's new value never breaks an older decoder. Without one, unknown values
 * are invalid (upstream's `ExecutorClass`, `DockerRunOptionsPreset`, ... have no fallback).
 */
export class EnumSchema<V extends string> extends Schema<V> {
  private readonly members: ReadonlySet<string>;
  constructor(
    readonly values: readonly V[],
    readonly fallback?: V,
  ) {
    super();
    this.members = new Set(values);
  }
  _parse(input: unknown, ctx: ParseContext): V | Fail {
    if (typeof input === 'string' && this.members.has(input)) return input as V;
    if (this.fallback !== undefined) return this.fallback;
    return ctx.fail(`expected one of ${this.values.map((v) => JSON.stringify(v)).join(', ')}, got ${typeof input === 'string' ? JSON.stringify(input) : describe(input)}`);
  }
  _write(value: unknown, w: JsonWriter): void {
    if (typeof value !== 'string' || !this.members.has(value))
      throw new JsonEncodeIssue(`expected one of ${this.values.join(', ')}, got ${describe(value)}`);
    w.string(value);
  }
  /** True when `v` is a member. */
  is(v: unknown): v is V {
    return typeof v === 'string' && this.members.has(v);
  }
}

// YYYY-MM-DD[(T| )HH:MM[:SS[.f{1,9}]][Z|±HH[:]MM]]; what pydantic (speedate) accepts and emits, minus unix numbers
const DATETIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:[Zz]|[+-](\d{2}):?(\d{2}))?)?$/;
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** True when `s` is an ISO-8601 date-time that pydantic would accept (calendar-checked). */
export function isIsoDatetime(s: string): boolean {
  const m = DATETIME.exec(s);
  if (m === null) return false;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  if (day > (month === 2 ? (leap ? 29 : 28) : DAYS_IN_MONTH[month - 1]!)) return false;
  if (m[4] !== undefined && (Number(m[4]) > 23 || Number(m[5]) > 59)) return false;
  if (m[6] !== undefined && Number(m[6]) > 59) return false;
  if (m[7] !== undefined && (Number(m[7]) > 23 || Number(m[8]) > 59)) return false;
  return true;
}

/** A datetime kept as the ISO string received (upstream signs receipts over pydantic's own rendering of it). */
class DatetimeSchema extends Schema<string> {
  _parse(input: unknown, ctx: ParseContext): string | Fail {
    if (typeof input !== 'string') return ctx.fail(`expected an ISO 8601 datetime string, got ${describe(input)}`);
    return isIsoDatetime(input) ? input : ctx.fail('expected an ISO 8601 datetime string');
  }
  _write(value: unknown, w: JsonWriter): void {
    if (typeof value !== 'string' || !isIsoDatetime(value)) throw new JsonEncodeIssue('expected an ISO 8601 datetime string');
    w.string(value);
  }
}

/** A free-form JSON value (pydantic `JsonValue` / `Any`). */
class JsonValueSchema extends Schema<JsonValue> {
  _parse(input: unknown, ctx: ParseContext): JsonValue | Fail {
    if (ctx.trusted) return toPlainJson(input);
    const problem = checkJson(input, 0);
    return problem === null ? (input as JsonValue) : ctx.fail(problem);
  }
  _write(value: unknown, w: JsonWriter): void {
    w.value(value);
  }
}

function checkJson(v: unknown, depth: number): string | null {
  if (v === null) return null;
  switch (typeof v) {
    case 'string':
    case 'boolean':
    case 'bigint':
      return null;
    case 'number':
      return Number.isFinite(v) ? null : 'non-finite number';
    case 'object':
      break;
    default:
      return `${typeof v} is not a JSON value`;
  }
  if (v instanceof JsonFloat) return Number.isFinite(v.value) ? null : 'non-finite number';
  if (depth >= DEFAULT_MAX_JSON_DEPTH) return 'value nests too deep';
  if (Array.isArray(v)) {
    for (const item of v) {
      const p = checkJson(item, depth + 1);
      if (p !== null) return p;
    }
    return null;
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return 'only plain objects are JSON objects';
  for (const k of Object.keys(v)) {
    const p = checkJson((v as Record<string, unknown>)[k], depth + 1);
    if (p !== null) return p;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// Wrappers

class NullableSchema<O, I> extends Schema<O | null, I | null> {
  constructor(readonly inner: Schema<O, I>) {
    super();
  }
  _parse(input: unknown, ctx: ParseContext): O | null | Fail {
    return input === null ? null : this.inner._parse(input, ctx);
  }
  _write(value: unknown, w: JsonWriter): void {
    if (value === null) w.raw('null');
    else this.inner._write(value, w);
  }
}

/** A field that may be absent from the input: then it takes its default (pydantic `= default`). */
export class DefaultSchema<O, I> extends Schema<O, I | undefined> {
  declare readonly _hasDefault: true;
  constructor(
    readonly inner: Schema<O, I>,
    readonly makeDefault: () => O,
  ) {
    super();
  }
  _parse(input: unknown, ctx: ParseContext): O | Fail {
    return this.inner._parse(input, ctx);
  }
  _write(value: unknown, w: JsonWriter): void {
    this.inner._write(value === undefined ? this.makeDefault() : value, w);
  }
}

class ListSchema<O, I> extends Schema<O[], I[]> {
  constructor(readonly item: Schema<O, I>) {
    super();
  }
  _parse(input: unknown, ctx: ParseContext): O[] | Fail {
    if (!Array.isArray(input)) return ctx.fail(`expected a list, got ${describe(input)}`);
    const out: O[] = new Array<O>(input.length);
    for (let i = 0; i < input.length; i++) {
      const v = this.item._parse(input[i], ctx);
      if (v === FAIL) {
        ctx.segments.push(i);
        return FAIL;
      }
      out[i] = v;
    }
    return out;
  }
  _write(value: unknown, w: JsonWriter): void {
    if (!Array.isArray(value)) throw new JsonEncodeIssue(`expected a list, got ${describe(value)}`);
    w.raw('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) w.raw(w.itemSep);
      try {
        this.item._write(value[i], w);
      } catch (e) {
        if (e instanceof JsonEncodeIssue) e.segments.push(i);
        throw e;
      }
    }
    w.raw(']');
  }
}

/** `dict[K, V]` with string keys (optionally an enum of keys). Output keeps the input's key order. */
class RecordSchema<K extends string, O, I> extends Schema<Record<K, O>, Record<K, I>> {
  constructor(
    readonly valueSchema: Schema<O, I>,
    readonly keySchema?: Schema<K>,
  ) {
    super();
  }
  _parse(input: unknown, ctx: ParseContext): Record<K, O> | Fail {
    if (!isJsonObject(input)) return ctx.fail(`expected an object, got ${describe(input)}`);
    const out = {} as Record<K, O>;
    for (const key of Object.keys(input)) {
      // The parsed key is kept (not the raw one) so that an enum key with a fallback yields its fallback value.
      let outKey: string = key;
      if (this.keySchema !== undefined) {
        const parsedKey = this.keySchema._parse(key, ctx);
        if (parsedKey === FAIL) {
          ctx.segments.push(key);
          ctx.message = `invalid key: ${ctx.message}`;
          return FAIL;
        }
        outKey = parsedKey;
      }
      const v = this.valueSchema._parse(input[key], ctx);
      if (v === FAIL) {
        ctx.segments.push(key);
        return FAIL;
      }
      setOwn(out, outKey, v);
    }
    return out;
  }
  _write(value: unknown, w: JsonWriter): void {
    if (!isJsonObject(value)) throw new JsonEncodeIssue(`expected an object, got ${describe(value)}`);
    w.raw('{');
    let first = true;
    for (const key of Object.keys(value)) {
      const v = value[key];
      if (v === undefined) continue;
      if (!first) w.raw(w.itemSep);
      first = false;
      try {
        if (this.keySchema !== undefined && this.keySchema._parse(key, new ParseContext(true)) === FAIL)
          throw new JsonEncodeIssue('invalid key');
        w.raw(w.quote(key));
        w.raw(w.keySep);
        this.valueSchema._write(v, w);
      } catch (e) {
        if (e instanceof JsonEncodeIssue) e.segments.push(key);
        throw e;
      }
    }
    w.raw('}');
  }
}

/** Left-to-right union of non-object schemas (`str | list[str]`): the first member that accepts the input wins. */
class UnionSchema<O, I> extends Schema<O, I> {
  constructor(readonly members: ReadonlyArray<Schema<O, I>>) {
    super();
  }
  _parse(input: unknown, ctx: ParseContext): O | Fail {
    for (const m of this.members) {
      const mark = ctx.segments.length;
      const v = m._parse(input, ctx);
      if (v !== FAIL) return v;
      ctx.segments.length = mark;
    }
    return ctx.fail(`no member of the union accepts ${describe(input)}`);
  }
  _write(value: unknown, w: JsonWriter): void {
    for (const m of this.members) {
      const probe = new JsonWriter(w.style);
      try {
        m._write(value, probe);
      } catch (e) {
        if (e instanceof JsonEncodeIssue) continue;
        throw e;
      }
      w.raw(probe.out);
      return;
    }
    throw new JsonEncodeIssue(`no member of the union accepts ${describe(value)}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Objects

/** How an object treats fields it does not declare (pydantic `extra`). */
export type ExtraPolicy = 'ignore' | 'forbid' | 'allow';

/** Field name -> schema, in wire order. */
export type Shape = Record<string, AnySchema>;

type OptionalKeys<S extends Shape> = {
  [K in keyof S]-?: S[K] extends { readonly _hasDefault: true } ? K : never;
}[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** Decoded object: every declared field present (absent optional ones are `null` or their default). */
export type ObjectOut<S extends Shape> = Simplify<{ [K in keyof S]: Infer<S[K]> }>;
/** Object an encoder accepts: fields with a default may be left out. */
export type ObjectIn<S extends Shape> = Simplify<
  { [K in RequiredKeys<S>]: Input<S[K]> } & { [K in OptionalKeys<S>]?: Input<S[K]> }
>;

/** Options of {@link object}. */
export interface ObjectOptions<S extends Shape> {
  /** pydantic `extra`; default `'ignore'` (pydantic's default). */
  readonly extra?: ExtraPolicy;
  /** Validation aliases tried, in order, after the field's own name (pydantic `AliasChoices`). Encoding uses the name. */
  readonly aliases?: { readonly [K in keyof S]?: readonly string[] };
  /** Fields left out of the encoding when null (upstream dumps these with `exclude_none`). */
  readonly omitWhenNull?: ReadonlyArray<keyof S & string>;
}

export class ObjectSchema<S extends Shape> extends Schema<ObjectOut<S>, ObjectIn<S>> {
  readonly keys: readonly string[];
  readonly extra: ExtraPolicy;
  private readonly fields: readonly AnySchema[];
  private readonly aliasList: ReadonlyArray<readonly string[] | undefined>;
  private readonly known: ReadonlySet<string>;
  private readonly omitNull: readonly boolean[];
  /** `{"key":` / `,"key":` per field, per style: precomputed so encoding only concatenates. */
  private readonly prefixes: Record<JsonStyle, readonly string[]>;
  private readonly template: Readonly<Record<string, null>>;

  constructor(
    readonly shape: S,
    options: ObjectOptions<S> = {},
  ) {
    super();
    this.keys = Object.keys(shape);
    this.fields = this.keys.map((k) => shape[k]!);
    this.extra = options.extra ?? 'ignore';
    const aliases = (options.aliases ?? {}) as Record<string, readonly string[] | undefined>;
    this.aliasList = this.keys.map((k) => aliases[k]);
    const known = new Set(this.keys);
    for (const list of this.aliasList) for (const a of list ?? []) known.add(a);
    this.known = known;
    const omit = new Set<string>(options.omitWhenNull ?? []);
    this.omitNull = this.keys.map((k) => omit.has(k));
    const build = (keySep: string): string[] => this.keys.map((k) => `${JSON.stringify(k)}${keySep}`);
    this.prefixes = { pydantic: build(':'), python: build(': ') };
    const template: Record<string, null> = {};
    for (const k of this.keys) template[k] = null;
    this.template = template;
  }

  /** The schema of one declared field. */
  field<K extends keyof S & string>(key: K): S[K] {
    return this.shape[key];
  }

  _parse(input: unknown, ctx: ParseContext): ObjectOut<S> | Fail {
    if (!isJsonObject(input)) return ctx.fail(`expected an object, got ${describe(input)}`);
    // cloning a template with every key already in place gives all outputs one hidden class and turns the
    // stores below into plain overwrites (no map transitions)
    const out: Record<string, unknown> = { ...this.template };
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const field = this.fields[i]!;
      let raw: unknown = ctx.trusted || Object.hasOwn(input, key) ? input[key] : undefined;
      const aliases = this.aliasList[i];
      if (raw === undefined && aliases !== undefined) {
        for (const a of aliases) {
          if (Object.hasOwn(input, a)) {
            raw = input[a];
            break;
          }
        }
      }
      let v: unknown;
      if (raw === undefined) {
        if (!(field instanceof DefaultSchema)) {
          ctx.segments.push(key);
          return ctx.fail('field required');
        }
        v = field.makeDefault();
      } else {
        v = field._parse(raw, ctx);
        if (v === FAIL) {
          ctx.segments.push(key);
          return FAIL;
        }
      }
      out[key] = v;
    }
    if (this.extra !== 'ignore') {
      for (const k of Object.keys(input)) {
        if (this.known.has(k)) continue;
        if (this.extra === 'forbid') {
          ctx.segments.push(k);
          return ctx.fail('extra field not permitted');
        }
        const v = input[k];
        if (!ctx.trusted) {
          const problem = checkJson(v, 0);
          if (problem !== null) {
            ctx.segments.push(k);
            return ctx.fail(problem);
          }
        }
        setOwn(out, k, ctx.trusted ? toPlainJson(v) : v);
      }
    }
    return out as ObjectOut<S>;
  }

  _write(value: unknown, w: JsonWriter): void {
    if (!isJsonObject(value)) throw new JsonEncodeIssue(`expected an object, got ${describe(value)}`);
    const keys = this.keys;
    const prefixes = this.prefixes[w.style];
    let first = true;
    w.raw('{');
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const field = this.fields[i]!;
      const v = Object.hasOwn(value, key) ? value[key] : undefined;
      if (this.omitNull[i] && (v === null || v === undefined)) continue;
      if (!first) w.raw(w.itemSep);
      first = false;
      w.raw(prefixes[i]!);
      try {
        if (v === undefined && !(field instanceof DefaultSchema)) throw new JsonEncodeIssue('field required');
        field._write(v, w);
      } catch (e) {
        if (e instanceof JsonEncodeIssue) e.segments.push(key);
        throw e;
      }
    }
    if (this.extra === 'allow') {
      for (const k of Object.keys(value)) {
        if (this.known.has(k)) continue;
        const v = value[k];
        if (v === undefined) continue;
        if (!first) w.raw(w.itemSep);
        first = false;
        w.raw(w.quote(k));
        w.raw(w.keySep);
        try {
          w.value(v);
        } catch (e) {
          if (e instanceof JsonEncodeIssue) e.segments.push(k);
          throw e;
        }
      }
    }
    w.raw('}');
  }
}

/**
 * A union of object schemas told apart by the string in `tag` (pydantic `Field(discriminator=...)`).
 * With `missingTag`, an input without the tag is read as that variant (a plain, smart-mode pydantic union whose
 * first member wins, like `MultiUpload.system_output`).
 */
export class DiscriminatedUnionSchema<V extends ObjectSchema<Shape>> extends Schema<Infer<V>, Input<V>> {
  readonly variants: ReadonlyMap<string, V>;
  constructor(
    readonly tag: string,
    variants: readonly V[],
    readonly missingTag?: string,
  ) {
    super();
    const map = new Map<string, V>();
    for (const v of variants) {
      const t = v.shape[tag];
      const lit = t instanceof DefaultSchema ? (t.inner as AnySchema) : t;
      if (!(lit instanceof LiteralSchema)) throw new Error(`variant lacks a literal ${tag}`);
      map.set((lit as LiteralSchema<string>).value, v);
    }
    this.variants = map;
  }
  _parse(input: unknown, ctx: ParseContext): Infer<V> | Fail {
    if (!isJsonObject(input)) return ctx.fail(`expected an object, got ${describe(input)}`);
    const t: unknown = Object.hasOwn(input, this.tag) ? input[this.tag] : undefined;
    if (t === undefined && this.missingTag !== undefined) {
      // hand the variant a copy that carries the tag (null prototype: nothing inherited can be read from it)
      const tagged = Object.assign(Object.create(null) as Record<string, unknown>, input);
      tagged[this.tag] = this.missingTag;
      return this.variants.get(this.missingTag)!._parse(tagged, ctx);
    }
    const variant = typeof t === 'string' ? this.variants.get(t) : undefined;
    if (variant === undefined) {
      ctx.segments.push(this.tag);
      const allowed = [...this.variants.keys()].map((k) => JSON.stringify(k)).join(', ');
      return ctx.fail(
        t === undefined ? `missing discriminator; expected one of ${allowed}` : `unknown ${this.tag} ${typeof t === 'string' ? JSON.stringify(t) : describe(t)}; expected one of ${allowed}`,
      );
    }
    return variant._parse(input, ctx);
  }
  _write(value: unknown, w: JsonWriter): void {
    if (!isJsonObject(value)) throw new JsonEncodeIssue(`expected an object, got ${describe(value)}`);
    const t = value[this.tag] ?? this.missingTag;
    const variant = typeof t === 'string' ? this.variants.get(t) : undefined;
    if (variant === undefined) {
      const issue = new JsonEncodeIssue(`unknown ${this.tag}`);
      issue.segments.push(this.tag);
      throw issue;
    }
    variant._write(value, w);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Constructors

const STRING = new StringSchema();
const INT = new IntSchema();
const BIGINT = new BigIntSchema();
const FLOAT = new FloatSchema();
const BOOL = new BoolSchema();
const DATETIME_SCHEMA = new DatetimeSchema();
const JSON_VALUE = new JsonValueSchema();

/** `str` */
export const str = (): Schema<string> => STRING;
/** `str` matching a pattern (`what` names it in errors). */
export const pattern = (re: RegExp, what: string): Schema<string> => new PatternStringSchema(re, what);
/** `int` (safe range, as a JS number). */
export const int = (): Schema<number> => INT;
/** `int` of any size, as a `bigint`. */
export const bigint = (): Schema<bigint> => BIGINT;
/** `float` */
export const float = (): Schema<number> => FLOAT;
/** `bool` */
export const bool = (): Schema<boolean> => BOOL;
/** `datetime`, kept as the ISO string received. */
export const datetime = (): Schema<string> => DATETIME_SCHEMA;
/** `JsonValue` / `Any` */
export const jsonValue = (): Schema<JsonValue> => JSON_VALUE;
/** `Literal["x"]` */
export const literal = <const T extends string>(value: T): LiteralSchema<T> => new LiteralSchema(value);
/** A string enum; `fallback` is what an unknown value decodes as. */
export const enumeration = <const V extends string>(values: readonly V[], options: { fallback?: V } = {}): EnumSchema<V> =>
  new EnumSchema(values, options.fallback);
/** `X | None` (required unless wrapped in {@link withDefault} or built with {@link optional}). */
export const nullable = <O, I>(inner: Schema<O, I>): Schema<O | null, I | null> => new NullableSchema(inner);
/** A field with a default: may be absent when decoding and left out when encoding. */
export const withDefault = <O, I>(inner: Schema<O, I>, makeDefault: () => O): DefaultSchema<O, I> =>
  new DefaultSchema(inner, makeDefault);
/** `X | None = None` */
export const optional = <O, I>(inner: Schema<O, I>): DefaultSchema<O | null, I | null> =>
  new DefaultSchema(new NullableSchema(inner), () => null);
/** `list[X]` */
export const list = <O, I>(item: Schema<O, I>): Schema<O[], I[]> => new ListSchema(item);
/** `dict[str, X]`, or `dict[K, X]` with an enum of keys. */
export const record = <O, I, K extends string = string>(value: Schema<O, I>, key?: Schema<K>): Schema<Record<K, O>, Record<K, I>> =>
  new RecordSchema<K, O, I>(value, key);
/** A left-to-right union of non-object schemas. */
export const union = <M extends AnySchema[]>(...members: M): Schema<Infer<M[number]>, Input<M[number]>> =>
  new UnionSchema<Infer<M[number]>, Input<M[number]>>(members);
/** A pydantic model. */
export const object = <S extends Shape>(shape: S, options?: ObjectOptions<S>): ObjectSchema<S> => new ObjectSchema(shape, options);
/** A discriminated union of models. */
export const discriminatedUnion = <V extends ObjectSchema<Shape>>(
  tag: string,
  variants: readonly V[],
  options: { missingTag?: string } = {},
): DiscriminatedUnionSchema<V> => new DiscriminatedUnionSchema(tag, variants, options.missingTag);
