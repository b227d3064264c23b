/**
 * SBOMs scanners can match, checked against Trivy itself: for a real `preset: base` image and
 * Debian's python3 on it, Trivy's own scan of the unpacked image (`trivy-cdxgen rootfs`, which
 * reads the dpkg database shellfree wrote) and our CycloneDX and SPDX read the way Trivy's
 * decoders read them must agree on every package: name, version, and the source package
 * Debian's advisories are keyed by (SrcName, SrcVersion, SrcRelease, SrcEpoch). Our dependency
 * graph holds every edge Trivy finds (it reads Depends only) plus the Pre-Depends edges.
 */
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parseDeb822, parseRelations } from "../../../src/debian/index.ts";
import { TEST_CACHE } from "../../helpers/mirror.ts";
import { runCommand } from "../../helpers/run.ts";
import { removeDir, tempDir } from "../../helpers/tmp.ts";
import {
  type TrivyView,
  trivyOwnView,
  trivyReadCycloneDx,
  trivyReadSpdx,
  trivyRootfs,
} from "../../helpers/trivy.ts";
import { cyclonedxValidator, schemaErrors, spdxValidator } from "../../unit/builder/sbom-validate.ts";
import { mustSucceed, shellfree } from "./common.ts";

interface Built {
  cdx: unknown;
  spdx: unknown;
  trivy: TrivyView;
  /** package → names its Pre-Depends name (from the image's dpkg status) */
  preDepends: Map<string, Set<string>>;
}

async function buildAndScan(dir: string, name: string, spec: string): Promise<Built> {
  const specFile = join(dir, `${name}.yaml`);
  await writeFile(specFile, spec);
  const out = join(dir, name);
  mustSucceed(
    await shellfree(["build", "-f", specFile, "-o", `oci:${out}:latest`, "--cache-dir", TEST_CACHE], {
      timeoutMs: 600_000,
    }),
    `build ${name}`,
  );
  const rootfs = join(dir, `${name}-rootfs`);
  const u = await runCommand("umoci", ["raw", "unpack", "--image", `${out}:latest`, rootfs], {
    allowFail: true,
  });
  assert.equal(u.code, 0, u.stderr);
  const cache = join(dir, "trivy-cache");
  await mkdir(cache, { recursive: true });
  const trivy = trivyOwnView(await trivyRootfs(rootfs, join(dir, `${name}.trivy.cdx.json`), cache));
  const status = parseDeb822(await readFile(join(rootfs, "var/lib/dpkg/status"), "utf8"));
  const preDepends = new Map<string, Set<string>>();
  for (const para of status) {
    const names = new Set(parseRelations(para["Pre-Depends"] ?? "").flatMap((g) => g.map((d) => d.name)));
    preDepends.set(para.Package, names);
  }
  return {
    cdx: JSON.parse(await readFile(`${out}.cdx.json`, "utf8")),
    spdx: JSON.parse(await readFile(`${out}.spdx.json`, "utf8")),
    trivy,
    preDepends,
  };
}

function compare(ours: TrivyView, built: Built, what: string): void {
  const theirs = built.trivy;
  assert.deepEqual([...ours.packages.keys()].sort(), [...theirs.packages.keys()].sort(), `${what}: packages`);
  assert.equal(ours.os?.family, "debian");
  // Trivy's Debian detector uses the major release; Trivy itself reads 13.N from /etc/debian_version
  assert.equal(ours.os?.name, theirs.os?.name.split(".")[0], `${what}: OS release`);
  for (const [name, t] of theirs.packages) {
    const o = ours.packages.get(name);
    assert.ok(o);
    for (const k of ["version", "srcName", "srcVersion", "srcRelease", "srcEpoch"] as const)
      assert.equal(o[k], t[k], `${what}: ${name} ${k}`);
    for (const d of t.dependsOn) assert.ok(o.dependsOn.includes(d), `${what}: ${name} → ${d} (Trivy's edge)`);
    for (const d of o.dependsOn.filter((x) => !t.dependsOn.includes(x)))
      assert.ok(
        built.preDepends.get(name)?.has(d),
        `${what}: ${name} → ${d} is neither Trivy's nor a Pre-Depends`,
      );
  }
}

describe("SBOMs read as Trivy reads them agree with Trivy's own scan", () => {
  let dir = "";
  const built: Record<string, Built> = {};
  before(async () => {
    dir = await tempDir("shellfree-sbom-trivy-");
    built.base = await buildAndScan(dir, "base", "name: base\npreset: base\narchitectures: [amd64]\n");
    built.python = await buildAndScan(
      dir,
      "python",
      "name: python\npreset: base\narchitectures: [amd64]\npackages:\n  include: [python3]\n",
    );
  });
  after(() => (dir ? removeDir(dir) : undefined));

  for (const name of ["base", "python"]) {
    test(`${name}: CycloneDX — source packages, versions and dependencies as Trivy sees them`, () => {
      const b = built[name];
      assert.deepEqual(schemaErrors(cyclonedxValidator(), b.cdx), []);
      compare(trivyReadCycloneDx(b.cdx), b, `${name} CycloneDX`);
    });
    test(`${name}: SPDX — the same through sourceInfo and DEPENDS_ON`, () => {
      const b = built[name];
      assert.deepEqual(schemaErrors(spdxValidator(), b.spdx), []);
      compare(trivyReadSpdx(b.spdx), b, `${name} SPDX`);
    });
  }

  test("the cases that matter are there: source names differ from binary names, epochs, Pre-Depends", () => {
    const py = trivyReadCycloneDx(built.python.cdx).packages;
    assert.equal(py.get("libc6")?.srcName, "glibc");
    assert.equal(py.get("libssl3t64")?.srcName, "openssl");
    assert.equal(py.get("zlib1g")?.srcName, "zlib");
    assert.equal(py.get("zlib1g")?.srcEpoch, 1);
    assert.ok(
      py.get("python3")?.dependsOn.includes("python3-minimal"),
      "python3 Pre-Depends python3-minimal",
    );
    const cdx = built.python.cdx as { components: Array<{ name: string; purl: string }> };
    assert.match(cdx.components.find((c) => c.name === "libc6")?.purl ?? "", /&upstream=glibc$/);
    assert.match(
      cdx.components.find((c) => c.name === "libc6")?.purl ?? "",
      /\?arch=amd64&distro=debian-13&/,
    );
  });
});
