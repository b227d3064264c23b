/** Operating-system write failures as one clear line (no space left, read-only, ...). */
import { isShellfreeError } from "../errors.ts";
import { BuildError } from "./errors.ts";

const IO_ERRORS: Record<string, string> = {
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EROFS: "read-only file system",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOTDIR: "a path component is not a directory",
  EISDIR: "is a directory",
};

/** An operating-system write failure as one clear BuildError (E_IO); anything else unchanged. */
export function ioError(e: unknown, what: string): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (!code || !(code in IO_ERRORS) || isShellfreeError(e)) return e;
  const path = (e as NodeJS.ErrnoException).path;
  return new BuildError("E_IO", `${what}: ${IO_ERRORS[code]}${path ? ` (${path})` : ""}`, {
    hint:
      code === "ENOSPC" || code === "EDQUOT"
        ? "free some space (or choose another --output / --cache-dir)"
        : undefined,
    cause: e,
  });
}
