import assert from "node:assert/strict";
import { chmod, chown, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import type { OciImageConfig } from "../../../src/formats/index.ts";
import { runcExitCode } from "../../../src/runtime/runc.ts";
import { parseStructure } from "../../../src/runtime/structure/config.ts";
import { goFileMode, isGoFileMode, lsToGoFileMode } from "../../../src/runtime/structure/go-semantics.ts";
import {
  expandEnv,
  matchOutput,
  permString,
  runFileContentTest,
  runFileExistenceTest,
  runLicenseTest,
  runMetadataTest,
} from "../../../src/runtime/structure/run.ts";

const DOC = `
schemaVersion: 2.0.0
globalEnvVars:
  - key: GREETING
    value: hello
commandTests:
  - name: version
    command: /usr/bin/tini-static
    args: ["--version"]
    expectedOutput: ["tini version \\\\d+"]
    excludedError: ["panic"]
    exitCode: 0
    setup: [["/bin/true"]]
fileExistenceTests:
  - name: tini
    path: /usr/bin/tini-static
    shouldExist: true
    permissions: -rwxr-xr-x
    uid: 0
    gid: 0
    isExecutableBy: any
fileContentTests:
  - name: passwd
    path: /etc/passwd
    expectedContents: ["^nonroot:"]
    excludedContents: ["/bin/sh"]
metadataTest:
  envVars:
    - key: PATH
      value: /usr/bin.*
      isRegex: true
  entrypoint: ["/usr/bin/tini-static", "--"]
  cmd: []
  exposedPorts: ["8080"]
  volumes: ["/data"]
  workdir: /app
  user: "65532"
  labels:
    - key: org.opencontainers.image.title
      value: demo
shellfree:
  checks: [shell-exec-fails, healthcheck]
  http: { path: /health }
`;

test("a container-structure-test 2.0.0 document parses with every test kind", () => {
  const s = parseStructure(parse(DOC), "t.yaml");
  assert.equal(s.commandTests?.[0].exitCode, 0);
  assert.deepEqual(s.commandTests?.[0].setup, [["/bin/true"]]);
  assert.equal(s.fileExistenceTests?.[0].isExecutableBy, "any");
  assert.deepEqual(s.fileContentTests?.[0].excludedContents, ["/bin/sh"]);
  assert.equal(s.metadataTest?.envVars?.[0].isRegex, true);
  assert.deepEqual(s.shellfree?.checks, ["shell-exec-fails", "healthcheck"]);
  assert.equal(s.source, "t.yaml");
  const skip = parseStructure(parse("schemaVersion: 2.0.0\nshellfree: { skip: [http] }\n"), "s.yaml");
  assert.deepEqual(skip.shellfree?.skip, ["http"]);
  assert.throws(
    () => parseStructure(parse("schemaVersion: 2.0.0\nshellfree: { skip: http }\n"), "s.yaml"),
    /s\.yaml: shellfree\.skip: expected a list of strings/,
  );
});

test("bad documents give one clear E_STRUCTURE error", () => {
  const cases: Array<[string, RegExp]> = [
    [
      "schemaVersion: 3.0.0\n",
      /unsupported schemaVersion "3\.0\.0" \(container-structure-test knows "1\.0\.0" and "2\.0\.0"\)/,
    ],
    ["commandTests: []\n", /schemaVersion is required/],
    ["schemaVersion: 2.0.0\ncommandTests:\n  - name: x\n", /commandTests\[0\] \(x\): command is required/],
    [
      "schemaVersion: 2.0.0\nfileExistenceTests:\n  - name: x\n    path: /a\n    permissions: rwx\n",
      /permissions "rwx" is not a Go FileMode string like "-rwxr-xr-x"/,
    ],
    [
      "schemaVersion: 2.0.0\ncommandTests:\n  - name: x\n    command: a\n    expectedOutput: ['(']\n",
      /invalid regex/,
    ],
    ["schemaVersion: 2.0.0\nbogus: 1\n", /unknown key "bogus"/],
    [
      "schemaVersion: 2.0.0\nfileExistenceTests:\n  - name: x\n    path: /a\n    mode: 1\n",
      /fileExistenceTests\[0\]: unknown key "mode" in schemaVersion 2\.0\.0/,
    ],
    [
      "schemaVersion: 2.0.0\nfileExistenceTests:\n  - name: tmp\n    path: /tmp\n    permissions: drwxrwxrwt\n",
      /permissions "drwxrwxrwt" is in ls form; container-structure-test compares Go's FileMode form: write "dtrwxrwxrwx"/,
    ],
    [
      "schemaVersion: 2.0.0\ncommandTests:\n  - name: x\n    command: a\n    expectedOutput: ['a(?=b)']\n",
      /invalid regex "a\(\?=b\)" \(RE2 syntax, as Go's regexp\)/,
    ],
    [
      "schemaVersion: 2.0.0\ncommandTests:\n  - name: x\n    command: a\n    envVars: [{key: A, value: ''}]\n",
      /every env var needs a non-empty key and value/,
    ],
    ["schemaVersion: 2.0.0\ncommandTests:\n  - command: a\n", /commandTests\[0\]: name is required/],
  ];
  for (const [y, re] of cases) {
    assert.throws(
      () => parseStructure(parse(y), "t.yaml"),
      (e: Error & { code?: string }) => e.code === "E_STRUCTURE" && re.test(e.message),
      y,
    );
  }
});

test("matchOutput: expected/excluded regexes with a readable message", () => {
  assert.deepEqual(matchOutput("stdout", "tini version 0.19.0\n", ["tini version \\d+"], ["error"]), []);
  const p = matchOutput("stdout", "something else\n", ["tini version"], ["else"]);
  assert.equal(p.length, 2);
  assert.match(
    p[0],
    /expected to match \/tini version\/, but it does not\. Actual stdout:\n\s+\| something else/,
  );
  assert.match(p[1], /must not match \/else\/, but it does \(at "else"\)/);
});

test("metadataTest: passes on a matching config, and a mismatch shows expected and actual", () => {
  const img: OciImageConfig = {
    architecture: "amd64",
    os: "linux",
    rootfs: { type: "layers", diff_ids: [] },
    config: {
      Entrypoint: ["/usr/bin/tini-static", "--"],
      Cmd: null,
      Env: ["PATH=/usr/bin:/bin"],
      ExposedPorts: { "8080/tcp": {} },
      Volumes: { "/data": {} },
      WorkingDir: "/app",
      User: "65532",
      Labels: { "org.opencontainers.image.title": "demo" },
    },
  };
  const s = parseStructure(parse(DOC), "t.yaml");
  const ok = runMetadataTest(img, s.metadataTest ?? {});
  assert.equal(ok.passed, true, ok.message);
  const bad = runMetadataTest(img, {
    entrypoint: ["/bin/sh"],
    user: "0",
    exposedPorts: ["9090"],
    envVars: [{ key: "TZ", value: "UTC" }],
  });
  assert.equal(bad.passed, false);
  assert.match(
    bad.message,
    /entrypoint\n\s+- expected \["\/bin\/sh"\]\n\s+\+ actual {3}\["\/usr\/bin\/tini-static","--"\]/,
  );
  assert.match(bad.message, /user\n\s+- expected "0"\n\s+\+ actual {3}"65532"/);
  assert.match(bad.message, /exposed port 9090: not exposed/);
  assert.match(bad.message, /env TZ: expected to be set to "UTC", but it is not set/);
});

test("file tests read an unpacked rootfs, following symlinks inside it", async () => {
  const root = await mkdtemp(join(tmpdir(), "sf-struct-"));
  try {
    await mkdir(join(root, "usr/bin"), { recursive: true });
    await mkdir(join(root, "etc"));
    await writeFile(join(root, "usr/bin/app"), "x");
    await chmod(join(root, "usr/bin/app"), 0o750);
    await chown(join(root, "usr/bin/app"), 0, 1000);
    await symlink("usr/bin", join(root, "bin"));
    await symlink("/usr/bin/app", join(root, "usr/bin/app-link"));
    await writeFile(
      join(root, "etc/passwd"),
      "root:x:0:0::/root:/sbin/nologin\nnonroot:x:65532:65532::/:/sbin/nologin\n",
    );
    const ok = await runFileExistenceTest(root, {
      name: "app",
      path: "/bin/app",
      permissions: "-rwxr-x---",
      uid: 0,
      gid: 1000,
      isExecutableBy: "group",
    });
    assert.equal(ok.passed, true, ok.message);
    const bad = await runFileExistenceTest(root, {
      name: "app",
      path: "/bin/app",
      permissions: "-rwxr-xr-x",
      isExecutableBy: "other",
    });
    assert.equal(bad.passed, false);
    assert.match(bad.message, /permissions\n\s+- expected -rwxr-xr-x\n\s+\+ actual {3}-rwxr-x---/);
    assert.match(bad.message, /executable by other/);
    assert.equal(
      (await runFileExistenceTest(root, { name: "no sh", path: "/bin/sh", shouldExist: false })).passed,
      true,
    );
    assert.equal((await runFileExistenceTest(root, { name: "sh", path: "/bin/sh" })).passed, false);
    assert.equal(
      (
        await runFileContentTest(root, {
          name: "passwd",
          path: "/etc/passwd",
          expectedContents: ["(?m)^nonroot:", "^root:"],
          excludedContents: ["/bin/sh", "^nonroot:"],
        })
      ).passed,
      true,
    );
    const c = await runFileContentTest(root, {
      name: "passwd",
      path: "/etc/passwd",
      expectedContents: ["^www-data:"],
    });
    assert.match(c.message, /contents of \/etc\/passwd: expected to match \/\^www-data:\//);
    // the symlink itself is examined, not its target (cst stats the path from the image's tar)
    const link = await runFileExistenceTest(root, {
      name: "link",
      path: "/bin/app-link",
      permissions: "Lrwxrwxrwx",
      uid: 0,
    });
    assert.equal(link.passed, true, link.message);
    const asTarget = await runFileExistenceTest(root, {
      name: "link",
      path: "/usr/bin/app-link",
      permissions: "-rwxr-x---",
    });
    assert.match(asTarget.message, /permissions\n\s+- expected -rwxr-x---\n\s+\+ actual {3}Lrwxrwxrwx/);
    // contents are read through the link, as cst's ReadFile does
    assert.equal(
      (await runFileContentTest(root, { name: "via link", path: "/bin/app-link", expectedContents: ["^x$"] }))
        .passed,
      true,
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test("permString and expandEnv", () => {
  assert.equal(permString(0o100755), "-rwxr-xr-x");
  assert.equal(permString(0o41777), "dtrwxrwxrwx");
  assert.equal(permString(0o104755), "urwxr-xr-x");
  assert.equal(permString(0o102644), "grw-r--r--");
  assert.equal(
    expandEnv(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: cst-style ${VAR} substitution is what is tested
      "/env/bin:$PATH:${HOME}/x:$UNSET",
      new Map([
        ["PATH", "/usr/bin"],
        ["HOME", "/root"],
      ]),
    ),
    "/env/bin:/usr/bin:/root/x:",
  );
});

test("schemaVersion 1.0.0: command is an argv list, no metadataTest, v1 file tests; invalid tests are refused", () => {
  const v1 = parseStructure(
    parse(`
schemaVersion: "1.0.0"
globalEnvVars: [{key: A, value: b}]
commandTests:
  - name: version
    command: ["/usr/bin/python3", "--version"]
    expectedOutput: ["Python 3"]
fileExistenceTests:
  - name: tmp
    path: /tmp
    permissions: dtrwxrwxrwx
fileContentTests:
  - name: os-release
    path: /etc/os-release
    expectedContents: ['(?m)^ID=debian$']
licenseTests:
  - debian: true
    files: ["/x"]
`),
    "v1.yaml",
  );
  assert.equal(v1.schemaVersion, "1.0.0");
  assert.equal(v1.commandTests?.[0].command, "/usr/bin/python3");
  assert.deepEqual(v1.commandTests?.[0].args, ["--version"]);
  assert.equal(v1.fileExistenceTests?.[0].shouldExist, true);
  assert.deepEqual(v1.licenseTests, [{ debian: true, files: ["/x"] }]);
  const bad: Array<[string, RegExp]> = [
    [
      'schemaVersion: "1.0.0"\ncommandTests:\n  - name: x\n    command: /usr/bin/app\n',
      /command must be an argv list in schemaVersion 1\.0\.0/,
    ],
    [
      'schemaVersion: "1.0.0"\ncommandTests:\n  - name: x\n    command: ["/a"]\n    args: ["-v"]\n',
      /unknown key "args" in schemaVersion 1\.0\.0/,
    ],
    ['schemaVersion: "1.0.0"\ncommandTests:\n  - name: x\n    command: []\n', /\(x\): command is required/],
    ['schemaVersion: "1.0.0"\nmetadataTest:\n  user: "0"\n', /metadataTest needs schemaVersion "2\.0\.0"/],
    [
      'schemaVersion: "1.0.0"\nfileExistenceTests:\n  - name: x\n    path: /a\n    uid: 0\n',
      /unknown key "uid" in schemaVersion 1\.0\.0/,
    ],
    [
      'schemaVersion: "1.0.0"\ncommandTests:\n  - name: x\n    command: ["/a"]\n    setup: [[]]\n',
      /setup\[0\]: an empty setup command/,
    ],
    [
      'schemaVersion: "2.0.0"\ncommandTests:\n  - name: x\n    command: ["/a"]\n',
      /command is one string in schemaVersion 2\.0\.0/,
    ],
  ];
  for (const [y, re] of bad)
    assert.throws(
      () => parseStructure(parse(y), "t.yaml"),
      (e: Error & { code?: string }) => e.code === "E_STRUCTURE" && re.test(e.message),
      y,
    );
});

test("regexes are RE2 as cst compiles them: no implicit multi-line, (?i), POSIX classes, \\Q…\\E", () => {
  const out = "starting\nERROR: disk full\nhello 42\n";
  // cst: regexp.Compile(p).MatchString(out) — ^ and $ are the ends of the whole text
  assert.deepEqual(matchOutput("stdout", out, [], ["^ERROR"]), []);
  assert.equal(matchOutput("stdout", out, [], ["(?m)^ERROR"]).length, 1);
  assert.equal(matchOutput("stdout", out, ["^hello 42$"]).length, 1);
  assert.deepEqual(matchOutput("stdout", out, ["(?m)^hello 42$", "hello 42\n$", "^starting\n"]), []);
  assert.deepEqual(matchOutput("stdout", out, ["(?i)error: DISK", "[[:digit:]]{2}", "\\Qdisk full\\E"]), []);
  assert.equal(matchOutput("stdout", "a.b", ["\\Qa.c\\E"]).length, 1);
  assert.equal(matchOutput("stdout", "a\nb", ["a.b"]).length, 1, ". does not match a newline");
  assert.deepEqual(matchOutput("stdout", "a\nb", ["(?s)a.b"]), []);
  // distroless' own passwd check: one exact text, anchored at both ends of the file
  const passwd = "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n";
  assert.deepEqual(
    matchOutput("contents", passwd, ["^root:x:0:0:root:/root:/sbin/nologin\nnonroot:[^\n]*\n$"]),
    [],
  );
});

test("expandEnv is Go's os.Expand (values checked against go 1.23's)", () => {
  const env = new Map([
    ["PATH", "/usr/bin"],
    ["HOME", "/root"],
    ["A", "x"],
    ["1", "one"],
    ["$", "dollar"],
    ["A:-d", "weird"],
  ]);
  const cases: Array<[string, string]> = [
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Go's ${VAR} expansion is what is tested
    ["$PATH:${HOME}/x:$UNSET", "/usr/bin:/root/x:"],
    ["$", "$"],
    ["a$", "a$"],
    ["$$", "dollar"],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: see above
    ["${}", ""],
    ["${A", "A"],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: see above
    ["${A:-d}", "weird"],
    ["$1x", "onex"],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: see above
    ["${1}", "one"],
    ["$-", ""],
    ["100$", "100$"],
    ["$A$A", "xx"],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: see above
    ["${A}B", "xB"],
    ["$AB", ""],
    ["$ A", "$ A"],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: see above
    ["${*}", ""],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: see above
    ["x${HOME}${PATH}$", "x/root/usr/bin$"],
  ];
  for (const [s, want] of cases) assert.equal(expandEnv(s, env), want, s);
});

test("goFileMode is the FileMode.String() of Go's tar header (values checked against go 1.23's)", () => {
  const cases: Array<[number, string]> = [
    [0o100755, "-rwxr-xr-x"],
    [0o41777, "dtrwxrwxrwx"],
    [0o104755, "urwxr-xr-x"],
    [0o102644, "grw-r--r--"],
    [0o120777, "Lrwxrwxrwx"],
    [0o20666, "Dcrw-rw-rw-"],
    [0o60660, "Drw-rw----"],
    [0o10644, "prw-r--r--"],
    [0o42775, "dgrwxrwxr-x"],
    [0o106755, "ugrwxr-xr-x"],
    [0o40700, "drwx------"],
    [0o101644, "trw-r--r--"],
  ];
  for (const [mode, want] of cases) {
    assert.equal(goFileMode(mode), want, mode.toString(8));
    assert.equal(isGoFileMode(want), true, want);
  }
  assert.equal(lsToGoFileMode("drwxrwxrwt"), "dtrwxrwxrwx");
  assert.equal(lsToGoFileMode("-rwsr-xr-x"), "urwxr-xr-x");
  assert.equal(lsToGoFileMode("lrwxrwxrwx"), "Lrwxrwxrwx");
  assert.equal(lsToGoFileMode("crw-rw-rw-"), "Dcrw-rw-rw-");
  for (const bad of ["drwxrwxrwt", "-rwsr-xr-x", "rwxr-xr-x", "lrwxrwxrwx", "xdrwxrwxrwx"])
    assert.equal(isGoFileMode(bad), false, bad);
});

test('metadataTest: workdir and user "" are not checked; ports compare as numbers; regexes are RE2', () => {
  const img: OciImageConfig = {
    architecture: "amd64",
    os: "linux",
    rootfs: { type: "layers", diff_ids: [] },
    config: {
      Env: ["PATH=/usr/bin", "LANG=C.UTF-8"],
      ExposedPorts: { "8080/tcp": {}, "53/udp": {} },
      WorkingDir: "/app",
      User: "65532",
      Labels: { "build-date": "2026-11-30T10:00:00.000000" },
    },
  };
  const ok = runMetadataTest(img, {
    workdir: "",
    user: "",
    exposedPorts: ["8080", "53"],
    envVars: [{ key: "LANG", value: "(?i)c\\.utf-8", isRegex: true }],
    labels: [{ key: "build-date", value: "^\\d{4}-\\d{2}-\\d{2}T[[:digit:]:.]+$", isRegex: true }],
  });
  assert.equal(ok.passed, true, ok.message);
  const bad = runMetadataTest(img, { exposedPorts: ["8080/tcp"] });
  assert.match(
    bad.message,
    /exposed port 8080\/tcp: not exposed .* \(cst compares port numbers without \/tcp or \/udp\)/,
  );
});

test("licenseTests: every /usr/share/doc/PKG needs a copyright file, none may mention AGPL or WTFPL", async () => {
  const root = await mkdtemp(join(tmpdir(), "sf-license-"));
  try {
    const doc = join(root, "usr/share/doc");
    for (const p of ["libc6", "zlib1g", "base-files", "libgnutls30", "empty"])
      await mkdir(join(doc, p), { recursive: true });
    await writeFile(join(doc, "libc6/copyright"), "License: LGPL-2.1+\n");
    await writeFile(join(doc, "zlib1g/copyright"), "License: Zlib\n");
    await writeFile(join(doc, "base-files/copyright"), "Files: licenses/agpl-*\nLicense: AGPL-3\n");
    await symlink("zlib1g", join(doc, "libz-link"));
    const r = await runLicenseTest(root, { debian: true, files: [] });
    assert.equal(r.passed, false);
    assert.equal(r.kind, "license");
    assert.match(
      r.message,
      /\/usr\/share\/doc\/base-files\/copyright: contains AGPL \(line: "Files: licenses\/agpl-\*"\)/,
    );
    assert.match(r.message, /\/usr\/share\/doc\/empty\/copyright: missing \(package empty\)/);
    assert.doesNotMatch(r.message, /libgnutls30|libz-link|libc6|zlib1g/);
    await rm(join(doc, "base-files"), { recursive: true });
    await rm(join(doc, "empty"), { recursive: true });
    const ok = await runLicenseTest(root, { debian: true, files: ["/usr/share/doc/libc6/copyright"] });
    assert.equal(ok.passed, true, ok.message);
    assert.match(ok.message, /3 copyright files checked/);
    const files = await runLicenseTest(root, { debian: false, files: ["/nope"] });
    assert.match(files.message, /\/nope: cannot read: ENOENT/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test("runc's own exit 1 for an executable it cannot start is 127 / 126, as podman and a shell give", () => {
  const msg = (m: string) =>
    `time="2026-12-02T06:57:12Z" level=error msg="runc run failed: unable to start container process: exec: ${m}"\n`;
  assert.equal(
    runcExitCode(1, msg('\\"/usr/bin/nope\\": stat /usr/bin/nope: no such file or directory')),
    127,
  );
  assert.equal(runcExitCode(1, msg('\\"nope\\": executable file not found in $PATH')), 127);
  assert.equal(runcExitCode(1, msg('\\"/etc/passwd\\": permission denied')), 126);
  assert.equal(runcExitCode(1, "the program's own error\n"), 1);
  assert.equal(runcExitCode(3, msg('\\"x\\": no such file or directory')), 3);
});
