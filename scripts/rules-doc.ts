/**
 * Write docs/rules.md from the verify rules (src/verify/report/rules-doc.ts).
 *
 *   node scripts/rules-doc.ts
 */
import { join } from "node:path";
import { writeFileAtomic } from "../src/util/atomic.ts";
import { rulesMarkdown } from "../src/verify/report/rules-doc.ts";

await writeFileAtomic(join(import.meta.dirname, "../docs/rules.md"), rulesMarkdown());
