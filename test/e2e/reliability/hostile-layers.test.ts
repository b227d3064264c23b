/**
 * Issue 17, item 8: `verify` fails an image whose layers would write outside the root of a
 * naive extractor — `../../../../tmp/x`, `/tmp/x`, a symlink to `/tmp/t/escape` followed by
 * `evil/x`, a hard link to `/etc/shadow` — each an error finding of rule layer-path-escape
 * naming the entry and the layer (numbered from 1, as the progress lines), exit 3. The same
 * image without the hostile layer passes, so nothing else makes it fail. `inspect` on a
 * missing or corrupt layer blob says so and exits non-zero; verify names the corrupt blob.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import tar from "tar-stream";
import { tiniImage } from "../../helpers/images.ts";
import { removeDir, tempDir } from "../../helpers/tmp.ts";
import { shellfree } from "../builder/common.ts";

let dir = "";
before(async () => {
  dir = await tempDir("shellfree-hostile-");
});
after(async () => {
  if (dir) await removeDir(dir);
});

type RawEntry = {
  name: string;
  type?: "file" | "symlink" | "link" | "directory";
  linkname?: string;
  data?: string;
};

/** A gzipped tar whose entry names are written exactly as given (no normalisation). */
async function rawLayer(entries: RawEntry[]): Promise<{ gz: Buffer; tar: Buffer }> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on("data", (c) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<void>((r) => pack.on("end", () => r()));
  for (const e of entries) {
    const data = e.data ?? "";
    await new Promise<void>((res, rej) =>
      pack.entry(
        {
          name: e.name,
          type: e.type ?? "file",
          linkname: e.linkname,
          mode: e.type === "directory" ? 0o755 : 0o644,
          uid: 0,
          gid: 0,
          mtime: new Date(0),
          size: e.type === "file" || e.type === undefined ? Buffer.byteLength(data) : 0,
        },
        e.type === "file" || e.type === undefined ? data : "",
        (err) => (err ? rej(err) : res()),
      ),
    );
  }
  pack.finalize();
  await done;
  const t = Buffer.concat(chunks);
  return { tar: t, gz: gzipSync(t) };
}

const sha = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

/** Append a layer (gzip bytes, diffId) to the image tagged `tag` in the layout `layout`. */
function appendLayer(layout: string, gz: Buffer, diffId: string): string {
  const blob = (d: string) => join(layout, "blobs", "sha256", d.slice(7));
  const put = (b: Buffer) => {
    writeFileSync(blob(sha(b)), b);
    return sha(b);
  };
  const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8"));
  const desc = index.manifests[0];
  const manifest = JSON.parse(readFileSync(blob(desc.digest), "utf8"));
  const config = JSON.parse(readFileSync(blob(manifest.config.digest), "utf8"));
  config.rootfs.diff_ids.push(diffId);
  const cfg = Buffer.from(JSON.stringify(config));
  manifest.config = { ...manifest.config, digest: put(cfg), size: cfg.length };
  manifest.layers.push({
    mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
    digest: put(gz),
    size: gz.length,
  });
  const m = Buffer.from(JSON.stringify(manifest));
  index.manifests[0] = { ...desc, digest: put(m), size: m.length };
  writeFileSync(join(layout, "index.json"), JSON.stringify(index));
  return sha(gz);
}

/** The rules a tini-only test image cannot pass (no healthcheck, no os-release) are off. */
function policy(): string {
  const p = join(dir, "policy.yaml");
  writeFileSync(p, "rules:\n  healthcheck: { enabled: false }\n  os-release: { enabled: false }\n");
  return p;
}

async function image(name: string): Promise<{ ref: string; path: string }> {
  const im = await tiniImage(join(dir, name), { config: { user: "65532:65532" } });
  return { ref: im.ref, path: im.path };
}

const errorLines = (stderr: string) => stderr.split("\n").filter((l) => l.startsWith("shellfree: "));

interface Report {
  findings: Array<{ rule: string; severity: string; path?: string; message: string }>;
}

