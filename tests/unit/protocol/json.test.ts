import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import {
  JsonEncodeIssue,
  JsonFloat,
  compareCodePoints,
  formatFloat,
  parseJson,
  pydanticJsonDumps,
  pythonJsonDumps,
  type JsonInput,
  type JsonValue,
} from '../../../src/protocol/json';

describe('parseJson', () => {
  it('parses integers past 2^53 as exact bigints and safe ones as numbers', () => {
    expect(parseJson('[9007199254740991,9007199254740992,-12345678901234567890,-0]')).toEqual({
      ok: true,
      value: [9007199254740991, 9007199254740992n, -12345678901234567890n, 0],
    });
  });

  it('parses every number written with a fraction or exponent as a JsonFloat', () => {
    expect(parseJson('[1.0,2.5,1e2,-0.0,1E-7]')).toEqual({
      ok: true,
      value: [new JsonFloat(1), new JsonFloat(2.5), new JsonFloat(100), new JsonFloat(-0), new JsonFloat(1e-7)],
    });
  });

  it('decodes escapes, including surrogate pairs', () => {
    expect(parseJson('"a\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00"')).toEqual({ ok: true, value: 'a"\\/\b\f\n\r\té😀' });
  });

  it.each([
    ['1e400', 'number out of range'],
    ['"\\ud800x"', 'lone surrogate'],
    ['"\\udc00"', 'lone surrogate'],
    ['"\\x"', 'invalid escape'],
    ['"\\u12"', 'invalid \\u escape'],
    ['{"a":1,}', 'expected a string key'],
    ['[1,]', 'unexpected character'],
    ['Infinity', 'unexpected character'],
    ['-', 'invalid number'],
    ['1.', 'invalid number'],
    ['tru', 'unexpected character'],
  ])('refuses %s', (text, reason) => {
    const r = parseJson(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(reason);
  });

  it('accepts JSON whitespace around tokens', () => {
    expect(parseJson(' \t\n\r{ "a" : [ 1 , true , null ] }\n')).toEqual({ ok: true, value: { a: [1, true, null] } });
  });

  it('returns plain objects, a __proto__ key included as own data', () => {
    const r = parseJson('{"__proto__":{"x":1}}');
    if (!r.ok) throw new Error(r.error);
    const v = r.value as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect((v as { x?: unknown }).x).toBeUndefined();
  });

  it('keeps the last of duplicate keys, in the first one\'s position (like Python dicts)', () => {
    expect(pydanticJsonDumps((parseJson('{"a":1,"b":2,"a":3}') as { value: unknown }).value)).toBe('{"a":3,"b":2}');
  });

  it('reads keys with escapes right, before and after similar keys were seen', () => {
    expect(parseJson('[{"ab":1},{"ab":2}]')).toEqual({ ok: true, value: [{ ab: 1 }, { ab: 2 }] });
    expect(parseJson('{"a\\\\":1}')).toEqual({ ok: true, value: { 'a\\': 1 } });
    expect(parseJson('{"a\\\\\\"b":1}')).toEqual({ ok: true, value: { 'a\\"b': 1 } });
    expect(parseJson('{"a\\\\":1}')).toEqual({ ok: true, value: { 'a\\': 1 } });
  });

  it('does not keep a big frame alive through the short strings taken from it', () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const kept: unknown[] = [];
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 10; i++) {
      const text = `{"job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-${String(i).padStart(12, '0')}","e":"x\\n${'y'.repeat(20)}","big":"${'A'.repeat(4 * 1024 * 1024)}"}`;
      const r = parseJson(text);
      if (!r.ok) throw new Error(r.error);
      const v = r.value as Record<string, string>;
      kept.push(v.job_uuid, v.e);
    }
    gc();
    const retainedBytes = process.memoryUsage().heapUsed - before;
    expect(kept).toHaveLength(20);
    // ten 4 MiB frames would be 40 MiB if the strings were views into them
    expect(retainedBytes).toBeLessThan(8 * 1024 * 1024);
  });
});

