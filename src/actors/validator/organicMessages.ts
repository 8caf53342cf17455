/**
 * The validator → miner messages of one organic job, built from the facilitator's `V2JobRequest` and signed with the
 * validator's hotkey (auth and receipts). The volume goes in the initial request, never in `V0JobRequest` (the
 * miner refuses a job that carries it twice), like upstream's organic driver.
 */
import { pydanticDatetime, signReceiptPayload, signValidatorAuth, type Hotkey } from '../../crypto';
import type {
  ExecutorClass,
  JobAcceptedReceiptPayload,
  JobFinishedReceiptPayload,
  JobStartedReceiptPayload,
  V2JobRequest,
  ValidatorToMinerMessageInput,
} from '../../protocol';
import { acceptedReceiptTtlS, executorTimingOf, jobValueSeconds, type OrganicJobTimings } from './deadlines';

/** Builds the messages the organic job machine sends; each call reads the time it is given (ms since the epoch). */
export interface OrganicJobMessages {
  /** `ValidatorAuthForMiner`, the first message on the connection. */
  auth(nowMs: number): ValidatorToMinerMessageInput;
  /** `V0InitialJobRequest` with the signed JobStarted receipt (issued at `nowMs`). */
  initialRequest(nowMs: number): ValidatorToMinerMessageInput;
  /** `V0JobAcceptedReceiptRequest`, right after the accept. */
  acceptedReceipt(nowMs: number): ValidatorToMinerMessageInput;
  /** `V0JobRequest`, after `V0ExecutorReadyRequest`. */
  jobRequest(): ValidatorToMinerMessageInput;
  /** `V0JobFinishedReceiptRequest`: the job's value as score on success, 0 and no blocks otherwise. */
  finishedReceipt(input: { readonly startedAtMs: number; readonly nowMs: number; readonly success: boolean }): ValidatorToMinerMessageInput;
}

/** Classes whose executors have GPUs: their jobs get `docker_run_options_preset: nvidia_all` (upstream `has_gpu`). */
export const GPU_EXECUTOR_CLASSES: ReadonlySet<ExecutorClass> = new Set<ExecutorClass>([
  'spin_up-4min.gpu-24gb',
  'always_on.gpu-24gb',
  'always_on.llm.a6000',
]);

/** `"%.6f"` of a score, as upstream's `score_str`. */
export function scoreString(score: number): string {
  return score.toFixed(6);
}

/**
 * The message builder of one job.
 *
 * @example
 * ```ts
 * const messages = createOrganicJobMessages({ validator, minerHotkey: route.miner.hotkey, request, timings });
 * link.send(messages.auth(clock.nowMs()));
 * link.send(messages.initialRequest(clock.nowMs()));
 * ```
 */
export function createOrganicJobMessages(options: {
  readonly validator: Hotkey;
  readonly minerHotkey: string;
  readonly request: V2JobRequest;
  readonly timings: OrganicJobTimings;
}): OrganicJobMessages {
  const { validator, minerHotkey, request, timings } = options;
  const base = { job_uuid: request.uuid, miner_hotkey: minerHotkey, validator_hotkey: validator.ss58 };
  const sign = (payload: JobStartedReceiptPayload | JobAcceptedReceiptPayload | JobFinishedReceiptPayload): string =>
    signReceiptPayload(validator, payload);
  return {
    auth: (nowMs) => signValidatorAuth(validator, minerHotkey, { nowMs: () => nowMs }),
    initialRequest: (nowMs) => {
      const payload: JobStartedReceiptPayload = {
        ...base,
        timestamp: pydanticDatetime(nowMs),
        receipt_type: 'JobStartedReceipt',
        executor_class: request.executor_class,
        is_organic: true,
        ttl: Math.ceil(timings.reservationTimeLimitMs / 1_000),
      };
      return {
        message_type: 'V0InitialJobRequest',
        job_uuid: request.uuid,
        executor_class: request.executor_class,
        docker_image: request.docker_image,
        timeout_seconds: null,
        volume: request.volume,
        job_started_receipt_payload: payload,
        job_started_receipt_signature: sign(payload),
        streaming_details: request.streaming_details === null ? null : { public_key: request.streaming_details.public_key, executor_ip: null },
        executor_timing: executorTimingOf(request, timings),
      };
    },
    acceptedReceipt: (nowMs) => {
      const payload: JobAcceptedReceiptPayload = {
        ...base,
        timestamp: pydanticDatetime(nowMs),
        receipt_type: 'JobAcceptedReceipt',
        time_accepted: pydanticDatetime(nowMs),
        ttl: acceptedReceiptTtlS(request.executor_class, request, timings),
      };
      return { message_type: 'V0JobAcceptedReceiptRequest', payload, signature: sign(payload) };
    },
    jobRequest: () => ({
      message_type: 'V0JobRequest',
      job_uuid: request.uuid,
      executor_class: request.executor_class,
      docker_image: request.docker_image,
      raw_script: null,
      docker_run_options_preset: GPU_EXECUTOR_CLASSES.has(request.executor_class) ? 'nvidia_all' : 'none',
      docker_run_cmd: [...request.args],
      env: { ...request.env },
      volume: null,
      output_upload: request.output_upload,
      artifacts_dir: request.artifacts_dir,
    }),
    finishedReceipt: ({ startedAtMs, nowMs, success }) => {
      const payload: JobFinishedReceiptPayload = {
        ...base,
        timestamp: pydanticDatetime(nowMs),
        receipt_type: 'JobFinishedReceipt',
        time_started: pydanticDatetime(startedAtMs),
        time_took_us: Math.max(0, Math.round((nowMs - startedAtMs) * 1_000)),
        score_str: scoreString(success ? jobValueSeconds(request) : 0),
        block_numbers: [],
      };
      return { message_type: 'V0JobFinishedReceiptRequest', payload, signature: sign(payload) };
    },
  };
}
