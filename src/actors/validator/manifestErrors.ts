import { HordeError } from '../../util/errors';

/** The dial to a miner failed before a manifest came: refused, unreachable, DNS, TLS, a non-101 HTTP answer. */
export class ManifestConnectError extends HordeError {
  constructor(url: string, cause: unknown) {
    super('manifest.connect_failed', `could not connect to ${url}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** The miner closed the connection before sending its manifest (often: it does not know this validator). */
export class ManifestClosedError extends HordeError {
  readonly closeCode: number;

  constructor(url: string, closeCode: number, reason: string) {
    super('manifest.closed', `${url} closed (${closeCode}${reason ? `: ${reason}` : ''}) before sending a manifest`);
    this.closeCode = closeCode;
  }
}

/** The miner answered our auth with `GenericError` (upstream: "Unknown validator", "Inactive validator", a bad
 * signature or a stale timestamp). Not retried within a round: the same auth would be refused again. */
export class ManifestRefusedError extends HordeError {
  constructor(url: string, details: string | null | undefined) {
    super('manifest.refused', `${url} refused the validator: ${details ?? '(no details)'}`);
  }
}

/** The miner sent too many frames that were not a manifest (or a frame we cannot read) before its manifest. */
export class ManifestProtocolError extends HordeError {
  constructor(url: string, detail: string) {
    super('manifest.protocol', `${url}: ${detail}`);
  }
}

/** `fetchRound()` was called on (or was waiting in) a fetcher that has been stopped. */
export class ManifestFetcherStoppedError extends HordeError {
  constructor() {
    super('manifest.fetcher_stopped', 'the manifest fetcher is stopped');
  }
}

/** The round the caller waited for failed as a whole (not one miner: an input the task group refused, a bug). */
export class ManifestRoundFailedError extends HordeError {
  constructor(round: number, cause: unknown) {
    super('manifest.round_failed', `manifest round ${round} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}
