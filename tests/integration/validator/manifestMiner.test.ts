/**
 * The manifest fetcher against a real `horde miner` process: it fetches the miner's real manifest (auth verified by
 * the miner), and a validator the miner does not know is refused without retries.
 */
import { join } from 'node:path';
import { createMinerAvailability } from '../../../src/actors/validator/availability';
import { startManifestFetcher, type ManifestFetcherHandle } from '../../../src/actors/validator/manifestFetcher';
import { createRoutingMetrics } from '../../../src/actors/validator/routingMetrics';
import { devHotkey, initCrypto, type Hotkey } from '../../../src/crypto';
import { staticMetagraphProvider, type StaticMetagraphProvider } from '../../../src/metagraph';
import { metagraphFile, removeDir, startMinerProcess, type MinerProcess } from '../miner/minerProcess';

let validator: Hotkey;
let stranger: Hotkey;
let files: { dir: string; path: string };
let miner: MinerProcess;
let metagraph: StaticMetagraphProvider;
const fetchers: ManifestFetcherHandle[] = [];

beforeAll(async () => {
  await initCrypto();
  validator = devHotkey('horde-manifest-miner-it-validator');
  stranger = devHotkey('horde-manifest-miner-it-stranger');
  files = metagraphFile([{ hotkey: validator.ss58 }]);
  miner = await startMinerProcess({
    devKey: 'horde-manifest-miner-it-miner',
    metagraphPath: files.path,
    dataDir: join(files.dir, 'data'),
    hordeId: `it-manifest-${process.pid}`,
    args: ['--manifest', '{"always_on.test": 2}'],
  });
  const port = Number(new URL(miner.httpUrl).port);
  metagraph = staticMetagraphProvider({
    validators: [{ hotkey: validator.ss58 }],
    miners: [{ hotkey: devHotkey('horde-manifest-miner-it-miner').ss58, address: '127.0.0.1', port }],
  });
}, 60_000);

afterAll(async () => {
  for (const fetcher of fetchers) await fetcher.stop();
  await metagraph.close();
  expect(await miner.stop('SIGTERM')).toBe(0);
  removeDir(files.dir);
});

function fetcherFor(hotkey: Hotkey): ManifestFetcherHandle {
  const fetcher = startManifestFetcher({
    validator: hotkey,
    metagraph,
    availability: createMinerAvailability(),
    intervalMs: 3_600_000,
    fetchOnStart: false,
    timeoutMs: 10_000,
    metrics: createRoutingMetrics(),
  });
  fetchers.push(fetcher);
  return fetcher;
}

describe('manifest fetcher against a real horde miner', () => {
  it('fetches the miner’s real manifest', async () => {
    const fetcher = fetcherFor(validator);
    const minerHotkey = devHotkey('horde-manifest-miner-it-miner').ss58;
    const report = await fetcher.fetchRound();
    expect(report).toMatchObject({ miners: 1, fetched: 1, failed: 0 });
    expect(fetcher.get(minerHotkey)?.manifest).toEqual({ 'always_on.test': 2 });
    expect(fetcher.openSockets).toBe(0);
  });

  it('is refused, once, when the miner does not know the validator', async () => {
    const fetcher = fetcherFor(stranger);
    const report = await fetcher.fetchRound();
    expect(report.fetched).toBe(0);
    expect(report.results[0]).toMatchObject({ outcome: 'failed' });
    expect(report.results[0]!.reason).toBe('manifest.refused'); // GenericError("Unknown validator"), not retried
  });
});
