// Checks deploy/kubernetes/sidecar.yaml without a cluster:
//
//   node check-sidecar.mjs MANIFEST BRIDGE_BINARY
//
// 1. Every document validates against the Kubernetes API's JSON schemas (kubernetes-models,
//    which bundles them: no network). Those schemas, like `kubectl apply` without
//    --validate=strict, accept unknown fields, so 2. names the fields that matter exactly.
// 2. The sidecar's parts: the bridge container next to an app container, probes on the admin
//    port, the journal on a PersistentVolumeClaim, resources, a non-root read-only
//    securityContext, Secrets mounted as files for the webhook source and the gRPC tokens,
//    gRPC on loopback, no Service env vars.
// 3. Runs the build's bridge with the container's args, the ConfigMap's sources.json and
//    stand-in secret files (their paths moved to a temporary directory; ports, data directory
//    moved by appended flags): it must become ready, take a webhook carrying the token (200),
//    refuse one without (401), and exit 0 on SIGTERM.
// Prints one line per check; exits 1 on the first failure.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseAllDocuments } from "yaml";
import * as core from "kubernetes-models/v1";
import * as apps from "kubernetes-models/apps/v1";

const [manifestPath, bridgeBinary] = process.argv.slice(2);
if (!manifestPath || !bridgeBinary) {
  console.error("usage: node check-sidecar.mjs MANIFEST BRIDGE_BINARY");
  process.exit(2);
}

function fail(message) {
  console.error(`check-sidecar: FAILED: ${message}`);
  process.exit(1);
}
function check(condition, message) {
  if (!condition) fail(message);
}
const log = (message) => console.log(`check-sidecar: ${message}`);

// ---- 1. schemas ----
const documents = parseAllDocuments(readFileSync(manifestPath, "utf8"));
const objects = [];
for (const document of documents) {
  if (document.errors.length > 0) fail(`YAML: ${document.errors[0].message}`);
  const object = document.toJS();
  if (object === null) continue;
  const models = { v1: core, "apps/v1": apps }[object.apiVersion];
  const Model = models && models[object.kind];
  check(Model, `no schema for ${object.apiVersion} ${object.kind}`);
  try {
    new Model(object).validate();
  } catch (error) {
    fail(`${object.kind} ${object.metadata?.name}: ${error.message}`);
  }
  objects.push(object);
}
const kinds = objects.map((o) => `${o.kind}/${o.metadata.name}`);
log(`schemas: ${kinds.join(", ")} valid`);

// ---- 2. the sidecar's parts ----
const find = (kind) => objects.filter((o) => o.kind === kind);
check(find("Deployment").length === 1, "expected exactly one Deployment");
const deployment = find("Deployment")[0];
const pod = deployment.spec.template.spec;
check(deployment.spec.replicas === 1, "replicas must be 1 (one bridge per journal)");
check(deployment.spec.strategy?.type === "Recreate", "strategy must be Recreate");
check(pod.enableServiceLinks === false, "enableServiceLinks must be false");
check(pod.securityContext?.fsGroup === 10001, "pod fsGroup must be 10001 (the image's group)");
check(pod.containers.length === 2, "expected the app and the bridge containers");
const bridge = pod.containers.find((c) => c.name === "refir-bridge");
const app = pod.containers.find((c) => c.name !== "refir-bridge");
check(bridge && app, "no container named refir-bridge next to an app container");

