import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { withAuth } from "../../../src/python/net.ts";
import { indexConfig, parseIni, pipConfigFiles } from "../../../src/python/pipconfig.ts";
import { decodeEntities, parseSimpleHtml, parseSimpleJson } from "../../../src/python/simple-index.ts";

describe("pip configuration", () => {
  test("INI with continuations, comments, sections, key spellings", () => {
    const ini = parseIni(
      [
        "# comment",
        "[global]",
        "index_url = http://127.0.0.1:1/simple",
        "extra-index-url =",
        "    http://127.0.0.1:2/simple",
        "    http://127.0.0.1:3/simple",
        "; another",
        "[Install]",
        "timeout: 60",
      ].join("\n"),
    );
    assert.deepEqual(ini, {
      global: {
        "index-url": "http://127.0.0.1:1/simple",
        "extra-index-url": "\nhttp://127.0.0.1:2/simple\nhttp://127.0.0.1:3/simple",
      },
      install: { timeout: "60" },
    });
  });
  test("the files pip reads, lowest priority first", () => {
    assert.deepEqual(pipConfigFiles({}, "/home/u"), [
      "/etc/xdg/pip/pip.conf",
      "/etc/pip.conf",
      "/home/u/.pip/pip.conf",
      "/home/u/.config/pip/pip.conf",
    ]);
    assert.deepEqual(
      pipConfigFiles({ XDG_CONFIG_DIRS: "/a:/b", XDG_CONFIG_HOME: "/x", PIP_CONFIG_FILE: "/c.conf" }, "/h"),
      [
        "/b/pip/pip.conf",
        "/a/pip/pip.conf",
        "/etc/pip.conf",
        "/h/.pip/pip.conf",
        "/x/pip/pip.conf",
        "/c.conf",
      ],
    );
    assert.deepEqual(pipConfigFiles({ PIP_CONFIG_FILE: "/dev/null" }, "/h"), []);
  });
  test("precedence: spec, requirements file, PIP_INDEX_URL, later config files, [install] over [global]", () => {
    const files: Record<string, string> = {
      "/etc/pip.conf": "[global]\nindex-url = http://127.0.0.1:1/etc\n",
      "/h/.config/pip/pip.conf":
        "[global]\nindex-url = http://127.0.0.1:2/user\n[install]\nindex-url = http://127.0.0.1:3/install\nextra-index-url = http://127.0.0.1:4/x\n",
    };
    const readFile = (p: string) => {
      if (p in files) return files[p];
      throw new Error("ENOENT");
    };
    const base = { home: "/h", readFile };
    assert.deepEqual(indexConfig({ ...base, env: {} }), {
      indexUrl: "http://127.0.0.1:3/install",
      extraIndexUrls: ["http://127.0.0.1:4/x"],
      source: "/h/.config/pip/pip.conf",
    });
    assert.equal(
      indexConfig({ ...base, env: { PIP_INDEX_URL: "http://127.0.0.1:5/env" } }).indexUrl,
      "http://127.0.0.1:5/env",
    );
    assert.equal(
      indexConfig({
        ...base,
        env: { PIP_INDEX_URL: "http://127.0.0.1:5/env" },
        requirementsIndexUrls: ["http://127.0.0.1:6/req"],
      }).source,
      "the requirements file",
    );
    const spec = indexConfig({ ...base, env: {}, specIndexUrl: "http://127.0.0.1:7/spec" });
    assert.equal(spec.indexUrl, "http://127.0.0.1:7/spec");
    assert.equal(spec.source, "the spec (python.index-url)");
    const none = () => {
      throw new Error("ENOENT");
    };
    assert.equal(indexConfig({ home: "/h", readFile: none, env: {} }).indexUrl, undefined);
    assert.throws(
      () => indexConfig({ ...base, env: {}, specIndexUrl: "ftp://u:secret@127.0.0.1/simple" }),
      (e: Error) => /only http and https/.test(e.message) && !e.message.includes("secret"),
    );
    assert.throws(() => indexConfig({ ...base, env: {}, specIndexUrl: "not a url" }), /is not a URL/);
  });
  test("credentials from the index URL go to its host only, as Basic auth", () => {
    const creds = ["http://user:p%40ss@127.0.0.1:9/simple"];
    const a = withAuth("http://127.0.0.1:9/files/x.whl", creds);
    assert.equal(a.url, "http://127.0.0.1:9/files/x.whl");
    assert.equal(a.headers.authorization, `Basic ${Buffer.from("user:p@ss").toString("base64")}`);
    assert.deepEqual(withAuth("http://127.0.0.2:9/files/x.whl", creds).headers, {});
    const own = withAuth("http://me:tok@127.0.0.1:9/simple/x/");
    assert.equal(own.url, "http://127.0.0.1:9/simple/x/");
    assert.ok(own.headers.authorization);
  });
});

