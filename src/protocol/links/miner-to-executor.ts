/**
 * Miner -> executor (`{MINER_ADDRESS}/v0.1/executor_interface/{executor_token}`), upstream's
 * `MinerToExecutorMessage`. Unknown fields are ignored.
 */
import { createLinkCodec, type LinkCodec, type LinkCodecOptions } from '../codec';
import { GenericError, V0InitialJobRequest, V0JobRequest } from '../messages';
import type { Infer, Input } from '../schema';

const MESSAGES = [GenericError, V0InitialJobRequest, V0JobRequest] as const;

export type MinerToExecutorMessage = Infer<(typeof MESSAGES)[number]>;
export type MinerToExecutorMessageInput = Input<(typeof MESSAGES)[number]>;

/** A miner -> executor codec with custom limits. */
export function createMinerToExecutorCodec(options?: LinkCodecOptions): LinkCodec<MinerToExecutorMessage, MinerToExecutorMessageInput> {
  return createLinkCodec({ name: 'miner->executor', messages: MESSAGES.map((schema) => ({ schema })) }, options);
}

/** Miner -> executor codec with the default limits. */
export const minerToExecutorCodec = createMinerToExecutorCodec();
