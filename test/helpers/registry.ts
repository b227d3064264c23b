/**
 * A real registry for tests: Debian's `docker-registry` (distribution 2.8) on 127.0.0.1 with
 * its own storage dir, optionally behind htpasswd Basic auth or token auth (with a small token
 * server started here), and a counting proxy in front that records every request and can cut a
 * connection once mid-body (fault injection). Everything is stopped and removed by `stop()`.
 *
 *   const reg = await startRegistry({ htpasswd: { user: "u", password: "p" } });
 *   try { ... reg.host ... reg.blobUploadRequests() ... } finally { await reg.stop(); }
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash, generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./net.ts";

export interface RequestRecord {
  method: string;
  /** path and query */
  url: string;
  status: number;
  /** request body bytes the proxy saw */
  bytesIn: number;
  /** the Authorization scheme sent ("basic", "bearer" or "") */
  auth: string;
  /** the Content-Range request header, if any */
  contentRange?: string;
}

export interface TestRegistry {
  /** 127.0.0.1:PORT of the counting proxy: what clients should use */
  host: string;
  /** 127.0.0.1:PORT of the registry itself (no counting) */
  directHost: string;
  dir: string;
  requests: RequestRecord[];
  /** requests that upload blob data (POST/PATCH/PUT under /blobs/uploads/) */
  blobUploadRequests(): RequestRecord[];
  /**
   * Cut the connection of the next matching request once its body passes `afterBytes` (once).
   * With `buffer`, the proxy holds that request's body back until it is complete (as a buffering
   * load balancer does), so a cut request never reaches the registry at all; without it the
   * registry has received the bytes before the cut.
   */
  cutOnce(afterBytes: number, match?: (method: string, url: string) => boolean, buffer?: boolean): void;
  /** how many connections were cut so far */
  cuts(): number;
  /**
   * Answer the next `times` matching requests with `status` (a registry error body) instead of
   * forwarding them (fault injection: 500, 503, 429 ...).
   */
  failNext(
    status: number,
    match: (method: string, url: string) => boolean,
    times?: number,
    headers?: Record<string, string>,
  ): void;
  /** the registry's log */
  log(): Promise<string>;
  /** with `tls`: the registry's self-signed certificate (PEM file) */
  tlsCert?: string;
  token?: TokenServer;
  stop(): Promise<void>;
}

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  certPath: string;
  /** scopes asked for, one entry per token request (`grant`: "refresh_token" for OAuth2 POSTs) */
  requests: Array<{ scopes: string[]; user: string | null; granted: boolean; grant?: string }>;
  stop(): Promise<void>;
}

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return (server.address() as AddressInfo).port;
}

async function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
}

