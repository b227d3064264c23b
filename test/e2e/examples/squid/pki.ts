/**
 * The certificates the Squid tests need, made with the host's openssl: an origin CA and the
 * origin's certificate for `origin.test` (what the TLS origin serves), and a CA for Squid's SSL
 * bump (mounted as the tls.crt + tls.key pair the image's init merges). Short-lived, per test run.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCommand } from "../../../helpers/run.ts";

export const ORIGIN_NAME = "origin.test";

export interface Pki {
  dir: string;
  /** the origin's CA (clients of the CONNECT tunnel, and Squid when it bumps, trust it) */
  originCa: string;
  originCert: string;
  originKey: string;
  /** the bump CA's certificate and key (tls.crt, tls.key) */
  bumpCert: string;
  bumpKey: string;
  /** the bump CA's subject as openssl prints it (`openssl x509 -noout -subject`), without "subject=" */
  bumpSubject: string;
}

async function openssl(args: string[]): Promise<string> {
  return (await runCommand("openssl", args, { timeoutMs: 60_000 })).stdout;
}

export async function makePki(dir: string): Promise<Pki> {
  const p = (name: string) => join(dir, name);
  // the origin's CA and its certificate for origin.test (EC keys: quick to make)
  await openssl([
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    p("origin-ca.key"),
    "-out",
    p("origin-ca.crt"),
    "-days",
    "2",
    "-subj",
    "/CN=shellfree test origin CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  await openssl([
    "req",
    "-new",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    p("origin.key"),
    "-out",
    p("origin.csr"),
    "-subj",
    `/CN=${ORIGIN_NAME}`,
  ]);
  writeFileSync(
    p("origin.ext"),
    `subjectAltName=DNS:${ORIGIN_NAME}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`,
  );
  await openssl([
    "x509",
    "-req",
    "-in",
    p("origin.csr"),
    "-CA",
    p("origin-ca.crt"),
    "-CAkey",
    p("origin-ca.key"),
    "-CAcreateserial",
    "-out",
    p("origin.crt"),
    "-days",
    "2",
    "-extfile",
    p("origin.ext"),
  ]);
  // the bump CA (RSA: Squid signs the certificates it generates with this key)
  await openssl([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    p("bump-ca.key"),
    "-out",
    p("bump-ca.crt"),
    "-days",
    "2",
    "-subj",
    "/O=shellfree tests/CN=shellfree test bump CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  const subject = (await openssl(["x509", "-in", p("bump-ca.crt"), "-noout", "-subject"])).trim();
  return {
    dir,
    originCa: p("origin-ca.crt"),
    originCert: p("origin.crt"),
    originKey: p("origin.key"),
    bumpCert: p("bump-ca.crt"),
    bumpKey: p("bump-ca.key"),
    bumpSubject: subject.replace(/^subject=\s*/, ""),
  };
}
