/** The test-image helpers other subsystems' tests build on. */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import * as tar from "tar-stream";
import { openImage } from "../../../src/oci/index.ts";
import { makeImage, TINI } from "../../helpers/images.ts";

async function names(stream: NodeJS.ReadableStream): Promise<Array<[string, string, number]>> {
  const ex = tar.extract();
  stream.pipe(ex);
  const out: Array<[string, string, number]> = [];
  for await (const e of ex) {
    out.push([e.header.name, e.header.type ?? "", e.header.mode ?? 0]);
    e.resume();
  }
  return out;
}

describe("makeImage", () => {
  it("layers, parents, whiteouts, editConfig — and the result verifies on read", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "shellfree-helpers-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const m = await makeImage(dir, {
      files: [
        { path: "/bin/sh", hostPath: TINI, mode: 0o755 },
        { path: "/etc/passwd", data: "root:x:0:0::/root:/bin/sh\n" },
      ],
      symlinks: [{ path: "/usr/bin/sh", target: "/bin/sh" }],
      layers: [{ files: [{ path: "/etc/.wh.passwd", data: "" }] }],
      config: { user: "0" },
      editConfig: (c) => {
        (c.config as Record<string, unknown>).Entrypoint = "/bin/sh -c 'exec app'";
        (c.config as Record<string, unknown>).Healthcheck = { Test: ["CMD-SHELL", "curl -f localhost"] };
      },
      format: "oci-archive",
    });
    const im = await openImage(m.ref);
    assert.equal(im.config.config?.User, "0");
    assert.equal(im.config.config?.Entrypoint as unknown, "/bin/sh -c 'exec app'");
    assert.deepEqual(im.config.config?.Healthcheck?.Test, ["CMD-SHELL", "curl -f localhost"]);
    assert.equal(im.manifestDigest, m.result.digest);
    assert.equal(im.layers.length, 2);
    assert.deepEqual(await names(await im.layers[0].open()), [
      ["bin/", "directory", 0o755],
      ["bin/sh", "file", 0o755],
      ["etc/", "directory", 0o755],
      ["etc/passwd", "file", 0o644],
      ["usr/", "directory", 0o755],
      ["usr/bin/", "directory", 0o755],
      ["usr/bin/sh", "symlink", 0o777],
    ]);
    assert.deepEqual(await names(await im.layers[1].open()), [
      ["etc/", "directory", 0o755],
      ["etc/.wh.passwd", "file", 0o644],
    ]);
  });
});
