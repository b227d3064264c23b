import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { pushLayout } from "../../../src/oci/registry/index.ts";
import { selectFromLayout, walkLayout } from "../../../src/oci/registry/push.ts";
import { makeImage } from "../../helpers/images.ts";

let tmp: string;
let single: string;
let multi: string;
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), "shellfree-reg-layout-"));
  single = (await makeImage(join(tmp, "single"), { files: [{ path: "/a", data: "a\n" }], tag: "one" })).path;
  multi = (
    await makeImage(join(tmp, "multi"), {
      files: [{ path: "/b", data: "b\n" }],
      layers: [{ files: [{ path: "/c", data: "c\n" }] }],
      platforms: ["linux/amd64", "linux/arm64"],
    })
  ).path;
});
after(() => rm(tmp, { recursive: true, force: true }));

test("walkLayout: an index, its manifests children first, every blob once", async () => {
  const top = await selectFromLayout({ dir: multi });
  const w = await walkLayout(multi, top);
  assert.equal(w.manifests.length, 3);
  assert.equal(w.manifests[2].desc.digest, top.digest, "the index is pushed last");
  assert.deepEqual(
    w.manifests.map((m) => m.mediaType),
    [
      "application/vnd.oci.image.manifest.v1+json",
      "application/vnd.oci.image.manifest.v1+json",
      "application/vnd.oci.image.index.v1+json",
    ],
  );
  // 2 configs + 2 layers shared by both platforms
  assert.equal(w.blobs.size, 4);
});

test("selectFromLayout: a missing tag lists the tags; several images need a tag", async () => {
  await assert.rejects(selectFromLayout({ dir: single, tag: "two" }), /has no image tagged "two"/);
  await assert.rejects(selectFromLayout({ dir: single, tag: "two" }), (e: Error & { hint?: string }) => {
    assert.equal(e.hint, "tags in the layout: one");
    return true;
  });
  const idx = JSON.parse(await readFile(join(single, "index.json"), "utf8"));
  idx.manifests.push({ ...idx.manifests[0], annotations: { "org.opencontainers.image.ref.name": "other" } });
  await writeFile(join(single, "index.json"), JSON.stringify(idx));
  await assert.rejects(selectFromLayout({ dir: single }), (e: Error & { code?: string; hint?: string }) => {
    assert.equal(e.code, "E_LAYOUT_REF");
    assert.match(e.message, /holds 2 images; name one/);
    assert.match(e.hint ?? "", /tags: one, other/);
    return true;
  });
  assert.equal((await selectFromLayout({ dir: single, tag: "other" })).digest, idx.manifests[0].digest);
});

test("a corrupt manifest blob is found before anything is sent", async () => {
  const top = await selectFromLayout({ dir: multi });
  const path = join(multi, "blobs", "sha256", top.digest.slice(7));
  const good = await readFile(path);
  await writeFile(path, Buffer.concat([good.subarray(0, -1), Buffer.from(" ")]));
  try {
    await assert.rejects(walkLayout(multi, top), { code: "E_DIGEST" });
  } finally {
    await writeFile(path, good);
  }
});

test("pushLayout: bad tags, refs and layout refs fail before any connection", async () => {
  // port 9 (discard) on 127.0.0.1: nothing listens; reaching the network would give E_NETWORK instead
  await assert.rejects(pushLayout(`oci:${multi}`, "127.0.0.1:9/a:b", { tags: ["-bad"] }), {
    code: "E_REGISTRY_REF",
  });
  await assert.rejects(pushLayout(`${multi}`, "127.0.0.1:9/a:b"), { code: "E_LAYOUT_REF" });
  await assert.rejects(pushLayout(`oci:${multi}`, "nohost/a:b"), { code: "E_REGISTRY_REF" });
  await assert.rejects(pushLayout(`oci:${join(tmp, "nope")}`, "127.0.0.1:9/a:b"), { code: "E_LAYOUT" });
});
