/** What every step of one architecture's build reads, and what a layer step returns. */
import type { BinaryPackage } from "../debian/index.ts";
import type { Compression, Layer } from "../oci/index.ts";
import type { Spec } from "../spec/index.ts";

export interface ArchContext {
  spec: Spec;
  arch: string;
  /** the closure, sorted by name */
  packages: BinaryPackage[];
  cacheDir: string;
  /** where layer blobs are stored (see cache.ts) */
  blobDir: string;
  compression: Compression;
  sourceDateEpoch: number;
}

/** A layer of the image, with the name and comment its history entry gets. */
export interface BuiltLayer {
  name: string;
  layer: Layer;
  cached: boolean;
  comment: string;
}
