/**
 * `shellfree verify --format sarif` as GitHub code scanning takes it, judged by Microsoft's SARIF
 * multitool with GitHub Advanced Security's rules (`validate --rule-kind "Ghas;Sarif"`): zero
 * errors and zero warnings for an image built from a spec in a git checkout (findings about the
 * config at the spec's lines, file findings at the file in the image), zero errors when the spec
 * is not at hand (the image's config.json instead) and for a preset image.
 */
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { HOMEPAGE } from "../../../src/cli/common.ts";
import { shellfree } from "../../helpers/cli.ts";
import { TEST_CACHE } from "../../helpers/mirror.ts";
import { runCommand } from "../../helpers/run.ts";
import { type MultitoolFinding, validateSarif } from "../../helpers/sarif-multitool.ts";
import { removeDir, tempDir } from "../../helpers/tmp.ts";

const cli = (args: string[], cwd?: string) =>
  shellfree(args, { timeoutMs: 600_000, cwd, env: { SHELLFREE_QUIET: "1" } });

const SPEC = `# an image with findings of every kind of location
name: sarif-demo
preset: base
architectures: [amd64]
packages:
  include: [dash]
  allow: [dash]
config:
  entrypoint: [/usr/bin/not-there]
  user: "0"
`;

interface Sarif {
  runs: Array<{
    tool: {
      driver: {
        informationUri?: string;
        rules: Array<{
          id: string;
          help?: { text: string; markdown: string };
          properties: { "security-severity": string; tags: string[]; precision: string };
        }>;
      };
    };
    originalUriBaseIds: Record<string, unknown>;
    results: Array<{
      ruleId: string;
      locations: Array<{
        physicalLocation: {
          artifactLocation: { uri: string; uriBaseId: string };
          region?: { startLine?: number; byteOffset?: number; byteLength?: number };
        };
        logicalLocations?: Array<{ fullyQualifiedName: string }>;
      }>;
    }>;
  }>;
}

const show = (xs: MultitoolFinding[]) =>
  xs.map((x) => `${x.level} ${x.rule}: ${x.args.join(" | ")}`).join("\n");

