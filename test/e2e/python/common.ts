/**
 * Image roots for the Python e2e tests: real Debian packages (the configured mirror, the
 * shared test cache), resolved, fetched and unpacked with shellfree's own debian API into one
 * directory — the same files the builder would put in an image, without building one.
 */
import { chmod, link, lstat, mkdir, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fetchDebs, loadUniverse, readDebs, resolve } from "../../../src/debian/index.ts";
import type { BinaryPackage } from "../../../src/debian/types.ts";
import { type PythonTarget, targetFromDebian } from "../../../src/python/index.ts";
import { archiveOptions, TEST_CACHE } from "../../helpers/mirror.ts";

export interface ImageRoot {
  root: string;
  target: PythonTarget;
  packages: BinaryPackage[];
}

/** Unpack the closure of `packages` for `suite`/`arch` into `root` (created). */
export async function imageRoot(
  root: string,
  suite: string,
  arch: string,
  packages: string[],
): Promise<ImageRoot> {
  const universe = await loadUniverse(archiveOptions(suite, arch));
  const closure = resolve(universe, packages).packages;
  const debs = await fetchDebs(closure, { cacheDir: TEST_CACHE });
  const contents = await readDebs(
    debs.map((d) => d.path),
    { data: true },
  );
  await mkdir(root, { recursive: true });
  for (const deb of contents) {
    for (const e of deb.entries) {
      const dest = join(root, e.path);
      await mkdir(dirname(dest), { recursive: true });
      const existing = await lstat(dest).catch(() => null);
      switch (e.type) {
        case "dir":
          if (!existing) await mkdir(dest, { mode: e.mode });
          break;
        case "file":
          if (existing) break; // shared between packages (identical by Debian policy)
          await writeFile(dest, e.data ?? new Uint8Array(), { mode: e.mode });
          await chmod(dest, e.mode);
          break;
        case "symlink":
          if (!existing) await symlink(e.linkTarget!, dest);
          break;
        case "hardlink":
          if (!existing) await link(join(root, e.linkTarget!), dest);
          break;
      }
    }
  }
  const version = (name: string) => {
    const p = closure.find((x) => x.name === name);
    if (!p) throw new Error(`${name} is not in the closure of ${packages.join(" ")}`);
    return p.version;
  };
  const py = closure.find((p) => /^python3\.\d+-minimal$/.test(p.name));
  if (!py) throw new Error("no python3.X-minimal in the closure");
  return {
    root,
    target: targetFromDebian({ arch, pythonVersion: py.version, libcVersion: version("libc6") }),
    packages: closure,
  };
}
