/**
 * examples/vote-api/deploy/: every object is valid for its schema (kubernetes-models and
 * @kubernetes-models/gateway-api), the pod is locked down as the example promises, and the
 * manifests agree with each other and with the image's spec (../shellfree.yaml): the probes with
 * the init's health port and endpoints, the grace period with the init's drain + grace, the app
 * port and the SQLite path with the spec's env and writable paths; the image only by digest.
 *
 * The models accept unknown keys, so the settings that matter are asserted key by key: a
 * misspelt key fails here.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { Gateway } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway";
import { GatewayClass } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/GatewayClass";
import { HTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Service } from "kubernetes-models/v1/Service";
import { parse, parseAllDocuments } from "yaml";

const EXAMPLE = join(import.meta.dirname, "../../../examples/vote-api");
const DEPLOY = join(EXAMPLE, "deploy");

// parsed YAML, read field by field and checked by the assertions themselves
// biome-ignore lint/suspicious/noExplicitAny: untyped manifest data
type Obj = Record<string, any>;

// the Gateway API models type `spec` as required; the data is checked by validate() instead
// biome-ignore lint/suspicious/noExplicitAny: constructors of differently typed models
type Model = new (data: any) => { validate(): void };

const MODELS: Record<string, Model> = {
  "v1/Namespace": Namespace,
  "apps/v1/Deployment": Deployment,
  "v1/Service": Service,
  "gateway.networking.k8s.io/v1/GatewayClass": GatewayClass,
  "gateway.networking.k8s.io/v1/Gateway": Gateway,
  "gateway.networking.k8s.io/v1/HTTPRoute": HTTPRoute,
};

function loadManifests(): { file: string; obj: Obj }[] {
  const out: { file: string; obj: Obj }[] = [];
  for (const file of readdirSync(DEPLOY)
    .filter((f) => /\.ya?ml$/.test(f) && f !== "kustomization.yaml")
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
const kustomization = parse(readFileSync(join(DEPLOY, "kustomization.yaml"), "utf8")) as Obj;
const spec = parse(readFileSync(join(EXAMPLE, "shellfree.yaml"), "utf8")) as Obj;

function only(kind: string): Obj {
  const found = manifests.filter((m) => m.obj.kind === kind);
  assert.equal(found.length, 1, `exactly one ${kind}`);
  return found[0].obj;
}

const deployment = only("Deployment");
const pod = deployment.spec.template.spec;
assert.equal(pod.containers.length, 1);
const app = pod.containers[0];
const service = only("Service");
const gateway = only("Gateway");
const route = only("HTTPRoute");

/** "5s", "1m30s", "500ms" → seconds (the init's duration grammar). */
function seconds(d: string): number {
  assert.match(d, /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/, `a duration: ${d}`);
  let total = 0;
  for (const m of d.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    total += Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] as "ms" | "s" | "m" | "h"];
  }
  return total;
}

function env(name: string): Obj | undefined {
  return (app.env as Obj[]).find((e) => e.name === name);
}

/** A container port by name or number. */
function containerPort(port: string | number): number {
  if (typeof port === "number") return port;
  const p = (app.ports as Obj[]).find((x) => x.name === port);
  assert.ok(p, `container port named ${port}`);
  return p.containerPort;
}

/** Kubernetes quantities used here: "100m", "1", "96Mi", "1Gi". */
function quantity(q: string | number): number {
  const m = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi)?$/.exec(String(q));
  assert.ok(m, `a quantity: ${q}`);
  const unit = { m: 0.001, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }[m[2] as "m"] ?? 1;
  return Number(m[1]) * unit;
}