describe("simple index pages", () => {
  test("PEP 503 HTML: anchors, hash fragments, requires-python entities, relative URLs, <base>", () => {
    const html = `<!DOCTYPE html><html><head><base href="http://127.0.0.1:9/pkgs/"></head><body>
      <a href="../files/sfdemo-1.0-py3-none-any.whl#sha256=${"a".repeat(64)}" data-requires-python="&gt;=3.9">sfdemo-1.0-py3-none-any.whl</a><br/>
      <a data-yanked="" href='sfdemo-1.0.tar.gz'>sfdemo-1.0.tar.gz</a>
      <a href="http://127.0.0.1:9/x/sfdemo-0.9-py3-none-any.whl#md5=00">sfdemo-0.9-py3-none-any.whl</a>
    </body></html>`;
    const files = parseSimpleHtml(html, "http://127.0.0.1:9/simple/sfdemo/", "index t");
    assert.deepEqual(
      files.map((f) => [f.filename, f.url, f.hashes.length, f.requiresPython]),
      [
        ["sfdemo-1.0-py3-none-any.whl", "http://127.0.0.1:9/files/sfdemo-1.0-py3-none-any.whl", 1, ">=3.9"],
        ["sfdemo-1.0.tar.gz", "http://127.0.0.1:9/pkgs/sfdemo-1.0.tar.gz", 0, undefined],
        ["sfdemo-0.9-py3-none-any.whl", "http://127.0.0.1:9/x/sfdemo-0.9-py3-none-any.whl", 0, undefined],
      ],
    );
    assert.equal(decodeEntities("&lt;4&#44;&#x3E;=3&amp;"), "<4,>=3&");
  });
  test("PEP 691 JSON", () => {
    const json = JSON.stringify({
      meta: { "api-version": "1.1" },
      name: "sfdemo",
      files: [
        {
          filename: "sfdemo-1.0-py3-none-any.whl",
          url: "../../files/sfdemo-1.0-py3-none-any.whl",
          hashes: { sha256: "b".repeat(64), blake2b: "x" },
          "requires-python": ">=3.9",
        },
      ],
    });
    const files = parseSimpleJson(json, "http://127.0.0.1:9/simple/sfdemo/", "index t");
    assert.equal(files[0].url, "http://127.0.0.1:9/files/sfdemo-1.0-py3-none-any.whl");
    assert.deepEqual(files[0].hashes, [{ algorithm: "sha256", hex: "b".repeat(64) }]);
    assert.throws(
      () => parseSimpleJson('{"meta":{"api-version":"2.0"},"files":[]}', "http://127.0.0.1/s/", "t"),
      /unsupported simple API version "2\.0"/,
    );
    assert.throws(() => parseSimpleJson("{", "http://127.0.0.1/s/", "t"), /invalid JSON/);
    assert.throws(
      () =>
        parseSimpleJson('{"meta":{"api-version":"1.0"},"files":[{"url":"x"}]}', "http://127.0.0.1/s/", "t"),
      /without filename or url/,
    );
  });
});
