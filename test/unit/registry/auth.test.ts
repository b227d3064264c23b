import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  authFilePaths,
  credsFromAuthConfig,
  normalizeAuthKey,
  parseCreds,
  parseWwwAuthenticate,
  resolveCredentials,
  Secrets,
} from "../../../src/oci/registry/auth.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");

test("WWW-Authenticate: Bearer with quoted params (commas inside quotes), Basic, several challenges", () => {
  assert.deepEqual(
    parseWwwAuthenticate(
      'Bearer realm="http://127.0.0.1:1/token",service="reg",scope="repository:a/b:pull,push",error="insufficient_scope"',
    ),
    [
      {
        scheme: "bearer",
        params: {
          realm: "http://127.0.0.1:1/token",
          service: "reg",
          scope: "repository:a/b:pull,push",
          error: "insufficient_scope",
        },
      },
    ],
  );
  assert.deepEqual(parseWwwAuthenticate('Basic realm="x y"'), [
    { scheme: "basic", params: { realm: "x y" } },
  ]);
  assert.deepEqual(parseWwwAuthenticate('Basic realm=a, Bearer realm="r", service=s'), [
    { scheme: "basic", params: { realm: "a" } },
    { scheme: "bearer", params: { realm: "r", service: "s" } },
  ]);
  assert.deepEqual(parseWwwAuthenticate('Bearer realm="a\\"b"'), [
    { scheme: "bearer", params: { realm: 'a"b' } },
  ]);
  assert.deepEqual(parseWwwAuthenticate(""), []);
});

test("parseCreds: password may contain ':'; a missing user is a usage error", () => {
  assert.deepEqual(parseCreds("u:p:q"), { username: "u", password: "p:q", source: "--creds" });
  assert.throws(() => parseCreds("nocolon"), { code: "E_REGISTRY_CREDS" });
  assert.throws(() => parseCreds(":pw"), { code: "E_REGISTRY_CREDS" });
});

test("auth config: host keys with scheme and /v1/, repository-scoped keys win, username/password form", () => {
  const cfg = {
    auths: {
      "https://reg.test:5000/v1/": { auth: b64("all:one") },
      "reg.test:5000/team": { auth: b64("team:two") },
      "other.test": { username: "o", password: "three" },
      "broken.test": { auth: b64("nocolon") },
      "marker.test": {},
    },
  };
  assert.equal(credsFromAuthConfig(cfg, "reg.test:5000", "x/app", "f")?.username, "all");
  assert.equal(credsFromAuthConfig(cfg, "reg.test:5000", "team/app", "f")?.password, "two");
  assert.equal(credsFromAuthConfig(cfg, "reg.test:5000", "teamx/app", "f")?.username, "all");
  assert.deepEqual(credsFromAuthConfig(cfg, "other.test", "a", "f"), {
    username: "o",
    password: "three",
    source: "f",
  });
  assert.equal(credsFromAuthConfig(cfg, "reg.test", "a", "f"), undefined, "port is part of the key");
  // a malformed entry that applies is an error naming the file and the entry (never "anonymous")
  assert.throws(
    () => credsFromAuthConfig(cfg, "broken.test", "a", "f"),
    (e: Error & { code?: string }) =>
      e.code === "E_REGISTRY_CREDS" &&
      e.message === 'f: auths["broken.test"].auth does not decode to USER:PASSWORD (no colon)',
  );
  // an empty entry is a credential store's marker: skipped
  assert.equal(credsFromAuthConfig(cfg, "marker.test", "a", "f"), undefined);
  assert.equal(credsFromAuthConfig({}, "reg.test", "a", "f"), undefined);
});

