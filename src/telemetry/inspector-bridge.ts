import WebSocket, { WebSocketServer } from 'ws';
import { startHttpServer, type HttpServerHandle } from '../http/router';
import {
  DEFAULT_INSPECTOR_BRIDGE_HOST,
  DEFAULT_INSPECTOR_BRIDGE_PORT,
  DEFAULT_INSPECTOR_BRIDGE_REPLAY_EVENTS,
} from './defaults';

/*
 * A local inspector bridge, wire-compatible with `@statelyai/inspect/server`'s `createInspectorServer`: every text
 * message a client sends is relayed to every other client, and a newly connected client first gets the last N
 * messages. The page at `/` embeds https://stately.ai/inspect (that part needs internet) and feeds it from the
 * bridge. Written here rather than reused because `createInspectorServer` listens on every interface (it would
 * publish every actor's context to the network), cannot take port 0, and its stop() neither waits nor closes
 * connected clients.
 */

export interface InspectorBridgeOptions {
  port?: number;
  host?: string;
  replayEvents?: number;
  /** Inspector UI the page embeds. */
  inspectorUrl?: string;
}

export interface InspectorBridge {
  /** Where role processes send: `ws://127.0.0.1:PORT` (use as `HORDE_INSPECT`). */
  readonly url: string;
  /** Page to open in a browser (needs internet for the Stately UI). */
  readonly pageUrl: string;
  readonly port: number;
  /** Closes every client and the server. */
  close(): Promise<void>;
}

function bridgePage(inspectorUrl: string): string {
  // The page connects back to whatever host served it, so a forwarded port works too.
  return `<!DOCTYPE html>
<html><head><title>Horde inspector</title>
<style>*{margin:0;padding:0}html,body{height:100%}iframe{width:100%;height:100%;border:none}</style></head>
<body><iframe id="inspector" src="${inspectorUrl}"></iframe>
<script>
const iframe = document.getElementById('inspector');
const buffer = [];
let connected = false;
window.addEventListener('message', (e) => {
  if (e.data && e.data.type === '@statelyai.connected') {
    connected = true;
    buffer.forEach((event) => iframe.contentWindow.postMessage(event, '*'));
    buffer.length = 0;
  }
});
const ws = new WebSocket('ws://' + location.host);
ws.onmessage = (event) => {
  const data = JSON.parse(event.data);
  if (connected) iframe.contentWindow.postMessage(data, '*'); else buffer.push(data);
};
</script></body></html>`;
}

/**
 * Starts the local inspector bridge on loopback. Role processes started with `HORDE_INSPECT=<url>` send to it;
 * a browser opening `pageUrl` draws them (the drawing needs stately.ai; the relay itself is offline).
 *
 * @example
 * ```ts
 * const bridge = await startInspectorBridge({ port: 8080 });
 * console.log(`HORDE_INSPECT=${bridge.url}  open ${bridge.pageUrl}`);
 * process.on('SIGINT', () => void bridge.close());
 * ```
 */
export async function startInspectorBridge(options: InspectorBridgeOptions = {}): Promise<InspectorBridge> {
  const replayEvents = options.replayEvents ?? DEFAULT_INSPECTOR_BRIDGE_REPLAY_EVENTS;
  const page = bridgePage(options.inspectorUrl ?? 'https://stately.ai/inspect');
  const http: HttpServerHandle = await startHttpServer({
    host: options.host ?? DEFAULT_INSPECTOR_BRIDGE_HOST,
    port: options.port ?? DEFAULT_INSPECTOR_BRIDGE_PORT,
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(page);
    },
  });
  const wss = new WebSocketServer({ server: http.server });
  // Ring buffer of the last `replayEvents` messages (bounded: a long session does not grow the bridge).
  const replay: string[] = [];
  wss.on('connection', (client) => {
    for (const message of replay) client.send(message);
    client.on('error', () => undefined);
    client.on('message', (data, isBinary) => {
      if (isBinary) return;
      const message = Buffer.isBuffer(data)
        ? data.toString('utf8')
        : Array.isArray(data)
          ? Buffer.concat(data).toString('utf8')
          : Buffer.from(data).toString('utf8');
      replay.push(message);
      if (replay.length > replayEvents) replay.shift();
      for (const other of wss.clients) if (other !== client && other.readyState === WebSocket.OPEN) other.send(message);
    });
  });
  const host = http.url.slice('http://'.length);
  let closing: Promise<void> | undefined;
  return {
    url: `ws://${host}`,
    pageUrl: http.url,
    port: http.port,
    close() {
      closing ??= (async () => {
        for (const client of wss.clients) client.terminate();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        await http.close();
      })();
      return closing;
    },
  };
}
