/**
 * container-structure-test files read and checked as the real tool reads them (its
 * pkg/types/v1 and v2, yaml.v2's strict decoding): schemaVersion "1.0.0" or "2.0.0";
 * commandTests, fileExistenceTests, fileContentTests, licenseTests, globalEnvVars in both;
 * metadataTest and containerRunOptions only in 2.0.0. In 1.0.0 `command` is an argv list (no
 * `args`) and file existence tests know only name, path, shouldExist and permissions.
 *
 * Where cst is lax shellfree refuses the file (exit 1) instead of running less than it says:
 * an invalid test (cst 1.0.0 logs it and skips it, 2.0.0 reports it as failed), a regex RE2
 * cannot compile (cst fails the test), a `permissions` string no file can have in Go's form.
 * shellfree's own `shellfree:` section (built-in checks and their options) is accepted in both
 * versions; the real tool refuses that key. Running the tests is run.ts.
 */
import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { warn } from "../../util/progress.ts";
import { RuntimeError } from "../errors.ts";
import { isGoFileMode, lsToGoFileMode } from "./go-semantics.ts";
import { re2Error } from "./regex.ts";

export type SchemaVersion = "1.0.0" | "2.0.0";
export const SCHEMA_VERSIONS: readonly SchemaVersion[] = ["1.0.0", "2.0.0"];

export interface EnvVar {
  key: string;
  value: string;
  isRegex?: boolean;
}

export interface CommandTest {
  name: string;
  /** the executable (1.0.0's `command[0]`) */
  command: string;
  /** its arguments (1.0.0's `command[1:]`) */
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
  /** Go FileMode form, as cst compares it: "-rw-r--r--", "dtrwxrwxrwx", "Lrwxrwxrwx" */
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
  /** "" (or absent) is not checked, as in cst */
  workdir?: string;
  /** "" (or absent) is not checked, as in cst */
  user?: string;
}

export interface LicenseTest {
  /** check every /usr/share/doc/PACKAGE/copyright */
  debian: boolean;
  /** other files to check */
  files: string[];
}

export interface StructureConfig {
  schemaVersion: SchemaVersion;
  globalEnvVars?: EnvVar[];
  commandTests?: CommandTest[];
  fileExistenceTests?: FileExistenceTest[];
  fileContentTests?: FileContentTest[];
  metadataTest?: MetadataTest;
  licenseTests?: LicenseTest[];
  containerRunOptions?: { user?: string; envVars?: string[] };
  /** shellfree's own section: built-in checks to run, checks that do not fit the image (`skip`), and the checks' options */
  shellfree?: { checks?: string[]; skip?: string[]; [option: string]: unknown };
  /** where it was read from (for messages) */
  source?: string;
}

function fail(where: string, msg: string, version?: string): never {
  throw new RuntimeError("E_STRUCTURE", `${where}: ${msg}`, {
    hint: `see the container-structure-test schema ${version ?? "1.0.0 / 2.0.0"}`,
  });
}

type Doc = Record<string, unknown>;

/** Keys cst's strict YAML decoding would refuse. */
function onlyKeys(x: Doc, allowed: readonly string[], where: string, version: string): void {
  for (const k of Object.keys(x))
    if (!allowed.includes(k))
      fail(where, `unknown key "${k}" in schemaVersion ${version} (known: ${allowed.join(", ")})`, version);
}

function mapping(v: unknown, where: string): Doc {
  if (!v || typeof v !== "object" || Array.isArray(v)) fail(where, "expected a mapping");
  return v as Doc;
}

function list(v: unknown, where: string): unknown[] {
  if (!Array.isArray(v)) fail(where, "expected a list");
  return v;
}

function str(v: unknown, where: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean")
    fail(where, "expected a string");
  return String(v);
}

function strList(v: unknown, where: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string" && typeof x !== "number"))
    fail(where, "expected a list of strings");
  return (v as unknown[]).map(String);
}

function int(v: unknown, where: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Number.isInteger(v)) fail(where, "expected an integer");
  return v as number;
}

function bool(v: unknown, where: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") fail(where, "expected true or false");
  return v;
}

