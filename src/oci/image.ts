/**
 * Image config and manifest (OCI image spec v1.1), built deterministically: fixed key order,
 * map-like objects (ports, volumes, labels) with sorted keys, `created` from the caller
 * (SOURCE_DATE_EPOCH), compact JSON.
 */

import type { OciContainerConfig, OciHealthcheck, OciImageConfig } from "../formats/index.ts";
import { storeBlobBytes } from "./digest.ts";
import { OciError } from "./errors.ts";
import type { Layer } from "./layer.ts";
import { MEDIA_OCI_CONFIG, MEDIA_OCI_MANIFEST } from "./media.ts";
import { MAX_JSON } from "./read/tar-index.ts";
import type { Platform } from "./types.ts";

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: {
    os: string;
    architecture: string;
    variant?: string;
    "os.version"?: string;
    "os.features"?: string[];
  };
  annotations?: Record<string, string>;
  urls?: string[];
  artifactType?: string;
}

export interface OciManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface OciIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface HealthcheckInput {
  /** exec form: ["CMD", ...] or a bare argv (the CMD prefix is added) */
  test: string[];
  interval?: string;
  timeout?: string;
  startPeriod?: string;
  startInterval?: string;
  retries?: number;
}

export interface ImageConfigInput {
  entrypoint?: string[];
  cmd?: string[];
  env?: Record<string, string>;
  workingDir?: string;
  user?: string;
  /** "3128/tcp", "53/udp", "8080" (= 8080/tcp) */
  exposedPorts?: string[];
  volumes?: string[];
  labels?: Record<string, string>;
  stopSignal?: string;
  healthcheck?: HealthcheckInput;
}

export interface BuiltImage {
  platform: Platform;
  layers: Layer[];
  config: { digest: string; size: number; bytes: Uint8Array };
  manifest: { digest: string; size: number; bytes: Uint8Array; mediaType: string };
}

const UNITS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go-style duration ("10s", "1m30s", "500ms", "1h") → nanoseconds. */
export function parseDuration(s: string): number {
  if (typeof s !== "string") throw new OciError("E_CONFIG", `invalid duration ${String(s)}`);
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  if (s === "0") return 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) break;
    total += Number(m[1]) * UNITS[m[2]];
    pos = re.lastIndex;
  }
  if (pos !== s.length || s.length === 0) {
    throw new OciError("E_CONFIG", `invalid duration "${s}" (use e.g. 10s, 1m30s, 500ms)`);
  }
  return Math.round(total);
}

/** RFC 3339 UTC without fractional seconds when they are zero. */
export function rfc3339(d: Date): string {
  if (Number.isNaN(d.getTime())) throw new OciError("E_CONFIG", "invalid creation time");
  return d.toISOString().replace(/\.000Z$/, "Z");
}

function sortedRecord<T>(keys: Iterable<string>, value: (k: string) => T): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of [...new Set(keys)].sort()) out[k] = value(k);
  return out;
}

function checkArgv(what: string, v: unknown): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
    throw new OciError("E_CONFIG", `${what} must be a list of strings (exec form)`);
  }
  return v as string[];
}

/** The `config` object of an image config. */
export function containerConfig(c: ImageConfigInput): OciContainerConfig {
  const out: OciContainerConfig = {};
  if (c.user !== undefined) out.User = c.user;
  if (c.exposedPorts?.length) {
    const ports = c.exposedPorts.map((p) => {
      const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/.exec(String(p));
      if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) {
        throw new OciError("E_CONFIG", `invalid exposed port "${p}" (use e.g. 3128/tcp)`);
      }
      return `${Number(m[1])}/${m[2] ?? "tcp"}`;
    });
    out.ExposedPorts = sortedRecord(ports, () => ({}));
  }
  if (c.env && Object.keys(c.env).length > 0) {
    out.Env = Object.entries(c.env).map(([k, v]) => {
      if (k === "" || k.includes("="))
        throw new OciError("E_CONFIG", `invalid environment variable name "${k}"`);
      return `${k}=${v}`;
    });
  }
  if (c.entrypoint !== undefined) out.Entrypoint = checkArgv("entrypoint", c.entrypoint);
  if (c.cmd !== undefined) out.Cmd = checkArgv("cmd", c.cmd);
  if (c.volumes?.length) {
    for (const v of c.volumes) {
      if (typeof v !== "string" || !v.startsWith("/"))
        throw new OciError("E_CONFIG", `volume "${v}" must be an absolute path`);
    }
    out.Volumes = sortedRecord(c.volumes, () => ({}));
  }
  if (c.workingDir !== undefined) {
    if (!c.workingDir.startsWith("/"))
      throw new OciError("E_CONFIG", `working dir "${c.workingDir}" must be absolute`);
    out.WorkingDir = c.workingDir;
  }
  if (c.labels && Object.keys(c.labels).length > 0) {
    const labels = c.labels;
    out.Labels = sortedRecord(Object.keys(labels), (k) => String(labels[k]));
  }
  if (c.stopSignal !== undefined) out.StopSignal = c.stopSignal;
  if (c.healthcheck) {
    const h = c.healthcheck;
    const test = checkArgv("healthcheck test", h.test);
    if (test.length === 0) throw new OciError("E_CONFIG", "healthcheck test is empty");
    const hc: OciHealthcheck = {
      Test: ["CMD", "CMD-SHELL", "NONE"].includes(test[0]) ? test : ["CMD", ...test],
    };
    if (h.interval !== undefined) hc.Interval = parseDuration(h.interval);
    if (h.timeout !== undefined) hc.Timeout = parseDuration(h.timeout);
    if (h.startPeriod !== undefined) hc.StartPeriod = parseDuration(h.startPeriod);
    if (h.startInterval !== undefined) hc.StartInterval = parseDuration(h.startInterval);
    if (h.retries !== undefined) {
      if (!Number.isInteger(h.retries) || h.retries < 0)
        throw new OciError("E_CONFIG", `invalid healthcheck retries ${h.retries}`);
      hc.Retries = h.retries;
    }
    out.Healthcheck = hc;
  }
  return out;
}

