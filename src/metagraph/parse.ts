/**
 * The metagraph file format, parsed by a pure function so that every rule has a table test.
 *
 * ```json
 * {
 *   "block": 4_100_000,
 *   "validators": [{ "hotkey": "5F…", "active": true, "stake": 30000, "uid": 3 }],
 *   "miners": [{ "hotkey": "5G…", "address": "127.0.0.1", "port": 8000, "uid": 7, "coldkey": "5C…" }]
 * }
 * ```
 * `active` defaults to true, `stake` to {@link METAGRAPH_DEFAULT_STAKE}; every list may be absent. Unknown keys are
 * ignored (a newer file keeps working with an older reader).
 */
import { isValidSs58 } from '../crypto/keys';
import { err, ok, type Result } from '../util/result';
import { METAGRAPH_DEFAULT_STAKE } from './defaults';
import type { MetagraphMiner, MetagraphValidator } from './types';

/** The content of a metagraph file, before it becomes a versioned snapshot. */
export interface MetagraphContent {
  readonly block: number | undefined;
  readonly validators: ReadonlyMap<string, MetagraphValidator>;
  readonly miners: ReadonlyMap<string, MetagraphMiner>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalUid(entry: Record<string, unknown>, at: string, problems: string[]): number | undefined {
  const uid = entry['uid'];
  if (uid === undefined || uid === null) return undefined;
  if (typeof uid === 'number' && Number.isSafeInteger(uid) && uid >= 0) return uid;
  problems.push(`${at}.uid must be a non-negative integer`);
  return undefined;
}

function hotkeyOf(entry: Record<string, unknown>, at: string, problems: string[]): string | undefined {
  const hotkey = entry['hotkey'];
  if (typeof hotkey !== 'string' || !isValidSs58(hotkey)) {
    problems.push(`${at}.hotkey must be an SS58 address`);
    return undefined;
  }
  return hotkey;
}

function listOf(json: Record<string, unknown>, key: string, problems: string[]): unknown[] {
  const value = json[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    problems.push(`${key} must be a list`);
    return [];
  }
  return value;
}

function parseValidator(value: unknown, at: string, problems: string[]): MetagraphValidator | undefined {
  if (!isObject(value)) {
    problems.push(`${at} must be an object`);
    return undefined;
  }
  const before = problems.length;
  const hotkey = hotkeyOf(value, at, problems);
  const active = value['active'] ?? true;
  if (typeof active !== 'boolean') problems.push(`${at}.active must be true or false`);
  const stake = value['stake'] ?? METAGRAPH_DEFAULT_STAKE;
  if (typeof stake !== 'number' || !Number.isFinite(stake) || stake < 0) problems.push(`${at}.stake must be a number >= 0`);
  const uid = optionalUid(value, at, problems);
  if (problems.length > before || hotkey === undefined) return undefined;
  return { hotkey, active: active as boolean, stake: stake as number, uid };
}

function parseMiner(value: unknown, at: string, problems: string[]): MetagraphMiner | undefined {
  if (!isObject(value)) {
    problems.push(`${at} must be an object`);
    return undefined;
  }
  const before = problems.length;
  const hotkey = hotkeyOf(value, at, problems);
  const address = value['address'];
  if (typeof address !== 'string' || address.trim() === '') problems.push(`${at}.address must be a non-empty string`);
  const port = value['port'];
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) {
    problems.push(`${at}.port must be an integer in 1..65535`);
  }
  const uid = optionalUid(value, at, problems);
  const coldkey = value['coldkey'];
  if (coldkey !== undefined && coldkey !== null && (typeof coldkey !== 'string' || !isValidSs58(coldkey))) {
    problems.push(`${at}.coldkey must be an SS58 address`);
  }
  if (problems.length > before || hotkey === undefined) return undefined;
  return {
    hotkey,
    address: address as string,
    port: port as number,
    uid,
    coldkey: typeof coldkey === 'string' ? coldkey : undefined,
  };
}

/**
 * Validates parsed metagraph JSON. Returns every problem at once (a file with one bad entry is refused as a whole, so
 * that a half-valid file never silently drops a validator).
 *
 * @example
 * ```ts
 * const r = parseMetagraph(JSON.parse(text));
 * if (!r.ok) throw new MetagraphLoadError(path, r.error);
 * r.value.validators.get(hotkey)?.active;
 * ```
 */
export function parseMetagraph(json: unknown): Result<MetagraphContent, string[]> {
  if (!isObject(json)) return err(['the metagraph must be a JSON object']);
  const problems: string[] = [];
  const block = json['block'];
  if (block !== undefined && block !== null && (typeof block !== 'number' || !Number.isSafeInteger(block) || block < 0)) {
    problems.push('block must be a non-negative integer');
  }
  const validators = new Map<string, MetagraphValidator>();
  listOf(json, 'validators', problems).forEach((value, i) => {
    const validator = parseValidator(value, `validators[${i}]`, problems);
    if (validator === undefined) return;
    if (validators.has(validator.hotkey)) problems.push(`validators[${i}].hotkey ${validator.hotkey} is listed twice`);
    validators.set(validator.hotkey, validator);
  });
  const miners = new Map<string, MetagraphMiner>();
  listOf(json, 'miners', problems).forEach((value, i) => {
    const miner = parseMiner(value, `miners[${i}]`, problems);
    if (miner === undefined) return;
    if (miners.has(miner.hotkey)) problems.push(`miners[${i}].hotkey ${miner.hotkey} is listed twice`);
    miners.set(miner.hotkey, miner);
  });
  if (problems.length > 0) return err(problems);
  return ok({ block: typeof block === 'number' ? block : undefined, validators, miners });
}

/** True when two contents describe the same metagraph (a rewrite of the same data publishes nothing). */
export function sameContent(a: MetagraphContent, b: MetagraphContent): boolean {
  if (a.block !== b.block || a.validators.size !== b.validators.size || a.miners.size !== b.miners.size) return false;
  for (const [hotkey, v] of a.validators) {
    const w = b.validators.get(hotkey);
    if (w === undefined || w.active !== v.active || w.stake !== v.stake || w.uid !== v.uid) return false;
  }
  for (const [hotkey, m] of a.miners) {
    const n = b.miners.get(hotkey);
    if (n === undefined || n.address !== m.address || n.port !== m.port || n.uid !== m.uid || n.coldkey !== m.coldkey) {
      return false;
    }
  }
  return true;
}
