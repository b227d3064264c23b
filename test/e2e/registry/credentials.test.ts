/**
 * Registry credentials where docker, podman and skopeo keep them, against a real docker-registry
 * (htpasswd Basic auth; token auth with a token server that also speaks OAuth2 refresh tokens):
 * a credential helper the test writes (`docker-credential-shellfree-test`, bash) run for
 * `credHelpers` and `credsStore`; `$REGISTRY_AUTH_FILE`; `/run/containers/0/auth.json` as root
 * without $XDG_RUNTIME_DIR (in a private mount namespace, a tmpfs on /run: the host's is never
 * touched); `identitytoken` traded at the token endpoint; malformed entries named; no secret in
 * any output.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI } from "../../helpers/cli.ts";
import { makeImage, TINI } from "../../helpers/images.ts";
import { startRegistry, type TestRegistry } from "../../helpers/registry.ts";
import { NODE, type RunResult, run, shellfree } from "./common.ts";

const USER = "carol";
const PASSWORD = `pw-${randomBytes(9).toString("hex")}`;
const REFRESH = `refresh-${randomBytes(9).toString("hex")}`;
const b64 = (s: string) => Buffer.from(s).toString("base64");

function assertNoSecret(r: RunResult, ...secrets: string[]): void {
  for (const s of secrets)
    for (const form of [s, b64(`${USER}:${s}`)]) {
      assert.ok(!r.stdout.includes(form), `secret in stdout: ${r.stdout}`);
      assert.ok(!r.stderr.includes(form), `secret in stderr: ${r.stderr}`);
    }
}

/** A home with no credentials anywhere, and the helper directory first on PATH. */
async function home(tmp: string, name: string, helpers: string): Promise<NodeJS.ProcessEnv> {
  const h = join(tmp, name);
  await mkdir(h, { recursive: true });
  return {
    HOME: h,
    XDG_CACHE_HOME: join(h, "cache"),
    XDG_CONFIG_HOME: join(h, "config"),
    XDG_RUNTIME_DIR: join(h, "run"),
    DOCKER_CONFIG: "",
    REGISTRY_AUTH_FILE: "",
    SHELLFREE_REGISTRY_USER: "",
    SHELLFREE_REGISTRY_PASSWORD: "",
    PATH: `${helpers}:${process.env.PATH}`,
  };
}

