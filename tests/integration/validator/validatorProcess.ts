/**
 * Helpers for validator integration tests: a real `horde validator` process (node bin/horde.js validator) and the
 * metagraph file it reads (validators with stake, miners with their address).
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { spawnRole } from '../../support/roleProcess';

export interface ValidatorProcess {
  readonly child: ChildProcess;
  /** `http://127.0.0.1:<port>` (/metrics, /healthz, /readyz) */
  readonly httpUrl: string;
  /** Every stderr line (JSON log lines). */
  readonly logs: string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends a signal (if still running) and resolves once the process has exited. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Writes a metagraph file a validator reads: the validators (with stake) and the miners (where to dial them). */
export function writeValidatorMetagraph(
  path: string,
  validators: ReadonlyArray<{ hotkey: string; stake?: number }>,
  miners: ReadonlyArray<{ hotkey: string; port: number; address?: string }>,
): void {
  writeFileSync(
    path,
    JSON.stringify({
      validators: validators.map((v, uid) => ({ hotkey: v.hotkey, active: true, stake: v.stake ?? 100_000, uid })),
      miners: miners.map((m, i) => ({
        hotkey: m.hotkey,
        address: m.address ?? '127.0.0.1',
        port: m.port,
        uid: validators.length + i,
        coldkey: m.hotkey,
      })),
    }),
  );
}

/** Starts `horde validator` on a free port with a dev key; resolves once it listens. */
export async function startValidatorProcess(options: {
  devKey: string;
  facilitatorUrl: string;
  metagraphPath: string;
  dataDir: string;
  args?: readonly string[];
}): Promise<ValidatorProcess> {
  const role = await spawnRole('validator', [
    '--dev-key',
    options.devKey,
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--facilitator-url',
    options.facilitatorUrl,
    '--metagraph-file',
    options.metagraphPath,
    '--metagraph-poll-interval-ms',
    '100',
    '--data-dir',
    options.dataDir,
    ...(options.args ?? []),
  ]);
  return { child: role.child, httpUrl: `http://127.0.0.1:${role.port}`, logs: role.logs, exited: role.exited, stop: role.stop };
}

/** Polls `/readyz` until it answers 200. */
export async function whenReady(validator: ValidatorProcess, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  let last = '';
  while (Date.now() - start < timeoutMs) {
    try {
      const response = await fetch(`${validator.httpUrl}/readyz`);
      last = await response.text();
      if (response.status === 200) return;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`validator not ready within ${timeoutMs} ms: ${last}\n${validator.logs.slice(-30).join('\n')}`);
}