describe('formatFloat', () => {
  // [value, pydantic model_dump_json(), Python json.dumps()], as printed by pydantic 2.13 and CPython 3.11
  it.each([
    [1e+16, '1e+16', '1e+16'],
    [1000000000000000.0, '1000000000000000.0', '1000000000000000.0'],
    [9999999999999998.0, '9999999999999998.0', '9999999999999998.0'],
    [1e-05, '0.00001', '1e-05'],
    [0.0001, '0.0001', '0.0001'],
    [0.0001, '0.0001', '0.0001'],
    [1e-05, '0.00001', '1e-05'],
    [1e-06, '1e-6', '1e-06'],
    [1.2345678901234568e+17, '1.2345678901234568e+17', '1.2345678901234568e+17'],
    [5e-324, '5e-324', '5e-324'],
    [1.7976931348623157e+308, '1.7976931348623157e+308', '1.7976931348623157e+308'],
    [0.1, '0.1', '0.1'],
    [100.0, '100.0', '100.0'],
    [1e+21, '1e+21', '1e+21'],
    [1e+22, '1e+22', '1e+22'],
    [2.5e-05, '0.000025', '2.5e-05'],
    [2.830851834834647e+23, '2.830851834834647e+23', '2.830851834834647e+23'],
    [3.5881921279833204e-08, '3.5881921279833204e-8', '3.5881921279833204e-08'],
    [-4.0021071332564923e+76, '-4.0021071332564923e+76', '-4.0021071332564923e+76'],
    [7.500178758233016e+169, '7.500178758233016e+169', '7.500178758233016e+169'],
    [-1.919883663259762e-16, '-1.919883663259762e-16', '-1.919883663259762e-16'],
    [313435.6495, '313435.6495', '313435.6495'],
    [1.3441994637126209e+56, '1.3441994637126209e+56', '1.3441994637126209e+56'],
    [-416868.761, '-416868.761', '-416868.761'],
    [-9.527767369240659e+244, '-9.527767369240659e+244', '-9.527767369240659e+244'],
    [-3.275321619539692e+29, '-3.275321619539692e+29', '-3.275321619539692e+29'],
    [-1.2226469414439851e-148, '-1.2226469414439851e-148', '-1.2226469414439851e-148'],
    [8.252158929819022e-15, '8.252158929819022e-15', '8.252158929819022e-15'],
    [9.215899441301874e+80, '9.215899441301874e+80', '9.215899441301874e+80'],
    [5.602286653969238e+252, '5.602286653969238e+252', '5.602286653969238e+252'],
    [-816369100.1583418, '-816369100.1583418', '-816369100.1583418'],
    [-8.614420209236622e+23, '-8.614420209236622e+23', '-8.614420209236622e+23'],
    [-4918381123927771.0, '-4918381123927771.0', '-4918381123927771.0'],
    [-844804.23, '-844804.23', '-844804.23'],
    [77914072147435.36, '77914072147435.36', '77914072147435.36'],
    [4.977682905495856e-25, '4.977682905495856e-25', '4.977682905495856e-25'],
    [-0.001272663457278742, '-0.001272663457278742', '-0.001272663457278742'],
    [-3.119139382248193e+292, '-3.119139382248193e+292', '-3.119139382248193e+292'],
    [72137.1739108726, '72137.1739108726', '72137.1739108726'],
    [4.9668673421359386e-15, '4.9668673421359386e-15', '4.9668673421359386e-15'],
    [228272164.42591512, '228272164.42591512', '228272164.42591512'],
    [-4.528775484878333e-183, '-4.528775484878333e-183', '-4.528775484878333e-183'],
    [624038.0, '624038.0', '624038.0'],
    [-2.3695639033142644e+185, '-2.3695639033142644e+185', '-2.3695639033142644e+185'],
    [1.199730389765197e-235, '1.199730389765197e-235', '1.199730389765197e-235'],
    [3.8592141579034225e-303, '3.8592141579034225e-303', '3.8592141579034225e-303'],
    [-6.3439251466444454e-06, '-6.3439251466444454e-6', '-6.3439251466444454e-06'],
    [1.4734782965948444e-154, '1.4734782965948444e-154', '1.4734782965948444e-154'],
    [-23313.31089424, '-23313.31089424', '-23313.31089424'],
    [4.900335337879753e-22, '4.900335337879753e-22', '4.900335337879753e-22'],
    [178808.0, '178808.0', '178808.0'],
    [775799.481275, '775799.481275', '775799.481275'],
    [3655472.751684792, '3655472.751684792', '3655472.751684792'],
    [9.892867836201092e+64, '9.892867836201092e+64', '9.892867836201092e+64'],
    [1.4248349343509032e+183, '1.4248349343509032e+183', '1.4248349343509032e+183'],
    [1.9992353009541136e+192, '1.9992353009541136e+192', '1.9992353009541136e+192'],
    [-25648789.21744951, '-25648789.21744951', '-25648789.21744951'],
    [-184.38422807721878, '-184.38422807721878', '-184.38422807721878'],
    [62318.0228096, '62318.0228096', '62318.0228096'],
    [-143116.243, '-143116.243', '-143116.243'],
  ])('formats %p as pydantic (%s) and Python (%s) do', (x, pydantic, python) => {
    expect(formatFloat(x, 'pydantic')).toBe(pydantic);
    expect(formatFloat(x, 'python')).toBe(python);
  });

  it('keeps the sign of zero', () => {
    expect(formatFloat(-0, 'pydantic')).toBe('-0.0');
    expect(formatFloat(0, 'python')).toBe('0.0');
  });
});

