import assert from "node:assert/strict";
import { test } from "node:test";
import {
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
