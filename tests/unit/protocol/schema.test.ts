import {
  JsonFloat,
  SchemaEncodeError,
  bigint,
  datetime,
  discriminatedUnion,
  enumeration,
  float,
  int,
  isIsoDatetime,
  jsonValue,
  list,
  literal,
  nullable,
  object,
  optional,
  record,
  str,
  union,
  withDefault,
  type Infer,
  type Input,
} from '../../../src/protocol';

const Color = enumeration(['red', 'green', 'unknown'], { fallback: 'unknown' });
const Shape = object({
  kind: literal('shape'),
  name: str(),
  note: optional(str()),
  sides: withDefault(int(), () => 4),
  color: withDefault(Color, () => 'red' as const),
  owner: nullable(str()),
});

describe('object schemas', () => {
  it('fill absent optional fields with null and defaults, in declared order', () => {
    const r = Shape.validate({ owner: null, name: 'sq', kind: 'shape' });
    expect(r).toEqual({ ok: true, value: { kind: 'shape', name: 'sq', note: null, sides: 4, color: 'red', owner: null } });
    if (r.ok) expect(Object.keys(r.value)).toEqual(['kind', 'name', 'note', 'sides', 'color', 'owner']);
  });

  it('require a nullable field without a default to be present (pydantic: X | None with no default)', () => {
    expect(Shape.validate({ kind: 'shape', name: 'sq' })).toEqual({ ok: false, error: { message: 'field required', path: 'owner' } });
  });

  it('refuse null for a field that has a default but is not nullable', () => {
    const r = Shape.validate({ kind: 'shape', name: 'sq', owner: null, sides: null });
    expect(r.ok || r.error.path).toBe('sides');
  });

  it('encode in declared order with defaults and nulls filled in', () => {
    expect(Shape.toJson({ owner: 'me', name: 'sq', kind: 'shape' })).toBe(
      '{"kind":"shape","name":"sq","note":null,"sides":4,"color":"red","owner":"me"}',
    );
    expect(Shape.toJson({ owner: null, name: 'sq', kind: 'shape' }, 'python')).toBe(
      '{"kind": "shape", "name": "sq", "note": null, "sides": 4, "color": "red", "owner": null}',
    );
  });

  it('give a static type with every field and an input type with the defaulted ones optional', () => {
    const decoded: Infer<typeof Shape> = { kind: 'shape', name: 'a', note: null, sides: 3, color: 'green', owner: null };
    const input: Input<typeof Shape> = { kind: 'shape', name: 'a', owner: null };
    expect(Shape.toJson(input)).toBe(Shape.toJson(decoded).replace('"sides":3,"color":"green"', '"sides":4,"color":"red"'));
  });

  it.each([
    ['ignore', { a: 'x' }],
    ['forbid', 'extra field not permitted'],
    ['allow', { a: 'x', b: [1] }],
  ] as const)('treat undeclared fields per extra=%s', (extra, expected) => {
    const M = object({ a: str() }, { extra });
    const r = M.validate({ a: 'x', b: [1] });
    if (typeof expected === 'string') expect(r).toEqual({ ok: false, error: { message: expected, path: 'b' } });
    else expect(r).toEqual({ ok: true, value: expected });
  });

  it('try aliases after the field name', () => {
    const M = object({ message: withDefault(str(), () => '') }, { aliases: { message: ['error_detail'] } });
    expect(M.validate({ error_detail: 'e' })).toEqual({ ok: true, value: { message: 'e' } });
    expect(M.validate({ error_detail: 'e', message: 'm' })).toEqual({ ok: true, value: { message: 'm' } });
    expect(M.toJson({ message: 'e' })).toBe('{"message":"e"}');
  });

  it('leave fields listed in omitWhenNull out of the encoding when null', () => {
    const M = object({ a: optional(str()), b: optional(str()) }, { omitWhenNull: ['a'] });
    expect(M.toJson({ b: null })).toBe('{"b":null}');
    expect(M.toJson({ a: 'x', b: null })).toBe('{"a":"x","b":null}');
  });

  it('read only own properties of untrusted input', () => {
    const input = Object.create({ name: 'inherited' }) as Record<string, unknown>;
    Object.assign(input, { kind: 'shape', owner: null });
    expect(Shape.validate(input)).toEqual({ ok: false, error: { message: 'field required', path: 'name' } });
  });
});

