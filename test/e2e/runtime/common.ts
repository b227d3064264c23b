/** Shared bits of the runtime e2e tests. */
import { readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { shellfree } from "../../helpers/cli.ts";

export { CLI } from "../../helpers/cli.ts";
export { freePort } from "../../helpers/net.ts";

export const cli = (args: string[], timeoutMs = 240_000) =>
  shellfree(args, { timeoutMs, env: { SHELLFREE_QUIET: "1" } });

/** Work dirs a driver leaves under the temp dir (shellfree-runc-*, shellfree-podman-*, shellfree-files-*). */
export async function driverDirs(prefix: string): Promise<Set<string>> {
  return new Set((await readdir(tmpdir())).filter((n) => n.startsWith(prefix)));
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

/** A container-structure-test file written to the published schema (2.0.0). */
export function structureYaml(port: number): string {
  return `schemaVersion: 2.0.0

globalEnvVars:
  - key: GREETING
    value: hello

commandTests:
  - name: "node runs without a shell"
    command: "/usr/local/bin/node"
    args: ["-e", "console.log(process.env.GREETING + ' ' + process.version); console.error('to stderr')"]
    expectedOutput: ["^hello v\\\\d+\\\\.\\\\d+\\\\.\\\\d+$"]
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
    permissions: "drwxrwxrwt"

fileContentTests:
  - name: "nonroot user"
    path: "/etc/passwd"
    expectedContents: ["^nonroot:x:65532:65532:"]
    excludedContents: ["/bin/(ba|da)?sh"]
  - name: "os-release through its symlink"
    path: "/etc/os-release"
    expectedContents: ["^ID=debian$"]

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
