// The lab tier: the program's renderers and dynamic providers against real etcd, Kubernetes, Flux controllers and an SSH Git server.
import * as assert from "assert/strict";
import * as fs from "fs";
import * as path from "path";
import { randomBytes } from "crypto";
import { parseConfig, type StackConfig } from "../../config";
import { fluxInstallProvider, fluxReadyProvider, fluxSyncProvider, type FluxInstallInputs } from "../../components/providers/flux";
import { clusterUid, withKubectl } from "../../components/providers/kubectl";
import { renderFleet, type FileTree } from "../../manifests";
import { bootstrapObjects, type BootstrapObjects } from "../../manifests/fluxBuild";
import { seededKustomizations } from "../../manifests/clusters";
import { gitSshSecretData } from "../../manifests/knownHosts";
import { FLUX_NAMESPACE, FLUX_SYSTEM, TENANT_LABEL } from "../../manifests/labels";
import { notificationSecretData, receiverWebhookPath, sopsSecretData, TENANT_OBJECTS, tenantGitSecretName } from "../../manifests/tenants";
import { toYaml, toYamlDocuments } from "../../manifests/yaml";
import { type DeploymentObject, hostProcess } from "../fluxControllers";
import { labInstallManifest } from "../fluxRelease";
import { authorize } from "../lab";
import { RUN, runPath } from "../layout";
import { logTail, probeOnce, recorded, runs } from "../proc";
import { applySecret, ChartServer, ensureParamsKeeper, getJson, kubectl, lab, type LabSession, Repo, sshKeyPair, tempDir, timings, waitFor } from "./support";
import { CHART, CHART_FILES, helmTenantFiles, plainTenantFiles } from "./tenants";
import { EventListener, type Received } from "./listener";
import { setWebhooks as setGitWebhooks } from "../components/gitServer";
import { generateAgeKey } from "../../components/providers/generatedSecrets";
import { sopsCreationRules } from "../../manifests/tenantStarter";
import { run } from "../../components/providers/exec";

const GIT_REPOSITORIES = "gitrepositories.source.toolkit.fluxcd.io";
const KUSTOMIZATIONS = "kustomizations.kustomize.toolkit.fluxcd.io";
const WAIT_SECONDS = 300;
const ENV = "lab";

type Condition = { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string };
type FluxObject = {
  metadata: { name: string; generation?: number };
  status?: { conditions?: Condition[]; lastAttemptedRevision?: string; lastAppliedRevision?: string };
};

function ready(o: FluxObject | undefined): Condition | undefined {
  return o?.status?.conditions?.find((c) => c.type === "Ready");
}