describe('writers', () => {
  const value = { b: [1, new JsonFloat(1), 2.5, 12345678901234567890n, null, true], a: 'é\u2028😀\u007f\u0001"\\' };

  it('pydantic style is compact with raw UTF-8', () => {
    expect(pydanticJsonDumps(value)).toBe('{"b":[1,1.0,2.5,12345678901234567890,null,true],"a":"é\u2028😀\u007f\\u0001\\"\\\\"}');
  });

  it('python style matches json.dumps: spaced separators, ASCII escapes (0x7f included)', () => {
    expect(pythonJsonDumps(value)).toBe(
      '{"b": [1, 1.0, 2.5, 12345678901234567890, null, true], "a": "\\u00e9\\u2028\\ud83d\\ude00\\u007f\\u0001\\"\\\\"}',
    );
  });

  it('sorts keys by code point like sort_keys=True', () => {
    expect(pythonJsonDumps({ b: 1, a: { d: 1, c: 2 }, '\uffff': 0, '\u{1f600}': 0 }, { sortKeys: true })).toBe(
      '{"a": {"c": 2, "d": 1}, "b": 1, "\\uffff": 0, "\\ud83d\\ude00": 0}',
    );
    expect(compareCodePoints('\u{1f600}', '\uffff')).toBeGreaterThan(0);
  });

  it('replaces a lone surrogate with U+FFFD, since upstream refuses the whole frame over one', () => {
    expect(pydanticJsonDumps('a\ud800b')).toBe('"a\ufffdb"');
  });

  it('writes non-finite numbers as null, as pydantic does', () => {
    expect(pydanticJsonDumps([Number.NaN, Infinity, new JsonFloat(-Infinity)])).toBe('[null,null,null]');
  });

  it('refuses values that are not JSON', () => {
    expect(() => pydanticJsonDumps({ a: undefined, f: () => 1 })).toThrow('function is not a JSON value');
    expect(() => pydanticJsonDumps(new Date(0))).toThrow('plain objects');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => pydanticJsonDumps(cyclic)).toThrow('too deep');
  });
});

