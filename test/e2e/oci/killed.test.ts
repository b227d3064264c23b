/**
 * A killed write leaves no partial output. The child process blocks for good in the middle of
 * a write (its content comes from a FIFO nobody writes to) and is SIGKILLed there: the layer
 * store has no blob, the archive does not exist (only `.tmp-*` names, which no reader looks
 * at), and a rerun writes a complete, readable archive.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { openImage } from "../../../src/oci/index.ts";

const INDEX = new URL("../../../src/oci/index.ts", import.meta.url).pathname;
// argv (with -e there is no script path): dir, mode ("layer" | "output"), target, fifo|"-"
const CHILD = `
import { writeFileSync } from "node:fs";
import { buildImage, writeLayer, writeOutput } from ${JSON.stringify(INDEX)};
const [dir, mode, target, fifo] = process.argv.slice(1);
const data = Buffer.alloc(6 * 1024 * 1024, "shellfree");
writeFileSync(dir + "/data", data);
const entries = [{ type: "file", path: "a", mode: 0o644, uid: 0, gid: 0, size: data.length, content: { kind: "file", path: dir + "/data" } }];
if (mode === "layer") entries.push({ type: "file", path: "b", mode: 0o644, uid: 0, gid: 0, size: 10, content: { kind: "file", path: fifo } });
const layer = await writeLayer(entries, { compression: "gzip", sourceDateEpoch: 1, blobDir: dir + "/cache" });
const im = await buildImage({ platform: { os: "linux", architecture: "amd64" }, layers: [layer], config: {}, created: new Date(1000) }, dir + "/cache");
if (fifo !== "-") im.layers[0] = { ...layer, path: fifo };
process.stdout.write("writing\\n");
await writeOutput(target, [im]);
process.stdout.write("done\\n");
`;

/** Run the child until `ready()` holds, then SIGKILL it. */
async function runAndKill(args: string[], ready: (out: string) => Promise<boolean>): Promise<string> {
  const child = spawn(process.execPath, ["--input-type=module", "-e", CHILD, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    err += d;
  });
  const exited = new Promise<void>((r) => child.on("close", () => r()));
  try {
    for (let i = 0; i < 1000 && child.exitCode === null; i++) {
      if (await ready(out)) {
        await sleep(200); // it is blocked on the FIFO: nothing more can happen
        break;
      }
      await sleep(20);
    }
  } finally {
    child.kill("SIGKILL");
    await exited;
  }
  assert.equal(err, "", "the child had no error of its own");
  return out;
}

const temps = async (d: string) =>
  (await readdir(d).catch(() => [] as string[])).filter((n) => n.startsWith(".tmp-"));

describe("killed writes", () => {
  it("leave no layer blob and no archive under the final names", async () => {
    const dir = await mkdtemp(join(tmpdir(), "shellfree-kill-"));
    try {
      const fifo = join(dir, "fifo");
      execFileSync("mkfifo", [fifo]);
      // killed while writing the layer (its second file never arrives)
      const out1 = await runAndKill([dir, "layer", `oci-archive:${dir}/x.tar`, fifo], async () => {
        return (await temps(join(dir, "cache", "sha256"))).length > 0;
      });
      assert.equal(out1, "");
      const names = await readdir(join(dir, "cache", "sha256"));
      assert.equal(names.filter((n) => !n.startsWith(".tmp-")).length, 0, "no blob under a digest name");
      assert.equal(names.length, 1, "the interrupted temp file is all there is");
      // killed while writing an oci-archive and a docker-archive (the layer blob never arrives)
      for (const kind of ["oci-archive", "docker-archive"]) {
        const file = join(dir, `${kind}.tar`);
        const out = await runAndKill(
          [dir, "output", `${kind}:${file}`, fifo],
          async (o) => o.includes("writing") && (await temps(dir)).length > 0,
        );
        assert.equal(out, "writing\n", kind);
        await assert.rejects(stat(file), { code: "ENOENT" }, kind);
        const partial = (await temps(dir)).filter((n) => n.includes(`${kind}.tar`));
        assert.equal(partial.length, 1, `${kind}: only a temp file`);
        assert.ok((await stat(join(dir, partial[0]))).size > 0, `${kind}: the write had begun`);
      }
      // a rerun completes and reads back
      const out4 = await runAndKill([dir, "output", `oci-archive:${dir}/oci-archive.tar`, "-"], async (o) =>
        o.includes("done"),
      );
      assert.match(out4, /done/);
      const im = await openImage(`oci-archive:${dir}/oci-archive.tar`);
      assert.equal(im.layers.length, 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
