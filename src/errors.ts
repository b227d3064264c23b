/**
 * Base class of every user-facing error. Each subsystem subclasses it once (DebianError,
 * OciError, BuildError, ...) in its errors.ts, whose comment lists every code it uses. The CLI
 * prints `shellfree: <message>` (+ hint) and exits with `exitCode`, without a stack trace.
 *
 * Codes of the shared helpers (src/util) and of the CLI itself:
 * - E_HTTP: an HTTP request answered with an error status (E_NOT_FOUND for 404)
 * - E_NOT_FOUND: the resource asked for does not exist (HTTP 404)
 * - E_NETWORK: a host cannot be reached, even after retries
 * - E_USAGE: flags that contradict each other or have no valid value (exit 2)
 * - E_INTERNAL: a bug (exit 70, with a stack trace); only the code of the JSON error under --json
 * - E_INIT_CONFIG: `shellfree init-config` cannot read or check its file
 * - E_IO: the operating system refused a file operation on a path (no space left, read-only,
 *   permission denied, no such directory ...): util/io-error.ts
 * - E_BUSY: a lock (an OCI layout's index.json.lock) stayed held by a live process too long
 * - E_TIMEOUT: a network operation made no progress within the timeout, retries included
 */
export class ShellfreeError extends Error {
  readonly code: string;
  readonly hint?: string;
  /** 1 user error, 2 usage, 3 verification failed. */
  readonly exitCode: number;

  constructor(
    code: string,
    message: string,
    opts: { hint?: string; exitCode?: number; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? 1;
  }
}

export function isShellfreeError(e: unknown): e is ShellfreeError {
  return e instanceof ShellfreeError;
}

/** What an errno code means, for messages ("no space left on device"). */
export const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EROFS: "read-only file system",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EIO: "input/output error",
  EMFILE: "too many open files",
  ENFILE: "too many open files in the system",
  EFBIG: "file too large for the file system",
  ENAMETOOLONG: "file name too long",
  ELOOP: "too many levels of symbolic links",
  ENOENT: "no such file or directory",
  ENOTDIR: "a path component is not a directory",
  EISDIR: "is a directory",
  EEXIST: "already exists",
  ENOTEMPTY: "directory not empty",
  EXDEV: "cannot move across file systems",
};

/** The cause of a failed file operation in words: "no such file or directory", else its code or message. */
export function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code && ERRNO_TEXT[code]) return ERRNO_TEXT[code];
  return code ?? (e instanceof Error ? e.message : String(e));
}
