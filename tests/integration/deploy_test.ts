// deploy/: the Kubernetes manifests and the Helm chart are valid objects (schemas and types),
// say what the CLIs understand, and agree with each other; the Dockerfile runs the CLIs with
// flags they have. No cluster runs here: these are static checks plus `--help` of the CLIs.
import assert from "node:assert/strict";
import {
  bytesOf,
  flagValue,
  type K8sObject,
  readObjects,
  readYaml,
  renderChart,
  ROOT,
  typeCheck,
  unknownFlags,
  validateSchema,
} from "./deploy_fixtures.ts";

const MANIFESTS = ["deploy/kubernetes/scheduler.yaml", "deploy/kubernetes/worker.yaml"];

function find(objects: K8sObject[], kind: string, component: string): K8sObject {
  const o = objects.find((o) =>
    o.kind === kind && o.metadata.labels?.["app.kubernetes.io/component"] === component
  );
  assert.ok(o, `a ${kind} for the ${component}`);
  return o;
}

function container(d: K8sObject) {
  return d.spec.template.spec.containers[0];
}

/** The checks both the plain manifests and the rendered chart must pass. */
async function checkCluster(objects: K8sObject[]): Promise<void> {
  for (const o of objects) validateSchema(o);
  assert.equal(await typeCheck(objects), null);

  const scheduler = find(objects, "Deployment", "scheduler");
  const service = find(objects, "Service", "scheduler");
  const workers = find(objects, "Deployment", "worker");
  for (const d of [scheduler, workers]) {
    // the selector picks the pods the template makes
    const labels = d.spec.template.metadata.labels;
    for (const [k, v] of Object.entries(d.spec.selector.matchLabels)) assert.equal(labels[k], v);
  }
  for (const [k, v] of Object.entries(service.spec.selector)) {
    assert.equal(scheduler.spec.template.metadata.labels[k], v, `the Service selects ${k}`);
  }
  assert.ok(!Object.values(service.spec.selector).includes("worker"));

  // the scheduler: its CLI's flags, 8786 and the dashboard on 8787, probes on /health there
  const s = container(scheduler);
  assert.deepEqual(await unknownFlags(s.args), [], "scheduler flags");
  assert.equal(s.args[0], "scheduler/main.ts");
  const ports = Object.fromEntries(s.ports.map((p: any) => [p.name, p.containerPort]));
  assert.equal(ports["tcp-comm"], 8786);
  assert.equal(ports["http-dashboard"], 8787);
  assert.equal(flagValue(s.args, "--port"), "8786");
  assert.equal(flagValue(s.args, "--dashboard-address"), "0.0.0.0:8787");
  assert.equal(flagValue(s.args, "--host"), "0.0.0.0");
  for (const probe of [s.readinessProbe, s.livenessProbe]) {
    assert.equal(probe.httpGet.path, "/health");
    assert.equal(ports[probe.httpGet.port] ?? probe.httpGet.port, 8787);
  }
  const servicePorts = Object.fromEntries(service.spec.ports.map((p: any) => [p.port, p]));
  assert.equal(servicePorts[8786].targetPort, "tcp-comm");
  assert.equal(servicePorts[8787].targetPort, "http-dashboard");
  // workers and clients are told the Service's name, which resolves in the cluster
  const contact = `tcp://${service.metadata.name}:8786`;
  assert.equal(flagValue(s.args, "--contact-address"), contact);

  // the workers: their CLI's flags, the Service's address, threads and memory as the limits
  const w = container(workers);
  assert.deepEqual(await unknownFlags(w.args), [], "worker flags");
  assert.equal(w.args[0], "worker/main.ts");
  assert.equal(w.args[1], contact);
  assert.ok(workers.spec.replicas >= 1);
  assert.equal(Number(flagValue(w.args, "--nthreads")), Number(w.resources.limits.cpu));
  assert.equal(
    bytesOf(flagValue(w.args, "--memory-limit")!),
    bytesOf(w.resources.limits.memory),
  );
  assert.ok(workers.spec.template.spec.terminationGracePeriodSeconds >= 5);

  // the token: a Secret mounted as a file that both CLIs read with --auth-token-file
  for (const d of [scheduler, workers]) {
    const c = container(d);
    const file = flagValue(c.args, "--auth-token-file")!;
    const mount = c.volumeMounts.find((m: any) => file.startsWith(`${m.mountPath}/`));
    assert.ok(mount, `${d.metadata.name}: the token file ${file} is on a mounted volume`);
    const volume = d.spec.template.spec.volumes.find((v: any) => v.name === mount.name);
    assert.ok(volume.secret.secretName, "the volume is a Secret");
    assert.deepEqual(volume.secret.items, [{
      key: "token",
      path: file.slice(mount.mountPath.length + 1),
    }]);
  }
}

