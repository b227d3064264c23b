/**
 * The image's filesystem as a container would see it: layers applied in order, each streamed
 * exactly once, with OCI whiteouts (src/formats/whiteout.ts). While a file streams past,
 * content.ts keeps only what the rules need; nothing is held whole in memory except small
 * files that are scanned for secrets.
 */
import type { Readable } from "node:stream";
import { applyWhiteout, type Whiteout, type WhiteoutTarget, whiteoutOf } from "../formats/index.ts";
import { ContentAnalyzer, type ContentInfo } from "./content.ts";
import { VerifyError } from "./errors.ts";
import { type EntrySink, TarReader } from "./tar-read.ts";

export interface LayerSource {
  digest?: string;
  /** the uncompressed tar stream of the layer */
  open(): Promise<Readable>;
}

export interface FsNode {
  /** absolute, normalized: "/usr/bin/node" */
  path: string;
  type: "file" | "dir" | "symlink" | "other";
  /** permission bits incl. setuid/setgid/sticky */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** index of the layer that put this node here */
  layer: number;
  /** symlink target, as stored */
  linkname?: string;
  /** for a hard link: the path it links to */
  hardlinkOf?: string;
  /** synthesized parent directory (no entry in any layer) */
  implied?: boolean;
  content?: ContentInfo;
}

export interface WastedFile {
  path: string;
  size: number;
  layer: number;
  /** the later layer that overwrote or deleted it */
  by: number;
  how: "overwritten" | "deleted";
}

export function normalizePath(p: string): string {
  const out: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  return `/${out.join("/")}`;
}

export function dirnameOf(p: string): string {
  const i = p.lastIndexOf("/");
  return i <= 0 ? "/" : p.slice(0, i);
}

export function basenameOf(p: string): string {
  return p.slice(p.lastIndexOf("/") + 1);
}

/**
 * A layer entry that a naive extractor would write outside the root it unpacks into: an
 * absolute name, a name or hard-link target that climbs above the root with `..`, or an entry
 * written through a symlink whose target is absolute or climbs out. (shellfree's own unpacking,
 * runtime/unpack.ts, stays inside; verify reports them: rule layer-path-escape.)
 */
export interface UnsafeEntry {
  /** 0-based index of the layer */
  layer: number;
  /** the entry's name as stored in the tar */
  name: string;
  why: string;
}

/** Why `name` (a tar entry name or hard-link target) leaves the root, if it does. */
export function escapesRoot(name: string): string | undefined {
  if (name.startsWith("/")) return "is an absolute path";
  let depth = 0;
  for (const seg of name.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (depth === 0) return "climbs above the root with ..";
      depth--;
    } else depth++;
  }
  return undefined;
}

export interface ImageFsStats {
  /** bytes of regular files visible in the final filesystem (hard links counted once) */
  totalBytes: number;
  /** bytes of file content in all layers together */
  layerBytes: number[];
  wastedBytes: number;
}

export class ImageFs {
  readonly nodes = new Map<string, FsNode>();
  readonly wasted: WastedFile[] = [];
  readonly layerBytes: number[] = [];
  /** entries that would land outside the root of a naive extractor (rule layer-path-escape) */
  readonly unsafe: UnsafeEntry[] = [];

  get(path: string): FsNode | undefined {
    return this.nodes.get(normalizePath(path));
  }

  /**
   * Resolve `path` inside the image, following symlinks (absolute targets are relative to the
   * image root). Returns the node and its resolved path, or `missing` naming the first path
   * component that does not exist.
   */
  resolve(
    path: string,
    followFinal = true,
  ): { node: FsNode; path: string } | { missing: string; loop?: boolean } {
    let pending = normalizePath(path).split("/").filter(Boolean);
    let cur = "/";
    let hops = 0;
    while (pending.length > 0) {
      const seg = pending.shift() as string;
      const next = cur === "/" ? `/${seg}` : `${cur}/${seg}`;
      const node = this.nodes.get(next);
      if (!node) return { missing: next };
      if (node.type === "symlink" && (pending.length > 0 || followFinal)) {
        if (++hops > 40) return { missing: next, loop: true };
        const t = node.linkname ?? "";
        const base = t.startsWith("/") ? "/" : cur;
        const joined = normalizePath(`${base}/${t}`);
        pending = [...joined.split("/").filter(Boolean), ...pending];
        cur = "/";
        continue;
      }
      if (node.type !== "dir" && pending.length > 0) return { missing: `${next}/${pending[0]}` };
      cur = next;
    }
    const node = this.nodes.get(cur) ?? rootNode();
    return { node, path: cur };
  }

