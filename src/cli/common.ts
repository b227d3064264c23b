/**
 * Shared CLI plumbing: every command's action runs through `action()`, which turns a
 * ShellfreeError into `shellfree: <message>` (+ `hint: ...`) on stderr and its exit code,
 * with no stack trace. Unexpected errors print their stack (they are bugs).
 */
import { readFileSync } from "node:fs";
import { type Command, CommanderError, Option } from "commander";
import { isShellfreeError, ShellfreeError } from "../errors.ts";
import { parseTimeoutSeconds, setNetTimeout } from "../util/http.ts";
import { environmentIoError } from "../util/io-error.ts";
import { redactSecrets } from "../util/secrets.ts";

const PACKAGE = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
  homepage?: string;
};

export const VERSION: string = PACKAGE.version;

/** The project's documentation URL (package.json `homepage`), when it has one. */
export const HOMEPAGE: string | undefined = PACKAGE.homepage;

/**
 * Machine-readable output was asked for (`--json`, or `--format json` where a command has it)
 * anywhere before `--`: errors are then also a JSON document on stdout.
 */
export function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf("--");
  const args = end < 0 ? argv : argv.slice(0, end);
  return args.some(
    (a, i) => a === "--json" || a === "--format=json" || (a === "--format" && args[i + 1] === "json"),
  );
}

/** A command printed its JSON result (which says what failed): an error after it adds no second document. */
let jsonResultWritten = false;

/** The JSON document an error is under --json: `{"error": {code, message, hint?, exitCode}}`. */
export function errorJson(code: string, message: string, exitCode: number, hint?: string): string {
  return `${JSON.stringify({ error: { code, message, ...(hint ? { hint } : {}), exitCode } }, null, 2)}\n`;
}

/**
 * Report an error and exit. stderr gets `shellfree: MESSAGE` (+ `hint: ...`), a bug its stack
 * too; under --json stdout also gets the error as JSON (see `errorJson`).
 */
export function fail(e: unknown): never {
  // under --json stdout is one document: the command's result, else the error
  const json = wantsJson(process.argv.slice(2)) && !jsonResultWritten;
  // no space, read-only, permissions: one line naming the path, never "internal error"
  e = environmentIoError(e) ?? e;
  if (isShellfreeError(e)) {
    process.stderr.write(redactSecrets(`shellfree: ${e.message}\n`));
    if (e.hint) process.stderr.write(redactSecrets(`hint: ${e.hint}\n`));
    if (json) process.stdout.write(redactSecrets(errorJson(e.code, e.message, e.exitCode, e.hint)));
    process.exit(e.exitCode);
  }
  if (e instanceof CommanderError) {
    // commander printed its message on stderr already
    const exitCode = e.exitCode === 0 ? 0 : 2;
    if (json && exitCode !== 0 && !/^commander\.(help|version|helpDisplayed)/.test(e.code))
      process.stdout.write(redactSecrets(errorJson("E_USAGE", e.message.replace(/^error: /, ""), exitCode)));
    process.exit(exitCode);
  }
  process.stderr.write(
    redactSecrets(`shellfree: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`),
  );
  if (json) {
    const bug = new ShellfreeError(
      "E_INTERNAL",
      `internal error: ${e instanceof Error ? e.message : String(e)}`,
      { exitCode: 70 },
    );
    process.stdout.write(redactSecrets(errorJson(bug.code, bug.message, bug.exitCode)));
  }
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
  if (json) jsonResultWritten = true;
  if (json) process.stdout.write(redactSecrets(`${JSON.stringify(data, null, 2)}\n`));
  else {
    const t = redactSecrets(text());
    if (t) process.stdout.write(t.endsWith("\n") ? t : `${t}\n`);
  }
}

/**
 * A value that may be given as a positional argument or as an option (`pull SRC DEST` or
 * `pull SRC -o DEST`; `build SPEC` or `build -f SPEC`): one of them, or both when they agree.
 * `required` with neither is a usage error; otherwise undefined.
 */
