/**
 * Validator -> miner (`ws://{ip}:{port}/v0.1/validator_interface/{validator_hotkey}`), upstream's
 * `ValidatorToMinerMessage`. Unknown fields are ignored.
 */
import { createLinkCodec, type LinkCodec, type LinkCodecOptions } from '../codec';
import {
  GenericError,
  V0InitialJobRequest,
  V0JobAcceptedReceiptRequest,
  V0JobFinishedReceiptRequest,
  V0JobRequest,
  V0MainHotkeyMessage,
  ValidatorAuthForMiner,
} from '../messages';
import type { Infer, Input } from '../schema';

const MESSAGES = [
  GenericError,
  ValidatorAuthForMiner,
  V0InitialJobRequest,
  V0JobRequest,
  V0JobAcceptedReceiptRequest,
  V0JobFinishedReceiptRequest,
  V0MainHotkeyMessage,
] as const;

export type ValidatorToMinerMessage = Infer<(typeof MESSAGES)[number]>;
export type ValidatorToMinerMessageInput = Input<(typeof MESSAGES)[number]>;

/** A validator -> miner codec with custom limits. */
export function createValidatorToMinerCodec(options?: LinkCodecOptions): LinkCodec<ValidatorToMinerMessage, ValidatorToMinerMessageInput> {
  return createLinkCodec({ name: 'validator->miner', messages: MESSAGES.map((schema) => ({ schema })) }, options);
}

/** Validator -> miner codec with the default limits. */
export const validatorToMinerCodec = createValidatorToMinerCodec();
