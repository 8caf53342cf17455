/**
 * What every long-running role command (`horde facilitator|validator|miner`) does around its role: telemetry first,
 * the file metagraph, the optional inspector, then run until a stop signal or a fatal error, and release everything
 * in reverse order on every path.
 */
import { resolve } from 'node:path';
import { ConfigError } from '../config';
import type { Hotkey } from '../crypto';
import type { MetagraphProvider } from '../metagraph';
import type { HordeInspector } from '../telemetry/inspector';
import type { Logger } from '../telemetry/logger';
import type { TelemetryHandle } from '../telemetry/setup';
import { toError } from '../util/errors';
import type { CommandIo } from './io';

/* eslint-disable @typescript-eslint/no-require-imports -- heavy modules load only when a role runs (see main.ts) */
const lazy = {
  crypto: () => require('../crypto') as typeof import('../crypto'),
  metagraph: () => require('../metagraph') as typeof import('../metagraph'),
  telemetry: () => require('../telemetry/setup') as typeof import('../telemetry/setup'),
  inspector: () => require('../telemetry/inspector') as typeof import('../telemetry/inspector'),
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** Exit codes shared by the role commands. */
export const ROLE_EXIT_CODES = { ok: 0, failed: 1, usage: 2 } as const;

/** How a role command was told its hotkey: exactly one of the two. */
export interface HotkeySource {
  readonly hotkeyFile?: string | undefined;
  readonly devKey?: string | undefined;
}

/**
 * The role's hotkey from `--hotkey-file` (a bittensor key file, relative to `cwd`) or `--dev-key` (a public
 * development key). Throws a `ConfigError` when both or neither are given. Crypto must be initialised.
 *
 * @example
 * ```ts
 * const hotkey = await roleHotkey(config, { role: 'miner', cwd: io.cwd }); // env hint: HORDE_MINER_HOTKEY_FILE
 * ```
 */
export async function roleHotkey(source: HotkeySource, options: { readonly role: string; readonly cwd: string }): Promise<Hotkey> {
  if (source.hotkeyFile !== undefined && source.devKey !== undefined) {
    throw new ConfigError(['give either --hotkey-file or --dev-key, not both']);
  }
  const { devHotkey, loadKeyFile } = lazy.crypto();
  if (source.hotkeyFile !== undefined) return loadKeyFile(resolve(options.cwd, source.hotkeyFile));
  if (source.devKey !== undefined) return devHotkey(source.devKey);
  const envName = `HORDE_${options.role.toUpperCase()}_HOTKEY_FILE`;
  throw new ConfigError([`a ${options.role} hotkey is required: --hotkey-file FILE (or ${envName}), or --dev-key NAME`]);
}

/** The process-wide resources a role runs on. */
export interface RoleRuntime {
  readonly telemetry: TelemetryHandle;
  readonly metagraph: MetagraphProvider;
  /** Present when HORDE_INSPECT / HORDE_INSPECT_FILE is set (docs/observability.md). */
  readonly inspector: HordeInspector | undefined;
  /** Stops the inspector, the metagraph watcher and telemetry, in that order. Idempotent. */
  close(): Promise<void>;
}

export interface RoleRuntimeOptions {
  /** `horde validator`: prefixes every message written to stderr. */
  readonly command: string;
  readonly role: string;
  readonly version: string;
  /** The role's hotkey, when it has one (OpenTelemetry `service.instance.id`). */
  readonly instanceId?: string;
  readonly metagraphFile: string;
  readonly metagraphPollIntervalMs: number;
  readonly logger: Logger;
  readonly io: CommandIo;
}

/**
 * Sets telemetry up (before any instrument exists: instruments made earlier stay no-ops), opens the file metagraph
 * and the inspector. On a problem it prints it, releases what it opened and answers `undefined` (a usage error).
 *
 * @example
 * ```ts
 * const runtime = await openRoleRuntime({ command: 'horde validator', role: 'validator', version, logger, io,
 *   metagraphFile: config.metagraphFile, metagraphPollIntervalMs: config.metagraphPollIntervalMs });
 * if (runtime === undefined) return ROLE_EXIT_CODES.usage;
 * ```
 */
export async function openRoleRuntime(options: RoleRuntimeOptions): Promise<RoleRuntime | undefined> {
  const { io, logger } = options;
  const telemetry = await lazy.telemetry().setupTelemetry({
    serviceName: `horde-${options.role}`,
    role: options.role,
    serviceVersion: options.version,
    ...(options.instanceId === undefined ? {} : { serviceInstanceId: options.instanceId }),
  });
  let metagraph: MetagraphProvider;
  try {
    const { createFileMetagraphProvider, createMetagraphMetrics } = lazy.metagraph();
    metagraph = await createFileMetagraphProvider({
      path: resolve(io.cwd, options.metagraphFile),
      pollIntervalMs: options.metagraphPollIntervalMs,
      metrics: createMetagraphMetrics(),
      logger: logger.child({}, { component: 'metagraph' }),
    });
  } catch (error) {
    io.stderr(`${options.command}: ${toError(error).message}\n`);
    await telemetry.shutdown();
    return undefined;
  }
  let inspector: HordeInspector | undefined;
  try {
    inspector = io.env['HORDE_INSPECT'] || io.env['HORDE_INSPECT_FILE'] ? lazy.inspector().inspectorFromEnv(io.env) : undefined;
  } catch (error) {
    io.stderr(`${options.command}: ${toError(error).message}\n`);
    await metagraph.close();
    await telemetry.shutdown();
    return undefined;
  }
  let closed: Promise<void> | undefined;
  return {
    telemetry,
    metagraph,
    inspector,
    close: () =>
      (closed ??= (async () => {
        await inspector?.stop();
        await metagraph.close();
        await telemetry.shutdown();
      })()),
  };
}

export interface RunRoleOptions<H> {
  readonly command: string;
  /** The role's name in messages (`the validator failed: …`). */
  readonly role: string;
  readonly runtime: RoleRuntime;
  readonly logger: Logger;
  readonly io: CommandIo;
  /** Starts the role; `onFatal` ends the run (the role's root actor failed). */
  start(onFatal: (error: unknown) => void): Promise<H>;
  /** The one line printed once the role serves (tests and `horde up` wait for it). */
  announce(handle: H): string;
  /** Stops the role; `fatal` tells whether it already failed (then nothing should wait for a grace). */
  stop(handle: H, fatal: boolean): Promise<void>;
  /** What a second stop signal does (default: nothing more than the first). */
  onSecondSignal?(handle: H, signal: NodeJS.Signals): void;
}

/**
 * Starts a role and runs it until SIGTERM/SIGINT or a fatal error, then stops it and closes the runtime. Returns the
 * exit code: 0 stopped cleanly, 1 failed (at start or while running).
 *
 * @example
 * ```ts
 * return runRole({ command: 'horde facilitator', role: 'facilitator', runtime, logger, io,
 *   start: (onFatal) => startFacilitator({ ...options, onFatal }),
 *   announce: (f) => `horde facilitator listening on ${f.url}`,
 *   stop: (f) => f.stop() });
 * ```
 */
export async function runRole<H>(options: RunRoleOptions<H>): Promise<number> {
  const { io, logger, runtime } = options;
  let fatal: unknown;
  let hasFailed = false;
  let onFailed: () => void = () => undefined;
  const failed = new Promise<void>((resolveFailed) => (onFailed = resolveFailed));
  let handle: H;
  try {
    handle = await options.start((error) => {
      fatal = error;
      hasFailed = true;
      onFailed();
    });
  } catch (error) {
    io.stderr(`${options.command}: ${toError(error).message}\n`);
    await runtime.close();
    return ROLE_EXIT_CODES.failed;
  }
  io.stdout(`${options.announce(handle)}\n`);

  let signals = 0;
  let onStop: () => void = () => undefined;
  const stopRequested = new Promise<void>((resolveStop) => (onStop = resolveStop));
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals === 1) {
      logger.info('stop signal received: stopping', { signal });
      onStop();
    } else {
      options.onSecondSignal?.(handle, signal);
    }
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await Promise.race([stopRequested, failed]);
    await options.stop(handle, hasFailed);
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await runtime.close();
  }
  if (hasFailed) {
    io.stderr(`${options.command}: the ${options.role} failed: ${toError(fatal).message}\n`);
    return ROLE_EXIT_CODES.failed;
  }
  return ROLE_EXIT_CODES.ok;
}
