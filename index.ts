// Wiring only: read the stack config, render the fleet tree, build the components, export what a stack reports.
import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";
import { createCluster, FleetRepository, FluxBootstrap, Tenant } from "./components";
import { loadConfig } from "./config";
import { loadInstallManifest } from "./lib/fluxRelease";
import { renderFleet } from "./manifests";

export = async () => {
  const { config, kubeconfig } = loadConfig();
  if (config.fleet.provider === "git") {
    // Rendering and the lab serve a fleet on any Git host; pushing it over SSH from \`up\` is not built yet.
    throw new pulumi.RunError(
      `flux-multi-tenancy:fleet.provider: "git" is supported by \`npm run render\` (push the tree yourself) but not yet by pulumi up; use fleet.provider github (owner, repository) for up.`,
    );
  }
  const manifest = await loadInstallManifest(config.flux, { baseDir: __dirname });
  const tree = renderFleet({ config, installManifest: manifest.text, installSource: manifest.source });
  const gotkComponents = tree[`${config.flux.path}/flux-system/gotk-components.yaml`];

  // One explicit GitHub provider per owner; the token comes from github:token or GITHUB_TOKEN.
  const token = new pulumi.Config("github").getSecret("token") ?? pulumi.output("");
  const owners = [config.fleet.owner, ...config.tenants.flatMap((t) => (t.repository.type === "github" ? [t.repository.owner] : []))];
  const githubProviders = new Map(
    [...new Set(owners)].map((owner) => [
      owner,
      new github.Provider(`github-${owner}`, { owner, token: token.apply((t) => t || undefined) as pulumi.Output<string> }),
    ]),
  );

  const k8sCluster = createCluster("cluster", config.cluster, kubeconfig);
  const fleet = new FleetRepository("fleet", {
    owner: config.fleet.owner,
    repository: config.fleet.repository,
    branch: config.fleet.branch,
    visibility: config.fleet.visibility,
    create: config.fleet.create,
    files: tree,
    environment: config.environment,
    overwriteShared: config.overwriteSharedFiles,
    keyRotation: config.deployKeyRotation,
    token,
    githubProvider: githubProviders.get(config.fleet.owner)!,
  });
  const flux = new FluxBootstrap("flux", {
    config,
    cluster: k8sCluster,
    gotkComponents,
    kubeconfig: k8sCluster.kubeconfig,
    clusterUid: k8sCluster.clusterUid,
    k8sProvider: k8sCluster.provider,
    gitSecretData: fleet.secretData,
    revision: fleet.revision,
    fleetCommit: fleet.commit,
    deployKey: fleet.deployKey,
    githubToken: token,
  });
  const tenants = config.tenants.map(
    (t) =>
      new Tenant(`tenant-${t.name}`, {
        tenant: t,
        environment: config.environment,
        kubeconfig: k8sCluster.kubeconfig,
        k8sProvider: k8sCluster.provider,
        githubProvider: t.repository.type === "github" ? githubProviders.get(t.repository.owner) : undefined,
        tenantsReady: flux.tenantsReady,
        keyRotation: config.deployKeyRotation,
        token,
        knownHosts: config.knownHosts,
      }),
  );

  return {
    clusterName: k8sCluster.name,
    kubeconfig: k8sCluster.kubeconfig,
    fleetRepositoryUrl: fleet.htmlUrl,
    fleetRevision: fleet.revision,
    fluxVersion: config.flux.version,
    tenants: Object.fromEntries(tenants.map((t, i) => [config.tenants[i].name, { repositoryUrl: t.repositoryUrl, namespace: t.namespace }])),
    // Keys to register by hand, read-only, on the Git hosts of tenant repositories given by URL with deployKey: true.
    tenantPublicKeys: Object.fromEntries(tenants.flatMap((t, i) => (t.publicKey ? [[config.tenants[i].name, t.publicKey]] : []))),
  };
};
