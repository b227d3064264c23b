/**
 * The podman driver's clean-up removes its private storage even when a process that works on that
 * storage ends after `podman rm` returned — as conmon's `podman … container cleanup` exit command
 * does under load (the cause of a leftover `shellfree-podman-*` dir seen once in CI). The late
 * process is injected: it names the storage dir on its command line (as conmon's does) and
 * writes into it a moment later.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { PodmanDriver } from "../../../src/runtime/index.ts";
import { tiniImage } from "../../helpers/images.ts";

test("podman clean-up waits for late processes on its storage before removing it", async () => {
  const work = await mkdtemp(join(tmpdir(), "sf-e2e-podman-cleanup-"));
  try {
    const img = await tiniImage(join(work, "tini"));
    const config = JSON.parse(new TextDecoder().decode(img.images[0].config.bytes));
    const driver = new PodmanDriver(img.ref, config);
    const c = await driver.start({});
    assert.equal(await c.exited, 0, JSON.stringify(c.logs()));
    const storage = (driver as unknown as { dir: string }).dir;
    assert.ok(storage && existsSync(storage), "the driver has its private storage");
    // a late writer, like conmon's exit command: names the dir, writes after a pause
    const late = spawn(
      process.execPath,
      [
        "-e",
        "setTimeout(() => require('fs').mkdirSync(process.argv[1] + '/runroot/late', { recursive: true }), 1500)",
        storage,
      ],
      { stdio: "ignore" },
    );
    try {
      await driver.cleanup();
      await new Promise((r) => setTimeout(r, 2500));
      assert.equal(existsSync(storage), false, `${storage} is left after clean-up`);
    } finally {
      late.kill("SIGKILL");
      await rm(storage, { recursive: true, force: true });
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
