/**
 * Docker credential helpers (`docker-credential-NAME`, the protocol of
 * docker/docker-credential-helpers): `docker-credential-NAME get` with the server URL on stdin
 * prints `{"ServerURL":…,"Username":…,"Secret":…}`; a Username of `<token>` means Secret is an
 * identity (OAuth2 refresh) token; "credentials not found in native keychain" on a failing exit
 * means "not logged in there". Run with a time limit and bounded output; its own error text is
 * passed on (one line, capped), never what it printed on success.
 */
import { spawnSync } from "node:child_process";
import { OciError } from "../errors.ts";

/** What a helper answered. */
export interface HelperCredentials {
  username: string;
  secret: string;
  /** Username was `<token>`: the secret is an identity token */
  identityToken: boolean;
}

/** The helper protocol's "not found" message (docker-credential-helpers credentials.errCredentialsNotFoundMessage). */
const NOT_FOUND = /credentials not found in native keychain/i;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const MAX_OUTPUT = 1 << 20;

/** Time limit for one helper call: $SHELLFREE_CREDENTIAL_HELPER_TIMEOUT_MS, default 30 s. */
export function helperTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.SHELLFREE_CREDENTIAL_HELPER_TIMEOUT_MS);
  return Number.isFinite(v) && v > 0 ? v : 30_000;
}

/**
 * Ask helper `name` for `serverUrl`'s credentials. Undefined when it has none. `origin` names
 * where the helper was configured (for messages: "FILE credHelpers["host"]").
 */
export function helperGet(
  name: string,
  serverUrl: string,
  origin: string,
  env: NodeJS.ProcessEnv = process.env,
): HelperCredentials | undefined {
  const program = `docker-credential-${name}`;
  const fail = (why: string, hint?: string): never => {
    throw new OciError(
      "E_REGISTRY_CREDS",
      `credential helper ${program} (${origin}) for ${serverUrl}: ${why}`,
      {
        hint: hint ?? `check the helper with: echo ${serverUrl} | ${program} get`,
      },
    );
  };
  if (!NAME.test(name))
    fail(`"${name}" is not a helper name`, "a helper name is the NAME of docker-credential-NAME");
  const timeoutMs = helperTimeoutMs(env);
  const r = spawnSync(program, ["get"], {
    input: serverUrl,
    env,
    timeout: timeoutMs,
    killSignal: "SIGKILL",
    maxBuffer: MAX_OUTPUT,
    encoding: "utf8",
    stdio: ["pipe", "pipe", "pipe"],
  });
  const err = r.error as NodeJS.ErrnoException | undefined;
  if (err?.code === "ENOENT")
    fail(`${program} is not on PATH`, `install ${program}, or remove "${name}" from ${origin}`);
  if (err?.code === "ETIMEDOUT" || (r.signal === "SIGKILL" && r.status === null))
    fail(`no answer within ${Number((timeoutMs / 1000).toFixed(1))} s (stopped it)`);
  if (err?.code === "ENOBUFS") fail(`printed more than ${MAX_OUTPUT} bytes`);
  if (err) fail(`cannot run it: ${err.code ?? err.message}`);
  if (r.status !== 0) {
    const text = `${r.stdout ?? ""}\n${r.stderr ?? ""}`;
    if (NOT_FOUND.test(text)) return undefined;
    const firstLine =
      text
        .split("\n")
        .map((l) => l.trim())
        .find((l) => l !== "") ?? "";
    fail(`exit ${r.status ?? r.signal}${firstLine ? `: ${firstLine.slice(0, 200)}` : ""}`);
  }
  let j: { Username?: unknown; Secret?: unknown };
  try {
    j = JSON.parse(r.stdout);
  } catch {
    // what it printed may hold the secret: not repeated here
    return fail("its answer is not JSON");
  }
  if (typeof j !== "object" || j === null || typeof j.Secret !== "string" || typeof j.Username !== "string")
    fail('its answer has no "Username" and "Secret" strings');
  const username = j.Username as string;
  const secret = j.Secret as string;
  if (secret === "") return undefined;
  return { username, secret, identityToken: username === "<token>" };
}
