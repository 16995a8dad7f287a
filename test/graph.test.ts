// The Pulumi program's resource graph under mocks, per stack file.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { type Registered, registered, runProgram } from "./mocks";
import { localManifest, stackRaw, syntheticInstallManifest } from "./helpers";
import { githubDefaultBranchProvider } from "../components/providers/githubDefaultBranch";
import { githubRepositoryProvider } from "../components/providers/githubRepository";
import { gitCommitProvider } from "../components/providers/gitCommit";

const KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\n";
const name = (urn: string) => urn.split("::").pop() ?? "";

let manifest: string;
before(() => {
  manifest = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "graph-")), "install.yaml");
  fs.writeFileSync(manifest, syntheticInstallManifest("v2.9.4"));
});

/** Runs a shipped stack file (optionally changed) under mocks, with a local install manifest. */
async function run(stack: string, patch: (raw: Record<string, any>) => void = () => undefined) {
  const raw = structuredClone(await stackRaw(stack)) as Record<string, any>;
  raw.flux = { ...(raw.flux ?? {}), ...localManifest(manifest) };
  patch(raw);
  const secrets: Record<string, string> = raw.cluster?.provider === "existing" ? { kubeconfig: KUBECONFIG } : {};
  return runProgram(stack, raw, secrets);
}

function get(resources: Registered[], n: string): Registered {
  const found = resources.filter((r) => r.name === n);
  assert.equal(found.length, 1, `expected one resource named ${n}, found ${found.length}`);
  return found[0];
}

const deps = (r: Registered) => r.dependencies.map(name).sort();
const shape = (resources: Registered[]) => resources.map((r) => `${r.type} ${r.name}`).sort();

