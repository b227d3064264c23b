/** Debian architecture ↔ OCI platform names (what the builder writes, what outdated reads back). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { debianArch, ociPlatform } from "../../../src/formats/index.ts";

const PAIRS: Array<[string, string]> = [
  ["amd64", "linux/amd64"],
  ["arm64", "linux/arm64/v8"],
  ["armhf", "linux/arm/v7"],
  ["armel", "linux/arm/v5"],
  ["i386", "linux/386"],
  ["ppc64el", "linux/ppc64le"],
  ["s390x", "linux/s390x"],
  ["riscv64", "linux/riscv64"],
  ["mips64el", "linux/mips64le"],
];

test("each Debian architecture has the OCI platform registries list, and back", () => {
  for (const [deb, oci] of PAIRS) {
    const p = ociPlatform(deb);
    assert.equal(`${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ""}`, oci, deb);
    assert.equal(debianArch(p.architecture, p.variant), deb, oci);
  }
  // arm without a variant is armhf (Debian's default ARM port); v6 is armel
  assert.equal(debianArch("arm"), "armhf");
  assert.equal(debianArch("arm", "v6"), "armel");
  // arm64 without its variant
  assert.equal(debianArch("arm64"), "arm64");
});
