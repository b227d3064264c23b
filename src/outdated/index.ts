/** outdated: which installed Debian packages (of a lock or an image) the archive has newer, and which are security fixes. */
export {
  type ArchiveAccess,
  type CheckedSource,
  checkOutdated,
  type OutdatedResult,
  type TargetResult,
} from "./check.ts";
export { type Comparison, compareInstalled } from "./compare.ts";
export { parseDpkgStatus, parseSourceField } from "./dpkg-status.ts";
export { OutdatedError } from "./errors.ts";
export { debianArch, type ImageDb, readImageDb } from "./image-db.ts";
export { type InputOptions, isImageRef, readInstalled } from "./input.ts";
export {
  EXIT_SECURITY,
  EXIT_UPDATES,
  exitCodeFor,
  FAIL_ON,
  type FailOn,
  formatOutdated,
  type OutdatedJson,
  type OutdatedStatus,
  outdatedJson,
  statusOf,
} from "./report.ts";
export type * from "./types.ts";
