/**
 * Reading the pipeline's GitHub Actions workflows in tests: the files, their YAML, job `if:`
 * conditions evaluated with GitHub's own expression library (@actions/expressions), and `run:`
 * scripts executed with bash the way a Linux runner runs them (`bash -e FILE`).
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { data, Evaluator, Lexer, Parser } from "@actions/expressions";
import { truthy } from "@actions/expressions/result";
import YAML from "yaml";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
/** where the pipeline template lives (a repository root's .github/ to copy) */
export const TEMPLATE = join(ROOT, "examples", "pipeline");
export const REUSABLE = join(TEMPLATE, ".github", "workflows", "shellfree-image.yml");

export interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  env?: Record<string, string>;
  with?: Record<string, unknown>;
}

export interface Job {
  name?: string;
  needs?: string | string[];
  if?: string;
  "runs-on"?: string;
  container?: unknown;
  uses?: string;
  with?: Record<string, unknown>;
  secrets?: Record<string, unknown> | "inherit";
  permissions?: Record<string, string> | string;
  "timeout-minutes"?: number;
  concurrency?: { group: string; "cancel-in-progress"?: unknown };
  services?: Record<string, { image: string; env?: Record<string, string>; options?: string }>;
  strategy?: unknown;
  outputs?: Record<string, string>;
  environment?: unknown;
  defaults?: { run?: Record<string, string> };
  steps?: Step[];
}

export interface WorkflowDoc {
  name?: string;
  on: Record<string, unknown>;
  permissions?: Record<string, string> | string;
  concurrency?: { group: string; "cancel-in-progress"?: unknown };
  jobs: Record<string, Job>;
}

export interface Workflow {
  file: string;
  text: string;
  doc: WorkflowDoc;
}

/** Every workflow file in the repository (any `.github/workflows/*.yml|yaml`), sorted. */
export function workflowFiles(dir = ROOT): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    if (e.name === "node_modules" || e.name === ".git" || e.name === "out") continue;
    const p = join(dir, e.name);
    if (e.name === "workflows" && dir.endsWith(".github")) {
      for (const f of readdirSync(p)) if (/\.ya?ml$/.test(f)) out.push(join(p, f));
    } else out.push(...workflowFiles(p));
  }
  return out.sort();
}

export function loadWorkflow(file: string): Workflow {
  const text = readFileSync(file, "utf8");
  return { file, text, doc: YAML.parse(text) as WorkflowDoc };
}

/** The job that runs a step whose script contains `needle`, and that step. */
export function findRun(wf: Workflow, needle: RegExp): Array<{ job: string; step: Step }> {
  const out: Array<{ job: string; step: Step }> = [];
  for (const [name, job] of Object.entries(wf.doc.jobs)) {
    for (const step of job.steps ?? []) if (step.run && needle.test(step.run)) out.push({ job: name, step });
  }
  return out;
}

export function step(job: Job, name: string): Step {
  const s = (job.steps ?? []).find((x) => x.name === name || x.id === name);
  if (!s) throw new Error(`no step "${name}"`);
  return s;
}

