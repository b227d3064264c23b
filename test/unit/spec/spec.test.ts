import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import {
  DEFAULT_EXCLUDES,
  effectiveExcludes,
  lineOfField,
  loadSpec,
  parseSpecText,
  presetSpec,
  resolutionInputsHash,
} from "../../../src/spec/index.ts";

const dir = mkdtempSync(join(tmpdir(), "sf-spec-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function specError(text: string): { code: string; message: string } {
  try {
    parseSpecText(text, "shellfree.yaml", dir);
  } catch (e) {
    return e as { code: string; message: string };
  }
  assert.fail("expected an error");
}

describe("spec errors name file, line and field", () => {
  test("shell-form entrypoint", () => {
    const e = specError("name: x\npackages:\n  include: [libc6]\nconfig:\n  entrypoint: /bin/app --flag\n");
    assert.equal(e.code, "E_SPEC");
    assert.equal(
      e.message,
      "shellfree.yaml:5: config.entrypoint: must be an array (exec form); a shell-form string is not allowed",
    );
  });
  test("shell-form healthcheck test and cmd", () => {
    assert.match(
      specError("config:\n  healthcheck:\n    test: curl -f localhost\n").message,
      /^shellfree\.yaml:3: config\.healthcheck\.test: must be an array \(exec form\)/,
    );
    assert.match(
      specError("config:\n  cmd: run it\n").message,
      /^shellfree\.yaml:2: config\.cmd: must be an array/,
    );
  });
  test("unknown key at top level and nested", () => {
    const e = specError("name: x\nsuite: trixie\npackagez: [a]\n");
    assert.equal(e.code, "E_SPEC");
    assert.match(e.message, /^shellfree\.yaml:3: packagez: unknown key "packagez" \(allowed: name, suite, /);
    assert.match(
      specError("accounts:\n  users:\n    - name: a\n      uid: 1\n      homedir: /x\n").message,
      /^shellfree\.yaml:5: accounts\.users\[0\]\.homedir: unknown key "homedir"/,
    );
  });
  test("type errors", () => {
    assert.match(
      specError("architectures: amd64\n").message,
      /^shellfree\.yaml:1: architectures: must be a list/,
    );
    assert.match(
      specError("architectures: [amd64, sparc]\n").message,
      /:1: architectures\[1\]: unknown architecture "sparc"/,
    );
    assert.match(
      specError("paths:\n  - { path: /x, mode: 0755 }\n").message,
      /:2: paths\[0\]\.mode: must be a quoted octal/,
    );
    assert.match(
      specError("paths:\n  - { path: x }\n").message,
      /:2: paths\[0\]\.path: must be an absolute path/,
    );
    assert.match(
      specError("accounts:\n  users:\n  - { name: a, uid: -1 }\n").message,
      /:3: accounts\.users\[0\]\.uid: must be between/,
    );
    assert.match(
      specError("config:\n  exposed-ports: [80/http]\n").message,
      /:2: config\.exposed-ports\[0\]: invalid port/,
    );
    assert.match(
      specError("packages:\n  pins: [libc6]\n").message,
      /:2: packages\.pins\[0\]: invalid pin "libc6"/,
    );
    assert.match(
      specError("preset: tiny\n").message,
      /:1: preset: unknown preset "tiny" \(known: static, base, cc, node, python\)/,
    );
    assert.match(specError("name: [a\n").message, /^shellfree\.yaml:2: invalid YAML: /);
    assert.match(specError("- a\n- b\n").message, /^shellfree\.yaml:1: spec: must be a mapping/);
    assert.match(specError("name: a\nname: b\n").message, /:2: name: duplicate key/);
    assert.match(
      specError("paths:\n  - { path: /l, type: symlink }\n").message,
      /:2: paths\[0\]: a symlink needs a target/,
    );
  });
  test("missing local file names the line and the path", () => {
    try {
      parseSpecText("files:\n  - { src: ./nope.conf, dest: /etc/x.conf }\n", "shellfree.yaml", dir);
      assert.fail("expected an error");
    } catch (e) {
      const err = e as { code: string; message: string };
      assert.equal(err.code, "E_FILE_MISSING");
      assert.match(
        err.message,
        /^shellfree\.yaml:2: files\[0\]\.src: local file "\.\/nope\.conf" does not exist/,
      );
    }
  });
});

describe("packages.drop-paths", () => {
  test("plain globs and per-package lists, each with its line", () => {
    const f = parseSpecText(
      [
        "packages:",
        "  include: [squid-openssl]",
        "  drop-paths:",
        "    - /usr/sbin/squid-gnutls",
        "    - package: squid",
        "      paths:",
        "        - /usr/lib/squid/*.sh",
        "        - /usr/lib/squid/cert_tool",
        "    - /usr/share/squid-langpack/**",
        "",
      ].join("\n"),
      "shellfree.yaml",
      dir,
    );
    assert.deepEqual(f.packages?.dropPaths, [
      { glob: "/usr/sbin/squid-gnutls", where: "shellfree.yaml:4" },
      { glob: "/usr/lib/squid/*.sh", package: "squid", where: "shellfree.yaml:7" },
      { glob: "/usr/lib/squid/cert_tool", package: "squid", where: "shellfree.yaml:8" },
      { glob: "/usr/share/squid-langpack/**", where: "shellfree.yaml:9" },
    ]);
  });

  test("bad globs and entries are errors with file:line", () => {
    const cases: Array<[string, RegExp]> = [
      ["  drop-paths: /usr/sbin/x\n", /:2: packages\.drop-paths: must be a list/],
      ["  drop-paths: [usr/sbin/x]\n", /:2: packages\.drop-paths\[0\]: must be an absolute path glob/],
      ["  drop-paths: [/usr/../etc]\n", /:2: packages\.drop-paths\[0\]: must not contain "\." or "\.\."/],
      ["  drop-paths: [/**]\n", /:2: packages\.drop-paths\[0\]: "\/\*\*" would drop everything/],
      ["  drop-paths: [/]\n", /would drop everything/],
      ["  drop-paths: ['']\n", /:2: packages\.drop-paths\[0\]: must not be empty/],
      ["  drop-paths:\n    - { paths: [/x] }\n", /:3: packages\.drop-paths\[0\]: needs a package/],
      ["  drop-paths:\n    - { package: squid }\n", /:3: packages\.drop-paths\[0\]: needs paths/],
      [
        "  drop-paths:\n    - { package: squid, paths: [] }\n",
        /:3: packages\.drop-paths\[0\]\.paths: must name at least one/,
      ],
      [
        "  drop-paths:\n    - { package: Squid!, paths: [/x] }\n",
        /packages\.drop-paths\[0\]\.package: invalid value/,
      ],
      [
        "  drop-paths:\n    - { package: squid, path: [/x] }\n",
        /packages\.drop-paths\[0\]\.path: unknown key "path"/,
      ],
      ["  drop-paths:\n    - [/x]\n", /:3: packages\.drop-paths\[0\]: must be a mapping/],
    ];
    for (const [text, re] of cases) {
      const e = specError(`packages:\n${text}`);
      assert.equal(e.code, "E_SPEC", text);
      assert.match(e.message, re, text);
    }
  });

  test("extends: both files' globs, each once; the default is none", () => {
    write("dp-parent.yaml", "packages: { include: [x1], drop-paths: [/a, /b] }\n");
    const child = write(
      "dp-child.yaml",
      "extends: ./dp-parent.yaml\npackages: { drop-paths: [/b, { package: x1, paths: [/b] }, /c] }\n",
    );
    const spec = loadSpec(child);
    assert.deepEqual(
      spec.packages.dropPaths.map((d) => [d.package ?? "*", d.glob]),
      [
        ["*", "/a"],
        ["*", "/b"],
        ["x1", "/b"],
        ["*", "/c"],
      ],
    );
    assert.match(spec.packages.dropPaths[1].where, /dp-parent\.yaml:1$/);
    assert.deepEqual(loadSpec(write("dp-none.yaml", "packages: { include: [x1] }\n")).packages.dropPaths, []);
    // what the image contains is not what resolution depends on
    assert.equal(
      resolutionInputsHash(spec),
      resolutionInputsHash(loadSpec(write("dp-same.yaml", "extends: ./dp-parent.yaml\n"))),
    );
  });
});

describe("paths[].writable", () => {
  test("directories only; the image gets them, sorted, in the dev.shellfree.writable label", async () => {
    const f = parseSpecText(
      [
        "paths:",
        '  - { path: /var/spool/squid, uid: 1000, gid: 0, mode: "0770", writable: true }',
        "  - { path: /run/squid, writable: true }",
        "  - { path: /etc/x, writable: false }",
      ].join("\n"),
      "shellfree.yaml",
      dir,
    );
    assert.equal(f.paths?.[0].type === "directory" && f.paths[0].writable, true);
    assert.equal(f.paths?.[2].type === "directory" && f.paths[2].writable, undefined);
    const { imageConfig } = await import("../../../src/builder/image-config.ts");
    const spec = loadSpec(
      write(
        "w.yaml",
        "packages: { include: [x1] }\nconfig: { labels: { a: b } }\npaths:\n  - { path: /var/spool/squid, writable: true }\n  - { path: /run/squid, writable: true }\n  - { path: /etc/ro }\n",
      ),
    );
    const accounts = { passwd: "", group: "", homes: [], users: [], groups: [] };
    const labels = imageConfig(spec, accounts as never, false).labels;
    assert.deepEqual(labels, { a: "b", "dev.shellfree.writable": "/run/squid,/var/spool/squid" });
    const none = loadSpec(write("nw.yaml", "packages: { include: [x1] }\nconfig: { labels: { a: b } }\n"));
    assert.deepEqual(imageConfig(none, accounts as never, false).labels, { a: "b" });
  });

  test("errors: not a directory, a comma, a boolean, the label set by hand", () => {
    assert.match(
      specError("paths:\n  - { path: /l, type: symlink, target: /x, writable: true }\n").message,
      /:2: paths\[0\]\.writable: only a directory can be writable/,
    );
    assert.match(
      specError("paths:\n  - { path: '/a,b', writable: true }\n").message,
      /:2: paths\[0\]\.path: a writable path must not contain a comma/,
    );
    assert.match(
      specError("paths:\n  - { path: /a, writable: yes }\n").message,
      /:2: paths\[0\]\.writable: must be true or false/,
    );
    const p = write(
      "lw.yaml",
      "packages: { include: [x1] }\nconfig: { labels: { dev.shellfree.writable: /a } }\n",
    );
    assert.throws(() => loadSpec(p), /config\.labels\.dev\.shellfree\.writable: is set by the build/);
  });
});

describe("valid specs", () => {
  test("full spec parses with kebab keys mapped", () => {
    write("squid.conf", "http_port 3128\n");
    const f = parseSpecText(
      [
        "name: squid-proxy",
        "suite: trixie",
        "architectures: [amd64, arm64]",
        "packages:",
        "  include: [squid-openssl, ca-certificates, tzdata=2025b-1]",
        "  exclude: [foo]",
        "  keep: [openssl]",
        "  pins: [libc6=2.41-12]",
        "  allow: [dash]",
        "sources: { security: true }",
        "runtime: { node: 24 }",
        "accounts:",
        "  groups: [{ name: proxy, gid: 13 }]",
        "  users: [{ name: proxy, uid: 1000, gid: 0, home: /var/spool/squid }]",
        "  run-as: 1000",
        "paths:",
        '  - { path: /var/spool/squid, type: directory, uid: 1000, gid: 0, mode: "0770" }',
        "  - { path: /etc/alt, type: symlink, target: /etc/squid }",
        "files:",
        '  - { src: ./squid.conf, dest: /etc/squid/squid.conf, mode: "0644", owner: "0:0" }',
        "config:",
        "  entrypoint: [/usr/sbin/squid, -N]",
        "  env: { TZ: UTC, N: 3 }",
        "  exposed-ports: [3128/tcp, 8080]",
        "  healthcheck: { test: [/x, probe], interval: 10s, start-period: 1m30s, retries: 3 }",
        "  stop-signal: SIGTERM",
        "layers:",
        "  - { name: squid, packages: [squid-openssl, squid] }",
        "alternatives: { squid: /usr/sbin/squid-openssl }",
      ].join("\n"),
      "shellfree.yaml",
      dir,
    );
    assert.deepEqual(f.architectures, ["amd64", "arm64"]);
    assert.deepEqual(f.packages?.pins, { libc6: "2.41-12" });
    assert.equal(f.runtime?.node, "24");
    assert.equal(f.accounts?.runAs, "1000");
    assert.deepEqual(f.paths?.[0], {
      path: "/var/spool/squid",
      type: "directory",
      uid: 1000,
      gid: 0,
      mode: 0o770,
    });
    assert.equal(f.files?.[0].src, join(dir, "squid.conf"));
    assert.deepEqual(f.config?.env, { TZ: "UTC", N: "3" });
    assert.deepEqual(f.config?.exposedPorts, ["3128/tcp", "8080/tcp"]);
    assert.equal(f.config?.healthcheck?.startPeriod, "1m30s");
    assert.deepEqual(f.alternatives, { squid: "/usr/sbin/squid-openssl" });
  });

  test("extends a preset and another file; child wins, package lists union", () => {
    write(
      "parent.yaml",
      "preset: base\npackages: { include: [tzdata, libzstd1] }\nconfig: { env: { A: '1', B: '1' } }\n",
    );
    const child = write(
      "child.yaml",
      "extends: ./parent.yaml\nname: child\npackages: { include: [libzstd1, zlib1g] }\nconfig: { env: { B: '2' } }\n",
    );
    const spec = loadSpec(child);
    assert.equal(spec.name, "child");
    assert.deepEqual(spec.presets, ["static", "base"]);
    for (const p of ["base-files", "libc6", "libssl3t64", "libzstd1", "zlib1g"]) {
      assert.ok(spec.packages.include.includes(p), p);
    }
    assert.equal(spec.packages.include.filter((p) => p === "libzstd1").length, 1);
    assert.deepEqual(spec.config.env, { A: "1", B: "2" });
  });

  test("extends loop is an error", () => {
    write("a.yaml", "extends: ./b.yaml\n");
    const b = write("b.yaml", "extends: ./a.yaml\n");
    assert.throws(() => loadSpec(b), /extends loops back/);
  });

  test("presets", () => {
    const s = presetSpec("node", { architectures: ["arm64"] });
    assert.deepEqual(s.architectures, ["arm64"]);
    assert.equal(s.runtime.node, "24");
    assert.deepEqual(s.config.entrypoint, ["/usr/local/bin/node"]);
    assert.ok(s.packages.include.includes("libstdc++6"));
    assert.ok(!s.packages.include.includes("libssl3t64"));
    const st = presetSpec("static");
    assert.deepEqual([...st.packages.include].sort(), ["base-files", "ca-certificates", "netbase", "tzdata"]);
  });

  test("presets name their packages per suite: libssl3 on bookworm, libssl3t64 from trixie on", () => {
    const staticNames = ["base-files", "netbase", "tzdata", "ca-certificates"];
    const want: Record<string, Record<string, string[]>> = {
      bookworm: {
        base: [...staticNames, "libc6", "libssl3"],
        cc: [...staticNames, "libc6", "libssl3", "libgcc-s1", "libstdc++6", "libgomp1"],
        python: [...staticNames, "libc6", "python3", "python3.11"],
      },
      trixie: {
        base: [...staticNames, "libc6", "libssl3t64"],
        cc: [...staticNames, "libc6", "libssl3t64", "libgcc-s1", "libstdc++6", "libgomp1"],
        python: [...staticNames, "libc6", "python3", "python3.13"],
      },
    };
    for (const [suite, presets] of Object.entries(want)) {
      for (const [name, include] of Object.entries(presets)) {
        assert.deepEqual(presetSpec(name, { suite }).packages.include, include, `${name} on ${suite}`);
        // the same through a spec file that names the suite over the preset
        const f = write(
          `${name}-${suite}.yaml`,
          `preset: ${name}\nsuite: ${suite}\npackages: { include: [zlib1g] }\n`,
        );
        assert.deepEqual(loadSpec(f).packages.include, [...include, "zlib1g"], `${f}`);
      }
      for (const name of ["static", "node"]) {
        assert.ok(presetSpec(name, { suite }).packages.include.includes("base-files"));
      }
    }
    const py = presetSpec("python");
    assert.equal(py.suite, "trixie");
    assert.deepEqual(py.config.entrypoint, ["/usr/bin/python3"]);
    assert.deepEqual(py.presets, ["static", "python"]);
    // a suite named by an alias (or unknown): the preset cannot know its package names
    const alias = write("alias.yaml", "preset: base\nsuite: stable\n");
    assert.throws(
      () => loadSpec(alias),
      /suite "stable": preset static knows the package names of bookworm, trixie, forky, sid only/,
    );
    assert.throws(() => presetSpec("base", { suite: "Trixie!" }), /--suite: invalid suite name/);
    // a spec without presets may name any suite
    const plain = write("plain.yaml", "suite: stable\npackages: { include: [libc6] }\n");
    assert.deepEqual(loadSpec(plain).packages.include, ["libc6"]);
  });

  test("keep takes a default exclude back; included packages are never excluded", () => {
    const p = write("k.yaml", "packages: { include: [squid, debconf], keep: [openssl], exclude: [foo] }\n");
    const ex = effectiveExcludes(loadSpec(p));
    assert.ok(!ex.includes("openssl"));
    assert.ok(!ex.includes("debconf"));
    assert.ok(ex.includes("foo"));
    assert.ok(ex.includes("perl-base"));
    assert.ok(DEFAULT_EXCLUDES.includes("openssl"));
  });

  test("cross-field: run-as names a user; empty include; init needs no runtime.node", () => {
    const a = write("r.yaml", "packages: { include: [x1] }\naccounts: { run-as: ghost }\n");
    assert.throws(() => loadSpec(a), /accounts\.run-as: "ghost" is not a user/);
    const b = write("i.yaml", "packages: { include: [x1] }\ninit: { main: [/x] }\n");
    const withInit = loadSpec(b);
    assert.deepEqual(withInit.init, { main: ["/x"] });
    assert.equal(withInit.runtime.node, undefined);
    const c = write("e.yaml", "name: e\n");
    assert.throws(() => loadSpec(c), /packages\.include: no packages/);
  });

  test("init: where each field is written (the builder's messages about it carry the line)", () => {
    const p = write(
      "w.yaml",
      [
        "name: w", // 1
        "packages: { include: [x1] }", // 2
        "init:", // 3
        "  tasks:", // 4
        "    - { ensure-dir: /a, writable: true }", // 5
        "    - run: [/bin/x, -v]", // 6
        "      when-missing: /b", // 7
        "  main: [/app]", // 8
        "  health:", // 9
        "    port: 8080", // 10
        "",
      ].join("\n"),
    );
    const w = loadSpec(p).initWhere;
    assert.ok(w);
    assert.equal(w.file, p);
    assert.equal(w.line, 3);
    const at = (f: string) => lineOfField(w.lines, f);
    assert.equal(at("tasks"), 4);
    assert.equal(at("tasks[0]"), 5);
    assert.equal(at("tasks[0].ensure-dir"), 5);
    assert.equal(at("tasks[1].run[1]"), 6);
    assert.equal(at("tasks[1].when-missing"), 7);
    assert.equal(at("main[0]"), 8);
    assert.equal(at("health.port"), 10);
    assert.equal(at("health.ready.tcp"), 9, "a missing field: the nearest one above it");
    assert.equal(at("shutdown.grace"), undefined, "nothing above it: the caller uses the init: line");
    // a spec extending this one keeps the lines of the file that has the init section
    const child = write("w-child.yaml", "extends: ./w.yaml\nname: child\n");
    assert.deepEqual(loadSpec(child).initWhere, w);
  });

  test("with init:, a preset's entrypoint and healthcheck give way; a spec file's stay", () => {
    const noInit = loadSpec(write("n1.yaml", "preset: node\n"));
    assert.deepEqual(noInit.config.entrypoint, ["/usr/local/bin/node"]);
    const init = loadSpec(write("n2.yaml", "preset: node\ninit: { main: [/usr/local/bin/node, /app.js] }\n"));
    assert.equal(init.config.entrypoint, undefined);
    assert.equal(init.config.healthcheck, undefined);
    const own = loadSpec(
      write(
        "n3.yaml",
        "preset: node\ninit: { main: [/x] }\nconfig:\n  entrypoint: [/usr/bin/tini-static, --, /usr/bin/shellfree-init]\n  healthcheck: { test: [/x, probe] }\n",
      ),
    );
    assert.deepEqual(own.config.entrypoint, ["/usr/bin/tini-static", "--", "/usr/bin/shellfree-init"]);
    assert.deepEqual(own.config.healthcheck?.test, ["/x", "probe"]);
    const inherited = loadSpec(write("n4.yaml", "extends: ./n3.yaml\n"));
    assert.deepEqual(inherited.config.entrypoint, own.config.entrypoint);
  });

  test("resolution hash changes with packages, not with config", () => {
    const a = write("h1.yaml", "packages: { include: [x1] }\nconfig: { env: { A: '1' } }\n");
    const b = write("h2.yaml", "packages: { include: [x1] }\nconfig: { env: { A: '2' } }\n");
    const c = write("h3.yaml", "packages: { include: [x1, x2] }\n");
    assert.equal(resolutionInputsHash(loadSpec(a)), resolutionInputsHash(loadSpec(b)));
    assert.notEqual(resolutionInputsHash(loadSpec(a)), resolutionInputsHash(loadSpec(c)));
  });
});
