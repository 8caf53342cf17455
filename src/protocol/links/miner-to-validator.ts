/**
 * Miner -> validator, upstream's `MinerToValidatorMessage`. Unknown fields are ignored. The deprecated
 * `V0ExecutorFailedRequest`/`V0StreamingJobNotReadyRequest` decode as themselves; see `legacyToHordeFailed`.
 */
import { createLinkCodec, type LinkCodec, type LinkCodecOptions } from '../codec';
import {
  GenericError,
  UnauthorizedError,
  V0AcceptJobRequest,
  V0DeclineJobRequest,
  V0ExecutionDoneRequest,
  V0ExecutorFailedRequest,
  V0ExecutorManifestRequest,
  V0ExecutorReadyRequest,
  V0HordeFailedRequest,
  V0JobFailedRequest,
  V0JobFinishedRequest,
  V0MachineSpecsRequest,
  V0MainHotkeyMessage,
  V0StreamingJobNotReadyRequest,
  V0StreamingJobReadyRequest,
  V0VolumesReadyRequest,
} from '../messages';
import type { Infer, Input } from '../schema';

const MESSAGES = [
  GenericError,
  UnauthorizedError,
  V0ExecutorManifestRequest,
  V0MainHotkeyMessage,
  V0DeclineJobRequest,
  V0AcceptJobRequest,
  V0ExecutorFailedRequest,
  V0StreamingJobNotReadyRequest,
  V0ExecutorReadyRequest,
  V0StreamingJobReadyRequest,
  V0JobFailedRequest,
  V0VolumesReadyRequest,
  V0ExecutionDoneRequest,
  V0JobFinishedRequest,
  V0MachineSpecsRequest,
  V0HordeFailedRequest,
] as const;

export type MinerToValidatorMessage = Infer<(typeof MESSAGES)[number]>;
export type MinerToValidatorMessageInput = Input<(typeof MESSAGES)[number]>;

/** A miner -> validator codec with custom limits. */
export function createMinerToValidatorCodec(options?: LinkCodecOptions): LinkCodec<MinerToValidatorMessage, MinerToValidatorMessageInput> {
  return createLinkCodec({ name: 'miner->validator', messages: MESSAGES.map((schema) => ({ schema })) }, options);
}

/** Miner -> validator codec with the default limits. */
export const minerToValidatorCodec = createMinerToValidatorCodec();
