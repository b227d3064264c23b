import assert from "node:assert/strict";
import {
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { extractDeb, readArMembers, readDeb, readDebs } from "../../../src/debian/deb.ts";
import { DebianError } from "../../../src/debian/errors.ts";
import {
  arArchive,
  buildDeb,
  type Compression,
  compress,
  controlText,
  type TarSpec,
  tarball,
} from "../../fixtures/debian/fake-archive.ts";

const tmp = mkdtempSync(join(tmpdir(), "sf-deb-"));
after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
function put(b: Buffer): string {
  const p = join(tmp, `t${n++}.deb`);
  writeFileSync(p, b);
  return p;
}

const isDebErr = (re: RegExp) => (e: unknown) =>
  e instanceof DebianError && e.code === "E_DEB" && re.test(e.message);

const DATA: TarSpec[] = [
  { name: "./", type: "directory" },
  { name: "./usr/", type: "directory" },
  { name: "./usr/bin/", type: "directory" },
  { name: "./usr/bin/tool", data: "binary\n", mode: 0o4755, uid: 0, gid: 0 },
  { name: "./usr/bin/tool-alias", type: "link", linkname: "./usr/bin/tool" },
  { name: "./usr/bin/sym", type: "symlink", linkname: "tool" },
  { name: "./usr/bin/escape", type: "symlink", linkname: "../../../etc/shadow" },
  { name: "./var/", type: "directory" },
  { name: "./var/tmp/", type: "directory", mode: 0o1777 },
  { name: "./var/lib/", type: "directory", uid: 13, gid: 13, mode: 0o2775 },
];

for (const c of ["xz", "zst", "gz", "none"] as Compression[]) {
  test(`readDeb: data.tar.${c} + control.tar.${c}: control, control files and every entry`, async () => {
    const p = put(
      await buildDeb({
        name: "tool",
        version: "1:2.0-1",
        compression: c,
        controlCompression: c,
        fields: { Depends: "libc6 (>= 2.34)", "Multi-Arch": "foreign" },
        data: DATA,
        controlFiles: { postinst: "#!/bin/sh\nexit 0\n", md5sums: "x  usr/bin/tool\n" },
      }),
    );
    const d = await readDeb(p);
    assert.equal(d.control.Package, "tool");
    assert.equal(d.control.Version, "1:2.0-1");
    assert.equal(d.control.Depends, "libc6 (>= 2.34)");
    assert.equal(
      d.controlText,
      controlText({
        name: "tool",
        version: "1:2.0-1",
        fields: { Depends: "libc6 (>= 2.34)", "Multi-Arch": "foreign" },
      }),
    );
    assert.deepEqual([...d.controlFiles.keys()].sort(), ["control", "md5sums", "postinst"]);
    assert.equal(Buffer.from(d.controlFiles.get("postinst")!).toString(), "#!/bin/sh\nexit 0\n");
    assert.deepEqual(
      d.entries.map((e) => [e.path, e.type, e.mode.toString(8), e.uid, e.gid, e.size, e.linkTarget]),
      [
        ["usr", "dir", "755", 0, 0, 0, undefined],
        ["usr/bin", "dir", "755", 0, 0, 0, undefined],
        ["usr/bin/tool", "file", "4755", 0, 0, 7, undefined],
        ["usr/bin/tool-alias", "hardlink", "644", 0, 0, 0, "usr/bin/tool"],
        ["usr/bin/sym", "symlink", "644", 0, 0, 0, "tool"],
        ["usr/bin/escape", "symlink", "644", 0, 0, 0, "../../../etc/shadow"],
        ["var", "dir", "755", 0, 0, 0, undefined],
        ["var/tmp", "dir", "1777", 0, 0, 0, undefined],
        ["var/lib", "dir", "2775", 13, 13, 0, undefined],
      ],
    );
    assert.equal(Buffer.from(d.entries[2].data!).toString(), "binary\n");
    assert.equal(d.entries[2].mtime, 1_700_000_000);
    const lean = await readDeb(p, { data: false });
    assert.equal(lean.entries[2].data, undefined);
    assert.equal(lean.entries.length, d.entries.length);
  });
}

test("readDeb agrees with dpkg-deb on a package dpkg-deb built", async () => {
  const root = join(tmp, "pkgroot");
  const { mkdirSync } = await import("node:fs");
  mkdirSync(join(root, "DEBIAN"), { recursive: true });
  mkdirSync(join(root, "usr/share/doc/hello"), { recursive: true });
  writeFileSync(join(root, "DEBIAN/control"), controlText({ name: "hello", version: "1.0-1" }));
  writeFileSync(join(root, "usr/share/doc/hello/copyright"), "free\n");
  const out = join(tmp, "hello.deb");
  const { spawnSync } = await import("node:child_process");
  const r = spawnSync("dpkg-deb", ["--root-owner-group", "-Zxz", "--build", root, out], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const listed = spawnSync("dpkg-deb", ["--fsys-tarfile", out]);
  const names = spawnSync("tar", ["-t"], { input: listed.stdout, encoding: "utf8" })
    .stdout.split("\n")
    .filter((s) => s && s !== "./")
    .map((s) => s.replace(/^\.\//, "").replace(/\/$/, ""));
  const d = await readDeb(out);
  assert.deepEqual(
    d.entries.map((e) => e.path),
    names,
  );
  assert.equal(d.control.Package, "hello");
});

test("ar: bad magic, truncated header, bad size field, oversized member are E_DEB", async () => {
  await assert.rejects(readArMembers(put(Buffer.from("not an archive at all"))), isDebErr(/no ar magic/));
  await assert.rejects(
    readArMembers(put(Buffer.from("!<arch>\ndebian-binary   0   "))),
    isDebErr(/truncated ar header/),
  );
  const good = arArchive([{ name: "debian-binary", data: Buffer.from("2.0\n") }]);
  const badSize = Buffer.from(good);
  badSize.write("12x4      ", 8 + 48, "latin1");
  await assert.rejects(readArMembers(put(badSize)), isDebErr(/malformed ar member size "12x4"/));
  const badMagic = Buffer.from(good);
  badMagic.write("XX", 8 + 58, "latin1");
  await assert.rejects(readArMembers(put(badMagic)), isDebErr(/malformed ar header/));
  const huge = Buffer.from(good);
  huge.write("9999999999", 8 + 48, "latin1");
  await assert.rejects(readArMembers(put(huge)), isDebErr(/claims 9999999999 bytes.*oversized or truncated/));
  const deb = await buildDeb({ name: "x", version: "1" });
  await assert.rejects(readDeb(put(deb.subarray(0, deb.length - 100))), isDebErr(/oversized or truncated/));
  assert.deepEqual(
    (await readArMembers(put(deb))).map((m) => m.name),
    ["debian-binary", "control.tar.xz", "data.tar.xz"],
  );
});

test("deb structure: missing or misplaced members and bad format versions are E_DEB", async () => {
  const ctl = compress(
    await tarball([{ name: "./control", data: controlText({ name: "x", version: "1" }) }]),
    "gz",
  );
  const data = compress(await tarball([{ name: "./", type: "directory" }]), "gz");
  const v2 = { name: "debian-binary", data: Buffer.from("2.0\n") };
  const c = { name: "control.tar.gz", data: ctl };
  const d = { name: "data.tar.gz", data };
  await assert.rejects(readDeb(put(arArchive([v2, c]))), isDebErr(/missing data\.tar/));
  await assert.rejects(readDeb(put(arArchive([v2, d]))), isDebErr(/missing control\.tar/));
  await assert.rejects(readDeb(put(arArchive([c, v2, d]))), isDebErr(/first ar member is not debian-binary/));
  await assert.rejects(
    readDeb(put(arArchive([{ name: "debian-binary", data: Buffer.from("3.0\n") }, c, d]))),
    isDebErr(/format version "3\.0"/),
  );
  await assert.rejects(
    readDeb(put(arArchive([v2, c, d, { name: "evil", data: Buffer.from("x") }]))),
    isDebErr(/unexpected ar member evil/),
  );
  const noControl = compress(await tarball([{ name: "./md5sums", data: "" }]), "gz");
  await assert.rejects(
    readDeb(put(arArchive([v2, { name: "control.tar.gz", data: noControl }, d]))),
    isDebErr(/no control file/),
  );
  await assert.rejects(
    readDeb(put(arArchive([v2, c, { name: "data.tar.gz", data: Buffer.from("garbage, not gzip") }]))),
    isDebErr(/corrupt tar/),
  );
  // a signature member (_gpgorigin) is allowed
  const ok = await readDeb(put(arArchive([v2, c, d, { name: "_gpgorigin", data: Buffer.from("sig") }])));
  assert.equal(ok.control.Package, "x");
});

test("path traversal: ../, absolute paths and escaping hard links are E_DEB", async () => {
  const mk = async (data: TarSpec[]) =>
    put(await buildDeb({ name: "evil", version: "1", compression: "gz", data }));
  await assert.rejects(
    readDeb(await mk([{ name: "./usr/../../etc/passwd", data: "x" }])),
    isDebErr(/path traversal "\.\/usr\/\.\.\/\.\.\/etc\/passwd"/),
  );
  await assert.rejects(readDeb(await mk([{ name: "../evil", data: "x" }])), isDebErr(/path traversal/));
  await assert.rejects(
    readDeb(await mk([{ name: "/etc/passwd", data: "x" }])),
    isDebErr(/absolute path "\/etc\/passwd"/),
  );
  await assert.rejects(
    readDeb(await mk([{ name: "./a", type: "link", linkname: "../../etc/shadow" }])),
    isDebErr(/path traversal "\.\.\/\.\.\/etc\/shadow"/),
  );
  await assert.rejects(
    readDeb(await mk([{ name: "./a", type: "link", linkname: "./later" }])),
    isDebErr(/does not name an earlier file/),
  );
});

test("extractDeb writes files, modes, symlinks and hard links; the output appears whole", async () => {
  const p = put(await buildDeb({ name: "tool", version: "1", data: DATA }));
  const out = join(tmp, "out");
  const d = await extractDeb(p, out);
  assert.equal(d.control.Package, "tool");
  assert.equal(readFileSync(join(out, "usr/bin/tool"), "utf8"), "binary\n");
  assert.equal(lstatSync(join(out, "usr/bin/tool")).mode & 0o7777, 0o4755);
  assert.equal(readlinkSync(join(out, "usr/bin/sym")), "tool");
  assert.equal(readlinkSync(join(out, "usr/bin/escape")), "../../../etc/shadow");
  assert.equal(lstatSync(join(out, "usr/bin/tool-alias")).ino, lstatSync(join(out, "usr/bin/tool")).ino);
  assert.equal(lstatSync(join(out, "var/tmp")).mode & 0o7777, 0o1777);
  assert.equal(lstatSync(join(out, "usr/bin/tool")).mtimeMs, 1_700_000_000_000);
  assert.deepEqual(readdirSync(out).sort(), ["usr", "var"]);
});

test("extractDeb refuses an entry below a symlink the package ships, and leaves nothing behind", async () => {
  const p = put(
    await buildDeb({
      name: "evil",
      version: "1",
      data: [
        { name: "./etc", type: "symlink", linkname: "/etc" },
        { name: "./etc/cron.d/evil", data: "x" },
      ],
    }),
  );
  const out = join(tmp, "evil-out");
  await assert.rejects(extractDeb(p, out), isDebErr(/below a symlink/));
  assert.equal(
    readdirSync(tmp).some((f) => f.startsWith("evil-out") || f.startsWith(".tmp-evil-out")),
    false,
  );
});

for (const decoder of ["wasm", "system xz"] as const) {
  test(`xz (${decoder}): parallel decompression gives the exact bytes; corrupt data is an error`, async (t) => {
    const { nativeXz, setXzDecoder, xzDecompress } = await import("../../../src/debian/xz.ts");
    setXzDecoder(undefined);
    const system = nativeXz();
    // (scripts/setup-host.sh installs xz-utils: the system decoder is always tested)
    if (decoder === "system xz")
      assert.ok(system, "no xz on PATH: install xz-utils (scripts/setup-host.sh does)");
    setXzDecoder(decoder === "wasm" ? "wasm" : (system as string));
    t.after(() => setXzDecoder(undefined));
    const { randomBytes } = await import("node:crypto");
    const inputs = Array.from({ length: 6 }, (_, i) =>
      Buffer.concat([randomBytes(1000 * (i + 1)), Buffer.alloc(200_000 * i, i)]),
    );
    const outs = await Promise.all(inputs.map((b) => xzDecompress(compress(b, "xz"))));
    for (const [i, o] of outs.entries()) assert.ok(Buffer.from(o).equals(inputs[i]), `buffer ${i} differs`);
    const bad = compress(inputs[1], "xz");
    bad[bad.length >> 1] ^= 0xff;
    await assert.rejects(xzDecompress(bad), /corrupt|error/i);
    await assert.rejects(xzDecompress(Buffer.from("not xz at all")), /format|magic|not|error/i);
    // a .deb whose data.tar.xz is corrupt
    const deb = await buildDeb({ name: "x", version: "1" });
    const members = await readArMembers(put(deb));
    const data = members.find((m) => m.name === "data.tar.xz")!;
    const broken = Buffer.from(deb);
    broken[data.offset + (data.size >> 1)] ^= 0xff;
    await assert.rejects(readDeb(put(broken)), isDebErr(/corrupt xz data in data\.tar\.xz/));
  });
}

test("readDebs: many packages in parallel, input order kept; the first failure is reported", async () => {
  const paths = await Promise.all(
    ["a", "b", "c", "d", "e"].map(async (name, i) =>
      put(await buildDeb({ name, version: `${i + 1}.0`, compression: i % 2 ? "xz" : "zst" })),
    ),
  );
  const ds = await readDebs(paths, { concurrency: 3 });
  assert.deepEqual(
    ds.map((d) => `${d.control.Package} ${d.control.Version}`),
    ["a 1.0", "b 2.0", "c 3.0", "d 4.0", "e 5.0"],
  );
  assert.ok(ds.every((d) => d.entries.some((e) => e.type === "file" && e.data !== undefined)));
  await assert.rejects(
    readDebs([paths[0], join(tmp, "missing.deb")]),
    isDebErr(/cannot open .*missing\.deb/),
  );
});
