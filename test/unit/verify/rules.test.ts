import assert from "node:assert/strict";
import { test } from "node:test";
import type { ImageFs } from "../../../src/verify/image-fs.ts";
import { defaultPolicy } from "../../../src/verify/policy.ts";
import type { Finding, ImageConfigJson } from "../../../src/verify/rules/types.ts";
import { runRules } from "../../../src/verify/verify.ts";
import { type E, fsOf, makeElf, SHELL_STRINGS } from "./helpers.ts";

const NOW = new Date("2026-11-23T00:00:00Z");
const LD = "/lib64/ld-linux-x86-64.so.2";
const LIBDIR = "/usr/lib/x86_64-linux-gnu";
const libc = makeElf({ soname: "libc.so.6", needed: ["ld-linux-x86-64.so.2"] });
const ld = makeElf({ soname: "ld-linux-x86-64.so.2" });
const prog = makeElf({ type: 2, interp: LD, needed: ["libc.so.6"] });

/** A minimal good image: merged /usr, libc, a program, passwd, os-release. */
function base(): E[] {
  return [
    { l: "/lib", target: "usr/lib" },
    { l: "/lib64", target: "usr/lib64" },
    { f: `${LIBDIR}/libc.so.6`, data: libc },
    { f: `${LIBDIR}/ld-linux-x86-64.so.2`, data: ld, mode: 0o755 },
    { l: "/usr/lib64/ld-linux-x86-64.so.2", target: `${LIBDIR}/ld-linux-x86-64.so.2` },
    { f: "/usr/bin/app", data: prog, mode: 0o755 },
    {
      f: "/etc/passwd",
      data: "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n",
    },
    { f: "/etc/group", data: "root:x:0:\nnonroot:x:65532:\n" },
    {
      f: "/usr/lib/os-release",
      data: 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nID=debian\nVERSION_ID="13"\n',
    },
    { l: "/etc/os-release", target: "../usr/lib/os-release" },
    { d: "/tmp", mode: 0o1777 },
  ];
}

function cfg(c: ImageConfigJson["config"] = {}): ImageConfigJson {
  return {
    architecture: "amd64",
    os: "linux",
    config: {
      User: "65532",
      Entrypoint: ["/usr/bin/app"],
      Healthcheck: { Test: ["CMD", "/usr/bin/app", "--health"] },
      ...c,
    },
  };
}

function run(fs: ImageFs, config: ImageConfigJson = cfg()): Finding[] {
  return runRules(fs, config, { now: NOW, policy: defaultPolicy() }).findings;
}

const of = (fs: Finding[], rule: string) => fs.filter((f) => f.rule === rule);

test("a clean image has no findings at all", async () => {
  assert.deepEqual(run(await fsOf(base())), []);
});

test("no-shell: by name, by symlink name, by ELF content (renamed), by hard link, by identical bytes", async () => {
  const dash = makeElf({ interp: LD, needed: ["libc.so.6"], payload: SHELL_STRINGS });
  const fs = await fsOf([
    ...base(),
    { f: "/usr/bin/dash", data: dash, mode: 0o755 },
    { l: "/usr/bin/sh", target: "dash" },
    { f: "/opt/renamed-copy", data: dash, mode: 0o755 },
    { h: "/opt/hardlink", target: "/usr/bin/dash" },
    { l: "/usr/bin/bash", target: "/nowhere" },
  ]);
  const f = of(run(fs), "no-shell");
  const paths = f.map((x) => x.path).sort();
  assert.deepEqual(paths, ["/opt/hardlink", "/opt/renamed-copy", "/usr/bin/dash", "/usr/bin/sh"]);
  assert.ok(f.every((x) => x.severity === "error" && x.hint.length > 0));
  assert.match(
    f.find((x) => x.path === "/opt/renamed-copy")?.message ?? "",
    /ELF content identifies it as a POSIX shell/,
  );
});