function envList(v: unknown, where: string, version: string): EnvVar[] | undefined {
  if (v === undefined || v === null) return undefined;
  return list(v, where).map((e, i) => {
    const w = `${where}[${i}]`;
    const x = mapping(e, w);
    onlyKeys(x, ["key", "value", "isRegex"], w, version);
    return {
      key: str(x.key, `${w}.key`) ?? "",
      value: str(x.value, `${w}.value`) ?? "",
      isRegex: bool(x.isRegex, `${w}.isRegex`) ?? false,
    };
  });
}

function checkRegexes(list: string[] | undefined, where: string, version: string): void {
  for (const r of list ?? []) {
    const err = re2Error(r);
    if (err) fail(where, `invalid regex ${JSON.stringify(r)} (RE2 syntax, as Go's regexp): ${err}`, version);
  }
}

function commandList(v: unknown, where: string, what: string, version: string): string[][] | undefined {
  if (v === undefined || v === null) return undefined;
  return list(v, where).map((c, j) => {
    const argv = strList(c, `${where}[${j}]`) ?? [];
    if (argv.length === 0) fail(`${where}[${j}]`, `an empty ${what} command`, version);
    return argv;
  });
}

function parseCommandTest(t: unknown, w: string, version: SchemaVersion): CommandTest {
  const x = mapping(t, w);
  const common = [
    "name",
    "setup",
    "teardown",
    "envVars",
    "exitCode",
    "command",
    "expectedOutput",
    "excludedOutput",
    "expectedError",
    "excludedError",
  ];
  onlyKeys(x, version === "1.0.0" ? common : [...common, "args"], w, version);
  const name = str(x.name, `${w}.name`);
  if (!name) fail(w, "name is required", version);
  const wn = `${w} (${name})`;
  let command: string;
  let args: string[] | undefined;
  if (version === "1.0.0") {
    if (typeof x.command === "string")
      fail(
        wn,
        'command must be an argv list in schemaVersion 1.0.0 (e.g. ["/usr/bin/app", "--version"])',
        version,
      );
    const argv = strList(x.command, `${wn}.command`) ?? [];
    if (argv.length === 0 || argv[0] === "") fail(wn, "command is required", version);
    [command, ...args] = argv;
  } else {
    if (Array.isArray(x.command))
      fail(wn, 'command is one string in schemaVersion 2.0.0; its arguments go in "args"', version);
    command = str(x.command, `${wn}.command`) ?? "";
    if (command === "") fail(wn, "command is required", version);
    args = strList(x.args, `${wn}.args`);
  }
  const envVars = envList(x.envVars, `${wn}.envVars`, version);
  for (const e of envVars ?? [])
    if (e.key === "" || e.value === "")
      fail(`${wn}.envVars`, "every env var needs a non-empty key and value", version);
  const ct: CommandTest = {
    name,
    command,
    args,
    envVars,
    setup: commandList(x.setup, `${wn}.setup`, "setup", version),
    teardown: commandList(x.teardown, `${wn}.teardown`, "teardown", version),
    expectedOutput: strList(x.expectedOutput, `${wn}.expectedOutput`),
    excludedOutput: strList(x.excludedOutput, `${wn}.excludedOutput`),
    expectedError: strList(x.expectedError, `${wn}.expectedError`),
    excludedError: strList(x.excludedError, `${wn}.excludedError`),
    exitCode: int(x.exitCode, `${wn}.exitCode`),
  };
  for (const k of ["expectedOutput", "excludedOutput", "expectedError", "excludedError"] as const)
    checkRegexes(ct[k], `${wn}.${k}`, version);
  return ct;
}

function parsePermissions(v: unknown, where: string, version: string): string | undefined {
  const p = str(v, `${where}.permissions`);
  if (p === undefined || p === "") return undefined;
  if (isGoFileMode(p)) return p;
  const go = lsToGoFileMode(p);
  if (go)
    fail(
      where,
      `permissions ${JSON.stringify(p)} is in ls form; container-structure-test compares Go's FileMode form: write ${JSON.stringify(go)}`,
      version,
    );
  fail(
    where,
    `permissions ${JSON.stringify(p)} is not a Go FileMode string like "-rwxr-xr-x" or "dtrwxrwxrwx"`,
    version,
  );
}

