// One tenant: its repository (created once and seeded, or adopted), a read-only deploy key, the SSH Secret Flux clones with, the wait.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { GitHubConfig, NotificationSecret, TenantConfig } from "../config";
import { TENANTS_KUSTOMIZATION } from "../manifests/clusters";
import {
  notificationSecretData,
  receiverWebhookPath,
  sopsSecretData,
  TENANT_OBJECTS,
  TENANT_ROLE_BINDING,
  tenantGitSecretName,
  tenantSource,
} from "../manifests/tenants";
import { renderTenantStarter } from "../manifests/tenantStarter";
import { DeployKey } from "./deployKey";
import { WAIT_SECONDS } from "./fluxBootstrap";
import { GitHubRepositoryResource } from "./providers/githubRepository";
import { TenantSeedResource } from "./providers/tenantSeed";
import { FluxReadyResource } from "./providers/flux";
import { AgeKeyResource, GeneratedTokenResource } from "./providers/generatedSecrets";
import { GitHubWebhookResource } from "./providers/githubWebhook";
import { TenantGoodbyeResource } from "./providers/tenantGoodbye";

export interface TenantArgs {
  readonly tenant: TenantConfig;
  readonly environment: string;
  /** The account its Kustomization reconciles as (tenantServiceAccount); default the tenant's name. */
  readonly serviceAccount?: string;
  /** Secret kubeconfig, for the wait. */
  readonly kubeconfig: pulumi.Input<string>;
  readonly k8sProvider: k8s.Provider;
  /** The GitHub of the stack's GitHub repositories: github.com or a GitHub Enterprise Server. */
  readonly github: GitHubConfig;
  /** known_hosts lines of other SSH hosts (a GitHub Enterprise Server's), for Flux's Secret. */
  readonly knownHosts?: string;
  /** The cluster's identity (kube-system UID), for the goodbye. */
  readonly clusterUid: pulumi.Input<string>;
  /** The wait for `tenants`: the tenant namespace exists after it. */
  readonly tenantsReady: pulumi.Resource;
  readonly keyRotation?: pulumi.Input<string>;
  /** GitHub token for the seed commit; "" reads GITHUB_TOKEN. */
  readonly token: pulumi.Input<string>;
  /**
   * A repository given by URL with deployKey: its key pair, made before the fleet's waits (so the first
   * up can name every key to register at once); the user registers its public key on the host.
   */
  readonly hostKey?: DeployKey;
  /** Its notifications Provider's address and token (tenants with notifications), a secret. */
  readonly notificationSecret?: pulumi.Input<NotificationSecret>;
  /** Change to add a new SOPS age key, the one before kept for decryption. */
  readonly sopsKeyRotation?: string;
  /** Where the Receiver is reachable from the Git host; "" registers no webhook. */
  readonly webhookBaseUrl?: string;
}

/** A Receiver's address and secret, to register by hand where the program registered no webhook. */
export interface ReceiverWebhook {
  /** webhookBaseUrl and the Receiver's path, or the path alone without webhookBaseUrl. */
  readonly url: string;
  /** The Receiver's token: GitHub signs with it; a generic Receiver's path is derived from it. */
  readonly secret: string;
  /** Whether the program registered it on the Git host (GitHub, with webhookBaseUrl set). */
  readonly registered: boolean;
}

/** A tenant's waits need no "later commit contains this one" check: they wait for no particular revision. */
const NO_CONTAINS_CHECK = { repository: "", token: "", apiUrl: "", gitUrl: "", sshKey: "", knownHosts: "" };

export class Tenant extends pulumi.ComponentResource {
  /** The URL Flux clones. */
  public readonly repositoryUrl: string;
  public readonly namespace: string;
  /** Public key to register, read-only, on the tenant repository's Git host (repositories given by URL with a deploy key). */
  public readonly publicKey?: pulumi.Output<string>;
  /** The age recipient to encrypt the tenant's secrets to (tenants with sops). */
  public readonly ageRecipient?: pulumi.Output<string>;
  /** Its Receiver's webhook (tenants with a receiver), a secret. */
  public readonly webhook?: pulumi.Output<ReceiverWebhook>;