test("no-shell: a renamed copy without shell strings is still found by identical bytes / build-id", async () => {
  const sh = makeElf({
    interp: LD,
    needed: ["libc.so.6"],
    buildId: "feedface",
    payload: "nothing shell-like",
  });
  const other = makeElf({
    interp: LD,
    needed: ["libc.so.6"],
    buildId: "feedface",
    payload: "different bytes",
  });
  const fs = await fsOf([
    ...base(),
    { f: "/bin/busybox", data: sh, mode: 0o755 },
    { f: "/opt/bb", data: sh, mode: 0o755 },
    { f: "/opt/bb2", data: other, mode: 0o755 },
  ]);
  const f = of(run(fs), "no-shell");
  assert.deepEqual(f.map((x) => x.path).sort(), ["/bin/busybox", "/opt/bb", "/opt/bb2"]);
  assert.match(f.find((x) => x.path === "/opt/bb")?.message ?? "", /same content as shell \/bin\/busybox/);
  assert.match(f.find((x) => x.path === "/opt/bb2")?.message ?? "", /same build-id as shell \/bin\/busybox/);
});

test("unused-interpreter: by name and by content; used by entrypoint, healthcheck, init.json or a #! script", async () => {
  const py = makeElf({
    type: 3,
    interp: LD,
    needed: ["libc.so.6"],
    payload: "\0PYTHONDONTWRITEBYTECODE\0PYTHONSTARTUP\0PYTHONINSPECT\0PYTHONSAFEPATH\0",
  });
  const perl = makeElf({ type: 3, interp: LD, needed: ["libc.so.6"], payload: "\0PERL5LIB\0PERL5OPT\0" });
  const libpy = makeElf({
    soname: "libpython3.13.so.1.0",
    payload: "\0PYTHONDONTWRITEBYTECODE\0PYTHONSTARTUP\0PYTHONINSPECT\0PYTHONSAFEPATH\0",
  });
  const layers = (extra: E[] = []) => [
    ...base(),
    { f: "/usr/bin/python3.13", data: py, mode: 0o755 },
    { l: "/usr/bin/python3", target: "python3.13" },
    { f: "/usr/bin/perl", data: perl, mode: 0o755 },
    { h: "/usr/bin/perl5.40.1", target: "/usr/bin/perl" },
    { f: "/opt/renamed", data: perl, mode: 0o755 },
    { f: `${LIBDIR}/libpython3.13.so.1.0`, data: libpy },
    { f: "/usr/local/bin/python", data: '#!/bin/sh\nexec python3 "$@"\n', mode: 0o755 },
    ...extra,
  ];
  // nothing uses them: python once (its symlink is no second program), perl once (hard link
  // and renamed copy are the same program), the library and the wrapper script are none
  const none = of(run(await fsOf(layers())), "unused-interpreter");
  assert.deepEqual(
    none.map((f) => f.path),
    ["/opt/renamed", "/usr/bin/python3.13"],
  );
  assert.ok(none.every((f) => f.severity === "warning"));
  assert.match(
    none[0].message,
    /interpreter \/opt\/renamed \(perl\), also \/usr\/bin\/perl, \/usr\/bin\/perl5\.40\.1, is in the image but/,
  );
  // the entrypoint runs python through its symlink: only perl is left
  const ep = of(
    run(await fsOf(layers()), cfg({ Entrypoint: ["/usr/bin/python3", "-m", "app"] })),
    "unused-interpreter",
  );
  assert.deepEqual(
    ep.map((f) => f.path),
    ["/opt/renamed"],
  );
  // shellfree-init's main process and a healthcheck script's #! count too
  const init = of(
    run(
      await fsOf(
        layers([
          {
            f: "/etc/shellfree/init.json",
            data: JSON.stringify({ main: ["/usr/bin/python3", "-m", "app"] }),
          },
          { f: "/usr/local/bin/check", data: "#!/usr/bin/perl\nprint 1\n", mode: 0o755 },
        ]),
      ),
      cfg({ Entrypoint: ["/usr/bin/app"], Healthcheck: { Test: ["CMD", "/usr/local/bin/check"] } }),
    ),
    "unused-interpreter",
  );
  assert.deepEqual(init, []);
  // a base image (no command) is told at info level
  const b = of(
    run(await fsOf(layers()), cfg({ Entrypoint: undefined, Cmd: undefined, Healthcheck: undefined })),
    "unused-interpreter",
  );
  assert.equal(b.length, 2);
  assert.ok(b.every((f) => f.severity === "info" && /base image/.test(f.message)));
});