describe('scalars', () => {
  it.each([
    [5, 5],
    [new JsonFloat(5), 5],
    [-0, 0],
  ])('int accepts %p', (input, out) => {
    expect(int().validate(input)).toEqual({ ok: true, value: out });
  });

  it.each([[5.5], [new JsonFloat(5.5)], ['5'], [true], [2n ** 60n], [2 ** 60]])('int refuses %p', (input) => {
    expect(int().validate(input).ok).toBe(false);
  });

  it('bigint keeps integers of any size and writes them exactly', () => {
    expect(bigint().validate(2n ** 70n)).toEqual({ ok: true, value: 2n ** 70n });
    expect(bigint().validate(7)).toEqual({ ok: true, value: 7n });
    expect(bigint().validate(new JsonFloat(7.5)).ok).toBe(false);
    expect(bigint().toJson(1737000000123456789n)).toBe('1737000000123456789');
  });

  it('float accepts ints and writes like Python', () => {
    expect(float().validate(3)).toEqual({ ok: true, value: 3 });
    expect(float().toJson(3)).toBe('3.0');
    expect(float().toJson(1e-7, 'python')).toBe('1e-07');
  });

  it('enums fall back only when they have a fallback', () => {
    expect(Color.validate('blue')).toEqual({ ok: true, value: 'unknown' });
    const Strict = enumeration(['a', 'b']);
    expect(Strict.validate('c').ok).toBe(false);
    expect(() => Strict.toJson('c' as 'a')).toThrow(SchemaEncodeError);
  });

  it.each(['2025-09-01T12:00:00Z', '2025-09-01 12:00:00+02:00', '2025-09-01T12:00:00.123456789', '2025-09-01', '2024-02-29T00:00Z'])(
    'datetime accepts %s as received',
    (s) => {
      expect(isIsoDatetime(s)).toBe(true);
      expect(datetime().validate(s)).toEqual({ ok: true, value: s });
    },
  );

  it.each(['2025-13-01T00:00:00Z', '2023-02-29', '2025-09-01T24:00:00Z', '2025-09-01T12:60Z', '1756728000', 'yesterday'])(
    'datetime refuses %s',
    (s) => {
      expect(isIsoDatetime(s)).toBe(false);
    },
  );

  it('jsonValue refuses values that are not JSON when validating untrusted input', () => {
    expect(jsonValue().validate({ a: [1, 'x', null, new JsonFloat(1)] }).ok).toBe(true);
    expect(jsonValue().validate({ a: undefined })).toEqual({ ok: false, error: { message: 'undefined is not a JSON value', path: '' } });
    expect(jsonValue().validate(new Map()).ok).toBe(false);
    expect(jsonValue().validate(Number.NaN).ok).toBe(false);
  });
});

describe('containers', () => {
  it('union takes the first member that accepts the value', () => {
    const S = union(str(), list(str()));
    expect(S.validate('a')).toEqual({ ok: true, value: 'a' });
    expect(S.validate(['a'])).toEqual({ ok: true, value: ['a'] });
    expect(S.validate([1]).ok).toBe(false);
    expect(S.toJson(['a', 'b'])).toBe('["a","b"]');
  });

  it('records check keys against a key schema', () => {
    const S = record(int(), enumeration(['x', 'y']));
    expect(S.validate({ x: 1 })).toEqual({ ok: true, value: { x: 1 } });
    expect(S.validate({ z: 1 })).toMatchObject({ ok: false, error: { path: 'z' } });
    expect(() => S.toJson({ z: 1 } as unknown as Record<'x' | 'y', number>)).toThrow('z: invalid key');
  });

  it('discriminated unions report a missing or unknown tag at the tag', () => {
    const A = object({ t: literal('a'), x: int() });
    const B = object({ t: literal('b'), y: str() });
    const U = discriminatedUnion('t', [A, B]);
    expect(U.validate({ t: 'b', y: 'q' })).toEqual({ ok: true, value: { t: 'b', y: 'q' } });
    expect(U.validate({ x: 1 })).toMatchObject({ ok: false, error: { path: 't' } });
    expect(U.validate({ t: 'c' })).toMatchObject({ ok: false, error: { path: 't' } });
    expect(U.validate({ t: 'a', x: 'no' })).toMatchObject({ ok: false, error: { path: 'x' } });
  });
});

describe('encoding errors', () => {
  const M = object({ n: int(), items: list(object({ id: str() })) });

  it('name the path of a value that does not fit', () => {
    expect(() => M.toJson({ n: 1.5, items: [] })).toThrow(new SchemaEncodeError('expected a safe integer, got the float 1.5', 'n'));
    expect(() => M.toJson({ n: 1, items: [{ id: 'a' }, {} as { id: string }] })).toThrow('items[1].id: field required');
  });

  it('carry the stable code protocol.encode_invalid', () => {
    try {
      M.toJson({ n: Number.NaN, items: [] });
      throw new Error('unreachable');
    } catch (e) {
      expect(e).toBeInstanceOf(SchemaEncodeError);
      expect((e as SchemaEncodeError).code).toBe('protocol.encode_invalid');
      expect((e as SchemaEncodeError).path).toBe('n');
    }
  });
});
