/**
 * shellfree-init entry point, bundled into /usr/lib/shellfree/init.js and run inside images as
 * `tini-static -- node /usr/lib/shellfree/init.js [args]`. Imports nothing outside src/init and
 * no npm packages. `probe` loads only what it needs, so a HEALTHCHECK stays fast.
 */
const argv = process.argv.slice(2);

if (argv[0] === "probe") {
  void import("./probe.ts").then((m) => m.probeMain(argv.slice(1)));
} else {
  void import("./supervise.ts").then((m) => m.runInit(argv));
}
