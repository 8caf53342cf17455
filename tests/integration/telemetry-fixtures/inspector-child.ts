/*
 * Run as its own process by telemetry-inspector.test.ts: inspects a short-lived actor through a bridge URL where
 * nothing listens, then either stops the inspector (`stop`) or forgets to (`forget`). Either way the process must
 * exit by itself; with `@statelyai/inspect`'s createWebSocketInspector it would retry every 5 s forever.
 */
import { createActor, createMachine } from 'xstate';
import { createBridgeInspector } from '../../../src/telemetry/inspector';

async function main(): Promise<void> {
  const [url, mode] = process.argv.slice(2);
  if (url === undefined || (mode !== 'stop' && mode !== 'forget')) throw new Error('usage: URL stop|forget');
  const inspector = createBridgeInspector({ url, reconnect: { baseMs: 50, capMs: 200, multiplier: 2 } });
  const actor = createActor(createMachine({ id: 'oneShot', initial: 'a', states: { a: {} } }), {
    inspect: inspector.inspect,
  }).start();
  actor.stop();
  // Wait for real failures so that a retry is pending when we stop (or forget).
  while (inspector.failedAttempts() < 2) await new Promise((r) => setTimeout(r, 20));
  if (mode === 'stop') await inspector.stop();
  process.stdout.write(`done ${inspector.connectionState()} ${inspector.failedAttempts()}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exitCode = 1;
});
