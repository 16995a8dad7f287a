// What FluxFleet takes: the stack settings of the program (schema/stack-settings.schema.json) without the cluster, as
// plain interfaces Pulumi's component provider host can put into a package schema (maps are written inline: a named
// interface with an index signature would become an object type without properties). Each field is read by the same
// readers as the stack config (config/), with the same defaults and messages.
import * as pulumi from "@pulumi/pulumi";

/** Which Flux, and how it is installed (the stack key `flux`). */
export interface FluxSettings {
  /** The Flux release, e.g. v2.9.4 (default: the release this package pins). */
  version?: string;
  /** Flux's controllers to install (default: source, kustomize, helm and notification controllers). */
  components?: string[];
  /** Extra controllers: image-reflector-controller, image-automation-controller, source-watcher. */
  componentsExtra?: string[];
  /** A local install.yaml of that release to use instead of downloading it. */
  manifests?: string;
  /** Its sha256, when manifests is given. */
  manifestsSha256?: string;
  /** The account Flux impersonates for tenants' objects without one (default "default"). */
  defaultServiceAccount?: string;
  /** Flux's workload-identity lockdown flags (default false). */
  workloadIdentityLockdown?: boolean;
  /** The fleet path of this cluster (default clusters/<environment>). */
  path?: string;
}

/** The GitHub of the repositories (the stack key `github`): github.com or a GitHub Enterprise Server. */
export interface GitHubSettings {
  /** Default github.com. */
  host?: string;
  /** The REST API's URL (default: the host's). */
  apiUrl?: string;
  /** The host's SSH port (default 22). */
  sshPort?: number;
}

/** The fleet repository (the stack key `fleet`). */
export interface FleetSettings {
  /** github (default: repository and deploy key through the API) or git (any Git server over SSH; set url and fleetSshKey). */
  provider?: string;
  /** With provider git: the ssh:// URL of the repository. */
  url?: string;
  /** With provider github: the owner (user or organisation). */
  owner?: string;
  /** With provider github: the repository (default fleet-infra). */
  repository?: string;
  /** Default main. */
  branch?: string;
  /** private (default), internal or public, for a repository the program creates. */
  visibility?: string;
  /** Create the repository (default true) or adopt an existing one. */
  create?: boolean;
  /** Flux's Receiver for pushes to the fleet: "created" (default: on for a repository the program creates), "true" or "false". */
  receiver?: string;
}

/** The tenant policies (the stack key `policies`). */
export interface PolicySettings {
  /** kyverno (default), vap (native admission policies) or none. */
  engine?: string;
  /** URL prefixes tenants' sources may use (default: the tenants' own repositories). */
  allowedSourcePrefixes?: string[];
  /** Enforce (default) or Audit. */
  validationFailureAction?: string;
  /** The Kyverno release the policies are written for (default v1.14.4). */
  kyvernoVersion?: string;
  /** With engine vap: infrastructure (default) or upstream-2026. */
  layout?: string;
  /** Deny tenants image automation: "production" (default: in the production environment), "true" or "false". */
  denyImageAutomation?: string;
}

/** How often Flux reconciles the fleet's Kustomizations (the stack key `reconcile`), as Flux durations. */
export interface ReconcileSettings {
  infrastructureInterval?: string;
  infrastructureTimeout?: string;
  policiesInterval?: string;
  tenantsInterval?: string;
}

/** A tenant's repository: on GitHub (owner, name, create) or any Git server (url, deployKey); not both. */
export interface TenantRepositorySettings {
  /** GitHub owner (default: the fleet's owner). */
  owner?: string;
  /** GitHub repository (default: the tenant's name). */
  name?: string;
  /** Create and seed it (default true) or adopt it. */
  create?: boolean;
  /** The URL Flux clones (ssh:// or https://), for a repository not on the fleet's GitHub. */
  url?: string;
  /** With url: make a read-only key for it, to register on its host (output tenantPublicKeys). */
  deployKey?: boolean;
}

/** A tenant's LimitRange: default limits, default requests, maximums. */
export interface LimitRangeSettings {
  default?: { [key: string]: string };
  defaultRequest?: { [key: string]: string };
  max?: { [key: string]: string };
}

