/**
 * Running container-structure-test files without a shell, with cst's semantics: commandTests
 * (argv exec'd directly, entrypoint overridden as cst does, `$VAR` in the command line expanded
 * from the image's env as Go's os.Expand does; setup/teardown in the same session so their
 * changes carry over), file and license tests against the unpacked image, the metadata test
 * against the image config. Regexes are RE2 (regex.ts), modes Go's FileMode (go-semantics.ts).
 */
import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import type { OciImageConfig } from "../../formats/index.ts";
import type { Driver } from "../driver.ts";
import type { TestResult } from "../report.ts";
import { secureJoin } from "../unpack.ts";
import type {
  CommandTest,
  EnvVar,
  FileContentTest,
  FileExistenceTest,
  LicenseTest,
  MetadataTest,
  StructureConfig,
} from "./config.ts";
import { goExpand, goFileMode } from "./go-semantics.ts";
import { compileRe2 } from "./regex.ts";

/** The image's environment as a map (later entries win, as in a runtime). */
export function imageEnv(image: OciImageConfig): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of image.config?.Env ?? []) {
    const i = e.indexOf("=");
    if (i > 0) m.set(e.slice(0, i), e.slice(i + 1));
  }
  return m;
}

/** `$VAR` / `${VAR}` substitution against an environment, exactly as Go's os.Expand (cst). */
export function expandEnv(value: string, env: Map<string, string>): string {
  return goExpand(value, (name) => env.get(name));
}

/**
 * The environment cst expands against: the image's, then globalEnvVars (cst commits them into
 * the image before each test, each value expanded against the image's env).
 */
export function structureEnv(image: OciImageConfig, cfg: StructureConfig): Map<string, string> {
  const env = imageEnv(image);
  const base = new Map(env);
  for (const e of cfg.globalEnvVars ?? []) env.set(e.key, expandEnv(e.value, base));
  return env;
}

function indent(text: string, max = 20): string {
  const lines = text.replace(/\n$/, "").split("\n");
  const shown = lines.slice(0, max).map((l) => `      | ${l}`);
  if (lines.length > max) shown.push(`      | … (${lines.length - max} more lines)`);
  return text === "" ? "      | (empty)" : shown.join("\n");
}

/**
 * Compare output against expected/excluded regexes as cst does (Go's regexp, no flags added:
 * `^`/`$` are the start/end of the whole text unless the pattern says `(?m)`); returns readable
 * problems.
 */
