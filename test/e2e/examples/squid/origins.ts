/**
 * The origin servers, in the test's network namespace: plain HTTP on 127.0.0.1:80 (cacheable
 * answers: `Cache-Control: max-age=3600`) and HTTPS on 127.0.0.1:443 for origin.test (the
 * certificate made by pki.ts). Both answer `origin <scheme> <path>` and count what they were
 * asked, so a test can tell a cache hit (Squid answered) from a miss (the origin did).
 */
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { NODE } from "./image.ts";
import type { Netns } from "./netns.ts";
import type { Pki } from "./pki.ts";

const SERVER = `
const http = require("node:http");
const https = require("node:https");
const fs = require("node:fs");
const [cert, key] = process.argv.slice(2);
const counts = {};
const handler = (scheme) => (req, res) => {
  const key = scheme + " " + req.url;
  counts[key] = (counts[key] || 0) + 1;
  if (req.url === "/counts") {
    res.setHeader("Cache-Control", "no-store");
    res.end(JSON.stringify(counts));
    return;
  }
  res.setHeader("Content-Type", "text/plain");
  res.setHeader("Cache-Control", "max-age=3600");
  res.end("origin " + scheme + " " + req.url + "\\n");
};
const plain = http.createServer(handler("http"));
const tls = https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, handler("https"));
let up = 0;
const ready = () => { if (++up === 2) console.log("origins ready"); };
plain.listen(80, "127.0.0.1", ready);
tls.listen(443, "127.0.0.1", ready);
`;

export interface Origins {
  /** how often the origin was asked for each "SCHEME PATH" */
  counts(): Promise<Record<string, number>>;
}

export async function startOrigins(ns: Netns, pki: Pki): Promise<Origins> {
  const script = join(pki.dir, "origins.cjs");
  writeFileSync(script, SERVER);
  const child = ns.spawn(NODE, [script, pki.originCert, pki.originKey]);
  let out = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  const deadline = Date.now() + 15_000;
  while (!out.includes("origins ready")) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`the origins did not start:\n${out}`);
    await Promise.race([once(child.stdout!, "data"), new Promise((r) => setTimeout(r, 100))]);
  }
  return {
    async counts() {
      const r = await ns.run("curl", ["-sS", "--max-time", "5", "http://127.0.0.1/counts"]);
      const all = JSON.parse(r.stdout) as Record<string, number>;
      delete all["http /counts"];
      return all;
    },
  };
}
