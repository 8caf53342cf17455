/**
 * Fixed vectors for the crypto tests. Provenance of each is given next to it: either upstream ComputeHorde's own
 * repository (HEAD 32fa9d14) or output of Python 3.11 + pydantic 2.13 run on upstream's model definitions.
 */

/** upstream `compute_horde/tests/test_signature.py`: `sample_data`, `sample_signature`, expected hash (base85). */
export const UPSTREAM_SIGNATURE_VECTOR = {
  payload: { b: 2, array: [1, 2, 3], dict: { 'subdict:': { null: null } } },
  signatory: '5FUJCuGtQPonu8B9JKH4BwsKzEdtyBTpyvbBk2beNZ4iX8sk',
  timestampNs: 1718845323456788992n,
  signatureB85: '1SaAcLt*GG`2RG*@xmapXZ14m*Y`@b1MP(hAfEnwXkO5Os<30drw{`X`15JFP4GWR96T7p>rUmYA#=8Z',
  hashB85: 'Dk7mtj^WM^#_n_!-C@$EHF*O@>;mdK%XS?515>IhxRvgxdT<nq$ImMmQ)jr-hpUSs#o+GQRX~t<q0-~1',
} as const;

/** upstream `local_stack/wallets/miner/hotkeys/default` (a bittensor hotkey file, public test material). */
export const UPSTREAM_MINER_HOTKEY_FILE = {
  publicKey: '0x9a3d135957edbae32803bf22d9d69f203c66e721f0f5ff1f570e988a8f992369',
  secretPhrase:
    'chief path blood step top future bright powder coast absurd end strong web recipe concert point below ladder lazy gauge february radio egg coast',
  secretSeed: '0xe73e22a9ea8a015e2882d125969b373506dd0906c716af040140a7e4ba39f61c',
  ss58Address: '5FYwNgYu5Wj7Vv49KtC3gXa1W1dn2BnMBGNKGrLy8pX9i4T7',
  accountId: '0x9a3d135957edbae32803bf22d9d69f203c66e721f0f5ff1f570e988a8f992369',
  privateKey:
    '0xfacd8b1f6c53c286c5a5ea4c8cb7a566140501a25070c26f03df86e61b63fa0acb4c7ea7ded0cf5ec66ce027b79696d3af56e080c6ade44d0ef3f9a19197c9a6',
} as const;

/** upstream `local_stack/wallets/validator/hotkeys/default`. */
export const UPSTREAM_VALIDATOR_HOTKEY_FILE = {
  ss58Address: '5CDYBwxDZwXnYSp7E39Vy92MVbCMtcK2i953oRxDm9Veko7M',
  secretPhrase:
    'wool remember perfect current orbit tattoo net near donor club various company orphan tourist october material crane farm race clinic mouse cattle opinion tilt',
  secretSeed: '0x3434dc3b4ea59fcb0fbda2a6291deea7cb5d2739508a02991e806b0f0e597129',
  privateKey:
    '0xd29be7ec1105c7c101d26e5f7c4af14bb19e5c2a36abc17462666f706edaf70ec057f259a54c143beb14bf1e799399b7feccbed1421c0aa97648a75cc01414bd',
  publicKey: '0x06bcaa2432bbb3eede485b108399589fe7dd494a391b88c4e4c7015123df9860',
  accountId: '0x06bcaa2432bbb3eede485b108399589fe7dd494a391b88c4e4c7015123df9860',
} as const;

