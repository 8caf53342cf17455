import { jobCommand, ProgressLine } from '../../../src/cli/job';
import type { CommandIo } from '../../../src/cli/keys';

function io(): CommandIo & { out: string; err: string } {
  const captured = { out: '', err: '' };
  return Object.assign(captured, {
    stdout: (text: string) => void (captured.out += text),
    stderr: (text: string) => void (captured.err += text),
    env: {},
    cwd: '/tmp',
  });
}

describe('horde job run progress', () => {
  it('rewrites one line on a terminal and ends it before later output', () => {
    let written = '';
    const line = new ProgressLine((text) => (written += text), true);
    line.update('job u: sent');
    line.update('job u: accepted');
    line.done();
    expect(written).toBe('\r\u001b[2Kjob u: sent\r\u001b[2Kjob u: accepted\n');
  });

  it('writes one line per status when not on a terminal', () => {
    let written = '';
    const line = new ProgressLine((text) => (written += text), false);
    line.update('job u: sent');
    line.update('job u: accepted');
    line.done();
    expect(written).toBe('job u: sent\njob u: accepted\n');
  });
});

describe('horde job', () => {
  it('refuses an unknown sub-command with the usage exit code', async () => {
    const captured = io();
    expect(await jobCommand(['launch'], captured, false)).toBe(2);
    expect(captured.err).toContain("unknown sub-command 'launch'");
  });

  it('requires an image', async () => {
    const captured = io();
    expect(await jobCommand(['run', '--', 'echo', 'hi'], captured, false)).toBe(2);
    expect(captured.err).toContain('image');
  });

  it('refuses an --env item that is not KEY=VALUE', async () => {
    const captured = io();
    expect(await jobCommand(['run', '--image', 'x', '--env', 'oops', '--', 'true'], captured, false)).toBe(2);
    expect(captured.err).toContain('--env oops');
  });
});