export function positionalOrOption(
  name: string,
  positional: string | undefined,
  flag: string,
  option: string | undefined,
  required = true,
): string {
  if (positional !== undefined && option !== undefined && positional !== option) {
    throw new ShellfreeError("E_USAGE", `${name} given twice: "${positional}" and ${flag} "${option}"`, {
      hint: `give ${name} once, as an argument or with ${flag}`,
      exitCode: 2,
    });
  }
  const v = positional ?? option;
  if (v === undefined && required) {
    throw new ShellfreeError("E_USAGE", `missing ${name}`, {
      hint: `give ${name} as an argument or with ${flag}`,
      exitCode: 2,
    });
  }
  return v as string;
}

/**
 * `-o, --output <value>` for a command that writes a directory or file, with the older `--out`
 * kept as a hidden alias: -o/--output is the command's destination in every command.
 */
export function addOutputOption(cmd: Command, flags: string, description: string): Command {
  return cmd
    .option(`-o, --output ${flags}`, description)
    .addOption(new Option(`--out ${flags}`, "the same as --output").hideHelp());
}

/** The value of -o/--output (or its alias --out); a usage error when neither or two different ones are given. */
export function outputValue(opts: { output?: string; out?: string }): string {
  if (opts.output !== undefined && opts.out !== undefined && opts.output !== opts.out)
    throw new ShellfreeError("E_USAGE", `--output and --out name different places`, { exitCode: 2 });
  const v = opts.output ?? opts.out;
  if (v === undefined)
    throw new ShellfreeError("E_USAGE", "missing -o/--output", {
      hint: "give where to write with -o DIR",
      exitCode: 2,
    });
  return v;
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

/**
 * `--tls-verify[=true|false]` as skopeo has it: `=false` is `--insecure`; `--tls-verify` or
 * `=true` checks certificates even for localhost and 127.0.0.0/8. A bare `--tls-verify` never
 * takes the next argument as its value (see `normalizeArgv`).
 */
function tlsVerifyOption(): Option {
  return new Option(
    "--tls-verify [bool]",
    "--tls-verify=false: the same as --insecure; --tls-verify: HTTPS with certificate checks even for localhost and 127.0.0.0/8",
  ).argParser((v: string) => {
    const b = v.toLowerCase();
    if (b === "true" || b === "1") return true;
    if (b === "false" || b === "0") return false;
    throw new ShellfreeError("E_USAGE", `--tls-verify takes true or false, got "${v}"`, { exitCode: 2 });
  });
}

/** Bare boolean-or-value flags get their value spelt out, so that none swallows a positional. */
export function normalizeArgv(argv: string[]): string[] {
  const end = argv.indexOf("--");
  return argv.map((a, i) => (a === "--tls-verify" && (end < 0 || i < end) ? "--tls-verify=true" : a));
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
    .addOption(tlsVerifyOption());
}

/**
 * --insecure with --tls-verify(=true) is a usage error; --tls-verify=false becomes --insecure
 * (in place: what follows reads `insecure` and `tlsVerify === true` only).
 */
export function checkRegistryFlags(flags: RegistryFlags): void {
  if (flags.insecure && flags.tlsVerify === true) {
    throw new ShellfreeError("E_USAGE", "--insecure and --tls-verify contradict each other", { exitCode: 2 });
  }
  if (flags.tlsVerify === false) {
    flags.insecure = true;
    flags.tlsVerify = undefined;
  }
}

/** The flags `addImageReadOptions` defines. */
export interface ImageReadFlags extends RegistryFlags {
  platform?: string;
}

/**
 * `--platform`, `--creds`, `--insecure`, `--tls-verify` (and `--timeout`, except on `test`, whose --timeout is
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
    .option("--insecure", "registry: HTTPS without certificate checks, or plain HTTP")
    .addOption(tlsVerifyOption());
}