  stats(): ImageFsStats {
    let total = 0;
    for (const n of this.nodes.values()) if (n.type === "file" && !n.hardlinkOf) total += n.size;
    return {
      totalBytes: total,
      layerBytes: [...this.layerBytes],
      wastedBytes: this.wasted.reduce((a, w) => a + w.size, 0),
    };
  }

  /** Regular files (incl. hard links) in path order. */
  *files(): Generator<FsNode> {
    for (const n of this.nodes.values()) if (n.type === "file") yield n;
  }
}

function rootNode(): FsNode {
  return { path: "/", type: "dir", mode: 0o755, uid: 0, gid: 0, size: 0, layer: -1, implied: true };
}

function entryPath(name: string): string | undefined {
  const p = normalizePath(name);
  return p === "/" ? undefined : p;
}

/** Remove `path` and everything below it that came from a layer below `layer`. */
function removeTree(fs: ImageFs, path: string, layer: number, how: "deleted" | "overwritten"): void {
  const prefix = `${path}/`;
  for (const [p, n] of fs.nodes) {
    if ((p === path || p.startsWith(prefix)) && n.layer < layer) {
      if (n.type === "file" && !n.hardlinkOf && n.size > 0 && !n.implied) {
        fs.wasted.push({ path: p, size: n.size, layer: n.layer, by: layer, how });
      }
      fs.nodes.delete(p);
    }
  }
}

function ensureParents(fs: ImageFs, path: string, layer: number): void {
  let d = dirnameOf(path);
  const missing: string[] = [];
  while (d !== "/" && !fs.nodes.has(d)) {
    missing.push(d);
    d = dirnameOf(d);
  }
  for (const m of missing) {
    fs.nodes.set(m, { path: m, type: "dir", mode: 0o755, uid: 0, gid: 0, size: 0, layer, implied: true });
  }
}

type ScanOp = { op: "whiteout"; whiteout: Whiteout } | { op: "node"; node: FsNode };

export interface LayerScan {
  layer: number;
  ops: ScanOp[];
  /** entries whose own name or hard-link target leaves the root */
  unsafe: UnsafeEntry[];
  /** bytes of file content in the layer */
  bytes: number;
}

/**
 * Read one layer's tar stream: every entry in order, file contents analysed as they stream
 * past. Independent of the other layers, so several layers can be scanned at once.
 */
export async function scanLayer(layer: number, stream: Readable, digest?: string): Promise<LayerScan> {
  const ops: ScanOp[] = [];
  const unsafe: UnsafeEntry[] = [];
  let bytes = 0;
  const reader = new TarReader((h): EntrySink | undefined => {
    const why = escapesRoot(h.name);
    if (why) unsafe.push({ layer, name: h.name, why: `entry "${h.name}" ${why}` });
    if (h.type === "link") {
      const t = escapesRoot(h.linkname ?? "");
      if (t)
        unsafe.push({ layer, name: h.name, why: `hard link "${h.name}" to "${h.linkname}", which ${t}` });
    }
    const path = entryPath(h.name);
    if (!path) return undefined;
    const whiteout = whiteoutOf(path);
    if (whiteout) {
      ops.push({ op: "whiteout", whiteout });
      return undefined;
    }
    const type =
      h.type === "directory"
        ? "dir"
        : h.type === "symlink"
          ? "symlink"
          : h.type === "file" || h.type === "contiguous-file" || h.type === "link"
            ? "file"
            : "other";
    const node: FsNode = {
      path,
      type,
      mode: (h.mode ?? 0) & 0o7777,
      uid: h.uid ?? 0,
      gid: h.gid ?? 0,
      size: 0,
      layer,
    };
    if (h.type === "symlink") node.linkname = h.linkname ?? "";
    if (h.type === "link") node.hardlinkOf = normalizePath(h.linkname ?? "");
    else if (type === "file") {
      node.size = h.size ?? 0;
      bytes += node.size;
      if (node.size > 0) {
        const an = new ContentAnalyzer(path, node.size);
        return {
          data: (chunk) => an.push(chunk),
          end: () => {
            node.content = an.finish();
            ops.push({ op: "node", node });
          },
        };
      }
      node.content = {};
    }
    ops.push({ op: "node", node });
    return undefined;
  });
  try {
    for await (const chunk of stream) reader.push(chunk as Buffer);
    reader.end();
  } catch (e) {
    // numbered from 1, as the progress lines ("reading layer 1/3") count them
    const msg = (e as Error).message;
    const which = `layer ${layer + 1}${digest && !msg.includes(digest) ? ` (${digest})` : ""}`;
    throw new VerifyError("E_LAYER_READ", `cannot read ${which}: ${msg}`, {
      cause: e,
    });
  }
  return { layer, ops, unsafe, bytes };
}

