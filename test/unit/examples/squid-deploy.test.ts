/**
 * examples/squid-proxy/deploy/: every object is a valid Kubernetes object (kubernetes-models'
 * schemas), the pod is locked down as the example promises, and the manifests agree with the
 * image: probe port and paths with the spec's init health section, writable mounts with its
 * writable paths, the grace period with the init's drain + grace, the ConfigMap with squid.conf.
 *
 * kubernetes-models accepts unknown keys (its schemas allow additional properties), so the
 * security and probe settings are asserted key by key here: a misspelt key fails these.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Service } from "kubernetes-models/v1/Service";
import { parse, parseAllDocuments } from "yaml";

const EXAMPLE = join(import.meta.dirname, "../../../examples/squid-proxy");
const DEPLOY = join(EXAMPLE, "deploy");

// parsed YAML, read field by field and checked by the assertions themselves
// biome-ignore lint/suspicious/noExplicitAny: untyped manifest data
type Obj = Record<string, any>;

const MODELS: Record<string, new (data: Obj) => { validate(): void }> = {
  "apps/v1/Deployment": Deployment,
  "v1/Service": Service,
  "v1/ConfigMap": ConfigMap,
};

function loadManifests(): { file: string; obj: Obj }[] {
  const out: { file: string; obj: Obj }[] = [];
  for (const file of readdirSync(DEPLOY)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(DEPLOY, file), "utf8"))) {
      assert.deepEqual(doc.errors, [], `${file}: YAML errors`);
      const obj = doc.toJS() as Obj | null;
      if (obj !== null) out.push({ file, obj });
    }
  }
  return out;
}

const manifests = loadManifests();
const spec = parse(readFileSync(join(EXAMPLE, "shellfree.yaml"), "utf8")) as Obj;

function only(kind: string): Obj {
  const found = manifests.filter((m) => m.obj.kind === kind);
  assert.equal(found.length, 1, `exactly one ${kind}`);
  return found[0].obj;
}

const deployment = only("Deployment");
const pod = deployment.spec.template.spec;
const squid = pod.containers.find((c: Obj) => c.name === "squid");

function seconds(d: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(d);
  assert.ok(m, `duration ${d}`);
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60 }[m[2] as "ms" | "s" | "m"];
}

function containerPort(nameOrNumber: string | number): number {
  if (typeof nameOrNumber === "number") return nameOrNumber;
  const p = squid.ports.find((x: Obj) => x.name === nameOrNumber);
  assert.ok(p, `container port named ${nameOrNumber}`);
  return p.containerPort;
}

describe("examples/squid-proxy/deploy", () => {
  test("holds a Deployment, a Service and a ConfigMap, each valid for kubernetes-models", () => {
    assert.deepEqual(manifests.map((m) => m.obj.kind).sort(), ["ConfigMap", "Deployment", "Service"]);
    for (const { file, obj } of manifests) {
      const Model = MODELS[`${obj.apiVersion}/${obj.kind}`];
      assert.ok(Model, `${file}: no model for ${obj.apiVersion} ${obj.kind}`);
      assert.doesNotThrow(() => new Model(obj).validate(), `${file}: ${obj.kind} ${obj.metadata?.name}`);
    }
  });

  test("the validation rejects a broken Deployment (the check can fail)", () => {
    const broken = structuredClone(deployment);
    broken.spec.template.spec.containers[0].securityContext.runAsNonRoot = "yes";
    assert.throws(() => new Deployment(broken).validate(), /runAsNonRoot/);
    const badReplicas = structuredClone(deployment);
    badReplicas.spec.replicas = "one";
    assert.throws(() => new Deployment(badReplicas).validate(), /replicas/);
  });

  test("the pod runs non-root with a read-only root, no privileges and RuntimeDefault seccomp", () => {
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.securityContext.runAsUser, spec.accounts["run-as"]);
    assert.equal(pod.securityContext.runAsGroup, 0);
    assert.equal(pod.securityContext.seccompProfile.type, "RuntimeDefault");
    assert.equal(pod.automountServiceAccountToken, false);
    assert.equal(pod.containers.length, 1);
    const sc = squid.securityContext;
    assert.equal(sc.runAsNonRoot, true);
    assert.equal(sc.readOnlyRootFilesystem, true);
    assert.equal(sc.allowPrivilegeEscalation, false);
    assert.equal(sc.privileged, false);
    assert.deepEqual(sc.capabilities.drop, ["ALL"]);
    assert.equal(sc.capabilities.add, undefined);
    assert.equal(sc.seccompProfile.type, "RuntimeDefault");
    assert.ok(squid.resources.limits.memory && squid.resources.limits.cpu, "cpu and memory limits");
    assert.ok(squid.resources.requests.memory && squid.resources.requests.cpu, "cpu and memory requests");
  });

  test("probes hit the init's health port: /live for liveness, /ready for readiness and start-up", () => {
    const health = spec.init.health;
    assert.equal(health.port, 8080);
    const levels = Object.values(health.checks as Record<string, Obj>).map((c) => c.level);
    assert.ok(levels.includes("ready") && levels.includes("alive"), "the init has ready and alive checks");
    // readiness is the quiet listening check on the proxy port (no request reaches Squid)
    const ready = Object.values(health.checks as Record<string, Obj>).find((c) => c.level === "ready");
    assert.equal(ready?.listening, String(containerPort("proxy")));
    const probes: [string, string][] = [
      ["livenessProbe", "/live"],
      ["readinessProbe", "/ready"],
      ["startupProbe", "/ready"],
    ];
    for (const [probe, path] of probes) {
      const get = squid[probe]?.httpGet;
      assert.ok(get, `${probe} is an httpGet`);
      assert.equal(get.path, path, `${probe} path`);
      assert.equal(containerPort(get.port), health.port, `${probe} port`);
    }
    // the image's own HEALTHCHECK asks the same endpoint
    assert.deepEqual(spec.config.healthcheck.test, ["/usr/bin/shellfree-init", "probe", "/ready"]);
  });

  test("the proxy port is the one squid.conf listens on, and the Service selects the pod", () => {
    const conf = readFileSync(join(EXAMPLE, "squid.conf"), "utf8");
    const port = Number(/^http_port (\d+)$/m.exec(conf)?.[1]);
    assert.equal(port, 3128);
    assert.equal(containerPort("proxy"), port);
    assert.ok(spec.config["exposed-ports"].includes(`${port}/tcp`));
    const svc = only("Service");
    assert.deepEqual(svc.spec.selector, deployment.spec.selector.matchLabels);
    for (const [k, v] of Object.entries(svc.spec.selector))
      assert.equal(deployment.spec.template.metadata.labels[k], v);
    assert.deepEqual(
      svc.spec.ports.map((p: Obj) => containerPort(p.targetPort)),
      [port],
      "only the proxy port is a Service port",
    );
  });

  test("every writable path of the image is an emptyDir mount; config and TLS are read-only", () => {
    const volumes = new Map<string, Obj>(pod.volumes.map((v: Obj) => [v.name, v]));
    const mounts = new Map<string, Obj>(squid.volumeMounts.map((m: Obj) => [m.mountPath, m]));
    const writable = (spec.paths as Obj[]).filter((p) => p.writable === true);
    assert.deepEqual(
      writable.map((p) => p.path),
      ["/var/spool/squid", "/var/log/squid", "/var/lib/squid", "/run/squid"],
    );
    for (const p of writable) {
      const m = mounts.get(p.path);
      assert.ok(m, `${p.path} is mounted`);
      const emptyDir = volumes.get(m.name)?.emptyDir;
      assert.ok(emptyDir, `${p.path} is an emptyDir`);
      assert.ok(emptyDir.sizeLimit, `${p.path} has a size limit`);
      assert.notEqual(m.readOnly, true);
    }
    const conf = mounts.get("/etc/squid/squid.conf");
    assert.equal(conf?.readOnly, true);
    assert.equal(volumes.get(conf.name)?.configMap?.name, only("ConfigMap").metadata.name);
    // the TLS pair goes where the init's merge-pem task reads it
    const merge = (spec.init.tasks as Obj[]).find((t) => t["merge-pem"])!["merge-pem"];
    const tls = mounts.get("/etc/squid/tls");
    assert.equal(tls?.readOnly, true);
    assert.equal(merge.cert, "/etc/squid/tls/tls.crt");
    assert.equal(merge.key, "/etc/squid/tls/tls.key");
    const secret = volumes.get(tls.name)?.secret;
    assert.ok(secret, "the TLS pair comes from a Secret");
    assert.equal(secret.optional, true, "the Secret is needed only with ssl-bump");
    assert.equal(secret.defaultMode, 0o440, "key readable by the group (GID 0), not by others");
  });

  test("the grace period is longer than the init's drain + grace", () => {
    const env = new Map<string, string>(squid.env.map((e: Obj) => [e.name, e.value]));
    const drain = seconds(env.get("SHELLFREE_DRAIN") ?? spec.init.shutdown.drain);
    const grace = seconds(spec.init.shutdown.grace);
    assert.ok(drain > 0, "a drain period lets endpoints drop the pod before Squid stops");
    assert.ok(
      pod.terminationGracePeriodSeconds > drain + grace,
      `terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} > ${drain} + ${grace}`,
    );
  });

  test("the ConfigMap carries examples/squid-proxy/squid.conf unchanged", () => {
    assert.equal(only("ConfigMap").data["squid.conf"], readFileSync(join(EXAMPLE, "squid.conf"), "utf8"));
  });
});
