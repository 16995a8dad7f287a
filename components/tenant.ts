// One tenant: its repository (created once and seeded, or adopted), a read-only deploy key, the SSH Secret Flux clones with, the wait.
import * as github from "@pulumi/github";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { TenantConfig } from "../config";
import { tenantGitSecretName, tenantSource } from "../manifests/tenants";
import { renderTenantStarter } from "../manifests/tenantStarter";
import { DeployKey } from "./deployKey";
import { WAIT_SECONDS } from "./fluxBootstrap";
import { GitCommitResource } from "./providers/gitCommit";
import { FluxReadyResource } from "./providers/flux";

export interface TenantArgs {
  readonly tenant: TenantConfig;
  readonly environment: string;
  /** Secret kubeconfig, for the wait. */
  readonly kubeconfig: pulumi.Input<string>;
  readonly k8sProvider: k8s.Provider;
  /** The GitHub provider of the tenant repository's owner (GitHub repositories only). */
  readonly githubProvider?: github.Provider;
  /** The wait for `tenants`: the tenant namespace exists after it. */
  readonly tenantsReady: pulumi.Resource;
  readonly keyRotation?: pulumi.Input<string>;
  /** GitHub token for the seed commit; "" reads GITHUB_TOKEN. */
  readonly token: pulumi.Input<string>;
  /** known_hosts lines of Git hosts besides github.com, for the Secret of a repository on another host. */
  readonly knownHosts: string;
}

export class Tenant extends pulumi.ComponentResource {
  /** The URL Flux clones. */
  public readonly repositoryUrl: string;
  public readonly namespace: string;
  /** Public key to register, read-only, on the tenant repository's Git host (repositories given by URL with a deploy key). */
  public readonly publicKey?: pulumi.Output<string>;

  constructor(name: string, args: TenantArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flux-multi-tenancy:index:Tenant", name, {}, opts);
    const { tenant } = args;
    const repo = tenant.repository;
    this.repositoryUrl = tenantSource(tenant).url;
    this.namespace = tenant.namespace;
    let waitAfter: pulumi.Resource[] = [args.tenantsReady];

    if (repo.type === "github") {
      if (!args.githubProvider) throw new Error(`tenant ${tenant.name}: no GitHub provider for ${repo.owner}`);
      const created = repo.create
        ? new github.Repository(
            `${name}-repo`,
            { name: repo.name, visibility: "private", autoInit: true, description: `Flux tenant ${tenant.name}` },
            // The repository belongs to the tenant: removing the tenant or destroying the stack leaves it.
            { parent: this, provider: args.githubProvider, retainOnDelete: true },
          )
        : undefined;
      // Seeds a created repository once with a starter layout that reconciles; checks access to an adopted one.
      const seed = new GitCommitResource(
        `${name}-seed`,
        {
          owner: repo.owner,
          repository: created ? created.name : repo.name,
          branch: tenant.branch,
          files: repo.create ? renderTenantStarter(tenant) : {},
          mode: "seed",
          message: `flux-multi-tenancy: starter layout for ${tenant.name}`,
          overwriteShared: false,
          token: pulumi.secret(args.token),
          apiUrl: "",
        },
        { parent: this },
      );
      const key = new DeployKey(
        `${name}-flux`,
        {
          repository: created ? created.name : repo.name,
          title: `flux-${args.environment}-${tenant.name}`,
          rotation: args.keyRotation ?? "",
          dependsOn: [seed],
        },
        { parent: this, providers: [args.githubProvider] },
      );
      // Flux creates the namespace (tenants/base/<tenant>/rbac.yaml); the Secret follows it.
      const secret = new k8s.core.v1.Secret(
        `${name}-git-secret`,
        { metadata: { name: tenantGitSecretName(tenant), namespace: tenant.namespace }, type: "Opaque", stringData: key.secretData },
        { parent: this, provider: args.k8sProvider, dependsOn: [args.tenantsReady] },
      );
      waitAfter = [secret];
    } else if (repo.deployKey) {
      // Any Git host over SSH: the key is generated here and registered on the host by the user.
      const key = new DeployKey(
        `${name}-flux`,
        { title: `flux-${args.environment}-${tenant.name}`, rotation: args.keyRotation ?? "", knownHosts: args.knownHosts },
        { parent: this },
      );
      const secret = new k8s.core.v1.Secret(
        `${name}-git-secret`,
        { metadata: { name: tenantGitSecretName(tenant), namespace: tenant.namespace }, type: "Opaque", stringData: key.secretData },
        { parent: this, provider: args.k8sProvider, dependsOn: [args.tenantsReady] },
      );
      this.publicKey = key.publicKey;
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
        repository: "",
        token: "",
        apiUrl: "",
        gitUrl: "",
        sshKey: "",
        knownHosts: "",
      },
      { parent: this, dependsOn: waitAfter },
    );
    this.registerOutputs({ repositoryUrl: this.repositoryUrl, namespace: this.namespace, publicKey: this.publicKey });
  }
}
