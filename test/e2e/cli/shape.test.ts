/**
 * The CLI shape skopeo and crane users know (issue 18): `pull SRC DEST` and `build [SPEC]` as
 * positionals (with -o / -f kept), skopeo's `--tls-verify=false` against a real docker-registry
 * over HTTPS with a self-signed certificate, errors as JSON under `--json`, no colour (NO_COLOR,
 * a TTY), and `shellfree completion bash|zsh|fish` run by the real shells.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, shellfree as runCli } from "../../helpers/cli.ts";
import { makeImage, TINI } from "../../helpers/images.ts";
import { startRegistry, type TestRegistry } from "../../helpers/registry.ts";
import { type RunResult, runCommand } from "../../helpers/run.ts";

const shellfree = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  runCli(args, { env: { SHELLFREE_RETRY_BASE_MS: "20", ...env }, timeoutMs: 120_000 });
const run = (cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> =>
  runCommand(cmd, args, { allowFail: true, env: { ...process.env, ...env }, timeoutMs: 120_000 });

/** an SGR (colour) escape sequence */
const SGR = /\x1b\[[0-9;]*m/;

describe("positionals: pull SRC DEST, build [SPEC]", () => {
  let reg: TestRegistry;
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "shellfree-shape-"));
    reg = await startRegistry();
    const img = await makeImage(join(tmp, "img"), {
      files: [{ path: "/usr/bin/tini-static", hostPath: TINI, mode: 0o755 }],
    });
    const p = await shellfree(["push", img.ref, `${reg.host}/shape/app:v1`]);
    assert.equal(p.code, 0, p.stderr);
  });
  after(async () => {
    await reg?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  test("pull SRC DEST writes DEST; -o DEST the same layout; both only when they agree", async () => {
    const a = join(tmp, "a");
    const b = join(tmp, "b");
    const r1 = await shellfree(["pull", `${reg.host}/shape/app:v1`, `oci:${a}:v1`]);
    assert.equal(r1.code, 0, r1.stderr);
    const r2 = await shellfree(["pull", `${reg.host}/shape/app:v1`, "-o", `oci:${b}:v1`]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.deepEqual(JSON.parse(await readFile(join(a, "index.json"), "utf8")), {
      ...JSON.parse(await readFile(join(b, "index.json"), "utf8")),
    });
    assert.match(r1.stdout, new RegExp(`^pulled sha256:[0-9a-f]{64} into ${a} \\(tag v1\\)`));
    const same = await shellfree(["pull", `${reg.host}/shape/app:v1`, `oci:${a}:v1`, "-o", `oci:${a}:v1`]);
    assert.equal(same.code, 0, same.stderr);
    const twice = await shellfree(["pull", `${reg.host}/shape/app:v1`, `oci:${a}:v2`, "-o", `oci:${b}:v2`]);
    assert.equal(twice.code, 2);
    assert.equal(
      twice.stderr.split("\n")[0],
      `shellfree: DEST given twice: "oci:${a}:v2" and --output "oci:${b}:v2"`,
    );
    const none = await shellfree(["pull", `${reg.host}/shape/app:v1`]);
    assert.equal(none.code, 2);
    assert.equal(none.stderr.split("\n")[0], "shellfree: missing DEST");
  });

  test("inspect reads a registry (docker:// and registry:) as it reads the pulled layout", async () => {
    const local = join(tmp, "for-inspect");
    const p = await shellfree(["pull", `${reg.host}/shape/app:v1`, `oci:${local}:v1`]);
    assert.equal(p.code, 0, p.stderr);
    const want = await shellfree(["inspect", `oci:${local}:v1`, "--json"]);
    assert.equal(want.code, 0, want.stderr);
    for (const ref of [`docker://${reg.host}/shape/app:v1`, `registry:${reg.host}/shape/app:v1`]) {
      const r = await shellfree(["inspect", ref, "--json"]);
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout);
      assert.equal(j.ref, ref);
      assert.deepEqual(j.images, JSON.parse(want.stdout).images);
    }
    const text = await shellfree(["inspect", `docker://${reg.host}/shape/app:v1`]);
    assert.match(
      text.stdout,
      new RegExp(
        `^docker://${reg.host.replace(/[.]/g, "\\.")}/shape/app:v1\n\nlinux/amd64  manifest sha256:`,
      ),
    );
    const missing = await shellfree(["inspect", `docker://${reg.host}/shape/none:v1`]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^shellfree: .*shape\/none.*$/m);
    assert.doesNotMatch(missing.stderr, /\n\s+at /);
  });

  test("push reads an oci-archive as the layout it holds (same digest; the temporary layout removed)", async () => {
    const layout = join(tmp, "for-archive");
    const p = await shellfree(["pull", `${reg.host}/shape/app:v1`, `oci:${layout}:v1`]);
    assert.equal(p.code, 0, p.stderr);
    const archive = join(tmp, "app.tar");
    const tar = await run("tar", ["-C", layout, "-cf", archive, "."]);
    assert.equal(tar.code, 0, tar.stderr);
    const fromDir = await shellfree(["push", `oci:${layout}:v1`, `${reg.host}/shape/dir:v1`, "--json"]);
    assert.equal(fromDir.code, 0, fromDir.stderr);
    const fromArchive = await shellfree([
      "push",
      `oci-archive:${archive}:v1`,
      `${reg.host}/shape/archive:v1`,
      "--json",
    ]);
    assert.equal(fromArchive.code, 0, fromArchive.stderr);
    assert.equal(JSON.parse(fromArchive.stdout).digest, JSON.parse(fromDir.stdout).digest);
    // skopeo reads back what was pushed
    const sk = await run("skopeo", [
      "inspect",
      "--tls-verify=false",
      "--raw",
      `docker://${reg.host}/shape/archive:v1`,
    ]);
    assert.equal(sk.code, 0, sk.stderr);
    // the temporary layout is gone
    const left = (await readdir(tmpdir())).filter((n) => n.startsWith("shellfree-push-"));
    assert.deepEqual(left, []);
    const notArchive = await shellfree([
      "push",
      `oci-archive:${join(tmp, "nothing.tar")}:v1`,
      `${reg.host}/shape/x:v1`,
    ]);
    assert.equal(notArchive.code, 1);
    assert.match(notArchive.stderr, /^shellfree: cannot open .*nothing\.tar: no such file or directory$/m);
  });

  test("push reads a docker-archive (skopeo's): the same config and layer contents, gzip layers", async () => {
    const layout = join(tmp, "for-docker-archive");
    const p = await shellfree(["pull", `${reg.host}/shape/app:v1`, `oci:${layout}:v1`]);
    assert.equal(p.code, 0, p.stderr);
    const archive = join(tmp, "app-docker.tar");
    const sk = await run("skopeo", ["copy", `oci:${layout}:v1`, `docker-archive:${archive}:shape/app:v1`]);
    assert.equal(sk.code, 0, sk.stderr);
    const r = await shellfree([
      "push",
      `docker-archive:${archive}`,
      `${reg.host}/shape/from-docker:v1`,
      "--json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const local = JSON.parse((await shellfree(["inspect", `oci:${layout}:v1`, "--json"])).stdout).images[0];
    const pushed = await shellfree(["inspect", `docker://${reg.host}/shape/from-docker:v1`, "--json"]);
    assert.equal(pushed.code, 0, pushed.stderr);
    const remote = JSON.parse(pushed.stdout).images[0];
    assert.equal(remote.configDigest, local.configDigest);
    assert.ok(
      local.layers.length > 0 &&
        local.layers.every((l: { diffId?: string }) => /^sha256:/.test(l.diffId ?? "")),
    );
    assert.deepEqual(
      remote.layers.map((l: { diffId?: string }) => l.diffId),
      local.layers.map((l: { diffId?: string }) => l.diffId),
    );
    assert.ok(remote.layers.every((l: { mediaType: string }) => l.mediaType.endsWith("tar.gzip")));
    // skopeo reads it back from the registry
    const back = await run("skopeo", [
      "inspect",
      "--tls-verify=false",
      `docker://${reg.host}/shape/from-docker:v1`,
    ]);
    assert.equal(back.code, 0, back.stderr);
  });

  test("build SPEC reads that spec (as -f SPEC); both only when they agree", async () => {
    const spec = join(tmp, "nowhere", "app.yaml");
    const out = `oci:${join(tmp, "built")}`;
    const pos = await shellfree(["build", spec, "-o", out]);
    const flag = await shellfree(["build", "-f", spec, "-o", out]);
    assert.equal(pos.code, 1);
    assert.equal(pos.stderr.split("\n")[0], `shellfree: cannot read spec ${spec}: no such file or directory`);
    assert.equal(pos.stderr, flag.stderr);
    const twice = await shellfree(["build", spec, "-f", join(tmp, "other.yaml"), "-o", out]);
    assert.equal(twice.code, 2);
    assert.match(twice.stderr, /^shellfree: SPEC given twice: /);
    const preset = await shellfree(["build", spec, "--preset", "static", "-o", out]);
    assert.equal(preset.code, 2);
    assert.match(preset.stderr, /^shellfree: give either a spec \(SPEC or --spec\) or --preset, not both/);
  });
});

describe("--tls-verify as in skopeo", () => {
  let reg: TestRegistry;
  let tmp: string;
  let hosts: string;
  const NAME = "shellfree-tls.test";
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "shellfree-shape-tls-"));
    reg = await startRegistry({ tls: true });
    hosts = join(tmp, "hosts");
    await writeFile(hosts, `${await readFile("/etc/hosts", "utf8")}\n127.0.0.1 ${NAME}\n`);
  });
  after(async () => {
    await reg?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  /** shellfree with NAME resolving to 127.0.0.1: /etc/hosts replaced in a private mount namespace */
  const named = (args: string[]) =>
    run("unshare", [
      "--mount",
      "--propagation",
      "private",
      "bash",
      "-c",
      'mount --bind "$1" /etc/hosts && shift && exec "$@"',
      "x",
      hosts,
      process.execPath,
      CLI,
      ...args,
    ]);

  test("a registry by a non-local name with a self-signed certificate: refused, --tls-verify=false takes it", async () => {
    assert.equal(process.getuid?.(), 0, "this test runs as root (unshare --mount)");
    const port = reg.host.split(":")[1];
    const img = await makeImage(join(tmp, "img"), {
      files: [{ path: "/usr/bin/tini-static", hostPath: TINI, mode: 0o755 }],
    });
    const dest = `${NAME}:${port}/tls/app:v1`;
    const strict = await named(["push", img.ref, dest]);
    assert.equal(strict.code, 1, strict.stderr);
    assert.match(strict.stderr, /TLS: self[- ]signed certificate/);
    // before the positionals, as skopeo users write it: the value never takes the next argument
    const off = await named(["push", "--tls-verify=false", img.ref, dest]);
    assert.equal(off.code, 0, off.stderr);
    const pulled = await named(["pull", "--tls-verify=false", dest, `oci:${join(tmp, "back")}:v1`]);
    assert.equal(pulled.code, 0, pulled.stderr);
    const insecure = await named(["pull", "--insecure", dest, `oci:${join(tmp, "back2")}:v1`]);
    assert.equal(insecure.code, 0, insecure.stderr);
    // bare --tls-verify: checks even for 127.0.0.1, and does not swallow SRC
    const on = await shellfree(["pull", "--tls-verify", `${reg.host}/tls/app:v1`, `oci:${join(tmp, "b3")}`]);
    assert.equal(on.code, 1);
    assert.match(on.stderr, /TLS: self[- ]signed certificate/);
    const bad = await shellfree(["pull", "--tls-verify=maybe", dest, `oci:${join(tmp, "b4")}`]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.split("\n")[0], 'shellfree: --tls-verify takes true or false, got "maybe"');
    const both = await shellfree(["pull", "--tls-verify=true", "--insecure", dest, `oci:${join(tmp, "b5")}`]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--insecure and --tls-verify contradict each other/);
  });
});