/** docker-credential-shellfree-test: the account for REGISTRY, "not found" for anything else. */
async function writeHelper(dir: string, registry: string, secretKind: "password" | "token"): Promise<void> {
  const answer =
    secretKind === "password"
      ? `{"ServerURL":"${registry}","Username":"${USER}","Secret":"${PASSWORD}"}`
      : `{"ServerURL":"${registry}","Username":"<token>","Secret":"${REFRESH}"}`;
  await writeFile(
    join(dir, "docker-credential-shellfree-test"),
    [
      "#!/bin/bash",
      '[ "$1" = get ] || exit 1',
      "read -r url",
      'echo "$url" >> "$(dirname "$0")/asked"',
      `if [ "$url" = "${registry}" ]; then printf '%s' '${answer}'; exit 0; fi`,
      "echo 'credentials not found in native keychain'",
      "exit 1",
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
}

describe("credential helpers and auth files against htpasswd Basic auth", () => {
  let reg: TestRegistry;
  let tmp: string;
  let helpers: string;
  let image: string;
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "shellfree-creds-basic-"));
    helpers = join(tmp, "bin");
    await mkdir(helpers);
    image = (
      await makeImage(join(tmp, "img"), {
        files: [{ path: "/usr/bin/tini-static", hostPath: TINI, mode: 0o755 }],
      })
    ).ref;
    reg = await startRegistry({ htpasswd: { user: USER, password: PASSWORD } });
    await writeHelper(helpers, reg.host, "password");
  });
  after(async () => {
    await reg?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  test("credHelpers: docker-credential-NAME get is asked for the registry; push and pull work", async () => {
    const env = await home(tmp, "helpers", helpers);
    await mkdir(join(env.HOME as string, ".docker"));
    await writeFile(
      join(env.HOME as string, ".docker", "config.json"),
      JSON.stringify({ credHelpers: { [reg.host]: "shellfree-test" } }),
    );
    const p = await shellfree(["push", image, `${reg.host}/helper/app:v1`], env);
    assert.equal(p.code, 0, p.stderr);
    assertNoSecret(p, PASSWORD);
    const q = await shellfree(
      ["pull", `${reg.host}/helper/app:v1`, "-o", `oci:${join(tmp, "pulled1")}`],
      env,
    );
    assert.equal(q.code, 0, q.stderr);
    assert.ok((await readFile(join(helpers, "asked"), "utf8")).split("\n").includes(reg.host));
  });

  test("credsStore: the helper for every registry (the auths entry is docker's empty marker)", async () => {
    const env = await home(tmp, "store", helpers);
    const cfg = join(tmp, "docker-store");
    await mkdir(cfg);
    await writeFile(
      join(cfg, "config.json"),
      JSON.stringify({ auths: { [reg.host]: {} }, credsStore: "shellfree-test" }),
    );
    const r = await shellfree(["pull", `${reg.host}/helper/app:v1`, "-o", `oci:${join(tmp, "pulled2")}`], {
      ...env,
      DOCKER_CONFIG: cfg,
    });
    assert.equal(r.code, 0, r.stderr);
    assertNoSecret(r, PASSWORD);
  });

  test("$REGISTRY_AUTH_FILE is the only file read when set (as podman's --authfile)", async () => {
    const env = await home(tmp, "authfile", helpers);
    const file = join(tmp, "my-auth.json");
    await writeFile(file, JSON.stringify({ auths: { [reg.host]: { auth: b64(`${USER}:${PASSWORD}`) } } }));
    const ok = await shellfree(["pull", `${reg.host}/helper/app:v1`, "-o", `oci:${join(tmp, "pulled3")}`], {
      ...env,
      REGISTRY_AUTH_FILE: file,
    });
    assert.equal(ok.code, 0, ok.stderr);
    // with REGISTRY_AUTH_FILE pointing elsewhere, ~/.docker/config.json is not consulted
    await mkdir(join(env.HOME as string, ".docker"));
    await writeFile(
      join(env.HOME as string, ".docker", "config.json"),
      JSON.stringify({ auths: { [reg.host]: { auth: b64(`${USER}:${PASSWORD}`) } } }),
    );
    const other = join(tmp, "empty-auth.json");
    await writeFile(other, "{}");
    const none = await shellfree(["pull", `${reg.host}/helper/app:v1`, "-o", `oci:${join(tmp, "pulled4")}`], {
      ...env,
      REGISTRY_AUTH_FILE: other,
    });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no credentials were given \(anonymous\)/);
  });

  test("as root without $XDG_RUNTIME_DIR: /run/containers/0/auth.json (in a private mount namespace)", async () => {
    assert.equal(process.getuid?.(), 0, "this test runs as root");
    const env = { ...(await home(tmp, "run0", helpers)), XDG_RUNTIME_DIR: "" };
    const auth = join(tmp, "run0-auth.json");
    await writeFile(auth, JSON.stringify({ auths: { [reg.host]: { auth: b64(`${USER}:${PASSWORD}`) } } }));
    const out = `oci:${join(tmp, "pulled5")}`;
    const script =
      'mount -t tmpfs tmpfs /run && mkdir -p /run/containers/0 && cp "$1" /run/containers/0/auth.json && shift && exec "$@"';
    const r = await run(
      "unshare",
      [
        "--mount",
        "--propagation",
        "private",
        "bash",
        "-c",
        script,
        "x",
        auth,
        NODE,
        CLI,
        "pull",
        `${reg.host}/helper/app:v1`,
        "-o",
        out,
      ],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    assertNoSecret(r, PASSWORD);
  });

  test("a malformed entry is named with its file, not reported as 'no credentials were given'", async () => {
    const env = await home(tmp, "malformed", helpers);
    await mkdir(join(env.XDG_RUNTIME_DIR as string, "containers"), { recursive: true });
    const file = join(env.XDG_RUNTIME_DIR as string, "containers", "auth.json");
    await writeFile(file, JSON.stringify({ auths: { [reg.host]: { auth: b64(`${USER}${PASSWORD}`) } } }));
    const r = await shellfree(
      ["pull", `${reg.host}/helper/app:v1`, "-o", `oci:${join(tmp, "pulled6")}`],
      env,
    );
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr.split("\n")[0],
      `shellfree: ${file}: auths["${reg.host}"].auth does not decode to USER:PASSWORD (no colon)`,
    );
    assert.doesNotMatch(r.stderr, /no credentials were given/);
    assertNoSecret(r, PASSWORD);
    assert.ok(!r.stderr.includes(`${USER}${PASSWORD}`));
  });

  test("a failing helper is named, and what it said is passed on; a hanging one is stopped", async () => {
    const env = await home(tmp, "failing", helpers);
    const bin = join(tmp, "bin-bad");
    await mkdir(bin);
    await writeFile(
      join(bin, "docker-credential-locked"),
      "#!/bin/bash\nread -r url\necho 'the keychain is locked' >&2\nexit 5\n",
      { mode: 0o755 },
    );
    await writeFile(join(bin, "docker-credential-slow"), "#!/bin/bash\nexec sleep 60\n", { mode: 0o755 });
    await mkdir(join(env.HOME as string, ".docker"));
    const cfg = join(env.HOME as string, ".docker", "config.json");
    const dest = `oci:${join(tmp, "pulled7")}`;
    await writeFile(cfg, JSON.stringify({ credHelpers: { [reg.host]: "locked" } }));
    const locked = await shellfree(["pull", `${reg.host}/helper/app:v1`, "-o", dest], {
      ...env,
      PATH: `${bin}:${env.PATH}`,
    });
    assert.equal(locked.code, 1);
    assert.match(
      locked.stderr,
      new RegExp(
        `^shellfree: credential helper docker-credential-locked \\(${cfg.replace(/[.]/g, "\\.")} credHelpers\\["${reg.host.replace(/[.]/g, "\\.")}"\\]\\) for ${reg.host.replace(/[.]/g, "\\.")}: exit 5: the keychain is locked$`,
        "m",
      ),
    );
    await writeFile(cfg, JSON.stringify({ credHelpers: { [reg.host]: "slow" } }));
    const t0 = Date.now();
    const slow = await shellfree(["pull", `${reg.host}/helper/app:v1`, "-o", dest], {
      ...env,
      PATH: `${bin}:${env.PATH}`,
      SHELLFREE_CREDENTIAL_HELPER_TIMEOUT_MS: "2000",
    });
    assert.equal(slow.code, 1);
    assert.match(slow.stderr, /docker-credential-slow .*: no answer within 2 s \(stopped it\)/);
    assert.ok(Date.now() - t0 < 60_000);
  });
});