function parseFileExistenceTest(t: unknown, w: string, version: SchemaVersion): FileExistenceTest {
  const x = mapping(t, w);
  const v1 = ["name", "path", "shouldExist", "permissions"];
  onlyKeys(x, version === "1.0.0" ? v1 : [...v1, "uid", "gid", "isExecutableBy"], w, version);
  const name = str(x.name, `${w}.name`);
  if (!name) fail(w, "name is required", version);
  const wn = `${w} (${name})`;
  const path = str(x.path, `${wn}.path`);
  if (!path) fail(wn, "path is required", version);
  const isExecutableBy = str(x.isExecutableBy, `${wn}.isExecutableBy`) || undefined;
  if (isExecutableBy !== undefined && !["owner", "group", "other", "any"].includes(isExecutableBy))
    fail(wn, "isExecutableBy must be owner, group, other or any", version);
  const uid = int(x.uid, `${wn}.uid`);
  const gid = int(x.gid, `${wn}.gid`);
  return {
    name,
    path,
    shouldExist: bool(x.shouldExist, `${wn}.shouldExist`) ?? true,
    permissions: parsePermissions(x.permissions, wn, version),
    // cst's "not given" is -1
    uid: uid === -1 ? undefined : uid,
    gid: gid === -1 ? undefined : gid,
    isExecutableBy: isExecutableBy as FileExistenceTest["isExecutableBy"],
  };
}

function parseFileContentTest(t: unknown, w: string, version: SchemaVersion): FileContentTest {
  const x = mapping(t, w);
  onlyKeys(x, ["name", "path", "expectedContents", "excludedContents"], w, version);
  const name = str(x.name, `${w}.name`);
  if (!name) fail(w, "name is required", version);
  const wn = `${w} (${name})`;
  const path = str(x.path, `${wn}.path`);
  if (!path) fail(wn, "path is required", version);
  const ft = {
    name,
    path,
    expectedContents: strList(x.expectedContents, `${wn}.expectedContents`),
    excludedContents: strList(x.excludedContents, `${wn}.excludedContents`),
  };
  checkRegexes(ft.expectedContents, `${wn}.expectedContents`, version);
  checkRegexes(ft.excludedContents, `${wn}.excludedContents`, version);
  return ft;
}

function parseMetadataTest(v: unknown, w: string): MetadataTest {
  const version = "2.0.0";
  const x = mapping(v ?? {}, w);
  onlyKeys(
    x,
    [
      "envVars",
      "env",
      "unboundEnvVars",
      "exposedPorts",
      "unexposedPorts",
      "entrypoint",
      "cmd",
      "workdir",
      "volumes",
      "unmountedVolumes",
      "labels",
      "user",
    ],
    w,
    version,
  );
  const mt: MetadataTest = {
    envVars: envList(x.envVars ?? x.env, `${w}.envVars`, version),
    unboundEnvVars: envList(x.unboundEnvVars, `${w}.unboundEnvVars`, version),
    labels: envList(x.labels, `${w}.labels`, version),
    entrypoint: strList(x.entrypoint, `${w}.entrypoint`),
    cmd: strList(x.cmd, `${w}.cmd`),
    exposedPorts: strList(x.exposedPorts, `${w}.exposedPorts`),
    unexposedPorts: strList(x.unexposedPorts, `${w}.unexposedPorts`),
    volumes: strList(x.volumes, `${w}.volumes`),
    unmountedVolumes: strList(x.unmountedVolumes, `${w}.unmountedVolumes`),
    workdir: str(x.workdir, `${w}.workdir`),
    user: str(x.user, `${w}.user`),
  };
  // cst's MetadataTest.Validate
  for (const e of mt.envVars ?? [])
    if (e.key === "") fail(`${w}.envVars`, "an env var key is empty", version);
  for (const e of mt.labels ?? []) if (e.key === "") fail(`${w}.labels`, "a label key is empty", version);
  for (const p of mt.exposedPorts ?? []) if (p === "") fail(`${w}.exposedPorts`, "a port is empty", version);
  for (const p of mt.volumes ?? []) if (p === "") fail(`${w}.volumes`, "a volume is empty", version);
  for (const e of [...(mt.envVars ?? []), ...(mt.labels ?? [])])
    if (e.isRegex) checkRegexes([e.value], `${w} (${e.key})`, version);
  return mt;
}

