import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { buildImage } from "../../../src/oci/image.ts";
import { writeLayer } from "../../../src/oci/layer.ts";
import { writeOutput } from "../../../src/oci/output.ts";
import { CLI } from "../../helpers/cli.ts";
import { tempDir } from "../../helpers/tmp.ts";
import { dir, file } from "./helpers.ts";

const run = promisify(execFile);

describe("shellfree inspect", () => {
  it("prints platforms, digests, layers and config; --json; a clear error", async (t) => {
    const d = await tempDir("oci-unit-", t);
    const blobDir = join(d, "cache");
    const layer = await writeLayer([dir("app"), file("app/run", "x", 0o755)], {
      compression: "gzip",
      sourceDateEpoch: 1,
      blobDir,
    });
    const imgs = await Promise.all(
      ["amd64", "arm64"].map((architecture) =>
        buildImage(
          {
            platform: { os: "linux", architecture },
            layers: [layer],
            config: { entrypoint: ["/app/run"], user: "65532", exposedPorts: ["8080"] },
            created: new Date(1000),
          },
          blobDir,
        ),
      ),
    );
    const out = join(d, "img");
    const w = await writeOutput(`oci:${out}:v1`, imgs);
    const env = { ...process.env, SHELLFREE_QUIET: "1" };
    const j = JSON.parse((await run(CLI, ["inspect", "--json", `oci:${out}:v1`], { env })).stdout);
    assert.deepEqual(
      j.images.map((i: { platform: string; manifestDigest: string }) => [i.platform, i.manifestDigest]),
      w.manifests.map((m) => [`linux/${m.platform.architecture}`, m.digest]),
    );
    assert.deepEqual(j.images[0].layers, [
      { digest: layer.digest, diffId: layer.diffId, mediaType: layer.mediaType, size: layer.size },
    ]);
    assert.deepEqual(j.images[0].config.exposedPorts, ["8080/tcp"]);
    const txt = (await run(CLI, ["inspect", "--platform", "linux/arm64", `oci:${out}:v1`], { env })).stdout;
    assert.match(txt, /^linux\/arm64 {2}manifest sha256:[0-9a-f]{64}$/m);
    assert.doesNotMatch(txt, /linux\/amd64/);
    assert.match(txt, /entrypoint: \["\/app\/run"\]/);
    const bad = await run(CLI, ["inspect", `oci:${out}:nope`], { env }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal((bad as { code: number }).code, 1);
    assert.match(
      (bad as { stderr: string }).stderr,
      /^shellfree: .*no image tagged "nope"\nhint: tags present: v1\n$/,
    );
  });
});
