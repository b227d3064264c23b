import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { provenanceLabels, specProvenance } from "../../../src/builder/provenance.ts";
import { specLineFor, specLines } from "../../../src/spec/index.ts";

const SPEC = `# a comment
name: app
preset: base
accounts:
  run-as: 65532
config:
  entrypoint: [/app]
  healthcheck:
    test: [/app, --health]
    interval: 10s
`;

test("specLines: the line of every key, by dotted path", () => {
  const lines = specLines(SPEC);
  assert.equal(lines.get("name"), 2);
  assert.equal(lines.get("accounts.run-as"), 5);
  assert.equal(lines.get("config.entrypoint"), 7);
  assert.equal(lines.get("config.healthcheck.test"), 9);
});

test("specLineFor: the key that sets an image config field, else its section, else the image", () => {
  const lines = specLines(SPEC);
  assert.equal(specLineFor(lines, "config.User"), 5, "run-as sets the User");
  assert.equal(specLineFor(lines, "config.Entrypoint"), 7);
  assert.equal(specLineFor(lines, "config.Healthcheck.Test"), 9);
  assert.equal(specLineFor(lines, "config.Cmd"), 7, "no cmd: the entrypoint that runs instead");
  assert.equal(specLineFor(lines, "config.WorkingDir"), 6, "not set: the config section");
  assert.equal(specLineFor(lines, undefined), 2, "the image as a whole: its name");
  assert.equal(specLineFor(specLines("config:\n  user: '0'\n"), "config.User"), 2);
  assert.equal(specLineFor(specLines("preset: base\n"), "config.User"), 1);
  assert.equal(specLineFor(specLines(""), "config.User"), 1);
});

test("specProvenance: relative to the git repository root, else the file name; none for a preset", async () => {
  const dir = await mkdtemp(join(tmpdir(), "sf-prov-"));
  try {
    await mkdir(join(dir, "repo/.git"), { recursive: true });
    await mkdir(join(dir, "repo/images/app"), { recursive: true });
    await writeFile(join(dir, "repo/images/app/shellfree.yaml"), SPEC);
    assert.equal(specProvenance(join(dir, "repo/images/app/shellfree.yaml")), "images/app/shellfree.yaml");
    await writeFile(join(dir, "plain.yaml"), SPEC);
    assert.equal(specProvenance(join(dir, "plain.yaml")), "plain.yaml");
    assert.equal(specProvenance("preset:base"), undefined);
    assert.deepEqual(
      provenanceLabels({ source: "preset:static" } as Parameters<typeof provenanceLabels>[0]),
      {},
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