/** A literal V2JobRequest as the facilitator forwards it (multi volume, multi upload, streaming, unicode). */
export const V2_JOB_REQUEST = {
  "type": "job.new",
  "message_type": "V2JobRequest",
  "uuid": "7b5c3a7e-0f51-4c7e-9d5e-3a2d1c0b9a88",
  "job_namespace": "SN123.0",
  "executor_class": "always_on.llm.a6000",
  "docker_image": "backenddevelopersltd/compute-horde-job-echo:v0-latest",
  "args": [
    "--text",
    "h\u00e9llo \"w\u00f6rld\" \ud83d\ude00",
    "line\nbreak\u0001\u007f"
  ],
  "env": {
    "ZED": "1",
    "ALPHA": "\u00e9"
  },
  "use_gpu": true,
  "volume": {
    "volume_type": "multi_volume",
    "volumes": [
      {
        "volume_type": "single_file",
        "url": "https://s3.example/np_data.npy",
        "relative_path": "np_data.npy"
      },
      {
        "volume_type": "huggingface_volume",
        "repo_id": "hug",
        "revision": "333",
        "relative_path": "./models/here"
      },
      {
        "volume_type": "inline",
        "contents": "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==",
        "relative_path": null
      }
    ]
  },
  "output_upload": {
    "output_upload_type": "multi_upload",
    "uploads": [
      {
        "output_upload_type": "single_file_put",
        "url": "https://s3.example/out.json",
        "relative_path": "output.json"
      },
      {
        "output_upload_type": "single_file_post",
        "url": "https://s3.example/post",
        "relative_path": "log.txt",
        "form_fields": {
          "b": "2",
          "a": "1"
        }
      }
    ],
    "system_output": {
      "output_upload_type": "zip_and_http_put",
      "url": "https://s3.example/sys.zip"
    }
  },
  "artifacts_dir": null,
  "on_trusted_miner": false,
  "download_time_limit": 60,
  "execution_time_limit": 300,
  "upload_time_limit": 120,
  "streaming_start_time_limit": 30,
  "streaming_details": {
    "public_key": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
  },
  "signature": null
};

/** Python: `V2JobRequest(**V2_JOB_REQUEST).get_signed_fields().model_dump_json()`. */
export const V2_SIGNED_FIELDS_JSON =
  "{\"executor_class\":\"always_on.llm.a6000\",\"docker_image\":\"backenddevelopersltd/compute-horde-job-echo:v0-latest\",\"args\":[\"--text\",\"h\u00e9llo \\\"w\u00f6rld\\\" \ud83d\ude00\",\"line\\nbreak\\u0001\u007f\"],\"env\":{\"ZED\":\"1\",\"ALPHA\":\"\u00e9\"},\"use_gpu\":true,\"artifacts_dir\":\"\",\"on_trusted_miner\":false,\"download_time_limit\":60,\"execution_time_limit\":300,\"upload_time_limit\":120,\"streaming_start_time_limit\":30,\"streaming_details\":{\"public_key\":\"-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n\",\"executor_ip\":null},\"volumes\":[{\"volume_type\":\"single_file\",\"url\":\"https://s3.example/np_data.npy\",\"relative_path\":\"np_data.npy\"},{\"volume_type\":\"huggingface_volume\",\"repo_id\":\"hug\",\"repo_type\":null,\"revision\":\"333\",\"relative_path\":\"./models/here\",\"allow_patterns\":null,\"token\":null},{\"volume_type\":\"inline\",\"contents\":\"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==\",\"relative_path\":null}],\"uploads\":[{\"output_upload_type\":\"single_file_put\",\"url\":\"https://s3.example/out.json\",\"relative_path\":\"output.json\",\"signed_headers\":null},{\"output_upload_type\":\"single_file_post\",\"url\":\"https://s3.example/post\",\"form_fields\":{\"b\":\"2\",\"a\":\"1\"},\"relative_path\":\"log.txt\",\"signed_headers\":null}]}";

/** Python: `hash_message_signature(V2_SIGNED_FIELDS_JSON, Signature(timestamp_ns=1737000000000000000, ...)).hex()`. */
export const V2_SIGNED_FIELDS_DIGEST_HEX =
  '0d3838ddbc5bc33383bb7480db3b6586ddf5c09ca9d6bac15a960bb3b4d9d75266a2bc82aedac8111f6d500fbdca2b619e07dd465692309e4dc8feaf94019769';

/** Python's `base64.b85decode` (RFC 1924 alphabet), for the upstream vectors above. */
export function b85decode(text: string): Uint8Array {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~';
  const out: number[] = [];
  for (let i = 0; i < text.length; i += 5) {
    const chunk = text.slice(i, i + 5);
    const padding = 5 - chunk.length;
    let acc = 0;
    for (const char of chunk.padEnd(5, '~')) acc = acc * 85 + alphabet.indexOf(char);
    const bytes = [(acc >>> 24) & 255, (acc >>> 16) & 255, (acc >>> 8) & 255, acc & 255];
    out.push(...bytes.slice(0, 4 - padding));
  }
  return Uint8Array.from(out);
}
