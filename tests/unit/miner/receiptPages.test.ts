import { pageAt, pageFromPath, parseRange } from '../../../src/actors/miner/receiptPages';

describe('receipt pages', () => {
  it.each([
    [0, 0],
    [299_999, 0],
    [300_000, 1],
    [1_700_000_123_456, 5_666_667],
  ])('puts a receipt stored at %i ms on page %i (5-minute pages)', (ms, page) => {
    expect(pageAt(ms)).toBe(page);
  });

  it.each([
    ['/receipts/5666667.jsonl', 5_666_667],
    ['/receipts/0.jsonl', 0],
    ['/receipts/../index.sqlite', undefined],
    ['/receipts/..%2findex.sqlite', undefined],
    ['/receipts/5666667.jsonl.gz', undefined],
    ['/receipts/abc.jsonl', undefined],
    ['/receipts/-1.jsonl', undefined],
    ['/receipts/1234567890123456.jsonl', undefined],
    ['/receipts/', undefined],
  ])('reads only a page number from %s', (path, page) => {
    expect(pageFromPath(path)).toBe(page);
  });

  it.each([
    [undefined, 100, { kind: 'full' }],
    ['bytes=0-', 100, { kind: 'partial', start: 0, end: 99 }],
    ['bytes=40-', 100, { kind: 'partial', start: 40, end: 99 }],
    ['bytes=40-49', 100, { kind: 'partial', start: 40, end: 49 }],
    ['bytes=40-1000', 100, { kind: 'partial', start: 40, end: 99 }],
    ['bytes=-10', 100, { kind: 'partial', start: 90, end: 99 }],
    ['bytes=-1000', 100, { kind: 'partial', start: 0, end: 99 }],
    ['bytes=100-', 100, { kind: 'unsatisfiable' }],
    ['bytes=150-', 100, { kind: 'unsatisfiable' }],
    ['bytes=0-', 0, { kind: 'unsatisfiable' }],
    ['bytes=-0', 100, { kind: 'unsatisfiable' }],
    ['bytes=50-40', 100, { kind: 'full' }],
    ['bytes=0-10,20-30', 100, { kind: 'full' }],
    ['items=0-10', 100, { kind: 'full' }],
    ['bytes=-', 100, { kind: 'full' }],
  ] as const)('resolves Range %p against %i bytes', (header, size, expected) => {
    expect(parseRange(header, size)).toEqual(expected);
  });
});
