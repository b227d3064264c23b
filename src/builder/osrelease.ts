/**
 * /etc/os-release and /usr/lib/os-release: Debian's own fields (from base-files), quoted as
 * base-files quotes them (`ID=debian`, `VERSION_CODENAME=trixie`, `VERSION_ID="13"`), with a
 * PRETTY_NAME that says what the image is, e.g.
 * `PRETTY_NAME="shellfree image on Debian GNU/Linux 13 (trixie)"`, and VARIANT/VARIANT_ID.
 */

import { formatOsRelease, parseOsRelease, unquotedKeys } from "../formats/index.ts";

/** The fields base-files writes without quotes (trixie's; bookworm's are a subset). */
const DEBIAN_BARE = ["ID", "VERSION_CODENAME", "DEBIAN_VERSION_FULL"];

const CODENAMES: Record<string, string> = { bookworm: "12", trixie: "13", forky: "14", duke: "15" };

/**
 * @param debianOsRelease base-files' /usr/lib/os-release (undefined when absent)
 * @param debianVersion base-files' /etc/debian_version (e.g. "13.2"), for a fallback VERSION_ID
 */
export function osRelease(
  debianOsRelease: string | undefined,
  debianVersion: string | undefined,
  suite: string,
): string {
  const f = parseOsRelease(debianOsRelease ?? "");
  const codename = f.get("VERSION_CODENAME") ?? suite;
  // testing/unstable (e.g. "forky/sid") have no VERSION_ID: none is invented for them
  const versionId =
    f.get("VERSION_ID") ??
    (debianOsRelease === undefined
      ? (CODENAMES[codename] ?? debianVersion?.trim().split(".")[0])
      : undefined);
  const name = f.get("NAME") ?? "Debian GNU/Linux";
  const debianPretty =
    f.get("PRETTY_NAME") ?? (versionId ? `${name} ${versionId} (${codename})` : `${name} ${codename}`);
  const out = new Map<string, string>();
  out.set("PRETTY_NAME", `shellfree image on ${debianPretty}`);
  out.set("NAME", name);
  if (versionId) out.set("VERSION_ID", versionId);
  out.set("VERSION", f.get("VERSION") ?? (versionId ? `${versionId} (${codename})` : codename));
  out.set("VERSION_CODENAME", codename);
  if (f.get("DEBIAN_VERSION_FULL")) out.set("DEBIAN_VERSION_FULL", f.get("DEBIAN_VERSION_FULL") as string);
  out.set("ID", "debian");
  for (const [k, v] of f) if (!out.has(k)) out.set(k, v);
  out.set("VARIANT", "shellfree");
  out.set("VARIANT_ID", "shellfree");
  // Debian's quoting where its file is there, base-files' usual one otherwise; IDs bare
  const bare = new Set(debianOsRelease === undefined ? DEBIAN_BARE : unquotedKeys(debianOsRelease));
  bare.add("VARIANT_ID");
  return formatOsRelease(out, bare);
}
