/** Shared bits of the runtime e2e tests. */
import { mkdtempSync, rmSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { shellfree } from "../../helpers/cli.ts";

export { CLI } from "../../helpers/cli.ts";
export { freePort } from "../../helpers/net.ts";

export const cli = (args: string[], timeoutMs = 240_000, env: Record<string, string> = {}) =>
  shellfree(args, { timeoutMs, env: { SHELLFREE_QUIET: "1", ...env } });

/**
 * A temp dir of this test process only, removed when it exits: given to the CLI as TMPDIR, the
 * drivers' work dirs land in it, so "nothing left behind" sees this file's runs and never those
 * of a test file running beside it. `prefix` is a full path prefix: keep it short (podman refuses
 * a runroot over 50 characters; "/tmp/p" + 6 gives exactly 50 with its work dir's name).
 */
export function privateTmp(prefix: string): string {
  const dir = mkdtempSync(prefix);
  process.on("exit", () => {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // a leftover the test reported already
    }
  });
  return dir;
}

/** Work dirs a driver leaves in `where` (shellfree-runc-*, shellfree-podman-*, shellfree-files-*). */
export async function driverDirs(prefix: string, where: string = tmpdir()): Promise<Set<string>> {
  return new Set((await readdir(where)).filter((n) => n.startsWith(prefix)));
}

/** Mount points under the temp dir whose path contains `needle`. */
export async function mountsWith(needle: string): Promise<string[]> {
  const text = await readFile("/proc/self/mountinfo", "utf8");
  return text
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((mp) => mp.includes(needle));
}

/** Host processes whose environment has exactly `entry` (e.g. "PORT=41234": one test's containers). */
export async function processesWithEnv(entry: string): Promise<number[]> {
  const out: number[] = [];
  for (const n of await readdir("/proc")) {
    if (!/^\d+$/.test(n)) continue;
    const env = await readFile(`/proc/${n}/environ`, "utf8").catch(() => "");
    if (env.split("\0").includes(entry)) out.push(Number(n));
  }
  return out;
}

/**
 * A container-structure-test file written to the published schema (2.0.0) as the real tool reads
 * it: RE2 regexes with `^`/`$` at the ends of the whole text unless `(?m)`, permissions in Go's
 * FileMode form, `$VAR` expanded from the image's env.
 */
export function structureYaml(port: number): string {
  return `schemaVersion: 2.0.0

globalEnvVars:
  - key: GREETING
    value: hello
  - key: NODE_DIR
    value: /usr/local/bin

commandTests:
  - name: "node runs without a shell"
    command: "/usr/local/bin/node"
    args: ["-e", "console.log(process.env.GREETING + ' ' + process.version); console.error('to stderr')"]
    expectedOutput: ["^hello v\\\\d+\\\\.\\\\d+\\\\.\\\\d+\\n$"]
    excludedOutput: ["undefined"]
    expectedError: ["to stderr"]
    excludedError: ["Error"]
  - name: "exit code is checked"
    command: "/usr/local/bin/node"
    args: ["-e", "process.exit(7)"]
    exitCode: 7
  - name: "setup changes are visible to the command"
    setup: [["/usr/local/bin/node", "-e", "require('fs').writeFileSync('/tmp/marker', 'from setup')"]]
    command: "/usr/local/bin/node"
    args: ["-e", "console.log(require('fs').readFileSync('/tmp/marker', 'utf8'))"]
    expectedOutput: ["from setup"]
    teardown: [["/usr/local/bin/node", "-e", "require('fs').unlinkSync('/tmp/marker')"]]
  - name: "the command line expands the image's env"
    command: "$NODE_DIR/node"
    args: ["-p", "'port=$PORT ' + process.argv.length"]
    expectedOutput: ["^port=${port} 1\\n$"]
  - name: "per-test env vars"
    command: "/usr/local/bin/node"
    args: ["-e", "console.log(process.env.MODE)"]
    envVars:
      - key: MODE
        value: "strict-$GREETING"
    expectedOutput: ["strict-hello"]

fileExistenceTests:
  - name: "node is executable"
    path: "/usr/local/bin/node"
    shouldExist: true
    permissions: "-rwxr-xr-x"
    uid: 0
    gid: 0
    isExecutableBy: "other"
  - name: "no /bin/sh"
    path: "/bin/sh"
    shouldExist: false
  - name: "tmp is sticky"
    path: "/tmp"
    shouldExist: true
    permissions: "dtrwxrwxrwx"
  - name: "the os-release link is a link"
    path: "/etc/os-release"
    permissions: "Lrwxrwxrwx"
  - name: "paths expand the image's env"
    path: "$NODE_DIR/node"
    shouldExist: true

fileContentTests:
  - name: "nonroot user"
    path: "/etc/passwd"
    expectedContents: ["(?m)^nonroot:x:65532:65532:"]
    excludedContents: ["/bin/(ba|da)?sh"]
  - name: "os-release through its symlink"
    path: "/etc/os-release"
    expectedContents: ["(?m)^ID=debian$", "(?i)^pretty_name="]

metadataTest:
  envVars:
    - key: PORT
      value: "${port}"
    - key: PATH
      value: "^/usr/local/bin"
      isRegex: true
  labels:
    - key: org.opencontainers.image.title
      value: shellfree-node-test
  entrypoint: ["/usr/bin/shellfree-init"]
  cmd: []
  exposedPorts: ["${port}"]
  unexposedPorts: ["22"]
  workdir: "/app"
  user: "65532:65532"
`;
}
