/**
 * An image's file tree on the local disk, for the build steps that must run something of the
 * image (bytecode.ts runs the image's python over it): the layers written so far, unpacked in
 * order from their blobs, or the contents of a few .debs (the host's build of an interpreter).
 *
 * Only read afterwards, by this process's user: regular files, directories, symlinks and hard
 * links are made; owners and special bits are not applied (files get at least u+rw, directories
 * u+rwx) but are returned, with the modes, for the directories and the files `keep` selects, so
 * that a step adding files under them can repeat their metadata exactly (an upper layer's
 * directory entry replaces the lower one's owner and mode). Every path is made inside the root:
 * symlinks among its parents are followed as the image would follow them, with the root as `/`
 * (dpkg unpacking lib/x onto a merged-/usr system), never out of it.
 */
import { createReadStream } from "node:fs";
import { chmod, link, lstat, mkdir, readlink, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";
import type { DebContents } from "../debian/index.ts";
import { decompressor, type Layer } from "../oci/index.ts";
import { BuildError } from "./errors.ts";

/** Owner, mode and mtime of an entry as its layer states them. */
export interface EntryMeta {
  mode: number;
  uid: number;
  gid: number;
  mtime?: number;
}

export interface Materialized {
  root: string;
  /** every directory (relative path → metadata) */
  dirs: Map<string, EntryMeta>;
  /** the regular files `keep` selected */
  files: Map<string, EntryMeta>;
}

/** The parts of a tar path: no leading "./" or "/", no "." segments; ".." is refused. */
function parts(name: string): string[] {
  const out = name.split("/").filter((s) => s !== "" && s !== ".");
  if (out.includes(".."))
    throw new BuildError("E_BUILD", `layer entry ${JSON.stringify(name)} climbs with ..`);
  return out;
}

class Tree {
  readonly root: string;
  readonly dirs = new Map<string, EntryMeta>();
  readonly files = new Map<string, EntryMeta>();
  private readonly keep: (path: string) => boolean;
  constructor(root: string, keep: (path: string) => boolean) {
    this.root = root;
    this.keep = keep;
  }

  /**
   * The canonical path of `p`: its parents resolved through the tree's symlinks (absolute
   * targets from the root, ".." never above it), missing parents made as directories.
   */
  private async parents(p: string[]): Promise<string[]> {
    let rest = p.slice(0, -1);
    const done: string[] = [];
    let hops = 0;
    while (rest.length) {
      const seg = rest[0];
      rest = rest.slice(1);
      const rel = [...done, seg].join("/");
      if (this.dirs.has(rel)) {
        done.push(seg);
        continue;
      }
      const host = join(this.root, rel);
      const st = await lstat(host).catch(() => null);
      if (st?.isSymbolicLink()) {
        if (++hops > 40)
          throw new BuildError("E_BUILD", `/${p.join("/")}: too many levels of symbolic links`);
        const target = await readlink(host);
        const base = target.startsWith("/") ? [] : done;
        const joined: string[] = [];
        for (const s of [...base, ...target.split("/")]) {
          if (s === "" || s === ".") continue;
          if (s === "..") joined.pop();
          else joined.push(s);
        }
        done.length = 0;
        rest = [...joined, ...rest];
        continue;
      }
      if (st && !st.isDirectory()) {
        throw new BuildError(
          "E_BUILD",
          `/${p.join("/")}: its parent /${rel} is not a directory in the image`,
        );
      }
      if (!st) await mkdir(host, { mode: 0o755 });
      this.dirs.set(rel, { mode: 0o755, uid: 0, gid: 0 });
      done.push(seg);
    }
    return [...done, ...p.slice(-1)];
  }

  /** remove what is at `host` unless it is a directory and a directory is wanted */
  private async clear(host: string, keepDir: boolean): Promise<void> {
    const st = await lstat(host).catch(() => null);
    if (!st || (keepDir && st.isDirectory())) return;
    await rm(host, { recursive: true, force: true });
  }

  async dir(name: string, meta: EntryMeta): Promise<void> {
    const given = parts(name);
    if (!given.length) return;
    const p = await this.parents(given);
    const host = join(this.root, ...p);
    // a directory shipped where a symlink is keeps the symlink (as dpkg and rootfs.ts do)
    if ((await lstat(host).catch(() => null))?.isSymbolicLink()) return;
    await this.clear(host, true);
    await mkdir(host, { recursive: true });
    await chmod(host, (meta.mode & 0o777) | 0o700);
    this.dirs.set(p.join("/"), meta);
  }

  async file(name: string, meta: EntryMeta, data: Uint8Array): Promise<void> {
    const p = await this.parents(parts(name));
    const host = join(this.root, ...p);
    await this.clear(host, false);
    await writeFile(host, data, { mode: (meta.mode & 0o777) | 0o600 });
    const rel = p.join("/");
    if (this.keep(rel)) this.files.set(rel, meta);
  }

  async symlink(name: string, target: string): Promise<void> {
    const p = await this.parents(parts(name));
    const host = join(this.root, ...p);
    await this.clear(host, false);
    await symlink(target, host);
  }

  async hardlink(name: string, target: string, meta: EntryMeta): Promise<void> {
    const p = await this.parents(parts(name));
    const t = await this.parents(parts(target));
    const host = join(this.root, ...p);
    await this.clear(host, false);
    const st = await lstat(join(this.root, ...t)).catch(() => null);
    if (!st?.isFile()) {
      throw new BuildError("E_BUILD", `/${p.join("/")}: hard link to /${t.join("/")}, which is not a file`);
    }
    await link(join(this.root, ...t), host);
    const rel = p.join("/");
    if (this.keep(rel)) this.files.set(rel, meta);
  }
}

function compressionOf(mediaType: string): "gzip" | "zstd" | "none" {
  if (mediaType.endsWith("zstd")) return "zstd";
  if (mediaType.endsWith("gzip")) return "gzip";
  return "none";
}

/** Unpack `layers` (lowest first) into the empty directory `root`. */
export async function materializeLayers(
  layers: Layer[],
  root: string,
  keep: (path: string) => boolean = () => false,
): Promise<Materialized> {
  await mkdir(root, { recursive: true });
  const tree = new Tree(root, keep);
  for (const layer of layers) {
    const extract = tar.extract();
    const consume = (async () => {
      for await (const entry of extract) {
        const h = entry.header;
        const meta: EntryMeta = {
          mode: h.mode ?? 0o644,
          uid: h.uid ?? 0,
          gid: h.gid ?? 0,
          mtime: h.mtime ? Math.floor(h.mtime.getTime() / 1000) : undefined,
        };
        if (h.type === "file") {
          const chunks: Buffer[] = [];
          for await (const c of entry) chunks.push(c as Buffer);
          await tree.file(h.name, meta, Buffer.concat(chunks));
          continue;
        }
        entry.resume();
        if (h.type === "directory") await tree.dir(h.name, meta);
        else if (h.type === "symlink") await tree.symlink(h.name, h.linkname ?? "");
        else if (h.type === "link") await tree.hardlink(h.name, h.linkname ?? "", meta);
        // device nodes and FIFOs: nothing to run there
      }
    })();
    const source = createReadStream(layer.path);
    const decode = decompressor(compressionOf(layer.mediaType));
    await Promise.all([decode ? pipeline(source, decode, extract) : pipeline(source, extract), consume]);
  }
  return { root, dirs: tree.dirs, files: tree.files };
}

/** Unpack the data of several .debs (read with `data: true`) into the empty directory `root`. */
export async function materializeDebs(debs: DebContents[], root: string): Promise<void> {
  await mkdir(root, { recursive: true });
  const tree = new Tree(root, () => false);
  for (const deb of debs) {
    for (const e of deb.entries) {
      const meta = { mode: e.mode, uid: e.uid, gid: e.gid };
      if (e.type === "dir") await tree.dir(e.path, meta);
      else if (e.type === "file") await tree.file(e.path, meta, e.data ?? new Uint8Array());
      else if (e.type === "symlink") await tree.symlink(e.path, e.linkTarget ?? "");
      else await tree.hardlink(e.path, e.linkTarget ?? "", meta);
    }
  }
}
