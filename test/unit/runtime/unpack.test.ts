import assert from "node:assert/strict";
import { lstat, mkdtemp, readFile, readlink, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { test } from "node:test";
import { tarToBuffer } from "../../../src/oci/tar.ts";
import { unpackImage } from "../../../src/runtime/unpack.ts";
import { type E, entries } from "../verify/helpers.ts";

async function layer(list: E[]) {
  const buf = await tarToBuffer(entries(list), { sourceDateEpoch: 1_700_000_000 });
  return { open: async () => Readable.from([buf]) };
}

test("unpack applies layers: modes incl. setuid, owners, symlinks, hard links, whiteouts, opaque dirs", async () => {
  const dir = await mkdtemp(join(tmpdir(), "sf-unpack-"));
  const root = join(dir, "rootfs");
  try {
    await unpackImage(root, [
      await layer([
        { f: "/usr/bin/app", data: "app", mode: 0o4750, uid: 0, gid: 1000 },
        { h: "/usr/bin/app2", target: "/usr/bin/app" },
        { l: "/bin", target: "usr/bin" },
        { d: "/tmp", mode: 0o1777 },
        { d: "/ro", mode: 0o555 },
        { f: "/ro/file", data: "in a read-only dir" },
        { f: "/gone", data: "x" },
        { f: "/data/old", data: "old" },
        { f: "/home/u/f", data: "u", uid: 1234, gid: 1234 },
      ]),
      await layer([{ f: "/.wh.gone" }, { f: "/data/.wh..wh..opq" }, { f: "/data/new", data: "new" }]),
    ]);
    const st = await stat(join(root, "usr/bin/app"));
    assert.equal(st.mode & 0o7777, 0o4750, "setuid kept (chmod after chown)");
    assert.equal(st.gid, 1000);
    assert.equal((await stat(join(root, "usr/bin/app2"))).ino, st.ino, "hard link");
    assert.equal(await readlink(join(root, "bin")), "usr/bin");
    assert.equal((await stat(join(root, "tmp"))).mode & 0o7777, 0o1777);
    assert.equal((await stat(join(root, "ro"))).mode & 0o7777, 0o555);
    assert.equal(await readFile(join(root, "ro/file"), "utf8"), "in a read-only dir");
    await assert.rejects(lstat(join(root, "gone")));
    await assert.rejects(lstat(join(root, "data/old")));
    assert.equal(await readFile(join(root, "data/new"), "utf8"), "new");
    assert.equal((await stat(join(root, "home/u/f"))).uid, 1234);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a layer cannot write outside the rootfs through a symlink", async () => {
  const dir = await mkdtemp(join(tmpdir(), "sf-unpack-"));
  const root = join(dir, "rootfs");
  const outside = join(dir, "outside");
  try {
    await writeFile(outside, "untouched");
    await unpackImage(root, [
      await layer([
        { l: "/etc", target: dir }, // absolute host path: means <root><dir> inside the image
        { l: "/up", target: "../../../../.." },
      ]),
      await layer([
        { f: "/etc/outside", data: "EVIL" },
        { f: "/up/outside", data: "EVIL" },
      ]),
    ]);
    assert.equal(await readFile(outside, "utf8"), "untouched");
    assert.equal(
      await readFile(join(root, dir, "outside"), "utf8"),
      "EVIL",
      "written inside the rootfs instead",
    );
    assert.equal(await readFile(join(root, "outside"), "utf8"), "EVIL", ".. stops at the rootfs");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