test("no-package-manager, no-setuid, world-writable", async () => {
  const fs = await fsOf([
    ...base(),
    { f: "/usr/bin/dpkg", data: prog, mode: 0o755 },
    { f: "/usr/local/bin/pip3", data: "#!/usr/bin/python3\n", mode: 0o755 },
    { f: "/usr/share/doc/apt", data: "not executable" },
    { f: "/usr/bin/su", data: prog, mode: 0o4755 },
    { f: "/usr/bin/wall", data: prog, mode: 0o2755 },
    { d: "/var/shared", mode: 0o777 },
    { f: "/etc/writable", data: "x", mode: 0o666 },
    { f: "/tmp/scratch", data: "x", mode: 0o666 },
  ]);
  const all = run(fs);
  assert.deepEqual(
    of(all, "no-package-manager")
      .map((x) => x.path)
      .sort(),
    ["/usr/bin/dpkg", "/usr/local/bin/pip3"],
  );
  assert.deepEqual(
    of(all, "no-setuid").map((x) => x.message),
    ["setuid file /usr/bin/su (mode 04755, owner 0:0)", "setgid file /usr/bin/wall (mode 02755, owner 0:0)"],
  );
  assert.deepEqual(
    of(all, "world-writable")
      .map((x) => x.path)
      .sort(),
    ["/etc/writable", "/var/shared"],
  );
});

test("non-root-user: empty, 0, root, 0:0 and unknown names fail; numeric and passwd names pass", async () => {
  const fs = await fsOf(base());
  for (const u of ["", "0", "root", "0:0", "root:root"]) {
    const f = of(run(fs, cfg({ User: u })), "non-root-user");
    assert.equal(f.length, 1, `User "${u}" must fail`);
    assert.equal(f[0].field, "config.User");
  }
  assert.match(
    of(run(fs, cfg({ User: "ghost" })), "non-root-user")[0]?.message ?? "",
    /not in the image's \/etc\/passwd/,
  );
  for (const u of ["65532", "nonroot", "65532:65532", "1234:0", "nonroot:nonroot"]) {
    assert.deepEqual(of(run(fs, cfg({ User: u })), "non-root-user"), [], `User "${u}" passes`);
  }
});

test("entrypoint: exec form, PATH lookup with the image's PATH, symlinks, missing, not executable, shell form, scripts", async () => {
  const fs = await fsOf([
    ...base(),
    { l: "/usr/local/bin/run", target: "/usr/bin/app" },
    { f: "/usr/bin/noexec", data: prog, mode: 0o644 },
    { f: "/usr/bin/start.sh", data: "#!/bin/sh\nexec app\n", mode: 0o755 },
    { f: "/usr/bin/py", data: "#!/usr/bin/env python3\n", mode: 0o755 },
  ]);
  const e = (c: ImageConfigJson["config"]) => of(run(fs, cfg(c)), "entrypoint");
  assert.deepEqual(e({ Entrypoint: ["app"], Env: ["PATH=/usr/local/bin:/usr/bin"] }), []);
  assert.deepEqual(e({ Entrypoint: ["run"], Env: ["PATH=/usr/local/bin"] }), [], "symlink in PATH resolves");
  assert.match(
    e({ Entrypoint: ["app"], Env: ["PATH=/opt/bin"] })[0]?.message ?? "",
    /"app" not found .*looked at \/opt\/bin\/app/,
  );
  assert.match(e({ Entrypoint: ["/usr/bin/noexec"] })[0]?.message ?? "", /not executable by UID 65532/);
  assert.ok(e({ Entrypoint: ["/bin/sh", "-c", "app"] }).some((x) => /shell form/.test(x.message)));
  assert.ok(
    e({ Entrypoint: ["/usr/bin/start.sh"] }).some((x) =>
      /script for \/bin\/sh, which is not in the image/.test(x.message),
    ),
  );
  assert.ok(e({ Entrypoint: ["/usr/bin/py"] }).some((x) => /script for python3/.test(x.message)));
  const baseImage = e({ Entrypoint: [], Cmd: [] });
  assert.equal(baseImage[0]?.severity, "info", "no command at all: a base image");
  const strict = defaultPolicy();
  strict.rules.entrypoint.options["allow-base-image"] = false;
  const f = runRules(fs, cfg({ Entrypoint: [], Cmd: [] }), { now: NOW, policy: strict }).findings.filter(
    (x) => x.rule === "entrypoint",
  );
  assert.match(f[0]?.message ?? "", /nothing to run/);
  assert.equal(f[0]?.severity, "error");
  assert.deepEqual(e({ Entrypoint: null, Cmd: ["/usr/bin/app"] }), [], "Cmd alone is fine");
});

