import { HordeError } from '../../util/errors';

/** An executor backend could not start an executor (process spawn or container create/start failed). */
export class ExecutorSpawnError extends HordeError {
  constructor(backend: string, message: string, options?: { cause?: unknown }) {
    super('miner.executor_spawn_failed', `${backend}: ${message}`, options);
  }
}

/** The miner's configuration cannot work (bad manifest, bad backend settings). Lists every problem. */
export class MinerConfigError extends HordeError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('miner.invalid_config', `invalid miner configuration: ${problems.join('; ')}`);
    this.problems = problems;
  }
}

/** The receipt store could not open or write its pages or index. */
export class ReceiptStoreError extends HordeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('miner.receipt_store_failed', message, options);
  }
}

/** The receipt crypto worker died, could not start, or refused a request. */
export class ReceiptCryptoError extends HordeError {
  constructor(message: string) {
    super('miner.receipt_crypto_failed', message);
  }
}
