// The whole fleet on a cluster the caller made: the fleet repository, Flux with the multi-tenancy lockdown, the waits in
// dependency order, and every tenant. The program (index.ts) builds it on the cluster it makes; the package
// (PulumiPlugin.yaml) offers it to Pulumi programs in any language.
import * as pulumi from "@pulumi/pulumi";
import { checkNotificationSecrets, ConfigError, OVERWRITE_SHARED_ENV, PROJECT, reconcilerAccount, readFleetSettings, type StackConfig } from "../config";
import { type InstallManifest, loadInstallManifest } from "../lib/fluxRelease";
import { withoutPromiseStacks } from "../lib/promiseStacks";
import { renderFleet } from "../manifests";
import { FLEET_RECEIVER } from "../manifests/clusters";
import { FLUX_NAMESPACE } from "../manifests/labels";
import { receiverWebhookPath, tenantSource } from "../manifests/tenants";
import { type Cluster, ExistingCluster } from "./cluster";
import { DeployKey } from "./deployKey";
import { FleetRepository } from "./fleetRepository";
import type { FluxFleetArgs, ReceiverWebhookReport, ReceiverWebhooksReport, TenantReport } from "./fluxFleetArgs";
import { FluxBootstrap } from "./fluxBootstrap";
import { GeneratedTokenResource } from "./providers/generatedSecrets";
import { GitHubWebhookResource } from "./providers/githubWebhook";
import { SshFleetRepository } from "./sshFleetRepository";
import { Tenant } from "./tenant";

export type * from "./fluxFleetArgs";

/** How the program builds FluxFleet; a package user needs none of it. */
export interface FluxFleetOptions extends pulumi.ComponentResourceOptions {
  /** The cluster the program made (its UID and explicit provider); without it FluxFleet reaches args.kubeconfig itself. */
  cluster?: Cluster;
  /** The install manifest, read and verified before any resource (else read when the component needs it). */
  installManifest?: InstallManifest;
  /**
   * Children named as the program named them before FluxFleet existed (fleet, flux, tenant-<name>), and aliased to
   * where they were (the stack's root): a stack made by an earlier version updates in place, nothing replaced.
   */
  programNames?: boolean;
}

/**
 * The fluxcd/flux2-multi-tenancy layout on a cluster you made: the fleet repository (GitHub or any Git server over SSH)
 * with this environment's files, Flux installed from the pinned release with the multi-tenancy lockdown, its sync and
 * the waits for each Kustomization in dependency order, and one repository, deploy key and namespace per tenant.
 */
export class FluxFleet extends pulumi.ComponentResource {
  /** The cluster's name. */
  public readonly clusterName: pulumi.Output<string>;
  /** The kubeconfig it was given (secret). */
  public readonly kubeconfig: pulumi.Output<string>;
  /** The fleet repository's web page (GitHub) or URL (other Git servers). */
  public readonly fleetRepositoryUrl: pulumi.Output<string>;
  /** The fleet revision Flux reached, <branch>@sha1:<sha>. */
  public readonly fleetRevision: pulumi.Output<string>;
  public readonly fluxVersion: pulumi.Output<string>;
  /** Each tenant's repository URL and namespace. */
  public readonly tenants: pulumi.Output<{ [tenant: string]: TenantReport }>;
  /** With fleet provider git: Flux's read key, to register read-only on the fleet's host. */
  public readonly fleetPublicKey?: pulumi.Output<string>;
  /** Keys to register read-only on the hosts of tenant repositories given by URL with deployKey. */
  public readonly tenantPublicKeys: pulumi.Output<{ [tenant: string]: string }>;
  /** The age recipient each tenant with sops encrypts its Secrets to. */
  public readonly tenantAgeRecipients: pulumi.Output<{ [tenant: string]: string }>;
  /** Each Receiver's webhook (secret). */
  public readonly receiverWebhooks: pulumi.Output<ReceiverWebhooksReport>;

