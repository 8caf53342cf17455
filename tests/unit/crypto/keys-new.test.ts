import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keys, keysNew, type CommandIo } from '../../../src/cli/keys';
import { devHotkey, initCrypto, loadKeyFile } from '../../../src/crypto';

let directory: string;
beforeAll(async () => {
  await initCrypto();
});
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'horde-keys-new-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

function io() {
  const out: string[] = [];
  const err: string[] = [];
  const value: CommandIo = { stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: {}, cwd: directory };
  return { value, out, err };
}

describe('horde keys new', () => {
  it('writes <name>.json with mode 0600 and prints only the address on stdout', async () => {
    const { value, out, err } = io();
    expect(await keysNew(['--name', 'miner-1'], value)).toBe(0);
    const path = join(directory, 'miner-1.json');
    const hotkey = await loadKeyFile(path);
    expect(out).toEqual([`${hotkey.ss58}\n`]);
    expect(err.join('')).toContain(path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('writes a deterministic development key to --out', async () => {
    const { value, out } = io();
    expect(await keysNew(['--name', 'Alice', '--dev', '--out', 'keys/alice.json'], value)).toBe(0);
    expect(out).toEqual([`${devHotkey('Alice').ss58}\n`]);
    expect((await loadKeyFile(join(directory, 'keys', 'alice.json'))).ss58).toBe(devHotkey('Alice').ss58);
  });

  it('refuses to replace an existing key file unless --force', async () => {
    const first = io();
    await keysNew([], first.value);
    const second = io();
    expect(await keysNew([], second.value)).toBe(1);
    expect(second.err.join('')).toMatch(/already exists/);
    expect((await loadKeyFile(join(directory, 'hotkey.json'))).ss58).toBe(first.out[0]!.trim());
    const third = io();
    expect(await keysNew(['--force'], third.value)).toBe(0);
    expect((await loadKeyFile(join(directory, 'hotkey.json'))).ss58).toBe(third.out[0]!.trim());
    expect(await readdir(directory)).toEqual(['hotkey.json']);
  });

  it('explains bad usage on stderr with exit code 2, writing nothing', async () => {
    const { value, out, err } = io();
    expect(await keysNew(['--nmae', 'x', '--name', '../escape'], value)).toBe(2);
    expect(out).toEqual([]);
    expect(err.join('')).toContain('unknown flag --nmae (did you mean --name?)');
    expect(err.join('')).toContain('--name: use letters, digits');
    expect(await readdir(directory)).toEqual([]);
  });

  it('prints generated help for --help', async () => {
    const { value, out } = io();
    expect(await keysNew(['--help'], value)).toBe(0);
    expect(out.join('')).toContain('usage: horde keys new [options]');
    expect(out.join('')).toContain('--dev / --no-dev');
  });

  it('dispatches "horde keys new" and rejects unknown sub-commands', async () => {
    const ok = io();
    expect(await keys(['new', '--name', 'k'], ok.value)).toBe(0);
    const bad = io();
    expect(await keys(['delete'], bad.value)).toBe(2);
    expect(bad.err.join('')).toContain("unknown sub-command 'delete'");
  });
});