describe("examples/vote-api/deploy", () => {
  test("every object is valid for its schema, and the schemas do reject a broken one", () => {
    assert.deepEqual(manifests.map((m) => m.obj.kind).sort(), [
      "Deployment",
      "Gateway",
      "GatewayClass",
      "HTTPRoute",
      "Namespace",
      "Service",
    ]);
    for (const { file, obj } of manifests) {
      const Model = MODELS[`${obj.apiVersion}/${obj.kind}`];
      assert.ok(Model, `${file}: a model for ${obj.apiVersion} ${obj.kind}`);
      assert.doesNotThrow(() => new Model(obj).validate(), `${file}: ${obj.kind} ${obj.metadata?.name}`);
    }
    const broken = structuredClone(deployment);
    broken.spec.template.spec.containers[0].ports[0].containerPort = "eight thousand";
    assert.throws(() => new Deployment(broken).validate());
    const brokenRoute = structuredClone(route);
    brokenRoute.spec.rules[0].matches[0].path.type = "Glob";
    assert.throws(() => new (HTTPRoute as Model)(brokenRoute).validate());
  });

  test("kustomization: every manifest listed, the namespace enforces the restricted profile", () => {
    const files = [...new Set(manifests.map((m) => m.file))].sort();
    assert.deepEqual([...kustomization.resources].sort(), files);
    const ns = only("Namespace");
    assert.equal(kustomization.namespace, ns.metadata.name);
    assert.equal(ns.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
  });

  test("the image is referenced by digest only, filled in by kustomize", () => {
    assert.doesNotMatch(app.image, /[:@]/, "the Deployment names the image; kustomize adds the digest");
    const entries = (kustomization.images as Obj[]).filter((i) => i.name === app.image);
    assert.equal(entries.length, 1, "one images: entry for the container's image");
    const img = entries[0];
    assert.equal(img.newTag, undefined, "no tag");
    assert.match(img.digest, /^sha256:[0-9a-f]{64}$/);
    assert.match(
      img.newName,
      /^[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/,
      "a repository without tag or digest",
    );
    // what the pod gets: REPOSITORY@sha256:HEX (kustomize writes name@digest when `digest` is set)
    const ref = `${img.newName}@${img.digest}`;
    assert.match(ref, /^[^@:\s]+@sha256:[0-9a-f]{64}$/);
    assert.equal(app.imagePullPolicy, "IfNotPresent");
  });

  test("the pod runs as the spec's non-root UID with a read-only root, no capabilities, seccomp", () => {
    const uid = Number(spec.accounts["run-as"]);
    assert.equal(uid, 65532);
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.securityContext.runAsUser, uid);
    assert.equal(pod.securityContext.seccompProfile.type, "RuntimeDefault");
    assert.equal(pod.automountServiceAccountToken, false);
    assert.equal(pod.hostNetwork ?? false, false);
    const sc = app.securityContext;
    assert.equal(sc.runAsNonRoot, true);
    assert.equal(sc.runAsUser, uid);
    assert.equal(sc.readOnlyRootFilesystem, true);
    assert.equal(sc.allowPrivilegeEscalation, false);
    assert.equal(sc.privileged, false);
    assert.deepEqual(sc.capabilities.drop, ["ALL"]);
    assert.equal(sc.capabilities.add, undefined);
    assert.equal(sc.seccompProfile.type, "RuntimeDefault");
  });

  test("resources: requests and limits for CPU and memory, requests within limits", () => {
    const { requests, limits } = app.resources;
    for (const r of ["cpu", "memory"]) {
      assert.ok(requests[r] !== undefined && limits[r] !== undefined, r);
      assert.ok(quantity(requests[r]) <= quantity(limits[r]), `${r}: request ≤ limit`);
    }
    assert.ok(quantity(limits.memory) <= 512 * 1024 ** 2, "seed 003: at most 512 MB");
  });

  test("probes: the init's /live and /ready on its health port, never the app's port", () => {
    const health = spec.init.health;
    assert.equal(app.livenessProbe.httpGet.path, "/live");
    assert.equal(app.readinessProbe.httpGet.path, "/ready");
    for (const probe of [app.livenessProbe, app.readinessProbe, app.startupProbe].filter(Boolean)) {
      assert.equal(containerPort(probe.httpGet.port), health.port, "the init's health port");
    }
    // the kubelet waits longer than the init waits for the app's /ready
    assert.ok(app.readinessProbe.timeoutSeconds > seconds(health.ready.timeout));
    // the init's ready check and alive check ask the app on its own port
    const appPort = containerPort("http");
    // the init expands ${PORT} from the container's environment: the Deployment's, else the image's
    const url = (u: string) =>
      new URL(u.replaceAll("$" + "{PORT}", String(env("PORT")?.value ?? spec.config.env.PORT)));
    assert.equal(url(health.ready.http).port, String(appPort));
    assert.equal(url(health.ready.http).pathname, "/ready");
    const alive = Object.values(health.checks as Record<string, Obj>).filter((c) => c.level === "alive");
    assert.equal(alive.length, 1);
    assert.equal(url(alive[0].http).pathname, "/health");
    assert.equal(url(alive[0].http).port, String(appPort));
  });

  test("terminationGracePeriodSeconds > the init's drain + grace > uvicorn's own shutdown limit", () => {
    // the init reads SHELLFREE_DRAIN / SHELLFREE_GRACE over its config when they are set
    const drain = seconds(env("SHELLFREE_DRAIN")?.value ?? spec.init.shutdown.drain);
    const grace = seconds(env("SHELLFREE_GRACE")?.value ?? spec.init.shutdown.grace);
    assert.ok(drain > 0, "a drain delay");
    assert.ok(
      pod.terminationGracePeriodSeconds > drain + grace,
      `${pod.terminationGracePeriodSeconds} > ${drain + grace}`,
    );
    const uvicorn = Number(env("SHUTDOWN_TIMEOUT")?.value ?? spec.config.env.SHUTDOWN_TIMEOUT);
    assert.ok(uvicorn < grace, "uvicorn cancels what is left before the init's SIGKILL");
    assert.equal(spec.config["stop-signal"], "SIGTERM");
  });

  test("app port and SQLite path agree with the spec; the SQLite directory is a writable emptyDir", () => {
    assert.equal(env("PORT")?.value, spec.config.env.PORT);
    assert.equal(containerPort("http"), Number(spec.config.env.PORT));
    assert.ok(spec.config["exposed-ports"].includes(`${spec.config.env.PORT}/tcp`));
    assert.ok(spec.config["exposed-ports"].includes(`${spec.init.health.port}/tcp`));
    const dbPath = env("VOTE_DB_PATH")?.value;
    assert.equal(dbPath, spec.config.env.VOTE_DB_PATH);
    const mounts = app.volumeMounts as Obj[];
    const volumes = pod.volumes as Obj[];
    // every writable path of the image (its VOLUMEs, the init's writable ensure-dirs) is a mount
    const writable = [
      ...spec.config.volumes,
      ...(spec.init.tasks as Obj[]).filter((t) => t.writable).map((t) => t["ensure-dir"]),
    ];
    assert.ok(writable.includes(dirname(dbPath)));
    for (const path of writable) {
      const m = mounts.find((x) => x.mountPath === path);
      assert.ok(m, `${path} is mounted`);
      assert.notEqual(m.readOnly, true);
      const v = volumes.find((x) => x.name === m.name);
      assert.ok(v?.emptyDir, `${path} is an emptyDir`);
      assert.ok(v.emptyDir.sizeLimit, `${path} has a size limit`);
    }
    assert.ok(mounts.some((m) => m.mountPath === "/tmp"));
  });

  test("DATABASE_URL comes from an optional Secret, never a literal", () => {
    const db = env("DATABASE_URL");
    assert.ok(db);
    assert.equal(db.value, undefined);
    assert.equal(db.valueFrom.secretKeyRef.optional, true);
    assert.ok(db.valueFrom.secretKeyRef.name && db.valueFrom.secretKeyRef.key);
    for (const e of app.env as Obj[]) assert.doesNotMatch(String(e.value ?? ""), /postgres(ql)?:\/\//);
  });

  test("Service, Gateway and HTTPRoute connect: only /api is published, on the app's port", () => {
    const labels = deployment.spec.template.metadata.labels;
    for (const [k, v] of Object.entries(deployment.spec.selector.matchLabels)) assert.equal(labels[k], v);
    for (const [k, v] of Object.entries(service.spec.selector))
      assert.equal(labels[k], v, `service selects ${k}`);
    assert.equal(service.spec.ports.length, 1, "the health port is not a Service port");
    const svcPort = service.spec.ports[0];
    assert.equal(containerPort(svcPort.targetPort), containerPort("http"));
    assert.equal(only("GatewayClass").metadata.name, gateway.spec.gatewayClassName);
    assert.match(only("GatewayClass").spec.controllerName, /^gateway\.envoyproxy\.io\//);
    const [parent] = route.spec.parentRefs;
    assert.equal(parent.name, gateway.metadata.name);
    assert.ok((gateway.spec.listeners as Obj[]).some((l) => l.name === parent.sectionName));
    assert.equal(route.spec.rules.length, 1);
    const [rule] = route.spec.rules;
    assert.deepEqual(rule.matches, [{ path: { type: "PathPrefix", value: "/api" } }]);
    assert.deepEqual(rule.backendRefs, [{ name: service.metadata.name, port: svcPort.port }]);
  });
});