function parseLicenseTest(t: unknown, w: string, version: SchemaVersion): LicenseTest {
  const x = mapping(t, w);
  onlyKeys(x, ["debian", "files"], w, version);
  return { debian: bool(x.debian, `${w}.debian`) ?? false, files: strList(x.files, `${w}.files`) ?? [] };
}

function tests<T>(v: unknown, where: string, each: (t: unknown, w: string) => T): T[] | undefined {
  if (v === undefined || v === null) return undefined;
  return list(v, where).map((t, i) => each(t, `${where}[${i}]`));
}

/** Validate and normalize a parsed structure-test document. */
export function parseStructure(doc: unknown, source = "structure test"): StructureConfig {
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) fail(source, "not a YAML mapping");
  const d = doc as Doc;
  if (d.schemaVersion === undefined || d.schemaVersion === null || d.schemaVersion === "")
    fail(source, `schemaVersion is required (${SCHEMA_VERSIONS.map((v) => `"${v}"`).join(" or ")})`);
  const version = String(d.schemaVersion) as SchemaVersion;
  if (!SCHEMA_VERSIONS.includes(version))
    fail(
      source,
      `unsupported schemaVersion ${JSON.stringify(d.schemaVersion)} (container-structure-test knows ${SCHEMA_VERSIONS.map((v) => `"${v}"`).join(" and ")})`,
    );
  const v1Keys = [
    "schemaVersion",
    "globalEnvVars",
    "commandTests",
    "fileExistenceTests",
    "fileContentTests",
    "licenseTests",
    "shellfree",
  ];
  const known = version === "1.0.0" ? v1Keys : [...v1Keys, "metadataTest", "containerRunOptions"];
  if (version === "1.0.0" && (d.metadataTest !== undefined || d.containerRunOptions !== undefined))
    fail(
      source,
      `${d.metadataTest !== undefined ? "metadataTest" : "containerRunOptions"} needs schemaVersion "2.0.0" (1.0.0 has no such section)`,
      version,
    );
  onlyKeys(d, known, source, version);
  const out: StructureConfig = {
    schemaVersion: version,
    source,
    globalEnvVars: envList(d.globalEnvVars, `${source}: globalEnvVars`, version),
  };
  for (const e of out.globalEnvVars ?? [])
    if (e.key === "") fail(`${source}: globalEnvVars`, "an env var key is empty", version);
  out.commandTests = tests(d.commandTests, `${source}: commandTests`, (t, w) =>
    parseCommandTest(t, w, version),
  );
  out.fileExistenceTests = tests(d.fileExistenceTests, `${source}: fileExistenceTests`, (t, w) =>
    parseFileExistenceTest(t, w, version),
  );
  out.fileContentTests = tests(d.fileContentTests, `${source}: fileContentTests`, (t, w) =>
    parseFileContentTest(t, w, version),
  );
  out.licenseTests = tests(d.licenseTests, `${source}: licenseTests`, (t, w) =>
    parseLicenseTest(t, w, version),
  );
  if (d.metadataTest !== undefined && d.metadataTest !== null)
    out.metadataTest = parseMetadataTest(d.metadataTest, `${source}: metadataTest`);
  if (d.containerRunOptions !== undefined && d.containerRunOptions !== null) {
    const x = mapping(d.containerRunOptions, `${source}: containerRunOptions`);
    onlyKeys(
      x,
      ["user", "privileged", "allocateTty", "envVars", "envFile", "capabilities", "bindMounts"],
      `${source}: containerRunOptions`,
      version,
    );
    const unsupported = Object.keys(x).filter((k) => k !== "user" && k !== "envVars");
    if (unsupported.length)
      warn(
        `${source}: containerRunOptions ${unsupported.join(", ")} not supported by shellfree test; ignored`,
      );
    out.containerRunOptions = {
      user: str(x.user, `${source}: containerRunOptions.user`) || undefined,
      envVars: strList(x.envVars, `${source}: containerRunOptions.envVars`),
    };
  }
  if (d.shellfree !== undefined) {
    const x = mapping(d.shellfree ?? {}, `${source}: shellfree`);
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
