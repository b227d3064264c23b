import type { Preset } from "./index.ts";
import { perSuite } from "./suites.ts";

/**
 * distroless/python3 (`python3-debian12` on bookworm, `python3-debian13` on trixie): static +
 * Debian's own CPython — `python3` (/usr/bin/python3 → python3.X, the standard library with
 * ssl, sqlite3, ctypes, zoneinfo over tzdata) — and no pip or ensurepip (Debian ships those in
 * python3-pip and python3.X-venv), nor glibc's iconv modules (gconv). The build compiles every .py to bytecode with this
 * interpreter (spec `python.bytecode`). The CPython version is the suite's default: named per
 * suite where the preset means a specific one.
 */
export const python: Preset = {
  description:
    "static + libc6 + Debian's python3 (3.11 on bookworm, 3.13 on trixie), no pip; bytecode compiled at build",
  extends: "static",
  packages: perSuite(["libc6", "python3"], {
    bookworm: ["python3.11"],
    trixie: ["python3.13"],
    forky: [],
    sid: [],
  }),
  fragment: {
    // glibc's iconv modules (8 MiB): CPython's codecs are its own (a spec whose C extensions
    // call iconv cannot take them back yet: use preset base + python3 instead)
    packages: { dropPaths: [{ glob: "/usr/lib/*/gconv", where: "preset python" }] },
    config: { entrypoint: ["/usr/bin/python3"] },
  },
};
