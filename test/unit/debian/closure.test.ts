import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { dependencyChain } from "../../../src/debian/resolve.ts";
import type { BinaryPackage } from "../../../src/debian/types.ts";

const source = { uri: "file:///nowhere", suite: "trixie", components: ["main"] };
function pkg(name: string, depends = "", provides = "", preDepends = ""): BinaryPackage {
  return {
    name,
    version: "1",
    architecture: "amd64",
    essential: false,
    depends,
    preDepends,
    recommends: "",
    provides,
    conflicts: "",
    breaks: "",
    filename: `pool/${name}.deb`,
    size: 1,
    sha256: "0".repeat(64),
    source,
    fields: {},
  };
}

describe("the chain that brings a shell into the closure", () => {
  const closure = [
    pkg("app", "libfoo (>= 1), helper-scripts"),
    pkg("libfoo", "libc6"),
    pkg("libc6"),
    pkg("helper-scripts", "", "", "sh-provider"),
    pkg("dash", "", "sh-provider"),
  ];
  test("follows Depends, Pre-Depends and Provides from a requested package", () => {
    assert.deepEqual(dependencyChain("dash", closure, ["app"], "amd64"), ["app", "helper-scripts", "dash"]);
  });
  test("a requested shell is its own chain", () => {
    assert.deepEqual(dependencyChain("dash", closure, ["dash", "app"], "amd64"), ["dash"]);
  });
  test("shortest chain wins", () => {
    const c = [...closure, pkg("direct", "dash")];
    assert.deepEqual(dependencyChain("dash", c, ["direct", "app"], "amd64"), ["direct", "dash"]);
  });
});
