import {
  compareCodePoints,
  parseJsonLossless,
  pydanticJsonDumps,
  pyFloat,
  pythonFloatRepr,
  pythonJsonDumps,
  PythonJsonError,
  type PyJsonValue,
} from '../../../src/crypto';

// Every expected string below was printed by Python 3.11 (`json.dumps(value, sort_keys=...)`) or pydantic 2.13.
describe('pythonJsonDumps', () => {
  const table: Array<[string, PyJsonValue, boolean, string]> = [
    [
      'sorts nested keys and uses ", " and ": " separators',
      { b: 1, a: [1, 2, { z: null, y: true }], c: 'x' },
      true,
      '{"a": [1, 2, {"y": true, "z": null}], "b": 1, "c": "x"}',
    ],
    ['keeps insertion order without sort_keys', { b: 1, a: 2 }, false, '{"b": 1, "a": 2}'],
    ['writes an empty object', {}, true, '{}'],
    ['writes an empty list', [], true, '[]'],
    ['writes empty containers inside objects', { e: {}, l: [] }, true, '{"e": {}, "l": []}'],
    [
      'escapes non-ASCII, controls and DEL, with surrogate pairs for astral characters',
      'héllo "wörld"\n\t\\ 😀 \u0000\u001f\u007f\u2028',
      true,
      '"h\\u00e9llo \\"w\\u00f6rld\\"\\n\\t\\\\ \\ud83d\\ude00 \\u0000\\u001f\\u007f\\u2028"',
    ],
    [
      'sorts keys by code point, not by UTF-16 unit',
      { '\uff61': 1, '😀': 2, a: 3, B: 4, é: 5 },
      true,
      '{"B": 4, "a": 3, "\\u00e9": 5, "\\uff61": 1, "\\ud83d\\ude00": 2}',
    ],
    [
      'prints floats as Python repr does',
      [
        pyFloat(1),
        0.5,
        0.00001,
        0.0001,
        pyFloat(1e16),
        pyFloat(1e15),
        123456789.125,
        pyFloat(-0),
        pyFloat(1.5e300),
        2.5e-300,
        0.1,
        pyFloat(100),
        pyFloat(1e22),
        NaN,
        Infinity,
        -Infinity,
      ],
      true,
      '[1.0, 0.5, 1e-05, 0.0001, 1e+16, 1000000000000000.0, 123456789.125, -0.0, 1.5e+300, 2.5e-300, 0.1, 100.0, 1e+22, NaN, Infinity, -Infinity]',
    ],
    [
      'prints integral numbers and bigints as Python ints',
      [0, -1, 12345678901234567890n, true, false, null],
      true,
      '[0, -1, 12345678901234567890, true, false, null]',
    ],
  ];

  it.each(table)('%s', (_name, value, sortKeys, expected) => {
    expect(pythonJsonDumps(value, { sortKeys })).toBe(expected);
  });

  it('keeps the order of a Map, even for integer-like keys', () => {
    expect(pythonJsonDumps(new Map<string, PyJsonValue>([['b', 1], ['1', 2]]))).toBe('{"b": 1, "1": 2}');
    expect(pythonJsonDumps({ b: 1, '1': 2 })).toBe('{"1": 2, "b": 1}');
  });

  it('prints -0 and integers past 2^53 as Python ints', () => {
    expect(pythonJsonDumps([-0, 1e21])).toBe('[0, 1000000000000000000000]');
  });

  it('refuses values Python could not have produced', () => {
    expect(() => pythonJsonDumps({ a: undefined } as unknown as PyJsonValue)).toThrow(PythonJsonError);
    expect(() => pythonJsonDumps([() => 1] as unknown as PyJsonValue)).toThrow(PythonJsonError);
    expect(() => pythonJsonDumps(new Date(0) as unknown as PyJsonValue)).toThrow(/instance of Date/);
    const circular: Record<string, unknown> = {};
    circular['self'] = circular;
    expect(() => pythonJsonDumps(circular as PyJsonValue)).toThrow(/circular/);
  });

  it('encodes a JSON string a second time the way hash_message_signature does', () => {
    expect(pythonJsonDumps('{"a":"é"}')).toBe('"{\\"a\\":\\"\\u00e9\\"}"');
  });
});

describe('pythonFloatRepr', () => {
  it.each<[number, string]>([
    [1, '1.0'],
    [1e-5, '1e-05'],
    [1.5e-7, '1.5e-07'],
    [0.0001, '0.0001'],
    [1e16, '1e+16'],
    [9999999999999998, '9999999999999998.0'],
    [-2.5, '-2.5'],
    [1 / 3, '0.3333333333333333'],
    [5e-324, '5e-324'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
  ])('%p prints as %s', (value, expected) => {
    expect(pythonFloatRepr(value)).toBe(expected);
  });
});

describe('pydanticJsonDumps', () => {
  it('writes compact JSON with raw UTF-8 and serde escapes', () => {
    expect(pydanticJsonDumps({ a: 'é😀\u007f\u0001"\\\n', b: [true, null, 2] })).toBe(
      '{"a":"é😀\u007f\\u0001\\"\\\\\\n","b":[true,null,2]}',
    );
  });

  it('prints floats as pydantic does', () => {
    const values = [1, 0.5, 1e-5, 1e-6, 0.0001, 1e16, 1e15, 123456789.125, -0, 1.5e300, 2.5e-300, 0.1, 100, 1e22];
    expect(pydanticJsonDumps(values.map(pyFloat))).toBe(
      '[1.0,0.5,0.00001,1e-6,0.0001,1e+16,1000000000000000.0,123456789.125,-0.0,1.5e+300,2.5e-300,0.1,100.0,1e+22]',
    );
  });

  it('refuses NaN and infinities, which pydantic JSON cannot hold', () => {
    expect(() => pydanticJsonDumps(NaN)).toThrow(PythonJsonError);
  });
});

describe('compareCodePoints', () => {
  it('orders an astral character after U+FF61 (JavaScript sort would not)', () => {
    expect(compareCodePoints('😀', '\uff61')).toBeGreaterThan(0);
    expect(['😀', '\uff61'].sort()).toEqual(['😀', '\uff61']);
    expect(compareCodePoints('ab', 'a')).toBeGreaterThan(0);
    expect(compareCodePoints('a', 'a')).toBe(0);
  });
});

describe('parseJsonLossless', () => {
  it('keeps a nanosecond timestamp exact as a bigint', () => {
    const parsed = parseJsonLossless('{"timestamp_ns": 1729622861880448856, "small": 7, "f": 1.5}') as Record<string, unknown>;
    expect(parsed['timestamp_ns']).toBe(1729622861880448856n);
    expect(parsed['small']).toBe(7);
    expect(parsed['f']).toBe(1.5);
    expect((JSON.parse('{"t": 1729622861880448856}') as { t: number }).t).not.toBe(1729622861880448856n);
  });

  it.each([
    '{"a": [1, -2, 3.5e2, "x\\u00e9\\n", true, false, null, {}], "b": {"c": []}}',
    '  [ ]  ',
    '"\\ud83d\\ude00"',
    '-0',
    '{"__proto__": 1}',
  ])('agrees with JSON.parse on %s', (text) => {
    expect(parseJsonLossless(text)).toEqual(JSON.parse(text));
  });

  it('keeps "__proto__" as an own key', () => {
    const parsed = parseJsonLossless('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it.each(['', '{', '[1,]', '{"a" 1}', '01', '"\u0001"', '[1] 2', 'nul', '"\\x"'])('rejects %p', (text) => {
    expect(() => parseJsonLossless(text)).toThrow(SyntaxError);
  });
});
