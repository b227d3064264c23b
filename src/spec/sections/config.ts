/**
 * `config:` the image config — entrypoint and cmd (exec form), env, workdir, user,
 * exposed-ports, volumes, labels, annotations, stop-signal, healthcheck.
 */
import {
  absPath,
  duration as checkedDuration,
  execForm,
  int,
  list,
  mapOf,
  type SpecDoc,
  scalarString,
  stringMap,
  type YamlNode,
} from "../check.ts";
import type { ConfigSpec, HealthcheckSpec } from "../types.ts";

export function parseConfig(doc: SpecDoc, node: YamlNode, field: string): Partial<ConfigSpec> {
  const config: Partial<ConfigSpec> = {};
  mapOf(doc, node, field, {
    entrypoint: (value, at) => {
      config.entrypoint = execForm(doc, value, at);
    },
    cmd: (value, at) => {
      config.cmd = execForm(doc, value, at);
    },
    env: (value, at) => {
      config.env = stringMap(doc, value, at, /^[A-Za-z_][A-Za-z0-9_]*$/, "environment variable name");
    },
    workdir: (value, at) => {
      config.workdir = absPath(doc, value, at);
    },
    user: (value, at) => {
      config.user = scalarString(doc, value, at);
    },
    "exposed-ports": (value, at) => {
      config.exposedPorts = list(doc, value, at, (item, itemAt) => {
        const port = scalarString(doc, item, itemAt);
        if (!/^\d{1,5}(\/(tcp|udp|sctp))?$/.test(port) || Number(port.split("/")[0]) > 65535) {
          doc.fail(item, itemAt, `invalid port "${port}": expected PORT or PORT/tcp|udp|sctp`);
        }
        return port.includes("/") ? port : `${port}/tcp`;
      });
    },
    volumes: (value, at) => {
      config.volumes = list(doc, value, at, (item, itemAt) => absPath(doc, item, itemAt));
    },
    labels: (value, at) => {
      config.labels = stringMap(doc, value, at);
    },
    annotations: (value, at) => {
      config.annotations = stringMap(doc, value, at);
    },
    "stop-signal": (value, at) => {
      config.stopSignal = scalarString(doc, value, at);
      if (!/^(SIG[A-Z0-9+-]+|\d+)$/.test(config.stopSignal))
        doc.fail(value, at, "must be a signal name such as SIGTERM");
    },
    healthcheck: (value, at) => {
      config.healthcheck = parseHealthcheck(doc, value, at);
    },
  });
  return config;
}

function parseHealthcheck(doc: SpecDoc, node: YamlNode, field: string): HealthcheckSpec {
  const healthcheck: Partial<HealthcheckSpec> = {};
  const duration = (value: YamlNode, at: string) => checkedDuration(doc, value, at);
  mapOf(doc, node, field, {
    test: (value, at) => {
      healthcheck.test = execForm(doc, value, at);
    },
    interval: (value, at) => {
      healthcheck.interval = duration(value, at);
    },
    timeout: (value, at) => {
      healthcheck.timeout = duration(value, at);
    },
    "start-period": (value, at) => {
      healthcheck.startPeriod = duration(value, at);
    },
    retries: (value, at) => {
      healthcheck.retries = int(doc, value, at, 0, 1000);
    },
  });
  if (!healthcheck.test) doc.fail(node, field, "needs test (exec form)");
  return healthcheck as HealthcheckSpec;
}
