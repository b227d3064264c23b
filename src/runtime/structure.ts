/**
 * container-structure-test YAML (schemaVersion 2.0.0), run without a shell: commandTests
 * (argv exec'd directly, entrypoint overridden as cst does; setup/teardown in the same session
 * so their changes carry over), fileExistenceTests, fileContentTests, metadataTest,
 * globalEnvVars, containerRunOptions.user/envVars. Our extension lives under `shellfree:`
 * (checks and their options); cst ignores what it does not know.
 */
import { lstat, readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import type { OciImageConfig } from "../formats/index.ts";
import { warn } from "../util/progress.ts";
import type { Driver } from "./driver.ts";
import { RuntimeError } from "./errors.ts";
import type { TestResult } from "./report.ts";

export interface EnvVar {
  key: string;
  value: string;
  isRegex?: boolean;
}

export interface CommandTest {
  name: string;
  command: string;
  args?: string[];
  envVars?: EnvVar[];
  setup?: string[][];
  teardown?: string[][];
  expectedOutput?: string[];
  excludedOutput?: string[];
  expectedError?: string[];
  excludedError?: string[];
  exitCode?: number;
}

export interface FileExistenceTest {
  name: string;
  path: string;
  shouldExist?: boolean;
  permissions?: string;
  uid?: number;
  gid?: number;
  isExecutableBy?: "owner" | "group" | "other" | "any";
}

export interface FileContentTest {
  name: string;
  path: string;
  expectedContents?: string[];
  excludedContents?: string[];
}

export interface MetadataTest {
  envVars?: EnvVar[];
  unboundEnvVars?: EnvVar[];
  labels?: EnvVar[];
  entrypoint?: string[];
  cmd?: string[];
  exposedPorts?: string[];
  unexposedPorts?: string[];
  volumes?: string[];
  unmountedVolumes?: string[];
  workdir?: string;
  user?: string;
}

export interface StructureConfig {
  schemaVersion: string;
  globalEnvVars?: EnvVar[];
  commandTests?: CommandTest[];
  fileExistenceTests?: FileExistenceTest[];
  fileContentTests?: FileContentTest[];
  metadataTest?: MetadataTest;
  containerRunOptions?: { user?: string; envVars?: string[] };
  /** shellfree's own section: built-in checks and their options */
  shellfree?: { checks?: string[]; [option: string]: unknown };
}

function fail(where: string, msg: string): never {
  throw new RuntimeError("E_STRUCTURE", `${where}: ${msg}`, {
    hint: "see the container-structure-test schema 2.0.0",
  });
}

function strList(v: unknown, where: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string" && typeof x !== "number"))
    fail(where, "expected a list of strings");
  return (v as unknown[]).map(String);
}

function envList(v: unknown, where: string): EnvVar[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) fail(where, "expected a list of {key, value}");
  return v.map((e, i) => {
    if (!e || typeof e !== "object" || typeof (e as EnvVar).key !== "string")
      fail(`${where}[${i}]`, "expected {key, value}");
    const x = e as { key: string; value?: unknown; isRegex?: unknown };
    return { key: x.key, value: x.value === undefined ? "" : String(x.value), isRegex: x.isRegex === true };
  });
}

function checkRegexes(list: string[] | undefined, where: string): void {
  for (const r of list ?? []) {
    try {
      new RegExp(r, "m");
    } catch (e) {
      fail(where, `invalid regex ${JSON.stringify(r)}: ${(e as Error).message}`);
    }
  }
}