/** The key id libtrust (used by distribution) derives from a public key: base32 of SHA-256(SPKI DER)[:30], in groups of 4. */
export function libtrustKeyId(spkiDer: Buffer): string {
  const bytes = createHash("sha256").update(spkiDer).digest().subarray(0, 30);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  let out = "";
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out.match(/.{1,4}/g)?.join(":") ?? out;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");

/**
 * A token server (Docker registry token auth): GET /token?service=..&scope=.. with Basic
 * credentials → a JWT (RS256) granting the scopes asked for. Wrong credentials → 401.
 * Anonymous requests get a token with no access. With `refreshToken`, also the OAuth2 form
 * docker uses for identity tokens: POST /token (form: grant_type=refresh_token, refresh_token,
 * service, scope space-separated, client_id) → the same JWT as access_token; a wrong refresh
 * token → 401 invalid_grant. Without it, POST is 404 (a server without OAuth).
 */
export async function startTokenServer(
  dir: string,
  opts: { user: string; password: string; service?: string; issuer?: string; refreshToken?: string },
): Promise<TokenServer> {
  const service = opts.service ?? "shellfree-test-registry";
  const issuer = opts.issuer ?? "shellfree-test-issuer";
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const keyPath = join(dir, "token.key");
  const certPath = join(dir, "token.crt");
  await writeFile(keyPath, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-new",
      "-key",
      keyPath,
      "-subj",
      "/CN=shellfree-test-token",
      "-days",
      "2",
      "-out",
      certPath,
    ],
    {
      stdio: "ignore",
    },
  );
  const kid = libtrustKeyId(publicKey.export({ type: "spki", format: "der" }));
  const requests: TokenServer["requests"] = [];
  const issue = (req: http.IncomingMessage, res: http.ServerResponse, form?: URLSearchParams) => {
    const u = new URL(req.url ?? "/", "http://x");
    let scopes = u.searchParams.getAll("scope");
    const auth = req.headers.authorization ?? "";
    let user: string | null = null;
    let ok = true;
    if (form) {
      scopes = (form.get("scope") ?? "").split(" ").filter(Boolean);
      ok = form.get("grant_type") === "refresh_token" && form.get("refresh_token") === opts.refreshToken;
      user = ok ? opts.user : null;
      requests.push({ scopes, user, granted: ok, grant: form.get("grant_type") ?? "" });
      if (!ok) {
        res.writeHead(401, { "Content-Type": "application/json" });
        res.end(
          JSON.stringify({ error: "invalid_grant", error_description: "the refresh token is not valid" }),
        );
        return;
      }
      u.searchParams.set("service", form.get("service") ?? service);
    } else {
      if (auth.startsWith("Basic ")) {
        const dec = Buffer.from(auth.slice(6), "base64").toString("utf8");
        const i = dec.indexOf(":");
        user = dec.slice(0, i);
        ok = user === opts.user && dec.slice(i + 1) === opts.password;
      }
      requests.push({ scopes, user, granted: ok && user !== null });
    }
    if (!ok) {
      res.writeHead(401, { "Content-Type": "application/json" });
      res.end(
        JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "invalid username or password" }] }),
      );
      return;
    }
    const access =
      user === null
        ? []
        : scopes.map((s) => {
            const [type, ...rest] = s.split(":");
            const actions = rest.pop() ?? "";
            return { type, name: rest.join(":"), actions: actions.split(",").filter(Boolean) };
          });
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: "JWT", alg: "RS256", kid };
    const claims = {
      iss: issuer,
      sub: user ?? "",
      aud: u.searchParams.get("service") ?? service,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(8).toString("hex"),
      access,
    };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = sign("sha256", Buffer.from(signingInput), privateKey);
    const token = `${signingInput}.${b64url(sig)}`;
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(
      JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }),
    );
  };
  const server = http.createServer((req, res) => {
    if (req.method !== "POST") {
      issue(req, res);
      return;
    }
    if (opts.refreshToken === undefined) {
      req.resume();
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => issue(req, res, new URLSearchParams(Buffer.concat(chunks).toString("utf8"))));
  });
  const port = await listen(server);
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certPath,
    requests,
    stop: () => closeServer(server),
  };
}

export interface StartOptions {
  /** htpasswd Basic auth with this one account */
  htpasswd?: { user: string; password: string };
  /** token auth with a token server started here, accepting this one account (and refresh token) */
  token?: { user: string; password: string; refreshToken?: string };
  /**
   * Serve HTTPS with a self-signed certificate for 127.0.0.1 (`tlsCert` is its path). The
   * counting proxy speaks plain HTTP, so with TLS `host` is the registry itself and nothing is
   * counted.
   */
  tls?: boolean;
}

async function waitReady(port: number, proc: ChildProcess, logPath: string, tls: boolean): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) {
      throw new Error(
        `docker-registry exited (${proc.exitCode}): ${await readFile(logPath, "utf8").catch(() => "")}`,
      );
    }
    const ok = await new Promise<boolean>((r) => {
      const get = tls ? https.get : http.get;
      const req = get(
        { host: "127.0.0.1", port, path: "/v2/", timeout: 1000, rejectUnauthorized: false },
        (res) => {
          res.resume();
          r(true);
        },
      );
      req.on("error", () => r(false));
      req.on("timeout", () => {
        req.destroy();
        r(false);
      });
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`docker-registry did not answer on 127.0.0.1:${port} within 15 s`);
}