const args = bridge.args ?? [];
const flag = (name) => {
  const values = args.filter((a) => a.startsWith(`--${name}=`)).map((a) => a.slice(name.length + 3));
  return values.length ? values[values.length - 1] : undefined;
};
check(flag("grpc_address") === "127.0.0.1", "gRPC must bind 127.0.0.1 (the pod's loopback)");
check(!args.includes("--grpc_allow_insecure_remote"), "--grpc_allow_insecure_remote in the args");
check(flag("admin_address") === "0.0.0.0", "the admin listener must bind 0.0.0.0 (kubelet probes)");
const ports = Object.fromEntries((bridge.ports ?? []).map((p) => [p.name, p.containerPort]));
check(ports.admin === Number(flag("admin_port")), "containerPort admin must be --admin_port");
check(ports.webhook === Number(flag("http_port")), "containerPort webhook must be --http_port");
for (const [probe, path] of [["readinessProbe", "/readyz"], ["livenessProbe", "/healthz"]]) {
  const get = bridge[probe]?.httpGet;
  check(get?.path === path && get?.port === "admin", `${probe} must GET ${path} on port admin`);
}

const requests = bridge.resources?.requests ?? {};
const limits = bridge.resources?.limits ?? {};
const mebibytes = (q) => {
  const m = /^(\d+)(Mi|Gi)$/.exec(q ?? "");
  check(m, `memory quantity ${q} is not in Mi or Gi`);
  return Number(m[1]) * (m[2] === "Gi" ? 1024 : 1);
};
// Idle ~23 MiB, measured peak under floods 73-82 MiB (docs/operations.md, docs/security.md).
check(mebibytes(requests.memory) >= 32, "memory request below the idle RSS plus cache");
check(mebibytes(limits.memory) >= 128, "memory limit below the measured peak with headroom");
check(requests.cpu && limits.cpu, "cpu request and limit");

const security = bridge.securityContext ?? {};
check(security.runAsNonRoot === true && security.runAsUser === 10001, "runAsNonRoot, uid 10001");
check(security.readOnlyRootFilesystem === true, "readOnlyRootFilesystem");
check(security.allowPrivilegeEscalation === false, "allowPrivilegeEscalation: false");
check(JSON.stringify(security.capabilities?.drop) === '["ALL"]', "capabilities drop ALL");

const volumes = Object.fromEntries(pod.volumes.map((v) => [v.name, v]));
const mountOf = (container, path) => (container.volumeMounts ?? []).find((m) => m.mountPath === path);
const dataMount = mountOf(bridge, "/var/lib/refir-bridge");
check(dataMount, "no volume mounted on /var/lib/refir-bridge");
const claim = volumes[dataMount.name]?.persistentVolumeClaim?.claimName;
check(find("PersistentVolumeClaim").some((c) => c.metadata.name === claim),
      "the journal's volume is not a PersistentVolumeClaim of this manifest");
check(volumes[mountOf(bridge, "/tmp")?.name]?.emptyDir, "/tmp must be an emptyDir (read-only root)");

// Secret files: every file path the bridge reads must lie in a read-only Secret mount.
const configMap = find("ConfigMap").find((c) => c.data?.["sources.json"]);
check(configMap, "no ConfigMap with sources.json");
const sources = JSON.parse(configMap.data["sources.json"]);
const secretFiles = sources.sources.flatMap((s) => (s.verification?.secrets ?? []).map((x) => x.file));
check(secretFiles.length > 0, "sources.json names no secret file");
const tokensFile = flag("grpc_tokens_file");
check(tokensFile, "no --grpc_tokens_file");
const secretMountOf = (container, file) => {
  const mount = (container.volumeMounts ?? []).find((m) => file.startsWith(`${m.mountPath}/`));
  return mount && mount.readOnly === true && volumes[mount.name]?.secret ? mount : undefined;
};
for (const file of [...secretFiles, tokensFile]) {
  check(secretMountOf(bridge, file), `${file} is not in a read-only Secret mount of the bridge`);
}
const sourcesFile = flag("sources_file");
const configMount = (bridge.volumeMounts ?? []).find((m) => sourcesFile?.startsWith(`${m.mountPath}/`));
check(volumes[configMount?.name]?.configMap?.name === configMap.metadata.name,
      "--sources_file is not in the ConfigMap's mount");
