/** apt_auth.conf(5) parsing and matching (src/debian/auth-conf.ts; issue 17 item 4). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { aptAuthFor, parseAptAuth } from "../../../src/debian/auth-conf.ts";

const text = `# comment
machine example.invalid/debian login a password pa1
machine http://127.0.0.1:8080/private
  login b
  password pb2
machine https://127.0.0.1 login c password pc3
machine 127.0.0.1:9 login onlylogin
`;

test("entries: protocol, host, port, path; a machine without password is skipped", () => {
  const e = parseAptAuth(text, "t.conf");
  assert.deepEqual(
    e.map((x) => [x.protocol, x.host, x.port, x.path, x.login, x.password]),
    [
      [undefined, "example.invalid", undefined, "/debian", "a", "pa1"],
      ["http", "127.0.0.1", "8080", "/private", "b", "pb2"],
      ["https", "127.0.0.1", undefined, undefined, "c", "pc3"],
    ],
  );
});

test("matching as apt does: no protocol = https only; port and path prefix respected", () => {
  const e = parseAptAuth(text, "t.conf");
  assert.equal(aptAuthFor("https://example.invalid/debian/dists/x", e)?.login, "a");
  assert.equal(aptAuthFor("http://example.invalid/debian/dists/x", e), undefined);
  assert.equal(aptAuthFor("https://example.invalid/debianx/y", e), undefined);
  assert.equal(aptAuthFor("http://127.0.0.1:8080/private/dists/x", e)?.login, "b");
  assert.equal(aptAuthFor("http://127.0.0.1:8081/private/dists/x", e), undefined);
  assert.equal(aptAuthFor("https://127.0.0.1:4443/x", e)?.login, "c");
});
