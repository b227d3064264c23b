/**
 * Clients in the test's network namespace: curl through the proxy (plain requests in absolute
 * form, HTTPS through CONNECT), openssl s_client through a CONNECT tunnel to see the certificate
 * a client gets, and GETs on the init's health port.
 */
import type { Netns } from "./netns.ts";

export const PROXY = "http://127.0.0.1:3128";

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** curl's exit code and error (0 and "" when the exchange completed) */
  curlCode: number;
  curlError: string;
}

/** One request through the proxy (`cacert`: the CA the client trusts for https://). */
export async function viaProxy(ns: Netns, url: string, opts: { cacert?: string } = {}): Promise<Reply> {
  const args = ["-sS", "--max-time", "15", "--proxy", PROXY, "--include", url];
  if (opts.cacert) args.push("--cacert", opts.cacert);
  const r = await ns.run("curl", args, { allowFail: true, timeoutMs: 30_000 });
  return parseReply(r.stdout, r.stderr, r.code ?? -1);
}

/** GET on the init's health server (8080). */
export async function health(ns: Netns, path: string): Promise<Reply> {
  const r = await ns.run("curl", ["-sS", "--max-time", "5", "--include", `http://127.0.0.1:8080${path}`], {
    allowFail: true,
    timeoutMs: 15_000,
  });
  return parseReply(r.stdout, r.stderr, r.code ?? -1);
}

/**
 * curl --include: header blocks, then the body (with a CONNECT, the proxy's "200 Connection
 * established" block comes first: the last block is the origin's). (--dump-header /dev/stderr
 * would keep them apart, but curl 7.88 crashes on it when its stderr is a pipe.)
 */
function parseReply(stdout: string, stderr: string, code: number): Reply {
  let rest = stdout;
  let last = "";
  while (/^HTTP\/\S+ \d{3}/.test(rest)) {
    const end = rest.indexOf("\r\n\r\n");
    if (end < 0) {
      last = rest;
      rest = "";
      break;
    }
    last = rest.slice(0, end);
    rest = rest.slice(end + 4);
  }
  const [statusLine, ...headerLines] = last.split(/\r?\n/);
  const headers: Record<string, string> = {};
  for (const h of headerLines) {
    const i = h.indexOf(":");
    if (i > 0) headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
  }
  const errorLine = stderr.split("\n").find((l) => l.startsWith("curl: ")) ?? "";
  return {
    status: Number(/^HTTP\/\S+ (\d{3})/.exec(statusLine ?? "")?.[1] ?? 0),
    headers,
    body: rest,
    curlCode: code,
    curlError: errorLine,
  };
}

/** The certificate a client sees for `host:443` through the proxy: subject, issuer, verification. */
export async function certThroughProxy(
  ns: Netns,
  host: string,
  cafile: string,
): Promise<{ subject: string; issuer: string; verify: string; output: string }> {
  const r = await ns.run(
    "openssl",
    [
      "s_client",
      "-proxy",
      "127.0.0.1:3128",
      "-connect",
      `${host}:443`,
      "-servername",
      host,
      "-CAfile",
      cafile,
    ],
    { allowFail: true, timeoutMs: 30_000, input: "" },
  );
  const out = r.stdout + r.stderr;
  return {
    subject: /^subject=\s*(.*)$/m.exec(out)?.[1]?.trim() ?? "",
    issuer: /^issuer=\s*(.*)$/m.exec(out)?.[1]?.trim() ?? "",
    verify: /Verify return code: (.*)$/m.exec(out)?.[1]?.trim() ?? "",
    output: out,
  };
}