describe("SARIF for GitHub code scanning, checked by the SARIF multitool", () => {
  let dir = "";
  let repo = "";
  let ref = "";
  before(async () => {
    dir = await tempDir("shellfree-sarif-");
    repo = join(dir, "repo");
    await mkdir(join(repo, "images/demo"), { recursive: true });
    const g = await runCommand("git", ["init", "-q", repo], { allowFail: true });
    assert.equal(g.code, 0, g.stderr);
    await writeFile(join(repo, "images/demo/shellfree.yaml"), SPEC);
    ref = `oci:${join(dir, "demo")}:latest`;
    const b = await cli(
      ["build", "-f", "images/demo/shellfree.yaml", "-o", ref, "--cache-dir", TEST_CACHE],
      repo,
    );
    assert.equal(b.code, 0, b.stderr);
  });
  after(() => (dir ? removeDir(dir) : undefined));

  test("the image names its spec, relative to the repository root", async () => {
    const r = await cli(["inspect", ref, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /"dev\.shellfree\.spec": "images\/demo\/shellfree\.yaml"/);
  });

  test("from the checkout: zero errors, zero warnings; config findings at the spec's lines", async () => {
    const out = join(dir, "from-repo.sarif");
    const r = await cli(["verify", ref, "--format", "sarif", "-o", out], repo);
    assert.equal(r.code, 3, r.stderr);
    const found = await validateSarif(out, dir);
    // informationUri (and helpUri) come from package.json's homepage: without one, SARIF2005 says so
    assert.deepEqual(
      found.map((x) => x.rule),
      HOMEPAGE ? [] : ["SARIF2005"],
      show(found),
    );
    const sarif = JSON.parse(await readFile(out, "utf8")) as Sarif;
    const run = sarif.runs[0];
    for (const rule of run.tool.driver.rules) {
      assert.ok(rule.help?.text && rule.help?.markdown, `${rule.id}: help`);
      assert.match(rule.properties["security-severity"], /^(10\.0|\d\.\d)$/, rule.id);
      assert.ok(rule.properties.tags.length > 0 && rule.properties.precision, rule.id);
    }
    const lineOf = (key: string) =>
      SPEC.split("\n").findIndex((l) => l.trimStart().startsWith(`${key}:`)) + 1;
    const at = (ruleId: string) => run.results.find((x) => x.ruleId === ruleId)?.locations[0];
    const user = at("non-root-user");
    assert.deepEqual(user?.physicalLocation.artifactLocation, {
      uri: "images/demo/shellfree.yaml",
      uriBaseId: "SRCROOT",
    });
    assert.equal(user?.physicalLocation.region?.startLine, lineOf("user"));
    assert.equal(user?.logicalLocations?.[0].fullyQualifiedName, "config.User");
    assert.equal(at("entrypoint")?.physicalLocation.region?.startLine, lineOf("entrypoint"));
    // no healthcheck key in the spec: the config section's line
    assert.equal(at("healthcheck")?.physicalLocation.region?.startLine, lineOf("config"));
    const shell = run.results.find(
      (x) =>
        x.ruleId === "no-shell" && x.locations[0].physicalLocation.artifactLocation.uri === "usr/bin/dash",
    );
    assert.ok(shell, "dash found");
    assert.equal(shell.locations[0].physicalLocation.artifactLocation.uriBaseId, "IMAGE_ROOT");
    assert.equal(shell.locations[0].physicalLocation.region?.byteOffset, 0);
    assert.ok((shell.locations[0].physicalLocation.region?.byteLength ?? 0) > 10_000);
    for (const res of run.results)
      assert.ok(res.locations[0].physicalLocation, `${res.ruleId} has a physical location`);
  });

  test("--spec names the spec explicitly (paths relative to the current directory)", async () => {
    const out = join(dir, "explicit.sarif");
    const r = await cli(
      ["verify", ref, "--format", "sarif", "-o", out, "--spec", join(repo, "images/demo/shellfree.yaml")],
      repo,
    );
    assert.equal(r.code, 3, r.stderr);
    const sarif = JSON.parse(await readFile(out, "utf8")) as Sarif;
    const loc = sarif.runs[0].results.find((x) => x.ruleId === "non-root-user")?.locations[0]
      .physicalLocation;
    assert.equal(loc?.artifactLocation.uri, "images/demo/shellfree.yaml");
    const bad = await cli(["verify", ref, "--format", "sarif", "--spec", join(dir, "missing.yaml")], repo);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--spec .*missing\.yaml: cannot read: ENOENT/);
  });

  test("away from the checkout: config findings at the image's config.json; still no errors", async () => {
    const out = join(dir, "elsewhere.sarif");
    const r = await cli(["verify", ref, "--format", "sarif", "-o", out], dir);
    assert.equal(r.code, 3, r.stderr);
    const found = await validateSarif(out, dir);
    assert.deepEqual(
      found.filter((x) => x.level === "error"),
      [],
      show(found),
    );
    const sarif = JSON.parse(await readFile(out, "utf8")) as Sarif;
    const loc = sarif.runs[0].results.find((x) => x.ruleId === "non-root-user")?.locations[0]
      .physicalLocation;
    assert.deepEqual(loc?.artifactLocation, { uri: "config.json", uriBaseId: "IMAGE_METADATA" });
    assert.ok(sarif.runs[0].originalUriBaseIds.IMAGE_METADATA);
  });

  test("a preset image (no spec): zero errors, and a clean image has zero results", async () => {
    const pref = `oci:${join(dir, "static")}:latest`;
    const b = await cli(
      ["build", "--preset", "static", "--arch", "amd64", "-o", pref, "--cache-dir", TEST_CACHE],
      dir,
    );
    assert.equal(b.code, 0, b.stderr);
    const out = join(dir, "static.sarif");
    const r = await cli(["verify", pref, "--format", "sarif", "-o", out], dir);
    assert.ok(r.code === 0 || r.code === 3, r.stderr);
    const found = await validateSarif(out, dir);
    assert.deepEqual(
      found.filter((x) => x.level === "error"),
      [],
      show(found),
    );
  });

  test("the multitool is not a rubber stamp: a rule without help is a GitHub error", async () => {
    const out = join(dir, "from-repo.sarif");
    const sarif = JSON.parse(await readFile(out, "utf8")) as Sarif;
    delete sarif.runs[0].tool.driver.rules[0].help;
    const broken = join(dir, "broken.sarif");
    await writeFile(broken, JSON.stringify(sarif));
    const found = await validateSarif(broken, dir);
    assert.ok(
      found.some((x) => x.rule === "GH2012" && x.level === "error"),
      show(found),
    );
  });
});
