/**
 * shellfree-init's log: one line per event on stderr, written synchronously (so the order is
 * exact and nothing is lost when init exits right after).
 *   text: `2026-11-23 18:40:00 [INFO] message`
 *   json: `{"time":"2026-11-23T18:40:00.123Z","level":"INFO","msg":"message",...fields}`
 */
import { writeSync } from "node:fs";

export type Level = "DEBUG" | "INFO" | "WARN" | "ERROR";
export type LogFormat = "text" | "json";

const pad = (n: number) => String(n).padStart(2, "0");

/** Local time (honours TZ) as YYYY-MM-DD HH:MM:SS. */
export function timestamp(d = new Date()): string {
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}

function writeAll(fd: number, s: string): void {
  let buf = Buffer.from(s, "utf8");
  for (let tries = 0; buf.length > 0 && tries < 1000; tries++) {
    try {
      const n = writeSync(fd, buf);
      buf = buf.subarray(n);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EAGAIN") continue;
      return; // stderr closed (EPIPE, EBADF): nothing else to do
    }
  }
}

export class Logger {
  format: LogFormat;
  readonly fd: number;
  constructor(format: LogFormat = "text", fd = 2) {
    this.format = format;
    this.fd = fd;
  }
  log(level: Level, msg: string, fields?: Record<string, unknown>): void {
    const line =
      this.format === "json"
        ? JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })
        : `${timestamp()} [${level}] ${msg.replace(/\r?\n/g, "\n    ")}`;
    writeAll(this.fd, `${line}\n`);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.log("INFO", msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.log("WARN", msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.log("ERROR", msg, fields);
  }
}