const appTokenFile = (app.env ?? []).find((e) => e.name === "REFIR_BRIDGE_TOKEN_FILE")?.value;
check(appTokenFile && secretMountOf(app, appTokenFile), "the app's gRPC token is not a Secret file");
check(!(app.volumeMounts ?? []).some((m) => m.name === secretMountOf(bridge, tokensFile).name),
      "the app container mounts the bridge's tokens file");
const service = find("Service")[0];
check(service?.spec.ports.length === 1 && service.spec.ports[0].targetPort === "webhook",
      "the Service must expose only the webhook port");
log("parts: sidecar, probes on admin, PVC journal, resources, securityContext, secret files, loopback gRPC");

// ---- 3. run the bridge with the container's args ----
const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

const work = mkdtempSync(join(tmpdir(), "check-sidecar-"));
const moved = (path) => join(work, "root", path);
const writeSecret = (path, content) => {
  mkdirSync(dirname(moved(path)), { recursive: true });
  writeFileSync(moved(path), content, { mode: 0o600 });
};
const webhookToken = "webhook-token-0123456789abcdef";
for (const file of secretFiles) writeSecret(file, webhookToken);
writeSecret(tokensFile, "your-app Z3JwYy10b2tlbi0wMTIzNDU2Nzg5YWJjZGVm your-app\n");
const movedSources = structuredClone(sources);
for (const source of movedSources.sources) {
  for (const secret of source.verification?.secrets ?? []) secret.file = moved(secret.file);
}
writeSecret(sourcesFile, JSON.stringify(movedSources));

const [httpPort, grpcPort, adminPort] = [await freePort(), await freePort(), await freePort()];
const argv = args.map((a) => a.replace(/=(\/etc\/refir-bridge\/.*)$/, (_, p) => `=${moved(p)}`));
argv.push(`--data_dir=${join(work, "data")}`, "--http_address=127.0.0.1", `--http_port=${httpPort}`,
          `--grpc_port=${grpcPort}`, "--admin_address=127.0.0.1", `--admin_port=${adminPort}`);
// Only the container's settings: no REFIR_BRIDGE_* from the environment of this test.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("REFIR_BRIDGE_")));
const child = spawn(bridgeBinary, argv, { env, stdio: ["ignore", "ignore", "pipe"] });
let stderr = "";
child.stderr.on("data", (chunk) => (stderr += chunk));
let exited = null;
const exitedPromise = new Promise((resolve) => child.on("exit", (code, signal) => resolve((exited = { code, signal }))));
const finish = (message) => {
  if (exited === null) child.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
  if (message) {
    console.error(stderr);
    fail(message);
  }
};

const deadline = Date.now() + 20000;
for (;;) {
  if (exited) finish(`the bridge exited (${JSON.stringify(exited)}) with the manifest's args`);
  try {
    const response = await fetch(`http://127.0.0.1:${adminPort}/readyz`);
    if (response.status === 200) break;
  } catch {}
  if (Date.now() > deadline) finish("the bridge was not ready within 20 s");
  await new Promise((resolve) => setTimeout(resolve, 100));
}
const post = (headers) =>
  fetch(`http://127.0.0.1:${httpPort}${sources.sources[0].path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify({ event: "referral_created", lead: { id: 1, email: "ana@example.com" } }),
  }).then((r) => r.status);
const withToken = await post({ Authorization: `Bearer ${webhookToken}`, "webhook-id": "wh_k8s_1" });
const withoutToken = await post({ "webhook-id": "wh_k8s_2" });
if (withToken !== 200) finish(`a webhook with the token got ${withToken}, not 200`);
if (withoutToken !== 401) finish(`a webhook without the token got ${withoutToken}, not 401`);
child.kill("SIGTERM");
const timer = setTimeout(() => finish("no exit within 20 s of SIGTERM"), 20000);
const { code } = await exitedPromise;
clearTimeout(timer);
if (code !== 0) finish(`exit status ${code} after SIGTERM`);
finish();
log("the bridge with the manifest's args and config: ready, token 200, no token 401, exit 0 on SIGTERM");
log("PASSED");
