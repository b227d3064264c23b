/**
 * What the builder needs to know about one .deb, without its file contents: control fields,
 * md5sums, conffiles, alternatives its postinst registers, every entry's metadata with a
 * SHA256 (and MD5) of its content, and the few small files the generators read (copyright,
 * CA certificates, os-release). Cached as JSON by the .deb's SHA256, so a warm build never
 * decompresses a package whose layer is already cached.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type ContentSpool,
  DEB_READER_VERSION,
  type DebContents,
  type DebEntry,
  entryContent,
  readDeb,
} from "../debian/index.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { type AltInstall, parseAlternatives } from "./alternatives.ts";
import { isCaCertificate } from "./cacerts.ts";

/**
 * Cached DebInfo is valid only for the code that made it: bump DEBINFO_FORMAT with any change
 * to what debInfoFromContents returns — here, or in what it calls (parseAlternatives,
 * isCaCertificate). The .deb reader's own version is part of it.
 */
const DEBINFO_FORMAT = 1;
export const DEBINFO_VERSION = `${DEBINFO_FORMAT}.${DEB_READER_VERSION}`;

/** A .deb's data entry as the metadata cache keeps it: no content, but its digest. */
export type DebInfoEntry = Omit<DebEntry, "data"> & {
  /**
   * hex MD5 of the content, files only: the one the package's md5sums file lists (what dpkg
   * checks), computed only for files it does not list (conffiles, packages without md5sums).
   * Also how the rootfs plan tells two packages' copies of one path apart (with the size).
   */
  md5?: string;
};

/** path (relative, "usr/bin/x") → md5 of a md5sums file */
function md5sumsMap(text: string | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of (text ?? "").split("\n")) {
    const x = /^([0-9a-f]{32}) [ *]?(.*)$/.exec(line);
    if (x) m.set(x[2].replace(/^\.?\//, ""), x[1]);
  }
  return m;
}

export interface DebInfo {
  version: string;
  debSha256: string;
  control: Record<string, string>;
  controlText: string;
  md5sums?: string;
  /** conffile paths, relative ("etc/x") */
  conffiles: string[];
  alternatives: AltInstall[];
  entries: DebInfoEntry[];
  /** relative path → base64 content of the small files the generators read */
  extracts: Record<string, string>;
}

/** Small files kept in DebInfo. */
export function isExtract(path: string): boolean {
  return (
    /^usr\/share\/doc\/[^/]+\/copyright$/.test(path) ||
    isCaCertificate(path) ||
    path === "usr/lib/os-release" ||
    path === "etc/os-release" ||
    path === "etc/debian_version"
  );
}

const dec = new TextDecoder();

export function debInfoFromContents(c: DebContents, debSha256: string, pkgName?: string): DebInfo {
  const cf = (n: string) => {
    const b = c.controlFiles.get(n);
    return b ? dec.decode(b) : undefined;
  };
  const alternatives = parseAlternatives(cf("postinst") ?? "").map((a) => ({
    ...a,
    package: pkgName ?? c.control.Package,
  }));
  const conffiles = (cf("conffiles") ?? "")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("/"))
    .map((l) => l.replace(/^remove-on-upgrade\s+/, "").slice(1));
  const extracts: Record<string, string> = {};
  const listed = md5sumsMap(cf("md5sums"));
  const entries: DebInfoEntry[] = c.entries.map((e) => {
    const out: DebInfoEntry = {
      path: e.path,
      type: e.type,
      mode: e.mode,
      uid: e.uid,
      gid: e.gid,
      mtime: e.mtime,
      size: e.size,
    };
    if (e.linkTarget !== undefined) out.linkTarget = e.linkTarget;
    if (e.type === "file") {
      // (the content is read only when needed: from a spool it is read back from disk)
      let data: Uint8Array | undefined;
      const content = () => {
        data ??= entryContent(c, e);
        return data;
      };
      const size = e.data ? e.data.length : c.spool && e.at !== undefined ? e.size : 0;
      // (a listed file of the wrong size is hashed: its listed sum would be wrong anyway)
      const known = listed.get(e.path);
      out.md5 =
        known !== undefined && e.size === size ? known : createHash("md5").update(content()).digest("hex");
      if (isExtract(e.path)) extracts[e.path] = Buffer.from(content()).toString("base64");
    }
    return out;
  });
  return {
    version: DEBINFO_VERSION,
    debSha256,
    control: c.control,
    controlText: c.controlText,
    md5sums: cf("md5sums"),
    conffiles,
    alternatives,
    entries,
    extracts,
  };
}

function infoPath(cacheDir: string, sha256: string): string {
  return join(cacheDir, "build", "debinfo", `${sha256}.json`);
}

/**
 * DebInfo for the .deb at `path` (whose SHA256 the archive verified): from the cache, or by
 * reading the .deb — then the full contents are returned too, for the layer writer to use
 * (the files' bytes in `spool` when given, else in memory).
 */
export async function loadDebInfo(
  path: string,
  sha256: string,
  cacheDir: string,
  pkgName?: string,
  spool?: ContentSpool,
): Promise<{ info: DebInfo; contents?: DebContents }> {
  const p = infoPath(cacheDir, sha256);
  try {
    const info = JSON.parse(await readFile(p, "utf8")) as DebInfo;
    if (info.version === DEBINFO_VERSION && info.debSha256 === sha256) return { info };
  } catch {
    // not cached (or unreadable): read the .deb
  }
  const contents = await readDeb(path, { spool });
  const info = debInfoFromContents(contents, sha256, pkgName);
  await writeFileAtomic(p, JSON.stringify(info));
  return { info, contents };
}

export function extractText(info: DebInfo, path: string): string | undefined {
  const b = info.extracts[path];
  return b === undefined ? undefined : Buffer.from(b, "base64").toString("utf8");
}
