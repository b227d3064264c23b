import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { describe, test } from "node:test";
import { dpkgDatabase } from "../../../src/builder/index.ts";
import type { OpenedImage } from "../../../src/oci/index.ts";
import {
  debianArch,
  OutdatedError,
  parseDpkgStatus,
  parseSourceField,
  readImageDb,
} from "../../../src/outdated/index.ts";
import { type TarSpec, tarball } from "../../fixtures/debian/fake-archive.ts";

describe("dpkg status", () => {
  test("parses what shellfree's builder writes (src/builder/dpkgdb.ts), Source fields included", () => {
    const db = dpkgDatabase([
      {
        name: "libc6",
        architecture: "amd64",
        multiArch: "same",
        controlText:
          "Package: libc6\nSource: glibc\nVersion: 2.41-12\nArchitecture: amd64\nMulti-Arch: same\nDescription: GNU C Library\n",
        paths: [],
        md5sums: "",
        conffiles: [],
      },
      {
        name: "libssl3t64",
        architecture: "amd64",
        controlText:
          "Package: libssl3t64\nSource: openssl (3.5.1-1)\nVersion: 3.5.1-1+b1\nArchitecture: amd64\nDescription: x\n",
        paths: [],
        md5sums: "",
        conffiles: [],
      },
      {
        name: "tzdata",
        architecture: "all",
        controlText: "Package: tzdata\nVersion: 2025b-4\nArchitecture: all\nDescription: x\n",
        paths: [],
        md5sums: "",
        conffiles: [],
      },
    ]);
    const status = db.files.find((f) => f.path === "var/lib/dpkg/status")!.data;
    assert.deepEqual(parseDpkgStatus(status, "status"), [
      { name: "libc6", version: "2.41-12", architecture: "amd64", source: "glibc", sourceVersion: "2.41-12" },
      {
        name: "libssl3t64",
        version: "3.5.1-1+b1",
        architecture: "amd64",
        source: "openssl",
        sourceVersion: "3.5.1-1",
      },
      { name: "tzdata", version: "2025b-4", architecture: "all", source: "tzdata", sourceVersion: "2025b-4" },
    ]);
  });

  test("packages whose files are gone (config-files, not-installed) are left out", () => {
    const text =
      "Package: a\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\n\n" +
      "Package: b\nStatus: deinstall ok config-files\nVersion: 1\nArchitecture: amd64\n\n" +
      "Package: c\nStatus: purge ok not-installed\nVersion: 1\nArchitecture: amd64\n\n" +
      "Package: d\nStatus: install ok unpacked\nVersion: 1\nArchitecture: amd64\n";
    assert.deepEqual(
      parseDpkgStatus(text, "status").map((p) => p.name),
      ["a", "d"],
    );
  });

  test("a broken status file is an error naming it and the line", () => {
    assert.throws(() => parseDpkgStatus("Package: a\nnot a field\n", "img: /var/lib/dpkg/status"), {
      message: /^img: \/var\/lib\/dpkg\/status:2: /,
    });
  });

  test("Source fields", () => {
    const b = { name: "bin", version: "2.0-1+b2" };
    assert.deepEqual(parseSourceField(undefined, b), { source: "bin", sourceVersion: "2.0-1+b2" });
    assert.deepEqual(parseSourceField("src", b), { source: "src", sourceVersion: "2.0-1+b2" });
    assert.deepEqual(parseSourceField("src (2.0-1)", b), { source: "src", sourceVersion: "2.0-1" });
  });

  test("OCI to Debian architectures", () => {
    assert.equal(debianArch("amd64"), "amd64");
    assert.equal(debianArch("arm64", "v8"), "arm64");
    assert.equal(debianArch("arm", "v7"), "armhf");
    assert.equal(debianArch("arm", "v5"), "armel");
    assert.equal(debianArch("386"), "i386");
    assert.equal(debianArch("ppc64le"), "ppc64el");
  });
});