  constructor(name: string, args: FluxFleetArgs, opts?: FluxFleetOptions) {
    // Every bad setting is refused here, before the component or any child is registered.
    const config = readArgs(name, args);
    const { cluster: givenCluster, installManifest, programNames, ...options } = opts ?? {};
    super("flux-multi-tenancy:index:FluxFleet", name, {}, options);
    const child = (childName: string): [string, pulumi.ComponentResourceOptions] =>
      programNames ? [childName, { parent: this, aliases: [{ parent: pulumi.rootStackResource }] }] : [`${name}-${childName}`, { parent: this }];
    const manifest = installManifest ?? pulumi.output(loadInstallManifest(config.flux));
    const built = withoutPromiseStacks(() =>
      build(
        config,
        args,
        child,
        programNames ? "stack outputs" : `outputs of FluxFleet ${name}`,
        manifest,
        givenCluster ??
          new ExistingCluster(`${name}-cluster`, { clusterName: config.cluster.name, kubeconfig: kubeconfigText(args.kubeconfig) }, { parent: this }),
      ),
    );
    this.clusterName = built.clusterName;
    this.kubeconfig = built.kubeconfig;
    this.fleetRepositoryUrl = built.fleetRepositoryUrl;
    this.fleetRevision = built.fleetRevision;
    this.fluxVersion = pulumi.output(config.flux.version);
    this.tenants = pulumi.output(built.tenants);
    this.fleetPublicKey = built.fleetPublicKey;
    this.tenantPublicKeys = pulumi.output(built.tenantPublicKeys);
    this.tenantAgeRecipients = pulumi.output(built.tenantAgeRecipients);
    this.receiverWebhooks = built.receiverWebhooks;
    this.registerOutputs({
      clusterName: this.clusterName,
      kubeconfig: this.kubeconfig,
      fleetRepositoryUrl: this.fleetRepositoryUrl,
      fleetRevision: this.fleetRevision,
      fluxVersion: this.fluxVersion,
      tenants: this.tenants,
      fleetPublicKey: this.fleetPublicKey,
      tenantPublicKeys: this.tenantPublicKeys,
      tenantAgeRecipients: this.tenantAgeRecipients,
      receiverWebhooks: this.receiverWebhooks,
    });
  }
}

/**
 * The kubeconfig as text. Pulumi YAML hands a config value that is itself a YAML document (a kubeconfig) over decoded:
 * such a document is written back as JSON, which kubectl reads as well.
 */
function kubeconfigText(kubeconfig: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.secret(pulumi.output(kubeconfig).apply((k) => (typeof k === "string" ? k : JSON.stringify(k as unknown))));
}

/** The args as the stack config's readers see them; their problems as one error naming each arg. */
function readArgs(name: string, args: FluxFleetArgs): StackConfig {
  try {
    return readFleetSettings(args, { has: { kubeconfig: args.kubeconfig !== undefined, fleetSshKey: args.fleetSshKey !== undefined } });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const lines = e.problems.map((p) => `  ${p.startsWith(`${PROJECT}:`) ? p.slice(PROJECT.length + 1) : p}`);
    throw new pulumi.RunError(`invalid FluxFleet ${name} args:\n${lines.join("\n")}`);
  }
}

