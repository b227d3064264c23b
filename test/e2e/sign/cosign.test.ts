/**
 * Signing against the real cosign (Debian trixie's 2.5, fetched by shellfree itself) and a real
 * docker-registry on 127.0.0.1 (distribution 2.8: no referrers API, so bundles are found through
 * the referrers tag schema): shellfree's signatures pass `cosign verify`, cosign's pass
 * `shellfree verify-signature`, in both formats; key files go both ways; and every rejection
 * has its own message and exit code 3 (1 for bad input).
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Descriptor } from "../../../src/oci/index.ts";
import { cosignBinary } from "../../helpers/cosign.ts";
import { makeImage } from "../../helpers/images.ts";
import { startRegistry, type TestRegistry } from "../../helpers/registry.ts";
import { NODE, run, SHELLFREE, shellfree } from "../registry/common.ts";

const PASSWORD = "s3cret-Pa55word";
const SIGN_PREDICATE = "https://sigstore.dev/cosign/sign/v1";
const MANIFEST = "application/vnd.oci.image.manifest.v1+json";

type Desc = Descriptor & { annotations: Record<string, string> };
/** a manifest or index as the tests look at it */
interface Doc {
  mediaType: string;
  artifactType?: string;
  config: Desc;
  layers: Desc[];
  manifests: Desc[];
  subject: Desc;
  annotations: Record<string, string>;
}

