/**
 * container-structure-test YAML (schemaVersion 2.0.0) read and checked: commandTests,
 * fileExistenceTests, fileContentTests, metadataTest, globalEnvVars,
 * containerRunOptions.user/envVars, and shellfree's own section `shellfree:` (checks and their
 * options; cst ignores what it does not know). Running them is run.ts.
 */
import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { warn } from "../../util/progress.ts";
import { RuntimeError } from "../errors.ts";

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
  /** shellfree's own section: built-in checks to run, checks that do not fit the image (`skip`), and the checks' options */
  shellfree?: { checks?: string[]; skip?: string[]; [option: string]: unknown };
  /** where it was read from (for messages) */
  source?: string;
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
    source,
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
    out.shellfree = {
      ...x,
      checks: strList(x.checks, `${source}: shellfree.checks`),
      skip: strList(x.skip, `${source}: shellfree.skip`),
    };
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
