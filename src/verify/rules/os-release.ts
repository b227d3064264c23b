/**
 * os-release: /etc/os-release (or /usr/lib/os-release) is present, and a Debian release is not
 * past its end of life. The dates are the (approximate) end of Debian LTS for each release, from
 * the Debian LTS schedule as published in 2026; the archive's own announcements are the
 * authority — update the table when they move.
 */
import { parseOsRelease } from "../../formats/index.ts";
import { nodeText } from "./lookup.ts";
import type { RawFinding, Rule } from "./types.ts";

/** Debian major version → approximate end of life (end of LTS), ISO date. */
export const DEBIAN_EOL: Record<string, { codename: string; eol: string }> = {
  "8": { codename: "jessie", eol: "2020-06-30" },
  "9": { codename: "stretch", eol: "2022-06-30" },
  "10": { codename: "buster", eol: "2024-06-30" },
  "11": { codename: "bullseye", eol: "2026-08-31" },
  "12": { codename: "bookworm", eol: "2028-06-30" },
  "13": { codename: "trixie", eol: "2030-06-30" },
};

export const rule: Rule = {
  id: "os-release",
  title: "os-release present, release supported",
  description:
    "/etc/os-release exists (scanners need it) and the Debian release is not past its end of life.",
  defaultSeverity: "error",
  hint: "keep base-files in the image (it ships /usr/lib/os-release) and build on a supported Debian release",
  securitySeverity: 7.0,
  tags: ["security", "container", "end-of-life", "external/cwe/cwe-1104"],
  precision: "high",
  check({ fs, now, options }) {
    const text = nodeText(fs, "/etc/os-release") ?? nodeText(fs, "/usr/lib/os-release");
    if (text === undefined)
      return [
        {
          path: "/etc/os-release",
          message: "/etc/os-release is missing: scanners cannot tell what the image is built from",
        },
      ];
    const os = parseOsRelease(text);
    const out: RawFinding[] = [];
    const id = os.get("ID") ?? "";
    if (id !== "debian") {
      out.push({
        path: "/etc/os-release",
        severity: "info",
        message: `the image is ${os.get("PRETTY_NAME") ?? (id || "an unknown OS")}, not Debian: end of life not checked`,
      });
      return out;
    }
    const major = (os.get("VERSION_ID") ?? "").split(".")[0];
    if (!major) {
      out.push({
        path: "/etc/os-release",
        severity: "info",
        message: `${os.get("PRETTY_NAME") ?? "Debian"} has no VERSION_ID (testing/unstable): no end-of-life date`,
      });
      return out;
    }
    const e = DEBIAN_EOL[major];
    if (!e) {
      if (Number(major) < 8)
        out.push({ path: "/etc/os-release", message: `Debian ${major} is long past its end of life` });
      else
        out.push({
          path: "/etc/os-release",
          severity: "info",
          message: `Debian ${major}: end of life not known to this version of shellfree`,
        });
      return out;
    }
    const eol = new Date(`${e.eol}T23:59:59Z`);
    const warnDays = typeof options["warn-days"] === "number" ? (options["warn-days"] as number) : 180;
    const days = Math.floor((eol.getTime() - now.getTime()) / 86400000);
    if (days < 0)
      out.push({
        path: "/etc/os-release",
        message: `Debian ${major} (${e.codename}) reached its end of life on about ${e.eol}`,
        hint: "rebuild on a supported Debian release",
      });
    else if (days < warnDays)
      out.push({
        path: "/etc/os-release",
        severity: "warning",
        message: `Debian ${major} (${e.codename}) reaches its end of life on about ${e.eol} (${days} days)`,
        hint: "plan the move to the next Debian release",
      });
    return out;
  },
};
