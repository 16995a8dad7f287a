// The real Pulumi engine in the lab: the program itself, `pulumi up`/`preview`/`refresh`/`destroy`, on a fleet and tenants hosted on the lab's Git server.
import * as assert from "assert/strict";
import * as fs from "fs";
import * as path from "path";
import { randomBytes } from "crypto";
import { labInstallManifest } from "../fluxRelease";
import { authorize } from "../lab";
import { logFile } from "../proc";
import type { LabState } from "../state";
import { EngineStack, shortName } from "./engineStack";
import { getJson, kubectl, lab, remoteFiles, Repo, sshKeyPair, tempDir, timings, waitFor } from "./support";
import { helmTenantFiles, plainTenantFiles } from "./tenants";

const ENV = "lab";
const KUSTOMIZATIONS = "kustomizations.kustomize.toolkit.fluxcd.io";
const PROJECT = "flux-multi-tenancy";

type Condition = { type: string; status: string; message?: string };
type FluxObject = { status?: { conditions?: Condition[]; lastAppliedRevision?: string; artifact?: { revision?: string } } };
const ready = (o: FluxObject | undefined) => o?.status?.conditions?.find((c) => c.type === "Ready");
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

describe("the real Pulumi engine: the program on the lab's cluster, fleet and tenants on its Git server", function () {
  const id = randomBytes(3).toString("hex");
  const stack = `lab-${id}`;
  const keys = tempDir("engine-keys");
  const tenantRepos: Record<string, Repo> = {};
  let state: LabState;
  let engine: EngineStack;
  let pushKey: Awaited<ReturnType<typeof sshKeyPair>>;

  const url = (repo: string) => `${state.git.url}/${repo}-${id}.git`;
  const pulumi = (...args: string[]) => engine.pulumi(...args);
  const ok = (...args: string[]) => engine.ok(...args);
  const outputs = () => engine.outputs();
  const planned = () => engine.planned();
  const setConfig = (change: (config: Record<string, unknown>) => void) => engine.setConfig(change);

  /** Keys the program asked to register (`  <url>: <public key>` lines of its message), registered on the lab's Git server. */
  async function registerKeys(output: string): Promise<Record<string, string>> {
    const found: Record<string, string> = {};
    for (const m of output.matchAll(/(ssh:\/\/\S+): (ecdsa-sha2-nistp384 [A-Za-z0-9+/=]+)\s*$/gm)) found[m[1]] = m[2];
    for (const [repo, key] of Object.entries(found)) {
      const file = path.join(keys, `${path.basename(repo)}-${Object.keys(found).indexOf(repo)}-${Date.now()}.pub`);
      fs.writeFileSync(file, `${key} ${repo}\n`);
      await authorize(state, file);
    }
    return found;
  }

  /** `pulumi up`, and when it stops naming keys to register (Git hosts other than GitHub), registering them and running up again. */
  async function upRegistering(expectKeysFor: string[]): Promise<{ first: number; second: number }> {
    let t = Date.now();
    const r1 = await pulumi("up", "--yes", "--skip-preview");
    const first = Date.now() - t;
    if (expectKeysFor.length === 0) {
      if (r1.code !== 0) assert.fail(`pulumi up exited ${r1.code}:\n${r1.output}`);
      return { first, second: 0 };
    }
    assert.notEqual(r1.code, 0, "up stops while Flux cannot read with keys nobody registered");
    assert.match(r1.output, /Register th(ese public keys|is public key), read-only, on/);
    const asked = await registerKeys(r1.output);
    assert.deepEqual(Object.keys(asked).sort(), [...expectKeysFor].sort(), r1.output);
    t = Date.now();
    await ok("up", "--yes", "--skip-preview");
    return { first, second: Date.now() - t };
  }

  const tenant = (name: string) => ({ name, repository: { url: url(name), deployKey: true } });

  async function kustomizationReady(namespace: string, name: string): Promise<FluxObject> {
    return waitFor(`Kustomization ${namespace}/${name} Ready`, 120, async () => {
      const o = await getJson<FluxObject>(state, [KUSTOMIZATIONS, "-n", namespace, name]);
      return ready(o)?.status === "True" ? { value: o! } : { seen: ready(o)?.message ?? "absent" };
    });
  }

  before(async function () {
    state = lab().state;
    engine = new EngineStack(state, stack);
    for (const [name, files] of Object.entries({
      "team-a": plainTenantFiles("team-a", ENV),
      "team-b": helmTenantFiles("team-b", ENV, "team-b", "team-b"),
      "team-c": plainTenantFiles("team-c", ENV),
    })) {
      tenantRepos[name] = new Repo(state, `${name}-${id}`);
      await tenantRepos[name].commit(files, `${name}: lab workloads`);
    }
    pushKey = await sshKeyPair(keys, "fleet-push");
    await authorize(state, pushKey.publicKeyFile);

    await ok("stack", "init", "--secrets-provider", "passphrase");
    const manifest = await labInstallManifest();
    setConfig((c) => {
      c[`${PROJECT}:environment`] = ENV;
      c[`${PROJECT}:cluster`] = { provider: "existing" };
      c[`${PROJECT}:flux`] = { manifests: manifest.file };
      c[`${PROJECT}:fleet`] = { provider: "git", url: url("fleet") };
      c[`${PROJECT}:policies`] = { engine: "vap", allowedSourcePrefixes: [`${state.git.url}/`] };
      c[`${PROJECT}:tenants`] = [tenant("team-a"), tenant("team-b")];
      // Each tenant's own SOPS key: generated by the program, a secret in the state.
      c[`${PROJECT}:tenantDefaults`] = { sops: true };
      c[`${PROJECT}:knownHosts`] = fs.readFileSync(state.git.knownHosts, "utf8");
    });
    await ok("config", "set", "--secret", `${PROJECT}:kubeconfig`, "--", fs.readFileSync(state.kubeconfigs.admin, "utf8"));
    await ok("config", "set", "--secret", `${PROJECT}:fleetSshKey`, "--", pushKey.privateKey);
  });

  after(async function () {
    this.timeout(300_000);
    await engine?.remove();
    for (const r of Object.values(tenantRepos)) r.remove();
    fs.rmSync(keys, { recursive: true, force: true });
  });

  it("up from nothing: the first up stops at once naming every key to register; registered, the next installs Flux and brings every Kustomization and tenant to Ready", async () => {
    const t = await upRegistering([url("fleet"), url("team-a"), url("team-b")]);
    timings["engine: up from nothing"] = `${seconds(t.first + t.second)} (${seconds(t.first)} to the keys to register, ${seconds(t.second)} after)`;
    const out = await outputs();
    const revision = out.fleetRevision as string;
    assert.match(revision, /^main@sha1:[0-9a-f]{40}$/);
    for (const name of ["flux-system", "admission-policies", "tenants"]) {
      const k = await kustomizationReady("flux-system", name);
      assert.equal(k.status?.lastAppliedRevision, revision, name);
    }
    for (const t of ["team-a", "team-b"]) await kustomizationReady(t, t);
    assert.ok(await getJson(state, ["deployment", "-n", "team-a", "web"]));
    // Each tenant's age key: its recipient an output, its identity only in the tenant's Secret and, encrypted, in the state.
    const recipients = out.tenantAgeRecipients as Record<string, string>;
    assert.deepEqual(Object.keys(recipients).sort(), ["team-a", "team-b"]);
    for (const t of ["team-a", "team-b"]) {
      assert.match(recipients[t], /^age1[02-9ac-hj-np-z]{58}$/);
      const secret = await getJson<{ data: Record<string, string> }>(state, ["secret", "-n", t, "sops-age"]);
      assert.match(Buffer.from(secret?.data["age.agekey"] ?? "", "base64").toString("utf8"), /^AGE-SECRET-KEY-1[0-9A-Z]{58}\n$/);
    }
    const exported = await ok("stack", "export");
    // A key, not the word: a state may name the encoding (a provider written by an earlier version carried its code).
    assert.ok(!/AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}/i.test(exported), "no age private key in the state without --show-secrets");
    await waitFor("HelmRelease team-b/hello Ready", 120, async () => {
      const r = ready(await getJson<FluxObject>(state, ["helmreleases.helm.toolkit.fluxcd.io", "-n", "team-b", "hello"]));
      return r?.status === "True" ? { value: true } : { seen: r?.message ?? "absent" };
    });
    assert.match(out.fleetPublicKey as string, /^ecdsa-sha2-nistp384 /);
    assert.deepEqual(Object.keys(out.tenantPublicKeys as object).sort(), ["team-a", "team-b"]);
  });

  it("a no-op preview (--expect-no-changes) and a second up change nothing", async () => {
    const t = Date.now();
    await ok("preview", "--expect-no-changes");
    timings["engine: no-op preview (with refresh)"] = seconds(Date.now() - t);
    await ok("up", "--yes", "--skip-preview", "--expect-no-changes");
  });

  it("adding a tenant changes only that tenant's resources and files; removing it removes them, its workloads before its account, and adding it back converges", async () => {
    const before = (await outputs()).fleetRevision as string;
    setConfig((c) => (c[`${PROJECT}:tenants`] = [tenant("team-a"), tenant("team-b"), tenant("team-c")]));
    const adding = await planned();
    const fleetWaits = /^(fleet-commit|flux-ready-(source|flux-system|admission-policies|tenants))$/;
    for (const s of adding) {
      if (s.op === "create") assert.match(shortName(s.urn), /^tenant-team-c($|-)/, `created: ${s.urn}`);
      else assert.ok(s.op === "update" && fleetWaits.test(shortName(s.urn)), `${s.op} ${s.urn}`);
    }
    assert.ok(adding.some((s) => shortName(s.urn) === "tenant-team-c-ready"));
    await upRegistering([url("team-c")]);
    const after = (await outputs()).fleetRevision as string;
    const [a, b] = await Promise.all([
      remoteFiles(state, `fleet-${id}`, before.replace(/^main@sha1:/, "")),
      remoteFiles(state, `fleet-${id}`, after.replace(/^main@sha1:/, "")),
    ]);
    const changed = [...new Set([...a.keys(), ...b.keys()])].filter((p) => a.get(p) !== b.get(p)).sort();
    assert.deepEqual(changed, [
      "tenants/base/team-c/kustomization.yaml",
      "tenants/base/team-c/rbac.yaml",
      "tenants/base/team-c/sync.yaml",
      `tenants/${ENV}/kustomization.yaml`,
      `tenants/${ENV}/team-c-namespace.yaml`,
      `tenants/${ENV}/team-c-patch.yaml`,
    ]);
    await kustomizationReady("team-c", "team-c");

    setConfig((c) => (c[`${PROJECT}:tenants`] = [tenant("team-a"), tenant("team-b")]));
    const removing = await planned();
    for (const s of removing) {
      if (s.op === "delete") assert.match(shortName(s.urn), /^tenant-team-c($|-)/, `deleted: ${s.urn}`);
      else assert.ok(s.op === "update" && fleetWaits.test(shortName(s.urn)), `${s.op} ${s.urn}`);
    }
    assert.ok(removing.some((s) => s.op === "delete"));
    // The goodbye, watched while up runs: when the tenant's workload, its account and its namespace each went.
    const gone: Record<string, number> = {};
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        for (const [what, args] of [
          ["workload", ["deployment", "-n", "team-c", "web"]],
          ["account", ["serviceaccount", "-n", "team-c", "team-c"]],
          ["binding", ["rolebinding", "-n", "team-c", "gotk-reconciler"]],
          ["namespace", ["namespace", "team-c"]],
        ] as const) {
          if (gone[what] === undefined && !(await getJson(state, args))) gone[what] = Date.now();
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    const t = Date.now();
    await ok("up", "--yes", "--skip-preview");
    timings["engine: removing a tenant (its goodbye included)"] = seconds(Date.now() - t);
    watching = false;
    await watcher;
    const files = await remoteFiles(state, `fleet-${id}`);
    assert.deepEqual(
      [...files.keys()].filter((p) => p.includes("team-c")),
      [],
    );
    // Gone when up returns, in order: what the tenant ran (pruned by its Kustomization as its account), then the account.
    assert.deepEqual(Object.keys(gone).sort(), ["account", "binding", "namespace", "workload"], JSON.stringify(gone));
    assert.ok(gone.workload <= gone.account && gone.workload <= gone.binding, `the workload went before the account: ${JSON.stringify(gone)}`);
    const phases = await kubectl(state, ["get", "namespaces", "-o", 'jsonpath={range .items[*]}{.metadata.name}={.status.phase}{"\\n"}{end}']);
    assert.deepEqual(
      phases.split("\n").filter((l) => l && !l.endsWith("=Active")),
      [],
      "nothing Terminating",
    );

    // Added back in the next up: it converges (a new key to register, as any tenant by URL with deployKey).
    setConfig((c) => (c[`${PROJECT}:tenants`] = [tenant("team-a"), tenant("team-b"), tenant("team-c")]));
    await upRegistering([url("team-c")]);
    await kustomizationReady("team-c", "team-c");
    assert.ok(await getJson(state, ["deployment", "-n", "team-c", "web"]));
    setConfig((c) => (c[`${PROJECT}:tenants`] = [tenant("team-a"), tenant("team-b")]));
    await ok("up", "--yes", "--skip-preview");
    assert.equal(await getJson(state, ["namespace", "team-c"]), undefined);
  });

  it("refresh notices a Secret deleted out of band; the next up puts it back", async () => {
    const before = await getJson<{ data: Record<string, string> }>(state, ["secret", "-n", "team-a", "team-a-git"]);
    await kubectl(state, ["delete", "secret", "-n", "team-a", "team-a-git"]);
    await ok("refresh", "--yes", "--skip-preview");
    const plan = await planned();
    assert.deepEqual(
      plan.filter((s) => s.op === "create").map((s) => shortName(s.urn)),
      ["tenant-team-a-git-secret"],
    );
    await ok("up", "--yes", "--skip-preview");
    const after = await getJson<{ data: Record<string, string> }>(state, ["secret", "-n", "team-a", "team-a-git"]);
    assert.deepEqual(after?.data, before?.data, "the same key, from state");
  });

  it("deployKeyRotation replaces every key and its Secret in one up, and Flux reconciles with the new keys", async () => {
    const old = await outputs();
    setConfig((c) => (c[`${PROJECT}:deployKeyRotation`] = "2026-11-25"));
    const plan = await planned();
    const replaced = plan
      .filter((s) => s.op === "replace")
      .map((s) => shortName(s.urn))
      .sort();
    assert.deepEqual(replaced, [
      "fleet-flux-identity",
      "flux-git-secret",
      "tenant-team-a-flux-identity",
      "tenant-team-a-git-secret",
      "tenant-team-b-flux-identity",
      "tenant-team-b-git-secret",
    ]);
    // On a host that is not GitHub the new public keys are the user's to register: up names them, once.
    await upRegistering([url("fleet"), url("team-a"), url("team-b")]);
    const now = await outputs();
    assert.notEqual(now.fleetPublicKey, old.fleetPublicKey);
    const secret = await getJson<{ data: Record<string, string> }>(state, ["secret", "-n", "flux-system", "flux-system"]);
    assert.equal(Buffer.from(secret!.data["identity.pub"], "base64").toString().trim(), now.fleetPublicKey);
    const source = ready(await getJson<FluxObject>(state, ["gitrepositories.source.toolkit.fluxcd.io", "-n", "flux-system", "flux-system"]));
    assert.equal(source?.status, "True", source?.message);
    await ok("preview", "--expect-no-changes");
  });

  it("the exported state holds no private key, kubeconfig or push key in clear text", async () => {
    const exported = await ok("stack", "export");
    assert.ok(exported.length > 10_000);
    assert.doesNotMatch(exported, /PRIVATE KEY/);
    const kubeconfig = JSON.parse(fs.readFileSync(state.kubeconfigs.admin, "utf8")) as { users: { user: Record<string, string> }[] };
    assert.ok(!exported.includes(kubeconfig.users[0].user["client-key-data"]), "the admin client key");
    assert.ok(!exported.includes(pushKey.privateKey.split("\n")[1]), "the push key");
    assert.match(exported, /"ciphertext"/, "secrets are there, encrypted");
    // Each dynamic resource holds a reference to its provider, not its code (inputs and outputs alike).
    const resources = (
      JSON.parse(exported) as { deployment: { resources: { urn: string; inputs?: Record<string, unknown>; outputs?: Record<string, unknown> }[] } }
    ).deployment.resources;
    const texts = resources.flatMap((r) =>
      [r.inputs?.__provider, r.outputs?.__provider].filter((p): p is string => typeof p === "string").map((p) => ({ urn: r.urn, p })),
    );
    assert.ok(texts.length > 20, `${texts.length} provider texts`);
    for (const { urn, p } of texts) assert.ok(p.length <= 2048 && p.includes('require("flux-multi-tenancy-providers")'), `${urn}: ${p.length} bytes`);
    const providerBytes = texts.reduce((n, { p }) => n + p.length, 0);
    console.log(
      `      state: ${exported.length} bytes, ${resources.length} resources, provider text ${providerBytes} bytes (${((100 * providerBytes) / exported.length).toFixed(1)}%)`,
    );
  });

  /** The Deployments in the tenants' namespaces by namespace/name -> UID. */
  async function tenantDeployments(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const ns of ["team-a", "team-b"]) {
      const list = await getJson<{ items: { metadata: { name: string; uid: string } }[] }>(state, ["deployments", "-n", ns]);
      for (const d of list?.items ?? []) out[`${ns}/${d.metadata.name}`] = d.metadata.uid;
    }
    return out;
  }

  /** A source prefix that admits a source no one serves (a closed port on the loopback): the allowlist shrink test's. */
  const RETIRED = "https://127.0.0.1:1/retired/";

  it("policies.layout upstream-2026 is one up from the infrastructure layout: upstream's policies and allowlist, tenants after them, no tenant workload pruned", async () => {
    const workloads = await tenantDeployments();
    assert.ok(Object.keys(workloads).length >= 2, JSON.stringify(workloads));
    setConfig((c) => (c[`${PROJECT}:policies`] = { engine: "vap", layout: "upstream-2026", allowedSourcePrefixes: [`${state.git.url}/`, RETIRED] }));
    // Watched while up runs: every tenant Deployment stays the same object throughout.
    const changed = new Set<string>();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const now = await tenantDeployments();
        for (const [k, uid] of Object.entries(workloads)) if (now[k] !== uid) changed.add(`${k}: ${now[k] ?? "gone"}`);
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
    const t = Date.now();
    try {
      await ok("up", "--yes", "--skip-preview");
    } finally {
      watching = false;
      await watcher;
    }
    timings["engine: moving the policies to upstream's 2026 layout"] = seconds(Date.now() - t);
    assert.deepEqual([...changed], [], "no tenant workload was pruned or replaced");
    assert.deepEqual(await tenantDeployments(), workloads);

    const files = [...(await remoteFiles(state, `fleet-${id}`)).keys()];
    assert.deepEqual(
      files.filter((f) => f.startsWith("infrastructure/") || f === `clusters/${ENV}/infrastructure.yaml`),
      [],
    );
    for (const f of [`clusters/${ENV}/policies.yaml`, "policies/base/sources.yaml", `policies/${ENV}/allowlist.yaml`]) assert.ok(files.includes(f), f);
    await kustomizationReady("flux-system", "policies");
    assert.equal(await getJson(state, [KUSTOMIZATIONS, "-n", "flux-system", "admission-policies"]), undefined, "the old layout's Kustomization is pruned");
    const policies = (await kubectl(state, ["get", "validatingadmissionpolicies", "-o", "name"])).split("\n").filter(Boolean).sort();
    assert.deepEqual(
      policies.filter((p) => p.includes("/flux-tenant-")),
      ["buckets", "guardrails", "kubeconfig", "namespaces", "pods", "reconciler-tokens", "sources"].map(
        (p) => `validatingadmissionpolicy.admissionregistration.k8s.io/flux-tenant-${p}`,
      ),
    );
    // The old layout's are gone; the program's keeper stays, and with it the API server's one ConfigMap-parameter watch:
    // started once in its life, never stopped and restarted stale (kubernetes/kubernetes#133827).
    assert.deepEqual(
      policies.filter((p) => !p.includes("/flux-tenant-")),
      ["validatingadmissionpolicy.admissionregistration.k8s.io/flux-multi-tenancy-params-keeper"],
    );
    const apiserverLog = fs.readFileSync(logFile("kube-apiserver"), "utf8");
    assert.equal(apiserverLog.match(/informer started for \/v1, Kind=ConfigMap/g)?.length, 1, "the API server's ConfigMap-parameter watch started once");
    const allowlist = await getJson<{ data: Record<string, string> }>(state, ["configmap", "-n", "flux-system", "flux-tenant-sources-allowlist"]);
    assert.equal(allowlist?.data.allowedPrefixes, `${state.git.url}/\n${RETIRED}\n`);
    const tenants = await getJson<{ spec: { dependsOn: { name: string }[] } }>(state, [KUSTOMIZATIONS, "-n", "flux-system", "tenants"]);
    assert.deepEqual(tenants?.spec.dependsOn, [{ name: "policies" }]);
    for (const tn of ["team-a", "team-b"]) await kustomizationReady(tn, tn);
    // Judged by upstream's policy now, as the tenant's own account.
    const outside = {
      apiVersion: "source.toolkit.fluxcd.io/v1",
      kind: "GitRepository",
      metadata: { name: "outside", namespace: "team-a" },
      spec: { interval: "1m", url: "https://example.invalid/evil.git", ref: { branch: "main" } },
    };
    await assert.rejects(
      kubectl(state, ["apply", "--dry-run=server", "--as=system:serviceaccount:team-a:team-a", "-f", "-"], JSON.stringify(outside)),
      (e: Error) => {
        assert.match(
          e.message,
          /ValidatingAdmissionPolicy 'flux-tenant-sources' with binding 'flux-tenant-sources' denied request: spec\.url "https:\/\/example\.invalid\/evil\.git" is not allowed\. Permitted prefixes: /,
        );
        return true;
      },
    );
    await ok("preview", "--expect-no-changes");
  });

  it("a tenant source the shrunk allowlist no longer admits is still deleted: Flux's own finalizer removal is never judged, anyone else's update is", async () => {
    const source = {
      apiVersion: "source.toolkit.fluxcd.io/v1",
      kind: "GitRepository",
      metadata: { name: "retired", namespace: "team-a" },
      spec: { interval: "1m", url: `${RETIRED}app.git`, ref: { branch: "main" }, timeout: "5s" },
    };
    await kubectl(state, ["apply", "-f", "-"], JSON.stringify(source));
    // source-controller puts its finalizer on it at its first reconcile (the fetch itself fails: nothing listens there).
    await waitFor("the source's finalizer", 60, async () => {
      const o = await getJson<{ metadata: { finalizers?: string[] } }>(state, ["gitrepositories.source.toolkit.fluxcd.io", "-n", "team-a", "retired"]);
      return o?.metadata.finalizers?.length ? { value: true } : { seen: JSON.stringify(o?.metadata.finalizers) };
    });
    setConfig((c) => (c[`${PROJECT}:policies`] = { engine: "vap", layout: "upstream-2026", allowedSourcePrefixes: [`${state.git.url}/`] }));
    await ok("up", "--yes", "--skip-preview");
    const allowlist = await getJson<{ data: Record<string, string> }>(state, ["configmap", "-n", "flux-system", "flux-tenant-sources-allowlist"]);
    assert.equal(allowlist?.data.allowedPrefixes, `${state.git.url}/\n`);
    // The allowlist judges an update of it by anyone but Flux: the admin's annotation is refused.
    await assert.rejects(kubectl(state, ["annotate", "-n", "team-a", "gitrepositories.source.toolkit.fluxcd.io", "retired", "lab/touched=yes"]), (e: Error) => {
      assert.match(
        e.message,
        /ValidatingAdmissionPolicy 'flux-tenant-sources' .*denied request: spec\.url "https:\/\/127\.0\.0\.1:1\/retired\/app\.git" is not allowed/,
      );
      return true;
    });
    const t = Date.now();
    await kubectl(state, ["delete", "gitrepositories.source.toolkit.fluxcd.io", "-n", "team-a", "retired", "--wait=false"]);
    await waitFor("the retired source gone", 60, async () => {
      const o = await getJson<{ metadata: { finalizers?: string[] } }>(state, ["gitrepositories.source.toolkit.fluxcd.io", "-n", "team-a", "retired"]);
      return o ? { seen: `still there, finalizers ${JSON.stringify(o.metadata.finalizers)}` } : { value: true };
    });
    timings["engine: a source outside the shrunk allowlist deleted"] = seconds(Date.now() - t);
  });

  it("destroy leaves no Flux CRD, nothing Terminating, and this stack's files gone from the fleet; a later up on the same repositories works", async () => {
    let t = Date.now();
    await ok("destroy", "--yes", "--skip-preview");
    timings["engine: destroy"] = seconds(Date.now() - t);
    assert.deepEqual(
      (await kubectl(state, ["get", "crd", "-o", "name"])).split("\n").filter((c) => c.includes("toolkit.fluxcd.io")),
      [],
    );
    assert.equal(await getJson(state, ["namespace", "flux-system"]), undefined);
    // The platform's admission policies went with Flux (left, they would refuse every source without their ConfigMap);
    // the program's keeper stays.
    assert.deepEqual(
      (await kubectl(state, ["get", "validatingadmissionpolicies,validatingadmissionpolicybindings", "-o", "name"])).split("\n").filter(Boolean).sort(),
      [
        "validatingadmissionpolicy.admissionregistration.k8s.io/flux-multi-tenancy-params-keeper",
        "validatingadmissionpolicybinding.admissionregistration.k8s.io/flux-multi-tenancy-params-keeper",
      ],
    );
    const phases = await kubectl(state, ["get", "namespaces", "-o", 'jsonpath={range .items[*]}{.metadata.name}={.status.phase}{"\\n"}{end}']);
    assert.deepEqual(
      phases.split("\n").filter((l) => l && !l.endsWith("=Active")),
      [],
    );
    assert.deepEqual([...(await remoteFiles(state, `fleet-${id}`)).keys()], []);
    t = Date.now();
    await upRegistering([url("fleet"), url("team-a"), url("team-b")]);
    timings["engine: up again after destroy"] = seconds(Date.now() - t);
    for (const tn of ["team-a", "team-b"]) await kustomizationReady(tn, tn);
  });
});