// Every expected string below was printed by Python 3.11 (`json.dumps(value, sort_keys=...)`) or pydantic 2.13; these
// are the vectors the signing code (src/crypto) was verified with, now run against the one shared encoder.
describe('pythonJsonDumps (json.dumps, the text signatures are computed over)', () => {
  const f = (x: number): JsonFloat => new JsonFloat(x);
  const table: Array<[string, JsonInput, boolean, string]> = [
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
        f(1),
        0.5,
        0.00001,
        0.0001,
        f(1e16),
        f(1e15),
        123456789.125,
        f(-0),
        f(1.5e300),
        2.5e-300,
        0.1,
        f(100),
        f(1e22),
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
    // json.dumps(['a\ud800b', float('nan')]): Python escapes a lone surrogate rather than replacing it
    ['escapes a lone surrogate as json.dumps does', ['a\ud800b', f(NaN)], false, '["a\\ud800b", NaN]'],
  ];

  it.each(table)('%s', (_name, value, sortKeys, expected) => {
    expect(pythonJsonDumps(value, { sortKeys })).toBe(expected);
  });

  it('keeps the order of a Map, even for integer-like keys', () => {
    expect(pythonJsonDumps(new Map<string, JsonInput>([['b', 1], ['1', 2]]))).toBe('{"b": 1, "1": 2}');
    expect(pythonJsonDumps({ b: 1, '1': 2 })).toBe('{"1": 2, "b": 1}');
    expect(pythonJsonDumps(new Map<string, JsonInput>([['b', 1], ['1', 2]]), { sortKeys: true })).toBe('{"1": 2, "b": 1}');
  });

  it('prints -0 and integers past 2^53 as Python ints', () => {
    expect(pythonJsonDumps([-0, 1e21])).toBe('[0, 1000000000000000000000]');
    expect(pydanticJsonDumps([-0, 1e21])).toBe('[0,1000000000000000000000]');
  });

  it('refuses values Python could not have produced', () => {
    expect(() => pythonJsonDumps({ a: undefined })).toThrow(JsonEncodeIssue);
    expect(() => pydanticJsonDumps({ a: undefined }, { mode: 'signing' })).toThrow(JsonEncodeIssue);
    expect(() => pythonJsonDumps([() => 1])).toThrow(JsonEncodeIssue);
    expect(() => pythonJsonDumps(new Date(0))).toThrow(/instance of Date/);
    expect(() => pythonJsonDumps(new Map([[1, 2]]))).toThrow(/map keys must be strings/);
    const circular: Record<string, unknown> = {};
    circular['self'] = circular;
    expect(() => pythonJsonDumps(circular)).toThrow(/circular/);
  });

  it('refuses with a stable code', () => {
    let thrown: unknown;
    try {
      pythonJsonDumps([Symbol('x')]);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(JsonEncodeIssue);
    expect((thrown as JsonEncodeIssue).code).toBe('protocol.json_unencodable');
  });

  it('encodes a JSON string a second time the way hash_message_signature does', () => {
    expect(pythonJsonDumps('{"a":"é"}')).toBe('"{\\"a\\":\\"\\u00e9\\"}"');
  });

  it('on the wire writes neither NaN nor a lone surrogate escape, which upstream would refuse', () => {
    expect(pythonJsonDumps(['a\ud800b', NaN, { u: undefined }], { mode: 'wire' })).toBe('["a\\ufffdb", null, {}]');
  });
});

describe('formatFloat in Python style (float.__repr__)', () => {
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
    expect(formatFloat(value, 'python')).toBe(expected);
  });
});