/** Start docker-registry (and the counting proxy, and a token server when asked). */
export async function startRegistry(opts: StartOptions = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), "shellfree-registry-"));
  const cleanups: Array<() => Promise<void>> = [() => rm(dir, { recursive: true, force: true })];
  const cleanup = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  };
  try {
    const port = await freePort();
    let auth = "";
    let token: TokenServer | undefined;
    if (opts.htpasswd) {
      const line = execFileSync("htpasswd", ["-Bbn", opts.htpasswd.user, opts.htpasswd.password], {
        encoding: "utf8",
      });
      await writeFile(join(dir, "htpasswd"), line.trim() + "\n");
      auth = `auth:\n  htpasswd:\n    realm: shellfree-test\n    path: ${join(dir, "htpasswd")}\n`;
    } else if (opts.token) {
      token = await startTokenServer(dir, opts.token);
      cleanups.push(() => (token as TokenServer).stop());
      auth =
        `auth:\n  token:\n    realm: ${token.realm}\n    service: ${token.service}\n` +
        `    issuer: ${token.issuer}\n    rootcertbundle: ${token.certPath}\n`;
    }
    let tls = "";
    let tlsCert: string | undefined;
    if (opts.tls) {
      tlsCert = join(dir, "tls.crt");
      const key = join(dir, "tls.key");
      execFileSync(
        "openssl",
        [
          "req",
          "-x509",
          "-newkey",
          "rsa:2048",
          "-nodes",
          "-keyout",
          key,
          "-out",
          tlsCert,
          "-days",
          "2",
        ].concat(["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]),
        { stdio: "ignore" },
      );
      tls = `  tls:\n    certificate: ${tlsCert}\n    key: ${key}\n`;
    }
    const config =
      "version: 0.1\n" +
      "log:\n  level: info\n  formatter: text\n" +
      `storage:\n  filesystem:\n    rootdirectory: ${join(dir, "data")}\n  delete:\n    enabled: true\n` +
      `http:\n  addr: 127.0.0.1:${port}\n  secret: ${randomBytes(16).toString("hex")}\n${tls}` +
      auth;
    const cfgPath = join(dir, "config.yml");
    await writeFile(cfgPath, config);
    const logPath = join(dir, "registry.log");
    const logStream = createWriteStream(logPath);
    const proc = spawn("docker-registry", ["serve", cfgPath], { stdio: ["ignore", "pipe", "pipe"] });
    proc.stdout?.pipe(logStream, { end: false });
    proc.stderr?.pipe(logStream, { end: false });
    cleanups.push(async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise<void>((r) => proc.once("exit", () => r()));
        proc.kill("SIGTERM");
        const t = setTimeout(() => proc.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(t);
      }
      logStream.end();
    });
    await waitReady(port, proc, logPath, opts.tls === true);

    // the counting (and cutting) proxy
    const requests: RequestRecord[] = [];
    let cut: { after: number; match?: (m: string, u: string) => boolean; buffer?: boolean } | undefined;
    let cuts = 0;
    let fail:
      | {
          status: number;
          match: (m: string, u: string) => boolean;
          left: number;
          headers?: Record<string, string>;
        }
      | undefined;
    const upstreamAgent = new http.Agent({ keepAlive: true });
    const proxy = http.createServer((req, res) => {
      const rec: RequestRecord = {
        method: req.method ?? "",
        url: req.url ?? "",
        status: 0,
        bytesIn: 0,
        auth: (req.headers.authorization ?? "").split(" ")[0].toLowerCase(),
      };
      const cr = req.headers["content-range"];
      if (cr) rec.contentRange = cr;
      requests.push(rec);
      if (fail && fail.left > 0 && fail.match(rec.method, rec.url)) {
        fail.left--;
        const status = fail.status;
        const extra = fail.headers ?? {};
        rec.status = status;
        req.resume();
        req.on("end", () => {
          res.writeHead(status, { "Content-Type": "application/json", ...extra });
          res.end(JSON.stringify({ errors: [{ code: "UNAVAILABLE", message: "injected failure" }] }));
        });
        return;
      }
      const armed = cut && (!cut.match || cut.match(rec.method, rec.url)) ? cut : undefined;
      const up = http.request(
        {
          host: "127.0.0.1",
          port,
          method: req.method,
          path: req.url,
          headers: req.headers,
          agent: upstreamAgent,
        },
        (ures) => {
          rec.status = ures.statusCode ?? 0;
          res.writeHead(ures.statusCode ?? 502, ures.headers);
          ures.pipe(res);
        },
      );
      up.on("error", () => {
        if (!res.headersSent) res.writeHead(502);
        res.destroy();
      });
      const held: Buffer[] = [];
      req.on("data", (c: Buffer) => {
        rec.bytesIn += c.length;
        if (armed && cut === armed && rec.bytesIn > armed.after) {
          cut = undefined;
          cuts++;
          rec.status = -1;
          req.socket.destroy();
          up.destroy();
          return;
        }
        if (armed?.buffer) {
          held.push(c);
          return;
        }
        if (!up.write(c)) {
          req.pause();
          up.once("drain", () => req.resume());
        }
      });
      req.on("end", () => up.end(held.length > 0 ? Buffer.concat(held) : undefined));
      req.on("error", () => up.destroy());
    });
    const proxyPort = await listen(proxy);
    cleanups.push(async () => {
      await closeServer(proxy);
      upstreamAgent.destroy();
    });
    return {
      host: opts.tls ? `127.0.0.1:${port}` : `127.0.0.1:${proxyPort}`,
      tlsCert,
      directHost: `127.0.0.1:${port}`,
      dir,
      requests,
      blobUploadRequests: () =>
        requests.filter(
          (r) => ["POST", "PATCH", "PUT"].includes(r.method) && r.url.includes("/blobs/uploads/"),
        ),
      cutOnce(afterBytes, match, buffer) {
        cut = { after: afterBytes, match, buffer };
      },
      cuts: () => cuts,
      failNext(status, match, times = 1, headers) {
        fail = { status, match, left: times, headers };
      },
      log: () => readFile(logPath, "utf8"),
      token,
      stop: cleanup,
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

export interface OneImageServer {
  /** HOST:PORT; the image is `HOST/r:<any tag>` */
  host: string;
  server: http.Server;
  manifestDigest: string;
  configDigest: string;
  layerDigest: string;
  close(): Promise<void>;
}

/**
 * A fake registry (fault injection, not a registry under test) serving one image: `/v2/`, its
 * manifest, its config and its one layer, which `serveLayer` answers as the test needs (whole,
 * corrupt, cut, stalled); anything else is a 404.
 */
export async function oneImageServer(
  layer: Buffer,
  layerMediaType: string,
  serveLayer: (res: http.ServerResponse) => void,
): Promise<OneImageServer> {
  const digest = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
  const layerDigest = digest(layer);
  const config = Buffer.from(
    JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } }),
  );
  const configDigest = digest(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {
        mediaType: "application/vnd.oci.image.config.v1+json",
        digest: configDigest,
        size: config.length,
      },
      layers: [{ mediaType: layerMediaType, digest: layerDigest, size: layer.length }],
    }),
  );
  const server = http.createServer((req, res) => {
    const url = req.url ?? "";
    if (url === "/v2/") return res.writeHead(200).end("{}");
    if (url.startsWith("/v2/r/manifests/")) {
      return res
        .writeHead(200, {
          "content-type": "application/vnd.oci.image.manifest.v1+json",
          "content-length": manifest.length,
        })
        .end(manifest);
    }
    if (url === `/v2/r/blobs/${configDigest}`) return res.writeHead(200).end(config);
    if (url === `/v2/r/blobs/${layerDigest}`) return serveLayer(res);
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    manifestDigest: digest(manifest),
    configDigest,
    layerDigest,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
