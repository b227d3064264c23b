/**
 * `shellfree outdated [SPEC|LOCKFILE|IMAGE]`: which installed Debian packages the archive and its
 * security suite have newer; exit 10 when a security update is pending, 11 for other updates.
 */
import { type Command, Option } from "commander";
import { cleanupPulls } from "../oci/index.ts";
import {
  checkOutdated,
  EXIT_SECURITY,
  EXIT_UPDATES,
  FAIL_ON,
  type FailOn,
  formatOutdated,
  OutdatedError,
  outdatedJson,
  readInstalled,
} from "../outdated/index.ts";
import { warn } from "../util/progress.ts";
import { action, addImageReadOptions, checkRegistryFlags, collectList, output } from "./common.ts";

interface Opts {
  preset?: string;
  lockfile?: string;
  arch?: string[];
  platform?: string;
  creds?: string;
  insecure?: boolean;
  tlsVerify?: boolean;
  suite?: string;
  components?: string;
  extraSuite?: string[];
  security: boolean;
  mirror?: string;
  securityMirror?: string;
  keyring?: string;
  allowExpired?: boolean;
  cacheDir?: string;
  failOn: FailOn;
  json?: boolean;
}

const HELP = `
What is compared:
  a spec          the packages of its lockfile (shellfree.lock beside it, or --lockfile); a spec
                  without a lock is refused: a build without a lock installs the newest versions,
                  so there would be nothing to compare
  a lockfile      the packages it records, per architecture (as \`shellfree lock\` writes it)
  an image        the packages of its dpkg database (/var/lib/dpkg/status, or status.d/ as
                  distroless writes it), every platform of a multi-platform image; the suite from
                  its os-release (VERSION_CODENAME), the architecture from its config
with the suite, the extra suites (the spec's sources.suites, suites named in the lock,
--extra-suite, e.g. trixie-updates) and <suite>-security from the security mirror (--security-mirror,
$SHELLFREE_SECURITY_MIRROR, else the host's .../debian-security source), each Release verified as a
build verifies it (signature with the keyring, Valid-Until, index hashes).

A package is listed when a newer version exists; it is a security update when <suite>-security has a
version newer than the installed one. SOURCE is the candidate's Debian source package and version.

Exit codes:
  0   nothing newer (or --fail-on lets it pass)
  ${EXIT_SECURITY}  a security update is pending
  ${EXIT_UPDATES}  newer versions, none from the security suite (only with --fail-on any, the default)
  1   error (bad input, unreadable image, network)   2 usage   3 the archive failed verification

--json prints {schemaVersion: 1, input: {kind, ref, spec}, status: "up-to-date"|"updates"|
"security-updates", exitCode, summary: {packages, updates, security}, targets: [{architecture,
platform, manifest, suite, packages, updates, security, sources: [{suite, uri, security, date}]}],
updates: [{architecture, name, installed, candidate, suite, security, securityVersion, source,
sourceVersion}], notInArchive: [{architecture, name, installed}], warnings: [...]}.

The weekly rebuild, e.g. a scheduled CI job that rebuilds only when a security fix is pending:
  rc=0; shellfree outdated -f shellfree.yaml --fail-on security || rc=$?
  if [ "$rc" = ${EXIT_SECURITY} ]; then
    shellfree lock -f shellfree.yaml                            # move the lock to the fixed versions
    shellfree build -f shellfree.yaml --locked -o oci:out/app
    shellfree verify oci:out/app
    shellfree test oci:out/app
    shellfree push oci:out/app HOST/REPO:TAG
  elif [ "$rc" != 0 ]; then exit "$rc"; fi                      # 1, 2, 3: an error, not a verdict
The spec needs sources: { security: true } for \`lock\` to pick the security suite's versions
(outdated warns when it does not).
`;

export function register(program: Command): void {
  const cmd = program
    .command("outdated")
    .description(
      "list the packages of a lock or an image that Debian has newer versions of, and which are security updates",
    )
    .argument(
      "[target]",
      "a spec (its shellfree.lock beside it), a lockfile, or an image: oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE, registry:HOST[:PORT]/REPO[:TAG|@sha256:...] (default: ./shellfree.yaml, else ./shellfree.lock)",
    )
    .option("-f, --spec <file>", "the spec (same as giving it as the target)")
    .option("--preset <name>", "a preset stands for the spec (its lock: --lockfile, else ./shellfree.lock)")
    .option("--lockfile <file>", "the spec's lockfile (default: shellfree.lock beside the spec)")
    .option("--arch <arch>", "only these architectures (repeatable or comma-separated)", collectList, []);
  addImageReadOptions(cmd, "an image: only this platform (default: every platform)")
    .option("--suite <suite>", "an image: its Debian suite (default: VERSION_CODENAME from its os-release)")
    .option("--components <list>", "archive components (default: the spec's, else the lock's, else main)")
    .option(
      "--extra-suite <suite>",
      "also compare with this suite on the main mirror, e.g. trixie-updates (repeatable)",
      collectList,
      [],
    )
    .option("--no-security", "do not compare with <suite>-security")
    .option("--mirror <url>", "Debian archive URL (default: $SHELLFREE_MIRROR, else the host's apt sources)")
    .option(
      "--security-mirror <url>",
      "Debian security archive URL (default: $SHELLFREE_SECURITY_MIRROR, else the host's apt sources)",
    )
    .option(
      "--keyring <file>",
      "OpenPGP keyring the archive must be signed with (default: the host's Debian archive keyring)",
    )
    .option("--allow-expired", "accept a Release whose Valid-Until has passed")
    .option("--cache-dir <dir>", "cache directory (default: $XDG_CACHE_HOME/shellfree)")
    .addOption(
      new Option(
        "--fail-on <what>",
        `non-zero exit for: any update (${EXIT_SECURITY} security, ${EXIT_UPDATES} other), security updates only (${EXIT_SECURITY}), never`,
      )
        .choices([...FAIL_ON])
        .default("any"),
    )
    .option("--json", "machine-readable output (schemaVersion 1, see below)")
    .addHelpText("after", HELP)
    .action(
      action(async (target: string | undefined, opts: Opts & { spec?: string }) => {
        checkRegistryFlags(opts);
        const onSignal = (sig: NodeJS.Signals) =>
          void cleanupPulls().finally(() => process.exit(sig === "SIGINT" ? 130 : 143));
        process.once("SIGINT", onSignal);
        process.once("SIGTERM", onSignal);
        if (target && opts.spec)
          throw new OutdatedError("E_USAGE", "give the spec either as the target or with --spec", {
            exitCode: 2,
          });
        const installed = await readInstalled({
          target: target ?? opts.spec,
          preset: opts.preset,
          lockfile: opts.lockfile,
          arch: opts.arch,
          platform: opts.platform,
          creds: opts.creds,
          insecure: opts.insecure,
          tlsVerify: opts.tlsVerify,
          suite: opts.suite,
          components: opts.components
            ?.split(",")
            .map((s) => s.trim())
            .filter(Boolean),
          extraSuites: opts.extraSuite,
        });
        const result = await checkOutdated(installed, {
          mirror: opts.mirror,
          securityMirror: opts.securityMirror,
          keyring: opts.keyring,
          allowExpired: opts.allowExpired,
          cacheDir: opts.cacheDir,
          security: opts.security,
        });
        for (const w of result.warnings) warn(w);
        const json = outdatedJson(result, opts.failOn);
        output(opts.json === true, json, () => formatOutdated(result));
        return json.exitCode;
      }),
    );
}
