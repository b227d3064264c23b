import assert from "node:assert/strict";
import { test } from "node:test";
import { closureDependencies } from "../../../src/debian/graph.ts";
import type { BinaryPackage } from "../../../src/debian/types.ts";

const source = { uri: "file:///nowhere", suite: "trixie", components: ["main"] };
function pkg(name: string, fields: Partial<BinaryPackage> = {}): BinaryPackage {
  return {
    name,
    version: "1.0-1",
    architecture: "amd64",
    essential: false,
    depends: "",
    preDepends: "",
    recommends: "",
    provides: "",
    conflicts: "",
    breaks: "",
    filename: `pool/${name}.deb`,
    size: 1,
    sha256: "0".repeat(64),
    source,
    fields: {},
    ...fields,
  };
}

test("closure edges: Pre-Depends and Depends, first satisfied alternative, providers, versions", () => {
  const closure = [
    pkg("app", {
      preDepends: "libc6 (>= 1.0)",
      // debconf was excluded: no edge; the first alternative present wins
      depends:
        "debconf | debconf-2.0, libssl3t64 (>= 3) | libssl3, mail-transport-agent, libfoo:any [amd64], libbar [arm64]",
    }),
    pkg("libc6", { depends: "libgcc-s1" }),
    pkg("libgcc-s1", { depends: "gcc-14-base (= 1.0-1), libc6 (>= 1.0)" }),
    pkg("gcc-14-base"),
    pkg("libssl3t64", { version: "3.5.9-1" }),
    pkg("libssl3", { version: "3.0.1-1" }),
    pkg("postfix", { provides: "mail-transport-agent" }),
    pkg("exim4-daemon-light", { provides: "mail-transport-agent" }),
    pkg("libfoo", { depends: "libfoo (>= 0)" }),
    pkg("libbar"),
    pkg("tool", { depends: "libc6 (>= 9.0), virtual-ver (>= 2)" }),
    pkg("provider-old", { provides: "virtual-ver (= 1)" }),
    pkg("provider-new", { provides: "virtual-ver (= 2.1)" }),
    pkg("provider-unversioned", { provides: "virtual-ver" }),
  ];
  const g = closureDependencies(closure, "amd64");
  assert.deepEqual(g.get("app"), ["exim4-daemon-light", "libc6", "libfoo", "libssl3t64", "postfix"]);
  assert.deepEqual(g.get("libgcc-s1"), ["gcc-14-base", "libc6"]);
  assert.deepEqual(g.get("libc6"), ["libgcc-s1"]);
  assert.deepEqual(g.get("libfoo"), [], "no self edge");
  // libc6 1.0-1 does not satisfy >= 9.0; only the versioned Provides that fits satisfies >= 2
  assert.deepEqual(g.get("tool"), ["provider-new"]);
  assert.deepEqual(g.get("gcc-14-base"), []);
  assert.equal(g.size, closure.length);
});
