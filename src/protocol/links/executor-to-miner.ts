/**
 * Executor -> miner, upstream's `ExecutorToMinerMessage`. Unknown fields are ignored.
 */
import { createLinkCodec, type LinkCodec, type LinkCodecOptions } from '../codec';
import {
  GenericError,
  V0ExecutionDoneRequest,
  V0ExecutorFailedRequest,
  V0ExecutorReadyRequest,
  V0HordeFailedRequest,
  V0JobFailedRequest,
  V0JobFinishedRequest,
  V0MachineSpecsRequest,
  V0StreamingJobNotReadyRequest,
  V0StreamingJobReadyRequest,
  V0VolumesReadyRequest,
} from '../messages';
import type { Infer, Input } from '../schema';

const MESSAGES = [
  GenericError,
  V0ExecutorFailedRequest,
  V0StreamingJobNotReadyRequest,
  V0ExecutorReadyRequest,
  V0StreamingJobReadyRequest,
  V0VolumesReadyRequest,
  V0ExecutionDoneRequest,
  V0JobFailedRequest,
  V0JobFinishedRequest,
  V0MachineSpecsRequest,
  V0HordeFailedRequest,
] as const;

export type ExecutorToMinerMessage = Infer<(typeof MESSAGES)[number]>;
export type ExecutorToMinerMessageInput = Input<(typeof MESSAGES)[number]>;

/** An executor -> miner codec with custom limits. */
export function createExecutorToMinerCodec(options?: LinkCodecOptions): LinkCodec<ExecutorToMinerMessage, ExecutorToMinerMessageInput> {
  return createLinkCodec({ name: 'executor->miner', messages: MESSAGES.map((schema) => ({ schema })) }, options);
}

/** Executor -> miner codec with the default limits. */
export const executorToMinerCodec = createExecutorToMinerCodec();
