import assert from "node:assert/strict";
import { test } from "node:test";
import {
  FILE_BODY_BUFFERS,
  FILE_BODY_CHUNK,
  isTransientError,
  parseRegistryErrors,
  retryAfterMs,
  TransientRegistryError,
} from "../../../src/oci/registry/client.ts";
import { isLocalRegistry, RegistryClient } from "../../../src/oci/registry/index.ts";

test("HTTPS by default; localhost/127.0.0.0/8 and --insecure registries may fall back to plain HTTP", () => {
  for (const h of ["localhost:5000", "127.0.0.1:5000", "127.1.2.3", "[::1]:5000"])
    assert.ok(isLocalRegistry(h), h);
  for (const h of ["reg.test", "10.0.0.1:5000", "128.0.0.1"]) assert.ok(!isLocalRegistry(h), h);
  const clients = [new RegistryClient("127.0.0.1:5000"), new RegistryClient("reg.test:5000")];
  // every registry starts on HTTPS; only an insecure one is probed and may move to HTTP (e2e tests)
  assert.deepEqual(
    clients.map((c) => c.base),
    ["https://127.0.0.1:5000", "https://reg.test:5000"],
  );
  for (const c of clients) c.close();
});

test("registry error bodies become stable codes with the registry's message", () => {
  const c = new RegistryClient("127.0.0.1:5000", {
    creds: { username: "u", password: "s3cr3t-pw", source: "--creds" },
  });
  try {
    const body = (code: string, message: string, detail?: unknown) =>
      JSON.stringify({ errors: [{ code, message, detail }] });
    const e1 = c.statusError(
      400,
      "push manifest",
      body("MANIFEST_INVALID", "manifest invalid", { reason: "bad" }),
    );
    assert.equal(e1.code, "E_REGISTRY_MANIFEST_INVALID");
    assert.equal(
      e1.message,
      'push manifest: HTTP 400: MANIFEST_INVALID: manifest invalid ({"reason":"bad"})',
    );
    assert.equal(
      c.statusError(400, "x", body("MANIFEST_BLOB_UNKNOWN", "blob unknown")).code,
      "E_REGISTRY_BLOB_UNKNOWN",
    );
    assert.equal(
      c.statusError(404, "x", body("BLOB_UNKNOWN", "blob unknown")).code,
      "E_REGISTRY_BLOB_UNKNOWN",
    );
    assert.equal(c.statusError(404, "x", "").code, "E_REGISTRY_NOT_FOUND");
    assert.equal(c.statusError(416, "x", "").code, "E_REGISTRY_UPLOAD_INVALID");
    const denied = c.statusError(403, "push", body("DENIED", "requested access to the resource is denied"));
    assert.equal(denied.code, "E_REGISTRY_DENIED");
    assert.match(denied.message, /HTTP 403 denied: DENIED: requested access/);
    const unauth = c.statusError(401, "get", body("UNAUTHORIZED", "echo s3cr3t-pw"));
    assert.equal(unauth.code, "E_REGISTRY_UNAUTHORIZED");
    assert.ok(!unauth.message.includes("s3cr3t-pw"), "password redacted from the registry's own text");
    assert.match(unauth.hint ?? "", /credentials from --creds were refused/);
    assert.deepEqual(parseRegistryErrors("not json"), []);
  } finally {
    c.close();
  }
});

test("transient: 5xx/429 markers and dropped connections; not registry errors", () => {
  assert.ok(isTransientError(new TransientRegistryError("HTTP 503", 503)));
  assert.ok(isTransientError(Object.assign(new Error("x"), { code: "ECONNRESET" })));
  assert.ok(isTransientError(Object.assign(new Error("x"), { code: "EPIPE" })));
  assert.ok(!isTransientError(Object.assign(new Error("x"), { code: "ENOENT" })));
  const c = new RegistryClient("127.0.0.1:1");
  assert.ok(!isTransientError(c.statusError(404, "x", "")));
  c.close();
});

test("Retry-After: seconds or an HTTP date, capped at 60 s", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  assert.equal(retryAfterMs("3", now), 3000);
  assert.equal(retryAfterMs("3600", now), 60_000);
  assert.equal(retryAfterMs("Thu, 01 Jan 2026 00:00:05 GMT", now), 5000);
  assert.equal(retryAfterMs("Wed, 31 Dec 2025 23:00:00 GMT", now), 0);
  assert.equal(retryAfterMs("soon", now), undefined);
  assert.equal(retryAfterMs(undefined, now), undefined);
});

test("a file body: sent exactly through the few send buffers, again whole after a 401; a file shorter than the range is an error", async () => {
  const { createHash, randomBytes } = await import("node:crypto");
  const { mkdtemp, rm, writeFile } = await import("node:fs/promises");
  const { createServer } = await import("node:http");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const dir = await mkdtemp(join(tmpdir(), "shellfree-filebody-"));
  // larger than all the buffers of one request, and not a multiple of one
  const data = randomBytes(FILE_BODY_CHUNK * FILE_BODY_BUFFERS * 3 + 777);
  const file = join(dir, "blob");
  await writeFile(file, data);
  const got: Array<{ method?: string; auth: boolean; bytes: number; sha?: string }> = [];
  const server = createServer((req, res) => {
    if (req.url === "/v2/") return res.writeHead(200).end("{}");
    if (!req.headers.authorization) {
      // refused (the body read and dropped): the client learns Basic and sends it all again
      got.push({ auth: false, bytes: 0 });
      req.resume();
      req.on("end", () => res.writeHead(401, { "www-authenticate": 'Basic realm="t"' }).end());
      return;
    }
    const h = createHash("sha256");
    let n = 0;
    req.on("data", (c: Buffer) => {
      h.update(c);
      n += c.length;
    });
    req.on("end", () => {
      got.push({ method: req.method, auth: true, bytes: n, sha: h.digest("hex") });
      res.writeHead(201).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const host = `127.0.0.1:${(server.address() as import("node:net").AddressInfo).port}`;
  const c = new RegistryClient(host, {
    insecure: true,
    creds: { username: "u", password: "p", source: "test" },
  });
  try {
    // plain HTTP, auth not asked for yet: the PUT goes out without credentials first
    await c.ping(["repository:r:pull,push"]);
    const offsets: number[] = [];
    const res = await c.request("PUT", `http://${host}/v2/r/blobs/uploads/x`, {
      scopes: ["repository:r:pull,push"],
      body: { file, start: 5, end: data.length, onBytes: (o) => offsets.push(o) },
      expect: [201],
      what: "put a file",
    });
    res.resume();
    // the first PUT was answered 401; the second, with credentials, carried the whole range
    assert.equal(got.filter((g) => !g.auth).length, 1);
    const puts = got.filter((g) => g.method === "PUT");
    assert.equal(puts.length, 1);
    assert.equal(puts[0].bytes, data.length - 5);
    assert.equal(puts[0].sha, createHash("sha256").update(data.subarray(5)).digest("hex"));
    assert.equal(offsets.at(-1), data.length);
    // the range runs past the end of the file: one clear error, not a hang
    await assert.rejects(
      c.request("PUT", `http://${host}/v2/r/blobs/uploads/y`, {
        scopes: ["repository:r:pull,push"],
        body: { file, start: 0, end: data.length + 10 },
        expect: [201],
        what: "put a short file",
      }),
      /the file ends at byte \d+, before \d+/,
    );
  } finally {
    c.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  }
});
