import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import {
  JsonFloat,
  compareCodePoints,
  formatFloat,
  parseJson,
  pydanticJsonDumps,
  pythonJsonDumps,
} from '../../../src/protocol';

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