describe("identity tokens (OAuth2 refresh tokens) against token auth", () => {
  let reg: TestRegistry;
  let tmp: string;
  let helpers: string;
  let image: string;
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "shellfree-creds-token-"));
    helpers = join(tmp, "bin");
    await mkdir(helpers);
    image = (
      await makeImage(join(tmp, "img"), {
        files: [{ path: "/usr/bin/tini-static", hostPath: TINI, mode: 0o755 }],
      })
    ).ref;
    reg = await startRegistry({ token: { user: USER, password: PASSWORD, refreshToken: REFRESH } });
    await writeHelper(helpers, reg.host, "token");
  });
  after(async () => {
    await reg?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  test("auths identitytoken: traded with grant_type=refresh_token; push and pull; never printed", async () => {
    const env = await home(tmp, "idtoken", helpers);
    await mkdir(join(env.HOME as string, ".docker"));
    await writeFile(
      join(env.HOME as string, ".docker", "config.json"),
      JSON.stringify({ auths: { [reg.host]: { auth: b64(`${USER}:`), identitytoken: REFRESH } } }),
    );
    const p = await shellfree(["push", image, `${reg.host}/oauth/app:v1`, "--json"], env);
    assert.equal(p.code, 0, p.stderr);
    assertNoSecret(p, REFRESH, PASSWORD);
    const token = reg.token;
    assert.ok(token);
    const oauth = token.requests.filter((q) => q.grant === "refresh_token");
    assert.ok(oauth.length >= 1 && oauth.every((q) => q.granted && q.user === USER));
    assert.ok(oauth.some((q) => q.scopes.includes("repository:oauth/app:pull,push")));
    assert.ok(
      !token.requests.some((q) => q.grant === undefined && q.user !== null),
      "no Basic-auth token request: the refresh token did it",
    );
    const q = await shellfree(["pull", `${reg.host}/oauth/app:v1`, "-o", `oci:${join(tmp, "pulled1")}`], env);
    assert.equal(q.code, 0, q.stderr);
  });

  test("a credential helper's <token> answer is an identity token too", async () => {
    const env = await home(tmp, "helper-token", helpers);
    await mkdir(join(env.HOME as string, ".docker"));
    await writeFile(
      join(env.HOME as string, ".docker", "config.json"),
      JSON.stringify({ credHelpers: { [reg.host]: "shellfree-test" } }),
    );
    const q = await shellfree(["pull", `${reg.host}/oauth/app:v1`, "-o", `oci:${join(tmp, "pulled2")}`], env);
    assert.equal(q.code, 0, q.stderr);
    assertNoSecret(q, REFRESH);
  });

  test("a revoked identity token: the token server's refusal, named, without the token", async () => {
    const env = await home(tmp, "revoked", helpers);
    const bad = `revoked-${randomBytes(6).toString("hex")}`;
    await mkdir(join(env.HOME as string, ".docker"));
    const cfg = join(env.HOME as string, ".docker", "config.json");
    await writeFile(cfg, JSON.stringify({ auths: { [reg.host]: { identitytoken: bad } } }));
    const r = await shellfree(["pull", `${reg.host}/oauth/app:v1`, "-o", `oci:${join(tmp, "pulled3")}`], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /HTTP 401 unauthorized/);
    assert.match(
      r.stderr,
      new RegExp(`hint: the identity token from ${cfg.replace(/[.]/g, "\\.")} was refused`),
    );
    assert.ok(!r.stderr.includes(bad) && !r.stdout.includes(bad));
  });
});
