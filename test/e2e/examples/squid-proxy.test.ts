/**
 * examples/squid-proxy, the image itself: built for amd64 and arm64 within 70 MiB, one Squid
 * binary and no shell, interpreter or package manager anywhere in it, Debian 13, a dpkg database
 * that agrees with the files (drop-paths included), SBOMs that say what was left out,
 * `shellfree verify` clean with the default policy (no warnings), and `shellfree test --checks
 * all` with examples/squid-proxy/structure-test.yaml passing under runc and under podman (run in
 * a network namespace of its own: the checks use the host network's 3128, 3129 and 8080).
 * The behaviour end to end is squid-proxy-runc.test.ts and squid-proxy-podman.test.ts.
 */
import assert from "node:assert/strict";
import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { shellfree } from "../../helpers/cli.ts";
import { TEST_CACHE } from "../../helpers/mirror.ts";
import { runCommand } from "../../helpers/run.ts";
import { removeDir, tempDir } from "../../helpers/tmp.ts";
import { ARCH, buildSquidImage, SPEC, type SquidImage, STRUCTURE_TEST } from "./squid/image.ts";
import { createNetns } from "./squid/netns.ts";

const MIB = 1024 * 1024;
const LIMIT = 70 * MIB;

/**
 * Every file or symlink under `root` (not following symlinks) whose name matches `re`
 * (directories are not programs: /etc/dpkg, /var/lib/dpkg and libstdc++'s gdb helpers in
 * /usr/share/gcc/python are data).
 */
function findNamed(root: string, re: RegExp): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (re.test(e.name) && !e.isDirectory()) out.push(p.slice(root.length));
      if (e.isDirectory() && !e.isSymbolicLink()) walk(p);
    }
  };
  walk(root);
  return out.sort();
}

