/**
 * The validator role: `startValidator` wires the store, the facilitator link, the manifest fetcher, the router, the
 * dispatcher and the organic job actors. The parts are exported for tests, tools and other roles' harnesses.
 *
 * @example
 * ```ts
 * import { startValidator } from './actors/validator';
 * const validator = await startValidator({ hotkey, facilitatorUrl, metagraph, dataDir, port: 0 });
 * await validator.stop();
 * ```
 */
export * from './types';
export { startValidator, type ValidatorHandle, type ValidatorOptions, type ValidatorState } from './validator';
export {
  createJobDispatcher,
  createOutboxSink,
  supervisedJobLauncher,
  verifyCheatedReport,
  plainStatus,
  rejectedByValidator,
  hordeFailedByValidator,
  RESTARTED_MID_JOB_MESSAGE,
  type DispatcherStore,
  type JobDispatcher,
  type JobDispatcherDeps,
  type JobLauncher,
  type JobVerifier,
  type OrganicJobInput,
  type OutboxSink,
  type OutboxWriter,
  type RoutedJob,
} from './dispatcher';
export { validatorSettings, parseTrustedMiner, type ValidatorConfig } from './settings';
export { createValidatorMetrics, type ValidatorMetrics } from './validatorMetrics';
export * from './validatorDefaults';
export { openValidatorStore, type ValidatorStore } from './store';
export { verifyJobRequest } from './verifyJob';
export { startFacilitatorLink, type FacilitatorLinkHandle } from './facilitatorLink';
export { organicJobLogic, type OrganicJobDeps } from './organicJob';
export { createJobRouter } from './router';
export { startManifestFetcher, type ManifestFetcherHandle } from './manifestFetcher';
export { createReliabilityLedger, createBusyTracker } from './ledger';
export { createMinerAvailability } from './availability';
