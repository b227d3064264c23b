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
