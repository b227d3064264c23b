/** Minimal XML escaping for the JUnit reports (verify and test write them). */
export function xmlEscape(s: string): string {
  // drop characters XML 1.0 cannot carry at all
  const clean = s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "");
  return clean
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&apos;");
}
