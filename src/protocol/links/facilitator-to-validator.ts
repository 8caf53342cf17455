/**
 * Facilitator -> validator (`wss://…/ws/v0/`). Three messages:
 * - `Response` has no `message_type`: a frame without one that has a `status` is read as a Response;
 * - `V2JobRequest` (`"type":"job.new"`) and `V0JobCheated` (`"type":"job.cheated"`) are forwarded by upstream's
 *   Channels consumer with Python's `json.dumps`, so we write them in that style (`", "`/`": "` separators, non-ASCII
 *   as `\uXXXX`), while `Response` is pydantic's compact dump.
 * All three refuse unknown fields (`extra="forbid"`), as upstream's validator does.
 */
import { createLinkCodec, type LinkCodec, type LinkCodecOptions } from '../codec';
import { Response, V0JobCheated, V2JobRequest } from '../facilitator';
import type { Infer, Input } from '../schema';

type Schemas = typeof Response | typeof V2JobRequest | typeof V0JobCheated;
export type FacilitatorToValidatorMessage = Infer<Schemas>;
export type FacilitatorToValidatorMessageInput = Input<Schemas>;

/** A facilitator -> validator codec with custom limits. */
export function createFacilitatorToValidatorCodec(
  options?: LinkCodecOptions,
): LinkCodec<FacilitatorToValidatorMessage, FacilitatorToValidatorMessageInput> {
  return createLinkCodec<Schemas>(
    {
      name: 'facilitator->validator',
      messages: [
        { schema: V2JobRequest, style: 'python' },
        { schema: V0JobCheated, style: 'python' },
      ],
      untagged: { message: { schema: Response }, when: (frame) => Object.hasOwn(frame, 'status') },
    },
    options,
  );
}

/** Facilitator -> validator codec with the default limits. */
export const facilitatorToValidatorCodec = createFacilitatorToValidatorCodec();
