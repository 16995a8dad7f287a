// The stack config's types: what parseConfig returns, and the values each enumerated key allows.

/** The project name; config keys are `flux-multi-tenancy:<key>`. */
export const PROJECT = "flux-multi-tenancy";

export const CLUSTER_PROVIDERS = ["kind", "existing", "eks", "gke", "aks"] as const;
export type ClusterProvider = (typeof CLUSTER_PROVIDERS)[number];

export const POLICY_ENGINES = ["kyverno", "vap", "none"] as const;
export type PolicyEngine = (typeof POLICY_ENGINES)[number];

/**
 * Where the native policies live in the fleet: `infrastructure` (infrastructure/admission-policies/, the original layout's
 * place) or `upstream-2026` (policies/base + policies/<env>, upstream's names since its 2026 move to admission policies).
 */
export const POLICY_LAYOUTS = ["infrastructure", "upstream-2026"] as const;
export type PolicyLayout = (typeof POLICY_LAYOUTS)[number];

export const VALIDATION_ACTIONS = ["Enforce", "Audit"] as const;
export type ValidationAction = (typeof VALIDATION_ACTIONS)[number];

export const VISIBILITIES = ["private", "internal", "public"] as const;
export type Visibility = (typeof VISIBILITIES)[number];

/** Where the fleet repository lives: GitHub (API and deploy keys), or any Git server over SSH. */
export const FLEET_PROVIDERS = ["github", "git"] as const;
export type FleetProvider = (typeof FLEET_PROVIDERS)[number];

export interface ClusterConfig {
  readonly provider: ClusterProvider;
  /** Cluster name; default: the environment name. */
  readonly name: string;
  readonly kind: {
    /** kind node image; default kindest/node:v1.36.1 (within what the pinned Flux supports). */
    readonly nodeImage: string;
    /** Worker nodes beside the control plane; default 1. */
    readonly workers: number;
  };
  /** EKS settings (provider eks); region is required. */
  readonly eks: EksSettings;
  /** GKE settings (provider gke); project and location are required. */
  readonly gke: GkeSettings;
  /** AKS settings (provider aks); location is required. */
  readonly aks: AksSettings;
}

export interface EksSettings {
  /** AWS region, e.g. eu-west-1. */
  readonly region: string;
  /** Kubernetes minor version, e.g. "1.34". */
  readonly version: string;
  /** Nodes of the managed node group; at least 1. */
  readonly nodeCount: number;
  readonly instanceType: string;
  /** VPC and its subnets; "" and [] use the account's default VPC. */
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
}

export interface GkeSettings {
  /** Google Cloud project ID. */
  readonly project: string;
  /** Region (regional cluster) or zone (zonal cluster), e.g. europe-west1. */
  readonly location: string;
  readonly version: string;
  /** Nodes of the node pool (per zone for a regional cluster); at least 1. */
  readonly nodeCount: number;
  readonly machineType: string;
  readonly network: string;
  /** "" uses the network's default subnetwork for the region. */
  readonly subnetwork: string;
}

export interface AksSettings {
  /** Azure location, e.g. westeurope. */
  readonly location: string;
  /** Existing resource group; "" creates <cluster name>-rg. */
  readonly resourceGroup: string;
  readonly version: string;
  /** Nodes of the system pool; at least 1. */
  readonly nodeCount: number;
  readonly vmSize: string;
}

export interface FluxConfig {
  /** Pinned Flux release, vX.Y.Z. */
  readonly version: string;
  readonly components: readonly string[];
  readonly componentsExtra: readonly string[];
  /** Cluster directory in the fleet repo, normalised without a leading `./`; default clusters/<environment>. */
  readonly path: string;
  /** Local install manifest for air-gapped use; "" downloads the release's install.yaml. */
  readonly manifests: string;
  /**
   * SHA-256 of the install manifest (hex): what it must be, for a release whose objects the program has no digests
   * pinned for (or with components it has none for); "" checks the manifest against the pinned digests.
   */
  readonly manifestsSha256: string;
  /** Value of `--default-service-account` on kustomize- and helm-controller. */
  readonly defaultServiceAccount: string;
  /**
   * Flux's workload-identity lockdown: cloud credentials only through the object's own service account,
   * defaulting to defaultServiceAccount (the ObjectLevelWorkloadIdentity feature gate and the default
   * service-account flags of the source, notification, image, kustomize and helm controllers).
   */
  readonly workloadIdentityLockdown: boolean;
}

export interface FleetConfig {
  readonly provider: FleetProvider;
  /** The SSH URL Flux clones: ssh://git@github.com/<owner>/<repository> on GitHub, as configured on a Git host. */
  readonly url: string;
  /** GitHub owner and repository name (provider github; "" for git). */
  readonly owner: string;
  readonly repository: string;
  readonly branch: string;
  readonly visibility: Visibility;
  /** false adopts an existing repository. */
  readonly create: boolean;
  /** A Flux Receiver for the fleet's GitRepository, so a push reaches Flux at once (on by default when the program creates the repository). */
  readonly receiver: boolean;
}

export interface PoliciesConfig {
  readonly engine: PolicyEngine;
  /** Git URL prefixes tenants may use as sources. */
  readonly allowedSourcePrefixes: readonly string[];
  /** What the source allowlist does with a violation. */
  readonly validationFailureAction: ValidationAction;
  /** Kyverno release pulled as an OCI artifact (engine kyverno). */
  readonly kyvernoVersion: string;
  /** Where the native policies live (engine vap). */
  readonly layout: PolicyLayout;
  /** No image automation objects (ImageRepository, ImagePolicy, ImageUpdateAutomation) in tenant namespaces (engine vap). */
  readonly denyImageAutomation: boolean;
}

