import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const bin = join(__dirname, '..', '..', 'bin', 'horde.js');

function horde(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the horde command', () => {
  it('lists its commands with --help and exits 0', () => {
    const r = horde('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: horde <command>/);
    expect(r.stdout).toMatch(/\n {2}keys +/);
  });

  it('refuses an unknown command with exit code 2 and the usage on stderr', () => {
    const r = horde('frobnicate');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
    expect(r.stdout).toBe('');
  });

  it('prints the package version', () => {
    const r = horde('version');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^horde \d+\.\d+\.\d+\n$/);
  });
});
