/**
 * Decode + encode throughput of the protocol codecs. Run: `npx tsx bench/protocol.ts`.
 * Figures are process CPU time per operation (best of 5 rounds), so that other load on a shared machine inflates
 * them less than wall-clock time would; ops/s is 1 / that time, i.e. what one core sustains.
 * Prints ops/s and µs/op for a ~200-byte V0JobStatusUpdate (the transport moves ~35k msgs/s), for a larger
 * V0InitialJobRequest, and JSON.parse/JSON.stringify on the same text as a floor.
 */
import { minerToValidatorCodec, validatorToFacilitatorCodec, validatorToMinerCodec, type LinkCodec } from '../src/protocol';

const STATUS_UPDATE =
  '{"message_type":"V0JobStatusUpdate","uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","status":"failed","metadata":{"miner_response":null,"job_rejection_details":null,"job_failure_details":{"reason":"timeout","stage":"volume_download","message":"Download time exceeded","context":null,"docker_process_exit_status":null,"docker_process_stdout":null,"docker_process_stderr":null},"horde_failure_details":null,"streaming_details":null}}';
const SMALL = '{"message_type":"V0AcceptJobRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f"}';
const INITIAL =
  '{"message_type":"V0InitialJobRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","executor_class":"spin_up-4min.gpu-24gb","docker_image":"python:3.11-slim","timeout_seconds":300,"volume":{"volume_type":"multi_volume","volumes":[{"volume_type":"inline","contents":"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==","relative_path":"in"},{"volume_type":"zip_url","contents":"https://example.com/data.zip","relative_path":null}]},"job_started_receipt_payload":{"job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","miner_hotkey":"5Hminerhotkeyxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","validator_hotkey":"5Fvalidatorhotkeyxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","timestamp":"2025-09-01T12:00:00Z","receipt_type":"JobStartedReceipt","executor_class":"spin_up-4min.gpu-24gb","is_organic":true,"ttl":7},"job_started_receipt_signature":"0xcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd","streaming_details":null,"executor_timing":{"allowed_leeway":5,"download_time_limit":30,"execution_time_limit":120,"upload_time_limit":30,"streaming_start_time_limit":5}}';

function measure(label: string, bytes: number, fn: () => void): void {
  for (let i = 0; i < 20_000; i++) fn(); // warm up the JIT
  const rounds = 5;
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const n = 100_000;
    const t0 = process.cpuUsage();
    for (let i = 0; i < n; i++) fn();
    const used = process.cpuUsage(t0);
    const ns = ((used.user + used.system) * 1000) / n;
    best = Math.min(best, ns);
  }
  const ops = 1e9 / best;
  console.log(`${label.padEnd(48)} ${bytes.toString().padStart(5)} B  ${(best / 1000).toFixed(2).padStart(6)} µs/op  ${Math.round(ops).toLocaleString('en-US').padStart(11)} ops/s`);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function codecCase(label: string, codec: LinkCodec<any, any>, text: string): void {
  const r = codec.decode(text);
  if (!r.ok) throw new Error(`${label}: ${r.error.message}`);
  if (codec.encode(r.value) !== text) throw new Error(`${label}: re-encode differs`);
  const value: unknown = r.value;
  measure(`${label} decode`, text.length, () => {
    codec.decode(text);
  });
  measure(`${label} encode`, text.length, () => {
    codec.encode(value);
  });
  measure(`${label} decode+encode`, text.length, () => {
    const d = codec.decode(text);
    if (d.ok) codec.encode(d.value);
  });
}

// Realistic traffic mixes message types, which makes the decoder's call sites megamorphic: measure that too.
const MIX: Array<[LinkCodec<any, any>, string]> = [ // eslint-disable-line @typescript-eslint/no-explicit-any
  [validatorToFacilitatorCodec, STATUS_UPDATE],
  [minerToValidatorCodec, SMALL],
  [validatorToMinerCodec, INITIAL],
  [minerToValidatorCodec, '{"message_type":"V0ExecutorReadyRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","executor_token":null}'],
  [minerToValidatorCodec, '{"message_type":"V0JobFinishedRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","docker_process_stdout":"hello\\nwörld ✓\\n","docker_process_stderr":"","artifacts":{"/artifacts/x":"aGk="},"upload_results":null}'],
  [minerToValidatorCodec, '{"message_type":"V0HordeFailedRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","reported_by":"miner","message":"Executor disconnected while job was running (code: 1006)","reason":"executor_disconnected","context":{"exception_type":"ConnectionClosed"}}'],
  [validatorToFacilitatorCodec, '{"message_type":"V0Heartbeat"}'],
  [validatorToMinerCodec, '{"message_type":"V0MainHotkeyMessage","main_hotkey":null}'],
];

function mixCase(): void {
  const decoded = MIX.map(([codec, text]) => {
    const r = codec.decode(text);
    if (!r.ok || codec.encode(r.value) !== text) throw new Error(`mix: ${text}`);
    return r.value as unknown;
  });
  const avg = Math.round(MIX.reduce((a, [, t]) => a + t.length, 0) / MIX.length);
  let i = 0;
  measure(`mix of ${MIX.length} message types decode+encode (avg)`, avg, () => {
    const [codec, text] = MIX[i++ % MIX.length]!;
    const d = codec.decode(text);
    if (d.ok) codec.encode(d.value);
  });
  let j = 0;
  measure('floor: JSON.parse+JSON.stringify of the mix (avg)', avg, () => {
    const k = j++ % MIX.length;
    JSON.parse(MIX[k]![1]);
    sink = JSON.stringify(decoded[k], (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  });
}

let sink: unknown;
console.log(`node ${process.version}`);
codecCase('V0JobStatusUpdate (validator->facilitator)', validatorToFacilitatorCodec, STATUS_UPDATE);
codecCase('V0AcceptJobRequest (miner->validator)', minerToValidatorCodec, SMALL);
codecCase('V0InitialJobRequest (validator->miner)', validatorToMinerCodec, INITIAL);
mixCase();
measure('floor: JSON.parse V0JobStatusUpdate', STATUS_UPDATE.length, () => {
  sink = JSON.parse(STATUS_UPDATE);
});
const parsed: unknown = JSON.parse(STATUS_UPDATE);
measure('floor: JSON.stringify V0JobStatusUpdate', STATUS_UPDATE.length, () => {
  sink = JSON.stringify(parsed);
});
const big = `{"message_type":"GenericError","details":"${'A'.repeat(10 * 1024 * 1024)}"}`;
const t0 = process.cpuUsage();
const rb = minerToValidatorCodec.decode(big);
const used = process.cpuUsage(t0);
const ms = (used.user + used.system) / 1000;
console.log(`10 MiB GenericError decode: ${ms.toFixed(1)} ms (ok=${rb.ok})`);
void sink;
