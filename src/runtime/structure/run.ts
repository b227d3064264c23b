/**
 * Running container-structure-test files without a shell: commandTests (argv exec'd directly,
 * entrypoint overridden as cst does; setup/teardown in the same session so their changes carry
 * over), file tests against the unpacked image, the metadata test against the image config.
 */
import { lstat, readFile, readlink } from "node:fs/promises";
import type { OciImageConfig } from "../../formats/index.ts";
import type { Driver } from "../driver.ts";
import type { TestResult } from "../report.ts";
import { secureJoin } from "../unpack.ts";
import type {
  CommandTest,
  FileContentTest,
  FileExistenceTest,
  MetadataTest,
  StructureConfig,
} from "./config.ts";

/** $VAR / ${VAR} substitution against an environment (unset → empty), as cst does. */
export function expandEnv(value: string, env: Map<string, string>): string {
  return value.replace(
    /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (_m, a: string | undefined, b: string | undefined) => env.get((a ?? b) as string) ?? "",
  );
}

function imageEnv(image: OciImageConfig): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of image.config?.Env ?? []) {
    const i = e.indexOf("=");
    if (i > 0) m.set(e.slice(0, i), e.slice(i + 1));
  }
  return m;
}

function indent(text: string, max = 20): string {
  const lines = text.replace(/\n$/, "").split("\n");
  const shown = lines.slice(0, max).map((l) => `      | ${l}`);
  if (lines.length > max) shown.push(`      | … (${lines.length - max} more lines)`);
  return text === "" ? "      | (empty)" : shown.join("\n");
}

/** Compare output against expected/excluded regexes; returns readable problems. */
export function matchOutput(
  what: string,
  text: string,
  expected: string[] = [],
  excluded: string[] = [],
): string[] {
  const problems: string[] = [];
  for (const r of expected) {
    if (!new RegExp(r, "m").test(text))
      problems.push(`${what}: expected to match /${r}/, but it does not. Actual ${what}:\n${indent(text)}`);
  }
  for (const r of excluded) {
    const m = new RegExp(r, "m").exec(text);
    if (m)
      problems.push(
        `${what}: must not match /${r}/, but it does (at ${JSON.stringify(m[0].slice(0, 80))}). Actual ${what}:\n${indent(text)}`,
      );
  }
  return problems;
}

export async function runCommandTest(
  driver: Driver,
  image: OciImageConfig,
  cfg: StructureConfig,
  t: CommandTest,
  timeoutMs: number,
): Promise<TestResult> {
  const t0 = performance.now();
  const env = imageEnv(image);
  const extra: Record<string, string> = {};
  for (const e of [...(cfg.globalEnvVars ?? []), ...(t.envVars ?? [])]) {
    const v = expandEnv(e.value, new Map([...env, ...Object.entries(extra)]));
    extra[e.key] = v;
  }
  for (const k of cfg.containerRunOptions?.envVars ?? [])
    if (process.env[k] !== undefined) extra[k] = process.env[k] as string;
  const user = cfg.containerRunOptions?.user;
  const session = t.setup?.length || t.teardown?.length ? await driver.newSession() : undefined;
  const problems: string[] = [];
  let out = { code: 0, stdout: "", stderr: "" };
  try {
    for (const s of t.setup ?? []) {
      const r = await driver.runOnce({ argv: s, env: extra, user, session, network: "none" }, timeoutMs);
      if (r.code !== 0)
        problems.push(`setup ${JSON.stringify(s)} exited ${r.code}:\n${indent(r.stderr || r.stdout)}`);
    }
    if (problems.length === 0) {
      const r = await driver.runOnce(
        { argv: [t.command, ...(t.args ?? [])], env: extra, user, session, network: "none" },
        timeoutMs,
      );
      out = r;
      if (r.timedOut) problems.push(`timed out after ${timeoutMs} ms`);
      const want = t.exitCode ?? 0;
      if (r.code !== want)
        problems.push(
          `exit code: expected ${want}, got ${r.code}${r.stderr ? `. stderr:\n${indent(r.stderr)}` : ""}`,
        );
      problems.push(...matchOutput("stdout", r.stdout, t.expectedOutput, t.excludedOutput));
      problems.push(...matchOutput("stderr", r.stderr, t.expectedError, t.excludedError));
      for (const s of t.teardown ?? []) {
        const tr = await driver.runOnce({ argv: s, env: extra, user, session, network: "none" }, timeoutMs);
        if (tr.code !== 0) problems.push(`teardown ${JSON.stringify(s)} exited ${tr.code}`);
      }
    }
  } finally {
    if (session) await driver.endSession(session);
  }
  return {
    kind: "command",
    name: t.name,
    passed: problems.length === 0,
    message: problems.length ? problems.join("\n") : `exit ${out.code}`,
    durationMs: Math.round(performance.now() - t0),
    output: { stdout: out.stdout, stderr: out.stderr },
  };
}

