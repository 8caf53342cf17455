/**
 * Manifest fetching at subnet scale: N light miners (real `ws` servers on 127.0.0.1, one process, real sr25519 auth)
 * fetched by `startManifestFetcher` through a pool of 32. Run: `npm run bench:manifests` (env HORDE_BENCH_MINERS,
 * default 200). Prints the setup time, then per round: seconds, fetched, and the most sockets the miners saw at
 * once; the last line is `miners: N seconds: X` (the median round).
 *
 * The validator and the miners share one process and the machine's 2 cores, so this is an upper bound of the
 * validator's own cost; each fetch costs one sr25519 signature (validator) and one verification (miner).
 */
import { performance } from 'node:perf_hooks';
import { createMinerAvailability } from '../src/actors/validator/availability';
import { startManifestFetcher } from '../src/actors/validator/manifestFetcher';
import { DEFAULT_MANIFEST_CONCURRENCY } from '../src/actors/validator/routingDefaults';
import { createRoutingMetrics } from '../src/actors/validator/routingMetrics';
import { devHotkey, initCrypto } from '../src/crypto';
import { staticMetagraphProvider } from '../src/metagraph';
import { LightMiners } from '../tests/support/lightMiners';

const ROUNDS = 5;

async function main(): Promise<void> {
  const count = Number(process.env['HORDE_BENCH_MINERS'] ?? 200);
  await initCrypto();
  const validator = devHotkey('horde-bench-validator');
  const setupStart = performance.now();
  const miners = await LightMiners.start(Array.from({ length: count }, (_, i) => ({ manifest: { 'always_on.test': 1 + (i % 4) } })));
  console.log(`setup: ${count} light miners in ${((performance.now() - setupStart) / 1000).toFixed(2)} s`);
  const metagraph = staticMetagraphProvider(miners.metagraph([validator.ss58]));
  const fetcher = startManifestFetcher({
    validator,
    metagraph,
    availability: createMinerAvailability(),
    intervalMs: 3_600_000,
    fetchOnStart: false,
    concurrency: DEFAULT_MANIFEST_CONCURRENCY,
    metrics: createRoutingMetrics(),
  });
  const seconds: number[] = [];
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      miners.maxConcurrent = 0;
      const start = performance.now();
      const report = await fetcher.fetchRound();
      const s = (performance.now() - start) / 1000;
      seconds.push(s);
      console.log(
        `round ${round}: ${s.toFixed(3)} s, fetched ${report.fetched}/${report.miners}, failed ${report.failed}, ` +
          `max sockets at once ${miners.maxConcurrent} (limit ${DEFAULT_MANIFEST_CONCURRENCY})`,
      );
      if (report.fetched !== count) throw new Error(`round ${round} fetched ${report.fetched} of ${count}`);
    }
  } finally {
    await fetcher.stop();
    await metagraph.close();
    await miners.close();
  }
  const median = [...seconds].sort((a, b) => a - b)[Math.floor(seconds.length / 2)]!;
  console.log(`miners: ${count} seconds: ${median.toFixed(3)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
