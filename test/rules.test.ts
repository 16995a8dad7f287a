// Tenant-isolation rules: a passing and a violating input each, then over the real renders and the mocked graph.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  committedObjects,
  deployKeysReadOnly,
  lockdownPresent,
  noCrossNamespaceRefs,
  type ObjectView,
  type ResourceView,
  repositoriesPrivateAsReported,
  sshSecretsWhereUsed,
  tenantReconcilersImpersonate,
} from "../policy/rules";
import { bootstrapObjects, renderTenantStarter } from "../manifests";
import { outputsFor, runProgram } from "./mocks";
import { localManifest, render, stackConfig, stackRaw, syntheticInstallManifest } from "./helpers";

const ks = (ns: string, spec: object): ObjectView => ({ kind: "Kustomization", metadata: { name: "app", namespace: ns }, spec });
const deployment = (name: string, args: string[]): ObjectView => ({
  kind: "Deployment",
  metadata: { name, namespace: "flux-system" },
  spec: { template: { spec: { containers: [{ args }] } } },
});

describe("tenant-isolation rules", () => {
  it("deploy keys are read-only", () => {
    const DEPLOY_KEY = "pulumi-nodejs:dynamic/flux-multi-tenancy:GitHubDeployKey";
    assert.deepEqual(deployKeysReadOnly({ type: DEPLOY_KEY, name: "k", props: { readOnly: true } }), []);
    assert.deepEqual(deployKeysReadOnly({ type: DEPLOY_KEY, name: "k", props: { readOnly: false } }), ["deploy key k can push: set readOnly: true"]);
  });

  it("repositories are judged private on what GitHub reports, not on what the program asked", () => {
    const repo = (name: string, description: string, visibility: string, reportedVisibility?: string) => ({
      type: "pulumi-nodejs:dynamic/flux-multi-tenancy:GitHubRepository",
      name,
      props: { description, visibility, reportedVisibility },
    });
    assert.deepEqual(repositoriesPrivateAsReported(repo("tenant-a-repo", "Flux tenant a", "private", "private")), []);
    // Asked private, made public: what the program asked does not pass it.
    assert.deepEqual(repositoriesPrivateAsReported(repo("tenant-a-repo", "Flux tenant a", "private", "public")), [
      "tenant repository tenant-a-repo is public on GitHub: make it private",
    ]);
    assert.deepEqual(repositoriesPrivateAsReported(repo("tenant-a-repo", "Flux tenant a", "private")), [], "not on GitHub yet: nothing to judge");
    // The fleet repository's documented visibilities all pass when GitHub reports the one its stack chose.
    for (const v of ["private", "internal", "public"]) {
      assert.deepEqual(repositoriesPrivateAsReported(repo("fleet-repo", "Fleet repository: Flux multi-tenancy layout", v, v)), [], v);
    }
    assert.deepEqual(repositoriesPrivateAsReported(repo("fleet-repo", "Fleet repository: Flux multi-tenancy layout", "private", "public")), [
      "repository fleet-repo is public on GitHub, but its stack chose private",
    ]);
  });

  it("tenant Kustomizations and HelmReleases impersonate their service account", () => {
    assert.deepEqual(tenantReconcilersImpersonate([ks("apps", { serviceAccountName: "dev-team" }), ks("flux-system", {})]), []);
    assert.deepEqual(tenantReconcilersImpersonate([ks("apps", { prune: true })]), [
      "Kustomization/apps/app has no serviceAccountName: tenant reconcilers must impersonate the tenant's service account",
    ]);
  });

  it("no tenant object refers into another namespace", () => {
    assert.deepEqual(noCrossNamespaceRefs([ks("apps", { sourceRef: { kind: "GitRepository", name: "x", namespace: "apps" } })]), []);
    assert.deepEqual(
      noCrossNamespaceRefs([
        ks("apps", { sourceRef: { kind: "GitRepository", name: "flux-system", namespace: "flux-system" }, dependsOn: [{ name: "x", namespace: "other" }] }),
      ]),
      ["Kustomization/apps/app spec.sourceRef points into namespace flux-system", "Kustomization/apps/app spec.dependsOn[0] points into namespace other"],
    );
  });

  it("SSH identities live only where their GitRepository uses them", () => {
    const git: ObjectView = { kind: "GitRepository", metadata: { name: "dev-team", namespace: "apps" }, spec: { secretRef: { name: "dev-team-git" } } };
    const secret = (ns: string): ResourceView => ({
      type: "kubernetes:core/v1:Secret",
      name: "s",
      props: { metadata: { name: "dev-team-git", namespace: ns }, stringData: { identity: "x" } },
    });
    assert.deepEqual(sshSecretsWhereUsed([secret("apps")], [git]), []);
    assert.deepEqual(sshSecretsWhereUsed([secret("other-team")], [git]), [
      "Secret other-team/dev-team-git holds an SSH identity that no GitRepository in its namespace uses",
    ]);
  });

  it("only whole objects are judged: patches and kustomization files are left out", () => {
    const files = {
      "tenants/staging/kustomization.yaml": "resources: [../base/a]\npatches:\n  - path: a-patch.yaml\n",
      "tenants/staging/a-patch.yaml": "kind: Kustomization\nmetadata: { name: a, namespace: a }\nspec: { path: ./staging }\n",
      "tenants/base/a/sync.yaml": "kind: Kustomization\nmetadata: { name: a, namespace: a }\nspec: { prune: true }\n",
    };
    assert.deepEqual(committedObjects(files), [{ kind: "Kustomization", metadata: { name: "a", namespace: "a" }, spec: { prune: true } }]);
    assert.equal(tenantReconcilersImpersonate(committedObjects(files)).length, 1);
  });

  it("every targeted controller carries its lockdown flags", () => {
    const good = [
      deployment("kustomize-controller", ["--no-cross-namespace-refs=true", "--no-remote-bases=true", "--default-service-account=default"]),
      deployment("helm-controller", ["--no-cross-namespace-refs=true", "--default-service-account=default"]),
      deployment("source-controller", []),
    ];
    assert.deepEqual(lockdownPresent(good), []);
    const root: ObjectView = { kind: "Kustomization", metadata: { name: "flux-system", namespace: "flux-system" }, spec: {} };
    assert.deepEqual(lockdownPresent([deployment("kustomize-controller", ["--no-cross-namespace-refs=true"]), root]), [
      "kustomize-controller lacks --no-remote-bases=true",
      "kustomize-controller lacks --default-service-account=<sa>",
      "Kustomization flux-system/flux-system does not impersonate kustomize-controller",
    ]);
  });

  for (const stack of ["staging", "production"]) {
    it(`hold for the rendered ${stack} tree, its bootstrap objects, the tenant starter and the mocked graph`, async () => {
      const config = await stackConfig(stack);
      const tree = render(config);
      const objects = committedObjects(tree);
      const starter = committedObjects(renderTenantStarter(config.tenants[0]));
      assert.ok(objects.length >= 10 && starter.length === 2);
      assert.deepEqual(tenantReconcilersImpersonate([...objects, ...starter]), []);
      assert.deepEqual(noCrossNamespaceRefs([...objects, ...starter]), []);
      const built = bootstrapObjects(config, tree[`clusters/${stack}/flux-system/gotk-components.yaml`]);
      assert.deepEqual(lockdownPresent([...built.components, ...built.sync]), []);
      assert.ok(
        built.components.some((o) => o.kind === "Deployment"),
        "the check saw the controllers",
      );

      const manifest = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "rules-")), "install.yaml");
      fs.writeFileSync(manifest, syntheticInstallManifest());
      const raw = { ...(await stackRaw(stack)), flux: localManifest(manifest) } as Record<string, unknown>;
      const { resources } = await runProgram(stack, raw, stack === "production" ? { kubeconfig: "apiVersion: v1\n" } : {});
      const views: ResourceView[] = resources.map((r) => ({ type: r.type, name: r.name, props: r.inputs }));
      assert.ok(views.some((v) => v.type.endsWith(":GitHubDeployKey")));
      assert.deepEqual(views.flatMap(deployKeysReadOnly), []);
      // As the stack policy sees them: with the outputs GitHub gave.
      const outputs = resources.map((r) => ({ type: r.type, name: r.name, props: { ...r.inputs, ...outputsFor(r.type, r.name, r.inputs) } }));
      if (stack === "staging")
        assert.ok(
          outputs.some((v) => v.props.reportedVisibility === "private"),
          "staging creates its repositories",
        );
      assert.deepEqual(outputs.flatMap(repositoriesPrivateAsReported), []);
      const syncObjects = [...objects, ...built.sync];
      assert.deepEqual(sshSecretsWhereUsed(views, syncObjects), []);
      // The check above saw both SSH identities (the fleet's and the tenant's), not only other Secrets.
      assert.equal(views.filter((v) => v.type === "kubernetes:core/v1:Secret" && "identity" in (v.props.stringData ?? {})).length, 2);
    });
  }
});
