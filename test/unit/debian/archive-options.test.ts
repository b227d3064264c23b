import assert from "node:assert/strict";
import { test } from "node:test";
import { Command } from "commander";
import { addArchiveOptions, archiveFromOptions } from "../../../src/cli/archive-options.ts";
import { DebianError } from "../../../src/debian/errors.ts";

function parse(args: string[]): Record<string, unknown> {
  const cmd = addArchiveOptions(new Command("x").exitOverride());
  cmd.parse(args, { from: "user" });
  return cmd.opts();
}

test("archive flags: defaults (trixie, amd64, main)", () => {
  const o = parse(["--mirror", "http://m.example.invalid/debian"]);
  const a = archiveFromOptions(o);
  assert.deepEqual(a.sources, [
    { uri: "http://m.example.invalid/debian", suite: "trixie", components: ["main"] },
  ]);
  assert.equal(a.arch, "amd64");
  assert.equal(a.allowExpired, false);
  assert.equal(a.keyring, undefined);
  assert.equal(a.cacheDir, undefined);
});

test("archive flags: every option reaches ArchiveOptions", () => {
  const o = parse([
    "--suite",
    "bookworm",
    "--arch",
    "arm64",
    "--mirror",
    "http://m.example.invalid/debian/",
    "--security",
    "--extra-suite",
    "bookworm-updates",
    "--extra-suite",
    "bookworm-backports",
    "--components",
    "main,contrib",
    "--keyring",
    "/k.gpg",
    "--allow-expired",
    "--cache-dir",
    "/c",
  ]);
  const a = archiveFromOptions(o);
  assert.equal(a.arch, "arm64");
  assert.equal(a.keyring, "/k.gpg");
  assert.equal(a.allowExpired, true);
  assert.equal(a.cacheDir, "/c");
  assert.deepEqual(
    a.sources.map((s) => [s.suite, s.components.join(",")]),
    [
      ["bookworm", "main,contrib"],
      ["bookworm-updates", "main,contrib"],
      ["bookworm-backports", "main,contrib"],
      ["bookworm-security", "main,contrib"],
    ],
  );
  assert.equal(a.sources[0].uri, "http://m.example.invalid/debian");
  assert.equal(a.sources[1].uri, "http://m.example.invalid/debian");
});

test("archive flags: an unsupported architecture is a usage error", () => {
  assert.throws(
    () => archiveFromOptions(parse(["--mirror", "http://m.example.invalid/debian", "--arch", "mips"])),
    (e: unknown) =>
      e instanceof DebianError && e.exitCode === 2 && /unsupported architecture "mips"/.test(e.message),
  );
});
