// Wiring only: read the stack config, render the fleet tree, build the components, export what a stack reports.
import * as pulumi from "@pulumi/pulumi";
import { createCluster, DeployKey, FleetRepository, FluxBootstrap, SshFleetRepository, Tenant } from "./components";
import { FLEET_RECEIVER } from "./manifests/clusters";
import { receiverWebhookPath, tenantSource } from "./manifests/tenants";
import { FLUX_NAMESPACE } from "./manifests/labels";
import { GeneratedTokenResource } from "./components/providers/generatedSecrets";
import { GitHubWebhookResource } from "./components/providers/githubWebhook";
import { loadConfig, reconcilerAccount } from "./config";
import { type InstallManifest, loadInstallManifest } from "./lib/fluxRelease";
import { withoutPromiseStacks } from "./lib/promiseStacks";
import { renderFleet } from "./manifests";

export = async () => {
  const loaded = loadConfig();
  const manifest = await loadInstallManifest(loaded.config.flux, { baseDir: __dirname });
  return withoutPromiseStacks(() => build(loaded, manifest));
};

function build({ config, kubeconfig, fleetSshKey, notificationSecrets, overwriteSharedFiles }: ReturnType<typeof loadConfig>, manifest: InstallManifest) {
  const tree = renderFleet({ config, installManifest: manifest.text, installSource: manifest.source });
  const gotkComponents = tree[`${config.flux.path}/flux-system/gotk-components.yaml`];

  // Every GitHub object goes through the program's own client: github:token when the stack has one, else GITHUB_TOKEN.
  const token = new pulumi.Config("github").getSecret("token") ?? pulumi.output("");
  // A GitHub Enterprise Server's host keys are in knownHosts; github.com's are built in (and a github.com stack's Secrets stay as they were).
  const githubKnownHosts = config.github.host === "github.com" ? "" : config.knownHosts;

  const k8sCluster = createCluster("cluster", config.cluster, kubeconfig);
  // The fleet on GitHub (repository and deploy key through the API), or on any Git server over SSH.
  const fleet =
    config.fleet.provider === "github"
      ? new FleetRepository("fleet", {
          owner: config.fleet.owner,
          repository: config.fleet.repository,
          branch: config.fleet.branch,
          visibility: config.fleet.visibility,
          create: config.fleet.create,
          files: tree,
          environment: config.environment,
          overwriteShared: overwriteSharedFiles,
          keyRotation: config.deployKeyRotation,
          token,
          github: config.github,
          url: config.fleet.url,
          knownHosts: githubKnownHosts,
        })
      : new SshFleetRepository("fleet", {
          url: config.fleet.url,
          branch: config.fleet.branch,
          files: tree,
          environment: config.environment,
          overwriteShared: overwriteSharedFiles,
          keyRotation: config.deployKeyRotation,
          pushKey: fleetSshKey!,
          knownHosts: config.knownHosts,
        });
  // Keys of tenant repositories on other Git hosts, made first: the fleet's first wait can then name every key to register.
  const hostKeys = new Map(
    config.tenants.flatMap((t) =>
      t.repository.type === "url" && t.repository.deployKey
        ? [
            [
              t.name,
              new DeployKey(`tenant-${t.name}-flux`, {
                title: `flux-${config.environment}-${t.name}`,
                rotation: config.deployKeyRotation,
                knownHosts: config.knownHosts,
              }),
            ],
          ]
        : [],
    ),
  );
  const toRegister = [
    ...(fleet instanceof SshFleetRepository ? [{ url: fleet.url, key: fleet.publicKey }] : []),
    ...config.tenants.flatMap((t) => (hostKeys.has(t.name) ? [{ url: tenantSource(t).url, key: hostKeys.get(t.name)!.publicKey }] : [])),
  ];
  const keysToRegister =
    toRegister.length === 0
      ? ""
      : pulumi
          .all(toRegister.map((r) => r.key))
          .apply(
            (keys) =>
              `Register these public keys, read-only, on their Git hosts (stack outputs fleetPublicKey and tenantPublicKeys), then run pulumi up again:\n` +
              keys.map((k, i) => `  ${toRegister[i].url}: ${k}`).join("\n"),
          );
  // The fleet's Receiver: its token, and on GitHub with webhookBaseUrl the push webhook that calls it.
  const fleetReceiverToken = config.fleet.receiver
    ? pulumi.secret(new GeneratedTokenResource("fleet-receiver-token", { rotation: config.deployKeyRotation }, { parent: fleet }).token)
    : undefined;
  const fleetReceiverPath = fleetReceiverToken?.apply((t) => receiverWebhookPath(t, FLEET_RECEIVER, FLUX_NAMESPACE));
  if (fleetReceiverToken && fleetReceiverPath && fleet instanceof FleetRepository && config.webhookBaseUrl) {
    new GitHubWebhookResource(
      "fleet-webhook",
      {
        owner: config.fleet.owner,
        repository: config.fleet.repository,
        url: pulumi.interpolate`${config.webhookBaseUrl}${fleetReceiverPath}`,
        secret: fleetReceiverToken,
        token: pulumi.secret(token),
        apiUrl: config.github.apiUrl,
      },
      { parent: fleet },
    );
  }
  const flux = new FluxBootstrap("flux", {
    config,
    cluster: k8sCluster,
    gotkComponents,
    kubeconfig: k8sCluster.kubeconfig,
    clusterUid: k8sCluster.clusterUid,
    clusterName: k8sCluster.name,
    kindHost: k8sCluster.kindHost,
    k8sProvider: k8sCluster.provider,
    gitSecretData: fleet.secretData,
    revision: fleet.revision,
    fleetCommit: fleet.commit,
    deployKey: fleet.deployKey,
    githubToken: token,
    fleetPushKey: fleetSshKey,
    keysToRegister,
    receiverToken: fleetReceiverToken,
  });
  const tenants = config.tenants.map(
    (t) =>
      new Tenant(`tenant-${t.name}`, {
        tenant: t,
        environment: config.environment,
        serviceAccount: reconcilerAccount(config, t),
        kubeconfig: k8sCluster.kubeconfig,
        k8sProvider: k8sCluster.provider,
        github: config.github,
        knownHosts: githubKnownHosts,
        clusterUid: k8sCluster.clusterUid,
        tenantsReady: flux.tenantsReady,
        keyRotation: config.deployKeyRotation,
        token,
        hostKey: hostKeys.get(t.name),
        notificationSecret: t.features.notifications.type === "none" ? undefined : notificationSecrets.apply((all) => all[t.name]),
        sopsKeyRotation: config.sopsKeyRotation,
        webhookBaseUrl: config.webhookBaseUrl,
      }),
  );
  // Each Receiver's address and secret: registered by the program on GitHub with webhookBaseUrl, else to register by hand.
  const fleetWebhook =
    fleetReceiverToken && fleetReceiverPath
      ? pulumi.all([fleetReceiverToken, fleetReceiverPath]).apply(([secret, p]) => ({
          url: `${config.webhookBaseUrl}${p}`,
          secret,
          registered: config.fleet.provider === "github" && config.webhookBaseUrl !== "",
        }))
      : undefined;
  const tenantWebhooks = tenants.flatMap((t, i) => (t.webhook ? [{ name: config.tenants[i].name, webhook: t.webhook }] : []));

  return {
    clusterName: k8sCluster.name,
    kubeconfig: k8sCluster.kubeconfig,
    fleetRepositoryUrl: fleet instanceof FleetRepository ? fleet.htmlUrl : fleet.url,
    fleetRevision: fleet.revision,
    fluxVersion: config.flux.version,
    tenants: Object.fromEntries(tenants.map((t, i) => [config.tenants[i].name, { repositoryUrl: t.repositoryUrl, namespace: t.namespace }])),
    // Flux's read key, to register by hand (read-only) on a fleet host that is not GitHub, as `flux bootstrap git` asks.
    ...(fleet instanceof SshFleetRepository ? { fleetPublicKey: fleet.publicKey } : {}),
    // Keys to register by hand, read-only, on the Git hosts of tenant repositories given by URL with deployKey: true.
    tenantPublicKeys: Object.fromEntries(tenants.flatMap((t, i) => (t.publicKey ? [[config.tenants[i].name, t.publicKey]] : []))),
    // The age recipient each tenant with sops encrypts its Secrets to (sops --encrypt --age <recipient>).
    tenantAgeRecipients: Object.fromEntries(tenants.flatMap((t, i) => (t.ageRecipient ? [[config.tenants[i].name, t.ageRecipient]] : []))),
    // Each Receiver's webhook (fleet and tenants): URL (or path, without webhookBaseUrl), secret, and whether the program registered it.
    receiverWebhooks: pulumi.secret(
      pulumi.all([fleetWebhook, ...tenantWebhooks.map((w) => w.webhook)]).apply(([fleetHook, ...list]) => ({
        ...(fleetHook ? { fleet: fleetHook } : {}),
        tenants: Object.fromEntries(list.map((w, i) => [tenantWebhooks[i].name, w])),
      })),
    ),
  };
}
