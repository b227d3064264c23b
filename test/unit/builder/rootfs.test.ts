import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { DebInfo, DebInfoEntry } from "../../../src/builder/debinfo.ts";
import {
  canonicalPath,
  dropPathMatcher,
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

  test("packages.drop-paths: globs over the image path, a directory takes what is under it", () => {
    const m = dropPathMatcher(["usr/lib/*/gconv", "usr/share/**/*.pyi", "opt/a?c"]);
    assert.equal(m("usr/lib/x86_64-linux-gnu/gconv"), true);
    assert.equal(m("usr/lib/x86_64-linux-gnu/gconv/UTF-16.so"), true);
    assert.equal(m("usr/lib/x86_64-linux-gnu/gconv-extra"), false);
    assert.equal(m("usr/lib/a/b/gconv"), false, "* stays within one name");
    assert.equal(m("usr/share/x/y/z.pyi"), true);
    assert.equal(m("usr/share/x/y/z.py"), false);
    assert.equal(m("opt/abc"), true);
    assert.equal(m("opt/a/c"), false);
    assert.equal(m("opt/aXc.d"), false, "dots are literal");
    assert.equal(dropPathMatcher([])("usr"), false);
    // a spec takes back what its preset drops
    const k = dropPathMatcher(["usr/lib/*/gconv", "!usr/lib/*/gconv/UTF-16.so"]);
    assert.equal(k("usr/lib/x86_64-linux-gnu/gconv/UTF-32.so"), true);
    assert.equal(k("usr/lib/x86_64-linux-gnu/gconv/UTF-16.so"), false);
    assert.equal(dropPathMatcher(["!usr"])("usr/lib"), false);
    // matched through the merged-/usr symlink (the .deb says lib/...), and dpkg's list forgets it
    const libc = info("libc6", [
      dir("lib"),
      dir("lib/x86_64-linux-gnu"),
      file("lib/x86_64-linux-gnu/libc.so.6"),
      dir("lib/x86_64-linux-gnu/gconv"),
      file("lib/x86_64-linux-gnu/gconv/UTF-16.so"),
    ]);
    const plan = planRootfs([libc, baseFiles], { dropPaths: ["usr/lib/*/gconv"] });
    assert.equal(plan.tree.has("usr/lib/x86_64-linux-gnu/gconv/UTF-16.so"), false);
    assert.equal(plan.tree.has("usr/lib/x86_64-linux-gnu/gconv"), false);
    assert.ok(plan.tree.has("usr/lib/x86_64-linux-gnu/libc.so.6"));
    const pp = plan.packages.get("libc6");
    assert.ok(pp?.droppedPaths.has("lib/x86_64-linux-gnu/gconv/UTF-16.so"));
    assert.ok(!pp?.installed.includes("lib/x86_64-linux-gnu/gconv/UTF-16.so"));
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
});
