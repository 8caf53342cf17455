/**
 * The miner's signature on `V0StreamingJobReadyRequest` (upstream `protocol_messages.py`): the validator relays the
 * job's streaming address to the user only if the miner vouches for it.
 */
import { signBlob, verify, type Hotkey } from './keys';

export interface StreamingReadyFields {
  readonly job_uuid: string;
  /** `null` until the miner fills it in; Python's f-string then prints `None`, and so does this. */
  readonly ip: string | null;
  readonly port: number;
  /** The executor's server certificate (PEM). */
  readonly public_key: string;
}

/**
 * The exact text the miner signs: `"{job_uuid}:{ip}:{port}:{public_key}"`.
 *
 * @example
 * ```ts
 * streamingReadyBlob({ job_uuid: 'j', ip: '10.0.0.1', port: 443, public_key: 'PEM' }); // 'j:10.0.0.1:443:PEM'
 * ```
 */
export function streamingReadyBlob(fields: StreamingReadyFields): string {
  return `${fields.job_uuid}:${fields.ip ?? 'None'}:${String(fields.port)}:${fields.public_key}`;
}

/**
 * `miner_signature` for a streaming-ready message (`"0x" + hex`).
 *
 * @example
 * ```ts
 * const message = { ...ready, ip: publicIp, miner_signature: signStreamingReady(minerHotkey, { ...ready, ip: publicIp }) };
 * ```
 */
export function signStreamingReady(miner: Hotkey, fields: StreamingReadyFields): string {
  return signBlob(miner, streamingReadyBlob(fields));
}

/** The validator's check that `minerHotkey` signed these streaming details. Never throws. */
export function verifyStreamingReady(minerHotkey: string, fields: StreamingReadyFields, signature: unknown): boolean {
  if (typeof signature !== 'string') return false;
  return verify(minerHotkey, streamingReadyBlob(fields), signature);
}
