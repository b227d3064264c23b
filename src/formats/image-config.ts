/**
 * The image config JSON (OCI image spec, config.md, with Docker's Healthcheck extension): what
 * the builder writes (src/oci/image.ts makes it deterministic) and what verify, the runtime
 * drivers and inspect read back. Fields other tools may write as `null` are typed so.
 */

/** Docker's HEALTHCHECK, honoured by podman and docker. Durations in nanoseconds. */
export interface OciHealthcheck {
  /** ["CMD", argv...] (exec form) or ["NONE"] */
  Test?: string[] | null;
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** The runtime part of an image config (`config` in the config JSON). */
export interface OciContainerConfig {
  /** "uid[:gid]" or "name[:group]" */
  User?: string;
  /** "PORT/proto" → {} */
  ExposedPorts?: Record<string, object> | null;
  /** "KEY=value" */
  Env?: string[] | null;
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  /** absolute path → {} */
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  Healthcheck?: OciHealthcheck;
  ArgsEscaped?: boolean;
}

export interface OciImageConfig {
  /** RFC 3339 */
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  "os.version"?: string;
  "os.features"?: string[];
  variant?: string;
  config?: OciContainerConfig;
  /** the uncompressed layers' digests, bottom first */
  rootfs: { type: "layers"; diff_ids: string[] };
  history?: Array<{
    created?: string;
    created_by?: string;
    author?: string;
    comment?: string;
    empty_layer?: boolean;
  }>;
}

/**
 * The label naming the directories an image needs writable at run time (the spec's
 * `paths[].writable`): absolute paths joined by commas, sorted. Under a read-only root each needs
 * a tmpfs, emptyDir or volume; `shellfree test`'s read-only check mounts one on each. A label
 * rather than VOLUMEs: a VOLUME makes docker and podman create an anonymous volume on every run
 * (which outlives the container, with whatever stale state is in it), and Kubernetes ignores it.
 */
export const LABEL_WRITABLE = "dev.shellfree.writable";

/** The writable paths an image config's label names ([] without the label). */
export function writablePaths(config: OciImageConfig): string[] {
  const value = config.config?.Labels?.[LABEL_WRITABLE];
  if (!value) return [];
  return value
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p.startsWith("/"));
}
