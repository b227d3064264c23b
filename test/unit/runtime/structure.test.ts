import assert from "node:assert/strict";
import { chmod, chown, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import type { OciImageConfig } from "../../../src/formats/index.ts";
import { parseStructure } from "../../../src/runtime/structure/config.ts";
import {
  expandEnv,
  matchOutput,
  permString,
  runFileContentTest,
  runFileExistenceTest,
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
    ["schemaVersion: 1.0.0\n", /schemaVersion must be "2.0.0"/],
    ["schemaVersion: 2.0.0\ncommandTests:\n  - name: x\n", /commandTests\[0\] \(x\): command is required/],
    [
      "schemaVersion: 2.0.0\nfileExistenceTests:\n  - name: x\n    path: /a\n    permissions: rwx\n",
      /permissions "rwx" is not like/,
    ],
    [
      "schemaVersion: 2.0.0\ncommandTests:\n  - name: x\n    command: a\n    expectedOutput: ['(']\n",
      /invalid regex/,
    ],
    ["schemaVersion: 2.0.0\nbogus: 1\n", /unknown key "bogus"/],
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
          expectedContents: ["^nonroot:"],
          excludedContents: ["/bin/sh"],
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
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test("permString and expandEnv", () => {
  assert.equal(permString(0o100755), "-rwxr-xr-x");
  assert.equal(permString(0o41777), "drwxrwxrwt");
  assert.equal(permString(0o104755), "-rwsr-xr-x");
  assert.equal(permString(0o102644), "-rw-r-Sr--");
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