export function matchOutput(
  what: string,
  text: string,
  expected: string[] = [],
  excluded: string[] = [],
): string[] {
  const problems: string[] = [];
  for (const r of expected) {
    if (!compileRe2(r).test(text))
      problems.push(`${what}: expected to match /${r}/, but it does not. Actual ${what}:\n${indent(text)}`);
  }
  for (const r of excluded) {
    const m = compileRe2(r).firstMatch(text);
    if (m !== undefined)
      problems.push(
        `${what}: must not match /${r}/, but it does (at ${JSON.stringify(m.slice(0, 80))}). Actual ${what}:\n${indent(text)}`,
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
  // globals are expanded against the image's env, the test's own against that plus the globals
  // (cst commits the globals into the image first); the command line against the same
  const env = structureEnv(image, cfg);
  const extra: Record<string, string> = {};
  for (const e of cfg.globalEnvVars ?? []) extra[e.key] = env.get(e.key) ?? "";
  for (const e of t.envVars ?? []) extra[e.key] = expandEnv(e.value, env);
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
        {
          argv: [t.command, ...(t.args ?? [])].map((a) => expandEnv(a, env)),
          env: extra,
          user,
          session,
          network: "none",
        },
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

/** The mode string cst compares `permissions` with (Go's FileMode form). */
export function permString(mode: number): string {
  return goFileMode(mode);
}

function cleanParts(parts: string[]): string[] {
  const out: string[] = [];
  for (const s of parts) {
    if (!s || s === ".") continue;
    if (s === "..") out.pop();
    else out.push(s);
  }
  return out;
}

/**
 * The host path of image path `path` under `root`: parent directories resolved inside root
 * (symlinks followed, never out of it); the last component itself is not followed unless
 * `follow` (reading a file's contents follows it, as cst's ReadFile does; stat does not).
 */
async function imagePath(root: string, path: string, follow: boolean): Promise<string> {
  let p = await secureJoin(root, cleanParts(path.split("/")));
  if (!follow) return p;
  for (let i = 0; i < 40; i++) {
    const st = await lstat(p).catch(() => null);
    if (!st?.isSymbolicLink()) return p;
    const t = await readlink(p);
    const rel = p
      .slice(root.length + 1)
      .split("/")
      .slice(0, -1);
    p = await secureJoin(root, cleanParts(t.startsWith("/") ? t.split("/") : [...rel, ...t.split("/")]));
  }
  return p;
}

/**
 * A file existence test as cst runs it: the path itself is examined (a symlink is reported as
 * a symlink, `Lrwxrwxrwx`, not as its target), permissions compared in Go's FileMode form,
 * uid/gid from the image's metadata.
 */
export async function runFileExistenceTest(root: string, t: FileExistenceTest): Promise<TestResult> {
  const t0 = performance.now();
  const p = await imagePath(root, t.path, false);
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
  const p = await imagePath(root, t.path, true);
  let text: string | undefined;
  try {
    text = await readFile(p, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return {
      kind: "fileContent",
      name: t.name,
      passed: false,
      message: `${t.path}: cannot read: ${code === "EISDIR" ? "a directory, not a file" : code}`,
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

/** Words that fail cst's license test when a copyright file contains them (case-insensitive). */
export const LICENSE_DENYLIST: readonly string[] = ["AGPL", "WTFPL"];
/** Packages cst's license test skips. */
const LICENSE_ALLOWED_PACKAGES: readonly string[] = ["libgnutls30"];
const DEBIAN_DOC = "/usr/share/doc";

async function checkLicenseFile(root: string, file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(await imagePath(root, file, true), "latin1");
  } catch (e) {
    return `${file}: cannot read: ${(e as NodeJS.ErrnoException).code}`;
  }
  const upper = text.toUpperCase();
  for (const word of LICENSE_DENYLIST) {
    const at = upper.indexOf(word);
    if (at >= 0) {
      const end = text.indexOf("\n", at);
      const line = text.slice(text.lastIndexOf("\n", at) + 1, end < 0 ? undefined : end);
      return `${file}: contains ${word} (line: ${JSON.stringify(line.slice(0, 100))})`;
    }
  }
  return undefined;
}

/**
 * A license test as cst runs it: with `debian: true` every directory in /usr/share/doc must have
 * a `copyright` file, and no checked file may mention AGPL or WTFPL (any case); `files` are
 * checked the same way.
 */
export async function runLicenseTest(root: string, t: LicenseTest): Promise<TestResult> {
  const t0 = performance.now();
  const problems: string[] = [];
  let checked = 0;
  if (t.debian) {
    const dir = await imagePath(root, DEBIAN_DOC, true);
    const entries = await readdir(dir, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
      problems.push(`${DEBIAN_DOC}: cannot read: ${e.code}`);
      return [];
    });
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (!e.isDirectory() || LICENSE_ALLOWED_PACKAGES.includes(e.name)) continue;
      const file = `${DEBIAN_DOC}/${e.name}/copyright`;
      if (!(await lstat(await imagePath(root, file, false)).catch(() => null))) {
        problems.push(`${file}: missing (package ${e.name})`);
        continue;
      }
      checked++;
      const p = await checkLicenseFile(root, file);
      if (p) problems.push(p);
    }
  }
  for (const f of t.files) {
    checked++;
    const p = await checkLicenseFile(root, f);
    if (p) problems.push(p);
  }
  return {
    kind: "license",
    name: t.debian
      ? `debian copyrights${t.files.length ? ` and ${t.files.length} files` : ""}`
      : "license files",
    passed: problems.length === 0,
    message: problems.join("\n") || `${checked} copyright files checked`,
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
  const matches = (e: EnvVar, v: string) => (e.isRegex ? compileRe2(e.value).test(v) : v === e.value);
  for (const e of t.envVars ?? []) {
    const v = env.get(e.key);
    if (v === undefined)
      problems.push(
        `env ${e.key}: expected to be set${e.value ? ` to ${JSON.stringify(e.value)}` : ""}, but it is not set`,
      );
    else if (!matches(e, v))
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
    else if (!matches(l, v))
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
  // cst compares port numbers: "8080/tcp" and "8080/udp" in the image are both "8080"
  const ports = Object.keys(c.ExposedPorts ?? {}).map((p) => p.split("/")[0]);
  const hint = (p: string) => (p.includes("/") ? " (cst compares port numbers without /tcp or /udp)" : "");
  for (const p of t.exposedPorts ?? [])
    if (!ports.includes(p))
      problems.push(`exposed port ${p}: not exposed (exposed: ${JSON.stringify(ports)})${hint(p)}`);
  for (const p of t.unexposedPorts ?? [])
    if (ports.includes(p)) problems.push(`port ${p}: expected not to be exposed, but it is`);
  const vols = Object.keys(c.Volumes ?? {});
  for (const v of t.volumes ?? [])
    if (!vols.includes(v)) problems.push(`volume ${v}: not declared (volumes: ${JSON.stringify(vols)})`);
  for (const v of t.unmountedVolumes ?? [])
    if (vols.includes(v)) problems.push(`volume ${v}: expected not to be declared, but it is`);
  // "" is "not checked", as in cst
  if (t.workdir && (c.WorkingDir ?? "") !== t.workdir)
    problems.push(
      `workdir\n      - expected ${JSON.stringify(t.workdir)}\n      + actual   ${JSON.stringify(c.WorkingDir ?? "")}`,
    );
  if (t.user && (c.User ?? "") !== t.user)
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
  // 2.0.0 expands $VAR in file existence paths against the image's env (1.0.0 does not)
  const env = structureEnv(image, cfg);
  for (const t of cfg.fileExistenceTests ?? [])
    add(
      await runFileExistenceTest(
        root,
        cfg.schemaVersion === "2.0.0" ? { ...t, path: expandEnv(t.path, env) } : t,
      ),
    );
  for (const t of cfg.fileContentTests ?? []) add(await runFileContentTest(root, t));
  for (const t of cfg.licenseTests ?? []) add(await runLicenseTest(root, t));
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