/** Canonical bytes of a JSON document we write (compact, key order as constructed). */
export function jsonBytes(v: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(v));
}

export async function buildImage(
  input: {
    platform: Platform;
    layers: Layer[];
    config: ImageConfigInput;
    created: Date;
    history?: Array<{ created_by: string; comment?: string }>;
    annotations?: Record<string, string>;
    /** the config's `author` */
    author?: string;
  },
  blobDir: string,
): Promise<BuiltImage> {
  const { platform, layers } = input;
  if (platform?.os !== "linux" || !platform.architecture) {
    throw new OciError("E_CONFIG", `invalid platform ${JSON.stringify(platform)}`);
  }
  const created = rfc3339(input.created);
  if (input.history && input.history.length !== layers.length) {
    throw new OciError(
      "E_CONFIG",
      `history has ${input.history.length} entries for ${layers.length} layers (one per layer expected)`,
    );
  }
  const history = layers.map((l, i) => {
    const h = input.history?.[i];
    const e: { created: string; created_by: string; comment?: string } = {
      created,
      created_by: h?.created_by ?? "shellfree",
    };
    if (h?.comment !== undefined) e.comment = h.comment;
    else if (!h) e.comment = `layer ${i + 1}: ${l.entries} entries`;
    return e;
  });
  const cfg: OciImageConfig = {
    created,
    architecture: platform.architecture,
    os: platform.os,
  } as OciImageConfig;
  if (input.author !== undefined) cfg.author = input.author;
  if (platform.variant) cfg.variant = platform.variant;
  cfg.config = containerConfig(input.config);
  cfg.rootfs = { type: "layers", diff_ids: layers.map((l) => l.diffId) };
  cfg.history = history;
  // key order: created, author, architecture, os, variant, config, rootfs, history
  const ordered = {
    created: cfg.created,
    ...(cfg.author !== undefined ? { author: cfg.author } : {}),
    architecture: cfg.architecture,
    os: cfg.os,
    ...(cfg.variant ? { variant: cfg.variant } : {}),
    config: cfg.config,
    rootfs: cfg.rootfs,
    history: cfg.history,
  };
  const configBytes = jsonBytes(ordered);
  if (configBytes.length > MAX_JSON) {
    // every reader (ours included) refuses a config this large: never write one
    throw new OciError(
      "E_CONFIG",
      `the image config would be ${configBytes.length} bytes; readers accept at most ${MAX_JSON} (16 MiB)`,
      { hint: "keep env, labels and history small" },
    );
  }
  const configBlob = await storeBlobBytes(blobDir, configBytes);
  const manifest: OciManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_OCI_MANIFEST,
    config: { mediaType: MEDIA_OCI_CONFIG, digest: configBlob.digest, size: configBlob.size },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  };
  if (input.annotations && Object.keys(input.annotations).length > 0) {
    const a = input.annotations;
    manifest.annotations = sortedRecord(Object.keys(a), (k) => String(a[k]));
  }
  const manifestBytes = jsonBytes(manifest);
  const manifestBlob = await storeBlobBytes(blobDir, manifestBytes);
  return {
    platform: { ...platform },
    layers,
    config: { digest: configBlob.digest, size: configBlob.size, bytes: configBytes },
    manifest: {
      digest: manifestBlob.digest,
      size: manifestBlob.size,
      bytes: manifestBytes,
      mediaType: MEDIA_OCI_MANIFEST,
    },
  };
}

/** Platform as "os/arch[/variant]". */
export function platformString(p: { os: string; architecture: string; variant?: string }): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ""}`;
}

export function parsePlatform(s: string): Platform {
  const parts = s.split("/");
  if (parts.length < 2 || parts.length > 3 || parts[0] !== "linux" || !parts[1]) {
    throw new OciError(
      "E_PLATFORM",
      `invalid platform "${s}" (expected linux/ARCH[/VARIANT], e.g. linux/arm64)`,
    );
  }
  return parts[2]
    ? { os: "linux", architecture: parts[1], variant: parts[2] }
    : { os: "linux", architecture: parts[1] };
}

/** The host's platform in OCI terms. */
export function hostPlatform(): Platform {
  const map: Record<string, string> = {
    x64: "amd64",
    arm64: "arm64",
    arm: "arm",
    ia32: "386",
    ppc64: "ppc64le",
    s390x: "s390x",
    riscv64: "riscv64",
  };
  return { os: "linux", architecture: map[process.arch] ?? process.arch };
}