describe("verify fails layers that write outside the root", () => {
  test("the clean image passes (nothing else fails it)", async () => {
    const im = await image("clean");
    const r = await shellfree(["verify", im.ref, "--json", "--policy", policy()]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  const cases: Array<{ name: string; entries: RawEntry[]; path: string; message: string }> = [
    {
      name: "a name climbing with ..",
      entries: [{ name: "../../../../tmp/x", data: "x" }],
      path: "../../../../tmp/x",
      message: 'layer 2: entry "../../../../tmp/x" climbs above the root with ..',
    },
    {
      name: "an absolute name",
      entries: [{ name: "/tmp/x", data: "x" }],
      path: "/tmp/x",
      message: 'layer 2: entry "/tmp/x" is an absolute path',
    },
    {
      name: "a symlink out of the root, then an entry through it",
      entries: [
        { name: "evil", type: "symlink", linkname: "/tmp/t/escape" },
        { name: "evil/x", data: "x" },
      ],
      path: "/evil/x",
      message:
        'layer 2: entry "/evil/x" is written through the symlink /evil -> /tmp/t/escape, which points out of the root',
    },
    {
      name: "a relative symlink climbing out, then an entry through it",
      entries: [
        { name: "a/", type: "directory" },
        { name: "a/up", type: "symlink", linkname: "../../.." },
        { name: "a/up/tmp/y", data: "y" },
      ],
      path: "/a/up/tmp/y",
      message:
        'layer 2: entry "/a/up/tmp/y" is written through the symlink /a/up -> ../../.., which points out of the root',
    },
    {
      name: "a hard link to /etc/shadow",
      entries: [{ name: "shadow", type: "link", linkname: "/etc/shadow" }],
      path: "shadow",
      message: 'layer 2: hard link "shadow" to "/etc/shadow", which is an absolute path',
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const im = await image(c.name.replace(/\W+/g, "-"));
      const l = await rawLayer(c.entries);
      appendLayer(im.path, l.gz, sha(l.tar));
      const r = await shellfree(["verify", im.ref, "--json", "--policy", policy()]);
      assert.equal(r.code, 3, r.stdout + r.stderr);
      const found = (JSON.parse(r.stdout) as Report).findings.filter((f) => f.rule === "layer-path-escape");
      assert.deepEqual(
        found.map((f) => [f.severity, f.path, f.message]),
        [["error", c.path, c.message]],
      );
    });
  }

  test("a relative symlink inside the root (usr-merge style) is fine", async () => {
    const im = await image("usrmerge");
    const l = await rawLayer([
      { name: "usr/", type: "directory" },
      { name: "usr/lib/", type: "directory" },
      { name: "lib", type: "symlink", linkname: "usr/lib" },
      { name: "lib/x", data: "x" },
    ]);
    appendLayer(im.path, l.gz, sha(l.tar));
    const r = await shellfree(["verify", im.ref, "--json", "--policy", policy()]);
    const found = (JSON.parse(r.stdout) as Report).findings.filter((f) => f.rule === "layer-path-escape");
    assert.deepEqual(found, []);
  });
});

describe("missing and corrupt layer blobs", () => {
  test("inspect: a missing layer blob is an error naming it", async () => {
    const im = await image("missing");
    const index = JSON.parse(readFileSync(join(im.path, "index.json"), "utf8"));
    const m = JSON.parse(
      readFileSync(join(im.path, "blobs", "sha256", index.manifests[0].digest.slice(7)), "utf8"),
    );
    const layer = m.layers[0].digest as string;
    rmSync(join(im.path, "blobs", "sha256", layer.slice(7)));
    const r = await shellfree(["inspect", im.ref]);
    assert.notEqual(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout, "");
    const lines = errorLines(r.stderr);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], new RegExp(`layer blob ${layer} is missing`));
    assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
  });

  test("inspect and verify: a corrupt (not gzip) layer blob is an error naming the blob", async () => {
    const im = await image("corrupt");
    const junk = Buffer.from("this is not gzip at all\n");
    const layer = appendLayer(im.path, junk, sha(junk));
    const i = await shellfree(["inspect", im.ref]);
    assert.notEqual(i.code, 0, i.stdout + i.stderr);
    assert.equal(i.stdout, "");
    const il = errorLines(i.stderr);
    assert.equal(il.length, 1, i.stderr);
    assert.match(il[0], new RegExp(`layer ${layer}: cannot decompress \\(gzip\\): incorrect header check`));
    const v = await shellfree(["verify", im.ref]);
    assert.notEqual(v.code, 0, v.stderr);
    assert.deepEqual(
      errorLines(v.stderr),
      [`shellfree: cannot read layer 2: layer ${layer}: cannot decompress (gzip): incorrect header check`],
      v.stderr,
    );
    assert.match(v.stderr, /verify: reading layer 2\/2/, "the progress line counts the same way");
  });
});