/** An image whose layers are these tarballs (as OpenedImage hands them out: uncompressed). */
async function image(layers: TarSpec[][]): Promise<OpenedImage> {
  const tars = await Promise.all(layers.map((l) => tarball(l)));
  return {
    ref: "oci:test",
    platform: { os: "linux", architecture: "amd64" },
    manifestDigest: "sha256:0",
    manifest: { schemaVersion: 2, mediaType: "", config: { mediaType: "", digest: "", size: 0 }, layers: [] },
    config: { architecture: "amd64", os: "linux" },
    configDigest: "sha256:0",
    layers: tars.map((t, i) => ({
      digest: `sha256:${i}`,
      mediaType: "application/vnd.oci.image.layer.v1.tar",
      size: t.length,
      open: async () => Readable.from([t]),
    })),
    close: async () => {},
  } as unknown as OpenedImage;
}

const para = (name: string, version: string, extra = "") =>
  `Package: ${name}\n${extra}Version: ${version}\nArchitecture: amd64\nDescription: x\n`;

describe("readImageDb", () => {
  test("status.d as distroless writes it; md5sums skipped; os-release through its symlink", async () => {
    const im = await image([
      [
        { name: "etc/", type: "directory" },
        { name: "etc/os-release", type: "symlink", linkname: "../usr/lib/os-release" },
        { name: "usr/lib/os-release", data: 'ID=debian\nVERSION_CODENAME=trixie\nVERSION_ID="13"\n' },
        { name: "var/lib/dpkg/status.d/base-files", data: para("base-files", "13.8+deb13u1") },
        { name: "var/lib/dpkg/status.d/base-files.md5sums", data: "0123  etc/debian_version\n" },
        { name: "var/lib/dpkg/status.d/libc6", data: para("libc6", "2.41-12", "Source: glibc\n") },
      ],
    ]);
    const db = await readImageDb(im, "oci:test");
    assert.deepEqual(
      db.packages.map((p) => [p.name, p.version, p.source]),
      [
        ["base-files", "13.8+deb13u1", "base-files"],
        ["libc6", "2.41-12", "glibc"],
      ],
    );
    assert.equal(db.osRelease.get("VERSION_CODENAME"), "trixie");
  });

  test("later layers win: a replaced status, whiteouts and opaque directories", async () => {
    const im = await image([
      [
        { name: "./var/lib/dpkg/status", data: para("old", "1") },
        { name: "./var/lib/dpkg/status.d/a", data: para("a", "1") },
        { name: "./var/lib/dpkg/status.d/b", data: para("b", "1") },
        { name: "./etc/os-release", data: "VERSION_CODENAME=bookworm\n" },
      ],
      [
        { name: "./var/lib/dpkg/status", data: `${para("new", "2")}\n${para("a", "9")}` },
        { name: "./var/lib/dpkg/status.d/.wh.b", data: "" },
        { name: "./var/lib/dpkg/status.d/c", data: para("c", "1") },
        { name: "./etc/.wh.os-release", data: "" },
        { name: "./usr/lib/os-release", data: "VERSION_CODENAME=trixie\n" },
      ],
      [
        { name: "./var/lib/dpkg/status.d/.wh..wh..opq", data: "" },
        { name: "./var/lib/dpkg/status.d/d", data: para("d", "1") },
      ],
    ]);
    const db = await readImageDb(im, "oci:test");
    // status first: its "a 9" wins over status.d's
    assert.deepEqual(
      db.packages.map((p) => `${p.name} ${p.version}`),
      ["a 9", "d 1", "new 2"],
    );
    assert.equal(db.osRelease.get("VERSION_CODENAME"), "trixie");
  });

  test("a whole dpkg directory deleted by a later layer leaves no database", async () => {
    const im = await image([
      [{ name: "var/lib/dpkg/status", data: para("a", "1") }],
      [{ name: "var/lib/.wh.dpkg", data: "" }],
    ]);
    await assert.rejects(readImageDb(im, "oci:test"), (e: unknown) => {
      assert.ok(e instanceof OutdatedError);
      assert.equal(e.code, "E_DPKG_DB");
      assert.match(
        e.message,
        /^oci:test: no dpkg database \(\/var\/lib\/dpkg\/status or \/var\/lib\/dpkg\/status\.d\/\)/,
      );
      return true;
    });
  });

  test("an image without os-release still lists its packages (the suite must then be given)", async () => {
    const db = await readImageDb(await image([[{ name: "var/lib/dpkg/status", data: para("a", "1") }]]), "x");
    assert.equal(db.packages.length, 1);
    assert.equal(db.osRelease.size, 0);
  });
});
