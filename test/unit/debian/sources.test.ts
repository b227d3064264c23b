import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { DebianError } from "../../../src/debian/errors.ts";
import {
  configuredSources,
  hostMirrors,
  parseSourcesFile,
  parseSourcesList,
} from "../../../src/debian/sources.ts";

const SOURCES = `# deb822 sources with comments
Types: deb deb-src
# the main archive
URIs: http://mirror.example.invalid/debian/
Suites: trixie trixie-updates
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example.invalid/debian-security
Suites: trixie-security
Components: main
Enabled: no

Types: deb
URIs: https://other.example.invalid/debian-security
Suites: trixie-security
Components: main
`;

const LIST = `# one-line format
deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] http://list.example.invalid/debian trixie main non-free
deb-src http://list.example.invalid/debian trixie main

deb http://list.example.invalid/debian-security trixie-security main # trailing comment
`;

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function aptDir(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), "sf-apt-"));
  dirs.push(d);
  mkdirSync(join(d, "sources.list.d"));
  for (const [n, t] of Object.entries(files)) writeFileSync(join(d, n), t);
  return d;
}

test("parseSourcesFile reads deb822 .sources with comments, several suites, Enabled: no", () => {
  const e = parseSourcesFile(SOURCES, "x.sources");
  assert.equal(e.length, 3);
  assert.deepEqual(e[0].types, ["deb", "deb-src"]);
  assert.deepEqual(e[0].uris, ["http://mirror.example.invalid/debian/"]);
  assert.deepEqual(e[0].suites, ["trixie", "trixie-updates"]);
  assert.deepEqual(e[0].components, ["main", "contrib"]);
  assert.equal(e[0].options["signed-by"], "/usr/share/keyrings/debian-archive-keyring.gpg");
  assert.equal(e[0].enabled, true);
  assert.equal(e[1].enabled, false);
});

test("parseSourcesList reads one-line entries with [options] and comments", () => {
  const e = parseSourcesList(LIST, "sources.list");
  assert.equal(e.length, 3);
  assert.deepEqual(e[0].types, ["deb"]);
  assert.deepEqual(e[0].uris, ["http://list.example.invalid/debian"]);
  assert.deepEqual(e[0].suites, ["trixie"]);
  assert.deepEqual(e[0].components, ["main", "non-free"]);
  assert.equal(e[0].options.arch, "amd64");
  assert.deepEqual(e[1].types, ["deb-src"]);
  assert.deepEqual(e[2].components, ["main"]);
  assert.throws(
    () => parseSourcesList("deb\n", "bad.list"),
    (x: unknown) => x instanceof DebianError && x.code === "E_SOURCES" && /bad\.list:1/.test(x.message),
  );
});

test("hostMirrors finds .../debian and the enabled .../debian-security in .sources files", () => {
  const d = aptDir({ "sources.list.d/debian.sources": SOURCES });
  assert.deepEqual(hostMirrors(d), {
    mirror: "http://mirror.example.invalid/debian",
    security: "https://other.example.invalid/debian-security",
  });
});

test("hostMirrors reads a one-line sources.list too", () => {
  const d = aptDir({ "sources.list": LIST });
  assert.deepEqual(hostMirrors(d), {
    mirror: "http://list.example.invalid/debian",
    security: "http://list.example.invalid/debian-security",
  });
});

test("configuredSources: --mirror beats $SHELLFREE_MIRROR beats the host; security and extra suites", () => {
  const d = aptDir({ "sources.list.d/debian.sources": SOURCES });
  const env = { SHELLFREE_MIRROR: "http://env.example.invalid/debian/" };
  assert.deepEqual(
    configuredSources({ suite: "trixie", mirror: "http://flag.example.invalid/debian" }, { env, aptDir: d }),
    [{ uri: "http://flag.example.invalid/debian", suite: "trixie", components: ["main"] }],
  );
  assert.deepEqual(configuredSources({ suite: "trixie" }, { env, aptDir: d }), [
    { uri: "http://env.example.invalid/debian", suite: "trixie", components: ["main"] },
  ]);
  assert.deepEqual(
    configuredSources(
      { suite: "trixie", security: true, extraSuites: ["trixie-updates"], components: ["main", "contrib"] },
      { env: {}, aptDir: d },
    ),
    [
      { uri: "http://mirror.example.invalid/debian", suite: "trixie", components: ["main", "contrib"] },
      {
        uri: "http://mirror.example.invalid/debian",
        suite: "trixie-updates",
        components: ["main", "contrib"],
      },
      {
        uri: "https://other.example.invalid/debian-security",
        suite: "trixie-security",
        components: ["main", "contrib"],
      },
    ],
  );
  // security mirror: explicit > env > host > `${mirror}-security`
  assert.equal(
    configuredSources(
      { suite: "bookworm", security: true, securityMirror: "http://s.example.invalid/ds" },
      { env: {}, aptDir: d },
    )[1].uri,
    "http://s.example.invalid/ds",
  );
  assert.equal(
    configuredSources(
      { suite: "bookworm", security: true },
      { env: { SHELLFREE_SECURITY_MIRROR: "http://se.example.invalid/ds" }, aptDir: d },
    )[1].uri,
    "http://se.example.invalid/ds",
  );
  const empty = aptDir({});
  assert.deepEqual(configuredSources({ suite: "forky", security: true }, { env, aptDir: empty })[1], {
    uri: "http://env.example.invalid/debian-security",
    suite: "forky-security",
    components: ["main"],
  });
});

test("configuredSources: nothing configured is a clear E_SOURCES naming --mirror and $SHELLFREE_MIRROR", () => {
  const empty = aptDir({});
  assert.throws(
    () => configuredSources({ suite: "trixie" }, { env: {}, aptDir: empty }),
    (e: unknown) =>
      e instanceof DebianError &&
      e.code === "E_SOURCES" &&
      /no Debian mirror configured/.test(e.message) &&
      /--mirror/.test(e.hint ?? "") &&
      /\$SHELLFREE_MIRROR/.test(e.hint ?? ""),
  );
});

test("configuredSources rejects bad URLs and suites", () => {
  const empty = aptDir({});
  for (const mirror of ["not a url", "ftp://x.example.invalid/debian", "file:///srv/debian"]) {
    assert.throws(
      () => configuredSources({ suite: "trixie", mirror }, { env: {}, aptDir: empty }),
      (e: unknown) => e instanceof DebianError && e.code === "E_SOURCES",
    );
  }
  assert.throws(
    () =>
      configuredSources(
        { suite: "../x", mirror: "http://m.example.invalid/debian" },
        { env: {}, aptDir: empty },
      ),
    (e: unknown) => e instanceof DebianError && e.code === "E_SOURCES",
  );
});
