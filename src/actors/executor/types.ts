/**
 * The JSON shapes the effect modules consume (`compute_horde_core.volume`, `compute_horde_core.output_upload`), as
 * the protocol package defines them. They are the schemas' encodable (`Input`) shapes, so fields with a default may
 * be left out, and a decoded message (`Infer`) can be passed in unchanged.
 */
import type {
  HttpOutputVolumeResponse as ProtocolHttpOutputVolumeResponse,
  HuggingfaceVolume as HuggingfaceVolumeSchema,
  InlineVolume as InlineVolumeSchema,
  Input,
  MultiUpload as MultiUploadSchema,
  MultiVolume as MultiVolumeSchema,
  OutputUploadInput,
  SingleFilePostUpload as SingleFilePostUploadSchema,
  SingleFilePutUpload as SingleFilePutUploadSchema,
  SingleFileUpload as SingleFileUploadSchema,
  SingleFileVolume as SingleFileVolumeSchema,
  SingleVolume as SingleVolumeSchema,
  VolumeInput,
  ZipAndHttpPostUpload as ZipAndHttpPostUploadSchema,
  ZipAndHttpPutUpload as ZipAndHttpPutUploadSchema,
  ZipUrlVolume as ZipUrlVolumeSchema,
} from '../../protocol';

export type InlineVolume = Input<typeof InlineVolumeSchema>;
export type ZipUrlVolume = Input<typeof ZipUrlVolumeSchema>;
export type SingleFileVolume = Input<typeof SingleFileVolumeSchema>;
export type HuggingfaceVolume = Input<typeof HuggingfaceVolumeSchema>;
/** A volume that may sit inside a `multi_volume` (no nesting). */
export type LeafVolume = Input<typeof SingleVolumeSchema>;
export type MultiVolume = Input<typeof MultiVolumeSchema>;
export type Volume = VolumeInput;

export type ZipAndHttpPostUpload = Input<typeof ZipAndHttpPostUploadSchema>;
export type ZipAndHttpPutUpload = Input<typeof ZipAndHttpPutUploadSchema>;
export type SingleFilePostUpload = Input<typeof SingleFilePostUploadSchema>;
export type SingleFilePutUpload = Input<typeof SingleFilePutUploadSchema>;
export type SingleFileUpload = Input<typeof SingleFileUploadSchema>;
export type MultiUpload = Input<typeof MultiUploadSchema>;
export type OutputUpload = OutputUploadInput;

/** Upstream `HttpOutputVolumeResponse`: what the upload target answered. */
export type HttpOutputVolumeResponse = ProtocolHttpOutputVolumeResponse;
