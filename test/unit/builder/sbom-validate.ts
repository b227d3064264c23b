/**
 * Validation of SBOM documents against the official JSON schemas stored in
 * test/fixtures/schemas (see the README there), with Ajv + ajv-formats. No network: the
 * CycloneDX schema's $refs (spdx.schema.json, jsf-0.82.schema.json) resolve to the local copies
 * by their $id.
 */
import { readFileSync } from "node:fs";
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";

const dir = new URL("../../fixtures/schemas/", import.meta.url);
const load = (p: string) => JSON.parse(readFileSync(new URL(p, dir), "utf8"));

// ajv-formats is CommonJS; its default export is the plugin function
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function makeAjv(): Ajv {
  // strict: false because the official schemas use annotation keywords Ajv's strict mode flags;
  // formats are still checked
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  // formats CycloneDX uses that ajv-formats does not define
  ajv.addFormat("iri-reference", {
    type: "string",
    validate: (s: string) => s.length > 0 && !/[\s<>"{}|\\^`]/.test(s),
  });
  ajv.addFormat("idn-email", { type: "string", validate: (s: string) => /^[^@\s]+@[^@\s]+$/.test(s) });
  return ajv;
}

let spdx: ValidateFunction | undefined;
let cdx: ValidateFunction | undefined;

export function spdxValidator(): ValidateFunction {
  if (!spdx) spdx = makeAjv().compile(load("spdx/spdx-2.3.schema.json"));
  return spdx;
}

export function cyclonedxValidator(): ValidateFunction {
  if (!cdx) {
    const ajv = makeAjv();
    ajv.addSchema(load("cyclonedx/spdx.schema.json"));
    ajv.addSchema(load("cyclonedx/jsf-0.82.schema.json"));
    cdx = ajv.compile(load("cyclonedx/bom-1.6.schema.json"));
  }
  return cdx;
}

/** [] when valid, else "path: message" lines */
export function schemaErrors(v: ValidateFunction, doc: unknown): string[] {
  if (v(doc)) return [];
  return (v.errors ?? []).map((e) => `${e.instancePath || "/"}: ${e.message} ${JSON.stringify(e.params)}`);
}

/** The SPDX license/exception ids the CycloneDX schema accepts. */
export function spdxLicenseIdEnum(): string[] {
  return load("cyclonedx/spdx.schema.json").enum;
}
