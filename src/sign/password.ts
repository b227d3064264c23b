/**
 * The password of an encrypted key, as cosign gets it: `$COSIGN_PASSWORD` when set (an empty
 * value is an empty password), else asked for on the terminal — only when there is one (stdin
 * and stderr both TTYs), never echoed. Without either: an error that says how to give it.
 */
import { SignError } from "./errors.ts";

export interface PasswordOptions {
  /** what the password is for, e.g. "cosign.key" */
  what: string;
  /** ask twice and compare (a new key) */
  confirm?: boolean;
  env?: NodeJS.ProcessEnv;
}

export async function readPassword(opts: PasswordOptions): Promise<string> {
  const env = opts.env ?? process.env;
  if (env.COSIGN_PASSWORD !== undefined) return env.COSIGN_PASSWORD;
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new SignError(
      "E_PASSWORD",
      `${opts.what} needs a password and there is no terminal to ask for it`,
      {
        hint: "set COSIGN_PASSWORD",
      },
    );
  }
  const first = await prompt(`Enter password for ${opts.what}: `);
  if (opts.confirm) {
    const again = await prompt("Enter password again: ");
    if (again !== first) throw new SignError("E_PASSWORD", "the passwords do not match");
  }
  return first;
}

/** Read one line from the terminal without echo (raw mode); Ctrl-C aborts. */
function prompt(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    const chars: string[] = [];
    const wasRaw = stdin.isRaw;
    stdin.setRawMode(true);
    stdin.resume();
    const done = (err?: Error) => {
      stdin.off("data", onData);
      stdin.setRawMode(wasRaw);
      stdin.pause();
      process.stderr.write("\n");
      if (err) reject(err);
      else resolve(chars.join(""));
    };
    const onData = (data: Buffer) => {
      for (const ch of data.toString("utf8")) {
        if (ch === "\r" || ch === "\n" || ch === "\u0004") return done();
        if (ch === "\u0003") return done(new SignError("E_PASSWORD", "interrupted", { exitCode: 130 }));
        if (ch === "\u007f" || ch === "\b") chars.pop();
        else chars.push(ch);
      }
    };
    stdin.on("data", onData);
  });
}
