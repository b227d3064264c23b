/**
 * A private PostgreSQL cluster for a test: Debian's server binaries (`postgresql`, installed by
 * scripts/setup-host.sh), initdb'd in a temp dir owned by the `postgres` user (initdb refuses
 * root), listening on 127.0.0.1 and a free port only, password (SCRAM) auth over TCP, its
 * socket in the temp dir. `stop()`/`start()` take it down and up on the same port (for
 * readiness tests); `close()` stops it (pg_ctl, then the postmaster's PID) and deletes the dir.
 *
 *   const pg = await startPostgres();
 *   try { ... pg.url ... } finally { await pg.close(); }
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Postgres {
  /** postgresql://USER:PASSWORD@127.0.0.1:PORT/DATABASE */
  url: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** the server's version line (`postgres --version`) */
  version: string;
  /** pg_ctl stop -m fast (the port is closed when it returns) */
  stop(): Promise<void>;
  /** pg_ctl start again on the same port (accepting connections when it returns) */
  start(): Promise<void>;
  /** stop (however it can) and delete everything */
  close(): Promise<void>;
  /** the server's log so far */
  log(): string;
}

/** The newest /usr/lib/postgresql/N/bin with initdb and pg_ctl. */
export function postgresBinDir(): string {
  const base = "/usr/lib/postgresql";
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => /^\d+$/.test(v) && existsSync(join(base, v, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error(
      "PostgreSQL's server binaries are not installed (/usr/lib/postgresql/N/bin/initdb): run scripts/setup-host.sh (apt-get install postgresql)",
    );
  }
  return join(base, versions[0], "bin");
}

function pgAccount(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined; // not root: run as ourselves
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith("postgres:"));
  if (!line) throw new Error("no postgres user in /etc/passwd (the postgresql package creates it)");
  const f = line.split(":");
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function run(
  cmd: string,
  args: string[],
  account: { uid: number; gid: number } | undefined,
  timeoutMs = 120_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: "/usr/bin:/bin", LANG: "C", LC_ALL: "C" },
      cwd: "/",
      ...(account ?? {}),
    });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(" ")}: ${signal ?? `exit ${code}`}\n${out.trim()}`));
    });
  });
}

export async function startPostgres(opts: { database?: string } = {}): Promise<Postgres> {
  const bin = postgresBinDir();
  const account = pgAccount();
  const dir = await mkdtemp(join(tmpdir(), "sf-pg-"));
  const data = join(dir, "data");
  const logFile = join(dir, "server.log");
  const user = "vote";
  const password = randomBytes(12).toString("hex");
  const database = opts.database ?? "votes";
  let running = false;
  try {
    chmodSync(dir, 0o700);
    if (account) chownSync(dir, account.uid, account.gid);
    const pwfile = join(dir, "pwfile");
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    if (account) chownSync(pwfile, account.uid, account.gid);
    const version = (await run(join(bin, "postgres"), ["--version"], account)).trim();
    await run(
      join(bin, "initdb"),
      [
        "-D",
        data,
        "-U",
        user,
        `--pwfile=${pwfile}`,
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
        "--no-sync",
        "-E",
        "UTF8",
        "--locale=C",
      ],
      account,
    );
    const port = await freePort();
    const serverOpts = [
      `-c listen_addresses=127.0.0.1 -p ${port}`,
      `-c unix_socket_directories=${dir}`,
      "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
    ].join(" ");
    const pgCtl = (args: string[]) => run(join(bin, "pg_ctl"), ["-D", data, ...args], account);
    const start = async () => {
      await pgCtl(["-l", logFile, "-w", "-t", "60", "-o", serverOpts, "start"]);
      running = true;
    };
    const stop = async () => {
      await pgCtl(["-m", "fast", "-w", "-t", "60", "stop"]);
      running = false;
    };
    await start();
    // the tests' database, created over the private socket (trust)
    await run(
      join(bin, "psql"),
      ["-h", dir, "-p", String(port), "-U", user, "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-qc"].concat(
        `CREATE DATABASE ${database}`,
      ),
      account,
    );
    return {
      url: `postgresql://${user}:${password}@127.0.0.1:${port}/${database}`,
      port,
      user,
      password,
      database,
      version,
      stop,
      start,
      log: () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : ""),
      close: async () => {
        await closeCluster(data, running, stop);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await closeCluster(data, running, async () => {
      await run(join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "-t", "30", "stop"], account);
    });
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

/** pg_ctl stop; if the postmaster is still there, SIGKILL it by the PID in its pid file. */
async function closeCluster(data: string, running: boolean, stop: () => Promise<void>): Promise<void> {
  if (running) await stop().catch(() => {});
  const pidFile = join(data, "postmaster.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
  if (Number.isInteger(pid) && pid > 1) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
}
