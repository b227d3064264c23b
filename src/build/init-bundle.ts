/**
 * Kept only for the JS init's tests (test/unit/init, test/e2e/init), which import it here; it
 * goes with them when the Go init replaces the JS one. The code is src/builder/init-bundle.ts.
 */
export { bundleInit, initVersion } from "../builder/index.ts";