describe('pydanticJsonDumps (model_dump_json, the text SignedFields are signed as)', () => {
  it('writes compact JSON with raw UTF-8 and serde escapes', () => {
    expect(pydanticJsonDumps({ a: 'é😀\u007f\u0001"\\\n', b: [true, null, 2] })).toBe(
      '{"a":"é😀\u007f\\u0001\\"\\\\\\n","b":[true,null,2]}',
    );
  });

  it('prints floats as pydantic does', () => {
    const values = [1, 0.5, 1e-5, 1e-6, 0.0001, 1e16, 1e15, 123456789.125, -0, 1.5e300, 2.5e-300, 0.1, 100, 1e22];
    expect(pydanticJsonDumps(values.map((x) => new JsonFloat(x)))).toBe(
      '[1.0,0.5,0.00001,1e-6,0.0001,1e+16,1000000000000000.0,123456789.125,-0.0,1.5e+300,2.5e-300,0.1,100.0,1e+22]',
    );
  });

  it('writes NaN and infinities as null, as pydantic 2.13 does (ser_json_inf_nan="null"), also when signing', () => {
    // pydantic 2.13: M(x=float('nan')).model_dump_json() == '{"x":null}'
    expect(pydanticJsonDumps({ x: NaN }, { mode: 'signing' })).toBe('{"x":null}');
    expect(pydanticJsonDumps([new JsonFloat(Infinity), -Infinity], { mode: 'signing' })).toBe('[null,null]');
  });
});

describe('compareCodePoints', () => {
  it('orders an astral character after U+FF61 (JavaScript sort would not)', () => {
    expect(compareCodePoints('😀', '\uff61')).toBeGreaterThan(0);
    expect(['😀', '\uff61'].sort()).toEqual(['😀', '\uff61']);
    expect(compareCodePoints('ab', 'a')).toBeGreaterThan(0);
    expect(compareCodePoints('a', 'a')).toBe(0);
  });

  it('orders lone surrogates as their own code points, as Python does', () => {
    // sorted(['\ue000', '\U0001f600', '\ud800']) == ['\ud800', '\ue000', '\U0001f600']
    expect(['\ue000', '\u{1f600}', '\ud800'].sort(compareCodePoints)).toEqual(['\ud800', '\ue000', '\u{1f600}']);
    expect(['\ud83d\ue000', '\u{1f600}', '\ud83dx'].sort(compareCodePoints)).toEqual(['\ud83dx', '\ud83d\ue000', '\u{1f600}']);
    expect(['\ud83d', '\u{1f600}'].sort(compareCodePoints)).toEqual(['\ud83d', '\u{1f600}']);
  });
});

describe('parseJson keeps what JSON.parse loses (the parse signature checks rely on)', () => {
  /** JsonFloat -> number, so a parsed tree can be compared with JSON.parse's. */
  const plain = (v: JsonValue): unknown => JSON.parse(JSON.stringify(v)) as unknown;

  it('keeps a nanosecond timestamp exact as a bigint', () => {
    const r = parseJson('{"timestamp_ns": 1729622861880448856, "small": 7, "f": 1.5}');
    if (!r.ok) throw new Error(r.error);
    const parsed = r.value as Record<string, unknown>;
    expect(parsed['timestamp_ns']).toBe(1729622861880448856n);
    expect(parsed['small']).toBe(7);
    expect(parsed['f']).toEqual(new JsonFloat(1.5));
    expect((JSON.parse('{"t": 1729622861880448856}') as { t: number }).t).not.toBe(1729622861880448856n);
  });

  it.each([
    '{"a": [1, -2, 3.5e2, "x\\u00e9\\n", true, false, null, {}], "b": {"c": []}}',
    '  [ ]  ',
    '"\\ud83d\\ude00"',
    '{"__proto__": 1}',
  ])('agrees with JSON.parse on %s', (text) => {
    const r = parseJson(text);
    if (!r.ok) throw new Error(r.error);
    expect(plain(r.value)).toEqual(JSON.parse(text));
  });

  it('reads -0 as the int 0, as Python does', () => {
    expect(parseJson('-0')).toEqual({ ok: true, value: 0 });
    expect(Object.is((parseJson('-0') as { value: unknown }).value, 0)).toBe(true);
  });

  it('keeps "__proto__" as an own key', () => {
    const r = parseJson('{"__proto__": {"polluted": true}}');
    if (!r.ok) throw new Error(r.error);
    expect(Object.keys(r.value as object)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it.each(['', '{', '[1,]', '{"a" 1}', '01', '"\u0001"', '[1] 2', 'nul', '"\\x"'])('rejects %p', (text) => {
    expect(parseJson(text).ok).toBe(false);
  });
});