const CONTEXTS = [
  "github",
  "inputs",
  "needs",
  "secrets",
  "matrix",
  "steps",
  "env",
  "runner",
  "strategy",
  "job",
  "vars",
];
const STATUS = /\b(success|failure|cancelled|always)\s*\(/;

/**
 * Evaluate a job's `if:` as GitHub does: `${{ }}` optional, `success() &&` implied when the
 * condition uses no status function, status functions answering for the state given.
 */
export function evalCondition(
  condition: string | undefined,
  context: Record<string, unknown>,
  state: "success" | "failure" | "cancelled" = "success",
): boolean {
  let c = (condition ?? "success()").trim();
  const m = /^\$\{\{([\s\S]*)\}\}$/.exec(c);
  if (m) c = m[1].trim();
  if (!STATUS.test(c)) c = `success() && (${c})`;
  const fn = (name: string, value: () => boolean) => ({
    name,
    minArgs: 0,
    maxArgs: 0,
    call: () => new data.BooleanData(value()),
  });
  const functions = [
    fn("success", () => state === "success"),
    fn("failure", () => state === "failure"),
    fn("cancelled", () => state === "cancelled"),
    fn("always", () => true),
  ];
  const lexed = new Lexer(c).lex();
  const expr = new Parser(lexed.tokens, CONTEXTS, functions).parse();
  const dict = JSON.parse(JSON.stringify(context), data.reviver) as data.Dictionary;
  const result = new Evaluator(
    expr,
    dict,
    new Map(functions.map((f) => [f.name.toLowerCase(), f])),
  ).evaluate();
  return truthy(result);
}

export interface StepRun {
  code: number;
  stdout: string;
  stderr: string;
  /** what the script wrote to $GITHUB_OUTPUT, as key → value */
  outputs: Record<string, string>;
}

/**
 * Run a step's `run:` script with bash as a Linux runner does (`bash -e FILE`), with `env`, a
 * fresh $GITHUB_OUTPUT/$GITHUB_STEP_SUMMARY and `bin` (name → script) first on PATH. Expressions
 * (`${{ }}`) must not appear in the script: steps pass values through `env:`.
 */
export function runStep(
  script: string,
  env: Record<string, string>,
  bin: Record<string, string> = {},
  cwd?: string,
): StepRun {
  if (script.includes("${{")) throw new Error("a run: script with an expression inside (use env:)");
  const dir = mkdtempSync(join(tmpdir(), "shellfree-step-"));
  try {
    const binDir = join(dir, "bin");
    writeFileSync(join(dir, "script.sh"), script);
    spawnSync("mkdir", [binDir]);
    for (const [name, body] of Object.entries(bin)) {
      writeFileSync(join(binDir, name), body);
      chmodSync(join(binDir, name), 0o755);
    }
    const output = join(dir, "output");
    writeFileSync(output, "");
    const r = spawnSync("bash", ["-e", join(dir, "script.sh")], {
      cwd: cwd ?? dir,
      encoding: "utf8",
      timeout: 30_000,
      env: {
        PATH: `${binDir}:${process.env.PATH}`,
        HOME: dir,
        RUNNER_TEMP: dir,
        GITHUB_OUTPUT: output,
        GITHUB_STEP_SUMMARY: join(dir, "summary"),
        ...env,
      },
    });
    const outputs: Record<string, string> = {};
    for (const line of readFileSync(output, "utf8").split("\n")) {
      const i = line.indexOf("=");
      if (i > 0) outputs[line.slice(0, i)] = line.slice(i + 1);
    }
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, outputs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `bash -n` of a script whose `${{ }}` expressions are replaced by a word. */
export function bashSyntax(script: string): { ok: boolean; message: string } {
  const r = spawnSync("bash", ["-n"], {
    input: script.replace(/\$\{\{[\s\S]*?\}\}/g, "EXPR"),
    encoding: "utf8",
    timeout: 10_000,
  });
  // bash -n reports some errors (e.g. in a [[ ]] regex) on stderr and still exits 0
  return { ok: r.status === 0 && r.stderr.trim() === "", message: r.stderr.trim() };
}

/**
 * shellcheck (Debian's) of a script (`${{ }}` replaced by a word): its findings, "" when none.
 * SC2153 (a variable "may not be assigned") and SC2016 (`$` in single quotes) are left out: steps
 * get their variables from `env:`, and `node -e '…'` programs are JavaScript.
 */
export function shellcheck(script: string): string {
  const r = spawnSync("shellcheck", ["--shell=bash", "--exclude=SC2153,SC2016", "-"], {
    input: script.replace(/\$\{\{[\s\S]*?\}\}/g, "EXPR"),
    encoding: "utf8",
    timeout: 30_000,
  });
  if (r.error) throw new Error(`shellcheck: ${r.error.message} (scripts/setup-host.sh installs it)`);
  return r.status === 0 ? "" : `${r.stdout}${r.stderr}`.trim();
}

/** Permission levels compared: none < read < write. */
export function level(v: string | undefined): number {
  return v === "write" ? 2 : v === "read" ? 1 : 0;
}

/** A job's permissions as a map (`{}` and "read-all"/"write-all" expanded over `scopes`). */
export function permissionsOf(p: Job["permissions"], scopes: string[]): Record<string, string> {
  if (p === undefined) throw new Error("no permissions");
  if (typeof p === "string") {
    const l = p === "write-all" ? "write" : p === "read-all" ? "read" : "none";
    return Object.fromEntries(scopes.map((s) => [s, l]));
  }
  return p;
}
