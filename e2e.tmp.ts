import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { devHotkey, initCrypto } from './src/crypto';
import { ScriptedValidator } from './tests/support/scriptedValidator';
(async () => {
  await initCrypto();
  const miner = devHotkey('miner'); const v = devHotkey('validator');
  writeFileSync('/tmp/e2e/metagraph.json', JSON.stringify({ validators: [{ hotkey: v.ss58 }] }));
  const child = spawn(process.execPath, ['bin/horde.js', 'miner', '--dev-key', 'miner', '--port', '0', '--host', '127.0.0.1',
    '--metagraph-file', '/tmp/e2e/metagraph.json', '--data-dir', '/tmp/e2e/data-' + Date.now(), '--log-level', 'debug', '--horde-id', 'e2e'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr.on('data', (d) => process.stderr.write(d));
  const url: string = await new Promise((resolve) => child.stdout.on('data', (d: Buffer) => { const m = /listening on (\S+)/.exec(d.toString()); if (m) resolve(m[1]!); }));
  console.log('miner at', url);
  const t0 = Date.now();
  const { validator } = await ScriptedValidator.authenticated({ minerUrl: url.replace('http', 'ws'), validator: v, minerHotkey: miner.ss58 });
  const { jobUuid } = validator.sendInitialJob();
  console.log('>', (await validator.next()).message_type, Date.now() - t0);
  console.log('>', JSON.stringify(await validator.next(20000)), Date.now() - t0);
  validator.sendJobRequest(jobUuid, ['sh', '-c', 'echo hello; sleep 1']);
  for (;;) { const m = await validator.next(30000); console.log('>', JSON.stringify(m).slice(0, 200), Date.now() - t0); if (/Finished|Failed/.test(String(m.message_type))) break; }
  await validator.close();
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', (c) => { console.log('miner exit', c); r(null); }));
})();