Deno.test("the Kubernetes manifests are valid and run the CLIs with flags they have", async () => {
  const objects = MANIFESTS.flatMap(readObjects);
  assert.deepEqual(objects.map((o) => `${o.kind} ${o.metadata.name}`), [
    "Deployment dtask-scheduler",
    "Service dtask-scheduler",
    "Deployment dtask-worker",
  ]);
  await checkCluster(objects);
});

Deno.test("the Helm chart renders the same objects as the manifests, valid", async () => {
  const chart = readYaml("deploy/helm/dtask/Chart.yaml");
  assert.equal(chart.apiVersion, "v2");
  assert.equal(chart.name, "dtask");
  assert.match(chart.version, /^\d+\.\d+\.\d+$/);

  const { objects, files } = await renderChart("dtask");
  await checkCluster(objects);
  assert.equal(files["auth-secret.yaml"].trim(), "", "no Secret unless a token is given");
  assert.match(files["NOTES.txt"], /tcp:\/\/dtask-dtask-scheduler:8786/);
  // the plain manifests are the chart's objects for release "dtask", less the release's marks
  const plain = JSON.stringify(
    objects,
    (k, v) => k === "app.kubernetes.io/instance" ? undefined : v,
  )
    .replaceAll("dtask-dtask-", "dtask-");
  assert.deepEqual(JSON.parse(plain), MANIFESTS.flatMap(readObjects));
});

Deno.test("the Helm chart's values change what it renders", async () => {
  const { objects } = await renderChart("prod", {
    auth: { token: "s3cret" },
    image: { repository: "registry.example/dtask", tag: "9.9.9" },
    worker: {
      replicas: 10,
      nthreads: 4,
      memoryLimit: "8GiB",
      resources: { limits: { cpu: "4", memory: "8Gi" }, requests: { cpu: "4", memory: "8Gi" } },
    },
  });
  await checkCluster(objects);
  const secret = objects.find((o) => o.kind === "Secret")!;
  assert.equal(secret.metadata.name, "prod-dtask-auth");
  assert.deepEqual(secret.stringData, { token: "s3cret" });
  const workers = find(objects, "Deployment", "worker");
  assert.equal(workers.spec.replicas, 10);
  assert.equal(container(workers).image, "registry.example/dtask:9.9.9");
  assert.equal(container(workers).args[1], "tcp://prod-dtask-scheduler:8786");
  for (const d of [workers, find(objects, "Deployment", "scheduler")]) {
    const volume = d.spec.template.spec.volumes.find((v: any) => v.secret);
    assert.equal(volume.secret.secretName, "prod-dtask-auth");
  }
});

Deno.test("the validation catches a misspelled field, a bad quantity and an unknown flag", async () => {
  const [scheduler] = readObjects("deploy/kubernetes/scheduler.yaml");
  const typo = structuredClone(scheduler);
  const c = container(typo);
  c.readinesProbe = c.readinessProbe;
  delete c.readinessProbe;
  assert.match((await typeCheck([typo]))!, /readinesProbe/);
  const quantity = structuredClone(scheduler);
  container(quantity).resources.limits.cpu = "two";
  assert.throws(() => validateSchema(quantity), /limits\/cpu/);
  assert.deepEqual(await unknownFlags(["worker/main.ts", "tcp://s:8786", "--nthread", "2"]), [
    "--nthread",
  ]);
});

Deno.test("the Dockerfile installs a pinned Deno from npm and runs the CLIs with their flags", async () => {
  const text = Deno.readTextFileSync(new URL("deploy/Dockerfile", ROOT));
  assert.match(text, /^FROM debian:bookworm-slim$/m);
  assert.match(text, /npm install -g deno@\d+\.\d+\.\d+/);
  const json = (instruction: string) => {
    const m = new RegExp(`^${instruction} (\\[.*\\])$`, "m").exec(text);
    assert.ok(m, `${instruction} in exec form`);
    return JSON.parse(m[1]) as string[];
  };
  assert.deepEqual(json("ENTRYPOINT"), ["deno", "run", "-A"]);
  const cmd = json("CMD");
  assert.equal(cmd[0], "scheduler/main.ts");
  assert.deepEqual(await unknownFlags(cmd), []);
  // what it caches exists, and covers the entry points the manifests run
  const cached = /^RUN deno cache (.+)$/m.exec(text)![1].split(/\s+/);
  for (const f of cached) assert.ok(Deno.statSync(new URL(f, ROOT)).isFile, `${f} exists`);
  for (const entry of ["scheduler/main.ts", "worker/main.ts", "worker/thread.ts"]) {
    assert.ok(cached.includes(entry), `${entry} is cached`);
  }
});
