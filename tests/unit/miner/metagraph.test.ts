import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataPointType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  createFileMetagraphProvider,
  createMetagraphMetrics,
  MetagraphLoadError,
  parseMetagraph,
  staticMetagraphProvider,
  type FileMetagraphProvider,
  type MetagraphSnapshot,
} from '../../../src/metagraph';

const A = '5GbVPzNr7ANGAWbDPL9KxB6DVZ26TDCKz2vuCQ1MSMaBagvq';
const B = '5FnaLnMQh6CD11QWFgekhqN7muSkfCnWvyLLx6XgXN67UvZW';

describe('metagraph file format', () => {
  it('reads validators (active by default) and miners', () => {
    const r = parseMetagraph({
      block: 12,
      validators: [{ hotkey: A }, { hotkey: B, active: false, stake: 30_000, uid: 3 }],
      miners: [{ hotkey: B, address: '127.0.0.1', port: 8000 }],
      somethingNewer: true,
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.block).toBe(12);
    expect(r.value.validators.get(A)).toEqual({ hotkey: A, active: true, stake: 0, uid: undefined });
    expect(r.value.validators.get(B)).toEqual({ hotkey: B, active: false, stake: 30_000, uid: 3 });
    expect(r.value.miners.get(B)).toMatchObject({ address: '127.0.0.1', port: 8000 });
  });

  it.each([
    [[], ['the metagraph must be a JSON object']],
    [{ validators: {} }, ['validators must be a list']],
    [{ validators: [{ hotkey: 'not-ss58' }] }, ['validators[0].hotkey must be an SS58 address']],
    [{ validators: [{ hotkey: A, active: 'yes' }] }, ['validators[0].active must be true or false']],
    [{ validators: [{ hotkey: A, stake: -1 }] }, ['validators[0].stake must be a number >= 0']],
    [{ validators: [{ hotkey: A }, { hotkey: A }] }, [`validators[1].hotkey ${A} is listed twice`]],
    [{ miners: [{ hotkey: A, address: '', port: 70_000 }] }, ['miners[0].address must be a non-empty string', 'miners[0].port must be an integer in 1..65535']],
    [{ block: -1 }, ['block must be a non-negative integer']],
  ])('refuses %j with every problem listed', (json, problems) => {
    expect(parseMetagraph(json)).toEqual({ ok: false, error: problems });
  });
});

describe('static metagraph provider', () => {
  it('publishes a new snapshot when set, and refuses an invalid one', async () => {
    const provider = staticMetagraphProvider({ validators: [{ hotkey: A }] });
    const seen: number[] = [];
    provider.subscribe((s) => seen.push(s.version));
    expect(provider.validator(A)?.active).toBe(true);
    expect(provider.set({ validators: [{ hotkey: A, active: false }] }).ok).toBe(true);
    expect(provider.validator(A)?.active).toBe(false);
    expect(provider.set({ validators: 3 }).ok).toBe(false);
    expect(seen).toEqual([1]);
    await provider.close();
  });
});

class Reader extends MetricReader {
  protected onShutdown = (): Promise<void> => Promise.resolve();
  protected onForceFlush = (): Promise<void> => Promise.resolve();
}

describe('file metagraph provider', () => {
  let dir: string;
  let provider: FileMetagraphProvider | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'horde-metagraph-'));
  });
  afterEach(async () => {
    await provider?.close();
    provider = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const write = (name: string, json: unknown) => writeFileSync(join(dir, name), JSON.stringify(json));

  function nextSnapshot(p: FileMetagraphProvider): Promise<MetagraphSnapshot> {
    return new Promise((resolve) => {
      const off = p.subscribe((s) => {
        off();
        resolve(s);
      });
    });
  }

  it('refuses to start on a missing or invalid file', async () => {
    await expect(createFileMetagraphProvider({ path: join(dir, 'missing.json') })).rejects.toBeInstanceOf(MetagraphLoadError);
    write('bad.json', { validators: [{ hotkey: 'x' }] });
    await expect(createFileMetagraphProvider({ path: join(dir, 'bad.json') })).rejects.toThrow('validators[0].hotkey');
  });

  it('reloads when the file is rewritten, and when it is replaced by a rename', async () => {
    write('metagraph.json', { validators: [{ hotkey: A }] });
    provider = await createFileMetagraphProvider({ path: join(dir, 'metagraph.json'), pollIntervalMs: 50, debounceMs: 5 });
    expect(provider.validator(B)).toBeUndefined();
    let next = nextSnapshot(provider);
    write('metagraph.json', { validators: [{ hotkey: A }, { hotkey: B }] });
    expect((await next).validators.has(B)).toBe(true);
    next = nextSnapshot(provider);
    write('metagraph.tmp', { validators: [{ hotkey: B, active: false }] });
    renameSync(join(dir, 'metagraph.tmp'), join(dir, 'metagraph.json'));
    const snapshot = await next;
    expect(snapshot.validators.has(A)).toBe(false);
    expect(provider.validator(B)?.active).toBe(false);
  });

  it('keeps the last good snapshot when a reload finds an invalid file, and counts it', async () => {
    const reader = new Reader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    write('metagraph.json', { validators: [{ hotkey: A }] });
    provider = await createFileMetagraphProvider({
      path: join(dir, 'metagraph.json'),
      pollIntervalMs: 60_000,
      metrics: createMetagraphMetrics(meterProvider.getMeter('test')),
    });
    writeFileSync(join(dir, 'metagraph.json'), '{ not json');
    expect(await provider.reload()).toBe('invalid');
    expect(provider.validator(A)?.active).toBe(true);
    write('metagraph.json', { validators: [{ hotkey: A }] });
    expect(await provider.reload()).toBe('unchanged');
    const { resourceMetrics } = await reader.collect();
    const metrics = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
    const reloads = metrics.find((m) => m.descriptor.name === 'horde_metagraph_reloads_total')!;
    expect(reloads.dataPoints.map((p) => [p.attributes['outcome'], p.value])).toEqual([
      ['invalid', 1],
      ['unchanged', 1],
    ]);
    const neurons = metrics.find((m) => m.descriptor.name === 'horde_metagraph_neurons')!;
    expect(neurons.dataPointType).toBe(DataPointType.GAUGE);
    expect(neurons.dataPoints.find((p) => p.attributes['kind'] === 'active_validator')?.value).toBe(1);
    await provider.close();
    provider = undefined;
    await meterProvider.shutdown();
  });
});
