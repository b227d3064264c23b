/** The native init's bytes are reproducible: amd64 built again with an empty Go cache is the same. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { buildInit, checkReproducible } from "../../../scripts/build-init.ts";

test("two builds of the native init give the same bytes", { timeout: 600_000 }, async () => {
  await buildInit();
  const r = checkReproducible();
  assert.ok(r.same, `sha256 ${r.a} vs ${r.b}`);
});