/** "-rwxr-xr-x" for an lstat mode. */
export function permString(mode: number): string {
  const t =
    (mode & 0o170000) === 0o040000
      ? "d"
      : (mode & 0o170000) === 0o120000
        ? "L"
        : (mode & 0o170000) === 0o020000
          ? "c"
          : (mode & 0o170000) === 0o060000
            ? "b"
            : (mode & 0o170000) === 0o010000
              ? "p"
              : (mode & 0o170000) === 0o140000
                ? "S"
                : "-";
  const bit = (m: number, c: string) => (mode & m ? c : "-");
  let s = t;
  s += bit(0o400, "r") + bit(0o200, "w");
  s += mode & 0o4000 ? (mode & 0o100 ? "s" : "S") : bit(0o100, "x");
  s += bit(0o040, "r") + bit(0o020, "w");
  s += mode & 0o2000 ? (mode & 0o010 ? "s" : "S") : bit(0o010, "x");
  s += bit(0o004, "r") + bit(0o002, "w");
  s += mode & 0o1000 ? (mode & 0o001 ? "t" : "T") : bit(0o001, "x");
  return s;
}

/** Resolve an image path inside `root` following symlinks within root (like the container sees it). */
async function imagePath(root: string, path: string): Promise<string> {
  const parts = path.split("/").filter((p) => p && p !== ".");
  // resolve parents safely, then the final symlink (if any) too, as os.Stat in the image would
  let p = await secureJoin(root, parts);
  for (let i = 0; i < 40; i++) {
    const st = await lstat(p).catch(() => null);
    if (!st?.isSymbolicLink()) return p;
    const t = await readlink(p);
    const rel = p
      .slice(root.length + 1)
      .split("/")
      .slice(0, -1);
    const next = t.startsWith("/") ? t.split("/") : [...rel, ...t.split("/")];
    const clean: string[] = [];
    for (const s of next) {
      if (!s || s === ".") continue;
      if (s === "..") clean.pop();
      else clean.push(s);
    }
    p = await secureJoin(root, clean);
  }
  return p;
}

export async function runFileExistenceTest(root: string, t: FileExistenceTest): Promise<TestResult> {
  const t0 = performance.now();
  const p = await imagePath(root, t.path);
  const st = await lstat(p).catch(() => null);
  const problems: string[] = [];
  if (!st) {
    if (t.shouldExist !== false) problems.push(`${t.path}: expected to exist, but it does not`);
  } else if (t.shouldExist === false)
    problems.push(`${t.path}: expected not to exist, but it does (${permString(st.mode)})`);
  else {
    if (t.permissions && permString(st.mode) !== t.permissions)
      problems.push(
        `${t.path}: permissions\n      - expected ${t.permissions}\n      + actual   ${permString(st.mode)}`,
      );
    if (t.uid !== undefined && st.uid !== t.uid)
      problems.push(`${t.path}: uid\n      - expected ${t.uid}\n      + actual   ${st.uid}`);
    if (t.gid !== undefined && st.gid !== t.gid)
      problems.push(`${t.path}: gid\n      - expected ${t.gid}\n      + actual   ${st.gid}`);
    if (t.isExecutableBy) {
      const m = { owner: 0o100, group: 0o010, other: 0o001, any: 0o111 }[t.isExecutableBy];
      if ((st.mode & m) === 0)
        problems.push(
          `${t.path}: expected to be executable by ${t.isExecutableBy}, mode is ${permString(st.mode)}`,
        );
    }
  }
  return {
    kind: "fileExistence",
    name: t.name,
    passed: problems.length === 0,
    message: problems.join("\n") || "ok",
    durationMs: Math.round(performance.now() - t0),
  };
}

export async function runFileContentTest(root: string, t: FileContentTest): Promise<TestResult> {
  const t0 = performance.now();
  const p = await imagePath(root, t.path);
  let text: string | undefined;
  try {
    text = await readFile(p, "utf8");
  } catch (e) {
    return {
      kind: "fileContent",
      name: t.name,
      passed: false,
      message: `${t.path}: cannot read: ${(e as NodeJS.ErrnoException).code}`,
      durationMs: Math.round(performance.now() - t0),
    };
  }
  const problems = matchOutput(`contents of ${t.path}`, text, t.expectedContents, t.excludedContents);
  return {
    kind: "fileContent",
    name: t.name,
    passed: problems.length === 0,
    message: problems.join("\n") || "ok",
    durationMs: Math.round(performance.now() - t0),
  };
}

