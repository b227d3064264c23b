/**
 * examples/squid-proxy under podman: proxying (plain, cached, CONNECT, denied), SSL bump with a CA
 * made here, start-up order, health without access-log lines, no shell, any UID, read-only
 * root, SIGTERM, Squid killed, a broken config, a missing key. See squid/suite.ts.
 */
import { squidSuite } from "./squid/suite.ts";

squidSuite("podman");
