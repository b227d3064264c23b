/**
 * Our outputs, read by the real tools: gzip/tar, skopeo, umoci, podman (private root), and
 * skopeo-written layouts read back by openImage.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { blobPath, listManifests, openImage, readIndex } from "../../../src/oci/index.ts";
import { makeImage, TINI, tiniImage } from "../../helpers/images.ts";
import { createPodman, type Podman } from "../../helpers/podman.ts";
import { runCommand } from "../../helpers/run.ts";
import { pseudoRandom } from "../../unit/oci/helpers.ts";

let root: string;
let pm: Podman;
const sha = (b: Uint8Array) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

/** 9 MiB of incompressible bytes, so a gzip layer has several members (4 MiB tar chunks). */
async function bigFile(): Promise<string> {
  const p = join(root, "big.bin");
  await writeFile(p, pseudoRandom(9 * 1024 * 1024, 2463534242));
  return p;
}

const content = async (dir: string, big: string) => ({
  files: [
    { path: "/usr/lib/big.bin", hostPath: big, mode: 0o644 },
    { path: "/usr/bin/suid", hostPath: TINI, mode: 0o4755, uid: 0, gid: 0 },
    { path: "/home/app/owned", data: "mine\n", mode: 0o600, uid: 1000, gid: 1000 },
  ],
  dirs: [{ path: "/home/app", mode: 0o700, uid: 1000, gid: 1000 }],
  symlinks: [{ path: "/bin", target: "usr/bin" }],
  hardlinks: [{ path: "/usr/bin/tini-link", target: "/usr/bin/tini-static" }],
  config: { user: "1000", env: { PATH: "/usr/bin" }, labels: { "org.example.test": "yes" } },
  dir,
});

before(async () => {
  root = await mkdtemp(join(tmpdir(), "shellfree-oci-e2e-"));
  pm = await createPodman();
});
after(async () => {
  await pm?.cleanup();
  await rm(root, { recursive: true, force: true });
});