/** Intervals and timeouts of the seeded Kustomizations (Flux duration strings, kept as written). */
export interface ReconcileConfig {
  readonly infrastructureInterval: string;
  readonly infrastructureTimeout: string;
  readonly policiesInterval: string;
  readonly tenantsInterval: string;
}

/** A tenant repository on GitHub that the program creates or adopts and gives a deploy key. */
export interface GitHubTenantRepository {
  readonly type: "github";
  readonly owner: string;
  readonly name: string;
  readonly create: boolean;
  /** The SSH URL Flux clones, on the configured GitHub host. */
  readonly url: string;
}

/** The GitHub every GitHub repository of the stack is on: github.com, or a GitHub Enterprise Server. */
export interface GitHubConfig {
  /** Web and SSH host name: github.com, or the server's (github.example.com). */
  readonly host: string;
  /** REST API URL: "" on github.com (api.github.com), else https://<host>/api/v3 unless given; GraphQL is beside it. */
  readonly apiUrl: string;
  /** Port of the host's SSH service, where Flux clones. */
  readonly sshPort: number;
}

/** Any Git URL: used as it is (e.g. a public HTTPS repository), or over SSH with a key the program generates. */
export interface UrlTenantRepository {
  readonly type: "url";
  readonly url: string;
  /** Flux clones with a generated SSH key (Secret <tenant>-git) whose public key the user registers on the host. */
  readonly deployKey: boolean;
}

export type TenantRepository = GitHubTenantRepository | UrlTenantRepository;

export interface TenantConfig {
  readonly name: string;
  readonly namespace: string;
  readonly repository: TenantRepository;
  readonly branch: string;
  /** Path inside the tenant repository, `./`-prefixed. */
  readonly path: string;
  /** What the platform gives the tenant beyond its namespace and sync: tenantDefaults, with the tenant's own fields over them. */
  readonly features: TenantFeaturesResolved;
}

/** A tenant's network policy: none, or deny by default (with allowNamespaces and allowCidrs let in). */
export const NETWORK_POLICY_MODES = ["none", "default-deny"] as const;

export const POD_SECURITY_LEVELS = ["restricted", "baseline", "privileged"] as const;
export type PodSecurityLevel = (typeof POD_SECURITY_LEVELS)[number];

/** Container resources by name (cpu, memory, ...), as Kubernetes quantities. */
export type ResourceList = Readonly<Record<string, string>>;

export const NOTIFICATION_TYPES = ["none", "slack", "msteams", "discord", "generic", "generic-hmac", "github"] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];
export const NOTIFICATION_EVENTS = ["errors", "all"] as const;

/** A Flux Provider and Alert for the tenant's own objects; the address and token are in notificationSecrets, never in Git. */
export interface NotificationsConfig {
  /** Flux Provider type; "none" for no notifications. */
  readonly type: NotificationType;
  /** `errors` (Flux's error severity) or `all` (info and error). */
  readonly events: (typeof NOTIFICATION_EVENTS)[number];
  /** Channel, for the types that take one (slack, discord); "" for the webhook's own. */
  readonly channel: string;
  /** PEM of the CA that signed the address's certificate, when it is not a public one; "" for the system's. */
  readonly caCert: string;
}

/** What the platform gives a tenant beyond its namespace and sync; its guardrails the tenant cannot lift. */
export interface TenantFeatures {
  /** Pod Security Admission level the namespace enforces (warn and audit at restricted). */
  readonly podSecurity: PodSecurityLevel;
  /** A ResourceQuota's spec.hard in Kubernetes' own names ({} for none), Flux object counts included. */
  readonly resourceQuota: ResourceList;
  /** A LimitRange for containers: defaults, default requests and maxima ({} each for none). */
  readonly limitRange: { readonly default: ResourceList; readonly defaultRequest: ResourceList; readonly max: ResourceList };
  /** `default-deny`: ingress from the namespace only; egress to it, to cluster DNS and to what is listed. */
  readonly networkPolicy: { readonly mode: "none" | "default-deny"; readonly allowNamespaces: readonly string[]; readonly allowCidrs: readonly string[] };
  /** A SOPS age key of the tenant's own (Secret sops-age), which its Kustomization decrypts with. */
  readonly sops: boolean;
  readonly notifications: NotificationsConfig;
  /** A Flux Receiver on the tenant's GitRepository: true, false, or "created" (on for repositories the program creates). */
  readonly receiver: boolean | "created";
}

/** A tenant's features as they apply to it: receiver decided for its repository. */
export type TenantFeaturesResolved = Omit<TenantFeatures, "receiver"> & { readonly receiver: boolean };

export interface StackConfig {
  readonly project: string;
  readonly stack: string;
  /** Environment directory name under clusters/ and tenants/; default: the stack name. */
  readonly environment: string;
  readonly cluster: ClusterConfig;
  readonly flux: FluxConfig;
  readonly github: GitHubConfig;
  readonly fleet: FleetConfig;
  readonly policies: PoliciesConfig;
  readonly reconcile: ReconcileConfig;
  readonly tenants: readonly TenantConfig[];
  /** Name of every tenant's reconciler ServiceAccount; "" gives each tenant an account named after it (see reconcilerAccount). */
  readonly tenantServiceAccount: string;
  /** known_hosts lines of the SSH Git hosts Flux clones from besides github.com (whose keys are built in). */
  readonly knownHosts: string;
  /** Change to rotate every deploy key and its Secret in one up. */
  readonly deployKeyRotation: string;
  /** Change to add a new SOPS age key to every tenant with sops, keeping the one before for decryption until the next change. */
  readonly sopsKeyRotation: string;
  /** https:// address where notification-controller's webhook receiver is reachable from the Git host; "" registers no webhooks. */
  readonly webhookBaseUrl: string;
}
