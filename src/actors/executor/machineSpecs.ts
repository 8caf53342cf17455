import { readFile, statfs } from 'node:fs/promises';
import os from 'node:os';
import { JsonFloat, type JsonValue, type MachineSpecs } from '../../protocol';
import { toError } from '../../util/errors';

/**
 * The hardware specs an executor reports in `V0MachineSpecsRequest`, with upstream's keys and units
 * (`get_machine_specs`): `gpu {count, details}`, `cpu {count, model, clocks}` (MHz), `ram {total, free, available,
 * used}` (kB), `hard_disk {total, used, free}` (KiB), `os`. Upstream shells out to nvidia-smi (in a container),
 * lscpu and lsb_release; here Node's `os` module, /proc/meminfo and statfs give the same figures without a process
 * or a container. A part that cannot be read gets `<part>_scrape_error`, as upstream. GPUs are not probed (no
 * nvidia-smi here): `gpu.count` is 0 with `gpu_scrape_error` saying why.
 *
 * @example
 * ```ts
 * const specs = await collectMachineSpecs({ diskPath: os.tmpdir() });
 * ```
 */
export async function collectMachineSpecs(input: { diskPath?: string } = {}): Promise<MachineSpecs> {
  const data: Record<string, JsonValue> = {};
  data.gpu = { count: 0, details: [] };
  data.gpu_scrape_error = 'GPUs are not probed by this executor';

  try {
    const cpus = os.cpus();
    data.cpu = {
      count: cpus.length,
      model: cpus[0]?.model.trim() ?? '',
      clocks: cpus.map((cpu) => new JsonFloat(cpu.speed)),
    };
  } catch (error) {
    data.cpu = { count: 0, model: '', clocks: [] };
    data.cpu_scrape_error = toError(error).message;
  }

  try {
    data.ram = await readMeminfo();
  } catch (error) {
    const totalKb = Math.floor(os.totalmem() / 1024);
    const freeKb = Math.floor(os.freemem() / 1024);
    data.ram = { total: totalKb, free: freeKb, available: freeKb, used: totalKb - freeKb };
    data.ram_scrape_error = toError(error).message;
  }

  try {
    const fs = await statfs(input.diskPath ?? '.');
    const totalKib = Math.floor((fs.blocks * fs.bsize) / 1024);
    const freeKib = Math.floor((fs.bavail * fs.bsize) / 1024);
    data.hard_disk = { total: totalKib, used: Math.floor(((fs.blocks - fs.bfree) * fs.bsize) / 1024), free: freeKib };
  } catch (error) {
    data.hard_disk = {};
    data.hard_disk_scrape_error = toError(error).message;
  }

  try {
    data.os = await osDescription();
  } catch (error) {
    data.os = '';
    data.os_scrape_error = toError(error).message;
  }
  return { specs: data };
}

async function readMeminfo(): Promise<Record<string, JsonValue>> {
  const text = await readFile('/proc/meminfo', 'utf8');
  const field = (name: string): number => {
    const match = new RegExp(`^${name}:\\s*(\\d+)\\s+kB$`, 'm').exec(text);
    if (match === null) throw new Error(`/proc/meminfo has no ${name}`);
    return Number(match[1]);
  };
  const total = field('MemTotal');
  const free = field('MemFree');
  return { available: field('MemAvailable'), free, total, used: total - free };
}

/** `lsb_release -d`'s description, from /etc/os-release (where lsb_release reads it). */
async function osDescription(): Promise<string> {
  const text = await readFile('/etc/os-release', 'utf8');
  const match = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text);
  return match?.[1] ?? `${os.type()} ${os.release()}`;
}
