/** secrets: no private keys, .env files or cloud credentials baked into the image. */
import { basenameOf } from "../image-fs.ts";
import type { RawFinding, Rule } from "./types.ts";

const SECRET_NAMES =
  /^(?:\.env(?:\.[\w.-]+)?|id_rsa|id_dsa|id_ecdsa|id_ed25519|\.git-credentials|\.netrc|\.pgpass|credentials\.json)$/;
const SECRET_PATHS =
  /\/\.aws\/credentials$|\/\.docker\/config\.json$|\/\.config\/gcloud\/(?:application_default_credentials|credentials)\.(?:json|db)$/;

export const rule: Rule = {
  id: "secrets",
  title: "No secrets",
  description: "No PEM private keys, .env files, SSH keys or AWS/GCP credentials outside allowed paths.",
  defaultSeverity: "error",
  hint: "inject secrets at run time (mounted volume or env from a secret store); list intended test keys under allow-paths",
  securitySeverity: 8.5,
  tags: ["security", "container", "secrets", "external/cwe/cwe-798"],
  precision: "medium",
  check({ fs }) {
    const out: RawFinding[] = [];
    for (const n of fs.files()) {
      const base = basenameOf(n.path);
      const why: string[] = [];
      if (SECRET_NAMES.test(base) && !base.endsWith(".example") && !base.endsWith(".sample"))
        why.push(`file name ${base}`);
      else if (SECRET_PATHS.test(n.path)) why.push("credentials file");
      for (const s of n.content?.secrets ?? []) why.push(`${s.kind} at line ${s.line}`);
      if (why.length) out.push({ path: n.path, message: `possible secret in ${n.path}: ${why.join(", ")}` });
    }
    return out;
  },
};