test("healthcheck: missing, NONE, CMD-SHELL fail; CMD with an existing program passes", async () => {
  const fs = await fsOf(base());
  const h = (t: string[] | undefined) =>
    of(run(fs, cfg({ Healthcheck: t ? { Test: t } : undefined })), "healthcheck");
  assert.match(h(undefined)[0]?.message ?? "", /no HEALTHCHECK/);
  assert.equal(h(undefined)[0]?.severity, "error");
  const baseImage = of(run(fs, cfg({ Entrypoint: null, Cmd: null, Healthcheck: undefined })), "healthcheck");
  assert.equal(baseImage[0]?.severity, "info", "a base image needs no HEALTHCHECK");
  assert.match(h(["NONE"])[0]?.message ?? "", /disabled/);
  assert.match(h(["CMD-SHELL", "curl -f http://localhost/"])[0]?.message ?? "", /shell form \(CMD-SHELL/);
  assert.match(h(["CMD", "/usr/bin/curl"])[0]?.message ?? "", /not found/);
  assert.deepEqual(h(["CMD", "/usr/bin/app", "probe"]), []);
});

test("elf-deps: missing library, missing interpreter, RUNPATH with $ORIGIN, LD_LIBRARY_PATH, ld.so.conf needs a cache, wrong class", async () => {
  const needsFoo = makeElf({
    type: 2,
    interp: LD,
    needed: ["libfoo.so.1", "libc.so.6"],
    runpath: "$ORIGIN/../lib",
  });
  const foo = makeElf({ soname: "libfoo.so.1" });
  const foo32 = makeElf({ bits: 32, machine: 3, soname: "libfoo.so.1" });
  const needsBar = makeElf({ type: 2, interp: LD, needed: ["libbar.so.2"] });
  const bar = makeElf({ soname: "libbar.so.2" });
  const badInterp = makeElf({ type: 2, interp: "/lib/ld-musl-x86_64.so.1", needed: [] });
  const fs = await fsOf([
    ...base(),
    { f: "/opt/app/bin/tool", data: needsFoo, mode: 0o755 },
    { f: "/opt/app/lib/libfoo.so.1", data: foo },
    { f: "/opt/other/tool", data: needsFoo, mode: 0o755 },
    { f: "/opt/other/lib/libfoo.so.1", data: foo32 },
    { f: "/usr/bin/needs-bar", data: needsBar, mode: 0o755 },
    { f: "/opt/bar/libbar.so.2", data: bar },
    { f: "/etc/ld.so.conf", data: "include /etc/ld.so.conf.d/*.conf\n" },
    { f: "/etc/ld.so.conf.d/bar.conf", data: "# bar\n/opt/bar\n" },
    { f: "/usr/bin/musl-prog", data: badInterp, mode: 0o755 },
  ]);
  const msgs = of(run(fs), "elf-deps")
    .map((x) => x.message)
    .sort();
  assert.deepEqual(msgs, [
    "/opt/other/tool: needs libfoo.so.1, which is not in the image",
    "/usr/bin/musl-prog: ELF interpreter /lib/ld-musl-x86_64.so.1 is not in the image (/usr/lib/ld-musl-x86_64.so.1 missing)",
    "/usr/bin/needs-bar: needs libbar.so.2, which is only in /opt/bar (an /etc/ld.so.conf dir), but there is no /etc/ld.so.cache so ld.so will not look there",
  ]);
  // with a cache, ld.so.conf dirs count; LD_LIBRARY_PATH from the image env counts too
  const withCache = await fsOf([
    ...base(),
    { f: "/usr/bin/needs-bar", data: needsBar, mode: 0o755 },
    { f: "/opt/bar/libbar.so.2", data: bar },
    { f: "/etc/ld.so.conf", data: "/opt/bar\n" },
    { f: "/etc/ld.so.cache", data: "cache" },
  ]);
  assert.deepEqual(of(run(withCache), "elf-deps"), []);
  const viaEnv = await fsOf([
    ...base(),
    { f: "/usr/bin/needs-bar", data: needsBar, mode: 0o755 },
    { f: "/opt/bar/libbar.so.2", data: bar },
  ]);
  assert.equal(of(run(viaEnv), "elf-deps").length, 1);
  assert.deepEqual(of(run(viaEnv, cfg({ Env: ["LD_LIBRARY_PATH=/opt/bar"] })), "elf-deps"), []);
});

test("script-interpreter warns about dead scripts; secrets; os-release EOL; size budget; wasted bytes", async () => {
  const fs = await fsOf(
    [
      ...base(),
      { f: "/usr/lib/squid/helper", data: "#!/bin/sh\nexit 0\n", mode: 0o755 },
      { f: "/usr/lib/x/data.sh", data: "#!/bin/sh\n", mode: 0o644 },
      { f: "/app/.env", data: "DB_PASSWORD=hunter2\n" },
      { f: "/app/config.yaml", data: "aws_access_key_id: AKIAABCDEFGHIJKLMNOP\n" },
      { f: "/usr/share/doc/pkg/example.key", data: "-----BEGIN PRIVATE KEY-----\n" },
      { f: "/big", data: Buffer.alloc(3 * 1024 * 1024) },
    ],
    [{ f: "/.wh.big" }],
  );
  const all = run(fs);
  const si = of(all, "script-interpreter");
  assert.deepEqual(
    si.map((x) => [x.path, x.severity]),
    [["/usr/lib/squid/helper", "warning"]],
  );
  assert.deepEqual(
    of(all, "secrets")
      .map((x) => x.path)
      .sort(),
    ["/app/.env", "/app/config.yaml"],
    "doc paths are allowed by default",
  );
  assert.match(
    of(all, "secrets").find((x) => x.path === "/app/config.yaml")?.message ?? "",
    /AWS access key id at line 1/,
  );
  const w = of(all, "wasted-bytes");
  assert.equal(w[0]?.severity, "warning");
  assert.match(w[0]?.message ?? "", /3\.0 MiB in 1 file/);
  assert.match(w[1]?.message ?? "", /\/big: 3\.0 MiB from layer 0 deleted in layer 1/);
  // os-release
  const old = await fsOf([{ f: "/etc/os-release", data: "ID=debian\nVERSION_ID=10\n" }]);
  assert.match(of(run(old), "os-release")[0]?.message ?? "", /Debian 10 \(buster\) reached its end of life/);
  const d11 = await fsOf([{ f: "/etc/os-release", data: "ID=debian\nVERSION_ID=11\n" }]);
  assert.match(
    of(run(d11), "os-release")[0]?.message ?? "",
    /Debian 11 \(bullseye\) reached its end of life on about 2026-08-31/,
  );
  const d12 = await fsOf([{ f: "/etc/os-release", data: 'ID=debian\nVERSION_ID="12"\n' }]);
  assert.deepEqual(of(run(d12), "os-release"), [], "Debian 12 is supported at the test date");
  const soon = runRules(d12, cfg(), { now: new Date("2028-03-01T00:00:00Z") }).findings.filter(
    (f) => f.rule === "os-release",
  );
  assert.equal(soon[0]?.severity, "warning", "within 180 days of the end of Debian 12");
  const none = await fsOf([{ f: "/etc/hostname", data: "x" }]);
  assert.match(of(run(none), "os-release")[0]?.message ?? "", /missing/);
  const sid = await fsOf([
    { f: "/etc/os-release", data: 'ID=debian\nPRETTY_NAME="Debian GNU/Linux forky/sid"\n' },
  ]);
  assert.equal(of(run(sid), "os-release")[0]?.severity, "info");
});

test("size-budget: default 200 MiB passes a small image; a policy budget below its size fails", async () => {
  const fs = await fsOf([...base(), { f: "/blob", data: Buffer.alloc(200_000) }]);
  assert.deepEqual(of(run(fs), "size-budget"), []);
  const p = defaultPolicy();
  p.rules["size-budget"].options.max = "100KB";
  const f = runRules(fs, cfg(), { now: NOW, policy: p }).findings.filter((x) => x.rule === "size-budget");
  assert.equal(f.length, 1);
  assert.match(f[0].message, /over the budget of 97\.7 KiB/);
});
