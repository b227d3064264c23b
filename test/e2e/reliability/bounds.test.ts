/**
 * Issue 17, item 9: bounded inputs. A spec file over 1 MiB is refused before it is parsed (one
 * line naming the file and its size, exit 1, nothing written); a healthcheck duration over 24 h
 * (2³¹ ms and more) is refused at its file:line; an image config readers would refuse (over
 * 16 MiB) is never written.
 */
import assert from "node:assert/strict";
import { existsSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { buildImage, writeLayer } from "../../../src/oci/index.ts";
import { removeDir, tempDir } from "../../helpers/tmp.ts";
import { shellfree } from "../builder/common.ts";

let dir = "";
before(async () => {
  dir = await tempDir("shellfree-bounds-");
});
after(async () => {
  if (dir) await removeDir(dir);
});

const errorLines = (stderr: string) => stderr.split("\n").filter((l) => l.startsWith("shellfree: "));

describe("bounded inputs", () => {
  test("a 50 MiB spec is refused by its size, before it is parsed", async () => {
    const spec = join(dir, "huge.yaml");
    const labels = Array.from({ length: 700_000 }, (_, i) => `    k${i}: "${"v".repeat(60)}"`).join("\n");
    writeFileSync(spec, `name: huge\npreset: static\nconfig:\n  labels:\n${labels}\n`);
    assert.ok(statSync(spec).size > 50 * 1024 * 1024);
    const out = join(dir, "huge-out");
    const r = await shellfree(["build", "-f", spec, "-o", `oci:${out}`]);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(
      errorLines(r.stderr),
      [
        `shellfree: spec ${spec} is ${(statSync(spec).size / 1024 / 1024).toFixed(1)} MiB; a spec file may be at most 1 MiB`,
      ],
      r.stderr,
    );
    assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
    assert.ok(!existsSync(out), "nothing written");
  });

  for (const [value, why] of [
    ["600h", "600h is longer than 24h, the most a duration may be"],
    ["2147484s", "2147484s is longer than 24h, the most a duration may be"],
  ] as const) {
    test(`a healthcheck interval of ${value} is refused at its line`, async () => {
      const spec = join(dir, `hc-${value}.yaml`);
      writeFileSync(
        spec,
        `name: hc\npreset: static\nconfig:\n  healthcheck:\n    test: [/x]\n    interval: ${value}\n`,
      );
      const r = await shellfree(["build", "-f", spec, "-o", `oci:${join(dir, "hc-out")}`]);
      assert.equal(r.code, 1, r.stderr);
      const lines = errorLines(r.stderr);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], new RegExp(`^shellfree: ${spec}:6.*config\\.healthcheck\\.interval.*${why}`));
      assert.ok(!existsSync(join(dir, "hc-out")));
    });
  }

  test("an init configuration over 1 MiB is refused by its size (init-config)", async () => {
    const file = join(dir, "init.yaml");
    writeFileSync(file, `${"# padding\n".repeat(300_000)}main: [/bin/app]\n`);
    const r = await shellfree(["init-config", file]);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(
      errorLines(r.stderr),
      [
        `shellfree: ${file} is ${(statSync(file).size / 1024 / 1024).toFixed(1)} MiB; an init configuration may be at most 1 MiB`,
      ],
      r.stderr,
    );
    assert.equal(r.stdout, "");
  });

  test("an image config over 16 MiB is never written", async () => {
    const blobDir = join(dir, "blobs");
    const l = await writeLayer([{ type: "dir", path: "etc", mode: 0o755, uid: 0, gid: 0 }], {
      compression: "gzip",
      sourceDateEpoch: 0,
      blobDir,
    });
    await assert.rejects(
      buildImage(
        {
          platform: { os: "linux", architecture: "amd64" },
          layers: [l],
          config: { labels: { big: "x".repeat(17 * 1024 * 1024) } },
          created: new Date(0),
        },
        blobDir,
      ),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, "E_CONFIG");
        assert.match(
          e.message,
          /^the image config would be \d+ bytes; readers accept at most 16777216 \(16 MiB\)$/,
        );
        return true;
      },
    );
  });
});