describe("examples/squid-proxy: the image", () => {
  let dir = "";
  let image: SquidImage;
  // biome-ignore lint/suspicious/noExplicitAny: the build's JSON report, read field by field
  let multi: any;
  before(async () => {
    dir = await tempDir("shellfree-squid-image-");
    image = await buildSquidImage(dir, { dockerArchive: false });
    const r = await shellfree([
      "build",
      "-f",
      SPEC,
      "--cache-dir",
      TEST_CACHE,
      "--output",
      `oci:${dir}/multi`,
      "--json",
    ]);
    if (r.code !== 0) throw new Error(`multi-architecture build: exit ${r.code}\n${r.stderr}`);
    multi = JSON.parse(r.stdout);
  });
  after(() => (dir ? removeDir(dir) : undefined));

  test("amd64 and arm64, each at most 70 MiB uncompressed; the init is the native one", () => {
    assert.deepEqual(
      multi.architectures.map((a: { architecture: string }) => a.architecture),
      ["amd64", "arm64"],
    );
    for (const a of multi.architectures) {
      process.stderr.write(
        `squid-proxy ${a.architecture}: ${(a.uncompressedSize / MIB).toFixed(1)} MiB uncompressed, ${(a.size / MIB).toFixed(1)} MiB compressed, ${a.packages.length} packages\n`,
      );
      assert.ok(a.uncompressedSize <= LIMIT, `${a.architecture}: ${a.uncompressedSize} bytes`);
      assert.ok(a.uncompressedSize > 20 * MIB, "not implausibly small");
      assert.ok(
        a.layers.some((l: { name: string }) => l.name === "init"),
        "a layer with shellfree-init",
      );
    }
  });

  test("the closure: squid-openssl and what it needs, no GnuTLS, no shell, interpreter or package manager", () => {
    for (const a of multi.architectures) {
      const names = a.packages.map((p: { name: string }) => p.name);
      for (const p of ["squid-openssl", "squid", "squid-common", "ca-certificates", "tzdata", "libssl3t64"])
        assert.ok(names.includes(p), `${a.architecture}: ${p}`);
      for (const p of names)
        assert.doesNotMatch(
          p,
          /^(bash|dash|busybox.*|perl|perl-base|python3.*|nodejs|apt|dpkg|libgnutls30t64|libunistring5|libp11-kit0|libidn2-0|libtasn1-6|libgmp10|libhogweed6t64|libffi8)$/,
          `${a.architecture}: ${p}`,
        );
      assert.deepEqual(
        a.alternatives.find((x: { name: string }) => x.name === "squid"),
        {
          name: "squid",
          link: "/usr/sbin/squid",
          path: "/usr/sbin/squid-openssl",
          priority: 70,
          mode: "manual",
        },
      );
      // every drop-paths glob left something out, and the GnuTLS Squid is the big one
      for (const d of a.dropPaths) assert.ok(d.paths.length > 0, `${a.architecture}: ${d.glob}`);
      const gnutls = a.dropPaths.find((d: { glob: string }) => d.glob === "/usr/sbin/squid-gnutls");
      assert.ok(gnutls.bytes > 5 * MIB, `${gnutls.bytes}`);
    }
  });

  for (const platform of ["linux/amd64", "linux/arm64"]) {
    test(`shellfree verify (${platform}): passes with the default policy and no warnings`, async () => {
      const r = await shellfree(["verify", `oci:${dir}/multi`, "--platform", platform, "--json"]);
      const rep = JSON.parse(r.stdout);
      assert.equal(r.code, 0, JSON.stringify(rep.findings, null, 1));
      assert.equal(rep.passed, true);
      assert.deepEqual(rep.counts, { error: 0, warning: 0, info: 0 }, JSON.stringify(rep.findings, null, 1));
      for (const id of ["no-shell", "no-package-manager", "elf-deps", "script-interpreter", "non-root-user"])
        assert.ok(rep.rules.find((x: { id: string }) => x.id === id)?.passed, id);
    });
  }

  test("no shell, interpreter or package manager anywhere in the files; one Squid binary", () => {
    const found = findNamed(
      image.rootfs,
      /^(sh|bash|dash|ash|zsh|ksh|mksh|busybox|toybox|node|nodejs|perl[\d.]*|python[\d.]*|apt|apt-get|dpkg|pip[\d.]*)$/,
    );
    assert.deepEqual(found, []);
    for (const lib of [
      "usr/lib/python3",
      "usr/lib/node_modules",
      "usr/share/perl5",
      "usr/lib/x86_64-linux-gnu/perl",
    ])
      assert.ok(!existsSync(join(image.rootfs, lib)), `no /${lib}`);
    assert.ok(!existsSync(join(image.rootfs, "usr/sbin/squid-gnutls")));
    assert.ok(lstatSync(join(image.rootfs, "usr/sbin/squid")).isSymbolicLink());
    assert.deepEqual(
      findNamed(image.rootfs, /^squid(-\w+)?$/).filter((p) => p.startsWith("/usr/sbin/")),
      ["/usr/sbin/squid", "/usr/sbin/squid-openssl"],
    );
    // no script left whose interpreter is missing
    const helpers = readdirSync(join(image.rootfs, "usr/lib/squid"));
    for (const h of helpers) {
      const head = readFileSync(join(image.rootfs, "usr/lib/squid", h)).subarray(0, 4);
      assert.ok(head.toString("latin1") === "\x7fELF", `/usr/lib/squid/${h} is an ELF file`);
    }
  });

  test("Debian 13; dpkg's database agrees with the files (only the replaced squid.conf differs)", async () => {
    const osr = readFileSync(join(image.rootfs, "etc/os-release"), "utf8");
    assert.match(osr, /^ID="?debian"?$/m);
    assert.match(osr, /^VERSION_ID="13"$/m);
    assert.match(osr, /^VERSION_CODENAME="?trixie"?$/m);
    const v = await runCommand("dpkg", [`--root=${image.rootfs}`, "--verify"], { allowFail: true });
    assert.equal(v.stderr, "");
    assert.equal(
      v.stdout.trim(),
      "??5?????? c /etc/squid/squid.conf",
      "the spec's own squid.conf, nothing else",
    );
    const list = readFileSync(join(image.rootfs, "var/lib/dpkg/info/squid.list"), "utf8");
    assert.doesNotMatch(list, /squid-gnutls|cert_tool|helper-mux|apparmor|logrotate/);
  });

  test("both SBOMs name the files left out and the native init", () => {
    const cdx = JSON.parse(readFileSync(join(dir, "multi.amd64.cdx.json"), "utf8"));
    const squid = cdx.components.find((c: { name: string }) => c.name === "squid");
    const dropped = squid.properties
      .filter((p: { name: string }) => p.name === "shellfree:dropped-path")
      .map((p: { value: string }) => p.value);
    assert.ok(dropped.includes("/usr/sbin/squid-gnutls"));
    assert.ok(dropped.includes("/usr/lib/squid/helper-mux"));
    assert.ok(cdx.components.some((c: { name: string }) => c.name === "shellfree-init"));
    const spdx = JSON.parse(readFileSync(join(dir, "multi.amd64.spdx.json"), "utf8"));
    const pkg = spdx.packages.find((p: { name: string }) => p.name === "squid");
    assert.match(pkg.comment, /\/usr\/sbin\/squid-gnutls/);
  });

  // the other architecture's image cannot run here as a container (no binfmt), but its own
  // binaries can, one by one, under qemu-user with the image's root as their library prefix
  const other = ARCH === "amd64" ? "arm64" : "amd64";
  const qemu = other === "arm64" ? "/usr/bin/qemu-aarch64-static" : "/usr/bin/qemu-x86_64-static";
  test(`${other}: the image's own Squid parses the shipped squid.conf and its init accepts its configuration (qemu-user)`, {
    skip: existsSync(qemu) ? false : `${qemu} is not installed (scripts/setup-host.sh installs it)`,
  }, async () => {
    const must = async (cmd: string, args: string[]) => {
      const r = await runCommand(cmd, args, { allowFail: true, timeoutMs: 180_000 });
      assert.equal(r.code, 0, `${cmd} ${args.join(" ")}: ${r.stderr}`);
      return r;
    };
    await must("skopeo", [
      "copy",
      "-q",
      "--override-arch",
      other,
      `oci:${dir}/multi`,
      `oci:${dir}/${other}:latest`,
    ]);
    await must("umoci", ["unpack", "--image", `${dir}/${other}:latest`, `${dir}/${other}-bundle`]);
    const root = join(dir, `${other}-bundle/rootfs`);
    const inImage = (path: string, args: string[]) => must(qemu, ["-L", root, join(root, path), ...args]);
    const file = (await must("file", ["-b", join(root, "usr/sbin/squid-openssl")])).stdout;
    assert.match(file, other === "arm64" ? /ARM aarch64/ : /x86-64/);
    assert.match((await inImage("usr/sbin/squid-openssl", ["-v"])).stdout, /^Squid Cache: Version 6\./m);
    // qemu-user opens /etc/... under the image's root when it exists there
    const parse = await inImage("usr/sbin/squid-openssl", ["-k", "parse", "-f", "/etc/squid/squid.conf"]);
    assert.match(parse.stderr, /Processing: http_port 3128/);
    assert.doesNotMatch(parse.stderr, /FATAL|ERROR/);
    assert.match((await inImage("usr/bin/shellfree-init", ["--version"])).stdout, /^shellfree-init \S+/);
    await inImage("usr/bin/shellfree-init", ["--check-config"]);
  });

  for (const driver of ["runc", "podman"]) {
    test(`shellfree test --checks all with structure-test.yaml passes under ${driver}`, async () => {
      const ns = await createNetns("sfsqt");
      try {
        const r = await ns.run(
          process.execPath,
          [
            join(import.meta.dirname, "../../../bin/shellfree"),
            "test",
            `oci:${image.layout}:latest`,
            "--driver",
            driver,
            "--config",
            STRUCTURE_TEST,
            "--checks",
            "all",
            "--json",
          ],
          { allowFail: true, timeoutMs: 900_000, env: { ...process.env, SHELLFREE_QUIET: "1" } },
        );
        const rep = JSON.parse(r.stdout || "{}");
        const failed = (rep.results ?? []).filter((x: { passed: boolean }) => !x.passed);
        assert.equal(r.code, 0, `${r.stderr}\n${JSON.stringify(failed, null, 1)}`);
        assert.equal(rep.passed, true);
        assert.deepEqual(rep.skipped, []);
        const checks = rep.results
          .filter((x: { kind: string }) => x.kind === "check")
          .map((x: { name: string }) => x.name);
        assert.deepEqual(checks, [
          "shell-exec-fails",
          "healthcheck",
          "http",
          "graceful-stop",
          "main-dies",
          "any-uid",
          "read-only",
          "startup-time",
        ]);
        const byName = Object.fromEntries(rep.results.map((x: { name: string }) => [x.name, x]));
        assert.match(byName.http.message, /through the proxy on 127\.0\.0\.1:3128 → 200$/);
        assert.match(byName["main-dies"].message, /\/usr\/sbin\/squid -N/);
        assert.match(
          byName["read-only"].message,
          /tmpfs \/run\/squid, \/tmp, \/var\/lib\/squid, \/var\/log\/squid, \/var\/spool\/squid/,
        );
        assert.ok(rep.results.length > 40, `${rep.results.length} results`);
      } finally {
        await ns.remove();
      }
    });
  }
});
