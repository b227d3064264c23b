/**
 * The native init's checks, run by `npm test`: go vet, gofmt -l (any file listed fails), and
 * go test ./... in init/ (with the contract fixtures of scripts/init-contract.ts).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { findGo, goEnv, INIT_MODULE_DIR } from "./go-toolchain.ts";

function run(cmd: string, args: string[]): { status: number | null; stdout: string } {
  process.stdout.write(`test-go: ${[cmd.split("/").at(-1), ...args].join(" ")}\n`);
  const r = spawnSync(cmd, args, {
    cwd: INIT_MODULE_DIR,
    env: goEnv(),
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  process.stdout.write(r.stdout);
  return { status: r.status, stdout: r.stdout };
}

try {
  const go = findGo();
  const gofmt = existsSync(join(dirname(go), "gofmt")) ? join(dirname(go), "gofmt") : "gofmt";
  if (run(go, ["vet", "./..."]).status !== 0) throw new Error("go vet failed");
  const fmt = run(gofmt, ["-l", "."]);
  if (fmt.status !== 0 || fmt.stdout.trim() !== "")
    throw new Error("gofmt -l lists files: run gofmt -w init/");
  if (run(go, ["test", "-count=1", "./..."]).status !== 0) throw new Error("go test failed");
} catch (e) {
  process.stderr.write(`test-go: ${(e as Error).message}\n`);
  process.exit(1);
}
