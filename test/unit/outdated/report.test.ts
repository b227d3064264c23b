import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  EXIT_SECURITY,
  EXIT_UPDATES,
  exitCodeFor,
  formatOutdated,
  type OutdatedResult,
  outdatedJson,
  type PackageUpdate,
  statusOf,
} from "../../../src/outdated/index.ts";

const upd = (name: string, security: boolean, architecture = "amd64"): PackageUpdate => ({
  architecture,
  name,
  installed: "1.0-1",
  candidate: "1.0-1+deb13u1",
  suite: security ? "trixie-security" : "trixie",
  security,
  securityVersion: security ? "1.0-1+deb13u1" : null,
  source: `${name}-src`,
  sourceVersion: "1.0-1+deb13u1",
});

function result(updates: PackageUpdate[][], archs = ["amd64"]): OutdatedResult {
  return {
    installed: {
      kind: "lockfile",
      ref: "shellfree.lock",
      spec: "shellfree.yaml",
      targets: [],
      components: ["main"],
      extraSuites: [],
      pins: {},
      warnings: [],
    },
    targets: archs.map((a, i) => ({
      target: {
        architecture: a,
        suite: "trixie",
        packages: [
          { name: "a", version: "1.0-1", architecture: a },
          { name: "b", version: "1.0-1", architecture: a },
        ],
      },
      sources: [
        { suite: "trixie", uri: "http://127.0.0.1:1/debian", security: false, date: null },
        { suite: "trixie-security", uri: "http://127.0.0.1:2/debian", security: true, date: null },
      ],
      updates: updates[i] ?? [],
      unknown: [],
    })),
    warnings: [],
  };
}

describe("exit codes", () => {
  test("distinct from 1 (error), 2 (usage), 3 (check failed) and 70 (bug)", () => {
    assert.equal(EXIT_SECURITY, 10);
    assert.equal(EXIT_UPDATES, 11);
  });
  test("--fail-on any | security | never", () => {
    const table: Array<[ReturnType<typeof statusOf>, number, number, number]> = [
      ["up-to-date", 0, 0, 0],
      ["updates", EXIT_UPDATES, 0, 0],
      ["security-updates", EXIT_SECURITY, EXIT_SECURITY, 0],
    ];
    for (const [status, any, security, never] of table) {
      assert.equal(exitCodeFor(status, "any"), any, `${status} any`);
      assert.equal(exitCodeFor(status, "security"), security, `${status} security`);
      assert.equal(exitCodeFor(status, "never"), never, `${status} never`);
    }
  });
  test("the status is the worst finding over every target", () => {
    assert.equal(statusOf(result([[]])), "up-to-date");
    assert.equal(statusOf(result([[upd("a", false)]])), "updates");
    assert.equal(
      statusOf(result([[upd("a", false)], [upd("b", true, "arm64")]], ["amd64", "arm64"])),
      "security-updates",
    );
  });
});

describe("report", () => {
  test("JSON: schema version 1, summary and flat updates", () => {
    const j = outdatedJson(result([[upd("a", true), upd("b", false)]]), "any");
    assert.equal(j.schemaVersion, 1);
    assert.deepEqual(j.input, { kind: "lockfile", ref: "shellfree.lock", spec: "shellfree.yaml" });
    assert.equal(j.status, "security-updates");
    assert.equal(j.exitCode, 10);
    assert.deepEqual(j.summary, { packages: 2, updates: 2, security: 1 });
    assert.deepEqual(Object.keys(j.updates[0]), [
      "architecture",
      "name",
      "installed",
      "candidate",
      "suite",
      "security",
      "securityVersion",
      "source",
      "sourceVersion",
    ]);
    assert.deepEqual(j.targets[0], {
      architecture: "amd64",
      platform: null,
      manifest: null,
      suite: "trixie",
      packages: 2,
      updates: 2,
      security: 1,
      sources: result([[]]).targets[0].sources,
    });
    assert.deepEqual(j.notInArchive, []);
  });

  test("text: a table of the updates, and a last line that says what kind", () => {
    const t = formatOutdated(result([[upd("a", true), upd("b", false)]]));
    const lines = t.trimEnd().split("\n");
    assert.equal(
      lines[0],
      "shellfree.lock (trixie, amd64): 2 packages compared with trixie, trixie-security",
    );
    assert.match(lines[2], /^PACKAGE +INSTALLED +CANDIDATE +SUITE +SECURITY +SOURCE$/);
    assert.match(lines[3], /^a +1\.0-1 +1\.0-1\+deb13u1 +trixie-security +yes +a-src 1\.0-1\+deb13u1$/);
    assert.match(lines[4], /^b +1\.0-1 +1\.0-1\+deb13u1 +trixie +no +b-src 1\.0-1\+deb13u1$/);
    assert.equal(lines.at(-1), "2 newer versions, 1 security update");
    assert.equal(
      formatOutdated(result([[]]))
        .trimEnd()
        .split("\n")
        .at(-1),
      "up to date",
    );
    assert.equal(
      formatOutdated(result([[upd("b", false)]]))
        .trimEnd()
        .split("\n")
        .at(-1),
      "1 newer version, none from the security suite",
    );
  });

  test("text: several architectures get an ARCH column", () => {
    const t = formatOutdated(result([[upd("a", true)], [upd("a", true, "arm64")]], ["amd64", "arm64"]));
    assert.match(t, /^PACKAGE +ARCH +INSTALLED/m);
    assert.match(t, /^a +arm64 +1\.0-1 /m);
  });
});
