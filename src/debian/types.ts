/**
 * The data that crosses from the archive side of src/debian (sources, InRelease, Packages
 * indices, cache) to the resolver and to the builder. Plain data only.
 */

/** Where packages come from: one mirror base URL + suite + components, e.g. .../debian trixie main. */
export interface AptSource {
  /** base URL of the archive, e.g. the value of URIs: in a .sources file (from configuration, never a constant) */
  uri: string;
  suite: string;
  components: string[];
}

/** One binary package paragraph from a Packages index, normalised. */
export interface BinaryPackage {
  name: string;
  version: string;
  /** "amd64", "arm64", or "all" */
  architecture: string;
  multiArch?: "same" | "foreign" | "allowed" | "no";
  essential: boolean;
  /** raw relationship fields ("" when absent); parsed by resolve.ts */
  depends: string;
  preDepends: string;
  recommends: string;
  provides: string;
  conflicts: string;
  breaks: string;
  /**
   * `Priority` (required, important, standard, optional, extra) and whether `Important: yes` or
   * `Protected: yes` is set: the resolver ranks providers by them as apt does. Optional: when
   * absent the resolver reads `fields` (slower when `fields` is parsed on demand).
   */
  priority?: string;
  important?: boolean;
  /**
   * `Suggests`, `Replaces`, `Enhances` ("" when absent): read by the resolver only to order
   * ties as apt's cache would. Optional: when absent the resolver reads `fields`.
   */
  suggests?: string;
  replaces?: string;
  enhances?: string;
  /** path of the .deb relative to `source.uri` */
  filename: string;
  size: number;
  sha256: string;
  source: AptSource;
  /** every field of the paragraph as in the index (keys in original case, values unfolded as-is) */
  fields: Record<string, string>;
}

/** All packages visible for one architecture (native arch + "all"), from one or more sources. */
export interface PackageUniverse {
  arch: string;
  packages: BinaryPackage[];
}

/** The resolver's answer. */
export interface Resolution {
  /** the closure, sorted by name */
  packages: BinaryPackage[];
  /** packages the closure would have contained but the exclude list dropped, with who wanted them */
  excluded: Array<{ name: string; wantedBy: string[] }>;
}
