/**
 * Unpack an image's layers into a host directory (a bundle's rootfs), applying OCI whiteouts.
 * Every path is resolved inside the rootfs without ever following a symlink out of it (a layer
 * that plants `etc -> /etc` and then writes `etc/passwd` writes the rootfs' file, not the host's).
 * Ownership, modes (incl. setuid), symlinks and hard links are kept; device nodes are skipped
 * (runc provides /dev).
 */
import { createWriteStream } from "node:fs";
import { chmod, lchown, link, lstat, mkdir, readdir, readlink, rm, symlink, utimes } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";
import { applyWhiteout, type WhiteoutTarget, whiteoutOf } from "../formats/index.ts";
import { RuntimeError } from "./errors.ts";

export interface UnpackLayer {
  open(): Promise<Readable>;
}

function clean(name: string): string[] {
  const out: string[] = [];
  for (const s of name.split("/")) {
    if (s === "" || s === ".") continue;
    if (s === "..") out.pop();
    else out.push(s);
  }
  return out;
}

/**
 * The host path of image path `parts` under `root`, with every *parent* component resolved
 * inside root (symlinks followed within root, never out of it). The last component is not
 * followed.
 */
export async function secureJoin(root: string, parts: string[]): Promise<string> {
  const resolved: string[] = [];
  const pending = parts.slice(0, -1);
  let hops = 0;
  while (pending.length) {
    const seg = pending.shift() as string;
    const host = join(root, ...resolved, seg);
    const st = await lstat(host).catch(() => null);
    if (st?.isSymbolicLink()) {
      if (++hops > 64) throw new RuntimeError("E_UNPACK", `too many symlinks resolving /${parts.join("/")}`);
      const t = await readlink(host);
      // absolute targets start at the rootfs; ".." never climbs above it (clean() stops at root)
      const joined = clean([...(t.startsWith("/") ? [] : resolved), ...t.split("/")].join("/"));
      resolved.length = 0;
      pending.unshift(...joined);
      continue;
    }
    resolved.push(seg);
  }
  return join(root, ...resolved, ...(parts.length ? [parts[parts.length - 1]] : []));
}

async function ensureDir(root: string, parts: string[]): Promise<void> {
  for (let i = 1; i <= parts.length; i++) {
    const p = await secureJoin(root, parts.slice(0, i));
    const st = await lstat(p).catch(() => null);
    if (st?.isDirectory() || st?.isSymbolicLink()) continue; // a symlink is followed (inside root) below
    if (st) await rm(p, { recursive: true, force: true });
    await mkdir(p, { mode: 0o755 });
  }
  // the directory a symlinked parent points to may not exist yet: create it, resolved inside root
  const resolved = dirname(await secureJoin(root, [...parts, "x"]));
  await mkdir(resolved, { recursive: true, mode: 0o755 });
}

/** The host directory of image directory `dirParts` under `root` (resolved inside root). */
async function hostDir(root: string, dirParts: string[]): Promise<string> {
  return (await secureJoin(root, [...dirParts, "x"])).slice(0, -2);
}

/** Whiteouts on the unpacked tree: what this layer wrote (`written`) stays. */
function hostWhiteoutTarget(root: string, written: Set<string>): WhiteoutTarget {
  return {
    async removeTree(path) {
      const parts = path.split("/");
      const dir = await hostDir(root, parts.slice(0, -1));
      await rm(join(dir, parts[parts.length - 1]), { recursive: true, force: true });
    },
    async clearLowerChildren(dirPath) {
      const dirParts = dirPath === "" ? [] : dirPath.split("/");
      const dir = await hostDir(root, dirParts);
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const name of names) {
        if (!written.has([...dirParts, name].join("/")))
          await rm(join(dir, name), { recursive: true, force: true });
      }
    },
  };
}

/** Apply one layer to `root`. */
export async function unpackLayer(root: string, stream: Readable): Promise<void> {
  const extract = tar.extract();
  const written = new Set<string>();
  const dirModes: Array<[string, number, Date]> = [];
  const target = hostWhiteoutTarget(root, written);
  const consume = (async () => {
    for await (const entry of extract) {
      const h = entry.header;
      const parts = clean(h.name);
      if (parts.length === 0) {
        entry.resume();
        continue;
      }
      const key = parts.join("/");
      await ensureDir(root, parts.slice(0, -1));
      const whiteout = whiteoutOf(key);
      if (whiteout) {
        await applyWhiteout(whiteout, target);
        entry.resume();
        continue;
      }
      written.add(key);
      const host = await secureJoin(root, parts);
      const existing = await lstat(host).catch(() => null);
      const mode = (h.mode ?? 0o644) & 0o7777;
      const mtime = h.mtime ?? new Date(0);
      if (h.type === "directory") {
        if (existing && !existing.isDirectory()) await rm(host, { recursive: true, force: true });
        if (!existing?.isDirectory()) await mkdir(host, { mode: 0o700 });
        await lchown(host, h.uid ?? 0, h.gid ?? 0);
        dirModes.push([host, mode, mtime]);
        entry.resume();
        continue;
      }
      if (existing) await rm(host, { recursive: true, force: true });
      if (h.type === "file" || h.type === "contiguous-file") {
        await pipeline(entry, createWriteStream(host, { mode: 0o600 }));
        await lchown(host, h.uid ?? 0, h.gid ?? 0);
        await chmod(host, mode); // after chown: chown clears setuid
        await utimes(host, mtime, mtime);
      } else if (h.type === "symlink") {
        await symlink(h.linkname ?? "", host);
        await lchown(host, h.uid ?? 0, h.gid ?? 0);
        entry.resume();
      } else if (h.type === "link") {
        const target = await secureJoin(root, clean(h.linkname ?? ""));
        try {
          await link(target, host);
        } catch (e) {
          throw new RuntimeError(
            "E_UNPACK",
            `hard link /${key} → /${h.linkname}: ${(e as NodeJS.ErrnoException).code}`,
          );
        }
        entry.resume();
      } else {
        // character/block devices, fifos: not needed (runc mounts /dev)
        entry.resume();
      }
    }
  })();
  try {
    await Promise.all([pipeline(stream, extract), consume]);
  } catch (e) {
    if (e instanceof RuntimeError) throw e;
    throw new RuntimeError("E_UNPACK", `cannot unpack layer: ${(e as Error).message}`, { cause: e });
  }
  // directory modes last (a 0555 directory must still receive its children)
  for (const [p, m, t] of dirModes.reverse()) {
    await chmod(p, m);
    await utimes(p, t, t);
  }
}

/** Unpack all layers in order into `root` (created if missing). */
export async function unpackImage(root: string, layers: UnpackLayer[]): Promise<void> {
  await mkdir(root, { recursive: true, mode: 0o755 });
  for (const l of layers) await unpackLayer(root, await l.open());
}
