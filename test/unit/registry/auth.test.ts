import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  authFilePaths,
  credsFromAuthConfig,
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
  // a malformed entry is an error naming it (issue 17 item 10), not anonymous access
  assert.throws(() => credsFromAuthConfig(cfg, "broken.test", "a", "f"), {
    code: "E_REGISTRY_CREDS",
    message: 'f: the entry for "broken.test" is malformed: auth is not base64 of USER:PASSWORD',
  });
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
    await writeFile(join(tmp, "run", "containers", "auth.json"), "{not json");
    assert.throws(() => resolveCredentials("r.test", "a", undefined, env), /auth\.json: not valid JSON/);
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
