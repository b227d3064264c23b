import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { test } from "node:test";
import { readImageFs } from "../../../src/verify/image-fs.ts";
import { fsOf, makeElf, SHELL_STRINGS } from "./helpers.ts";

test("layers apply in order: whiteouts delete, opaque dirs hide lower content, overwrites count as wasted", async () => {
  const fs = await fsOf(
    [
      { d: "/app" },
      { f: "/app/a", data: "A".repeat(1000) },
      { f: "/app/b", data: "B".repeat(2000) },
      { d: "/data" },
      { f: "/data/old", data: "x".repeat(300) },
      { f: "/etc/conf", data: "one" },
    ],
    [
      { f: "/app/.wh.a" },
      { f: "/data/.wh..wh..opq" },
      { f: "/data/new", data: "n" },
      { f: "/etc/conf", data: "two!" },
    ],
  );
  assert.equal(fs.get("/app/a"), undefined, "whiteout removed /app/a");
  assert.ok(fs.get("/app/b"));
  assert.equal(fs.get("/data/old"), undefined, "opaque dir hid the lower layer's file");
  assert.ok(fs.get("/data/new"), "the opaque layer's own file stays");
  assert.equal(fs.get("/etc/conf")?.size, 4);
  assert.equal(fs.get("/etc/conf")?.layer, 1);
  const st = fs.stats();
  assert.equal(st.wastedBytes, 1000 + 300 + 3);
  assert.deepEqual(fs.wasted.map((w) => `${w.path}:${w.how}`).sort(), [
    "/app/a:deleted",
    "/data/old:deleted",
    "/etc/conf:overwritten",
  ]);
  assert.equal(st.totalBytes, 2000 + 1 + 4);
});

test("whiteout of a directory removes its whole subtree", async () => {
  const fs = await fsOf(
    [
      { f: "/opt/x/y/z", data: "zz" },
      { f: "/opt/keep", data: "k" },
    ],
    [{ f: "/opt/.wh.x" }],
  );
  assert.equal(fs.get("/opt/x"), undefined);
  assert.equal(fs.get("/opt/x/y/z"), undefined);
  assert.ok(fs.get("/opt/keep"));
});

test("symlinks resolve inside the image (absolute targets from the image root, .. never above /)", async () => {
  const fs = await fsOf([
    { d: "/usr/bin" },
    { f: "/usr/bin/prog", data: "p", mode: 0o755 },
    { l: "/bin", target: "usr/bin" },
    { l: "/usr/bin/alias", target: "/bin/prog" },
    { l: "/escape", target: "../../../../usr/bin/prog" },
    { l: "/loop1", target: "/loop2" },
    { l: "/loop2", target: "/loop1" },
  ]);
  const r = fs.resolve("/bin/alias");
  assert.ok(!("missing" in r) && r.path === "/usr/bin/prog");
  const e = fs.resolve("/escape");
  assert.ok(!("missing" in e) && e.path === "/usr/bin/prog");
  const l = fs.resolve("/loop1");
  assert.ok("missing" in l && l.loop === true);
  const m = fs.resolve("/bin/nothing");
  assert.ok("missing" in m && m.missing === "/usr/bin/nothing");
});

test("hard links share the content analysis of their target", async () => {
  const sh = makeElf({
    interp: "/lib64/ld-linux-x86-64.so.2",
    needed: ["libc.so.6"],
    payload: SHELL_STRINGS,
  });
  const fs = await fsOf([
    { f: "/usr/bin/dash", data: sh, mode: 0o755 },
    { h: "/opt/tool", target: "/usr/bin/dash" },
  ]);
  const a = fs.get("/usr/bin/dash");
  const b = fs.get("/opt/tool");
  assert.ok(a?.content?.shellSignature);
  assert.equal(b?.content?.shellSignature, a?.content?.shellSignature);
  assert.ok(a?.hardlinkOf || b?.hardlinkOf, "one of them is the hard link");
  assert.equal(fs.stats().totalBytes, sh.length, "hard links count once");
});

test("content analysis: shebang, secrets, kept config text", async () => {
  const fs = await fsOf([
    { f: "/usr/lib/helper", data: "#!/bin/sh -e\necho hi\n", mode: 0o755 },
    { f: "/srv/key.pem", data: "junk\n-----BEGIN RSA PRIVATE KEY-----\nMII...\n" },
    { f: "/etc/passwd", data: "root:x:0:0::/root:/sbin/nologin\n" },
  ]);
  assert.deepEqual(fs.get("/usr/lib/helper")?.content?.shebang, { interpreter: "/bin/sh", arg: "-e" });
  assert.deepEqual(fs.get("/srv/key.pem")?.content?.secrets, [{ kind: "private key (PEM)", line: 2 }]);
  assert.equal(fs.get("/etc/passwd")?.content?.text, "root:x:0:0::/root:/sbin/nologin\n");
  assert.equal(fs.get("/srv/key.pem")?.content?.text, undefined, "only config files keep their text");
});

test("a corrupt layer is a clear E_LAYER_READ error", async () => {
  const bad = {
    open: async () => Readable.from([Buffer.from("this is not a tar archive, not at all".repeat(20))]),
  };
  await assert.rejects(readImageFs([bad]), (e: Error & { code?: string }) => e.code === "E_LAYER_READ");
});

test("shell signatures are found when they straddle chunk boundaries", async () => {
  const { ContentAnalyzer } = await import("../../../src/verify/content.ts");
  const elf = makeElf({ interp: "/lib64/ld-linux-x86-64.so.2", payload: SHELL_STRINGS });
  for (const size of [1, 3, 7, 64]) {
    const a = new ContentAnalyzer("/x", elf.length);
    for (let i = 0; i < elf.length; i += size) a.push(elf.subarray(i, i + size));
    assert.equal(a.finish().shellSignature, "posix-shell", `chunks of ${size}`);
  }
  const plain = makeElf({
    interp: "/lib64/ld-linux-x86-64.so.2",
    payload: "\0OPTIND\0OPTARG\0PPID\0PS4\0IFS\0",
  });
  const b = new ContentAnalyzer("/y", plain.length);
  b.push(plain);
  assert.equal(b.finish().shellSignature, undefined, "without esac it is not a shell");
  // CPython's words are no csh: "endswith" holds "endsw", but not as a string of its own
  const py = makeElf({
    interp: "/lib64/ld-linux-x86-64.so.2",
    payload: "\0endswith\0setenv\0unsetenv\0foreach\0breaksw_x\0onintr_\0hashstat0\0unalias\0",
  });
  const c = new ContentAnalyzer("/z", py.length);
  c.push(py);
  assert.equal(c.finish().shellSignature, undefined, "csh's words inside longer strings are not csh");
});

test("more layers than are read at once still merge in order", async () => {
  const layers = Array.from({ length: 7 }, (_, i) => [
    { f: "/etc/version", data: `v${i}` },
    ...(i === 3 ? [{ f: "/etc/.wh.gone" }] : [{ f: "/etc/gone", data: `g${i}` }]),
  ]);
  const fs = await fsOf(...layers);
  assert.equal(fs.get("/etc/version")?.layer, 6);
  assert.equal(fs.get("/etc/version")?.size, 2);
  assert.equal(fs.get("/etc/gone")?.layer, 6, "re-created after the whiteout in layer 3");
  assert.equal(fs.wasted.filter((w) => w.path === "/etc/version").length, 6);
});
