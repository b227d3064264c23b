import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  LAYOUT_REF,
  LOCAL_READ_REF,
  OUTPUT_REF,
  parseImageRef,
  READ_REF,
  REGISTRY_REF,
} from "../../../src/oci/ref.ts";

const D = `sha256:${"cd".repeat(32)}`;

describe("one image-reference grammar (skopeo's transports)", () => {
  test("every transport", () => {
    assert.deepEqual(parseImageRef("oci:out/img:v1"), { transport: "oci", path: "out/img", tag: "v1" });
    assert.deepEqual(parseImageRef(`oci-archive:/tmp/a.tar@${D}`), {
      transport: "oci-archive",
      path: "/tmp/a.tar",
      digest: D,
    });
    assert.deepEqual(parseImageRef("docker-archive:a.tar:reg.test:5000/my/app:1.0"), {
      transport: "docker-archive",
      path: "a.tar",
      tag: "reg.test:5000/my/app:1.0",
    });
    assert.deepEqual(parseImageRef("docker://localhost:5000/team/app:v2"), {
      transport: "registry",
      registry: "localhost:5000",
      repository: "team/app",
      tag: "v2",
    });
    assert.deepEqual(parseImageRef(`registry:reg.test/app@${D}`), {
      transport: "registry",
      registry: "reg.test",
      repository: "app",
      digest: D,
    });
  });

  test("a local path ends at the first colon, as in skopeo", () => {
    assert.deepEqual(parseImageRef("oci:a:b:c"), { transport: "oci", path: "a", tag: "b:c" });
    assert.deepEqual(parseImageRef("oci:/a:b/c"), { transport: "oci", path: "/a", tag: "b/c" });
    assert.deepEqual(parseImageRef(`oci:dir:v1@${D}`), {
      transport: "oci",
      path: "dir",
      tag: "v1",
      digest: D,
    });
  });

  test("what each command takes, and the code a bad reference gets", () => {
    const code = (ref: string, use: typeof READ_REF) => {
      try {
        parseImageRef(ref, use);
        return "ok";
      } catch (e) {
        return `${(e as { code: string }).code}/${(e as { exitCode: number }).exitCode}`;
      }
    };
    // reading: any transport; a bare HOST/REPO is not a reference
    assert.equal(code("docker://reg.test/app", READ_REF), "ok");
    assert.equal(code("reg.test/app", READ_REF), "E_TARGET/1");
    assert.equal(code("docker:reg.test/app", READ_REF), "E_TARGET/1");
    assert.equal(code("registry:app", READ_REF), "E_REGISTRY_REF/2");
    // local reading (inspect): no registry
    assert.equal(code("docker://reg.test/app", LOCAL_READ_REF), "E_TARGET/1");
    // outputs: local transports, named by tag only
    assert.equal(code("oci:out:v1", OUTPUT_REF), "ok");
    assert.equal(code(`oci:out@${D}`, OUTPUT_REF), "E_TARGET/1");
    assert.equal(code("oci:out:bad tag", OUTPUT_REF), "E_TARGET/1");
    assert.equal(code("oci:out:v1-", OUTPUT_REF), "E_TARGET/1");
    assert.equal(code("docker-archive:a.tar:App:1", OUTPUT_REF), "E_TARGET/1");
    // push's source, pull's destination: an OCI layout
    assert.equal(code("oci-archive:a.tar", LAYOUT_REF), "E_LAYOUT_REF/2");
    assert.equal(code("oci:", LAYOUT_REF), "E_LAYOUT_REF/2");
    // push's destination, pull's source: a registry, with or without its transport
    assert.equal(code("reg.test/app:v1", REGISTRY_REF), "ok");
    assert.equal(code("oci:dir", REGISTRY_REF), "E_REGISTRY_REF/2");
  });
});
