/**
 * The API of src/python: Python dependencies (wheels from requirements files, lockfiles,
 * wheel directories and simple indexes, installed as pip would) and bytecode compiled by the
 * image's own interpreter (see plan.ts for the flow). The builder's python-deps.ts and
 * bytecode.ts steps use it for the spec's `python:` section.
 */
export {
  BYTECODE_VERSION,
  type BytecodeOptions,
  type BytecodeResult,
  compileBytecode,
  findPythonSources,
  type InvalidationMode,
  type PycFile,
  pycHeader,
} from "./bytecode.ts";
export { fetchWheel, fetchWheels, wheelCachePath } from "./download.ts";
export { PythonError } from "./errors.ts";
export { addToRecord, dirsOf, INSTALL_VERSION, installWheel, type WheelToInstall } from "./install.ts";
export {
  findImageInterpreter,
  type ImageInterpreter,
  type InterpreterResult,
  runPython,
  which,
} from "./interpreter.ts";
export type { LockOptions } from "./lockdata.ts";
export { readLockfile } from "./lockfile.ts";
export { markerMatches, parseMarker } from "./markers.ts";
export { normalizeName } from "./names.ts";
export type { NetOptions } from "./net.ts";
export { type IndexConfig, indexConfig } from "./pipconfig.ts";
export {
  installWheels,
  type LockedWheel,
  type PythonDepsOptions,
  type PythonDepsSpec,
  type ResolvedPythonDeps,
  resolvePythonDeps,
} from "./plan.ts";
export { type ParsedRequirements, parseRequirements, readRequirementsFile } from "./requirements.ts";
export { type PythonSbomEntry, pypiPurl, sbomEntry } from "./sbom.ts";
export { describeTarget, selectWheel } from "./select.ts";
export { listProjectFiles } from "./simple-index.ts";
export { platformTags, supportedTags, tagPriorities } from "./tags.ts";
export {
  ARCHES,
  archInfo,
  debianScheme,
  hostArch,
  type InstallScheme,
  markerEnvironment,
  type PythonTarget,
  pythonShort,
  targetFromDebian,
} from "./target.ts";
export type * from "./types.ts";
export { parseWheelName, type WheelName } from "./wheelname.ts";
