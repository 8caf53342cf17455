import { codePointLength, toUploadResults, truncateLikeUpstream, withDefaultTag } from '../../../src/actors/executor/wire';
import { pythonJsonDumps } from '../../../src/protocol/json';

describe('truncateLikeUpstream (job_runner.truncate)', () => {
  it('leaves text of at most 1,000,000 characters unchanged', () => {
    const text = 'x'.repeat(1_000_000);
    expect(truncateLikeUpstream(text)).toEqual({ text, truncated: false });
  });

  it('keeps the first and last 500,000 characters joined by " ... " beyond the limit', () => {
    const text = `${'a'.repeat(600_000)}${'b'.repeat(400_001)}`;
    const { text: wire, truncated } = truncateLikeUpstream(text);
    expect(truncated).toBe(true);
    expect(wire).toHaveLength(1_000_005);
    expect(wire.slice(0, 500_000)).toBe('a'.repeat(500_000));
    expect(wire.slice(500_000, 500_005)).toBe(' ... ');
    expect(wire.slice(500_005)).toBe(`${'a'.repeat(99_999)}${'b'.repeat(400_001)}`);
  });

  it('counts characters as Python does: an astral character is one, not two', () => {
    const emoji = '😀'.repeat(1_000_000); // 2,000,000 UTF-16 units, 1,000,000 code points
    expect(codePointLength(emoji)).toBe(1_000_000);
    expect(truncateLikeUpstream(emoji).truncated).toBe(false);
    const over = truncateLikeUpstream(`${emoji}😀`);
    expect(over.truncated).toBe(true);
    expect(codePointLength(over.text)).toBe(1_000_005);
    expect(over.text.startsWith('😀')).toBe(true);
    expect(over.text.endsWith('😀')).toBe(true);
  });

  it('honours small limits (used by the capture property test)', () => {
    expect(truncateLikeUpstream('abcdefghijk', { maxChars: 10, headChars: 3, tailChars: 2 })).toEqual({ text: 'abc ... jk', truncated: true });
  });
});

describe('pythonJsonDumps on upload_results values (json.dumps defaults)', () => {
  it.each([
    [{ headers: { 'content-type': 'text/plain' }, body: 'ok' }, '{"headers": {"content-type": "text/plain"}, "body": "ok"}'],
    [{ body: 'é' }, '{"body": "\\u00e9"}'],
    [{ body: '😀' }, '{"body": "\\ud83d\\ude00"}'],
    [{ body: '\u007f' }, '{"body": "\\u007f"}'],
    [{ body: 'a"b\\c\n\t\u0001' }, '{"body": "a\\"b\\\\c\\n\\t\\u0001"}'],
    [[1, true, null, 'x', []], '[1, true, null, "x", []]'],
    [{}, '{}'],
  ])('writes %j as %s', (value, expected) => {
    expect(pythonJsonDumps(value)).toBe(expected);
  });

  it('writes a fraction as Python prints a float', () => {
    expect(pythonJsonDumps(1.5)).toBe('1.5');
  });
});

describe('toUploadResults', () => {
  it('serialises each response as upstream upload_results: headers first, then body', () => {
    expect(toUploadResults({ 'output.zip': { headers: { etag: '"abc"' }, body: 'done' } })).toEqual({
      'output.zip': '{"headers": {"etag": "\\"abc\\""}, "body": "done"}',
    });
  });
});

describe('withDefaultTag', () => {
  it.each([
    ['python', 'python:latest'],
    ['python:3.11', 'python:3.11'],
    ['registry:5000/app', 'registry:5000/app:latest'],
    ['registry:5000/app:v1', 'registry:5000/app:v1'],
    ['app@sha256:abc', 'app@sha256:abc'],
  ])('%s → %s', (image, expected) => {
    expect(withDefaultTag(image)).toBe(expected);
  });
});
