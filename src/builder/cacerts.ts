/**
 * /etc/ssl/certs/ca-certificates.crt from the ca-certificates package's data
 * (/usr/share/ca-certificates/**.crt), as `update-ca-certificates` would write it with the
 * default configuration (every certificate enabled), without running its maintainer scripts.
 */
export const CA_BUNDLE_PATH = "etc/ssl/certs/ca-certificates.crt";
const CA_DIR = "usr/share/ca-certificates/";

/**
 * Is this path (relative, as in the tree) a certificate the bundle is made of? Cached in DebInfo:
 * a change here needs DEBINFO_FORMAT (debinfo.ts) bumped.
 */
export function isCaCertificate(path: string): boolean {
  return path.startsWith(CA_DIR) && path.endsWith(".crt");
}

/**
 * @param certs relative path → PEM bytes of every `usr/share/ca-certificates/**.crt`
 * @returns the bundle, or undefined when there are no certificates
 */
export function caBundle(certs: Map<string, Uint8Array>): Uint8Array | undefined {
  // update-ca-certificates reads /etc/ca-certificates.conf, which the package's postinst fills
  // with the certificate names relative to /usr/share/ca-certificates, sorted.
  const names = [...certs.keys()].filter(isCaCertificate).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (names.length === 0) return undefined;
  const dec = new TextDecoder();
  let out = "";
  for (const n of names) {
    let pem = dec.decode(certs.get(n));
    if (!pem.includes("-----BEGIN CERTIFICATE-----")) continue;
    pem = pem.replace(/\r\n/g, "\n");
    out += pem.endsWith("\n") ? pem : `${pem}\n`;
  }
  return new TextEncoder().encode(out);
}
