/**
 * The archive flags shared by every command that reads a Debian archive (resolve, fetch,
 * build, ...), and the step from those flags to a loaded PackageUniverse.
 */
import { resolve as resolvePath } from "node:path";
import type { Command } from "commander";
import {
  type ArchiveOptions,
  configuredSources,
  DebianError,
  loadUniverse,
  type PackageUniverse,
} from "../debian/index.ts";
import { defaultCacheDir } from "../util/cache-dir.ts";
import { ioErrorUnder } from "../util/io-error.ts";
import { addTimeoutOption, collectList } from "./common.ts";

export const ARCHES = ["amd64", "arm64"];

export function addArchiveOptions(cmd: Command): Command {
  return addTimeoutOption(cmd)
    .option("--suite <suite>", "Debian suite (codename or alias)", "trixie")
    .option("--arch <arch>", `architecture (${ARCHES.join(", ")})`, "amd64")
    .option("--mirror <url>", "Debian archive URL (default: $SHELLFREE_MIRROR, else the host's apt sources)")
    .option("--security", "add <suite>-security from the security mirror")
    .option(
      "--extra-suite <suite>",
      "an extra suite on the same mirror, e.g. trixie-updates (repeatable)",
      collectList,
      [],
    )
    .option("--components <list>", "comma-separated components", "main")
    .option(
      "--keyring <file>",
      "OpenPGP keyring the archive must be signed with (default: the host's Debian archive keyring)",
    )
    .option("--allow-expired", "accept a Release whose Valid-Until has passed")
    .option("--cache-dir <dir>", "cache directory (default: $XDG_CACHE_HOME/shellfree)");
}

/** ArchiveOptions from parsed flags (see addArchiveOptions). */
export function archiveFromOptions(opts: Record<string, unknown>): ArchiveOptions {
  const str = (k: string) =>
    typeof opts[k] === "string" && opts[k] !== "" ? (opts[k] as string) : undefined;
  const arch = str("arch") ?? "amd64";
  if (!ARCHES.includes(arch)) {
    throw new DebianError("E_SOURCES", `unsupported architecture ${JSON.stringify(arch)}`, {
      hint: `use --arch ${ARCHES.join(" or ")}`,
      exitCode: 2,
    });
  }
  const components = (str("components") ?? "main")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const extra = Array.isArray(opts.extraSuite) ? (opts.extraSuite as string[]) : [];
  const sources = configuredSources({
    suite: str("suite") ?? "trixie",
    mirror: typeof opts.mirror === "string" ? opts.mirror : undefined,
    components,
    security: opts.security === true,
    extraSuites: extra,
  });
  return {
    sources,
    arch,
    keyring: str("keyring"),
    allowExpired: opts.allowExpired === true,
    cacheDir: str("cacheDir"),
  };
}

export async function universeFromOptions(
  opts: Record<string, unknown>,
): Promise<{ universe: PackageUniverse; archive: ArchiveOptions }> {
  const archive = archiveFromOptions(opts);
  const cacheDir = resolvePath(archive.cacheDir ?? defaultCacheDir());
  const universe = await loadUniverse(archive).catch((e) => {
    throw ioErrorUnder(e, cacheDir, `cannot write the cache ${cacheDir}`);
  });
  return { universe, archive };
}
