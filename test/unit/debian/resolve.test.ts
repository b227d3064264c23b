import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseDeb822 } from "../../../src/debian/deb822.ts";
import { formatResolution, resolutionJson, resolve } from "../../../src/debian/resolve.ts";
import type { AptSource, BinaryPackage, PackageUniverse } from "../../../src/debian/types.ts";

const SOURCE: AptSource = { uri: "http://mirror.invalid/debian", suite: "test", components: ["main"] };

/** A universe from Packages-style paragraphs; Filename/SHA256/Size are filled in. */
function universe(text: string, arch = "amd64", source = SOURCE): PackageUniverse {
  return { arch, packages: paragraphs(text, source) };
}

function paragraphs(text: string, source = SOURCE): BinaryPackage[] {
  return parseDeb822(text).map((f) => ({
    name: f.Package,
    version: f.Version,
    architecture: f.Architecture ?? "amd64",
    multiArch: f["Multi-Arch"] as BinaryPackage["multiArch"],
    essential: f.Essential === "yes",
    depends: f.Depends ?? "",
    preDepends: f["Pre-Depends"] ?? "",
    recommends: f.Recommends ?? "",
    provides: f.Provides ?? "",
    conflicts: f.Conflicts ?? "",
    breaks: f.Breaks ?? "",
    filename: `pool/${f.Package}_${f.Version}.deb`,
    size: 100,
    sha256: "0".repeat(64),
    source,
    fields: f,
  }));
}

const names = (u: PackageUniverse, req: string[], opts = {}) =>
  resolve(u, req, opts).packages.map((p) => `${p.name}=${p.version}`);

const unsat = (fn: () => unknown, re: RegExp) =>
  assert.throws(fn, (e: Error & { code?: string }) => {
    assert.equal(e.code, "E_UNSATISFIABLE", e.message);
    assert.match(e.message, re);
    return true;
  });