describe("-o/--output is where a command writes, in every command", () => {
  test("build, pull, fetch, debian extract, verify and test document -o, --output; --out stays an alias", async () => {
    for (const cmd of [["build"], ["pull"], ["fetch"], ["debian", "extract"], ["verify"], ["test"]]) {
      const h = await shellfree([...cmd, "--help"]);
      assert.equal(h.code, 0, h.stderr);
      assert.match(h.stdout, /^\s+-o, --output <[^>]+>/m, cmd.join(" "));
    }
    const tmp = await mkdtemp(join(tmpdir(), "shellfree-shape-out-"));
    try {
      const root = join(tmp, "pkg");
      await mkdir(join(root, "DEBIAN"), { recursive: true });
      await mkdir(join(root, "usr/share/shape"), { recursive: true });
      await writeFile(join(root, "usr/share/shape/hello"), "hello\n");
      await writeFile(
        join(root, "DEBIAN/control"),
        "Package: shape-test\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@example.org>\nDescription: t\n",
      );
      const deb = join(tmp, "shape-test.deb");
      const b = await run("dpkg-deb", ["--root-owner-group", "-Zxz", "--build", root, deb]);
      assert.equal(b.code, 0, b.stderr);
      const o = await shellfree(["debian", "extract", deb, "-o", join(tmp, "a"), "--json"]);
      const out = await shellfree(["debian", "extract", deb, "--out", join(tmp, "b"), "--json"]);
      assert.equal(o.code, 0, o.stderr);
      assert.equal(out.code, 0, out.stderr);
      assert.equal(await readFile(join(tmp, "a/usr/share/shape/hello"), "utf8"), "hello\n");
      assert.equal(JSON.parse(o.stdout).entries, JSON.parse(out.stdout).entries);
      const both = await shellfree(["debian", "extract", deb, "-o", join(tmp, "c"), "--out", join(tmp, "d")]);
      assert.equal(both.code, 2);
      assert.equal(both.stderr.split("\n")[0], "shellfree: --output and --out name different places");
      const none = await shellfree(["debian", "extract", deb]);
      assert.equal(none.code, 2);
      assert.equal(none.stderr.split("\n")[0], "shellfree: missing -o/--output");
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});

describe("--json errors, no colour", () => {
  test("under --json an error is a JSON document on stdout (the line stays on stderr)", async () => {
    const missing = join(tmpdir(), `shellfree-shape-missing-${process.pid}`);
    const r = await shellfree(["inspect", `oci:${missing}`, "--json"]);
    assert.equal(r.code, 1);
    const j = JSON.parse(r.stdout);
    assert.equal(j.error.code, "E_LAYOUT");
    assert.equal(j.error.exitCode, 1);
    assert.match(j.error.message, new RegExp(`^${missing} is not an OCI image layout`));
    assert.equal(r.stderr.split("\n")[0], `shellfree: ${j.error.message}`);
    // a usage error commander reports
    const u = await shellfree(["pull", "--json", "--no-such-flag", "127.0.0.1:1/a:b", "oci:/x"]);
    assert.equal(u.code, 2);
    assert.deepEqual(JSON.parse(u.stdout), {
      error: { code: "E_USAGE", message: "unknown option '--no-such-flag'", exitCode: 2 },
    });
    // one of ours, with its hint
    const h = await shellfree(["pull", "127.0.0.1:1/a:b", "--json"]);
    assert.deepEqual(JSON.parse(h.stdout), {
      error: {
        code: "E_USAGE",
        message: "missing DEST",
        hint: "give DEST as an argument or with --output",
        exitCode: 2,
      },
    });
    // without --json, stdout stays empty
    const plain = await shellfree(["inspect", `oci:${missing}`]);
    assert.equal(plain.code, 1);
    assert.equal(plain.stdout, "");
    for (const x of [r, u, h, plain]) assert.doesNotMatch(x.stdout + x.stderr, SGR);
  });

  test("no colour on a TTY with NO_COLOR, nor without a TTY", async () => {
    // `script` gives the command a pseudo-terminal
    const cmd = `${process.execPath} ${CLI} inspect oci:/nonexistent-shape; ${process.execPath} ${CLI} build --help`;
    const tty = await run("script", ["-qec", cmd, "/dev/null"], { NO_COLOR: "1", TERM: "xterm-256color" });
    assert.match(tty.stdout, /shellfree: \/nonexistent-shape is not an OCI image layout/);
    assert.match(tty.stdout, /Usage: shellfree build/);
    assert.doesNotMatch(tty.stdout, SGR);
    const pipe = await shellfree(["build", "--help"], { FORCE_COLOR: "1" });
    assert.doesNotMatch(pipe.stdout + pipe.stderr, SGR);
  });
});

describe("shellfree completion bash|zsh|fish, run by the shells", () => {
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "shellfree-shape-completion-"));
    await mkdir(join(tmp, "bin"));
    await writeFile(join(tmp, "bin", "shellfree"), `#!/bin/sh\nexec ${process.execPath} ${CLI} "$@"\n`, {
      mode: 0o755,
    });
    for (const shell of ["bash", "zsh", "fish"]) {
      const r = await shellfree(["completion", shell]);
      assert.equal(r.code, 0, r.stderr);
      await writeFile(join(tmp, `c.${shell}`), r.stdout);
    }
    await writeFile(join(tmp, "spec-for-completion.yaml"), "");
  });
  after(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  test("bash: commands, subcommands, options, option choices, argument choices, files", async () => {
    const script = [
      `source ${join(tmp, "c.bash")}`,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a bash array expansion
      't() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _shellfree; echo "${COMPREPLY[*]}"; }',
      "t shellfree bu",
      "t shellfree debian ''",
      "t shellfree build --comp",
      "t shellfree build --compression ''",
      "t shellfree -q pull --tls-verify=false --js",
      "t shellfree completion ''",
      "t shellfree build -o x spec-for-comp",
      "t shellfree verify --fo",
    ].join("\n");
    const r = await runCommand("bash", ["-c", script], { allowFail: true, cwd: tmp });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trimEnd().split("\n"), [
      "build",
      "extract version-compare",
      "--compression",
      "gzip zstd",
      "--json",
      "bash zsh fish",
      "spec-for-completion.yaml",
      "--format",
    ]);
  });

  test("fish: complete -C gives commands, subcommands with descriptions, options and choices", async () => {
    const r = await run("fish", [
      "--no-config",
      "-c",
      [
        `source ${join(tmp, "c.fish")}`,
        'complete -C "shellfree bu"',
        'complete -C "shellfree debian "',
        'complete -C "shellfree build --compression "',
        'complete -C "shellfree completion "',
        'complete -C "shellfree pull --tls"',
      ].join("; "),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.ok(lines.includes("build\tbuild an OCI image from a shellfree.yaml spec (or a preset)"), r.stdout);
    assert.ok(
      lines.some((l) => l.startsWith("extract\t")) && lines.some((l) => l.startsWith("version-compare\t")),
    );
    assert.ok(lines.some((l) => l.startsWith("gzip")) && lines.some((l) => l.startsWith("zstd")));
    assert.ok(
      ["bash", "zsh", "fish"].every((s) => lines.includes(s)),
      r.stdout,
    );
    assert.ok(
      lines.some((l) => l.startsWith("--tls-verify\t")),
      r.stdout,
    );
  });

  test("zsh: TAB in an interactive zsh completes a subcommand and an option's choice", async () => {
    const drive = (typed: string, inserted: string) => `
zmodload zsh/zpty
zpty z 'TERM=xterm zsh -f -i'
zpty -w z 'autoload -U compinit && compinit -u && source ${join(tmp, "c.zsh")}; PATH=${join(tmp, "bin")}:$PATH; p=RE; PS1="\${p}ADY> "'
# (TERM set as a user's terminal has it: without one zle redraws differently)
# wait for zle's prompt (its text is not in the echoed command line): from then on keys are
# zle's, not echoed by the terminal; and zle takes them in order, so once "#END" is echoed the
# TAB's completion is on the line
out=""
for i in {1..120}; do
  while zpty -r -t z line 2>/dev/null; do out+="$line"; done
  [[ $out == *'READY> '* ]] && break
  sleep 0.25
done
out=""
zpty -w -n z $'${typed}\\t'
# the completion may run programs, with the terminal back in cooked mode: keys typed meanwhile
# would be echoed by it. Type on once zle has inserted the completion, and only printable keys.
for i in {1..120}; do
  while zpty -r -t z line 2>/dev/null; do out+="$line"; done
  [[ $out == *'${inserted}'* ]] && break
  sleep 0.25
done
zpty -w -n z '#END'
for i in {1..120}; do
  while zpty -r -t z line 2>/dev/null; do out+="$line"; done
  [[ $out == *'#END'* ]] && break
  sleep 0.25
done
zpty -d z
print -r -- "$out"
`;
    // the line as the terminal shows it: escape sequences dropped, backspaces applied
    const screen = (raw: string) => {
      let out = "";
      for (const ch of raw.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").replace(/\r/g, "")) {
        out = ch === "\b" ? out.slice(0, -1) : out + ch;
      }
      return out;
    };
    const sub = await run("zsh", ["-f", "-c", drive("shellfree debian ex", "tract")]);
    assert.match(screen(sub.stdout), /shellfree debian extract #END/);
    const choice = await run("zsh", ["-f", "-c", drive("shellfree build --compression zs", "td")]);
    assert.match(screen(choice.stdout), /shellfree build --compression zstd #END/);
  });

  test("an unknown shell is a usage error", async () => {
    const r = await shellfree(["completion", "csh"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /'csh' is invalid for argument 'shell'\. Allowed choices are bash, zsh, fish\./);
  });
});
