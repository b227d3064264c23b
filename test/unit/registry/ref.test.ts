import assert from "node:assert/strict";
import { test } from "node:test";
import { formatRegistryRef, parseLayoutRef, parseRegistryRef } from "../../../src/oci/index.ts";

const D = `sha256:${"ab".repeat(32)}`;

test("registry references: prefixes, ports, tags, digests", () => {
  assert.deepEqual(parseRegistryRef("127.0.0.1:5000/a/b:v1"), {
    registry: "127.0.0.1:5000",
    repository: "a/b",
    tag: "v1",
    digest: undefined,
  });
  assert.deepEqual(parseRegistryRef("registry:reg.example.test/team/app"), {
    registry: "reg.example.test",
    repository: "team/app",
    tag: undefined,
    digest: undefined,
  });
  assert.deepEqual(parseRegistryRef(`docker://localhost:5000/app@${D}`), {
    registry: "localhost:5000",
    repository: "app",
    tag: undefined,
    digest: D,
  });
  const both = parseRegistryRef(`localhost/x/y_z.w-1:1.2.3@${D}`);
  assert.equal(both.tag, "1.2.3");
  assert.equal(both.digest, D);
  assert.equal(formatRegistryRef(both), `localhost/x/y_z.w-1:1.2.3@${D}`);
  assert.equal(parseRegistryRef("[::1]:5000/a:b").registry, "[::1]:5000");
});

test("registry references: clear errors with a stable code", () => {
  const cases: Array<[string, RegExp]> = [
    ["app:v1", /no registry host/],
    ["myrepo/app:v1", /"myrepo" does not look like a registry host/],
    ["127.0.0.1:5000/App:v1", /not a valid repository/],
    ["127.0.0.1:5000/a:-bad", /"-bad" is not a valid tag/],
    ["127.0.0.1:5000/a@sha256:123", /malformed digest/],
    ["127.0.0.1:5000/", /no repository/],
    ["127.0.0.1:5000/a//b", /not a valid repository/],
  ];
  for (const [ref, re] of cases) {
    assert.throws(
      () => parseRegistryRef(ref),
      (e: Error & { code?: string; exitCode?: number }) => {
        assert.equal(e.code, "E_REGISTRY_REF", ref);
        assert.equal(e.exitCode, 2);
        assert.match(e.message, re, ref);
        return true;
      },
    );
  }
});

test("layout references: oci:DIR[:TAG]", () => {
  assert.deepEqual(parseLayoutRef("oci:/tmp/out:v1"), { dir: "/tmp/out", tag: "v1" });
  assert.deepEqual(parseLayoutRef("oci:/tmp/out"), { dir: "/tmp/out" });
  assert.deepEqual(parseLayoutRef("oci:rel/dir:latest"), { dir: "rel/dir", tag: "latest" });
  // as in skopeo, the directory ends at the first ':' (a path cannot hold one)
  assert.deepEqual(parseLayoutRef("oci:/a:b/c"), { dir: "/a", tag: "b/c" });
  assert.deepEqual(parseLayoutRef("oci:a:b:c"), { dir: "a", tag: "b:c" });
  assert.throws(() => parseLayoutRef("/tmp/out"), /not an OCI layout reference/);
  assert.throws(() => parseLayoutRef("oci:"), /no directory/);
});