/**
 * The first parent of `path` that is a symlink pointing out of the root (absolute, or climbing
 * above it), if any: an extractor that follows it writes the entry on the host.
 */
function escapingParent(fs: ImageFs, path: string): FsNode | undefined {
  const parts = path.split("/").filter(Boolean);
  let cur = "";
  for (let i = 0; i < parts.length - 1; i++) {
    cur = `${cur}/${parts[i]}`;
    const n = fs.nodes.get(cur);
    if (n?.type !== "symlink") continue;
    const t = n.linkname ?? "";
    // relative targets resolve from the symlink's directory
    const from = dirnameOf(cur).split("/").filter(Boolean).join("/");
    if (t.startsWith("/") || escapesRoot(from ? `${from}/${t}` : t)) return n;
  }
  return undefined;
}

/** Apply a scanned layer on top of `fs` (whiteouts, opaque dirs, overwrites, hard links). */
export function mergeLayer(fs: ImageFs, scan: LayerScan): void {
  const layer = scan.layer;
  const target: WhiteoutTarget = {
    removeTree: (path) => removeTree(fs, path, layer, "deleted"),
    clearLowerChildren: (dir) => {
      const prefix = dir === "/" ? "/" : `${dir}/`;
      for (const [p, n] of fs.nodes) {
        if (p.startsWith(prefix) && p !== dir && n.layer < layer) {
          if (n.type === "file" && !n.hardlinkOf && n.size > 0) {
            fs.wasted.push({ path: p, size: n.size, layer: n.layer, by: layer, how: "deleted" });
          }
          fs.nodes.delete(p);
        }
      }
    },
  };
  for (const o of scan.ops) {
    if (o.op === "whiteout") {
      applyWhiteout(o.whiteout, target);
      continue;
    }
    const node = o.node;
    const through = escapingParent(fs, node.path);
    if (through) {
      fs.unsafe.push({
        layer,
        name: node.path,
        why: `entry "${node.path}" is written through the symlink ${through.path} -> ${through.linkname}, which points out of the root`,
      });
    }
    const prev = fs.nodes.get(node.path);
    if (prev && prev.layer < layer && !(prev.type === "dir" && node.type === "dir")) {
      removeTree(fs, node.path, layer, "overwritten");
    }
    ensureParents(fs, node.path, layer);
    if (node.hardlinkOf) {
      const t = fs.nodes.get(node.hardlinkOf);
      if (t) {
        node.size = t.size;
        node.content = t.content;
        node.mode = t.mode;
      }
    }
    // a directory entry in a later layer updates metadata and keeps the children
    fs.nodes.set(node.path, node);
  }
  fs.layerBytes[layer] = scan.bytes;
  fs.unsafe.push(...scan.unsafe);
}

/** Layers scanned at the same time (decompression runs on the thread pool). */
export const LAYER_CONCURRENCY = 3;

/**
 * Build the filesystem view of an image from its layers: each streamed once; up to
 * `concurrency` (LAYER_CONCURRENCY) layers are read at the same time and merged strictly in order.
 */
export async function readImageFs(
  layers: LayerSource[],
  onLayer?: (i: number, layer: LayerSource) => void,
  concurrency = LAYER_CONCURRENCY,
): Promise<ImageFs> {
  const ahead = Math.max(1, Math.floor(concurrency));
  const fs = new ImageFs();
  const scans: Array<Promise<LayerScan>> = [];
  const start = (i: number) => {
    onLayer?.(i, layers[i]);
    const p = layers[i].open().then((stream) => scanLayer(i, stream, layers[i].digest));
    p.catch(() => {}); // handled when awaited in order below
    scans[i] = p;
  };
  for (let i = 0; i < Math.min(ahead, layers.length); i++) start(i);
  for (let i = 0; i < layers.length; i++) {
    const scan = await scans[i];
    if (i + ahead < layers.length) start(i + ahead);
    mergeLayer(fs, scan);
  }
  return fs;
}
