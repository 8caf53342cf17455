/**
 * Job input volumes (`compute_horde_core.volume`), discriminated by `volume_type`.
 * Field order is upstream's; it matters twice: for byte-identical frames and for the SDK's `SignedFields` blob.
 */
import { discriminatedUnion, list, literal, object, optional, str, union, type Infer, type Input } from './schema';

/** Base64 zip unpacked into `/volume/{relative_path}`. */
export const InlineVolume = object({
  volume_type: literal('inline'),
  contents: str(),
  relative_path: optional(str()),
});
export type InlineVolume = Infer<typeof InlineVolume>;

/** Zip downloaded from `contents` (a URL, named so for backwards compatibility) and unpacked. */
export const ZipUrlVolume = object({
  volume_type: literal('zip_url'),
  contents: str(),
  relative_path: optional(str()),
});
export type ZipUrlVolume = Infer<typeof ZipUrlVolume>;

/** One file downloaded from `url` to `/volume/{relative_path}`. */
export const SingleFileVolume = object({
  volume_type: literal('single_file'),
  url: str(),
  relative_path: str(),
});
export type SingleFileVolume = Infer<typeof SingleFileVolume>;

/** A Hugging Face snapshot; `allow_patterns` is one pattern or a list. */
export const HuggingfaceVolume = object({
  volume_type: literal('huggingface_volume'),
  repo_id: str(),
  repo_type: optional(str()),
  revision: optional(str()),
  relative_path: optional(str()),
  allow_patterns: optional(union(str(), list(str()))),
  token: optional(str()),
});
export type HuggingfaceVolume = Infer<typeof HuggingfaceVolume>;

/** Any volume that may sit inside a {@link MultiVolume} (no nesting of multi volumes). */
export const SingleVolume = discriminatedUnion('volume_type', [InlineVolume, ZipUrlVolume, SingleFileVolume, HuggingfaceVolume]);
export type SingleVolume = Infer<typeof SingleVolume>;

/** Several volumes; the facilitator always wraps a job's volumes in one. */
export const MultiVolume = object({
  volume_type: literal('multi_volume'),
  volumes: list(SingleVolume),
});
export type MultiVolume = Infer<typeof MultiVolume>;

/** `Volume` */
export const Volume = discriminatedUnion('volume_type', [InlineVolume, ZipUrlVolume, SingleFileVolume, MultiVolume, HuggingfaceVolume]);
export type Volume = Infer<typeof Volume>;
export type VolumeInput = Input<typeof Volume>;
