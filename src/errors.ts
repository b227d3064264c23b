/**
 * Base class of every user-facing error. Each subsystem subclasses it once (DebianError,
 * OciError, BuildError, ...) and gives every failure a stable `code` (E_SIGNATURE, E_SPEC, ...).
 * The CLI prints `shellfree: <message>` (+ hint) and exits with `exitCode`, without a stack trace.
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