test("resolveCredentials: --creds > environment > auth files in order; bad JSON is a clear error", async () => {
  const tmp = await mkdtemp(join(tmpdir(), "shellfree-auth-"));
  try {
    const env: NodeJS.ProcessEnv = {
      HOME: tmp,
      XDG_RUNTIME_DIR: join(tmp, "run"),
      XDG_CONFIG_HOME: join(tmp, "cfg"),
    };
    assert.deepEqual(authFilePaths(env), [
      join(tmp, "run", "containers", "auth.json"),
      join(tmp, "cfg", "containers", "auth.json"),
      join(tmp, ".docker", "config.json"),
    ]);
    assert.equal(resolveCredentials("r.test", "a", undefined, env), undefined);
    await mkdir(join(tmp, ".docker"));
    await writeFile(
      join(tmp, ".docker", "config.json"),
      JSON.stringify({ auths: { "r.test": { auth: b64("docker:d") } } }),
    );
    assert.equal(resolveCredentials("r.test", "a", undefined, env)?.username, "docker");
    await mkdir(join(tmp, "run", "containers"), { recursive: true });
    await writeFile(
      join(tmp, "run", "containers", "auth.json"),
      JSON.stringify({ auths: { "r.test": { auth: b64("podman:p") } } }),
    );
    const fromFile = resolveCredentials("r.test", "a", undefined, env);
    assert.equal(fromFile?.username, "podman");
    assert.equal(fromFile?.source, join(tmp, "run", "containers", "auth.json"));
    const envCreds = { ...env, SHELLFREE_REGISTRY_USER: "envu", SHELLFREE_REGISTRY_PASSWORD: "envp" };
    assert.deepEqual(resolveCredentials("r.test", "a", undefined, envCreds), {
      username: "envu",
      password: "envp",
      source: "environment",
    });
    assert.equal(resolveCredentials("r.test", "a", "flag:f", envCreds)?.username, "flag");
    await writeFile(
      join(tmp, "run", "containers", "auth.json"),
      '{"auths": {"r.test": {"auth": "c2VjcmV0OnB3"}',
    );
    assert.throws(
      () => resolveCredentials("r.test", "a", undefined, env),
      (e: Error) =>
        /auth\.json: not valid JSON at line 1, column \d+$/.test(e.message) &&
        !e.message.includes("c2VjcmV0"),
    );
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});

test("Secrets.redact removes passwords, their base64 Basic form and tokens", () => {
  const s = new Secrets();
  s.addCreds({ username: "u", password: "hunter2!", source: "x" });
  s.add("tok.en.value");
  const basic = b64("u:hunter2!");
  assert.equal(
    s.redact(`pw hunter2! basic ${basic} bearer tok.en.value url ${encodeURIComponent("hunter2!")}`),
    "pw *** basic *** bearer *** url ***",
  );
});

test("malformed entries: each its own message naming the file and the entry, no secret in it", () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ auths: [] }, /^f: "auths" is not an object$/],
    [{ auths: { "r.test": "x" } }, /^f: auths\["r\.test"\] is not an object$/],
    [{ auths: { "r.test": { auth: 42 } } }, /^f: auths\["r\.test"\]\.auth is not a string$/],
    [{ auths: { "r.test": { auth: "not base64!" } } }, /^f: auths\["r\.test"\]\.auth is not base64$/],
    [{ auths: { "r.test": { auth: b64("s3cret-no-colon") } } }, /auth does not decode to USER:PASSWORD/],
    [{ auths: { "r.test": { auth: b64("u:p"), identitytoken: 5 } } }, /\.identitytoken is not a string$/],
    [{ auths: { "r.test": { username: "u" } } }, /"username"\/"password" that are not both strings/],
    [{ credHelpers: { "r.test": 7 } }, /^f: credHelpers\["r\.test"\] is not a helper name$/],
    [{ credHelpers: "x" }, /^f: "credHelpers" is not an object$/],
    [{ credsStore: 3 }, /^f: "credsStore" is not a helper name$/],
    [[], /^f: the file is not a JSON object$/],
  ];
  for (const [cfg, re] of cases) {
    assert.throws(
      () => credsFromAuthConfig(cfg, "r.test", "a/b", "f"),
      (e: Error & { code?: string }) =>
        e.code === "E_REGISTRY_CREDS" && re.test(e.message) && !e.message.includes("s3cret"),
      JSON.stringify(cfg),
    );
  }
  // a malformed entry for another registry does not matter
  assert.equal(credsFromAuthConfig({ auths: { "other.test": { auth: 1 } } }, "r.test", "a", "f"), undefined);
});

test("Docker Hub's names are one registry; identitytoken entries", () => {
  const cfg = {
    auths: { "https://index.docker.io/v1/": { auth: b64("hub:pw"), identitytoken: "refresh-1" } },
  };
  for (const host of ["docker.io", "index.docker.io", "registry-1.docker.io"]) {
    const c = credsFromAuthConfig(cfg, host, "library/debian", "f");
    assert.deepEqual(c, { username: "hub", password: "pw", identityToken: "refresh-1", source: "f" }, host);
  }
  assert.deepEqual(
    credsFromAuthConfig({ auths: { "docker.io": { identitytoken: "t" } } }, "index.docker.io", "x/y", "f"),
    { username: "", password: "", identityToken: "t", source: "f" },
  );
  assert.equal(normalizeAuthKey("https://index.docker.io/v1/"), "index.docker.io");
  assert.equal(normalizeAuthKey("registry-1.docker.io/library"), "index.docker.io/library");
  assert.equal(normalizeAuthKey("http://127.0.0.1:5000"), "127.0.0.1:5000");
});