  constructor(name: string, args: TenantArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flux-multi-tenancy:index:Tenant", name, {}, opts);
    const { tenant } = args;
    const repo = tenant.repository;
    this.repositoryUrl = tenantSource(tenant).url;
    this.namespace = tenant.namespace;
    let waitAfter: pulumi.Resource[] = [args.tenantsReady];
    let sourceFirst: { source: string; hint: pulumi.Input<string> } | undefined;
    // Its goodbye, when it leaves the stack: deleted after its Secrets (which depend on it), it takes the namespace down in
    // the order that lets Flux finalize as the tenant's account (see components/providers/tenantGoodbye.ts).
    const goodbye = new TenantGoodbyeResource(
      `${name}-goodbye`,
      {
        kubeconfig: pulumi.secret(args.kubeconfig),
        clusterUid: args.clusterUid,
        tenantsKustomization: TENANTS_KUSTOMIZATION,
        tenant: tenant.name,
        namespace: tenant.namespace,
        // Only when it is not the tenant's name, so stacks written before tenantServiceAccount see no change.
        ...(args.serviceAccount && args.serviceAccount !== tenant.name ? { serviceAccount: args.serviceAccount } : {}),
        roleBinding: TENANT_ROLE_BINDING,
        timeoutSeconds: WAIT_SECONDS,
      },
      { parent: this, dependsOn: [args.tenantsReady] },
    );
    const inNamespace = (resource: string, secretName: string, stringData: pulumi.Input<Record<string, pulumi.Input<string>>>) =>
      new k8s.core.v1.Secret(
        `${name}-${resource}`,
        { metadata: { name: secretName, namespace: tenant.namespace }, type: "Opaque", stringData },
        { parent: this, provider: args.k8sProvider, dependsOn: [goodbye] },
      );
    // Its own SOPS key: the Kustomization decrypts with every key in the Secret (the one before a rotation too).
    const platformSecrets: pulumi.Resource[] = [];
    if (tenant.features.sops) {
      const age = new AgeKeyResource(`${name}-age`, { rotation: args.sopsKeyRotation ?? "" }, { parent: this });
      this.ageRecipient = age.recipient;
      platformSecrets.push(
        inNamespace(
          "sops-secret",
          TENANT_OBJECTS.sopsSecret,
          pulumi.secret(pulumi.all([age.identity, age.previousIdentity]).apply(([current, previous]) => sopsSecretData(current, previous))),
        ),
      );
    }
    if (tenant.features.notifications.type !== "none") {
      const caCert = tenant.features.notifications.caCert;
      const secret = pulumi.secret(pulumi.output(args.notificationSecret!));
      platformSecrets.push(
        inNamespace(
          "notifications-secret",
          TENANT_OBJECTS.notifications,
          secret.apply((s) => notificationSecretData(s, caCert)),
        ),
      );
    }
    let receiverToken: pulumi.Output<string> | undefined;
    if (tenant.features.receiver) {
      const token = new GeneratedTokenResource(`${name}-receiver-token`, { rotation: args.keyRotation ?? "" }, { parent: this });
      receiverToken = pulumi.secret(token.token);
      platformSecrets.push(inNamespace("receiver-secret", TENANT_OBJECTS.receiver, { token: receiverToken }));
    }
    const path = receiverToken?.apply((t) => receiverWebhookPath(t, TENANT_OBJECTS.receiver, tenant.namespace));

    if (repo.type === "github") {
      // The repository belongs to the tenant: removing the tenant or destroying the stack leaves it, and adding the
      // tenant again finds it (the program's own) instead of failing on a name that exists.
      const created = repo.create
        ? new GitHubRepositoryResource(
            `${name}-repo`,
            {
              owner: repo.owner,
              name: repo.name,
              visibility: "private",
              description: `Flux tenant ${tenant.name}`,
              token: pulumi.secret(args.token),
              apiUrl: args.github.apiUrl,
            },
            { parent: this },
          )
        : undefined;
      // Seeds a created repository once with a starter layout that reconciles (only while it holds nothing but GitHub's
      // first commit, never over a path that exists); checks access to an adopted one. Stacks from before the seed had
      // its own type keep their seed under the alias: no write, no replacement.
      const seed = new TenantSeedResource(
        `${name}-seed`,
        {
          owner: repo.owner,
          repository: created ? created.name : repo.name,
          branch: tenant.branch,
          files: !repo.create
            ? {}
            : this.ageRecipient
              ? this.ageRecipient.apply((r) => renderTenantStarter(tenant, { ageRecipient: r, serviceAccount: args.serviceAccount }))
              : renderTenantStarter(tenant, { serviceAccount: args.serviceAccount }),
          message: `flux-multi-tenancy: starter layout for ${tenant.name}`,
          token: pulumi.secret(args.token),
          apiUrl: args.github.apiUrl,
        },
        { parent: this, aliases: [{ type: "pulumi-nodejs:dynamic/flux-multi-tenancy:GitCommit" }] },
      );
      const key = new DeployKey(
        `${name}-flux`,
        {
          github: { owner: repo.owner, repository: created ? created.name : repo.name, token: args.token, apiUrl: args.github.apiUrl },
          title: `flux-${args.environment}-${tenant.name}`,
          rotation: args.keyRotation ?? "",
          knownHosts: args.knownHosts,
          dependsOn: [seed],
        },
        { parent: this },
      );
      // Flux creates the namespace (tenants/base/<tenant>/rbac.yaml); the Secret follows it.
      const secret = new k8s.core.v1.Secret(
        `${name}-git-secret`,
        { metadata: { name: tenantGitSecretName(tenant), namespace: tenant.namespace }, type: "Opaque", stringData: key.secretData },
        { parent: this, provider: args.k8sProvider, dependsOn: [goodbye] },
      );
      waitAfter = [secret];
      if (receiverToken && path && args.webhookBaseUrl) {
        // GitHub calls the Receiver on every push, signing with its token.
        new GitHubWebhookResource(
          `${name}-webhook`,
          {
            owner: repo.owner,
            repository: created ? created.name : repo.name,
            url: pulumi.interpolate`${args.webhookBaseUrl}${path}`,
            secret: receiverToken,
            token: pulumi.secret(args.token),
            apiUrl: args.github.apiUrl,
          },
          { parent: this, dependsOn: [seed] },
        );
      }
    } else if (repo.deployKey) {
      // Any Git host over SSH: the key was generated by the caller and is registered on the host by the user.
      const key = args.hostKey;
      if (!key) throw new Error(`tenant ${tenant.name}: no key for ${repo.url}`);
      const secret = new k8s.core.v1.Secret(
        `${name}-git-secret`,
        { metadata: { name: tenantGitSecretName(tenant), namespace: tenant.namespace }, type: "Opaque", stringData: key.secretData },
        { parent: this, provider: args.k8sProvider, dependsOn: [goodbye] },
      );
      this.publicKey = key.publicKey;
      // The source first, in the same wait: asked to fetch now, and stopping at once with the key to register if the host
      // refuses it; then the Kustomization.
      sourceFirst = {
        source: "gitrepositories.source.toolkit.fluxcd.io",
        hint: pulumi.interpolate`Register this public key, read-only, on its Git host, then run pulumi up again:\n  ${repo.url}: ${key.publicKey}`,
      };
      waitAfter = [secret];
    }

    new FluxReadyResource(
      `${name}-ready`,
      {
        kubeconfig: pulumi.secret(args.kubeconfig),
        resource: "kustomizations.kustomize.toolkit.fluxcd.io",
        namespace: tenant.namespace,
        name: tenant.name,
        revision: "",
        timeoutSeconds: WAIT_SECONDS,
        ...NO_CONTAINS_CHECK,
        hint: "",
        ...sourceFirst,
      },
      { parent: this, dependsOn: [...waitAfter, ...platformSecrets] },
    );
    if (receiverToken && path) {
      const registered = repo.type === "github" && Boolean(args.webhookBaseUrl);
      this.webhook = pulumi.secret(pulumi.all([receiverToken, path]).apply(([secret, p]) => ({ url: `${args.webhookBaseUrl ?? ""}${p}`, secret, registered })));
    }
    this.registerOutputs({ repositoryUrl: this.repositoryUrl, namespace: this.namespace, publicKey: this.publicKey, ageRecipient: this.ageRecipient });
  }
}