/** Validate and normalize a parsed structure-test document. */
export function parseStructure(doc: unknown, source = "structure test"): StructureConfig {
  if (!doc || typeof doc !== "object") fail(source, "not a YAML mapping");
  const d = doc as Record<string, unknown>;
  if (d.schemaVersion !== "2.0.0")
    fail(source, `schemaVersion must be "2.0.0" (got ${JSON.stringify(d.schemaVersion)})`);
  const known = new Set([
    "schemaVersion",
    "globalEnvVars",
    "commandTests",
    "fileExistenceTests",
    "fileContentTests",
    "metadataTest",
    "licenseTests",
    "containerRunOptions",
    "shellfree",
  ]);
  for (const k of Object.keys(d)) if (!known.has(k)) fail(source, `unknown key "${k}"`);
  const out: StructureConfig = {
    schemaVersion: "2.0.0",
    globalEnvVars: envList(d.globalEnvVars, `${source}: globalEnvVars`),
  };
  if (d.commandTests !== undefined) {
    if (!Array.isArray(d.commandTests)) fail(source, "commandTests must be a list");
    out.commandTests = d.commandTests.map((t, i) => {
      const w = `${source}: commandTests[${i}]`;
      const x = (t ?? {}) as Record<string, unknown>;
      if (typeof x.name !== "string") fail(w, "name is required");
      if (typeof x.command !== "string" || x.command === "") fail(`${w} (${x.name})`, "command is required");
      const ct: CommandTest = {
        name: x.name,
        command: x.command,
        args: strList(x.args, `${w}.args`),
        envVars: envList(x.envVars, `${w}.envVars`),
        setup: (x.setup as unknown[] | undefined)?.map((s, j) => strList(s, `${w}.setup[${j}]`) ?? []),
        teardown: (x.teardown as unknown[] | undefined)?.map(
          (s, j) => strList(s, `${w}.teardown[${j}]`) ?? [],
        ),
        expectedOutput: strList(x.expectedOutput, `${w}.expectedOutput`),
        excludedOutput: strList(x.excludedOutput, `${w}.excludedOutput`),
        expectedError: strList(x.expectedError, `${w}.expectedError`),
        excludedError: strList(x.excludedError, `${w}.excludedError`),
      };
      if (x.exitCode !== undefined) {
        if (!Number.isInteger(x.exitCode)) fail(w, "exitCode must be an integer");
        ct.exitCode = x.exitCode as number;
      }
      for (const k of ["expectedOutput", "excludedOutput", "expectedError", "excludedError"] as const)
        checkRegexes(ct[k], `${w}.${k}`);
      return ct;
    });
  }
  if (d.fileExistenceTests !== undefined) {
    if (!Array.isArray(d.fileExistenceTests)) fail(source, "fileExistenceTests must be a list");
    out.fileExistenceTests = d.fileExistenceTests.map((t, i) => {
      const w = `${source}: fileExistenceTests[${i}]`;
      const x = (t ?? {}) as Record<string, unknown>;
      if (typeof x.name !== "string") fail(w, "name is required");
      if (typeof x.path !== "string") fail(w, "path is required");
      if (
        x.isExecutableBy !== undefined &&
        !["owner", "group", "other", "any"].includes(x.isExecutableBy as string)
      )
        fail(w, "isExecutableBy must be owner, group, other or any");
      if (x.permissions !== undefined && !/^[-dlcbps][-rwxsStT]{9}$/.test(String(x.permissions)))
        fail(w, `permissions ${JSON.stringify(x.permissions)} is not like "-rwxr-xr-x"`);
      return {
        name: x.name,
        path: x.path,
        shouldExist: x.shouldExist === undefined ? true : x.shouldExist === true,
        permissions: x.permissions as string | undefined,
        uid: x.uid as number | undefined,
        gid: x.gid as number | undefined,
        isExecutableBy: x.isExecutableBy as FileExistenceTest["isExecutableBy"],
      };
    });
  }
  if (d.fileContentTests !== undefined) {
    if (!Array.isArray(d.fileContentTests)) fail(source, "fileContentTests must be a list");
    out.fileContentTests = d.fileContentTests.map((t, i) => {
      const w = `${source}: fileContentTests[${i}]`;
      const x = (t ?? {}) as Record<string, unknown>;
      if (typeof x.name !== "string") fail(w, "name is required");
      if (typeof x.path !== "string") fail(w, "path is required");
      const ft = {
        name: x.name,
        path: x.path,
        expectedContents: strList(x.expectedContents, `${w}.expectedContents`),
        excludedContents: strList(x.excludedContents, `${w}.excludedContents`),
      };
      checkRegexes(ft.expectedContents, `${w}.expectedContents`);
      checkRegexes(ft.excludedContents, `${w}.excludedContents`);
      return ft;
    });
  }
  if (d.metadataTest !== undefined) {
    const x = (d.metadataTest ?? {}) as Record<string, unknown>;
    const w = `${source}: metadataTest`;
    out.metadataTest = {
      envVars: envList(x.envVars ?? x.env, `${w}.envVars`),
      unboundEnvVars: envList(x.unboundEnvVars, `${w}.unboundEnvVars`),
      labels: envList(x.labels, `${w}.labels`),
      entrypoint: strList(x.entrypoint, `${w}.entrypoint`),
      cmd: strList(x.cmd, `${w}.cmd`),
      exposedPorts: strList(x.exposedPorts, `${w}.exposedPorts`),
      unexposedPorts: strList(x.unexposedPorts, `${w}.unexposedPorts`),
      volumes: strList(x.volumes, `${w}.volumes`),
      unmountedVolumes: strList(x.unmountedVolumes, `${w}.unmountedVolumes`),
      workdir: x.workdir as string | undefined,
      user: x.user as string | undefined,
    };
  }
  if (d.licenseTests !== undefined)
    warn(`${source}: licenseTests are not run by shellfree test (see the image's SBOM instead)`);
  if (d.containerRunOptions !== undefined) {
    const x = (d.containerRunOptions ?? {}) as Record<string, unknown>;
    const unsupported = Object.keys(x).filter((k) => k !== "user" && k !== "envVars");
    if (unsupported.length)
      warn(`${source}: containerRunOptions ${unsupported.join(", ")} not supported; ignored`);
    out.containerRunOptions = {
      user: x.user as string | undefined,
      envVars: strList(x.envVars, `${source}: containerRunOptions.envVars`),
    };
  }
  if (d.shellfree !== undefined) {
    const x = (d.shellfree ?? {}) as Record<string, unknown>;
    out.shellfree = { ...x, checks: strList(x.checks, `${source}: shellfree.checks`) };
  }
  return out;
}

export async function loadStructure(path: string): Promise<StructureConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new RuntimeError(
      "E_STRUCTURE",
      `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  let doc: unknown;
  try {
    doc = path.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new RuntimeError("E_STRUCTURE", `${path}: cannot parse: ${(e as Error).message.split("\n")[0]}`);
  }
  return parseStructure(doc, path);
}

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
  const { secureJoin } = await import("./unpack.ts");
  const parts = path.split("/").filter((p) => p && p !== ".");
  // resolve parents safely, then the final symlink (if any) too, as os.Stat in the image would
  let p = await secureJoin(root, parts);
  for (let i = 0; i < 40; i++) {
    const st = await lstat(p).catch(() => null);
    if (!st?.isSymbolicLink()) return p;
    const { readlink } = await import("node:fs/promises");
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
