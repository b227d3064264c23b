/**
 * Shared CLI plumbing: every command's action runs through `action()`, which turns a
 * ShellfreeError into `shellfree: <message>` (+ `hint: ...`) on stderr and its exit code,
 * with no stack trace. Unexpected errors print their stack (they are bugs).
 */
import { readFileSync } from "node:fs";
import { type Command, CommanderError } from "commander";
import { isShellfreeError, ShellfreeError } from "../errors.ts";
import { parseTimeoutSeconds, setNetTimeout } from "../util/http.ts";
import { environmentIoError } from "../util/io-error.ts";
import { redactSecrets } from "../util/secrets.ts";

export const VERSION: string = JSON.parse(
  readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
).version;

export function fail(e: unknown): never {
  // no space, read-only, permissions: one line naming the path, never "internal error"
  e = environmentIoError(e) ?? e;
  if (isShellfreeError(e)) {
    process.stderr.write(redactSecrets(`shellfree: ${e.message}\n`));
    if (e.hint) process.stderr.write(redactSecrets(`hint: ${e.hint}\n`));
    process.exit(e.exitCode);
  }
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2);
  process.stderr.write(
    redactSecrets(`shellfree: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`),
  );
  process.exit(70);
}

/** Wrap a command action: errors become one clear line and an exit code. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<unknown>) {
  return async (...args: A): Promise<void> => {
    try {
      const code = await fn(...args);
      if (typeof code === "number" && code !== 0) process.exitCode = code;
    } catch (e) {
      fail(e);
    }
  };
}

/** Print a result to stdout: JSON when asked, text otherwise. */
export function output(json: boolean, data: unknown, text: () => string): void {
  if (json) process.stdout.write(redactSecrets(`${JSON.stringify(data, null, 2)}\n`));
  else {
    const t = redactSecrets(text());
    if (t) process.stdout.write(t.endsWith("\n") ? t : `${t}\n`);
  }
}

/** "a,b" and repeated flags → ["a","b"] */
export function collectList(value: string, previous: string[] = []): string[] {
  return previous.concat(
    value
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );
}

/** A command group shared by several command modules (e.g. `shellfree debian ...`): created once. */
export function group(program: Command, name: string, description: string): Command {
  return program.commands.find((c) => c.name() === name) ?? program.command(name).description(description);
}

/**
 * `--timeout SECONDS` on every command that does network I/O: how long a connection, an answer
 * or a download may make no progress (util/http.ts; default 30, $SHELLFREE_TIMEOUT); a request
 * gives up, retries included, after four times that.
 */
export function addTimeoutOption(cmd: Command): Command {
  return cmd
    .option(
      "--timeout <seconds>",
      "network: give up on a connection, answer or download that makes no progress this long (default 30, $SHELLFREE_TIMEOUT); retries stop after 4× this",
    )
    .hook("preAction", (_cmd, actionCmd) => {
      const v = actionCmd.opts().timeout;
      if (v === undefined) return;
      const s = parseTimeoutSeconds(String(v));
      if (s === undefined) {
        throw new ShellfreeError(
          "E_USAGE",
          `--timeout must be a number of seconds from 0.1 to 3600, got ${JSON.stringify(v)}`,
          {
            exitCode: 2,
          },
        );
      }
      setNetTimeout(s);
    });
}

/** $SHELLFREE_TIMEOUT, when set, must be a number of seconds (checked before any command runs). */
export function checkTimeoutEnv(): void {
  const v = process.env.SHELLFREE_TIMEOUT;
  if (v !== undefined && v !== "" && parseTimeoutSeconds(v) === undefined) {
    throw new ShellfreeError(
      "E_USAGE",
      `$SHELLFREE_TIMEOUT must be a number of seconds from 0.1 to 3600, got ${JSON.stringify(v)}`,
      {
        exitCode: 2,
      },
    );
  }
}

/** `--creds`, `--insecure`, `--tls-verify`: how push and pull talk to a registry. */
export interface RegistryFlags {
  creds?: string;
  insecure?: boolean;
  tlsVerify?: boolean;
}

export function addRegistryOptions(cmd: Command): Command {
  return addTimeoutOption(cmd)
    .option(
      "--creds <user:password>",
      "registry credentials (else $SHELLFREE_REGISTRY_USER/_PASSWORD or the auth files)",
    )
    .option(
      "--insecure",
      "insecure registry: HTTPS without certificate checks, or plain HTTP (automatic for localhost and 127.0.0.0/8)",
    )
    .option("--tls-verify", "HTTPS with certificate checks even for localhost and 127.0.0.0/8");
}

/** --insecure and --tls-verify together are a usage error. */
export function checkRegistryFlags(flags: RegistryFlags): void {
  if (flags.insecure && flags.tlsVerify) {
    throw new ShellfreeError("E_USAGE", "--insecure and --tls-verify contradict each other", { exitCode: 2 });
  }
}

/** The flags `addImageReadOptions` defines. */
export interface ImageReadFlags {
  platform?: string;
  creds?: string;
  insecure?: boolean;
}

/**
 * `--platform`, `--creds`, `--insecure` (and `--timeout`, except on `test`, whose --timeout is
 * its commands' limit: $SHELLFREE_TIMEOUT there): how verify, outdated and test read an image
 * (also from a registry).
 */
export function addImageReadOptions(cmd: Command, platformHelp: string, timeout = true): Command {
  return (timeout ? addTimeoutOption(cmd) : cmd)
    .option("--platform <os/arch>", platformHelp)
    .option(
      "--creds <user:password>",
      "registry credentials for registry: references (else $SHELLFREE_REGISTRY_USER/_PASSWORD or the auth files)",
    )
    .option("--insecure", "registry: HTTPS without certificate checks, or plain HTTP");
}