/** A tenant's NetworkPolicies. */
export interface NetworkPolicySettings {
  /** none (default) or default-deny. */
  mode?: string;
  /** With default-deny: namespaces it may still reach. */
  allowNamespaces?: string[];
  /** With default-deny: CIDRs it may still reach. */
  allowCidrs?: string[];
}

/** A tenant's Flux notifications. */
export interface NotificationSettings {
  /** none (default), slack, msteams, discord, generic, generic-hmac or github. */
  type?: string;
  /** errors (default) or all. */
  events?: string;
  channel?: string;
  /** PEM of the CA that signs the receiving server's certificate. */
  caCert?: string;
}

/** What a tenant gets beside its sync (the stack key `tenantDefaults`, and each tenant's own). */
export interface TenantFeatureSettings {
  /** restricted, baseline (default) or privileged. */
  podSecurity?: string;
  /** The namespace's ResourceQuota (hard), e.g. { "requests.cpu": "4" }. */
  resourceQuota?: { [key: string]: string };
  limitRange?: LimitRangeSettings;
  networkPolicy?: NetworkPolicySettings;
  /** Decrypt its SOPS-encrypted Secrets with an age key of its own (default false). */
  sops?: boolean;
  notifications?: NotificationSettings;
  /** Flux's Receiver for pushes to its repository: "created" (default), "true" or "false". */
  receiver?: string;
}

/** One tenant (an item of the stack key `tenants`). */
export interface TenantSettings extends TenantFeatureSettings {
  /** Its name (a DNS label). */
  name: string;
  /** Its namespace (default: its name). */
  namespace?: string;
  repository?: TenantRepositorySettings;
  /** Default main. */
  branch?: string;
  /** The path Flux reconciles in its repository (default ./<environment>). */
  path?: string;
}

/** A tenant's notifications Provider address and token. */
export interface NotificationSecretSettings {
  address?: string;
  token?: string;
}

/** The fleet on a cluster the caller made: everything the stack config of the program holds but the cluster. */
export interface FluxFleetArgs {
  /** kubeconfig of the cluster Flux goes on (kept secret). */
  kubeconfig: pulumi.Input<string>;
  /** The cluster's name, reported as clusterName and named in messages (default: the environment). */
  clusterName?: string;
  /** The directory of this environment under clusters/ and tenants/ in the fleet repository (default: the stack name). */
  environment?: string;
  flux?: FluxSettings;
  github?: GitHubSettings;
  fleet?: FleetSettings;
  policies?: PolicySettings;
  reconcile?: ReconcileSettings;
  tenants?: TenantSettings[];
  /** The account every tenant reconciles as (default: the tenant's name; "flux" as upstream since 2026). */
  tenantServiceAccount?: string;
  tenantDefaults?: TenantFeatureSettings;
  /** known_hosts lines of SSH hosts other than github.com. */
  knownHosts?: string;
  /** Change to rotate every deploy key and Receiver token. */
  deployKeyRotation?: string;
  /** Change to add a new SOPS age key per tenant (the one before kept for decryption). */
  sopsKeyRotation?: string;
  /** Where Flux's Receivers are reachable from the Git host; with GitHub, the program registers the webhooks. */
  webhookBaseUrl?: string;
  /** GitHub token for the repositories, keys and webhooks (default: the environment's GITHUB_TOKEN). */
  githubToken?: pulumi.Input<string>;
  /** With fleet provider git: the private key that pushes to the fleet repository. */
  fleetSshKey?: pulumi.Input<string>;
  /** Tenants' notification Provider addresses and tokens, per tenant name or tenantDefaults for every tenant without its own. */
  notificationSecrets?: pulumi.Input<{ [tenant: string]: NotificationSecretSettings }>;
}

/** A tenant as the fleet reports it. */
export interface TenantReport {
  /** The URL Flux clones. */
  repositoryUrl: string;
  namespace: string;
}

/** A Receiver's address and secret. */
export interface ReceiverWebhookReport {
  /** webhookBaseUrl and the Receiver's path, or the path alone without webhookBaseUrl. */
  url: string;
  secret: string;
  /** Whether the program registered it on the Git host. */
  registered: boolean;
}

/** Each Receiver's webhook: the fleet's and every tenant's. */
export interface ReceiverWebhooksReport {
  fleet?: ReceiverWebhookReport;
  tenants: { [tenant: string]: ReceiverWebhookReport };
}
