/**
 * Where a job's output goes (`compute_horde_core.output_upload`), discriminated by `output_upload_type`.
 */
import { discriminatedUnion, list, literal, object, optional, record, str, type Infer, type Input } from './schema';

/** Zip `/output` and POST it as a multipart form. */
export const ZipAndHttpPostUpload = object({
  output_upload_type: literal('zip_and_http_post'),
  url: str(),
  form_fields: optional(record(str())),
});
export type ZipAndHttpPostUpload = Infer<typeof ZipAndHttpPostUpload>;

/** Zip `/output` and PUT it. */
export const ZipAndHttpPutUpload = object({
  output_upload_type: literal('zip_and_http_put'),
  url: str(),
});
export type ZipAndHttpPutUpload = Infer<typeof ZipAndHttpPutUpload>;

/** POST one file of `/output`. */
export const SingleFilePostUpload = object({
  output_upload_type: literal('single_file_post'),
  url: str(),
  form_fields: optional(record(str())),
  relative_path: str(),
  signed_headers: optional(record(str())),
});
export type SingleFilePostUpload = Infer<typeof SingleFilePostUpload>;

/** PUT one file of `/output`. */
export const SingleFilePutUpload = object({
  output_upload_type: literal('single_file_put'),
  url: str(),
  relative_path: str(),
  signed_headers: optional(record(str())),
});
export type SingleFilePutUpload = Infer<typeof SingleFilePutUpload>;

/** `SingleFileUpload` */
export const SingleFileUpload = discriminatedUnion('output_upload_type', [SingleFilePostUpload, SingleFilePutUpload]);
export type SingleFileUpload = Infer<typeof SingleFileUpload>;

/**
 * Upstream types this as a plain (not discriminated) union, so pydantic reads a tagless object as its first
 * member, `zip_and_http_post`; we do the same.
 */
const SystemOutputUpload = discriminatedUnion('output_upload_type', [ZipAndHttpPostUpload, ZipAndHttpPutUpload], {
  missingTag: 'zip_and_http_post',
});

/** Single files uploaded concurrently, then the rest of `/output` zipped to `system_output`. */
export const MultiUpload = object({
  output_upload_type: literal('multi_upload'),
  uploads: list(SingleFileUpload),
  system_output: optional(SystemOutputUpload),
});
export type MultiUpload = Infer<typeof MultiUpload>;

/** `OutputUpload` */
export const OutputUpload = discriminatedUnion('output_upload_type', [
  SingleFilePostUpload,
  SingleFilePutUpload,
  ZipAndHttpPostUpload,
  ZipAndHttpPutUpload,
  MultiUpload,
]);
export type OutputUpload = Infer<typeof OutputUpload>;
export type OutputUploadInput = Input<typeof OutputUpload>;

/** One upload's HTTP response, serialized (as JSON text) into `V0JobFinishedRequest.upload_results`. */
export const HttpOutputVolumeResponse = object({
  headers: record(str()),
  body: str(),
});
export type HttpOutputVolumeResponse = Infer<typeof HttpOutputVolumeResponse>;