test("auth file order: $REGISTRY_AUTH_FILE alone; else $XDG_RUNTIME_DIR's or /run/containers/UID's, then the config dirs", () => {
  const home = "/home/u";
  assert.deepEqual(
    authFilePaths({ HOME: home, REGISTRY_AUTH_FILE: "/x/auth.json", XDG_RUNTIME_DIR: "/run/user/1" }, 1),
    ["/x/auth.json"],
  );
  assert.deepEqual(authFilePaths({ HOME: home }, 0), [
    "/run/containers/0/auth.json",
    "/home/u/.config/containers/auth.json",
    "/home/u/.docker/config.json",
  ]);
  assert.deepEqual(authFilePaths({ HOME: home, DOCKER_CONFIG: "/d", XDG_RUNTIME_DIR: "/run/user/7" }, 7), [
    "/run/user/7/containers/auth.json",
    "/home/u/.config/containers/auth.json",
    "/d/config.json",
  ]);
});

/** A docker-credential-NAME the tests write: answers by server URL as a real helper does. */
async function writeHelper(dir: string, name: string): Promise<void> {
  await writeFile(
    join(dir, `docker-credential-${name}`),
    [
      "#!/bin/bash",
      '[ "$1" = get ] || { echo "unknown action $1" >&2; exit 1; }',
      "read -r url",
      'echo "$url" >> "$(dirname "$0")/asked"',
      'case "$url" in',
      '  r.test) printf \'{"ServerURL":"r.test","Username":"helper-user","Secret":"helper-secret"}\' ;;',
      '  https://index.docker.io/v1/) printf \'{"ServerURL":"%s","Username":"<token>","Secret":"hub-refresh"}\' "$url" ;;',
      "  hang.test) exec sleep 30 ;;",
      "  broken.test) echo 'not json Secret=leaked-secret' ;;",
      "  fail.test) echo 'keychain locked' >&2; exit 3 ;;",
      "  *) echo 'credentials not found in native keychain'; exit 1 ;;",
      "esac",
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
}

test("credHelpers and credsStore run docker-credential-NAME get: found, not found, identity token, failures, time limit", async () => {
  const tmp = await mkdtemp(join(tmpdir(), "shellfree-helper-"));
  const savedPath = process.env.PATH;
  const savedTimeout = process.env.SHELLFREE_CREDENTIAL_HELPER_TIMEOUT_MS;
  try {
    await writeHelper(tmp, "test");
    process.env.PATH = `${tmp}:${savedPath}`;
    process.env.SHELLFREE_CREDENTIAL_HELPER_TIMEOUT_MS = "1500";
    const helpers = {
      credHelpers: { "r.test": "test", "hang.test": "test", "broken.test": "test", "fail.test": "test" },
    };
    assert.deepEqual(credsFromAuthConfig(helpers, "r.test", "a", "/cfg.json"), {
      username: "helper-user",
      password: "helper-secret",
      source: 'docker-credential-test (/cfg.json credHelpers["r.test"])',
    });
    // credsStore: the helper for every registry; Docker Hub asked as docker asks it
    assert.deepEqual(credsFromAuthConfig({ credsStore: "test" }, "docker.io", "library/x", "/cfg.json"), {
      username: "",
      password: "",
      identityToken: "hub-refresh",
      source: "docker-credential-test (/cfg.json credsStore)",
    });
    // not found in the store: the auths entry of the same file
    assert.equal(
      credsFromAuthConfig(
        { credsStore: "test", auths: { "n.test": { auth: b64("file:pw") } } },
        "n.test",
        "a",
        "f",
      )?.username,
      "file",
    );
    assert.equal(credsFromAuthConfig({ credsStore: "test" }, "n.test", "a", "f"), undefined);
    const t0 = Date.now();
    assert.throws(
      () => credsFromAuthConfig(helpers, "hang.test", "a", "/cfg.json"),
      /credential helper docker-credential-test \(\/cfg\.json credHelpers\["hang\.test"\]\) for hang\.test: no answer within 1.5 s \(stopped it\)$/,
    );
    assert.ok(Date.now() - t0 < 20_000, "bounded");
    assert.throws(
      () => credsFromAuthConfig(helpers, "broken.test", "a", "/cfg.json"),
      (e: Error) =>
        /for broken\.test: its answer is not JSON$/.test(e.message) && !e.message.includes("leaked"),
    );
    assert.throws(
      () => credsFromAuthConfig(helpers, "fail.test", "a", "/cfg.json"),
      /for fail\.test: exit 3: keychain locked$/,
    );
    assert.throws(
      () => credsFromAuthConfig({ credHelpers: { "r.test": "missing" } }, "r.test", "a", "/cfg.json"),
      /docker-credential-missing is not on PATH/,
    );
    assert.throws(
      () => credsFromAuthConfig({ credHelpers: { "r.test": "../evil" } }, "r.test", "a", "/cfg.json"),
      /"\.\.\/evil" is not a helper name/,
    );
  } finally {
    process.env.PATH = savedPath;
    if (savedTimeout === undefined) delete process.env.SHELLFREE_CREDENTIAL_HELPER_TIMEOUT_MS;
    else process.env.SHELLFREE_CREDENTIAL_HELPER_TIMEOUT_MS = savedTimeout;
    await rm(tmp, { recursive: true, force: true });
  }
});
