import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { DockerStreamDemuxer, HeadTailCapture, LogSink } from '../../../src/actors/executor/logCapture';
import { truncateLikeUpstream } from '../../../src/actors/executor/wire';

const SMALL = { maxChars: 10, headChars: 5, tailChars: 5 };

function frame(streamType: 1 | 2, payload: string): Buffer {
  const body = Buffer.from(payload);
  const header = Buffer.alloc(8);
  header.writeUInt8(streamType, 0);
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

describe('HeadTailCapture', () => {
  it('keeps only head and tail in memory and counts the dropped middle', () => {
    const capture = new HeadTailCapture(23, SMALL);
    capture.push(Buffer.from('x'.repeat(100)));
    expect(capture.totalBytes).toBe(100);
    expect(capture.droppedBytes).toBe(100 - 46);
  });

  it('produces exactly upstream truncation of the whole text, whatever the chunking and characters', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'é', '€', '😀', '\n'), maxLength: 80, size: 'max' });
    fc.assert(
      fc.property(text, fc.array(fc.integer({ min: 1, max: 7 }), { maxLength: 40 }), (full, cuts) => {
        const bytes = Buffer.from(full);
        const capture = new HeadTailCapture(23, SMALL);
        let at = 0;
        for (const cut of cuts) {
          capture.push(bytes.subarray(at, at + cut));
          at += cut;
        }
        capture.push(bytes.subarray(at));
        expect(capture.wireText()).toEqual(truncateLikeUpstream(full, SMALL));
      }),
    );
  });

  it('refuses an edge too small to rebuild the truncation exactly', () => {
    expect(() => new HeadTailCapture(10, SMALL)).toThrow(RangeError);
  });
});

describe('DockerStreamDemuxer', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'horde-demux-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('splits multiplexed frames into stdout and stderr even when frames straddle chunks', async () => {
    const stdout = new LogSink(path.join(dir, 'out'));
    const stderr = new LogSink(path.join(dir, 'err'));
    const demuxer = new DockerStreamDemuxer(stdout, stderr);
    const stream = Buffer.concat([frame(1, 'hello '), frame(2, 'oops\n'), frame(1, 'world\n')]);
    for (let at = 0; at < stream.length; at += 3) demuxer.write(stream.subarray(at, at + 3));
    await new Promise<void>((resolve, reject) => demuxer.end((error?: Error | null) => (error ? reject(error) : resolve())));
    await Promise.all([stdout.close(), stderr.close()]);
    expect(await readFile(path.join(dir, 'out'), 'utf8')).toBe('hello world\n');
    expect(await readFile(path.join(dir, 'err'), 'utf8')).toBe('oops\n');
    expect(stdout.capture.wireText()).toEqual({ text: 'hello world\n', truncated: false });
  });
});