describe("resolver", () => {
  it("follows Depends and Pre-Depends, sorted by name, Recommends only when asked", () => {
    const u = universe(`
Package: app
Version: 1
Pre-Depends: libz
Depends: libc (>= 2)
Recommends: extra

Package: libc
Version: 2.1

Package: libz
Version: 1.3
Depends: libc

Package: extra
Version: 5
`);
    assert.deepEqual(names(u, ["app"]), ["app=1", "libc=2.1", "libz=1.3"]);
    assert.deepEqual(names(u, ["app"], { withRecommends: true }), [
      "app=1",
      "extra=5",
      "libc=2.1",
      "libz=1.3",
    ]);
    const r = resolve(u, ["app"]);
    assert.equal(formatResolution(r), "app 1 amd64\nlibc 2.1 amd64\nlibz 1.3 amd64");
    assert.deepEqual(resolutionJson(r)[0], {
      name: "app",
      version: "1",
      architecture: "amd64",
      filename: "pool/app_1.deb",
      sha256: "0".repeat(64),
      size: 100,
    });
  });

  it("takes the first alternative, unless another one is already being installed", () => {
    const u = universe(`
Package: a
Version: 1
Depends: x | y

Package: b
Version: 1
Depends: y

Package: x
Version: 1

Package: y
Version: 1
`);
    assert.deepEqual(names(u, ["a"]), ["a=1", "x=1"]);
    // b is marked first (requests are marked before their dependencies), so y satisfies a
    assert.deepEqual(names(u, ["b", "a"]), ["a=1", "b=1", "y=1"]);
  });

  it("skips an alternative whose version does not fit or whose own dependencies cannot be met", () => {
    const u = universe(`
Package: a
Version: 1
Depends: x (>= 2) | y | z

Package: x
Version: 1.5

Package: y
Version: 1
Depends: missing

Package: z
Version: 1
`);
    assert.deepEqual(names(u, ["a"]), ["a=1", "z=1"]);
  });

  it("prefers the real package over providers, then Essential, then Priority", () => {
    const u = universe(`
Package: a
Version: 1
Depends: awk, mail-transport-agent, editor

Package: awk
Version: 1

Package: gawk
Version: 1
Provides: awk
Priority: required
Essential: yes

Package: exim
Version: 1
Provides: mail-transport-agent
Priority: optional

Package: postfix
Version: 1
Provides: mail-transport-agent
Priority: standard

Package: nano
Version: 1
Provides: editor
Priority: optional

Package: vim
Version: 1
Provides: editor
Priority: optional
Essential: yes
`);
    assert.deepEqual(names(u, ["a"]), ["a=1", "awk=1", "postfix=1", "vim=1"]);
  });

  it("breaks a full tie the way apt's cache does: the package it created last wins", () => {
    const u = universe(`
Package: a
Version: 1
Depends: virt

Package: p1
Version: 1
Provides: virt

Package: p2
Version: 1
Provides: virt
`);
    assert.deepEqual(names(u, ["a"]), ["a=1", "p2=1"]);
  });

  it("uses versioned Provides for versioned dependencies, never unversioned ones", () => {
    const u = universe(`
Package: a
Version: 1
Depends: virt (>= 2)

Package: old
Version: 9
Provides: virt

Package: new
Version: 1
Provides: virt (= 2.5)
`);
    assert.deepEqual(names(u, ["a"]), ["a=1", "new=1"]);
    const v = universe(`
Package: a
Version: 1
Depends: virt (>= 2)

Package: old
Version: 9
Provides: virt
`);
    unsat(() => resolve(v, ["a"]), /a → virt \(>= 2\) : provided only as old \(unversioned\)/);
  });

  it("handles :any with Multi-Arch: allowed, and arch qualifiers", () => {
    const u = universe(`
Package: tool
Version: 1
Depends: perl:any, python3:native

Package: perl
Version: 5.40
Multi-Arch: allowed

Package: python3
Version: 3.13

Package: bad
Version: 1
Depends: libfoo:any

Package: libfoo
Version: 1
Multi-Arch: same

Package: foreign
Version: 1
Depends: libbar:arm64

Package: libbar
Version: 1
`);
    assert.deepEqual(names(u, ["tool"]), ["perl=5.40", "python3=3.13", "tool=1"]);
    unsat(() => resolve(u, ["bad"]), /bad → libfoo:any : libfoo is not Multi-Arch: allowed/);
    unsat(() => resolve(u, ["foreign"]), /foreign → libbar:arm64 : architecture arm64 is not resolved/);
  });

  it("takes only the universe's architecture and all", () => {
    const u = universe(`
Package: a
Version: 1
Architecture: arm64

Package: a
Version: 2
Architecture: amd64

Package: doc
Version: 1
Architecture: all
`);
    assert.deepEqual(names(u, ["a", "doc"]), ["a=2", "doc=1"]);
    assert.equal(resolve(u, ["doc"]).packages[0].architecture, "all");
  });

  it("takes the highest version across sources, and a pin when given", () => {
    const sec: AptSource = { ...SOURCE, suite: "test-security" };
    const u: PackageUniverse = {
      arch: "amd64",
      packages: [
        ...paragraphs("Package: lib\nVersion: 1.0-1\n\nPackage: app\nVersion: 1\nDepends: lib (>= 1.0)\n"),
        ...paragraphs("Package: lib\nVersion: 1.0-1+deb13u1\n", sec),
      ],
    };
    const r = resolve(u, ["app"]);
    assert.deepEqual(
      r.packages.map((p) => `${p.name}=${p.version}@${p.source.suite}`),
      ["app=1@test", "lib=1.0-1+deb13u1@test-security"],
    );
    assert.deepEqual(names(u, ["app", "lib=1.0-1"]), ["app=1", "lib=1.0-1"]);
    assert.throws(
      () => resolve(u, ["lib=9"]),
      /version 9 of lib is not in the archive \(available: 1.0-1\+deb13u1, 1.0-1\)/,
    );
  });

  it("leaves excluded packages out, with who wanted them, and does not follow their dependencies", () => {
    const u = universe(`
Package: squid
Version: 6
Depends: libc, adduser, logrotate | cron

Package: helper
Version: 1
Depends: adduser

Package: adduser
Version: 3
Depends: passwd

Package: passwd
Version: 1

Package: logrotate
Version: 1

Package: cron
Version: 1

Package: libc
Version: 2
`);
    const r = resolve(u, ["squid", "helper"], { exclude: ["adduser", "logrotate", "not-there"] });
    assert.deepEqual(
      r.packages.map((p) => p.name),
      ["helper", "libc", "squid"],
    );
    assert.deepEqual(r.excluded, [
      { name: "adduser", wantedBy: ["helper", "squid"] },
      { name: "logrotate", wantedBy: ["squid"] },
    ]);
    assert.throws(() => resolve(u, ["adduser"], { exclude: ["adduser"] }), /both requested and excluded/);
  });

  it("names the unsatisfiable chain", () => {
    const u = universe(`
Package: squid-openssl
Version: 6
Pre-Depends: squid
Depends: libc

Package: squid
Version: 6
Depends: libfoo (>= 2)

Package: libfoo
Version: 1.5

Package: libc
Version: 2
`);
    unsat(
      () => resolve(u, ["squid-openssl"]),
      /^unsatisfiable: squid-openssl → squid → libfoo \(>= 2\) : only 1\.5 available$/,
    );
    const v = universe(`
Package: app
Version: 1
Depends: mid | other

Package: mid
Version: 1
Depends: gone (>= 3)

Package: other
Version: 1
Depends: nothing-here
`);
    unsat(
      () => resolve(v, ["app"]),
      /app → mid \| other : .*mid → gone \(>= 3\) : not in the archive|app → mid → gone \(>= 3\) : not in the archive/,
    );
  });

  it("lets a requested package's Conflicts rule out a provider", () => {
    const u = universe(`
Package: a
Version: 1
Depends: mta
Conflicts: exim

Package: exim
Version: 1
Provides: mta
Priority: standard

Package: postfix
Version: 1
Provides: mta
Priority: optional
`);
    assert.deepEqual(names(u, ["a"]), ["a=1", "postfix=1"]);
  });

  it("selects the only provider of a requested virtual package, refuses an ambiguous one", () => {
    const u = universe(`
Package: one
Version: 1
Provides: solo

Package: p1
Version: 1
Provides: many

Package: p2
Version: 1
Provides: many
`);
    assert.deepEqual(names(u, ["solo"]), ["one=1"]);
    unsat(() => resolve(u, ["many"]), /many is a virtual package provided by p1, p2/);
    assert.throws(
      () => resolve(u, ["nope"]),
      (e: Error & { code?: string }) =>
        e.code === "E_NOT_FOUND" && /nope is not in the archive/.test(e.message),
    );
    assert.throws(() => resolve(u, ["one:arm64"]), /architecture 'arm64'/);
    assert.deepEqual(names(u, ["one:amd64"]), ["one=1"]);
  });

  it("explains a conflict deeper in the tree", () => {
    const u = universe(`
Package: mta
Version: 1
Depends: daemon

Package: daemon
Version: 1
Depends: base

Package: base
Version: 1
Depends: config

Package: config
Version: 1
Conflicts: other-mta

Package: other-mta
Version: 1

Package: a
Version: 1
Conflicts: b

Package: b
Version: 1
`);
    unsat(() => resolve(u, ["other-mta", "mta"]), /daemon → base → config (→ )?conflicts with other-mta/);
    unsat(() => resolve(u, ["a", "b"]), /^unsatisfiable: a → conflicts with b : but b is needed too$/);
  });

  it("gives the same answer every time", () => {
    const u = universe(`
Package: a
Version: 1
Depends: v1, v2

Package: x
Version: 1
Provides: v1, v2

Package: y
Version: 1
Provides: v2, v1
`);
    const first = names(u, ["a"]);
    for (let i = 0; i < 5; i++) assert.deepEqual(names(u, ["a"]), first);
  });
});