describe("the lab: the program's providers on real Kubernetes, Flux and Git", function () {
  const runId = randomBytes(3).toString("hex");
  let session: LabSession;
  let kubeconfig: string;
  let uid: string;
  let config: StackConfig;
  let tree: FileTree;
  let objects: BootstrapObjects;
  let install: FluxInstallInputs;
  const charts = new ChartServer();
  const keys = tempDir("keys");
  const repos: Record<string, Repo> = {};
  let fleetKey: Awaited<ReturnType<typeof sshKeyPair>>;
  const tenantKeys: Record<string, Awaited<ReturnType<typeof sshKeyPair>>> = {};
  let fleetRevision = "";
  let installStarted = 0;
  const installSteps: string[] = [];
  // Each tenant's Receiver token (the program generates them), and where each tenant's notifications go.
  const receiverTokens: Record<string, string> = { "team-a": randomBytes(32).toString("hex"), "team-b": randomBytes(32).toString("hex") };
  const events = new EventListener();
  // Each tenant's own age key (the program generates them with the same function).
  const ageKeys = { "team-a": generateAgeKey(), "team-b": generateAgeKey() } as Record<string, ReturnType<typeof generateAgeKey>>;

  before(async function () {
    session = lab();
    kubeconfig = fs.readFileSync(session.state.kubeconfigs.admin, "utf8");
    uid = (await withKubectl(kubeconfig, clusterUid)) ?? "";
    assert.ok(uid, "the lab API server answers");
    // A Flux left by an interrupted run goes first, the way the program uninstalls it.
    if (await getJson(session.state, ["namespace", FLUX_NAMESPACE])) {
      const manifest = await labInstallManifest();
      const leftover = bootstrapObjects(
        labConfig("leftover"),
        renderFleet({ config: labConfig("leftover"), installManifest: manifest.text, installSource: manifest.source })[
          "clusters/lab/flux-system/gotk-components.yaml"
        ],
      );
      await fluxInstallProvider.delete!(`${FLUX_NAMESPACE}@${uid}`, {
        kubeconfig,
        clusterUid: uid,
        version: "",
        clusterName: "lab",
        kindHost: "",
        foundation: leftover.foundation,
        components: leftover.components,
        timeoutSeconds: WAIT_SECONDS,
      });
    }
    // The program's keeper of the API server's ConfigMap-parameter watch, as its first up makes it with `vap`.
    await ensureParamsKeeper(session.state);
    await charts.start(CHART.name, CHART.version, CHART_FILES);
    await events.start(session.state);
    fleetKey = await sshKeyPair(keys, "flux-system");
    await authorize(session.state, fleetKey.publicKeyFile);
    for (const t of ["team-a", "team-b"]) {
      tenantKeys[t] = await sshKeyPair(keys, t);
      await authorize(session.state, tenantKeys[t].publicKeyFile);
    }
  });

  after(async () => {
    await charts.stop();
    await events.stop();
    if (session && repos["team-a"]) setWebhooks(repos["team-a"].name, []);
    for (const r of Object.values(repos)) r.remove();
    fs.rmSync(keys, { recursive: true, force: true });
  });

  /** The webhooks the lab Git server calls on a push to `repository` (none: `[]`); other repositories' stay. */
  const setWebhooks = (repository: string, hooks: { url: string; secret?: string }[]) => setGitWebhooks(session.state, repository, hooks);

  /** The lab stack: an existing cluster, the fleet and tenants on the lab's Git server, native admission policies. */
  function rawLabConfig(id: string): Record<string, unknown> {
    const git = session.state.git;
    return {
      cluster: { provider: "existing" },
      fleet: { provider: "git", url: `${git.url}/fleet-${id}.git`, branch: "main" },
      policies: { engine: "vap", allowedSourcePrefixes: [`${git.url}/`] },
      // Flux's workload-identity lockdown too: the controllers must start with its gate and flags. Every optional
      // controller as well, so a flag one of them rejects shows here.
      flux: { workloadIdentityLockdown: true, componentsExtra: ["image-reflector-controller", "image-automation-controller", "source-watcher"] },
      tenants: ["team-a", "team-b"].map((name) => ({ name, repository: { url: `${git.url}/${name}-${id}.git`, deployKey: true } })),
      // The tenants' guardrails: a quota of Pods and of Flux Kustomizations (room for the refusal tests' nested ones),
      // container defaults, a default-deny network policy.
      tenantDefaults: {
        resourceQuota: { pods: "4", "count/kustomizations.kustomize.toolkit.fluxcd.io": "4" },
        limitRange: { default: { cpu: "100m", memory: "64Mi" } },
        networkPolicy: "default-deny",
        // Push-to-deploy (generic Receivers: the repositories are not on GitHub), and each tenant's notifications to
        // the test's HTTPS listener, which the lab CA signed.
        receiver: true,
        sops: true,
        notifications: { type: "generic", caCert: fs.readFileSync(session.state.pki.caCert, "utf8") },
      },
      knownHosts: fs.readFileSync(git.knownHosts, "utf8"),
    };
  }

  function labConfig(id: string): StackConfig {
    return parseConfig(rawLabConfig(id), { stack: ENV });
  }

  function repoName(url: string): string {
    return path.basename(url, ".git");
  }

  /** Each tenant's repository tree. */
  function tenantTree(name: string): Record<string, string> {
    const t = config.tenants.find((x) => x.name === name)!;
    return name === "team-a" ? plainTenantFiles(t.namespace, ENV) : helmTenantFiles(t.namespace, ENV, t.name, t.name);
  }

  /** The program's wait (with the key to register as its hint, when given); the time each took goes into `steps` when given. */
  async function waitReadyAt(resource: string, namespace: string, name: string, revision: string, steps?: string[], hint = "") {
    const t = Date.now();
    const r = await fluxReadyProvider.create!({
      kubeconfig,
      resource,
      namespace,
      name,
      revision,
      timeoutSeconds: WAIT_SECONDS,
      repository: "",
      token: "",
      apiUrl: "",
      gitUrl: "",
      sshKey: "",
      knownHosts: "",
      hint,
    });
    steps?.push(`${name === FLUX_SYSTEM && resource === GIT_REPOSITORIES ? "source" : name} ${((Date.now() - t) / 1000).toFixed(1)}s`);
    return r;
  }

  /** Flux's Ready=False message for a tenant's Kustomization (namespace and name the tenant's) once it tried `revision`. */
  async function failedAt(tenant: string, revision: string, seconds = 120): Promise<string> {
    return waitFor(`${tenant} refused at ${revision}`, seconds, async () => {
      const o = await getJson<FluxObject>(session.state, [KUSTOMIZATIONS, "-n", tenant, tenant]);
      const r = ready(o);
      return r?.status === "False" && o?.status?.lastAttemptedRevision === revision ? { value: r.message ?? "" } : { seen: `${r?.status}: ${r?.message}` };
    });
  }

  describe("bootstrap, as up runs it", () => {
    it("renders a lab stack and pushes the fleet and each tenant's tree to the lab Git server", async () => {
      const manifest = await labInstallManifest();
      config = labConfig(runId);
      tree = renderFleet({ config, installManifest: manifest.text, installSource: manifest.source });
      const sync = tree["clusters/lab/flux-system/gotk-sync.yaml"];
      assert.match(sync, new RegExp(`url: ${config.fleet.url.replace(/[.]/g, "\\.")}`));
      assert.ok(tree["infrastructure/admission-policies/restrict-tenant-sources.yaml"], "vap policies are rendered");
      repos.fleet = new Repo(session.state, repoName(config.fleet.url));
      fleetRevision = await repos.fleet.commit(tree, "flux-multi-tenancy: lab fleet");
      for (const t of config.tenants) {
        assert.equal(t.repository.type, "url");
        repos[t.name] = new Repo(session.state, repoName((t.repository as { url: string }).url));
        await repos[t.name].commit(tenantTree(t.name), `${t.name}: lab workloads`);
      }
      const heads = await kubectl(session.state, ["version", "-o", "json"]); // the API server is the one built from the pinned release
      assert.equal(JSON.parse(heads).serverVersion.gitVersion, session.state.versions["k8s.io/kubernetes"]);
    });

    it("installs Flux with the program's install provider; the controllers run with their built Deployments' arguments, as their own accounts", async () => {
      objects = bootstrapObjects(config, tree["clusters/lab/flux-system/gotk-components.yaml"]);
      install = {
        kubeconfig,
        clusterUid: uid,
        version: config.flux.version,
        clusterName: "lab",
        kindHost: "",
        foundation: objects.foundation,
        components: objects.components,
        timeoutSeconds: WAIT_SECONDS,
      };
      installStarted = Date.now();
      const created = await fluxInstallProvider.create!(install);
      assert.equal(created.id, `${FLUX_NAMESPACE}@${uid}`);
      installSteps.push(`install ${((Date.now() - installStarted) / 1000).toFixed(1)}s`);

      const ports = JSON.parse(fs.readFileSync(runPath(RUN.flux, "ports.json"), "utf8"));
      const deployments = objects.components.filter((o) => o.kind === "Deployment") as unknown as DeploymentObject[];
      assert.deepEqual(deployments.map((d) => d.metadata.name).sort(), [
        "helm-controller",
        "image-automation-controller",
        "image-reflector-controller",
        "kustomize-controller",
        "notification-controller",
        "source-controller",
        "source-watcher",
      ]);
      for (const d of deployments) {
        const expected = hostProcess(d, ports, runPath(RUN.flux, d.metadata.name, "volumes"));
        const argv = await waitFor(`${d.metadata.name} running`, 60, async () => {
          const p = recorded().find((r) => r.name === d.metadata.name);
          if (!p || !runs(p.pid, p.command)) return { seen: "no process" };
          return { value: fs.readFileSync(`/proc/${p.pid}/cmdline`, "utf8").split("\0").slice(1, -1), seen: "" };
        });
        assert.deepEqual(argv, expected.args, `${d.metadata.name} runs with its Deployment's arguments`);
        const whoami = await kubectl(session.state, [
          "--kubeconfig",
          runPath(RUN.flux, d.metadata.name, "kubeconfig"),
          "auth",
          "whoami",
          "-o",
          "jsonpath={.status.userInfo.username}",
        ]);
        assert.equal(whoami, `system:serviceaccount:${FLUX_NAMESPACE}:${d.spec?.template?.spec?.serviceAccountName}`);
        // Up and serving: its health endpoint answers (a controller that cannot start fails here, with its log).
        await waitFor(`${d.metadata.name} ready on its health port`, 60, async () =>
          (await probeOnce({ url: `http://127.0.0.1:${ports[d.metadata.name].healthz}/readyz` })) ? { value: true } : { seen: logTail(d.metadata.name, 5) },
        );
      }
      // The multi-tenancy lockdown, and the workload-identity lockdown's gate and defaults (the controllers started with them: above).
      const gate = "--feature-gates=ObjectLevelWorkloadIdentity=true";
      const lockdown: Record<string, string[]> = {
        "kustomize-controller": [
          "--no-cross-namespace-refs=true",
          "--no-remote-bases=true",
          "--default-service-account=default",
          gate,
          "--default-decryption-service-account=default",
          "--default-kubeconfig-service-account=default",
        ],
        "helm-controller": ["--no-cross-namespace-refs=true", "--default-service-account=default", gate, "--default-kubeconfig-service-account=default"],
        "notification-controller": ["--no-cross-namespace-refs=true", gate, "--default-service-account=default"],
        "source-controller": [gate, "--default-service-account=default"],
        "image-reflector-controller": ["--no-cross-namespace-refs=true", gate, "--default-service-account=default"],
        "image-automation-controller": ["--no-cross-namespace-refs=true", gate, "--default-service-account=default"],
        "source-watcher": ["--no-cross-namespace-refs=true"],
      };
      for (const [name, flags] of Object.entries(lockdown)) {
        const args = hostProcess(
          deployments.find((d) => d.metadata.name === name)!,
          ports,
          "",
        ).args;
        for (const f of flags) assert.ok(args.includes(f), `${name} runs with ${f}`);
      }
    });

    it("applies the flux-system Secret and the sync objects; every Kustomization is Ready at the pushed revision, in dependency order", async () => {
      await applySecret(session.state, FLUX_NAMESPACE, FLUX_SYSTEM, gitSshSecretData(fleetKey.privateKey, fleetKey.publicKey, config.knownHosts));
      await fluxSyncProvider.create!({ kubeconfig, clusterUid: uid, path: config.flux.path, objects: objects.sync });
      await waitReadyAt(GIT_REPOSITORIES, FLUX_NAMESPACE, FLUX_SYSTEM, fleetRevision, installSteps);
      await waitReadyAt(KUSTOMIZATIONS, FLUX_NAMESPACE, FLUX_SYSTEM, fleetRevision, installSteps);
      const seeded = seededKustomizations(config);
      for (const k of seeded.filter((s) => s.namespace === FLUX_NAMESPACE))
        await waitReadyAt(KUSTOMIZATIONS, FLUX_NAMESPACE, k.name, fleetRevision, installSteps);
      // The tenant namespaces exist now; each tenant's Secret holds its key and the lab's known_hosts, as the Tenant component writes it.
      for (const t of config.tenants) {
        await applySecret(
          session.state,
          t.namespace,
          tenantGitSecretName(t),
          gitSshSecretData(tenantKeys[t.name].privateKey, tenantKeys[t.name].publicKey, config.knownHosts),
        );
        // The platform's Secrets beside it, as the Tenant component writes them: its Receiver's token, its notification address.
        await applySecret(session.state, t.namespace, TENANT_OBJECTS.receiver, { token: receiverTokens[t.name] });
        await applySecret(session.state, t.namespace, TENANT_OBJECTS.sopsSecret, sopsSecretData(ageKeys[t.name].identity, ""));
        await applySecret(
          session.state,
          t.namespace,
          TENANT_OBJECTS.notifications,
          notificationSecretData({ address: `${events.url}/${t.name}` }, t.features.notifications.caCert),
        );
      }
      for (const t of config.tenants) await waitReadyAt(KUSTOMIZATIONS, t.namespace, t.name, "", installSteps);
      timings["install to all Ready"] = `${((Date.now() - installStarted) / 1000).toFixed(1)}s (${installSteps.join(", ")})`;

      // Flux made each Ready only after what it depends on.
      const readyAt = async (ns: string, name: string) =>
        Date.parse(ready(await getJson<FluxObject>(session.state, [KUSTOMIZATIONS, "-n", ns, name]))?.lastTransitionTime ?? "");
      for (const k of seeded) {
        for (const dep of k.dependsOn)
          assert.ok((await readyAt(k.namespace, dep)) <= (await readyAt(k.namespace, k.name)), `${dep} was Ready before ${k.name}`);
      }
      for (const t of config.tenants)
        assert.ok((await readyAt(FLUX_NAMESPACE, "tenants")) <= (await readyAt(t.namespace, t.name)), `tenants was Ready before ${t.name}`);
    });

    it("runs each tenant's workloads in its own namespace: plain manifests, and a chart helm-controller installed", async () => {
      type Deployment = { spec: { replicas: number }; status?: { availableReplicas?: number } };
      const available = (ns: string, name: string) =>
        waitFor(`Deployment ${ns}/${name} available`, 120, async () => {
          const d = await getJson<Deployment>(session.state, ["deployment", "-n", ns, name]);
          return d && d.status?.availableReplicas === d.spec.replicas ? { value: d } : { seen: JSON.stringify(d?.status ?? "absent") };
        });
      await available("team-a", "web");
      await waitFor("HelmRelease team-b/hello Ready", 120, async () => {
        const r = ready(await getJson<FluxObject>(session.state, ["helmreleases.helm.toolkit.fluxcd.io", "-n", "team-b", "hello"]));
        return r?.status === "True" ? { value: r } : { seen: `${r?.reason}: ${r?.message}` };
      });
      const d = await available("team-b", "hello");
      assert.equal(d.spec.replicas, 2, "the HelmRelease's values reached the chart");
      const pods = await getJson<{ items: { spec: { nodeName?: string } }[] }>(session.state, [
        "pods",
        "-n",
        "team-b",
        "-l",
        "app.kubernetes.io/instance=hello",
      ]);
      assert.ok(pods && pods.items.length === 2 && pods.items.every((p) => p.spec.nodeName === session.state.nodeName), "scheduled onto the lab's node");
      const helmSecrets = await kubectl(session.state, ["get", "secrets", "-n", "team-b", "-l", "owner=helm,name=hello", "-o", "name"]);
      assert.match(helmSecrets, /secret\/sh\.helm\.release\.v1\.hello\.v\d+/, "Helm's release record is in the tenant's namespace");
    });
  });

  describe("tenant isolation, proven by refusal (each asserted on Flux's or the API server's own message)", () => {
    const TENANT = "team-a";
    type Subject = { resource: string; name: string };
    const TENANT_KS: Subject = { resource: KUSTOMIZATIONS, name: TENANT };
    const nested = (name: string): Subject => ({ resource: KUSTOMIZATIONS, name });

    /** A Flux Kustomization the tenant writes itself, syncing a path of its own repository. */
    function tenantKustomization(name: string, spec: object): string {
      return toYaml({
        apiVersion: "kustomize.toolkit.fluxcd.io/v1",
        kind: "Kustomization",
        metadata: { name, namespace: TENANT },
        spec: { interval: "1m", path: "./nested", prune: true, sourceRef: { kind: "GitRepository", name: TENANT }, ...spec },
      });
    }

    /** team-a's workloads plus `extra` files (listed as resources of its kustomization unless `unlisted`), pushed; Flux asked to reconcile. */
    async function push(extra: Record<string, string>, more: { resources?: string[]; unlisted?: Record<string, string> } = {}): Promise<string> {
      const files: Record<string, string> = { ...plainTenantFiles(TENANT, ENV), ...more.unlisted };
      for (const [f, text] of Object.entries(extra)) files[`${ENV}/${f}`] = text;
      files[`${ENV}/kustomization.yaml`] = toYaml({
        apiVersion: "kustomize.config.k8s.io/v1beta1",
        kind: "Kustomization",
        resources: ["web.yaml", ...Object.keys(extra), ...(more.resources ?? [])],
      });
      const revision = await repos[TENANT].commit(files, `${TENANT}: ${Object.keys(extra).join(", ") || "workloads"}`);
      await requestReconcile(GIT_REPOSITORIES, TENANT);
      await requestReconcile(KUSTOMIZATIONS, TENANT);
      return revision;
    }

    async function requestReconcile(resource: string, name: string): Promise<void> {
      await kubectl(session.state, ["annotate", "--overwrite", "-n", TENANT, resource, name, `reconcile.fluxcd.io/requestedAt=${new Date().toISOString()}`]);
    }

    /** Flux's Ready=False message for `subject`, once it has tried `revision` (or any revision, for objects that never get one). */
    async function refusal(subject: Subject, revision?: string): Promise<string> {
      let poked = false;
      return waitFor(`${subject.name} refused`, 120, async () => {
        const o = await getJson<FluxObject>(session.state, [subject.resource, "-n", TENANT, subject.name]);
        if (o && !poked && subject.name !== TENANT) {
          poked = true;
          await requestReconcile(subject.resource, subject.name);
        }
        const r = ready(o);
        const attempted = !revision || o?.status?.lastAttemptedRevision === revision;
        return r?.status === "False" && attempted
          ? { value: r.message ?? "" }
          : { seen: `${r?.status} ${r?.reason}: ${r?.message} at ${o?.status?.lastAttemptedRevision}` };
      });
    }

    it("a tenant's own Kustomizations: a cross-namespace sourceRef, no serviceAccountName (the zero-privilege default account), the platform's reconciler account", async () => {
      const revision = await push(
        {
          "cross-namespace.yaml": tenantKustomization("cross-namespace", {
            serviceAccountName: TENANT,
            sourceRef: { kind: "GitRepository", name: FLUX_SYSTEM, namespace: FLUX_NAMESPACE },
          }),
          "no-account.yaml": tenantKustomization("no-account", {}),
          "as-reconciler.yaml": tenantKustomization("as-reconciler", { serviceAccountName: "kustomize-controller" }),
        },
        {
          unlisted: {
            "nested/config.yaml": toYaml({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "nested", namespace: TENANT }, data: { a: "b" } }),
          },
        },
      );
      await waitReadyAt(KUSTOMIZATIONS, TENANT, TENANT, revision);
      assert.match(await refusal(nested("cross-namespace")), /cross-namespace references have been blocked/);
      assert.match(await refusal(nested("no-account")), /forbidden: User "system:serviceaccount:team-a:default" cannot/);
      assert.match(await refusal(nested("as-reconciler")), /forbidden: User "system:serviceaccount:team-a:kustomize-controller" cannot/);
      assert.equal(await getJson(session.state, ["configmap", "-n", TENANT, "nested"]), undefined, "nothing was applied for them");
    });

    it("a remote base in the tenant's kustomization.yaml", async () => {
      // A base on a public Git host (the lab's, over anonymous HTTP): kustomize fetches it, then Flux refuses to read
      // outside the tenant's own artifact (--no-remote-bases keeps the fetch, refuses the use).
      const base = `${session.state.git.httpUrl}/${path.basename(repos["team-b"].url)}//${ENV}?ref=main`;
      const revision = await push({}, { resources: [base] });
      const message = await refusal(TENANT_KS, revision);
      assert.ok(message.startsWith(`kustomize build failed: accumulating resources: accumulation err='accumulating resources from '${base}'`), message);
      assert.match(message, /fs-security-constraint abs \S+: path '\S+' is not in or below '\S+'/);
    });

    it("not refused, and said plainly: a remote file (not a base) is fetched over HTTP and applied, though only as the tenant", async () => {
      // kustomize loads http(s) file resources itself, outside the file system --no-remote-bases guards.
      const own = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "remote-config", namespace: TENANT }, data: { from: "http" } };
      const revision = await push({}, { resources: [charts.serve("remote-config.yaml", toYaml(own))] });
      await waitReadyAt(KUSTOMIZATIONS, TENANT, TENANT, revision);
      const applied = await getJson<{ metadata: { labels: Record<string, string> } }>(session.state, ["configmap", "-n", TENANT, "remote-config"]);
      assert.equal(applied?.metadata.labels["kustomize.toolkit.fluxcd.io/name"], TENANT);
      // The tenant's account still bounds it: the same trick aimed at another namespace is refused.
      const elsewhere = { ...own, metadata: { name: "remote-intruder", namespace: "team-b" } };
      const refused = await push({}, { resources: [charts.serve("remote-intruder.yaml", toYaml(elsewhere))] });
      assert.match(await refusal(TENANT_KS, refused), /forbidden: User "system:serviceaccount:team-a:team-a" cannot .* in the namespace "team-b"/);
    });

    it("an object in another tenant's namespace", async () => {
      const revision = await push({
        "elsewhere.yaml": toYaml({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "intruder", namespace: "team-b" }, data: { a: "b" } }),
      });
      assert.match(await refusal(TENANT_KS, revision), /forbidden: User "system:serviceaccount:team-a:team-a" cannot .* in the namespace "team-b"/);
      assert.equal(await getJson(session.state, ["configmap", "-n", "team-b", "intruder"]), undefined);
    });

    it("a cluster-scoped object", async () => {
      const role = {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name: "team-a-everything" },
        rules: [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }],
      };
      const revision = await push({ "cluster-role.yaml": toYaml(role) });
      assert.match(await refusal(TENANT_KS, revision), /forbidden: User "system:serviceaccount:team-a:team-a" cannot .*clusterroles.* at the cluster scope/);
      assert.equal(await getJson(session.state, ["clusterrole", "team-a-everything"]), undefined);
    });

    it("with vap: a Git source outside the allowlist", async () => {
      const source = {
        apiVersion: "source.toolkit.fluxcd.io/v1",
        kind: "GitRepository",
        metadata: { name: "outside", namespace: TENANT },
        spec: { interval: "1m", url: "https://example.invalid/evil.git", ref: { branch: "main" } },
      };
      const revision = await push({ "outside.yaml": toYaml(source) });
      const message = await refusal(TENANT_KS, revision);
      assert.match(message, /ValidatingAdmissionPolicy 'restrict-tenant-sources' with binding 'restrict-tenant-sources' denied request/);
      assert.ok(
        message.includes(`GitRepository source https://example.invalid/evil.git is outside the allowlist: use a source under one of ${session.state.git.url}/`),
        message,
      );
    });

    it("with vap: a Helm repository and an OCI artifact outside the allowlist (its ConfigMap parameter read by the API server)", async () => {
      const helm = {
        apiVersion: "source.toolkit.fluxcd.io/v1",
        kind: "HelmRepository",
        metadata: { name: "outside-charts", namespace: TENANT },
        spec: { interval: "1m", url: charts.url },
      };
      const helmMessage = await refusal(TENANT_KS, await push({ "outside-charts.yaml": toYaml(helm) }));
      assert.ok(helmMessage.includes(`HelmRepository source ${charts.url} is outside the allowlist`), helmMessage);
      const oci = {
        apiVersion: "source.toolkit.fluxcd.io/v1",
        kind: "OCIRepository",
        metadata: { name: "outside-artifact", namespace: TENANT },
        spec: { interval: "1m", url: "oci://registry.invalid/evil/manifests", ref: { tag: "latest" } },
      };
      const ociMessage = await refusal(TENANT_KS, await push({ "outside-artifact.yaml": toYaml(oci) }));
      assert.match(
        ociMessage,
        /ValidatingAdmissionPolicy 'restrict-tenant-sources' .*denied request: OCIRepository source oci:\/\/registry\.invalid\/evil\/manifests is outside the allowlist/,
      );
    });

    it("with vap: a Bucket source", async () => {
      const bucket = {
        apiVersion: "source.toolkit.fluxcd.io/v1",
        kind: "Bucket",
        metadata: { name: "bucket", namespace: TENANT },
        spec: { interval: "1m", bucketName: "data", endpoint: "minio.invalid" },
      };
      const revision = await push({ "bucket.yaml": toYaml(bucket) });
      assert.match(
        await refusal(TENANT_KS, revision),
        /ValidatingAdmissionPolicy 'deny-bucket-sources' .*denied request: Bucket sources are reserved for the platform \(flux-system\)/,
      );
    });

    it("with vap: spec.kubeConfig (reconciling into another cluster)", async () => {
      const revision = await push({
        "remote-cluster.yaml": tenantKustomization("remote-cluster", { serviceAccountName: TENANT, kubeConfig: { secretRef: { name: "other-cluster" } } }),
      });
      assert.match(
        await refusal(TENANT_KS, revision),
        /ValidatingAdmissionPolicy 'deny-remote-clusters' .*denied request: \.spec\.kubeConfig is not allowed: tenants reconcile into their own cluster only/,
      );
    });

    it("with vap: a Pod running as the tenant's reconciler account", async () => {
      const pod = {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "as-reconciler", namespace: TENANT },
        spec: { serviceAccountName: TENANT, containers: [{ name: "c", image: "registry.invalid/x:1" }] },
      };
      const revision = await push({ "pod.yaml": toYaml(pod) });
      assert.match(
        await refusal(TENANT_KS, revision),
        /ValidatingAdmissionPolicy 'deny-reconciler-pods' .*denied request: Pods may not run as the tenant's Flux reconciler service account/,
      );
    });

    it("with vap: the reconciler's token, neither as a Secret from a tenant commit nor from the TokenRequest API as the tenant", async () => {
      // A legacy token Secret of the reconciler account, which Kubernetes would fill in and any Pod could mount.
      const secret = {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "reconciler-token", namespace: TENANT, annotations: { "kubernetes.io/service-account.name": TENANT } },
        type: "kubernetes.io/service-account-token",
      };
      const revision = await push({ "token.yaml": toYaml(secret) });
      assert.match(
        await refusal(TENANT_KS, revision),
        /ValidatingAdmissionPolicy 'deny-reconciler-tokens' .*denied request: a token Secret of the tenant's Flux reconciler service account is not allowed/,
      );
      assert.equal(await getJson(session.state, ["secret", "-n", TENANT, "reconciler-token"]), undefined);
      // As the tenant's account itself, through the API: its RoleBinding (cluster-admin in the namespace) allows it; the policy does not.
      await assert.rejects(
        kubectl(session.state, ["create", "token", TENANT, "-n", TENANT, `--as=system:serviceaccount:${TENANT}:${TENANT}`]),
        /ValidatingAdmissionPolicy 'deny-reconciler-tokens' .*denied request: tokens of the tenant's Flux reconciler service account are not issued/,
      );
    });

    it("the tenant cannot change or delete its own Namespace: not by the API as its reconciler, not by a commit carrying the Namespace", async () => {
      const as = `--as=system:serviceaccount:${TENANT}:${TENANT}`;
      // Kubernetes authorizes a request on a Namespace against the RoleBindings inside it, where the reconciler is cluster-admin.
      await assert.rejects(
        kubectl(session.state, ["label", "namespace", TENANT, `${TENANT_LABEL}-`, as]),
        /ValidatingAdmissionPolicy 'protect-tenant-namespaces' .*denied request: Namespace team-a belongs to tenant team-a: only an account allowed to update namespaces cluster-wide may change or delete it, not one bound inside it/,
      );
      await assert.rejects(
        kubectl(session.state, ["delete", "namespace", TENANT, "--wait=false", as]),
        /ValidatingAdmissionPolicy 'protect-tenant-namespaces' .*denied request: Namespace team-a belongs to tenant team-a: only an account allowed to delete namespaces cluster-wide/,
      );
      // Through Flux: the tenant's commit carries its Namespace with other labels (out of the policies' reach, a laxer Pod Security level).
      const namespace = {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: TENANT, labels: { [TENANT_LABEL]: "nobody", "pod-security.kubernetes.io/enforce": "privileged" } },
      };
      const revision = await push({ "namespace.yaml": toYaml(namespace) });
      assert.match(
        await refusal(TENANT_KS, revision),
        /ValidatingAdmissionPolicy 'protect-tenant-namespaces' .*denied request: Namespace team-a belongs to tenant team-a: only an account allowed to update namespaces cluster-wide/,
      );
      const labels = (await getJson<{ metadata: { labels: Record<string, string> } }>(session.state, ["namespace", TENANT]))!.metadata.labels;
      assert.equal(labels[TENANT_LABEL], TENANT);
      assert.equal(labels["pod-security.kubernetes.io/enforce"], "baseline", "the platform's level, not the commit's");
      // The platform still can: a cluster admin labels it (and Flux's own apply of tenants/ keeps working, below).
      await kubectl(session.state, ["label", "namespace", TENANT, "lab.example/checked=yes"]);
      await kubectl(session.state, ["label", "namespace", TENANT, "lab.example/checked-"]);
    });

    it("after the refusals the tenant's own workloads reconcile again, and what it tried is gone", async () => {
      const revision = await push({});
      await waitReadyAt(KUSTOMIZATIONS, TENANT, TENANT, revision);
      assert.equal(await getJson(session.state, ["configmap", "-n", TENANT, "remote-config"]), undefined, "the remote file's ConfigMap is pruned");
      for (const name of ["cross-namespace", "no-account", "as-reconciler", "remote-cluster"]) {
        await waitFor(`Kustomization ${name} pruned`, 60, async () =>
          (await getJson(session.state, [KUSTOMIZATIONS, "-n", TENANT, name])) ? { seen: "present" } : { value: true },
        );
      }
    });
  });

  describe("tenant guardrails, on the API server's own admission", () => {
    const TENANT = "team-a";
    const as = `--as=system:serviceaccount:${TENANT}:${TENANT}`;

    /** team-a's workloads plus `extra` objects, pushed; Flux asked to reconcile; the revision. */
    async function push(extra: object[]): Promise<string> {
      const files: Record<string, string> = { ...plainTenantFiles(TENANT, ENV) };
      files[`${ENV}/extra.yaml`] = extra.length > 0 ? toYamlDocuments(extra) : "";
      files[`${ENV}/kustomization.yaml`] = toYaml({
        apiVersion: "kustomize.config.k8s.io/v1beta1",
        kind: "Kustomization",
        resources: ["web.yaml", ...(extra.length > 0 ? ["extra.yaml"] : [])],
      });
      const revision = await repos[TENANT].commit(files, `${TENANT}: ${extra.length} extra objects`);
      for (const resource of [GIT_REPOSITORIES, KUSTOMIZATIONS]) {
        await kubectl(session.state, [
          "annotate",
          "--overwrite",
          "-n",
          TENANT,
          resource,
          TENANT,
          `reconcile.fluxcd.io/requestedAt=${new Date().toISOString()}`,
        ]);
      }
      return revision;
    }

    const pod = (name: string, spec: object = {}) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: TENANT },
      spec: { containers: [{ name: "c", image: "registry.invalid/x:1", ...spec }] },
    });

    it("the platform's objects are there, applied by Flux from the environment's overlay: quota, limit range, network policy, Pod Security labels", async () => {
      const quota = await getJson<{ spec: { hard: Record<string, string> } }>(session.state, ["resourcequota", "-n", TENANT, "tenant-quota"]);
      assert.deepEqual(quota?.spec.hard, { pods: "4", "count/kustomizations.kustomize.toolkit.fluxcd.io": "4" });
      assert.ok(await getJson(session.state, ["limitrange", "-n", TENANT, "tenant-limits"]));
      // Without a CNI nothing enforces a NetworkPolicy here: the lab asserts the object, not the traffic.
      assert.ok(await getJson(session.state, ["networkpolicy", "-n", TENANT, "tenant-default-deny"]));
      const labels = (await getJson<{ metadata: { labels: Record<string, string> } }>(session.state, ["namespace", TENANT]))!.metadata.labels;
      assert.equal(labels["pod-security.kubernetes.io/enforce"], "baseline");
    });

    it("a commit over the quota fails on its Kustomization with the API server's quota message: Pods, and Flux Kustomizations", async () => {
      const pods = await push([pod("extra-1"), pod("extra-2"), pod("extra-3")]);
      assert.match(await failedAt(TENANT, pods), /exceeded quota: tenant-quota, requested: pods=1, used: pods=4, limited: pods=4/);
      const nested = ["n1", "n2", "n3", "n4"].map((name) => ({
        apiVersion: "kustomize.toolkit.fluxcd.io/v1",
        kind: "Kustomization",
        metadata: { name, namespace: TENANT },
        spec: { interval: "1h", path: "./nowhere", prune: true, serviceAccountName: TENANT, sourceRef: { kind: "GitRepository", name: TENANT } },
      }));
      const kustomizations = await push(nested);
      assert.match(
        await failedAt(TENANT, kustomizations),
        /exceeded quota: tenant-quota, requested: count\/kustomizations\.kustomize\.toolkit\.fluxcd\.io=1, used: count\/kustomizations\.kustomize\.toolkit\.fluxcd\.io=4, limited: count\/kustomizations\.kustomize\.toolkit\.fluxcd\.io=4/,
      );
    });

    it("a privileged Pod is refused by Pod Security admission at the namespace's level", async () => {
      const revision = await push([pod("privileged", { securityContext: { privileged: true } })]);
      assert.match(
        await failedAt(TENANT, revision),
        /violates PodSecurity "baseline:latest": privileged \(container "c" must not set securityContext\.privileged=true\)/,
      );
    });

    it("the tenant's account can neither lift nor loosen them: delete or change the quota, limit range or network policy, add an allow-all policy", async () => {
      const platformOnly =
        /ValidatingAdmissionPolicy 'protect-tenant-guardrails' .*denied request: \w+ \S* ?in team-a is the platform's: only an account allowed to change \w+ cluster-wide may/;
      for (const [kind, name] of [
        ["resourcequota", "tenant-quota"],
        ["limitrange", "tenant-limits"],
        ["networkpolicy", "tenant-default-deny"],
      ]) {
        await assert.rejects(kubectl(session.state, ["delete", kind, name, "-n", TENANT, as]), platformOnly, kind);
      }
      await assert.rejects(
        kubectl(session.state, ["patch", "resourcequota", "tenant-quota", "-n", TENANT, as, "--type=merge", "-p", '{"spec":{"hard":{"pods":"1000"}}}']),
        platformOnly,
      );
      const allowAll = {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "allow-all", namespace: TENANT },
        spec: { podSelector: {}, ingress: [{}], egress: [{}] },
      };
      await assert.rejects(kubectl(session.state, ["create", "-f", "-", as], JSON.stringify(allowAll)), platformOnly);
      // Through Flux too: the same allow-all policy in a commit.
      const revision = await push([allowAll]);
      assert.match(await failedAt(TENANT, revision), /protect-tenant-guardrails/);
      // A cluster admin (the platform) still can.
      await kubectl(session.state, ["label", "resourcequota", "tenant-quota", "-n", TENANT, "lab.example/checked=yes"]);
      await kubectl(session.state, ["label", "resourcequota", "tenant-quota", "-n", TENANT, "lab.example/checked-"]);
    });

    it("a tenant namespace with guardrails can still be deleted by the platform: the namespace controller's collection deletes pass the policy", async () => {
      // A namespace as a tenant's is (the tenant label), with its guardrail objects, made and deleted by a cluster admin.
      const ns = `goodbye-${runId}`;
      await kubectl(session.state, ["create", "namespace", ns]);
      await kubectl(session.state, ["label", "namespace", ns, `${TENANT_LABEL}=${ns}`]);
      const guard = (kind: string, name: string, spec: object) => ({
        apiVersion: kind === "NetworkPolicy" ? "networking.k8s.io/v1" : "v1",
        kind,
        metadata: { name, namespace: ns },
        spec,
      });
      await kubectl(
        session.state,
        ["apply", "-f", "-"],
        JSON.stringify({
          apiVersion: "v1",
          kind: "List",
          items: [
            guard("ResourceQuota", "tenant-quota", { hard: { pods: "1" } }),
            guard("LimitRange", "tenant-limits", { limits: [{ type: "Container", default: { cpu: "100m" } }] }),
            guard("NetworkPolicy", "tenant-default-deny", { podSelector: {}, policyTypes: ["Ingress"] }),
          ],
        }),
      );
      await kubectl(session.state, ["delete", "namespace", ns, "--wait=false"]);
      await waitFor(`namespace ${ns} gone`, 120, async () => {
        const o = await getJson<{ status?: { conditions?: { type: string; message?: string }[] } }>(session.state, ["namespace", ns]);
        return o ? { seen: JSON.stringify(o.status?.conditions?.filter((c) => /Failure|Remaining/.test(c.type))) } : { value: true };
      });
    });

    it("back within its guardrails, the tenant reconciles again; what a refused commit applied before the quota stopped it is not Flux's to prune", async () => {
      const revision = await push([]);
      await waitReadyAt(KUSTOMIZATIONS, TENANT, TENANT, revision);
      // Each Pod passed its own dry-run; applied one by one, the quota stopped the last. Flux records an inventory only for
      // an apply that succeeded whole, so the Pods created before the refusal are in none and are never pruned: they count
      // against the tenant's own quota until someone deletes them. The lab shows it, then the platform removes them.
      type Inventoried = { status?: { inventory?: { entries?: { id: string }[] } } };
      const inventory = (await getJson<Inventoried>(session.state, [KUSTOMIZATIONS, "-n", TENANT, TENANT]))?.status?.inventory?.entries ?? [];
      const left: string[] = [];
      for (const name of ["extra-1", "extra-2", "extra-3"]) {
        if (await getJson(session.state, ["pod", "-n", TENANT, name])) left.push(name);
        assert.ok(!inventory.some((e) => e.id === `${TENANT}_${name}__Pod`), `${name} is in no inventory`);
      }
      assert.ok(left.length > 0 && !left.includes("extra-3"), `created before the refusal and left: ${left.join(", ")}`);
      timings["guardrails: Pods a refused commit left behind"] = left.join(", ");
      await kubectl(session.state, ["delete", "pod", "-n", TENANT, ...left, "--wait=false"]);
      // The same for the Kustomizations created before the count quota refused the fourth.
      const nested = ["n1", "n2", "n3", "n4"].filter((n) => !inventory.some((e) => e.id === `${TENANT}_${n}_kustomize.toolkit.fluxcd.io_Kustomization`));
      await kubectl(session.state, ["delete", KUSTOMIZATIONS, "-n", TENANT, ...nested, "--ignore-not-found", "--wait=false"]);
    });
  });

  describe("push-to-deploy and notifications, on the real notification-controller", () => {
    const RECEIVERS = "receivers.notification.toolkit.fluxcd.io";
    const hookPort = (): number => JSON.parse(fs.readFileSync(runPath(RUN.flux, "ports.json"), "utf8"))["notification-controller"]["http-webhook"];

    /** Ready at `revision`, watched without asking Flux anything (a request would fetch the source early). */
    async function readyAt(name: string, revision: string, seconds: number): Promise<number> {
      return waitFor(`${name} Ready at ${revision}`, seconds, async () => {
        const o = await getJson<FluxObject>(session.state, [KUSTOMIZATIONS, "-n", name, name]);
        return ready(o)?.status === "True" && o?.status?.lastAppliedRevision === revision
          ? { value: Date.now() }
          : { seen: `${ready(o)?.status} at ${o?.status?.lastAppliedRevision}` };
      });
    }

    it("each tenant's Receiver is Ready at the webhook path Flux derives from its token", async () => {
      for (const t of config.tenants) {
        const receiver = await waitFor(`Receiver ${t.namespace}/${TENANT_OBJECTS.receiver} Ready`, 60, async () => {
          const o = await getJson<FluxObject & { status?: { webhookPath?: string } }>(session.state, [RECEIVERS, "-n", t.namespace, TENANT_OBJECTS.receiver]);
          return ready(o)?.status === "True" ? { value: o! } : { seen: `${ready(o)?.reason}: ${ready(o)?.message}` };
        });
        assert.equal(receiver.status?.webhookPath, receiverWebhookPath(receiverTokens[t.name], TENANT_OBJECTS.receiver, t.namespace));
      }
    });

    it("a push is Ready within seconds with the Receiver; the same push left to the source's interval waits it out (side by side)", async () => {
      // team-a's host calls its Receiver on push (the lab Git server does, as GitHub's webhook would); team-b has no webhook.
      const a = config.tenants.find((t) => t.name === "team-a")!;
      const hookPath = receiverWebhookPath(receiverTokens[a.name], TENANT_OBJECTS.receiver, a.namespace);
      setWebhooks(repos["team-a"].name, [{ url: `http://127.0.0.1:${hookPort()}${hookPath}` }]);
      // team-b's source has just fetched, so its next fetch is one interval away: the figure is the full interval, where a
      // push at a random moment waits half of it on average.
      const asked = new Date().toISOString();
      await kubectl(session.state, ["annotate", "--overwrite", "-n", "team-b", GIT_REPOSITORIES, "team-b", `reconcile.fluxcd.io/requestedAt=${asked}`]);
      await waitFor("team-b's source fetched on request", 60, async () => {
        const o = await getJson<{ status?: { lastHandledReconcileAt?: string } }>(session.state, [GIT_REPOSITORIES, "-n", "team-b", "team-b"]);
        return o?.status?.lastHandledReconcileAt === asked ? { value: true } : { seen: o?.status?.lastHandledReconcileAt };
      });
      const pushed = async (name: string, files: Record<string, string>): Promise<number> => {
        const t = Date.now();
        const revision = await repos[name].commit(files, `${name}: pushed at ${new Date(t).toISOString()}`);
        return ((await readyAt(name, revision, 150)) - t) / 1000;
      };
      const [pushToReadyS, intervalToReadyS] = await Promise.all([
        pushed("team-a", plainTenantFiles("team-a", ENV, "pushed")),
        pushed("team-b", { ...tenantTree("team-b"), "pushed.txt": `${Date.now()}\n` }),
      ]);
      const interval = (await getJson<{ spec: { interval: string } }>(session.state, [GIT_REPOSITORIES, "-n", "team-b", "team-b"]))?.spec.interval;
      timings["push to Ready, with the Receiver"] = `${pushToReadyS.toFixed(1)}s`;
      timings["push to Ready, left to the interval"] = `${intervalToReadyS.toFixed(1)}s (source interval ${interval})`;
      fs.writeFileSync(
        path.join(path.dirname(session.state.git.webhooks), "receiver.json"),
        JSON.stringify({ pushToReadyS: Number(pushToReadyS.toFixed(1)), intervalToReadyS: Number(intervalToReadyS.toFixed(1)) }) + "\n",
      );
      const cm = await getJson<{ data: { greeting: string } }>(session.state, ["configmap", "-n", "team-a", "web-config"]);
      assert.equal(cm?.data.greeting, "pushed");
      assert.ok(pushToReadyS * 5 <= intervalToReadyS, `with the Receiver ${pushToReadyS}s, at least 5 times faster than ${intervalToReadyS}s`);
    });

    it("each tenant's Alert sends its own Kustomization's failure, with Flux's message, to its own address only", async () => {
      const since = Date.now();
      const files = { ...plainTenantFiles("team-a", ENV) };
      files[`${ENV}/kustomization.yaml`] = toYaml({
        apiVersion: "kustomize.config.k8s.io/v1beta1",
        kind: "Kustomization",
        resources: ["web.yaml", "missing.yaml"],
      });
      // The Receiver brings the commit in; nobody asks Flux.
      const revision = await repos["team-a"].commit(files, "team-a: a resource that is not there");
      const failure = await failedAt("team-a", revision, 60);
      assert.match(failure, /missing\.yaml/);
      const involved = (e: Received) => e.body.involvedObject ?? {};
      const event = await waitFor("team-a's failure event at its address", 60, async () => {
        const e = events.received.find((r) => r.at >= since && r.path === "/team-a" && involved(r).kind === "Kustomization" && involved(r).name === "team-a");
        return e ? { value: e } : { seen: JSON.stringify(events.received.map((r) => [r.path, involved(r).namespace, involved(r).name, r.body.severity])) };
      });
      assert.equal(event.body.severity, "error");
      assert.equal(involved(event).namespace, "team-a");
      assert.match(event.body.message ?? "", /missing\.yaml/, "Flux's own message");
      // A moment for anything misrouted to arrive, then: team-a's events at team-a's address only, errors only (events: errors).
      await new Promise((r) => setTimeout(r, 3000));
      assert.deepEqual(
        events.received
          .filter((r) => (r.path === "/team-a") !== (involved(r).namespace === "team-a"))
          .map((r) => [r.path, involved(r).namespace, involved(r).name]),
        [],
      );
      assert.deepEqual(
        events.received.filter((r) => r.body.severity !== "error").map((r) => [r.path, r.body.severity, r.body.reason]),
        [],
      );
      const good = await repos["team-a"].commit(plainTenantFiles("team-a", ENV, "pushed"), "team-a: back to its workloads");
      await readyAt("team-a", good, 60);
    });
  });

  describe("a tenant's own SOPS key, on kustomize-controller's decryption (sops built at kustomize-controller's version)", () => {
    const secret = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "app-credentials", namespace: "team-a" },
      stringData: { password: "s3cret-of-team-a" },
    };

    /** The Secret encrypted by the tenant, as it runs sops in its repository: the `.sops.yaml` the starter holds for `recipient`. */
    async function encrypted(recipient: string): Promise<string> {
      const dir = tempDir("sops");
      try {
        fs.writeFileSync(path.join(dir, ".sops.yaml"), sopsCreationRules(recipient));
        fs.mkdirSync(path.join(dir, ENV));
        fs.writeFileSync(path.join(dir, ENV, "secret.yaml"), toYaml(secret));
        // sops finds .sops.yaml from the working directory up, and matches its rule against the path given.
        await run("sh", ["-c", 'cd "$1" && exec "$2" --encrypt --in-place "$3"', "sh", dir, session.state.bins.sops, `${ENV}/secret.yaml`]);
        return fs.readFileSync(path.join(dir, ENV, "secret.yaml"), "utf8");
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }

    /** team-a's workloads and the encrypted Secret, pushed (its Receiver brings the commit in). */
    async function pushSecret(text: string, message: string): Promise<string> {
      const files: Record<string, string> = { ...plainTenantFiles("team-a", ENV, "pushed"), [`${ENV}/secret.yaml`]: text };
      files[`${ENV}/kustomization.yaml`] = toYaml({
        apiVersion: "kustomize.config.k8s.io/v1beta1",
        kind: "Kustomization",
        resources: ["web.yaml", "secret.yaml"],
      });
      return repos["team-a"].commit(files, message);
    }

    it("a Secret the tenant encrypted to its recipient is decrypted by Flux with its key: the cluster holds the plaintext, Git never did", async () => {
      const text = await encrypted(ageKeys["team-a"].recipient);
      assert.ok(!text.includes("s3cret-of-team-a"), "Git holds ciphertext");
      assert.match(text, /ENC\[AES256_GCM,/);
      const revision = await pushSecret(text, "team-a: an encrypted Secret");
      await waitReadyAt(KUSTOMIZATIONS, "team-a", "team-a", revision);
      const inCluster = await getJson<{ data: Record<string, string> }>(session.state, ["secret", "-n", "team-a", "app-credentials"]);
      assert.equal(Buffer.from(inCluster?.data.password ?? "", "base64").toString("utf8"), "s3cret-of-team-a");
    });

    it("a Secret encrypted to another tenant's recipient is refused, on Flux's message", async () => {
      const revision = await pushSecret(await encrypted(ageKeys["team-b"].recipient), "team-a: a Secret for team-b's key");
      const message = await failedAt("team-a", revision);
      timings["sops: another tenant's recipient"] = message.slice(0, 300);
      assert.match(message, /decryption failed for 'Secret\.v1\.\[noGrp\]\/app-credentials'.*Failed to get the data key required to decrypt the SOPS file/s);
      // Back to its own workloads (the decrypted Secret is pruned with the file).
      const good = await repos["team-a"].commit(plainTenantFiles("team-a", ENV, "pushed"), "team-a: no Secret");
      await waitReadyAt(KUSTOMIZATIONS, "team-a", "team-a", good);
    });
  });

  describe("a key rotated on an SSH host", () => {
    it("stops the program's wait every time, with the key to register: Flux's answer to the wait's own request counts, not the Ready from before", async () => {
      const t = config.tenants.find((x) => x.name === "team-a")!;
      const secret = (key: { privateKey: string; publicKey: string }) =>
        applySecret(session.state, t.namespace, tenantGitSecretName(t), gitSshSecretData(key.privateKey, key.publicKey, config.knownHosts));
      for (let attempt = 1; attempt <= 3; attempt++) {
        // From Ready with the registered key, as after the up before the rotation.
        await secret(tenantKeys[t.name]);
        await waitReadyAt(GIT_REPOSITORIES, t.namespace, t.name, "");
        // deployKeyRotation: a new key in the Secret, not yet registered on the host.
        const rotated = await sshKeyPair(keys, `team-a-rotated-${attempt}`);
        await secret(rotated);
        const hint = `Register this public key, read-only, on its Git host, then run pulumi up again:\n  ${t.repository.type === "url" ? t.repository.url : ""}: ${rotated.publicKey}`;
        await assert.rejects(waitReadyAt(GIT_REPOSITORIES, t.namespace, t.name, "", undefined, hint), (e: Error) => {
          assert.match(e.message, /^GitRepository team-a\/team-a cannot read its repository: .*unable to authenticate/s, `attempt ${attempt}`);
          assert.ok(e.message.endsWith(hint), `attempt ${attempt}: ${e.message}`);
          return true;
        });
      }
      await secret(tenantKeys[t.name]);
      await waitReadyAt(GIT_REPOSITORIES, t.namespace, t.name, "");
    });
  });

  describe("later commits, and the uninstall", () => {
    it("a new fleet commit and a new tenant commit each reach Ready", async () => {
      // The fleet: a changed interval, committed as `up` commits it, then the program's waits at the new revision.
      const manifest = await labInstallManifest();
      const changed = parseConfig({ ...rawLabConfig(runId), reconcile: { tenantsInterval: "6m" } }, { stack: ENV });
      const next = renderFleet({ config: changed, installManifest: manifest.text, installSource: manifest.source });
      assert.notDeepEqual(next, tree);
      let t = Date.now();
      const steps: string[] = [];
      fleetRevision = await repos.fleet.commit(next, "flux-multi-tenancy: tenants interval 6m");
      await waitReadyAt(GIT_REPOSITORIES, FLUX_NAMESPACE, FLUX_SYSTEM, fleetRevision, steps);
      await waitReadyAt(KUSTOMIZATIONS, FLUX_NAMESPACE, FLUX_SYSTEM, fleetRevision, steps);
      for (const k of seededKustomizations(changed).filter((s) => s.namespace === FLUX_NAMESPACE)) {
        await waitReadyAt(KUSTOMIZATIONS, FLUX_NAMESPACE, k.name, fleetRevision, steps);
      }
      timings["fleet commit to Ready"] = `${((Date.now() - t) / 1000).toFixed(1)}s (${steps.join(", ")})`;
      const tenants = await getJson<{ spec: { interval: string } }>(session.state, [KUSTOMIZATIONS, "-n", FLUX_NAMESPACE, "tenants"]);
      assert.equal(tenants?.spec.interval, "6m");

      // A tenant: a changed ConfigMap; its source asked to fetch, as `flux reconcile kustomization --with-source` does.
      t = Date.now();
      const revision = await repos["team-a"].commit(plainTenantFiles("team-a", ENV, "hello again"), "team-a: new greeting");
      await kubectl(session.state, [
        "annotate",
        "--overwrite",
        "-n",
        "team-a",
        GIT_REPOSITORIES,
        "team-a",
        `reconcile.fluxcd.io/requestedAt=${new Date().toISOString()}`,
      ]);
      await waitReadyAt(KUSTOMIZATIONS, "team-a", "team-a", revision);
      timings["tenant commit to Ready"] = `${((Date.now() - t) / 1000).toFixed(1)}s`;
      const cm = await getJson<{ data: { greeting: string } }>(session.state, ["configmap", "-n", "team-a", "web-config"]);
      assert.equal(cm?.data.greeting, "hello again");
    });

    it("uninstalls Flux with the program's provider: no Flux CRD, no flux-system namespace, nothing Terminating; the tenants' workloads stay", async () => {
      await fluxInstallProvider.delete!(`${FLUX_NAMESPACE}@${uid}`, install);
      const crds = await kubectl(session.state, ["get", "crd", "-o", "name"]);
      assert.deepEqual(
        crds.split("\n").filter((c) => c.includes("toolkit.fluxcd.io")),
        [],
      );
      assert.equal(await getJson(session.state, ["namespace", FLUX_NAMESPACE]), undefined);
      const phases = await kubectl(session.state, ["get", "namespaces", "-o", 'jsonpath={range .items[*]}{.metadata.name}={.status.phase}{"\\n"}{end}']);
      assert.deepEqual(
        phases.split("\n").filter((l) => l && !l.endsWith("=Active")),
        [],
      );
      for (const [ns, name] of [
        ["team-a", "web"],
        ["team-b", "hello"],
      ]) {
        assert.ok(await getJson(session.state, ["deployment", "-n", ns, name]), `${ns}/${name} stays`);
      }
      await waitFor("every controller process stopped", 60, async () => {
        const left = recorded().filter((p) => p.name.endsWith("-controller") && runs(p.pid, p.command));
        return left.length === 0 ? { value: true } : { seen: left.map((p) => p.name).join(", ") };
      });
    });
  });
});
