/**
 * Registry authentication against a real docker-registry on 127.0.0.1: htpasswd Basic auth, and
 * token auth (docker-registry's `auth: token` with a token server written here, JWTs signed with
 * RS256 and checked by the registry against the server's certificate). Credentials from --creds,
 * the environment and the Docker/Podman auth files; wrong credentials give a clear error and
 * the password appears nowhere in the output.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { makeImage, TINI } from "../../helpers/images.ts";
import { startRegistry, type TestRegistry } from "../../helpers/registry.ts";
import { type RunResult, shellfree } from "./common.ts";

const USER = "alice";
const PASSWORD = `pw-${randomBytes(9).toString("hex")}`;
const WRONG = `wrong-${randomBytes(9).toString("hex")}`;

function assertNoSecret(r: RunResult, ...secrets: string[]): void {
  for (const s of secrets) {
    for (const form of [s, Buffer.from(`${USER}:${s}`).toString("base64")]) {
      assert.ok(!r.stdout.includes(form), "secret in stdout");
      assert.ok(!r.stderr.includes(form), "secret in stderr");
    }
  }
}

async function isolatedEnv(tmp: string, name: string): Promise<NodeJS.ProcessEnv> {
  const home = join(tmp, name);
  await mkdir(home, { recursive: true });
  return {
    HOME: home,
    XDG_CACHE_HOME: join(home, "cache"),
    XDG_CONFIG_HOME: join(home, "config"),
    XDG_RUNTIME_DIR: join(home, "run"),
    DOCKER_CONFIG: "",
    REGISTRY_AUTH_FILE: "",
    SHELLFREE_REGISTRY_USER: "",
    SHELLFREE_REGISTRY_PASSWORD: "",
  };
}

describe("registry with htpasswd Basic auth", () => {
  let reg: TestRegistry;
  let tmp: string;
  let image: string;
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "shellfree-reg-basic-"));
    image = (
      await makeImage(join(tmp, "img"), {
        files: [{ path: "/usr/bin/tini-static", hostPath: TINI, mode: 0o755 }],
      })
    ).ref;
    reg = await startRegistry({ htpasswd: { user: USER, password: PASSWORD } });
  });
  after(async () => {
    await reg?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  test("--creds: right ones push; wrong ones → clear 401 and no password in the output; none → clear error", async () => {
    const env = await isolatedEnv(tmp, "h1");
    const ok = await shellfree(
      ["push", image, `${reg.host}/basic/app:v1`, "--creds", `${USER}:${PASSWORD}`],
      env,
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^pushed sha256:[0-9a-f]{64}$/m);
    assertNoSecret(ok, PASSWORD);
    assert.ok(reg.requests.some((q) => q.auth === "basic" && q.url.includes("/manifests/v1")));

    const bad = await shellfree(
      ["push", image, `${reg.host}/basic/app:v2`, "--creds", `${USER}:${WRONG}`],
      env,
    );
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^shellfree: connect to 127\.0\.0\.1:\d+: HTTP 401 unauthorized$/m);
    assert.match(bad.stderr, /^hint: the credentials from --creds were refused/m);
    assert.equal(bad.stdout, "");
    assertNoSecret(bad, WRONG, PASSWORD);

    const none = await shellfree(["pull", `${reg.host}/basic/app:v1`, "-o", `oci:${join(tmp, "none")}`], env);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /HTTP 401 unauthorized/);
    assert.match(none.stderr, /no credentials were given \(anonymous\)/);
  });

  test("credentials from the environment, ~/.docker/config.json and $XDG_RUNTIME_DIR/containers/auth.json", async () => {
    const src = `${reg.host}/basic/app:v1`;
    const e1 = {
      ...(await isolatedEnv(tmp, "h2")),
      SHELLFREE_REGISTRY_USER: USER,
      SHELLFREE_REGISTRY_PASSWORD: PASSWORD,
    };
    const r1 = await shellfree(["pull", src, "-o", `oci:${join(tmp, "p1")}`], e1);
    assert.equal(r1.code, 0, r1.stderr);
    assertNoSecret(r1, PASSWORD);

    const e2 = await isolatedEnv(tmp, "h3");
    await mkdir(join(e2.HOME as string, ".docker"), { recursive: true });
    const auth = Buffer.from(`${USER}:${PASSWORD}`).toString("base64");
    await writeFile(
      join(e2.HOME as string, ".docker", "config.json"),
      JSON.stringify({ auths: { [`http://${reg.host}`]: { auth } } }),
    );
    const r2 = await shellfree(["pull", src, "-o", `oci:${join(tmp, "p2")}`], e2);
    assert.equal(r2.code, 0, r2.stderr);

    const e3 = await isolatedEnv(tmp, "h4");
    await mkdir(join(e3.XDG_RUNTIME_DIR as string, "containers"), { recursive: true });
    // a repository-scoped entry wins over the registry-wide one (which is wrong here)
    await writeFile(
      join(e3.XDG_RUNTIME_DIR as string, "containers", "auth.json"),
      JSON.stringify({
        auths: {
          [reg.host]: { auth: Buffer.from(`${USER}:${WRONG}`).toString("base64") },
          [`${reg.host}/basic`]: { auth },
        },
      }),
    );
    const r3 = await shellfree(["pull", src, "-o", `oci:${join(tmp, "p3")}`], e3);
    assert.equal(r3.code, 0, r3.stderr);
    // …and for another repository the registry-wide (wrong) entry is used: refused, named by file
    const r4 = await shellfree(["pull", `${reg.host}/other/app:v1`, "-o", `oci:${join(tmp, "p4")}`], e3);
    assert.equal(r4.code, 1);
    assert.match(r4.stderr, /credentials from .*containers\/auth\.json were refused/);
    assertNoSecret(r4, WRONG, PASSWORD);
  });
});

describe("registry with token auth (Bearer)", () => {
  let reg: TestRegistry;
  let tmp: string;
  let image: string;
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "shellfree-reg-token-"));
    image = (
      await makeImage(join(tmp, "img"), {
        files: [{ path: "/usr/bin/tini-static", hostPath: TINI, mode: 0o755 }],
        platforms: ["linux/amd64", "linux/arm64"],
      })
    ).ref;
    reg = await startRegistry({ token: { user: USER, password: PASSWORD } });
  });
  after(async () => {
    await reg?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  test("push and pull with a token per scope; mount asks for pull on the source repository", async () => {
    const token = reg.token;
    assert.ok(token);
    const env = await isolatedEnv(tmp, "t1");
    const r = await shellfree(
      ["push", image, `${reg.host}/tok/app:v1`, "--creds", `${USER}:${PASSWORD}`, "--json"],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).uploaded, 3);
    assertNoSecret(r, PASSWORD);
    // one token for the push scope, fetched once and reused for every request
    const pushTokens = token.requests.filter((q) => q.scopes.includes("repository:tok/app:pull,push"));
    assert.equal(pushTokens.length, 1);
    assert.equal(pushTokens[0].user, USER);
    assert.ok(pushTokens[0].granted);
    const afterPing = reg.requests.filter((q) => q.url !== "/v2/");
    assert.ok(afterPing.length > 5);
    assert.ok(
      afterPing.every((q) => q.auth === "bearer"),
      "every API request carries the bearer token",
    );

    // cross-repository mount needs pull on the source: the token asked for both scopes
    const m = await shellfree(
      [
        "push",
        image,
        `${reg.host}/tok/copy:v1`,
        "--from",
        "tok/app",
        "--creds",
        `${USER}:${PASSWORD}`,
        "--json",
      ],
      { ...env, XDG_CACHE_HOME: join(tmp, "c2") },
    );
    assert.equal(m.code, 0, m.stderr);
    assert.equal(JSON.parse(m.stdout).mounted, 3);
    assert.ok(
      token.requests.some(
        (q) =>
          q.scopes.includes("repository:tok/app:pull") && q.scopes.includes("repository:tok/copy:pull,push"),
      ),
    );

    const p = await shellfree(
      [
        "pull",
        `${reg.host}/tok/app:v1`,
        "-o",
        `oci:${join(tmp, "pulled")}`,
        "--creds",
        `${USER}:${PASSWORD}`,
      ],
      env,
    );
    assert.equal(p.code, 0, p.stderr);
    assert.ok(token.requests.some((q) => q.scopes.includes("repository:tok/app:pull")));
  });

  test("wrong credentials: the token server's 401, clearly, without the password; anonymous: no access", async () => {
    const env = await isolatedEnv(tmp, "t2");
    const bad = await shellfree(
      ["push", image, `${reg.host}/tok/app:v2`, "--creds", `${USER}:${WRONG}`],
      env,
    );
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /token for repository:tok\/app:pull,push from http:\/\/127\.0\.0\.1:\d+\/token: HTTP 401 unauthorized: UNAUTHORIZED: invalid username or password/,
    );
    assert.match(bad.stderr, /hint: the credentials from --creds were refused/);
    assertNoSecret(bad, WRONG, PASSWORD);

    const anon = await shellfree(["pull", `${reg.host}/tok/app:v1`, "-o", `oci:${join(tmp, "anon")}`], env);
    assert.equal(anon.code, 1);
    assert.match(anon.stderr, /get manifest tok\/app:v1: HTTP 401 unauthorized/);
    assert.match(anon.stderr, /no credentials were given \(anonymous\)/);
  });
});
