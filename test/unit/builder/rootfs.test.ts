import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { DebInfo, DebInfoEntry } from "../../../src/builder/debinfo.ts";
import {
  canonicalPath,
  GeneratedLayer,
  isDropped,
  packageLayerEntries,
  planRootfs,
} from "../../../src/builder/rootfs.ts";

const dir = (path: string): DebInfoEntry => ({
  path,
  type: "dir",
  mode: 0o755,
  uid: 0,
  gid: 0,
  mtime: 1,
  size: 0,
});
const file = (path: string, sha = "a", size = 1): DebInfoEntry => ({
  path,
  type: "file",
  mode: 0o644,
  uid: 0,
  gid: 0,
  mtime: 1,
  size,
  md5: sha,
});
const link = (path: string, target: string): DebInfoEntry => ({
  path,
  type: "symlink",
  mode: 0o777,
  uid: 0,
  gid: 0,
  mtime: 1,
  size: 0,
  linkTarget: target,
});
function info(
  name: string,
  entries: DebInfoEntry[],
  extra: Record<string, string> = {},
): { name: string; architecture: string; info: DebInfo } {
  return {
    name,
    architecture: "amd64",
    info: {
      version: "test",
      debSha256: name,
      control: { Package: name, ...extra },
      controlText: `Package: ${name}\n`,
      conffiles: [],
      alternatives: [],
      entries,
      extracts: {},
    },
  };
}

const baseFiles = info("base-files", [
  dir("usr"),
  dir("usr/lib"),
  dir("usr/lib64"),
  link("lib", "usr/lib"),
  link("lib64", "usr/lib64"),
  link("bin", "usr/bin"),
]);

