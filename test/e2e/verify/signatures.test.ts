/**
 * verify's ELF identity (src/verify/signatures.ts) against Debian's REAL binaries, fetched from
 * the configured mirror with shellfree's own debian API: every shell Debian packages is found
 * as the shell it is (renamed, so by content alone), and no interpreter is called a shell —
 * CPython above all (its `endswith` once made it csh). bookworm and trixie, amd64 and arm64.
 * The interpreters whose executables carry their own start-up code (python, perl, php) are
 * found as interpreters by content.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { fetchDebs, loadUniverse, readDebs } from "../../../src/debian/index.ts";
import { ContentAnalyzer } from "../../../src/verify/content.ts";
import { archiveOptions, TEST_CACHE } from "../../helpers/mirror.ts";

interface Binary {
  pkg: string;
  path: string;
  data: Uint8Array;
}

/** The ELF files of the newest version of each named package (no dependencies). */
async function elfFiles(suite: string, arch: string, names: string[]): Promise<Binary[]> {
  const universe = await loadUniverse(archiveOptions(suite, arch));
  const pkgs = names.map((n) => {
    const p = universe.packages.find(
      (x) => x.name === n && (x.architecture === arch || x.architecture === "all"),
    );
    assert.ok(p, `${n} is in ${suite}/${arch}`);
    return p;
  });
  const debs = await fetchDebs(pkgs, { cacheDir: TEST_CACHE });
  const contents = await readDebs(
    debs.map((d) => d.path),
    { data: true },
  );
  const out: Binary[] = [];
  contents.forEach((c, i) => {
    for (const e of c.entries) {
      const d = e.data;
      if (
        e.type === "file" &&
        d &&
        d.length > 4 &&
        d[0] === 0x7f &&
        d[1] === 0x45 &&
        d[2] === 0x4c &&
        d[3] === 0x46
      ) {
        out.push({ pkg: pkgs[i].name, path: `/${e.path}`, data: d });
      }
    }
  });
  return out;
}

function analyse(b: Binary) {
  // a neutral name: identity must come from the bytes, and chunks cut strings anywhere
  const a = new ContentAnalyzer("/opt/renamed", b.data.length);
  const buf = Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength);
  for (let i = 0; i < buf.length; i += 65_521) a.push(buf.subarray(i, i + 65_521));
  return a.finish();
}

/** path → the shell signature it must match */
const SHELLS: Record<string, Record<string, string>> = {
  trixie: {
    "/usr/bin/dash": "posix-shell",
    "/usr/bin/bash": "bash",
    "/usr/bin/bash-static": "bash",
    "/usr/bin/busybox": "busybox",
    "/usr/bin/zsh": "zsh",
    "/usr/bin/zsh-static": "zsh",
    "/usr/bin/mksh": "posix-shell",
    "/usr/bin/lksh": "posix-shell",
    "/usr/bin/ksh93": "ksh",
    "/usr/bin/posh": "posix-shell",
    "/usr/bin/tcsh": "csh",
    "/usr/bin/bsd-csh": "csh",
    "/usr/bin/fish": "fish",
    "/usr/bin/toybox": "toybox",
  },
  bookworm: {
    "/bin/dash": "posix-shell",
    "/bin/bash": "bash",
    "/bin/busybox": "busybox",
    "/bin/zsh": "zsh",
    "/bin/mksh": "posix-shell",
    "/bin/lksh": "posix-shell",
    "/usr/bin/posh": "posix-shell",
    "/usr/bin/yash": "yash",
    "/bin/tcsh": "csh",
    "/bin/bsd-csh": "csh",
    "/usr/bin/fish": "fish",
  },
};

const SHELL_PACKAGES: Record<string, string[]> = {
  trixie: [
    "dash",
    "bash",
    "bash-static",
    "busybox",
    "zsh",
    "zsh-static",
    "mksh",
    "ksh93u+m",
    "posh",
    "tcsh",
    "csh",
    "fish",
    "toybox",
  ],
  bookworm: ["dash", "bash", "busybox", "zsh", "mksh", "posh", "yash", "tcsh", "csh", "fish"],
};

/** interpreters: path → the interpreter signature its executable must match (or null: found by name only) */
const INTERPRETERS: Record<string, Record<string, string | null>> = {
  trixie: {
    "/usr/bin/python3.13": "python",
    "/usr/bin/perl": "perl",
    "/usr/bin/php8.4": "php",
    "/usr/bin/node": null,
    "/usr/bin/ruby3.3": null,
    "/usr/bin/lua5.4": null,
    "/usr/bin/tclsh8.6": null,
    "/usr/bin/gawk": null,
    "/usr/bin/mawk": null,
  },
  bookworm: {
    "/usr/bin/python3.11": "python",
    "/usr/bin/perl": "perl",
    "/usr/bin/php8.2": "php",
    "/usr/bin/node": null,
    "/usr/bin/ruby3.1": null,
    "/usr/bin/lua5.4": null,
    "/usr/bin/tclsh8.6": null,
    "/usr/bin/mawk": null,
  },
};

const INTERPRETER_PACKAGES: Record<string, string[]> = {
  trixie: [
    "python3.13-minimal",
    "perl-base",
    "php8.4-cli",
    "nodejs",
    "ruby3.3",
    "libruby3.3",
    "lua5.4",
    "liblua5.4-0",
    "tcl8.6",
    "libtcl8.6",
    "gawk",
    "mawk",
  ],
  bookworm: [
    "python3.11-minimal",
    "perl-base",
    "php8.2-cli",
    "nodejs",
    "ruby3.1",
    "libruby3.1",
    "lua5.4",
    "liblua5.4-0",
    "tcl8.6",
    "libtcl8.6",
    "mawk",
  ],
};

for (const suite of ["trixie", "bookworm"]) {
  for (const arch of ["amd64", "arm64"]) {
    describe(`ELF identity on Debian ${suite} ${arch}`, () => {
      test("every shell is found by its content alone", async () => {
        const bins = await elfFiles(suite, arch, SHELL_PACKAGES[suite]);
        const seen = new Set<string>();
        for (const b of bins) {
          const want = SHELLS[suite][b.path];
          if (!want) continue;
          seen.add(b.path);
          assert.equal(analyse(b).shellSignature, want, `${b.pkg} ${b.path}`);
        }
        assert.deepEqual(
          [...seen].sort(),
          Object.keys(SHELLS[suite]).sort(),
          "every listed shell was checked",
        );
      });

      test("no interpreter (or any of its libraries and modules) is called a shell", async () => {
        const bins = await elfFiles(suite, arch, INTERPRETER_PACKAGES[suite]);
        assert.ok(bins.length > 20, `${bins.length} ELF files`);
        const seen = new Set<string>();
        for (const b of bins) {
          const info = analyse(b);
          assert.equal(info.shellSignature, undefined, `${b.pkg} ${b.path} is no shell`);
          if (b.path in INTERPRETERS[suite]) {
            seen.add(b.path);
            const want = INTERPRETERS[suite][b.path];
            if (want) assert.equal(info.interpreterSignature, want, `${b.pkg} ${b.path}`);
          } else if (!/\/(perl|python|php)/.test(b.path)) {
            // only the three interpreters above are recognised by content, and only their executables
            assert.equal(info.interpreterSignature, undefined, `${b.pkg} ${b.path}`);
          }
        }
        assert.deepEqual(
          [...seen].sort(),
          Object.keys(INTERPRETERS[suite]).sort(),
          "every listed interpreter was checked",
        );
      });
    });
  }
}
