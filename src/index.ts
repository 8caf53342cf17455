/**
 * The `horde` package entry: the SDK (a client of the facilitator for job submitters) and the key helpers it needs.
 * The roles (facilitator, validator, miner, executor) are started through the `horde` command, not imported.
 *
 * @example
 * ```ts
 * import { HordeClient, devHotkey, initCrypto, jobResult } from 'horde';
 * await initCrypto();
 * const client = new HordeClient({ url: 'http://127.0.0.1:9000', hotkey: devHotkey('horde-dev-user') });
 * const job = await client.runUntilComplete({ executorClass: 'always_on.test', image: 'alpine', command: ['echo', 'hi'] });
 * console.log(jobResult(job).stdout);
 * ```
 */
export * from './sdk';
export { initCrypto, devHotkey, loadKeyFile, hotkeyFromSuri, hotkeyFromMnemonic, type Hotkey } from './crypto';
export { HordeError } from './util/errors';
