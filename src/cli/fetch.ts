/**
 * `shellfree fetch --suite trixie --arch amd64 PKG... -o DIR`: resolve the closure, download
 * every .deb into the verified cache and place them in DIR as `name_version_arch.deb` (epoch
 * colon written `%3a`, as dpkg does), hard-linked from the cache when possible.
 */
import { copyFile, link, mkdir, rename, rm, stat } from "node:fs/promises";
import { join, resolve as resolvePath } from "node:path";
import type { Command } from "commander";
import { type BinaryPackage, DebianError, fetchDebs, resolve } from "../debian/index.ts";
import { tempPathFor } from "../util/atomic.ts";
import { defaultCacheDir } from "../util/cache-dir.ts";
import { ioError, ioErrorUnder } from "../util/io-error.ts";
import { humanBytes } from "../util/progress.ts";
import { addArchiveOptions, universeFromOptions } from "./archive-options.ts";
import { action, addOutputOption, collectList, output, outputValue } from "./common.ts";

/** `name_version_arch.deb`, the epoch's colon encoded as `%3a`. */
export function debFileName(p: Pick<BinaryPackage, "name" | "version" | "architecture">): string {
  return `${p.name}_${p.version.replace(/:/g, "%3a")}_${p.architecture}.deb`;
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

/** Place `src` at `dest` atomically: a hard link when the file system allows, else a copy. */
async function placeFile(src: string, dest: string): Promise<void> {
  const tmp = tempPathFor(dest);
  try {
    try {
      await link(src, tmp);
    } catch {
      await copyFile(src, tmp);
    }
    await rename(tmp, dest);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

interface FetchOpts extends Record<string, unknown> {
  output?: string;
  out?: string;
  exclude?: string[];
  withRecommends?: boolean;
  concurrency?: string;
  json?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command("fetch")
    .description(
      "resolve packages and download their closure (signature- and SHA256-verified) into a directory",
    )
    .argument("<packages...>", "package names (name, name=version)");
  addOutputOption(cmd, "<dir>", "directory to place the .deb files in")
    .option(
      "--exclude <list>",
      "package names to leave out of the closure (repeatable, comma-separated)",
      collectList,
      [],
    )
    .option("--with-recommends", "follow Recommends too")
    .option("--concurrency <n>", "parallel downloads", "8")
    .option("--json", "print the result as JSON");
  addArchiveOptions(cmd).action(
    action(async (packages: string[], opts: FetchOpts) => {
      const concurrency = Number(opts.concurrency ?? 8);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
        throw new DebianError("E_USAGE", `--concurrency must be an integer from 1 to 64`, { exitCode: 2 });
      }
      const { universe, archive } = await universeFromOptions(opts);
      const res = resolve(universe, packages, {
        exclude: opts.exclude,
        withRecommends: opts.withRecommends === true,
      });
      const cacheDir = resolvePath(archive.cacheDir ?? defaultCacheDir());
      const got = await fetchDebs(res.packages, { cacheDir, concurrency }).catch((e) => {
        throw ioErrorUnder(e, cacheDir, `cannot write the cache ${cacheDir}`);
      });
      const out = resolvePath(outputValue(opts));
      const files: Array<{
        name: string;
        version: string;
        architecture: string;
        file: string;
        sha256: string;
        size: number;
        cached: boolean;
      }> = [];
      for (const r of got) {
        const file = debFileName(r.pkg);
        files.push({
          name: r.pkg.name,
          version: r.pkg.version,
          architecture: r.pkg.architecture,
          file,
          sha256: r.pkg.sha256,
          size: r.pkg.size,
          cached: r.cached,
        });
      }
      // all or nothing: on a failure the files placed (and the directory, if made) go again
      const made = await mkdir(out, { recursive: true }).catch((e) => {
        throw ioError(e, `cannot write --out ${out}`);
      });
      const placed: string[] = [];
      try {
        for (const [i, r] of got.entries()) {
          const dest = join(out, files[i].file);
          if (!(await exists(dest))) placed.push(dest);
          await placeFile(r.path, dest);
        }
      } catch (e) {
        await Promise.all(placed.map((p) => rm(p, { force: true })));
        if (made) await rm(made, { recursive: true, force: true }).catch(() => {});
        throw ioError(e, `cannot write --out ${out}`);
      }
      const bytes = files.reduce((s, f) => s + f.size, 0);
      const hits = files.filter((f) => f.cached).length;
      output(
        opts.json === true,
        {
          out,
          count: files.length,
          bytes,
          cacheHits: hits,
          downloaded: files.length - hits,
          packages: files,
          excluded: res.excluded,
        },
        () => {
          const lines = [
            `${files.length} packages, ${humanBytes(bytes)} in ${out} (${hits} from the cache, ${files.length - hits} downloaded)`,
          ];
          for (const x of res.excluded) lines.push(`excluded ${x.name} (wanted by ${x.wantedBy.join(", ")})`);
          return lines.join("\n");
        },
      );
    }),
  );
}
