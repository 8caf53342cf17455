/**
 * Validator -> facilitator. All four models refuse unknown fields upstream (`extra="forbid"`), so we refuse them
 * too; inside `V0JobStatusUpdate.metadata`, `JobStatusMetadata` and `JobResultDetails` keep unknown fields.
 */
import { createLinkCodec, type LinkCodec, type LinkCodecOptions } from '../codec';
import { V0AuthenticationRequest, V0Heartbeat, V0JobStatusUpdate, V0MachineSpecsUpdate } from '../facilitator';
import type { Infer, Input } from '../schema';

const MESSAGES = [V0AuthenticationRequest, V0JobStatusUpdate, V0MachineSpecsUpdate, V0Heartbeat] as const;

export type ValidatorToFacilitatorMessage = Infer<(typeof MESSAGES)[number]>;
export type ValidatorToFacilitatorMessageInput = Input<(typeof MESSAGES)[number]>;

/** A validator -> facilitator codec with custom limits. */
export function createValidatorToFacilitatorCodec(
  options?: LinkCodecOptions,
): LinkCodec<ValidatorToFacilitatorMessage, ValidatorToFacilitatorMessageInput> {
  return createLinkCodec({ name: 'validator->facilitator', messages: MESSAGES.map((schema) => ({ schema })) }, options);
}

/** Validator -> facilitator codec with the default limits. */
export const validatorToFacilitatorCodec = createValidatorToFacilitatorCodec();