describe("OCI outputs accepted by real tools", () => {
  it("gzip -t, tar -tzf, skopeo inspect and umoci unpack accept a multi-member gzip layout", async () => {
    const big = await bigFile();
    const c = await content(join(root, "gz"), big);
    const m = await tiniImage(c.dir, { ...c, tag: "v1" });
    const layer = m.images[0].layers[0];
    assert.ok(layer.uncompressedSize > 8 * 1024 * 1024, "layer spans several 4 MiB gzip chunks");
    // the same tree written elsewhere gives the same bytes
    const again = await tiniImage(join(root, "gz-again"), { ...c, tag: "v1" });
    assert.equal(again.result.digest, m.result.digest);
    assert.ok((await readFile(again.images[0].layers[0].path)).equals(await readFile(layer.path)));
    await runCommand("gzip", ["-t", layer.path]);
    const list = (await runCommand("tar", ["-tvzf", layer.path])).stdout;
    assert.match(list, /^-rwsr-xr-x 0\/0 .* usr\/bin\/suid$/m);
    assert.match(list, /^drwxrwxrwt 0\/0 .* tmp\/$/m);
    assert.match(list, /^-rw------- 1000\/1000 .* home\/app\/owned$/m);
    // a hard link group's first path (by name) carries the content
    assert.match(list, /^-rwxr-xr-x 0\/0 +708080 .* usr\/bin\/tini-link$/m);
    assert.match(list, /^hrwxr-xr-x 0\/0 .* usr\/bin\/tini-static link to usr\/bin\/tini-link$/m);

    const insp = JSON.parse((await runCommand("skopeo", ["inspect", `oci:${m.path}:v1`])).stdout);
    assert.equal(insp.Digest, m.result.digest);
    assert.equal(insp.Architecture, "amd64");
    assert.deepEqual(insp.Layers, [layer.digest]);
    assert.equal(insp.Labels["org.example.test"], "yes");
    const cfg = JSON.parse((await runCommand("skopeo", ["inspect", "--config", `oci:${m.path}:v1`])).stdout);
    assert.deepEqual(cfg.config.Entrypoint, [TINI, "--version"]);
    assert.equal(cfg.config.User, "1000");
    assert.deepEqual(cfg.rootfs.diff_ids, [layer.diffId]);

    const bundle = join(root, "bundle");
    await runCommand("umoci", ["unpack", "--image", `${m.path}:v1`, bundle]);
    const rf = join(bundle, "rootfs");
    const suid = await stat(join(rf, "usr/bin/suid"));
    assert.equal(suid.mode & 0o7777, 0o4755);
    const owned = await stat(join(rf, "home/app/owned"));
    assert.equal(owned.uid, 1000);
    assert.equal(owned.gid, 1000);
    assert.equal(owned.mode & 0o7777, 0o600);
    assert.equal((await stat(join(rf, "tmp"))).mode & 0o7777, 0o1777);
    const a = await stat(join(rf, "usr/bin/tini-static"));
    const b = await stat(join(rf, "usr/bin/tini-link"));
    assert.equal(a.ino, b.ino, "hard link preserved");
    assert.equal(sha(await readFile(join(rf, "usr/lib/big.bin"))), sha(await readFile(big)));
    const runtimeCfg = JSON.parse(await readFile(join(bundle, "config.json"), "utf8"));
    assert.deepEqual(runtimeCfg.process.args, [TINI, "--version"]);
    assert.equal(runtimeCfg.process.user.uid, 1000);
  });

  it("podman loads docker-archive and oci-archive and runs tini from them", async () => {
    const healthcheck = { test: [TINI, "--version"], interval: "5s", retries: 2 };
    const dk = await tiniImage(join(root, "dk"), {
      format: "docker-archive",
      tag: "dk",
      config: { healthcheck, stopSignal: "SIGQUIT" },
    });
    // a multi-member gzip layer (9 MiB of incompressible data: 3 members)
    const big = { path: "/usr/lib/big.bin", hostPath: await bigFile(), mode: 0o644 };
    const oa = await tiniImage(join(root, "oa"), { format: "oci-archive", tag: "oa", files: [big] });
    const l1 = await pm.run(["load", "-i", dk.path]);
    assert.match(l1.stdout, /Loaded image: localhost\/shellfree-test\/image:dk/);
    const r1 = await pm.run(["run", "--rm", "--network", "none", "shellfree-test/image:dk"]);
    assert.match(r1.stdout, /^tini version \d+\.\d+\.\d+/);
    // podman keeps HEALTHCHECK and STOPSIGNAL of a docker-archive image (of an OCI image it keeps
    // only the stop signal: podman 4.3 reads Healthcheck from Docker-format configs alone)
    const hc = await pm.run([
      "image",
      "inspect",
      "--format",
      "{{json .HealthCheck}}|{{.Config.StopSignal}}",
      "shellfree-test/image:dk",
    ]);
    const [h, sig] = hc.stdout.trim().split("|");
    assert.deepEqual(JSON.parse(h), { Test: ["CMD", TINI, "--version"], Interval: 5e9, Retries: 2 });
    assert.equal(sig, "SIGQUIT");
    const l2 = await pm.run(["load", "-i", oa.path]);
    const loaded = /Loaded image: (\S+)/.exec(l2.stdout)?.[1];
    assert.ok(loaded, l2.stdout);
    const r2 = await pm.run(["run", "--rm", "--network", "none", loaded]);
    assert.match(r2.stdout, /^tini version \d+\.\d+\.\d+/);
    // podman stored the same config we wrote
    const id = (await pm.run(["image", "inspect", "--format", "{{.Id}}", loaded])).stdout.trim();
    assert.equal(`sha256:${id}`, oa.images[0].config.digest);
  });

  it("a two-platform index: skopeo sees both manifests, picks each arch", async () => {
    const m = await tiniImage(join(root, "multi"), {
      platforms: ["linux/amd64", "linux/arm64"],
      tag: "multi",
    });
    const raw = JSON.parse((await runCommand("skopeo", ["inspect", "--raw", `oci:${m.path}:multi`])).stdout);
    assert.equal(raw.mediaType, "application/vnd.oci.image.index.v1+json");
    assert.deepEqual(
      raw.manifests.map((d: { platform: { architecture: string } }) => d.platform.architecture),
      ["amd64", "arm64"],
    );
    for (const arch of ["amd64", "arm64"]) {
      const i = JSON.parse(
        (await runCommand("skopeo", ["--override-arch", arch, "inspect", `oci:${m.path}:multi`])).stdout,
      );
      assert.equal(i.Architecture, arch);
    }
    assert.deepEqual(
      (await listManifests(`oci:${m.path}:multi`)).map((x) => x.platform.architecture),
      ["amd64", "arm64"],
    );
  });

  it("zstd layers: skopeo and podman accept them; umoci 0.4.7 does not know the media type", async () => {
    const big = { path: "/usr/lib/big.bin", hostPath: await bigFile(), mode: 0o644 };
    const m = await tiniImage(join(root, "zstd"), { compression: "zstd", tag: "z", files: [big] });
    const layer = m.images[0].layers[0];
    assert.ok(layer.uncompressedSize > 8 * 1024 * 1024, "several zstd frames");
    assert.equal(layer.mediaType, "application/vnd.oci.image.layer.v1.tar+zstd");
    await runCommand("zstd", ["-t", "-q", layer.path]);
    const insp = JSON.parse((await runCommand("skopeo", ["inspect", `oci:${m.path}:z`])).stdout);
    assert.deepEqual(insp.Layers, [layer.digest]);
    // skopeo decompresses it (recompressing as gzip) and the result reads back to the same tar
    const gz = join(root, "zstd-to-gzip");
    await runCommand("skopeo", [
      "copy",
      "-q",
      "--dest-compress-format",
      "gzip",
      `oci:${m.path}:z`,
      `oci:${gz}:g`,
    ]);
    const back = await openImage(`oci:${gz}:g`);
    assert.equal(back.manifest.layers[0].mediaType, "application/vnd.oci.image.layer.v1.tar+gzip");
    assert.deepEqual(back.config.rootfs.diff_ids, [layer.diffId]);
    const parts: Buffer[] = [];
    for await (const c of await back.layers[0].open()) parts.push(c as Buffer);
    assert.equal(sha(Buffer.concat(parts)), layer.diffId);
    const za = await tiniImage(join(root, "zstd-archive"), {
      compression: "zstd",
      tag: "za",
      format: "oci-archive",
    });
    const l = await pm.run(["load", "-i", za.path]);
    const loaded = /Loaded image: (\S+)/.exec(l.stdout)?.[1] ?? "";
    assert.match((await pm.run(["run", "--rm", "--network", "none", loaded])).stdout, /^tini version/);
    const ver = (await runCommand("umoci", ["--version"])).stdout;
    const u = await runCommand("umoci", ["unpack", "--image", `${m.path}:z`, join(root, "zbundle")], {
      allowFail: true,
    });
    if (/version 0\.4\.7/.test(ver)) {
      assert.notEqual(u.code, 0);
      assert.match(u.stderr, /not correct mediatype: application\/vnd\.oci\.image\.layer\.v1\.tar\+zstd/);
    } else {
      assert.equal(u.code, 0, u.stderr);
      assert.equal((await stat(join(root, "zbundle/rootfs/usr/bin/tini-static"))).mode & 0o777, 0o755);
    }
  });

  it("openImage reads layouts and archives written by skopeo (OCI and Docker schema 2)", async () => {
    const m = await makeImage(join(root, "src"), {
      files: [{ path: "/etc/hello", data: "hi\n" }],
      layers: [{ files: [{ path: "/etc/second", data: "2\n" }] }],
      tag: "s",
    });
    const want = m.images[0].layers.map((l) => l.diffId);
    const targets = {
      "oci-v2s2": `oci:${join(root, "v2s2")}:t`,
      "oci-archive": `oci-archive:${join(root, "copy-oci.tar")}:t`,
      "docker-archive": `docker-archive:${join(root, "copy-docker.tar")}:copy/img:t`,
    };
    await runCommand("skopeo", ["copy", "-q", "--format", "v2s2", `oci:${m.path}:s`, targets["oci-v2s2"]]);
    await runCommand("skopeo", ["copy", "-q", `oci:${m.path}:s`, targets["oci-archive"]]);
    await runCommand("skopeo", ["copy", "-q", `oci:${m.path}:s`, targets["docker-archive"]]);
    const v2 = await readIndex(join(root, "v2s2"));
    assert.equal(v2.manifests[0].mediaType, "application/vnd.docker.distribution.manifest.v2+json");
    for (const [name, ref] of Object.entries(targets)) {
      const im = await openImage(ref);
      assert.deepEqual(im.config.rootfs.diff_ids, want, name);
      for (const [i, l] of im.layers.entries()) {
        const parts: Buffer[] = [];
        for await (const c of await l.open()) parts.push(c as Buffer);
        assert.equal(sha(Buffer.concat(parts)), want[i], `${name} layer ${i}`);
      }
      await im.close();
    }
    assert.ok((await stat(blobPath(join(root, "v2s2"), v2.manifests[0].digest))).size > 0);
  });
});