describe("rootfs plan", () => {
  test("drop policy keeps copyright files", () => {
    assert.equal(isDropped("usr/share/doc/libc6/copyright"), false);
    assert.equal(isDropped("usr/share/doc/libc6"), false);
    assert.equal(isDropped("usr/share/doc/libc6/changelog.Debian.gz"), true);
    assert.equal(isDropped("usr/share/man/man1/x.1.gz"), true);
    assert.equal(isDropped("usr/share/locale/de/LC_MESSAGES/x.mo"), true);
    assert.equal(isDropped("etc/init.d/squid"), true);
    assert.equal(isDropped("usr/share/zoneinfo/UTC"), false);
    assert.equal(isDropped("usr/sbin/update-ca-certificates"), true);
    assert.equal(isDropped("usr/sbin/update-ca-certificates.d"), false);
    assert.equal(isDropped("usr/share/python3/runtime.d/public_modules.rtinstall"), true);
    assert.equal(isDropped("usr/share/python3/runtime.d/public_modules.rtremove"), true);
    assert.equal(isDropped("usr/share/python3/debian_defaults"), false);
  });

  test("base-files first: paths under /lib land in usr/lib, a shipped lib/ dir keeps the symlink", () => {
    const libc = info("libc6", [
      dir("lib"),
      dir("lib/x86_64-linux-gnu"),
      file("lib/x86_64-linux-gnu/libc.so.6"),
      dir("usr/share/doc/libc6"),
      file("usr/share/doc/libc6/copyright"),
      file("usr/share/doc/libc6/NEWS.gz"),
    ]);
    const plan = planRootfs([libc, baseFiles]);
    assert.equal(plan.tree.get("lib")?.type, "symlink");
    assert.equal(plan.tree.get("usr/lib/x86_64-linux-gnu/libc.so.6")?.pkg, "libc6");
    assert.equal(plan.tree.has("lib/x86_64-linux-gnu/libc.so.6"), false);
    const pp = plan.packages.get("libc6");
    assert.ok(pp?.installed.includes("lib/x86_64-linux-gnu/libc.so.6"), ".list keeps the path as shipped");
    assert.ok(pp?.installed.includes("usr/share/doc/libc6/copyright"));
    assert.ok(!pp?.installed.includes("usr/share/doc/libc6/NEWS.gz"));
    assert.ok(pp?.droppedPaths.has("usr/share/doc/libc6/NEWS.gz"));
    assert.deepEqual(plan.dropped, { files: 1, bytes: 1 });
  });

  test("identical files are shared; different ones conflict unless Replaces", () => {
    const a = info("a", [dir("etc"), file("etc/x", "same")]);
    const b = info("b", [dir("etc"), file("etc/x", "same")]);
    assert.equal(planRootfs([baseFiles, a, b]).tree.get("etc/x")?.pkg, "a");
    const c = info("c", [dir("etc"), file("etc/x", "other")]);
    assert.throws(
      () => planRootfs([baseFiles, a, c]),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, "E_FILE_CONFLICT");
        assert.match(e.message, /\/etc\/x: c and a both ship it/);
        return true;
      },
    );
    const d = info("d", [dir("etc"), file("etc/x", "other")], { Replaces: "a (<< 2)" });
    const plan = planRootfs([baseFiles, a, d]);
    assert.equal(plan.tree.get("etc/x")?.pkg, "d");
    assert.ok(!plan.packages.get("a")?.installed.includes("etc/x"));
    assert.ok(plan.packages.get("a")?.replacedPaths.has("etc/x"));
  });

  test("layer entries carry their ancestors and content", () => {
    const libc = info("libc6", [
      dir("usr/lib/x86_64-linux-gnu"),
      file("usr/lib/x86_64-linux-gnu/libc.so.6", "s", 3),
    ]);
    const plan = planRootfs([baseFiles, libc]);
    const entries = packageLayerEntries(plan, new Set(["libc6"]), () => new Uint8Array([1, 2, 3]));
    assert.deepEqual(entries.map((e) => e.path).sort(), [
      "usr",
      "usr/lib",
      "usr/lib/x86_64-linux-gnu",
      "usr/lib/x86_64-linux-gnu/libc.so.6",
    ]);
    const base = packageLayerEntries(plan, new Set(["base-files"]), () => new Uint8Array());
    assert.ok(base.some((e) => e.path === "lib64" && e.type === "symlink" && e.target === "usr/lib64"));
  });

  test("generated files resolve through symlinks and create missing parents", () => {
    const plan = planRootfs([baseFiles, info("x", [dir("var"), link("var/run", "/run"), dir("run")])]);
    const g = new GeneratedLayer(plan);
    assert.equal(g.file("/var/run/app/pid", "1"), "run/app/pid");
    assert.equal(g.file("/lib64/x", "1"), "usr/lib64/x");
    const paths = g.list().map((e) => e.path);
    assert.ok(paths.includes("run/app"));
    assert.ok(paths.includes("run"));
    assert.equal(
      canonicalPath("lib/a/b", (p) => plan.tree.get(p)),
      "usr/lib/a/b",
    );
  });

  test("older suites (base-files without the symlinks) get merged /usr made by the builder", () => {
    const oldBase = info("base-files", [dir("bin"), dir("usr"), dir("usr/bin")]);
    const libc = info("libc6", [
      dir("lib64"),
      link("lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
      dir("bin"),
      file("bin/x"),
    ]);
    const plan = planRootfs([oldBase, libc], { arch: "amd64" });
    for (const l of ["bin", "sbin", "lib", "lib64"]) {
      assert.equal(plan.tree.get(l)?.type, "symlink", l);
      assert.equal(plan.tree.get(l)?.target, `usr/${l}`);
      assert.equal(plan.tree.get(l)?.pkg, "base-files", "in base-files' layer");
    }
    assert.equal(plan.tree.get("usr/lib64/ld-linux-x86-64.so.2")?.type, "symlink");
    assert.equal(plan.tree.get("usr/bin/x")?.pkg, "libc6");
    assert.equal(planRootfs([oldBase], { arch: "arm64" }).tree.has("lib64"), false);
    assert.equal(planRootfs([oldBase], { mergedUsr: false }).tree.get("bin")?.type, "dir");
  });

  describe("drop-paths", () => {
    const hardlink = (path: string, target: string): DebInfoEntry => ({
      ...file(path),
      type: "hardlink",
      size: 0,
      md5: undefined,
      linkTarget: target,
    });
    const squid = info("squid", [
      dir("usr"),
      dir("usr/sbin"),
      file("usr/sbin/squid-gnutls", "g", 7000),
      dir("usr/lib/squid"),
      file("usr/lib/squid/unlinkd", "u", 10),
      file("usr/lib/squid/cert_tool", "c", 20),
      file("usr/lib/squid/basic_smb_auth.sh", "b", 30),
      dir("usr/share/squid"),
      dir("usr/share/squid/errors"),
      file("usr/share/squid/errors/de", "d", 5),
      link("usr/share/squid/errors/templates", "de"),
      dir("usr/share/doc/squid"),
      file("usr/share/doc/squid/copyright", "cr", 3),
    ]);
    const openssl = info("squid-openssl", [dir("usr/sbin"), file("usr/sbin/squid-openssl", "o", 8000)]);
    const other = info("other", [dir("usr/lib/squid"), file("usr/lib/squid/other.sh", "x", 1)]);

    test("a glob leaves out what it matches, and it leaves the package's dpkg file list", () => {
      const plan = planRootfs([baseFiles, squid, openssl], {
        dropPaths: [{ glob: "/usr/sbin/squid-gnutls" }, { glob: "/usr/lib/squid/*.sh" }],
      });
      assert.equal(plan.tree.has("usr/sbin/squid-gnutls"), false);
      assert.equal(plan.tree.has("usr/lib/squid/basic_smb_auth.sh"), false);
      assert.equal(plan.tree.has("usr/lib/squid/unlinkd"), true);
      assert.equal(plan.tree.has("usr/sbin/squid-openssl"), true);
      const pp = plan.packages.get("squid");
      assert.ok(pp);
      assert.ok(!pp.installed.includes("usr/sbin/squid-gnutls"));
      assert.ok(pp.installed.includes("usr/lib/squid/unlinkd"));
      assert.ok(pp.droppedPaths.has("usr/lib/squid/basic_smb_auth.sh"));
      assert.deepEqual(pp.specDropped, ["/usr/sbin/squid-gnutls", "/usr/lib/squid/basic_smb_auth.sh"]);
      assert.deepEqual(plan.dropPaths, [
        {
          glob: "/usr/sbin/squid-gnutls",
          paths: [{ path: "/usr/sbin/squid-gnutls", package: "squid", type: "file", size: 7000 }],
          files: 1,
          bytes: 7000,
        },
        {
          glob: "/usr/lib/squid/*.sh",
          paths: [{ path: "/usr/lib/squid/basic_smb_auth.sh", package: "squid", type: "file", size: 30 }],
          files: 1,
          bytes: 30,
        },
      ]);
      // the doc policy is counted apart (the copyright file is kept)
      assert.deepEqual(plan.dropped, { files: 0, bytes: 0 });
      assert.equal(plan.tree.has("usr/share/doc/squid/copyright"), true);
    });

    test("a matched directory goes with everything below it; a kept link to it is reported", () => {
      const plan = planRootfs([baseFiles, squid], {
        dropPaths: [{ glob: "/usr/share/squid/errors/de" }, { glob: "/usr/share/squid" }],
      });
      assert.equal(plan.tree.has("usr/share/squid/errors/templates"), false);
      assert.deepEqual(
        plan.dropPaths[1].paths.map((p) => p.path),
        ["/usr/share/squid", "/usr/share/squid/errors", "/usr/share/squid/errors/templates"],
      );
      assert.equal(plan.dropPaths[0].files, 1, "the first matching glob takes the file");
      const kept = planRootfs([baseFiles, squid], { dropPaths: [{ glob: "/usr/share/squid/errors/de" }] });
      assert.deepEqual(kept.danglingLinks, [
        "/usr/share/squid/errors/templates → /usr/share/squid/errors/de",
      ]);
      assert.deepEqual(planRootfs([baseFiles, squid]).danglingLinks, []);
    });

    test("** crosses directories; a trailing slash means everything below", () => {
      const a = planRootfs([baseFiles, squid], { dropPaths: [{ glob: "/usr/**/cert_tool" }] });
      assert.deepEqual(
        a.dropPaths[0].paths.map((p) => p.path),
        ["/usr/lib/squid/cert_tool"],
      );
      const b = planRootfs([baseFiles, squid], { dropPaths: [{ glob: "/usr/share/squid/" }] });
      assert.equal(b.tree.has("usr/share/squid"), true, "the directory itself stays");
      assert.equal(b.tree.has("usr/share/squid/errors/de"), false);
    });

    test("a glob for one package leaves the others' files alone", () => {
      const plan = planRootfs([baseFiles, squid, other], {
        dropPaths: [
          { glob: "/usr/lib/squid/*.sh", package: "squid" },
          { glob: "/usr/lib/squid/unlinkd", package: "other" },
        ],
      });
      assert.equal(plan.tree.has("usr/lib/squid/basic_smb_auth.sh"), false);
      assert.equal(plan.tree.has("usr/lib/squid/other.sh"), true, "squid's glob does not touch other");
      assert.equal(plan.tree.has("usr/lib/squid/unlinkd"), true, "other's glob does not touch squid");
      assert.deepEqual(plan.dropPaths[1].paths, []);
      // a directory dropped for one package takes that package's files below it, no one else's
      const dirDrop = planRootfs([baseFiles, squid, other], {
        dropPaths: [{ glob: "/usr/lib/squid", package: "other" }],
      });
      assert.deepEqual(
        dirDrop.dropPaths[0].paths.map((p) => p.path),
        ["/usr/lib/squid", "/usr/lib/squid/other.sh"],
        "other's entry of the directory and its file below",
      );
      assert.deepEqual(dirDrop.packages.get("other")?.installed, []);
      assert.equal(dirDrop.tree.get("usr/lib/squid")?.pkg, "squid", "squid's directory stays");
      assert.equal(dirDrop.tree.has("usr/lib/squid/unlinkd"), true);
    });

    test("paths under a merged-/usr symlink match their canonical path", () => {
      const legacy = info("legacy", [dir("bin"), file("bin/tool", "t", 4)]);
      const plan = planRootfs([baseFiles, legacy], { dropPaths: [{ glob: "/usr/bin/tool" }] });
      assert.deepEqual(
        plan.dropPaths[0].paths.map((p) => p.path),
        ["/usr/bin/tool"],
      );
      assert.equal(plan.tree.has("usr/bin/tool"), false);
      const byDebPath = planRootfs([baseFiles, legacy], { dropPaths: [{ glob: "/bin/tool" }] });
      assert.equal(byDebPath.dropPaths[0].files, 1);
      assert.deepEqual(byDebPath.packages.get("legacy")?.installed, ["bin"]);
    });

    test("a glob that matches nothing is reported empty; a hard link whose target is dropped is an error", () => {
      const plan = planRootfs([baseFiles, squid], { dropPaths: [{ glob: "/usr/sbin/nothing-*" }] });
      assert.deepEqual(plan.dropPaths[0].paths, []);
      const linked = info("linked", [
        dir("usr/bin"),
        file("usr/bin/a", "a", 2),
        hardlink("usr/bin/b", "usr/bin/a"),
      ]);
      assert.throws(
        () => planRootfs([baseFiles, linked], { dropPaths: [{ glob: "/usr/bin/a" }] }),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, "E_DROP_PATHS");
          assert.match(e.message, /\/usr\/bin\/b \(linked\) is a hard link to \/usr\/bin\/a/);
          return true;
        },
      );
      const both = planRootfs([baseFiles, linked], { dropPaths: [{ glob: "/usr/bin/?" }] });
      assert.equal(both.tree.has("usr/bin/a") || both.tree.has("usr/bin/b"), false, "both dropped: fine");
    });
  });
});