describe("signing, interoperable with cosign 2.5 (docker-registry on 127.0.0.1)", () => {
  let reg: TestRegistry;
  let tmp: string;
  let cosignBin: string;
  /** image layouts: `one` (one platform), `two` (another single image), `multi` (two platforms) */
  const layouts: Record<string, { ref: string; digest: string }> = {};
  /** key files: cosign's (cosign.key/.pub), shellfree's (sf.key/.pub), another pair (other.key/.pub) */
  let keys: string;
  let emptyTrustedRoot: string;

  const env = () => ({ HOME: tmp, XDG_CACHE_HOME: join(tmp, "cache"), COSIGN_PASSWORD: PASSWORD });
  const cosign = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
    run(cosignBin, args, { ...env(), COSIGN_YES: "true", ...extra }, 120_000);
  const sf = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
    shellfree(["-q", ...args], { ...env(), ...extra });
  const cosignVerify = (image: string, key: string, extra: string[] = []) =>
    cosign(["verify", "--key", key, "--insecure-ignore-tlog", "--allow-http-registry", ...extra, image]);
  const cosignSign = (image: string, key: string, extra: string[] = []) =>
    cosign(["sign", "--key", key, "--tlog-upload=false", "--allow-http-registry", "-y", ...extra, image]);

  /** Push a test layout to `repo:tag`; returns the digest. */
  async function push(layout: string, repoTag: string): Promise<string> {
    const r = await sf(["push", layouts[layout].ref, `${reg.host}/${repoTag}`, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout).digest;
  }

  // raw registry access, for looking at what was written and for tampering with it
  const http = (path: string, init: RequestInit = {}) => fetch(`http://${reg.host}${path}`, init);
  async function manifest(repo: string, ref: string): Promise<{ text: string; doc: Doc }> {
    const res = await http(`/v2/${repo}/manifests/${ref}`, {
      headers: { Accept: `${MANIFEST}, application/vnd.oci.image.index.v1+json` },
    });
    assert.equal(res.status, 200, `${repo}:${ref}`);
    const text = await res.text();
    return { text, doc: JSON.parse(text) };
  }
  async function blob(repo: string, digest: string): Promise<string> {
    const res = await http(`/v2/${repo}/blobs/${digest}`);
    assert.equal(res.status, 200);
    return res.text();
  }
  async function putBlob(repo: string, bytes: string): Promise<{ digest: string; size: number }> {
    const { createHash } = await import("node:crypto");
    const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    const start = await http(`/v2/${repo}/blobs/uploads/`, { method: "POST" });
    assert.equal(start.status, 202);
    const loc = new URL(start.headers.get("location") ?? "", `http://${reg.host}`);
    loc.searchParams.set("digest", digest);
    const put = await fetch(loc, {
      method: "PUT",
      body: bytes,
      headers: { "Content-Type": "application/octet-stream" },
    });
    assert.equal(put.status, 201);
    return { digest, size: Buffer.byteLength(bytes) };
  }
  async function putManifest(repo: string, ref: string, text: string, type = MANIFEST): Promise<void> {
    const res = await http(`/v2/${repo}/manifests/${ref}`, {
      method: "PUT",
      body: text,
      headers: { "Content-Type": type },
    });
    assert.equal(res.status, 201, await res.text());
  }
  const sigTag = (digest: string) => `sha256-${digest.slice(7)}.sig`;

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "shellfree-sign-e2e-"));
    cosignBin = await cosignBinary();
    const v = await run(cosignBin, ["version"], { HOME: tmp });
    assert.equal(v.code, 0, v.stderr);
    for (const [name, opts] of Object.entries({
      one: { files: [{ path: "/etc/motd", data: "one\n" }] },
      two: { files: [{ path: "/etc/motd", data: "two\n" }] },
      multi: { files: [{ path: "/etc/motd", data: "multi\n" }], platforms: ["linux/amd64", "linux/arm64"] },
    })) {
      const img = await makeImage(join(tmp, name), opts);
      layouts[name] = { ref: img.ref, digest: img.result.digest };
    }
    reg = await startRegistry();
    keys = join(tmp, "keys");
    await mkdir(keys);
    // cosign's key pair (in its working directory), shellfree's, and another one for wrong-key tests
    const g = await run(cosignBin, ["generate-key-pair", "--output-key-prefix", join(keys, "cosign")], {
      HOME: tmp,
      COSIGN_PASSWORD: PASSWORD,
    });
    assert.equal(g.code, 0, g.stderr);
    for (const prefix of ["sf", "other"]) {
      const r = await sf(["generate-key-pair", "--output-key-prefix", join(keys, prefix)]);
      assert.equal(r.code, 0, r.stderr);
    }
    // a trusted root with nothing in it: cosign 2.5 needs one to read bundles, a key needs no CA or log
    emptyTrustedRoot = join(tmp, "trusted-root.json");
    await writeFile(
      emptyTrustedRoot,
      JSON.stringify({ mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1" }),
    );
  });
  after(async () => {
    await reg?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  test("shellfree sign with cosign's own encrypted key: cosign verify accepts the .sig (and its annotation), cosign reads the bundle, and cosign sees the same payload", async () => {
    const digest = await push("one", "sign/one:v1");
    const image = `${reg.host}/sign/one:v1`;
    const r = await sf(["sign", image, "--key", join(keys, "cosign.key"), "-a", "team=blue", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes(PASSWORD) && !r.stderr.includes(PASSWORD));
    const out = JSON.parse(r.stdout);
    assert.equal(out.digest, digest);
    assert.equal(out.repository, `${reg.host}/sign/one`);
    assert.equal(out.signed.length, 1);
    assert.deepEqual(out.signed[0].sig, { tag: sigTag(digest), added: true, signatures: 1 });
    // docker-registry 2.8 has no referrers API: the referrers tag schema
    assert.equal(out.signed[0].bundle.added, true);
    assert.equal(out.signed[0].bundle.referrers, "tag");
    assert.equal(out.signed[0].bundle.tag, `sha256-${digest.slice(7)}`);

    // the signature image as cosign writes it
    const sig = await manifest("sign/one", sigTag(digest));
    assert.equal(sig.doc.mediaType, MANIFEST);
    assert.equal(sig.doc.config.mediaType, "application/vnd.oci.image.config.v1+json");
    assert.equal(sig.doc.layers.length, 1);
    assert.equal(sig.doc.layers[0].mediaType, "application/vnd.dev.cosign.simplesigning.v1+json");
    assert.match(sig.doc.layers[0].annotations["dev.cosignproject.cosign/signature"], /^MEU|^MEQ|^MEY/);
    const payload = JSON.parse(await blob("sign/one", sig.doc.layers[0].digest));
    assert.deepEqual(payload, {
      critical: {
        identity: { "docker-reference": `${reg.host}/sign/one` },
        image: { "docker-manifest-digest": digest },
        type: "cosign container image signature",
      },
      optional: { team: "blue" },
    });

    const v = await cosignVerify(image, join(keys, "cosign.pub"), ["-a", "team=blue"]);
    assert.equal(v.code, 0, v.stderr);
    const verified = JSON.parse(v.stdout);
    assert.equal(verified.length, 1);
    assert.equal(verified[0].critical.image["docker-manifest-digest"], digest);
    const wrongAnnotation = await cosignVerify(image, join(keys, "cosign.pub"), ["-a", "team=red"]);
    assert.notEqual(wrongAnnotation.code, 0);

    // the bundle: a referrer found through the referrers tag, checked by cosign 2.5's bundle verifier
    const referrers = await manifest("sign/one", `sha256-${digest.slice(7)}`);
    assert.equal(referrers.doc.manifests.length, 1);
    assert.equal(referrers.doc.manifests[0].artifactType, "application/vnd.dev.sigstore.bundle.v0.3+json");
    const ref = await manifest("sign/one", referrers.doc.manifests[0].digest);
    assert.equal(ref.doc.artifactType, "application/vnd.dev.sigstore.bundle.v0.3+json");
    assert.equal(ref.doc.config.mediaType, "application/vnd.oci.empty.v1+json");
    assert.equal(ref.doc.subject.digest, digest);
    assert.equal(ref.doc.annotations["dev.sigstore.bundle.predicateType"], SIGN_PREDICATE);
    const bundle = JSON.parse(await blob("sign/one", ref.doc.layers[0].digest));
    assert.equal(bundle.dsseEnvelope.payloadType, "application/vnd.in-toto+json");
    const att = await cosign([
      "verify-attestation",
      "--new-bundle-format",
      "--key",
      join(keys, "cosign.pub"),
      "--insecure-ignore-tlog",
      "--allow-http-registry",
      "--trusted-root",
      emptyTrustedRoot,
      "--type",
      SIGN_PREDICATE,
      `${reg.host}/sign/one@${digest}`,
    ]);
    assert.equal(att.code, 0, att.stderr);
    const statement = JSON.parse(Buffer.from(JSON.parse(att.stdout).payload, "base64").toString());
    assert.equal(statement.subject[0].digest.sha256, digest.slice(7));

    // cosign signing the same payload with the same key finds shellfree's signature: nothing added
    const again = await cosignSign(`${reg.host}/sign/one@${digest}`, join(keys, "cosign.key"), [
      "-a",
      "team=blue",
    ]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((await manifest("sign/one", sigTag(digest))).doc.layers.length, 1);
    // shellfree signing again adds nothing either
    const twice = await sf(["sign", image, "--key", join(keys, "cosign.key"), "-a", "team=blue", "--json"]);
    assert.equal(twice.code, 0, twice.stderr);
    assert.equal(JSON.parse(twice.stdout).signed[0].sig.added, false);
    assert.equal(JSON.parse(twice.stdout).signed[0].bundle.added, false);
    assert.equal((await manifest("sign/one", `sha256-${digest.slice(7)}`)).doc.manifests.length, 1);
  });

  test("cosign sign → shellfree verify-signature accepts it; shellfree appends its own signature beside cosign's, and cosign verifies both keys", async () => {
    const digest = await push("two", "sign/two:v1");
    const image = `${reg.host}/sign/two:v1`;
    const c = await cosignSign(`${reg.host}/sign/two@${digest}`, join(keys, "cosign.key"), [
      "-a",
      "by=cosign",
    ]);
    assert.equal(c.code, 0, c.stderr);
    const v = await sf(["verify-signature", image, "--key", join(keys, "cosign.pub")]);
    assert.equal(v.code, 0, v.stderr);
    assert.match(
      v.stdout,
      new RegExp(
        `^verified ${reg.host}/sign/two@${digest} with .*cosign\\.pub: 1 of 1 signature\\(s\\) valid`,
      ),
    );
    const a = await sf(["verify-signature", image, "--key", join(keys, "cosign.pub"), "-a", "by=cosign"]);
    assert.equal(a.code, 0, a.stderr);

    const s = await sf(["sign", image, "--key", join(keys, "sf.key"), "--format", "sig", "--json"]);
    assert.equal(s.code, 0, s.stderr);
    assert.deepEqual(JSON.parse(s.stdout).signed[0].sig, { tag: sigTag(digest), added: true, signatures: 2 });
    assert.equal(JSON.parse(s.stdout).signed[0].bundle, undefined);
    const sig = await manifest("sign/two", sigTag(digest));
    assert.equal(sig.doc.layers.length, 2, "appended, not replaced");
    const config = JSON.parse(await blob("sign/two", sig.doc.config.digest));
    assert.deepEqual(
      config.rootfs.diff_ids,
      sig.doc.layers.map((l: { digest: string }) => l.digest),
    );
    for (const key of ["cosign.pub", "sf.pub"]) {
      const cv = await cosignVerify(image, join(keys, key));
      assert.equal(cv.code, 0, `${key}: ${cv.stderr}`);
      const sv = await sf(["verify-signature", image, "--key", join(keys, key), "--json"]);
      assert.equal(sv.code, 0, sv.stderr);
      const res = JSON.parse(sv.stdout);
      assert.equal(res.verified, true);
      assert.equal(res.signatures.filter((x: { ok: boolean }) => x.ok).length, 1);
    }
  });

  test("cosign attest --new-bundle-format (a Sigstore bundle referrer) → shellfree verify-signature --format bundle accepts it", async () => {
    const digest = await push("two", "sign/bundle:v1");
    await writeFile(join(tmp, "predicate.json"), "{}");
    const c = await cosign([
      "attest",
      "--new-bundle-format",
      "--key",
      join(keys, "cosign.key"),
      "--tlog-upload=false",
      "--allow-http-registry",
      "--type",
      SIGN_PREDICATE,
      "--predicate",
      join(tmp, "predicate.json"),
      "-y",
      `${reg.host}/sign/bundle@${digest}`,
    ]);
    assert.equal(c.code, 0, c.stderr);
    const v = await sf([
      "verify-signature",
      `${reg.host}/sign/bundle:v1`,
      "--key",
      join(keys, "cosign.pub"),
      "--format",
      "bundle",
      "--json",
    ]);
    assert.equal(v.code, 0, v.stderr);
    const res = JSON.parse(v.stdout);
    assert.equal(res.verified, true);
    assert.equal(res.signatures.length, 1);
    assert.equal(res.signatures[0].format, "bundle");
    assert.equal(res.signatures[0].digest, digest);
    assert.equal(res.signatures[0].identity, `${reg.host}/sign/bundle`);
    // no .sig tag here: the sig format alone finds nothing
    const sigOnly = await sf([
      "verify-signature",
      `${reg.host}/sign/bundle:v1`,
      "--key",
      join(keys, "cosign.pub"),
      "--format",
      "sig",
    ]);
    assert.equal(sigOnly.code, 3);
    assert.match(sigOnly.stderr, /is not signed \(no tag sha256-[0-9a-f]{64}\.sig\)/);
  });

  test("shellfree generate-key-pair makes keys cosign uses: cosign signs with sf.key, verifies with sf.pub", async () => {
    const digest = await push("one", "sign/keys:v1");
    const c = await cosignSign(`${reg.host}/sign/keys@${digest}`, join(keys, "sf.key"));
    assert.equal(c.code, 0, c.stderr);
    const v = await cosignVerify(`${reg.host}/sign/keys:v1`, join(keys, "sf.pub"));
    assert.equal(v.code, 0, v.stderr);
    // the reference forms: plain, docker://, registry:, by tag or digest
    for (const ref of [
      `${reg.host}/sign/keys:v1`,
      `docker://${reg.host}/sign/keys:v1`,
      `registry:${reg.host}/sign/keys@${digest}`,
    ]) {
      const s = await sf(["verify-signature", ref, "--key", join(keys, "sf.pub")]);
      assert.equal(s.code, 0, `${ref}: ${s.stderr}`);
      assert.match(s.stdout, new RegExp(`^verified ${reg.host}/sign/keys@${digest} `));
    }
  });

  test("a multi-arch index: signed as the index; --recursive signs each platform manifest too", async () => {
    const index = await push("multi", "sign/multi:v1");
    await push("multi", "sign/multi-flat:v1");
    const idx = (await manifest("sign/multi", index)).doc;
    const children: string[] = idx.manifests.map((m: { digest: string }) => m.digest);
    assert.equal(children.length, 2);

    const flat = await sf([
      "sign",
      `${reg.host}/sign/multi-flat:v1`,
      "--key",
      join(keys, "cosign.key"),
      "--json",
    ]);
    assert.equal(flat.code, 0, flat.stderr);
    assert.deepEqual(
      JSON.parse(flat.stdout).signed.map((t: { digest: string }) => t.digest),
      [index],
    );
    assert.equal((await cosignVerify(`${reg.host}/sign/multi-flat:v1`, join(keys, "cosign.pub"))).code, 0);
    const child = await cosignVerify(`${reg.host}/sign/multi-flat@${children[0]}`, join(keys, "cosign.pub"));
    assert.notEqual(child.code, 0, "a platform manifest is not signed without --recursive");

    const rec = await sf([
      "sign",
      `${reg.host}/sign/multi:v1`,
      "--key",
      join(keys, "cosign.key"),
      "--recursive",
      "--json",
    ]);
    assert.equal(rec.code, 0, rec.stderr);
    const signed = JSON.parse(rec.stdout).signed as Array<{ digest: string; platform?: string }>;
    assert.deepEqual(
      signed.map((t) => t.digest),
      [index, ...children],
    );
    assert.deepEqual(
      signed.map((t) => t.platform),
      [undefined, "linux/amd64", "linux/arm64"],
    );
    for (const d of [index, ...children]) {
      const cv = await cosignVerify(`${reg.host}/sign/multi@${d}`, join(keys, "cosign.pub"));
      assert.equal(cv.code, 0, `${d}: ${cv.stderr}`);
      const sv = await sf([
        "verify-signature",
        `${reg.host}/sign/multi@${d}`,
        "--key",
        join(keys, "cosign.pub"),
      ]);
      assert.equal(sv.code, 0, sv.stderr);
    }
  });

  describe("rejections", () => {
    test("no signature at all: exit 3, 'is not signed' (cosign refuses too)", async () => {
      const digest = await push("one", "reject/unsigned:v1");
      const image = `${reg.host}/reject/unsigned:v1`;
      const r = await sf(["verify-signature", image, "--key", join(keys, "cosign.pub")]);
      assert.equal(r.code, 3);
      assert.equal(
        r.stderr.trim(),
        `shellfree: ${reg.host}/reject/unsigned@${digest} is not signed (no tag ${sigTag(digest)}, no Sigstore bundle among its referrers)`,
      );
      assert.equal(r.stdout, "");
      assert.notEqual((await cosignVerify(image, join(keys, "cosign.pub"))).code, 0);
      // --json: the result on stdout as well, exit 3
      const j = await sf(["verify-signature", image, "--key", join(keys, "cosign.pub"), "--json"]);
      assert.equal(j.code, 3);
      const res = JSON.parse(j.stdout);
      assert.equal(res.verified, false);
      assert.deepEqual(res.signatures, []);
      assert.match(res.problem, /is not signed/);
    });

    test("a wrong key: exit 3, 'signed with another key' (shellfree's signature names its key; cosign's cannot)", async () => {
      // sign/one: shellfree's .sig and bundle, made with cosign.key
      const r = await sf(["verify-signature", `${reg.host}/sign/one:v1`, "--key", join(keys, "other.pub")]);
      assert.equal(r.code, 3);
      assert.match(
        r.stderr,
        /none of its 2 signatures is valid: sha256-[0-9a-f]{64}\.sig layer 1 signed with another key \(key hint [A-Za-z0-9+/=]+; .*other\.pub is [A-Za-z0-9+/=]+\); referrer sha256:[0-9a-f]{64} signed with another key/,
      );
      assert.equal(r.stderr.trim().split("\n").length, 1, "one line");
      assert.notEqual((await cosignVerify(`${reg.host}/sign/one:v1`, join(keys, "other.pub"))).code, 0);
      // sign/keys: only cosign's signature (no key hint): both possibilities named
      const k = await sf(["verify-signature", `${reg.host}/sign/keys:v1`, "--key", join(keys, "other.pub")]);
      assert.equal(k.code, 3);
      assert.match(
        k.stderr,
        /the signature \(sha256-[0-9a-f]{64}\.sig layer 1\) does not verify with .*other\.pub: signed with another key, or the payload was altered/,
      );
    });

    test("a tampered payload: exit 3, 'altered after signing' (cosign refuses too)", async () => {
      const digest = await push("one", "reject/tamper:v1");
      const image = `${reg.host}/reject/tamper:v1`;
      const s = await sf([
        "sign",
        image,
        "--key",
        join(keys, "cosign.key"),
        "--format",
        "sig",
        "-a",
        "env=staging",
      ]);
      assert.equal(s.code, 0, s.stderr);
      assert.equal((await cosignVerify(image, join(keys, "cosign.pub"))).code, 0);
      // rewrite the payload (staging → production), keep the signature
      const sig = await manifest("reject/tamper", sigTag(digest));
      const payload = await blob("reject/tamper", sig.doc.layers[0].digest);
      const forged = await putBlob("reject/tamper", payload.replace("staging", "production"));
      sig.doc.layers[0].digest = forged.digest;
      sig.doc.layers[0].size = forged.size;
      await putManifest("reject/tamper", sigTag(digest), JSON.stringify(sig.doc));
      const r = await sf(["verify-signature", image, "--key", join(keys, "cosign.pub")]);
      assert.equal(r.code, 3);
      assert.match(
        r.stderr,
        /^shellfree: .*: the signature \(sha256-[0-9a-f]{64}\.sig layer 1\) altered after signing: it names .*cosign\.pub's key but its signature does not match the payload\n$/,
      );
      assert.notEqual((await cosignVerify(image, join(keys, "cosign.pub"))).code, 0);
    });

    test("a valid signature of another digest: exit 3, 'signs sha256:A, not sha256:B' (cosign refuses too)", async () => {
      const a = await push("one", "reject/swap:a");
      const b = await push("two", "reject/swap:b");
      const s = await sf([
        "sign",
        `${reg.host}/reject/swap:a`,
        "--key",
        join(keys, "cosign.key"),
        "--format",
        "sig",
      ]);
      assert.equal(s.code, 0, s.stderr);
      // A's signature image put under B's signature tag
      const sig = await manifest("reject/swap", sigTag(a));
      await putManifest("reject/swap", sigTag(b), sig.text);
      const r = await sf([
        "verify-signature",
        `${reg.host}/reject/swap:b`,
        "--key",
        join(keys, "cosign.pub"),
      ]);
      assert.equal(r.code, 3);
      assert.match(
        r.stderr,
        new RegExp(
          `the signature \\(${sigTag(b)} layer 1\\) signs ${a}, not ${b} \\(a signature of another image\\)`,
        ),
      );
      assert.notEqual((await cosignVerify(`${reg.host}/reject/swap:b`, join(keys, "cosign.pub"))).code, 0);
    });

    test("a signature made for another repository: exit 3 'was made for …' (cosign does not check this); --identity accepts it", async () => {
      const digest = await push("one", "reject/ident:v1");
      const claimed = `${reg.host}/elsewhere/app`;
      const c = await cosignSign(`${reg.host}/reject/ident@${digest}`, join(keys, "cosign.key"), [
        "--sign-container-identity",
        claimed,
      ]);
      assert.equal(c.code, 0, c.stderr);
      const image = `${reg.host}/reject/ident:v1`;
      const r = await sf(["verify-signature", image, "--key", join(keys, "cosign.pub")]);
      assert.equal(r.code, 3);
      assert.match(r.stderr, new RegExp(`was made for ${claimed}, not ${reg.host}/reject/ident$`, "m"));
      const ok = await sf([
        "verify-signature",
        image,
        "--key",
        join(keys, "cosign.pub"),
        "--identity",
        claimed,
      ]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal((await cosignVerify(image, join(keys, "cosign.pub"))).code, 0);
    });

    test("bad input exits 1 with one line and never the password: unreadable key, wrong password, no password and no terminal, a public key to sign with, an unknown image", async () => {
      const image = `${reg.host}/sign/one:v1`;
      const unreadable = await sf(["verify-signature", image, "--key", join(keys, "missing.pub")]);
      assert.equal(unreadable.code, 1);
      assert.match(unreadable.stderr, /^shellfree: cannot read the key .*missing\.pub \(ENOENT\)\n/);
      const wrong = await sf(["sign", image, "--key", join(keys, "cosign.key")], {
        COSIGN_PASSWORD: "not-the-password",
      });
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /^shellfree: cannot decrypt .*cosign\.key: wrong password\n/);
      assert.ok(!wrong.stderr.includes("not-the-password") && !wrong.stderr.includes(PASSWORD));
      // no COSIGN_PASSWORD, and stdin is not a terminal
      const noPassword = await run(NODE, [SHELLFREE, "sign", image, "--key", join(keys, "cosign.key")], {
        HOME: tmp,
        COSIGN_PASSWORD: undefined,
      });
      assert.equal(noPassword.code, 1);
      assert.match(
        noPassword.stderr,
        /needs a password and there is no terminal to ask for it\nhint: set COSIGN_PASSWORD\n$/,
      );
      const pub = await sf(["sign", image, "--key", join(keys, "cosign.pub")]);
      assert.equal(pub.code, 1);
      assert.match(pub.stderr, /holds a PUBLIC KEY, not a private key/);
      const unknown = await sf(["sign", `${reg.host}/sign/one:nope`, "--key", join(keys, "cosign.key")]);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /^shellfree: .*sign\/one:nope: no such image in the registry\n/);
      const badAnnotation = await sf(["sign", image, "--key", join(keys, "cosign.key"), "-a", "novalue"]);
      assert.equal(badAnnotation.code, 2);
      assert.match(badAnnotation.stderr, /annotation "novalue" is not KEY=VALUE/);
    });
  });
});