function build(
  config: StackConfig,
  args: FluxFleetArgs,
  child: (childName: string) => [string, pulumi.ComponentResourceOptions],
  /** Where the keys to register are reported: the program's stack outputs, or the component's. */
  outputsName: string,
  manifest: pulumi.Input<InstallManifest>,
  k8sCluster: Cluster,
) {
  const tree = pulumi.output(manifest).apply((m) => renderFleet({ config, installManifest: m.text, installSource: m.source }));
  const gotkComponents = tree.apply((t) => t[`${config.flux.path}/flux-system/gotk-components.yaml`]);
  const token = pulumi.output(args.githubToken ?? "");
  const fleetSshKey = args.fleetSshKey === undefined ? undefined : pulumi.secret(args.fleetSshKey);
  const overwriteShared = process.env[OVERWRITE_SHARED_ENV] === "true";
  // A GitHub Enterprise Server's host keys are in knownHosts; github.com's are built in (and a github.com stack's Secrets stay as they were).
  const githubKnownHosts = config.github.host === "github.com" ? "" : config.knownHosts;

  // The fleet on GitHub (repository and deploy key through the API), or on any Git server over SSH.
  const [fleetName, fleetOpts] = child("fleet");
  const fleet =
    config.fleet.provider === "github"
      ? new FleetRepository(
          fleetName,
          {
            owner: config.fleet.owner,
            repository: config.fleet.repository,
            branch: config.fleet.branch,
            visibility: config.fleet.visibility,
            create: config.fleet.create,
            files: tree,
            environment: config.environment,
            overwriteShared,
            keyRotation: config.deployKeyRotation,
            token,
            github: config.github,
            url: config.fleet.url,
            knownHosts: githubKnownHosts,
          },
          fleetOpts,
        )
      : new SshFleetRepository(
          fleetName,
          {
            url: config.fleet.url,
            branch: config.fleet.branch,
            files: tree,
            environment: config.environment,
            overwriteShared,
            keyRotation: config.deployKeyRotation,
            pushKey: fleetSshKey!,
            knownHosts: config.knownHosts,
          },
          fleetOpts,
        );
  // Keys of tenant repositories on other Git hosts, made first: the fleet's first wait can then name every key to register.
  const hostKeys = new Map(
    config.tenants.flatMap((t) =>
      t.repository.type === "url" && t.repository.deployKey ? [[t.name, new DeployKey(...hostKeyArgs(child(`tenant-${t.name}-flux`), config, t.name))]] : [],
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
              `Register these public keys, read-only, on their Git hosts (${outputsName} fleetPublicKey and tenantPublicKeys), then run pulumi up again:\n` +
              keys.map((k, i) => `  ${toRegister[i].url}: ${k}`).join("\n"),
          );
  // The fleet's Receiver: its token, and on GitHub with webhookBaseUrl the push webhook that calls it.
  const fleetReceiverToken = config.fleet.receiver
    ? pulumi.secret(new GeneratedTokenResource(`${fleetName}-receiver-token`, { rotation: config.deployKeyRotation }, { parent: fleet }).token)
    : undefined;
  const fleetReceiverPath = fleetReceiverToken?.apply((t) => receiverWebhookPath(t, FLEET_RECEIVER, FLUX_NAMESPACE));
  if (fleetReceiverToken && fleetReceiverPath && fleet instanceof FleetRepository && config.webhookBaseUrl) {
    new GitHubWebhookResource(
      `${fleetName}-webhook`,
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
  const [fluxName, fluxOpts] = child("flux");
  const flux = new FluxBootstrap(
    fluxName,
    {
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
    },
    fluxOpts,
  );
  // Tenants' notification Provider secrets, checked against the tenants once known (the program checked them already).
  const notificationSecrets = pulumi.secret(pulumi.output(args.notificationSecrets ?? {}).apply((given) => checkNotificationSecrets(config, given)));
  const tenants = config.tenants.map((t) => {
    const [tenantName, tenantOpts] = child(`tenant-${t.name}`);
    return new Tenant(
      tenantName,
      {
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
      },
      tenantOpts,
    );
  });
  // Each Receiver's address and secret: registered by the program on GitHub with webhookBaseUrl, else to register by hand.
  const fleetWebhook =
    fleetReceiverToken && fleetReceiverPath
      ? pulumi.all([fleetReceiverToken, fleetReceiverPath]).apply(([secret, p]): ReceiverWebhookReport => ({
          url: `${config.webhookBaseUrl}${p}`,
          secret,
          registered: config.fleet.provider === "github" && config.webhookBaseUrl !== "",
        }))
      : undefined;
  const tenantWebhooks = tenants.flatMap((t, i) => (t.webhook ? [{ name: config.tenants[i].name, webhook: t.webhook }] : []));
  const byTenant = <T>(pick: (t: Tenant) => T | undefined) =>
    Object.fromEntries(tenants.flatMap((t, i) => (pick(t) === undefined ? [] : [[config.tenants[i].name, pick(t) as T]])));

  return {
    clusterName: k8sCluster.name,
    kubeconfig: k8sCluster.kubeconfig,
    fleetRepositoryUrl: fleet instanceof FleetRepository ? fleet.htmlUrl : pulumi.output(fleet.url),
    fleetRevision: pulumi.output(fleet.revision),
    tenants: byTenant((t): TenantReport => ({ repositoryUrl: t.repositoryUrl, namespace: t.namespace })),
    fleetPublicKey: fleet instanceof SshFleetRepository ? fleet.publicKey : undefined,
    tenantPublicKeys: byTenant((t) => t.publicKey),
    tenantAgeRecipients: byTenant((t) => t.ageRecipient),
    receiverWebhooks: pulumi.secret(
      pulumi.all([fleetWebhook, ...tenantWebhooks.map((w) => w.webhook)]).apply(([fleetHook, ...list]): ReceiverWebhooksReport => ({
        ...(fleetHook ? { fleet: fleetHook } : {}),
        tenants: Object.fromEntries(list.map((w, i) => [tenantWebhooks[i].name, w as ReceiverWebhookReport])),
      })),
    ),
  };
}

/** A key pair for a tenant repository on another Git host, titled as the program titles it. */
function hostKeyArgs(
  [keyName, keyOpts]: [string, pulumi.ComponentResourceOptions],
  config: StackConfig,
  tenant: string,
): ConstructorParameters<typeof DeployKey> {
  return [keyName, { title: `flux-${config.environment}-${tenant}`, rotation: config.deployKeyRotation, knownHosts: config.knownHosts }, keyOpts];
}