describe("resource graph", () => {
  describe("staging (kind)", () => {
    let resources: Registered[];
    let outputs: Record<string, any>;
    before(async () => ({ resources, outputs } = await run("staging")));

    it("registers exactly these resources", () => {
      assert.deepEqual(shape(resources), [
        "flux-multi-tenancy:cluster:KindCluster cluster",
        "flux-multi-tenancy:index:DeployKey fleet-flux",
        "flux-multi-tenancy:index:DeployKey tenant-dev-team-flux",
        "flux-multi-tenancy:index:FleetRepository fleet",
        "flux-multi-tenancy:index:FluxBootstrap flux",
        "flux-multi-tenancy:index:FluxFleet multi-tenancy",
        "flux-multi-tenancy:index:Tenant tenant-dev-team",
        "kubernetes:core/v1:Secret flux-git-secret",
        "kubernetes:core/v1:Secret flux-receiver-secret",
        "kubernetes:core/v1:Secret tenant-dev-team-git-secret",
        "kubernetes:core/v1:Secret tenant-dev-team-receiver-secret",
        "pulumi-nodejs:dynamic/flux-multi-tenancy:FluxInstall flux-install",
        "pulumi-nodejs:dynamic/flux-multi-tenancy:FluxReady flux-ready-flux-system",
        "pulumi-nodejs:dynamic/flux-multi-tenancy:FluxReady flux-ready-kyverno",
        "pulumi-nodejs:dynamic/flux-multi-tenancy:FluxReady flux-ready-kyverno-policies",
        "pulumi-nodejs:dynamic/flux-multi-tenancy:FluxReady flux-ready-source",
        "pulumi-nodejs:dynamic/flux-multi-tenancy:FluxReady flux-ready-tenants",
        "pulumi-nodejs:dynamic/flux-multi-tenancy:FluxReady tenant-dev-team-ready",
        "pulumi-nodejs:dynamic/flux-multi-tenancy:FluxSync flux-sync",
        "pulumi-nodejs:dynamic/flux-multi-tenancy:GitCommit fleet-commit",
        "pulumi-nodejs:dynamic/flux-multi-tenancy:GitHubDefaultBranch fleet-default-branch",
        "pulumi-nodejs:dynamic/flux-multi-tenancy:GitHubDeployKey fleet-flux-deploy-key",
        "pulumi-nodejs:dynamic/flux-multi-tenancy:GitHubDeployKey tenant-dev-team-flux-deploy-key",
        "pulumi-nodejs:dynamic/flux-multi-tenancy:GitHubRepository fleet-repo",
        "pulumi-nodejs:dynamic/flux-multi-tenancy:GitHubRepository tenant-dev-team-repo",
        "pulumi-nodejs:dynamic/flux-multi-tenancy:KindCluster cluster-kind",
        "pulumi-nodejs:dynamic/flux-multi-tenancy:SshKey fleet-flux-identity",
        "pulumi-nodejs:dynamic/flux-multi-tenancy:SshKey tenant-dev-team-flux-identity",
        "pulumi-nodejs:dynamic/flux-multi-tenancy:TenantGoodbye tenant-dev-team-goodbye",
        "pulumi-nodejs:dynamic/flux-multi-tenancy:TenantSeed tenant-dev-team-seed",
        "pulumi-nodejs:dynamic/flux-multi-tenancy:Token fleet-receiver-token",
        "pulumi-nodejs:dynamic/flux-multi-tenancy:Token tenant-dev-team-receiver-token",
        "pulumi:providers:kubernetes cluster-provider",
      ]);
    });

    it("a kind cluster's objects leave the state with it: deleteUnreachable on its provider; the install knows the cluster and its host", () => {
      assert.equal(get(resources, "cluster-provider").inputs.deleteUnreachable, "true", "provider inputs are strings");
      assert.equal(get(resources, "flux-install").inputs.clusterName, "staging");
      assert.equal(get(resources, "flux-install").inputs.kindHost, "workstation-1");
    });

    it("a tenant's goodbye comes after the tenants wait, and every Secret of the tenant after it (so they are deleted before it)", () => {
      assert.deepEqual(deps(get(resources, "tenant-dev-team-goodbye")), ["cluster-kind", "flux-ready-tenants"]);
      for (const r of resources.filter((x) => x.type === "kubernetes:core/v1:Secret" && x.name.startsWith("tenant-dev-team-"))) {
        assert.ok(deps(r).includes("tenant-dev-team-goodbye"), r.name);
      }
      const goodbye = get(resources, "tenant-dev-team-goodbye");
      assert.deepEqual(
        [goodbye.inputs.tenant, goodbye.inputs.namespace, goodbye.inputs.roleBinding, goodbye.inputs.tenantsKustomization],
        ["dev-team", "apps", "gotk-reconciler", "tenants"],
      );
      assert.ok(goodbye.secretInputs.includes("kubeconfig"));
    });

    it("every URN is unique", () => {
      assert.equal(new Set(resources.map((r) => r.urn)).size, resources.length);
    });

    it("every child hangs under its component", () => {
      const parents = Object.fromEntries(resources.map((r) => [r.name, name(r.parent)]));
      assert.deepEqual(parents, {
        cluster: "",
        // FluxFleet: what the stack builds on the cluster; its children keep the names they had at the root (aliased there).
        "multi-tenancy": "",
        fleet: "multi-tenancy",
        flux: "multi-tenancy",
        "tenant-dev-team": "multi-tenancy",
        "cluster-kind": "cluster",
        "cluster-provider": "cluster",
        "fleet-repo": "fleet",
        "fleet-commit": "fleet",
        "fleet-default-branch": "fleet",
        "fleet-flux": "fleet",
        "fleet-flux-identity": "fleet-flux",
        "fleet-flux-deploy-key": "fleet-flux",
        "fleet-receiver-token": "fleet",
        "flux-install": "flux",
        "flux-git-secret": "flux",
        "flux-receiver-secret": "flux",
        "flux-sync": "flux",
        "flux-ready-source": "flux",
        "flux-ready-flux-system": "flux",
        "flux-ready-kyverno": "flux",
        "flux-ready-kyverno-policies": "flux",
        "flux-ready-tenants": "flux",
        "tenant-dev-team-repo": "tenant-dev-team",
        "tenant-dev-team-seed": "tenant-dev-team",
        "tenant-dev-team-flux": "tenant-dev-team",
        "tenant-dev-team-flux-identity": "tenant-dev-team-flux",
        "tenant-dev-team-flux-deploy-key": "tenant-dev-team-flux",
        "tenant-dev-team-git-secret": "tenant-dev-team",
        "tenant-dev-team-goodbye": "tenant-dev-team",
        "tenant-dev-team-ready": "tenant-dev-team",
        "tenant-dev-team-receiver-secret": "tenant-dev-team",
        "tenant-dev-team-receiver-token": "tenant-dev-team",
      });
    });

    it("every Kubernetes resource uses the cluster's explicit provider; every GitHub object is the program's own resource, on its one client", () => {
      const k8s = resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"));
      assert.equal(k8s.length, 4);
      for (const r of k8s) assert.equal(name(r.provider.split("::").slice(0, -1).join("::")), "cluster-provider", r.name);
      assert.deepEqual(
        resources.filter((r) => r.type.startsWith("github:") || r.type.startsWith("pulumi:providers:github")),
        [],
        "no pulumi-github resource or provider",
      );
      const gh = resources.filter((r) => /:GitHub(DeployKey|DefaultBranch|Repository)$/.test(r.type));
      assert.equal(gh.length, 5);
      for (const r of gh) assert.deepEqual([r.inputs.owner, r.inputs.apiUrl, r.secretInputs.includes("token")], ["my-org", "", true], r.name);
    });

    it("deploy keys and the default branch pulumi-github made before are taken over under aliases of their old types", () => {
      assert.match(get(resources, "fleet-flux-deploy-key").aliases.join(), /github:index\/repositoryDeployKey:RepositoryDeployKey/);
      assert.match(get(resources, "tenant-dev-team-flux-deploy-key").aliases.join(), /github:index\/repositoryDeployKey:RepositoryDeployKey/);
      assert.match(get(resources, "fleet-default-branch").aliases.join(), /github:index\/branchDefault:BranchDefault/);
      assert.equal(get(resources, "fleet-flux-deploy-key").inputs.readOnly, true);
    });

    it("orders cluster -> Flux install -> Secret -> sync -> each wait, in dependency order", () => {
      // Depending on the cluster component waits for all of it: the cluster and its provider.
      assert.deepEqual(deps(get(resources, "flux-install")), ["cluster-kind", "cluster-provider", "fleet-commit"]);
      assert.ok(deps(get(resources, "flux-git-secret")).includes("flux-install"));
      assert.deepEqual(
        deps(get(resources, "flux-sync")).filter((d) => !d.endsWith("-identity")),
        ["cluster-kind", "fleet-flux-deploy-key", "flux-git-secret", "flux-install"],
      );
      const chain = ["flux-sync", "flux-ready-source", "flux-ready-flux-system", "flux-ready-kyverno", "flux-ready-kyverno-policies", "flux-ready-tenants"];
      for (let i = 1; i < chain.length; i++) {
        const d = deps(get(resources, chain[i]));
        assert.ok(d.includes(chain[i - 1]), `${chain[i]} waits for ${chain[i - 1]}`);
        assert.ok(!chain.slice(i).some((later) => d.includes(later)), `${chain[i]} waits for nothing after it`);
      }
      assert.ok(deps(get(resources, "tenant-dev-team-goodbye")).includes("flux-ready-tenants"));
      assert.ok(deps(get(resources, "tenant-dev-team-git-secret")).includes("tenant-dev-team-goodbye"));
      assert.ok(deps(get(resources, "tenant-dev-team-ready")).includes("tenant-dev-team-git-secret"));
    });

    it("the deploy key waits for the repository check; the install for the fleet commit, so destroy uninstalls before files leave Git", () => {
      assert.ok(deps(get(resources, "fleet-flux-deploy-key")).includes("fleet-commit"));
      assert.ok(deps(get(resources, "tenant-dev-team-flux-deploy-key")).includes("tenant-dev-team-seed"));
      assert.ok(deps(get(resources, "fleet-commit")).includes("fleet-repo"));
      const defaultBranch = get(resources, "fleet-default-branch");
      assert.deepEqual({ branch: defaultBranch.inputs.branch, after: deps(defaultBranch).includes("fleet-commit") }, { branch: "main", after: true });
      // Kept on delete, as pulumi-github's was (retainOnDelete): the provider has no delete.
      assert.equal(githubDefaultBranchProvider.delete, undefined);
    });

    it("waits for the fleet revision the commit produced, and for each seeded Kustomization", () => {
      const revision = `main@sha1:`;
      for (const n of ["flux-ready-source", "flux-ready-flux-system", "flux-ready-kyverno", "flux-ready-kyverno-policies", "flux-ready-tenants"]) {
        assert.ok(String(get(resources, n).inputs.revision).startsWith(revision), n);
      }
      assert.equal(get(resources, "flux-ready-source").inputs.resource, "gitrepositories.source.toolkit.fluxcd.io");
      assert.deepEqual(
        ["flux-ready-kyverno", "flux-ready-kyverno-policies", "flux-ready-tenants"].map((n) => get(resources, n).inputs.name),
        ["kyverno", "kyverno-policies", "tenants"],
      );
      assert.deepEqual(
        { ns: get(resources, "tenant-dev-team-ready").inputs.namespace, name: get(resources, "tenant-dev-team-ready").inputs.name },
        { ns: "apps", name: "dev-team" },
      );
    });

    it("private keys, kubeconfig, Secret data and tokens are secrets", async () => {
      for (const n of ["fleet-flux-identity", "tenant-dev-team-flux-identity"]) {
        const key = get(resources, n);
        assert.equal(key.type, "pulumi-nodejs:dynamic/flux-multi-tenancy:SshKey");
        assert.ok(key.additionalSecretOutputs.includes("privateKeyPem"));
      }
      assert.ok(get(resources, "cluster-kind").additionalSecretOutputs.includes("kubeconfig"));
      assert.deepEqual(get(resources, "cluster-provider").secretInputs, ["kubeconfig"]);
      for (const n of ["flux-git-secret", "tenant-dev-team-git-secret"]) assert.deepEqual(get(resources, n).secretInputs, ["stringData"]);
      for (const r of resources.filter((x) => x.type.endsWith(":FluxReady") || x.type.endsWith(":FluxInstall") || x.type.endsWith(":FluxSync"))) {
        assert.ok(r.secretInputs.includes("kubeconfig"), r.name);
      }
      for (const n of ["fleet-commit", "tenant-dev-team-seed", "flux-ready-source", "flux-ready-tenants"])
        assert.ok(get(resources, n).secretInputs.includes("token"), n);
      assert.equal(get(resources, "flux-ready-tenants").inputs.repository, "my-org/fleet-infra", "the waits may check a later head contains the commit");
      assert.ok(await pulumi.isSecret((await run("staging")).raw.kubeconfig));
    });

    it("the Flux Secret holds identity, identity.pub and github.com's known_hosts", () => {
      const data = get(resources, "flux-git-secret").inputs.stringData;
      assert.deepEqual(Object.keys(data).sort(), ["identity", "identity.pub", "known_hosts"]);
      assert.match(data.identity, /BEGIN EC PRIVATE KEY/);
      assert.match(data.known_hosts, /^github\.com ssh-ed25519 /m);
      assert.deepEqual(get(resources, "flux-git-secret").inputs.metadata, { name: "flux-system", namespace: "flux-system" });
      assert.deepEqual(get(resources, "tenant-dev-team-git-secret").inputs.metadata, { name: "dev-team-git", namespace: "apps" });
    });

    it("deployKeyRotation replaces every key pair (and so its deploy key and Secret) in one up", async () => {
      const rotated = (await run("staging", (raw) => (raw.deployKeyRotation = "2026-11-24"))).resources;
      for (const n of ["fleet-flux-identity", "tenant-dev-team-flux-identity"]) {
        assert.equal(get(resources, n).inputs.rotation, "", n);
        assert.equal(get(rotated, n).inputs.rotation, "2026-11-24", n);
      }
    });

    it("deploy keys are read-only; repositories private and kept on destroy", () => {
      for (const n of ["fleet-flux-deploy-key", "tenant-dev-team-flux-deploy-key"]) assert.equal(get(resources, n).inputs.readOnly, true, n);
      for (const n of ["fleet-repo", "tenant-dev-team-repo"]) {
        assert.equal(get(resources, n).inputs.visibility, "private", n);
        assert.equal(get(resources, n).inputs.owner, "my-org", n);
        assert.ok(get(resources, n).secretInputs.includes("token"), n);
      }
      // Kept on destroy: the repository provider has no delete (its tests show the create-or-find-again).
      assert.equal(githubRepositoryProvider.delete, undefined);
    });

    it("commits the whole rendered tree once, and seeds the tenant repository with its starter layout", () => {
      const commit = get(resources, "fleet-commit").inputs;
      assert.ok("clusters/staging/flux-system/gotk-sync.yaml" in commit.files);
      assert.ok("tenants/base/dev-team/sync.yaml" in commit.files);
      // Stacks from before the seed had its own type find their seed under the old type: no write, no replacement.
      assert.equal(get(resources, "tenant-dev-team-seed").aliases.length, 1);
      assert.match(get(resources, "tenant-dev-team-seed").aliases[0], /flux-multi-tenancy:GitCommit/);
      const seed = get(resources, "tenant-dev-team-seed").inputs;
      assert.deepEqual(Object.keys(seed.files).sort(), [
        "base/kustomization.yaml",
        "base/podinfo-release.yaml",
        "base/podinfo-repository.yaml",
        "production/kustomization.yaml",
        "production/podinfo-values.yaml",
        "staging/kustomization.yaml",
        "staging/podinfo-values.yaml",
      ]);
    });

    it("installs exactly the objects Flux builds from the repository: CRDs and Namespace first", () => {
      const install = get(resources, "flux-install").inputs;
      assert.deepEqual([...new Set(install.foundation.map((o: { kind: string }) => o.kind))], ["Namespace"]);
      const kc = install.components.find((o: any) => o.kind === "Deployment" && o.metadata.name === "kustomize-controller");
      assert.ok(kc.spec.template.spec.containers[0].args.includes("--no-remote-bases=true"));
      const root = get(resources, "flux-sync").inputs.objects.find((o: any) => o.kind === "Kustomization");
      assert.equal(root.spec.serviceAccountName, "kustomize-controller");
    });

    it("stack outputs: cluster name, fleet URL, tenants' repositories and namespaces", () => {
      assert.equal(outputs.clusterName, "staging");
      assert.equal(outputs.fleetRepositoryUrl, "https://github.com/my-org/fleet-infra");
      assert.match(outputs.fleetRevision, /^main@sha1:[0-9a-f]{40}$/);
      assert.deepEqual(outputs.tenants, { "dev-team": { repositoryUrl: "ssh://git@github.com/my-org/dev-team", namespace: "apps" } });
    });
  });

  describe("production on an existing cluster, adopted repositories", () => {
    let resources: Registered[];
    before(async () => ({ resources } = await run("production", (raw) => (raw.cluster = { provider: "existing" }))));

    it("probes the cluster's API before the provider, and creates no repository", () => {
      assert.deepEqual(
        shape(resources).filter((s) => /Cluster|Probe|:Repository |providers:kubernetes/.test(s)),
        [
          "flux-multi-tenancy:cluster:ExistingCluster cluster",
          "pulumi-nodejs:dynamic/flux-multi-tenancy:ClusterProbe cluster-probe",
          "pulumi:providers:kubernetes cluster-provider",
        ],
      );
      assert.deepEqual(deps(get(resources, "cluster-provider")), ["cluster-probe"]);
      assert.deepEqual(get(resources, "cluster-provider").secretInputs, ["kubeconfig"]);
      assert.deepEqual(get(resources, "cluster-probe").secretInputs, ["kubeconfig"]);
      // Only a kind cluster's objects may leave the state with an unreachable cluster: elsewhere that is no proof.
      assert.equal(get(resources, "cluster-provider").inputs.deleteUnreachable, undefined);
      assert.equal(get(resources, "flux-install").inputs.kindHost, "");
    });

    it("adopts the fleet and tenant repositories: commit checks access, tenant seed commits nothing", () => {
      assert.equal(get(resources, "fleet-commit").inputs.repository, "fleet-infra");
      assert.deepEqual(get(resources, "tenant-dev-team-seed").inputs.files, {});
      assert.equal(get(resources, "fleet-flux-deploy-key").inputs.title, "flux-production");
    });

    it("wires Flux and the tenant to the cluster's provider exactly as on kind", async () => {
      const staging = (await run("staging")).resources;
      // Receivers are for repositories the program creates (fleet.receiver and tenantDefaults.receiver "created").
      const fluxPart = (rs: Registered[]) => shape(rs).filter((s) => / (flux|tenant)-/.test(s) && !/Repository |receiver-/.test(s));
      assert.deepEqual(fluxPart(resources), fluxPart(staging));
      assert.deepEqual(
        shape(resources).filter((s) => /receiver-/.test(s)),
        [],
        "adopted repositories get no Receiver unless asked",
      );
    });
  });

  describe("a tenant's own secrets, notifications and push webhooks", () => {
    let resources: Registered[];
    let outputs: Record<string, any>;
    before(async () => {
      const raw = structuredClone(await stackRaw("staging")) as Record<string, any>;
      raw.flux = { ...(raw.flux ?? {}), ...localManifest(manifest) };
      raw.tenantDefaults = { sops: true, notifications: { type: "slack", channel: "#deploys" } };
      raw.webhookBaseUrl = "https://flux-webhook.example.com";
      const notificationSecrets = JSON.stringify({ tenantDefaults: { address: "https://hooks.slack.com/services/T0/B0/secret-part" } });
      ({ resources, outputs } = await runProgram("staging", raw, { notificationSecrets }));
    });

    it("an age key per tenant and its Secret, the notification Secret, every one a secret input; the recipient an output", () => {
      assert.ok(get(resources, "tenant-dev-team-age"));
      for (const n of ["tenant-dev-team-sops-secret", "tenant-dev-team-notifications-secret"]) {
        const r = get(resources, n);
        assert.ok(r.secretInputs.includes("stringData"), `${n} holds its data as a secret`);
        assert.ok(deps(r).includes("tenant-dev-team-goodbye"), n);
      }
      assert.deepEqual(get(resources, "tenant-dev-team-sops-secret").inputs.metadata, { name: "sops-age", namespace: "apps" });
      assert.deepEqual(get(resources, "tenant-dev-team-notifications-secret").inputs.metadata, { name: "tenant-notifications", namespace: "apps" });
      assert.match(outputs.tenantAgeRecipients["dev-team"], /^age1[02-9ac-hj-np-z]{58}$/);
      // The tenant's wait comes after its platform Secrets: decryption and notifications work from the first reconcile.
      const ready = deps(get(resources, "tenant-dev-team-ready"));
      for (const n of ["tenant-dev-team-sops-secret", "tenant-dev-team-notifications-secret", "tenant-dev-team-receiver-secret"])
        assert.ok(ready.includes(n), n);
    });

    it("with webhookBaseUrl, the push webhook of the fleet and of each created repository, its secret the Receiver's token", () => {
      for (const n of ["fleet-webhook", "tenant-dev-team-webhook"]) {
        const r = get(resources, n);
        assert.match(String(r.inputs.url), /^https:\/\/flux-webhook\.example\.com\/hook\/[0-9a-f]{64}$/, n);
        assert.ok(r.secretInputs.includes("secret") && r.secretInputs.includes("token"), n);
      }
      assert.equal(get(resources, "fleet-webhook").parent.split("::").pop(), "fleet");
      assert.deepEqual([outputs.receiverWebhooks.fleet.registered, outputs.receiverWebhooks.tenants["dev-team"].registered], [true, true]);
      assert.equal(outputs.receiverWebhooks.tenants["dev-team"].url, get(resources, "tenant-dev-team-webhook").inputs.url);
    });
  });

  describe("tenants come and go alone", () => {
    const addTeamB = (raw: Record<string, any>) => {
      raw.tenants = [...raw.tenants, { name: "team-b", namespace: "team-b" }];
    };

    it("adding a tenant adds only its resources; others keep their inputs but the new fleet revision", async () => {
      const before = (await run("staging")).resources;
      const after = (await run("staging", addTeamB)).resources;
      const added = shape(after).filter((s) => !shape(before).includes(s));
      assert.deepEqual(added, [
        "flux-multi-tenancy:index:DeployKey tenant-team-b-flux",
        "flux-multi-tenancy:index:Tenant tenant-team-b",
        "kubernetes:core/v1:Secret tenant-team-b-git-secret",
        "kubernetes:core/v1:Secret tenant-team-b-receiver-secret",
        "pulumi-nodejs:dynamic/flux-multi-tenancy:FluxReady tenant-team-b-ready",
        "pulumi-nodejs:dynamic/flux-multi-tenancy:GitHubDeployKey tenant-team-b-flux-deploy-key",
        "pulumi-nodejs:dynamic/flux-multi-tenancy:GitHubRepository tenant-team-b-repo",
        "pulumi-nodejs:dynamic/flux-multi-tenancy:SshKey tenant-team-b-flux-identity",
        "pulumi-nodejs:dynamic/flux-multi-tenancy:TenantGoodbye tenant-team-b-goodbye",
        "pulumi-nodejs:dynamic/flux-multi-tenancy:TenantSeed tenant-team-b-seed",
        "pulumi-nodejs:dynamic/flux-multi-tenancy:Token tenant-team-b-receiver-token",
      ]);
      assert.ok(
        shape(before).every((s) => shape(after).includes(s)),
        "nothing removed",
      );
      const changed = before
        .filter((r) => JSON.stringify(r.inputs) !== JSON.stringify(get(after, r.name).inputs))
        .map((r) => r.name)
        .sort();
      // The commit carries the new files; the waits wait for the new revision.
      assert.deepEqual(changed, [
        "fleet-commit",
        "flux-ready-flux-system",
        "flux-ready-kyverno",
        "flux-ready-kyverno-policies",
        "flux-ready-source",
        "flux-ready-tenants",
      ]);
      const files = (rs: Registered[]) => get(rs, "fleet-commit").inputs.files as Record<string, string>;
      const changedFiles = Object.keys(files(after)).filter((f) => files(after)[f] !== files(before)[f]);
      assert.deepEqual(changedFiles.sort(), [
        "tenants/base/team-b/kustomization.yaml",
        "tenants/base/team-b/rbac.yaml",
        "tenants/base/team-b/sync.yaml",
        "tenants/staging/kustomization.yaml",
        "tenants/staging/team-b-namespace.yaml",
        "tenants/staging/team-b-patch.yaml",
        "tenants/staging/team-b-receiver.yaml",
      ]);
    });

    it("removing a tenant removes only its resources", async () => {
      const both = (await run("staging", addTeamB)).resources;
      const one = (await run("staging")).resources;
      assert.deepEqual(
        shape(both)
          .filter((s) => !shape(one).includes(s))
          .every((s) => s.includes("team-b")),
        true,
      );
      assert.ok(shape(one).every((s) => shape(both).includes(s)));
    });
  });

  it("the same config registers identical inputs twice (no timestamps, randomness or ordering noise)", async () => {
    const first = (await run("staging")).resources;
    const second = (await run("staging")).resources;
    const view = (rs: Registered[]) => rs.map((r) => JSON.stringify([r.urn, r.inputs, r.dependencies.sort(), r.provider])).sort();
    assert.deepEqual(view(second), view(first));
  });

  it("shared files may be overwritten only in an up run with FLUX_MULTI_TENANCY_OVERWRITE_SHARED_FILES=true, and the next up is guarded again", async () => {
    assert.equal(get((await run("staging")).resources, "fleet-commit").inputs.overwriteShared, false);
    process.env.FLUX_MULTI_TENANCY_OVERWRITE_SHARED_FILES = "true";
    try {
      assert.equal(get((await run("staging")).resources, "fleet-commit").inputs.overwriteShared, true);
    } finally {
      delete process.env.FLUX_MULTI_TENANCY_OVERWRITE_SHARED_FILES;
    }
    const next = get((await run("staging")).resources, "fleet-commit").inputs;
    assert.equal(next.overwriteShared, false);
    // Turning the guard back on is no change by itself: nothing is written for it.
    assert.equal((await gitCommitProvider.diff!("id", { ...next, overwriteShared: true } as never, next as never)).changes, false);
  });

  it("bad config fails as a RunError naming the key, before any resource is registered", async () => {
    await assert.rejects(
      run("staging", (raw) => (raw.flux = { ...raw.flux, version: "latest" })),
      (e: Error) => {
        assert.ok(pulumi.RunError.isInstance(e));
        assert.equal(
          e.message,
          'invalid stack config:\nflux-multi-tenancy:flux.version: "latest" is not a pinned Flux release; use the form vX.Y.Z, e.g. "v2.9.4" ("latest" is never resolved).',
        );
        return true;
      },
    );
    assert.deepEqual(registered, []);
  });

  it("a tenant on any SSH Git host gets a generated key and its Secret, no GitHub resource; its public key is an output to register", async () => {
    const host = "[git.example.com]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
    const { resources, outputs } = await run("staging", (raw) => {
      raw.tenants = [...raw.tenants, { name: "team-x", repository: { url: "ssh://git@git.example.com:2222/team-x/apps.git", deployKey: true } }];
      raw.knownHosts = host;
      raw.policies = { ...raw.policies, allowedSourcePrefixes: [...raw.policies.allowedSourcePrefixes, "ssh://git@git.example.com:2222/"] };
    });
    const mine = resources.filter((r) => r.name.startsWith("tenant-team-x"));
    assert.deepEqual(shape(mine), [
      "flux-multi-tenancy:index:DeployKey tenant-team-x-flux",
      "flux-multi-tenancy:index:Tenant tenant-team-x",
      "kubernetes:core/v1:Secret tenant-team-x-git-secret",
      "pulumi-nodejs:dynamic/flux-multi-tenancy:FluxReady tenant-team-x-ready",
      "pulumi-nodejs:dynamic/flux-multi-tenancy:SshKey tenant-team-x-flux-identity",
      "pulumi-nodejs:dynamic/flux-multi-tenancy:TenantGoodbye tenant-team-x-goodbye",
    ]);
    // Its key is made before the fleet's waits (top level), so the first wait can name it; its own wait names it too,
    // seeing its source Ready before its Kustomization (one wait, not two: each is a copy of the kubeconfig in the state).
    assert.ok(!get(resources, "tenant-team-x-flux").parent.includes("Tenant"), "not under the Tenant component");
    const wait = get(resources, "tenant-team-x-ready");
    assert.deepEqual(
      [wait.inputs.source, wait.inputs.resource, wait.inputs.name],
      ["gitrepositories.source.toolkit.fluxcd.io", "kustomizations.kustomize.toolkit.fluxcd.io", "team-x"],
    );
    assert.match(
      wait.inputs.hint,
      /^Register this public key, read-only, on its Git host, then run pulumi up again:\n {2}ssh:\/\/git@git\.example\.com:2222\/team-x\/apps\.git: ecdsa-sha2-nistp384 /,
    );
    assert.ok(wait.dependencies.map(name).includes("tenant-team-x-git-secret"), "the wait follows the tenant's Git Secret");
    assert.match(outputs.tenantPublicKeys["team-x"], /^ecdsa-sha2-nistp384 /);
    assert.deepEqual(Object.keys(outputs.tenantPublicKeys), ["team-x"]);
    const secret = get(resources, "tenant-team-x-git-secret");
    assert.equal(secret.inputs.metadata.namespace, "team-x");
    assert.ok(secret.inputs.stringData.known_hosts.endsWith(`${host}\n`), "the configured host key follows github.com's");
  });

  describe("native policies keep the API server watching their ConfigMap parameters", () => {
    it("with vap, a keeper policy and binding (server-side applied, left on destroy) that judge nothing; none with Kyverno", async () => {
      const { resources } = await run("staging", (raw) => (raw.policies = { ...raw.policies, engine: "vap" }));
      const keeper = get(resources, "flux-params-keeper");
      const binding = get(resources, "flux-params-keeper-binding");
      assert.deepEqual(
        [keeper.type, binding.type],
        [
          "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyPatch",
          "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBindingPatch",
        ],
      );
      assert.ok(keeper.retainOnDelete && binding.retainOnDelete, "left in place on destroy");
      assert.deepEqual(keeper.inputs.spec.paramKind, { apiVersion: "v1", kind: "ConfigMap" });
      assert.equal(keeper.inputs.metadata.annotations["pulumi.com/patchForce"], "true");
      assert.deepEqual(binding.inputs.spec.matchResources, { namespaceSelector: { matchLabels: { "flux-multi-tenancy-params-keeper/never": "true" } } });
      assert.ok(deps(binding).includes("flux-params-keeper"));
      const { resources: kyverno } = await run("staging");
      assert.deepEqual(
        kyverno.filter((r) => r.name.includes("params-keeper")),
        [],
      );
    });
  });

  describe("a fleet on another Git host", () => {
    const HOST = "[git.example.com]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
    const gitFleet = (raw: Record<string, any>) => {
      raw.fleet = { provider: "git", url: "ssh://git@git.example.com:2222/platform/fleet.git" };
      raw.tenants = [{ name: "team-a", repository: { url: "ssh://git@git.example.com:2222/team-a/apps.git", deployKey: true } }];
      raw.knownHosts = HOST;
      raw.policies = { ...raw.policies, allowedSourcePrefixes: ["ssh://git@git.example.com:2222/"] };
    };

    it("pushes with the user's key, generates Flux's key for the user to register, and touches GitHub not at all", async () => {
      const raw = structuredClone(await stackRaw("staging")) as Record<string, any>;
      raw.flux = { ...(raw.flux ?? {}), ...localManifest(manifest) };
      gitFleet(raw);
      const { resources, outputs } = await runProgram("staging", raw, { fleetSshKey: "-----BEGIN OPENSSH PRIVATE KEY-----\npush\n" });
      assert.deepEqual(
        resources.filter((r) => r.type.startsWith("github:") || r.type === "pulumi:providers:github"),
        [],
      );
      const push = get(resources, "fleet-commit");
      assert.equal(push.type, "pulumi-nodejs:dynamic/flux-multi-tenancy:GitPush");
      assert.equal(push.inputs.url, "ssh://git@git.example.com:2222/platform/fleet.git");
      assert.equal(push.inputs.knownHosts, `${HOST}\n`);
      assert.ok(push.secretInputs.includes("sshKey") && push.additionalSecretOutputs.includes("sshKey"));
      assert.equal(get(resources, "fleet-flux-identity").type, "pulumi-nodejs:dynamic/flux-multi-tenancy:SshKey");
      const wait = get(resources, "flux-ready-tenants");
      assert.deepEqual([wait.inputs.repository, wait.inputs.gitUrl], ["", "ssh://git@git.example.com:2222/platform/fleet.git"]);
      assert.ok(wait.secretInputs.includes("sshKey"));
      assert.ok(get(resources, "flux-git-secret").inputs.stringData.known_hosts.endsWith(`${HOST}\n`));
      assert.match(outputs.fleetPublicKey, /^ecdsa-sha2-nistp384 /);
      assert.equal(outputs.fleetRepositoryUrl, "ssh://git@git.example.com:2222/platform/fleet.git");
      // If Flux cannot read the fleet, the first wait stops at once naming every key to register.
      assert.deepEqual(get(resources, "flux-ready-source").inputs.hint.split("\n"), [
        "Register these public keys, read-only, on their Git hosts (stack outputs fleetPublicKey and tenantPublicKeys), then run pulumi up again:",
        `  ssh://git@git.example.com:2222/platform/fleet.git: ${outputs.fleetPublicKey}`,
        `  ssh://git@git.example.com:2222/team-a/apps.git: ${outputs.tenantPublicKeys["team-a"]}`,
      ]);
      assert.equal(get(resources, "flux-ready-tenants").inputs.hint, "");
      assert.deepEqual(Object.keys(outputs.tenantPublicKeys), ["team-a"]);
    });

    it("without the push key, up stops before any resource is registered", async () => {
      await assert.rejects(run("staging", gitFleet), (e: Error) => {
        assert.ok(pulumi.RunError.isInstance(e));
        assert.match(e.message, /^invalid stack config:\nflux-multi-tenancy:fleetSshKey: \(unset\) is required when fleet\.provider is git/);
        return true;
      });
      assert.deepEqual(registered, []);
    });
  });
});
