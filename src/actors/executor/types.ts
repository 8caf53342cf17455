/**
 * Local mirrors of the upstream JSON shapes the effect modules consume (`compute_horde_core.volume`,
 * `compute_horde_core.output_upload`). Field names are the wire names. The protocol package will own the validated
 * schemas; these stay structural so that its types can be passed in unchanged.
 */

export interface InlineVolume {
  readonly volume_type: 'inline';
  /** base64 of a zip archive. */
  readonly contents: string;
  readonly relative_path?: string | null;
}

export interface ZipUrlVolume {
  readonly volume_type: 'zip_url';
  /** The URL of the zip (upstream kept the old field name for compatibility). */
  readonly contents: string;
  readonly relative_path?: string | null;
}

export interface SingleFileVolume {
  readonly volume_type: 'single_file';
  readonly url: string;
  readonly relative_path: string;
}

export interface HuggingfaceVolume {
  readonly volume_type: 'huggingface_volume';
  readonly repo_id: string;
  readonly repo_type?: string | null;
  readonly revision?: string | null;
  readonly relative_path?: string | null;
  readonly allow_patterns?: string | readonly string[] | null;
  readonly token?: string | null;
}

/** A volume that may sit inside a `multi_volume` (no nesting). */
export type LeafVolume = InlineVolume | ZipUrlVolume | SingleFileVolume | HuggingfaceVolume;

export interface MultiVolume {
  readonly volume_type: 'multi_volume';
  readonly volumes: readonly LeafVolume[];
}

export type Volume = LeafVolume | MultiVolume;

export interface ZipAndHttpPostUpload {
  readonly output_upload_type: 'zip_and_http_post';
  readonly url: string;
  readonly form_fields?: Readonly<Record<string, string>> | null;
}

export interface ZipAndHttpPutUpload {
  readonly output_upload_type: 'zip_and_http_put';
  readonly url: string;
}

export interface SingleFilePostUpload {
  readonly output_upload_type: 'single_file_post';
  readonly url: string;
  readonly form_fields?: Readonly<Record<string, string>> | null;
  readonly relative_path: string;
  readonly signed_headers?: Readonly<Record<string, string>> | null;
}

export interface SingleFilePutUpload {
  readonly output_upload_type: 'single_file_put';
  readonly url: string;
  readonly relative_path: string;
  readonly signed_headers?: Readonly<Record<string, string>> | null;
}

export type SingleFileUpload = SingleFilePostUpload | SingleFilePutUpload;

export interface MultiUpload {
  readonly output_upload_type: 'multi_upload';
  readonly uploads: readonly SingleFileUpload[];
  readonly system_output?: ZipAndHttpPostUpload | ZipAndHttpPutUpload | null;
}

export type OutputUpload = ZipAndHttpPostUpload | ZipAndHttpPutUpload | SingleFileUpload | MultiUpload;

/** Upstream `HttpOutputVolumeResponse`: what the upload target answered. */
export interface HttpOutputVolumeResponse {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}
