/**
 * Frames exactly as upstream ComputeHorde writes them (HEAD 32fa9d14). Each was produced by upstream's own model
 * classes (`protocol_messages.py`, `fv_protocol/*`, `receipts/schemas.py`, `compute_horde_core`) under pydantic
 * 2.13, with `model_dump_json()` — except `V2JobRequest` and `V0JobCheated`, which upstream's facilitator forwards with
 * `json.dumps(model.model_dump())` (`exclude_none=True` for V0JobCheated) — and pasted here as literals.
 */
export type LinkName =
  | 'validatorToMiner'
  | 'minerToValidator'
  | 'minerToExecutor'
  | 'executorToMiner'
  | 'facilitatorToValidator'
  | 'validatorToFacilitator';

export interface UpstreamFrame {
  readonly name: string;
  readonly link: LinkName;
  readonly text: string;
}

export const UPSTREAM_FRAMES: readonly UpstreamFrame[] = [
  {
    name: 'ValidatorAuthForMiner',
    link: 'validatorToMiner',
    text: '{"message_type":"ValidatorAuthForMiner","validator_hotkey":"5Fvalidatorhotkeyxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","miner_hotkey":"5Hminerhotkeyxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","timestamp":1756728000,"signature":"0xabababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababab"}',
  },
  {
    name: 'V0InitialJobRequest.full',
    link: 'validatorToMiner',
    text: '{"message_type":"V0InitialJobRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","executor_class":"spin_up-4min.gpu-24gb","docker_image":"python:3.11-slim","timeout_seconds":300,"volume":{"volume_type":"multi_volume","volumes":[{"volume_type":"inline","contents":"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==","relative_path":"in"},{"volume_type":"zip_url","contents":"https://example.com/data.zip","relative_path":null},{"volume_type":"single_file","url":"https://example.com/f.bin","relative_path":"models/f.bin"},{"volume_type":"huggingface_volume","repo_id":"org/model","repo_type":null,"revision":"main","relative_path":null,"allow_patterns":["*.json","*.safetensors"],"token":null}]},"job_started_receipt_payload":{"job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","miner_hotkey":"5Hminerhotkeyxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","validator_hotkey":"5Fvalidatorhotkeyxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","timestamp":"2025-09-01T12:00:00Z","receipt_type":"JobStartedReceipt","executor_class":"spin_up-4min.gpu-24gb","is_organic":true,"ttl":7},"job_started_receipt_signature":"0xcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd","streaming_details":{"public_key":"-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n","executor_ip":null},"executor_timing":{"allowed_leeway":5,"download_time_limit":30,"execution_time_limit":120,"upload_time_limit":30,"streaming_start_time_limit":5}}',
  },
  {
    name: 'V0InitialJobRequest.minimal',
    link: 'validatorToMiner',
    text: '{"message_type":"V0InitialJobRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","executor_class":"always_on.llm.a6000","docker_image":null,"timeout_seconds":null,"volume":null,"job_started_receipt_payload":{"job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","miner_hotkey":"5Hminerhotkeyxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","validator_hotkey":"5Fvalidatorhotkeyxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","timestamp":"2025-09-01T12:00:00Z","receipt_type":"JobStartedReceipt","executor_class":"always_on.llm.a6000","is_organic":false,"ttl":7},"job_started_receipt_signature":"0x00","streaming_details":null,"executor_timing":null}',
  },
  {
    name: 'V0JobRequest',
    link: 'validatorToMiner',
    text: '{"message_type":"V0JobRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","executor_class":"always_on.gpu-24gb","docker_image":"alpine:latest","raw_script":null,"docker_run_options_preset":"nvidia_all","docker_run_cmd":["sh","-c","echo héllo ✓ > /output/x"],"env":{"FOO":"bar","LANG":"C.UTF-8"},"volume":null,"output_upload":{"output_upload_type":"multi_upload","uploads":[{"output_upload_type":"single_file_post","url":"https://s3.example.com/up","form_fields":{"key":"a/b","policy":"xyz"},"relative_path":"x","signed_headers":{"x-amz-acl":"private"}},{"output_upload_type":"single_file_put","url":"https://s3.example.com/put","relative_path":"y","signed_headers":null}],"system_output":{"output_upload_type":"zip_and_http_put","url":"https://s3.example.com/sys.zip"}},"artifacts_dir":"/artifacts"}',
  },
  {
    name: 'V0JobRequest.minimal',
    link: 'validatorToMiner',
    text: '{"message_type":"V0JobRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","executor_class":"always_on.test","docker_image":"img","raw_script":null,"docker_run_options_preset":"none","docker_run_cmd":[],"env":{},"volume":null,"output_upload":null,"artifacts_dir":null}',
  },
  {
    name: 'V0JobAcceptedReceiptRequest',
    link: 'validatorToMiner',
    text: '{"message_type":"V0JobAcceptedReceiptRequest","payload":{"job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","miner_hotkey":"5Hminerhotkeyxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","validator_hotkey":"5Fvalidatorhotkeyxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","timestamp":"2025-09-01T12:00:07.123456Z","receipt_type":"JobAcceptedReceipt","time_accepted":"2025-09-01T12:00:07.123456Z","ttl":300},"signature":"0xefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefef"}',
  },
  {
    name: 'V0JobFinishedReceiptRequest',
    link: 'validatorToMiner',
    text: '{"message_type":"V0JobFinishedReceiptRequest","payload":{"job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","miner_hotkey":"5Hminerhotkeyxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","validator_hotkey":"5Fvalidatorhotkeyxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","timestamp":"2025-09-01T12:00:07.123456Z","receipt_type":"JobFinishedReceipt","time_started":"2025-09-01T12:00:00Z","time_took_us":12345678,"score_str":"0.000000","block_numbers":[5000001,5000002]},"signature":"0x12121212121212121212121212121212121212121212121212121212121212121212121212121212121212121212121212121212121212121212121212121212"}',
  },
  {
    name: 'V0MainHotkeyMessage.request',
    link: 'validatorToMiner',
    text: '{"message_type":"V0MainHotkeyMessage","main_hotkey":null}',
  },
  {
    name: 'GenericError.v2m',
    link: 'validatorToMiner',
    text: '{"message_type":"GenericError","details":"Unknown message"}',
  },
  {
    name: 'V0ExecutorManifestRequest',
    link: 'minerToValidator',
    text: '{"message_type":"V0ExecutorManifestRequest","manifest":{"spin_up-4min.gpu-24gb":2,"always_on.llm.a6000":1}}',
  },
  {
    name: 'V0AcceptJobRequest',
    link: 'minerToValidator',
    text: '{"message_type":"V0AcceptJobRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f"}',
  },
  {
    name: 'V0DeclineJobRequest.busy',
    link: 'minerToValidator',
    text: '{"message_type":"V0DeclineJobRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","message":"","reason":"busy","receipts":[{"payload":{"job_uuid":"a1b2c3d4-0000-4000-8000-123456789abc","miner_hotkey":"5Hminerhotkeyxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","validator_hotkey":"5Fvalidatorhotkeyxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","timestamp":"2025-09-01T12:00:00Z","receipt_type":"JobStartedReceipt","executor_class":"spin_up-4min.gpu-24gb","is_organic":true,"ttl":7},"validator_signature":"0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","miner_signature":"0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}],"context":null}',
  },
  {
    name: 'V0DeclineJobRequest.blacklisted',
    link: 'minerToValidator',
    text: '{"message_type":"V0DeclineJobRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","message":"Validator is blacklisted","reason":"validator_blacklisted","receipts":[],"context":{"until":"2025-09-01T16:00:00Z","count":3,"ratio":0.25,"nested":{"ok":true,"xs":[1,2.0,null]}}}',
  },
  {
    name: 'V0ExecutorReadyRequest',
    link: 'minerToValidator',
    text: '{"message_type":"V0ExecutorReadyRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","executor_token":null}',
  },
  {
    name: 'V0VolumesReadyRequest',
    link: 'minerToValidator',
    text: '{"message_type":"V0VolumesReadyRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f"}',
  },
  {
    name: 'V0StreamingJobReadyRequest',
    link: 'minerToValidator',
    text: '{"message_type":"V0StreamingJobReadyRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","executor_token":null,"public_key":"-----BEGIN CERTIFICATE-----\\nMIIC\\n-----END CERTIFICATE-----\\n","ip":"10.0.0.5","port":6006,"miner_signature":"0x34343434343434343434343434343434343434343434343434343434343434343434343434343434343434343434343434343434343434343434343434343434"}',
  },
  {
    name: 'V0ExecutionDoneRequest',
    link: 'minerToValidator',
    text: '{"message_type":"V0ExecutionDoneRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f"}',
  },
  {
    name: 'V0MachineSpecsRequest',
    link: 'minerToValidator',
    text: '{"message_type":"V0MachineSpecsRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","specs":{"specs":{"gpu":{"count":1,"details":[{"name":"NVIDIA A6000","driver":"550.54","capacity":49140,"cuda":"12.4","power_limit":300.0,"graphics_speed":1410,"utilization":0}]},"cpu":{"count":32,"model":"AMD EPYC","clocks":[3000.0,2999.5]},"ram":{"total":263842344,"free":1.5e-7,"big":12345678901234567890},"hard_disk":{"total":1e+16},"os":"Ubuntu 22.04 – LTS"}}}',
  },
  {
    name: 'V0JobFinishedRequest',
    link: 'minerToValidator',
    text: '{"message_type":"V0JobFinishedRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","docker_process_stdout":"hello\\nwörld ✓\\n","docker_process_stderr":"","artifacts":{"/artifacts/x":"aGk="},"upload_results":{"x":"{\\"headers\\": {\\"etag\\": \\"\\\\\\"abc\\\\\\"\\"}, \\"body\\": \\"\\"}"}}',
  },
  {
    name: 'V0JobFinishedRequest.minimal',
    link: 'minerToValidator',
    text: '{"message_type":"V0JobFinishedRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","docker_process_stdout":"","docker_process_stderr":"err\\ttab\\u0001","artifacts":null,"upload_results":null}',
  },
  {
    name: 'V0JobFailedRequest',
    link: 'minerToValidator',
    text: '{"message_type":"V0JobFailedRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","message":"Job container exited with non-zero exit code: 1","reason":"nonzero_return_code","stage":"execution","docker_process_exit_status":1,"docker_process_stdout":"out","docker_process_stderr":"Traceback…","context":null}',
  },
  {
    name: 'V0JobFailedRequest.defaults',
    link: 'minerToValidator',
    text: '{"message_type":"V0JobFailedRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","message":"","reason":"unknown","stage":"unknown","docker_process_exit_status":null,"docker_process_stdout":null,"docker_process_stderr":null,"context":null}',
  },
  {
    name: 'V0HordeFailedRequest',
    link: 'minerToValidator',
    text: '{"message_type":"V0HordeFailedRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","reported_by":"miner","message":"Executor disconnected while job was running (code: 1006)","reason":"executor_disconnected","context":{"exception_type":"ConnectionClosed"}}',
  },
  {
    name: 'V0MainHotkeyMessage.reply',
    link: 'minerToValidator',
    text: '{"message_type":"V0MainHotkeyMessage","main_hotkey":"5Hminerhotkeyxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}',
  },
  {
    name: 'GenericError.m2v',
    link: 'minerToValidator',
    text: '{"message_type":"GenericError","details":"Unknown validator: 5Fxxx"}',
  },
  {
    name: 'GenericError.empty',
    link: 'minerToValidator',
    text: '{"message_type":"GenericError","details":null}',
  },
  {
    name: 'UnauthorizedError',
    link: 'minerToValidator',
    text: '{"message_type":"UnauthorizedError","code":"TOKEN_TOO_OLD","details":"Token too old"}',
  },
  {
    name: 'V0ExecutorFailedRequest',
    link: 'minerToValidator',
    text: '{"message_type":"V0ExecutorFailedRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","executor_token":null}',
  },
  {
    name: 'V0StreamingJobNotReadyRequest',
    link: 'minerToValidator',
    text: '{"message_type":"V0StreamingJobNotReadyRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","executor_token":null}',
  },
  {
    name: 'V0InitialJobRequest.m2e',
    link: 'minerToExecutor',
    text: '{"message_type":"V0InitialJobRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","executor_class":"spin_up-4min.gpu-24gb","docker_image":"python:3.11-slim","timeout_seconds":null,"volume":{"volume_type":"inline","contents":"UEsFBg==","relative_path":null},"job_started_receipt_payload":{"job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","miner_hotkey":"5Hminerhotkeyxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","validator_hotkey":"5Fvalidatorhotkeyxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","timestamp":"2025-09-01T12:00:00Z","receipt_type":"JobStartedReceipt","executor_class":"spin_up-4min.gpu-24gb","is_organic":true,"ttl":7},"job_started_receipt_signature":"0xcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd","streaming_details":{"public_key":"PEM","executor_ip":"192.168.1.20"},"executor_timing":{"allowed_leeway":5,"download_time_limit":30,"execution_time_limit":120,"upload_time_limit":30,"streaming_start_time_limit":5}}',
  },
  {
    name: 'V0JobRequest.m2e',
    link: 'minerToExecutor',
    text: '{"message_type":"V0JobRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","executor_class":"always_on.cpu.8c.16gb","docker_image":"busybox","raw_script":"print(\'hi\')","docker_run_options_preset":"none","docker_run_cmd":["python","-c","print(1)"],"env":{},"volume":{"volume_type":"huggingface_volume","repo_id":"org/ds","repo_type":"dataset","revision":null,"relative_path":"data","allow_patterns":"*.parquet","token":"hf_x"},"output_upload":{"output_upload_type":"zip_and_http_post","url":"https://up.example.com/","form_fields":{"a":"1"}},"artifacts_dir":null}',
  },
  {
    name: 'V0JobRequest.m2e.single',
    link: 'minerToExecutor',
    text: '{"message_type":"V0JobRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","executor_class":"always_on.test","docker_image":"busybox","raw_script":null,"docker_run_options_preset":"none","docker_run_cmd":["true"],"env":{},"volume":{"volume_type":"single_file","url":"https://e.com/a","relative_path":"a"},"output_upload":{"output_upload_type":"single_file_put","url":"https://e.com/put","relative_path":"o.txt","signed_headers":null},"artifacts_dir":null}',
  },
  {
    name: 'V0JobRequest.m2e.zipurl',
    link: 'minerToExecutor',
    text: '{"message_type":"V0JobRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","executor_class":"always_on.test","docker_image":"busybox","raw_script":null,"docker_run_options_preset":"none","docker_run_cmd":["true"],"env":{},"volume":{"volume_type":"zip_url","contents":"https://e.com/a.zip","relative_path":"z"},"output_upload":{"output_upload_type":"single_file_post","url":"https://e.com/post","form_fields":null,"relative_path":"o.txt","signed_headers":null},"artifacts_dir":null}',
  },
  {
    name: 'V0JobRequest.m2e.put',
    link: 'minerToExecutor',
    text: '{"message_type":"V0JobRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","executor_class":"always_on.test","docker_image":"busybox","raw_script":null,"docker_run_options_preset":"none","docker_run_cmd":["true"],"env":{},"volume":null,"output_upload":{"output_upload_type":"zip_and_http_put","url":"https://e.com/put.zip"},"artifacts_dir":null}',
  },
  {
    name: 'GenericError.m2e',
    link: 'minerToExecutor',
    text: '{"message_type":"GenericError","details":"Duplicate initial job request"}',
  },
  {
    name: 'V0ExecutorReadyRequest.e2m',
    link: 'executorToMiner',
    text: '{"message_type":"V0ExecutorReadyRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","executor_token":null}',
  },
  {
    name: 'V0StreamingJobReadyRequest.e2m',
    link: 'executorToMiner',
    text: '{"message_type":"V0StreamingJobReadyRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","executor_token":null,"public_key":"PEM","ip":null,"port":6006,"miner_signature":null}',
  },
  {
    name: 'V0VolumesReadyRequest.e2m',
    link: 'executorToMiner',
    text: '{"message_type":"V0VolumesReadyRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f"}',
  },
  {
    name: 'V0ExecutionDoneRequest.e2m',
    link: 'executorToMiner',
    text: '{"message_type":"V0ExecutionDoneRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f"}',
  },
  {
    name: 'V0MachineSpecsRequest.e2m',
    link: 'executorToMiner',
    text: '{"message_type":"V0MachineSpecsRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","specs":{"specs":{"gpu":{"count":0,"details":[]}}}}',
  },
  {
    name: 'V0JobFinishedRequest.e2m',
    link: 'executorToMiner',
    text: '{"message_type":"V0JobFinishedRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","docker_process_stdout":"ok","docker_process_stderr":"","artifacts":{},"upload_results":{}}',
  },
  {
    name: 'V0JobFailedRequest.e2m',
    link: 'executorToMiner',
    text: '{"message_type":"V0JobFailedRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","message":"Download time exceeded","reason":"timeout","stage":"volume_download","docker_process_exit_status":null,"docker_process_stdout":null,"docker_process_stderr":null,"context":null}',
  },
  {
    name: 'V0HordeFailedRequest.e2m',
    link: 'executorToMiner',
    text: '{"message_type":"V0HordeFailedRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","reported_by":"executor","message":"Security check failed","reason":"security_check_failed","context":null}',
  },
  {
    name: 'GenericError.e2m',
    link: 'executorToMiner',
    text: '{"message_type":"GenericError","details":"boom"}',
  },
  {
    name: 'V0ExecutorFailedRequest.e2m',
    link: 'executorToMiner',
    text: '{"message_type":"V0ExecutorFailedRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","executor_token":null}',
  },
  {
    name: 'V0StreamingJobNotReadyRequest.e2m',
    link: 'executorToMiner',
    text: '{"message_type":"V0StreamingJobNotReadyRequest","job_uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","executor_token":null}',
  },
  {
    name: 'Response.success',
    link: 'facilitatorToValidator',
    text: '{"status":"success","errors":[]}',
  },
  {
    name: 'Response.error',
    link: 'facilitatorToValidator',
    text: '{"status":"error","errors":[{"msg":"Job not found","type":"job.not_found","help":"Job with this UUID was not found"}]}',
  },
  {
    name: 'Response.validation',
    link: 'facilitatorToValidator',
    text: '{"status":"error","errors":[{"msg":"Extra inputs are not permitted","type":"extra_forbidden","help":"","loc":["bogus"],"input":1,"url":"https://errors.pydantic.dev/2.13/v/extra_forbidden"}]}',
  },
  {
    name: 'V2JobRequest',
    link: 'facilitatorToValidator',
    text: '{"signature": {"signature_type": "bittensor", "signatory": "5Fsdkuserxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "timestamp_ns": 1737000000123456789, "signature": "cWstLS1zaWduYXR1cmUtLS0=", "signature_scope": "SignedFields"}, "type": "job.new", "message_type": "V2JobRequest", "uuid": "7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f", "job_namespace": "SN123.0", "executor_class": "always_on.llm.a6000", "docker_image": "alpine:latest", "args": ["sh", "-c", "echo \\u00fcn\\u00ef > /artifacts/x"], "env": {"K": "v"}, "use_gpu": true, "volume": {"volume_type": "multi_volume", "volumes": [{"volume_type": "inline", "contents": "UEsFBg==", "relative_path": "in"}]}, "output_upload": {"output_upload_type": "multi_upload", "uploads": [{"output_upload_type": "single_file_put", "url": "https://e.com/p", "relative_path": "r.txt", "signed_headers": null}], "system_output": null}, "artifacts_dir": "/artifacts", "on_trusted_miner": false, "download_time_limit": 5, "execution_time_limit": 10, "upload_time_limit": 5, "streaming_start_time_limit": 5, "streaming_details": null}',
  },
  {
    name: 'V2JobRequest.minimal',
    link: 'facilitatorToValidator',
    text: '{"signature": {"signature_type": "bittensor", "signatory": "5Fsdkuserxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "timestamp_ns": 1737000000123456789, "signature": "cWstLS1zaWduYXR1cmUtLS0=", "signature_scope": "SignedFields"}, "type": "job.new", "message_type": "V2JobRequest", "uuid": "7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f", "job_namespace": null, "executor_class": "spin_up-4min.gpu-24gb", "docker_image": "img", "args": [], "env": {}, "use_gpu": true, "volume": null, "output_upload": null, "artifacts_dir": null, "on_trusted_miner": false, "download_time_limit": 1, "execution_time_limit": 2, "upload_time_limit": 3, "streaming_start_time_limit": 4, "streaming_details": {"public_key": "PEM", "executor_ip": null}}',
  },
  {
    name: 'V0JobCheated',
    link: 'facilitatorToValidator',
    text: '{"signature": {"signature_type": "bittensor", "signatory": "5Fsdkuserxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "timestamp_ns": 1737000000123456789, "signature": "cWstLS1zaWduYXR1cmUtLS0=", "signature_scope": "FullRequest"}, "type": "job.cheated", "message_type": "V0JobCheated", "job_uuid": "7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f", "trusted_job_uuid": "a1b2c3d4-0000-4000-8000-123456789abc", "details": {"reason": "wrong output \\u2013 \\u2717", "score": 1.0, "diff": 1e-07, "n": 3}}',
  },
  {
    name: 'V0AuthenticationRequest',
    link: 'validatorToFacilitator',
    text: '{"message_type":"V0AuthenticationRequest","public_key":"abababababababababababababababababababababababababababababababab","signature":"0xcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"}',
  },
  {
    name: 'V0Heartbeat',
    link: 'validatorToFacilitator',
    text: '{"message_type":"V0Heartbeat"}',
  },
  {
    name: 'V0JobStatusUpdate.received',
    link: 'validatorToFacilitator',
    text: '{"message_type":"V0JobStatusUpdate","uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","status":"received","metadata":null}',
  },
  {
    name: 'V0JobStatusUpdate.accepted',
    link: 'validatorToFacilitator',
    text: '{"message_type":"V0JobStatusUpdate","uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","status":"accepted","metadata":{"miner_response":null,"job_rejection_details":null,"job_failure_details":null,"horde_failure_details":null,"streaming_details":null}}',
  },
  {
    name: 'V0JobStatusUpdate.completed',
    link: 'validatorToFacilitator',
    text: '{"message_type":"V0JobStatusUpdate","uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","status":"completed","metadata":{"miner_response":{"docker_process_stderr":"","docker_process_stdout":"hi ✓","artifacts":{"/artifacts/x":"aGk="},"upload_results":{"r.txt":"{\\"headers\\": {}, \\"body\\": \\"\\"}"}},"job_rejection_details":null,"job_failure_details":null,"horde_failure_details":null,"streaming_details":null}}',
  },
  {
    name: 'V0JobStatusUpdate.rejected',
    link: 'validatorToFacilitator',
    text: '{"message_type":"V0JobStatusUpdate","uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","status":"rejected","metadata":{"miner_response":null,"job_rejection_details":{"rejected_by":"validator","reason":"no_miner_for_job","message":"No executor for job request","context":{"executor_class":"always_on.llm.a6000"}},"job_failure_details":null,"horde_failure_details":null,"streaming_details":null}}',
  },
  {
    name: 'V0JobStatusUpdate.failed',
    link: 'validatorToFacilitator',
    text: '{"message_type":"V0JobStatusUpdate","uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","status":"failed","metadata":{"miner_response":null,"job_rejection_details":null,"job_failure_details":{"reason":"timeout","stage":"volume_download","message":"Download time exceeded","context":null,"docker_process_exit_status":null,"docker_process_stdout":null,"docker_process_stderr":null},"horde_failure_details":null,"streaming_details":null}}',
  },
  {
    name: 'V0JobStatusUpdate.horde_failed',
    link: 'validatorToFacilitator',
    text: '{"message_type":"V0JobStatusUpdate","uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","status":"horde_failed","metadata":{"miner_response":null,"job_rejection_details":null,"job_failure_details":null,"horde_failure_details":{"reported_by":"validator","reason":"unhandled_exception","message":"Uncaught exception","context":{"exception_type":"ValueError"}},"streaming_details":null}}',
  },
  {
    name: 'V0JobStatusUpdate.streaming_ready',
    link: 'validatorToFacilitator',
    text: '{"message_type":"V0JobStatusUpdate","uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","status":"streaming_ready","metadata":{"miner_response":null,"job_rejection_details":null,"job_failure_details":null,"horde_failure_details":null,"streaming_details":{"streaming_server_cert":"PEM","streaming_server_address":"10.0.0.5","streaming_server_port":6006}}}',
  },
  {
    name: 'V0JobStatusUpdate.extra_metadata',
    link: 'validatorToFacilitator',
    text: '{"message_type":"V0JobStatusUpdate","uuid":"7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f","status":"completed","metadata":{"miner_response":{"docker_process_stderr":"","docker_process_stdout":"x","artifacts":null,"upload_results":null,"exit":0},"job_rejection_details":null,"job_failure_details":null,"horde_failure_details":null,"streaming_details":null,"comment":"extra allowed","weights":[0.5,1.0]}}',
  },
  {
    name: 'V0MachineSpecsUpdate',
    link: 'validatorToFacilitator',
    text: '{"message_type":"V0MachineSpecsUpdate","miner_hotkey":"5Hminerhotkeyxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","validator_hotkey":"5Fvalidatorhotkeyxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","specs":{"gpu":{"count":8},"cpu":{"clock":3.5}},"batch_id":"b-1"}',
  },
];
