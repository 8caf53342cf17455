/**
 * Starts one Horde role as a real process (`node bin/horde.js <role> ...`) for integration tests and waits for the
 * line it prints once it serves (`horde <role> listening on http://127.0.0.1:<port>`). The role helpers
 * (minerProcess, validatorProcess, facilitatorProcess) add their own flags on top.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const REPO = join(__dirname, '..', '..');

export type RoleName = 'facilitator' | 'validator' | 'miner';

export interface RoleExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface RoleProcess {
  readonly child: ChildProcess;
  /** The port it announced. */
  readonly port: number;
  /** Every stderr line (JSON log lines). */
  readonly logs: string[];
  readonly exited: Promise<RoleExit>;
  /** Sends a signal (if still running) and resolves once the process has exited. */
  stop(signal?: NodeJS.Signals): Promise<RoleExit>;
}

/**
 * Spawns `horde <role> ...args` and resolves once it announced its port; rejects (with its log) if it exits first.
 * `HORDE_TEST_<ROLE>_LOGS=1` echoes its log lines to this process's stderr.
 *
 * @example
 * ```ts
 * const role = await spawnRole('facilitator', ['--port', '0', '--metagraph-file', path]);
 * await fetch(`http://127.0.0.1:${role.port}/healthz`);
 * await role.stop();
 * ```
 */
export async function spawnRole(role: RoleName, args: readonly string[]): Promise<RoleProcess> {
  const child = spawn(process.execPath, [join(REPO, 'bin', 'horde.js'), role, ...args], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HORDE_LOG_LEVEL: process.env['HORDE_LOG_LEVEL'] ?? 'info' },
  });
  const echo = process.env[`HORDE_TEST_${role.toUpperCase()}_LOGS`] === '1';
  const logs: string[] = [];
  let buffered = '';
  child.stderr.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    logs.push(...lines);
    if (echo) for (const line of lines) process.stderr.write(`[${role}] ${line}\n`);
  });
  const exited = new Promise<RoleExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const announced = new RegExp(`horde ${role} listening on http://127\\.0\\.0\\.1:(\\d+)`);
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer): void => {
      out += chunk.toString('utf8');
      const match = announced.exec(out);
      if (match !== null) {
        child.stdout.off('data', onData);
        resolve(Number(match[1]));
      }
    };
    child.stdout.on('data', onData);
    void exited.then(({ code }) => reject(new Error(`${role} exited with ${code} before listening:\n${logs.join('\n')}`)));
  });
  child.stdout.resume();
  return {
    child,
    port,
    logs,
    exited,
    stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
