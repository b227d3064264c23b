/**
 * Progress on stderr: a single rewritten line when stderr is a TTY, plain lines otherwise.
 * Results go to stdout, never here. Silenced by SHELLFREE_QUIET=1 or `setQuiet(true)`. Every
 * line has the secrets this process knows redacted.
 */
import { redactSecrets } from "./secrets.ts";

let quiet = process.env.SHELLFREE_QUIET === "1";
export function setQuiet(q: boolean): void {
  quiet = q;
}

const tty = () => process.stderr.isTTY === true && process.env.CI !== "true";

/**
 * With SHELLFREE_TRACE=1, info lines and `trace` lines start with the seconds since start-up
 * and the process's resident memory.
 */
const tracing = process.env.SHELLFREE_TRACE === "1" || process.env.SHELLFREE_TRACE === "memory";
const tracingMemory = process.env.SHELLFREE_TRACE === "memory";
/** with SHELLFREE_TRACE=memory: milliseconds spent in the garbage collector so far */
let gcMs = 0;
if (tracingMemory) {
  // (node:perf_hooks taken only here: no command pays for it at start-up)
  const { PerformanceObserver } = process.getBuiltinModule("node:perf_hooks");
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMs += e.duration;
  }).observe({ entryTypes: ["gc"] });
}
const stamp = () => {
  if (tracingMemory) {
    const m = process.memoryUsage();
    const peak = process.resourceUsage().maxRSS >> 10;
    return `[${(performance.now() / 1000).toFixed(3)}s rss ${m.rss >> 20} (peak ${peak}) gc ${Math.round(gcMs)}ms heap ${m.heapUsed >> 20}/${m.heapTotal >> 20} ext ${m.external >> 20} ab ${m.arrayBuffers >> 20} MB] `;
  }
  return tracing ? `[${(performance.now() / 1000).toFixed(3)}s ${process.memoryUsage.rss() >> 20} MB] ` : "";
};

/** One informational line on stderr. */
export function info(message: string): void {
  if (quiet) return;
  if (tty()) process.stderr.write("\r\x1b[K");
  process.stderr.write(`${stamp()}${redactSecrets(message)}\n`);
}

/** A timing line, shown only with SHELLFREE_TRACE=1 (for finding where a run spends its time). */
export function trace(message: string): void {
  if (tracing && !quiet) process.stderr.write(`${stamp()}${message}\n`);
}

/** A warning line on stderr (shown even when quiet). */
export function warn(message: string): void {
  process.stderr.write(`shellfree: warning: ${redactSecrets(message)}\n`);
}

export interface Progress {
  /** advance by `n` units (items or bytes) */
  tick(n?: number, detail?: string): void;
  done(summary?: string): void;
}

function human(n: number): string {
  if (n < 1024) return `${n} B`;
  const u = ["KiB", "MiB", "GiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${u[i]}`;
}

export { human as humanBytes };

/**
 * A counter of `total` units. On a TTY it redraws a bar at most ~10 times a second; otherwise it
 * prints a line at start, about every 25%, and at the end.
 */
export function progress(label: string, total: number, unit: "items" | "bytes" = "items"): Progress {
  let done = 0;
  let lastDraw = 0;
  let lastQuarter = -1;
  const fmt = (n: number) => (unit === "bytes" ? human(n) : String(n));
  const draw = (detail?: string) => {
    if (quiet) return;
    if (tty()) {
      const now = Date.now();
      if (now - lastDraw < 100 && done < total) return;
      lastDraw = now;
      const w = 24;
      const f = total > 0 ? Math.min(w, Math.round((done / total) * w)) : w;
      process.stderr.write(
        redactSecrets(
          `\r\x1b[K${label} [${"#".repeat(f)}${".".repeat(w - f)}] ${fmt(done)}/${fmt(total)}${detail ? ` ${detail}` : ""}`,
        ),
      );
    } else {
      const q = total > 0 ? Math.floor((done / total) * 4) : 4;
      if (q !== lastQuarter && q < 4) {
        lastQuarter = q;
        process.stderr.write(redactSecrets(`${stamp()}${label}: ${fmt(done)}/${fmt(total)}\n`));
      }
    }
  };
  draw();
  return {
    tick(n = 1, detail) {
      done += n;
      draw(detail);
    },
    done(summary) {
      if (quiet) return;
      if (tty()) process.stderr.write("\r\x1b[K");
      process.stderr.write(redactSecrets(`${stamp()}${label}: ${summary ?? `${fmt(done)}/${fmt(total)}`}\n`));
    },
  };
}