function diffList(what: string, expected: string[], actual: string[]): string | undefined {
  if (JSON.stringify(expected) === JSON.stringify(actual)) return undefined;
  return `${what}\n      - expected ${JSON.stringify(expected)}\n      + actual   ${JSON.stringify(actual)}`;
}

export function runMetadataTest(image: OciImageConfig, t: MetadataTest): TestResult {
  const t0 = performance.now();
  const c = image.config ?? {};
  const problems: string[] = [];
  const env = imageEnv(image);
  for (const e of t.envVars ?? []) {
    const v = env.get(e.key);
    if (v === undefined)
      problems.push(
        `env ${e.key}: expected to be set${e.value ? ` to ${JSON.stringify(e.value)}` : ""}, but it is not set`,
      );
    else if (e.isRegex ? !new RegExp(e.value).test(v) : v !== e.value)
      problems.push(
        `env ${e.key}\n      - expected ${e.isRegex ? `/${e.value}/` : JSON.stringify(e.value)}\n      + actual   ${JSON.stringify(v)}`,
      );
  }
  for (const e of t.unboundEnvVars ?? [])
    if (env.has(e.key))
      problems.push(`env ${e.key}: expected not to be set, but it is ${JSON.stringify(env.get(e.key))}`);
  for (const l of t.labels ?? []) {
    const v = c.Labels?.[l.key];
    if (v === undefined) problems.push(`label ${l.key}: expected, but not set`);
    else if (l.isRegex ? !new RegExp(l.value).test(v) : v !== l.value)
      problems.push(
        `label ${l.key}\n      - expected ${l.isRegex ? `/${l.value}/` : JSON.stringify(l.value)}\n      + actual   ${JSON.stringify(v)}`,
      );
  }
  if (t.entrypoint) {
    const d = diffList("entrypoint", t.entrypoint, c.Entrypoint ?? []);
    if (d) problems.push(d);
  }
  if (t.cmd) {
    const d = diffList("cmd", t.cmd, c.Cmd ?? []);
    if (d) problems.push(d);
  }
  const ports = Object.keys(c.ExposedPorts ?? {});
  const hasPort = (p: string) => ports.includes(p) || ports.includes(`${p}/tcp`);
  for (const p of t.exposedPorts ?? [])
    if (!hasPort(p)) problems.push(`exposed port ${p}: not exposed (exposed: ${JSON.stringify(ports)})`);
  for (const p of t.unexposedPorts ?? [])
    if (hasPort(p)) problems.push(`port ${p}: expected not to be exposed, but it is`);
  const vols = Object.keys(c.Volumes ?? {});
  for (const v of t.volumes ?? [])
    if (!vols.includes(v)) problems.push(`volume ${v}: not declared (volumes: ${JSON.stringify(vols)})`);
  for (const v of t.unmountedVolumes ?? [])
    if (vols.includes(v)) problems.push(`volume ${v}: expected not to be declared, but it is`);
  if (t.workdir !== undefined && (c.WorkingDir ?? "") !== t.workdir)
    problems.push(
      `workdir\n      - expected ${JSON.stringify(t.workdir)}\n      + actual   ${JSON.stringify(c.WorkingDir ?? "")}`,
    );
  if (t.user !== undefined && (c.User ?? "") !== t.user)
    problems.push(
      `user\n      - expected ${JSON.stringify(t.user)}\n      + actual   ${JSON.stringify(c.User ?? "")}`,
    );
  return {
    kind: "metadata",
    name: "metadata",
    passed: problems.length === 0,
    message: problems.join("\n") || "ok",
    durationMs: Math.round(performance.now() - t0),
  };
}

/** Run every structure test of `cfg`. File tests read `root` (the unpacked image). */
export async function runStructure(
  driver: Driver,
  image: OciImageConfig,
  root: string,
  cfg: StructureConfig,
  opts: { timeoutMs: number; onResult?: (r: TestResult) => void },
): Promise<TestResult[]> {
  const results: TestResult[] = [];
  const add = (r: TestResult) => {
    results.push(r);
    opts.onResult?.(r);
  };
  if (cfg.metadataTest) add(runMetadataTest(image, cfg.metadataTest));
  for (const t of cfg.fileExistenceTests ?? []) add(await runFileExistenceTest(root, t));
  for (const t of cfg.fileContentTests ?? []) add(await runFileContentTest(root, t));
  for (const t of cfg.commandTests ?? []) {
    const t0 = performance.now();
    add(
      await runCommandTest(driver, image, cfg, t, opts.timeoutMs).catch(
        (e: unknown): TestResult => ({
          kind: "command",
          name: t.name,
          passed: false,
          message: `could not run: ${e instanceof Error ? e.message : String(e)}`,
          durationMs: Math.round(performance.now() - t0),
        }),
      ),
    );
  }
  return results;
}
