// The one reader of stack config: raw values in, a typed, validated, frozen StackConfig out.
import { X509Certificate } from "crypto";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { FLUX_COMPONENTS, FLUX_COMPONENTS_EXTRA, sourceAdmitted, STARTER_CHART_REPOSITORY } from "./manifests/labels";

export { FLUX_COMPONENTS, FLUX_COMPONENTS_EXTRA };

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

/** Without these two Flux cannot sync the fleet repository at all. */
const REQUIRED_COMPONENTS = ["source-controller", "kustomize-controller"];

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

/**
 * Defaults owned in one place. `Pulumi.yaml` declares the same values (a test keeps them equal);
 * values that depend on the stack (cluster.name, flux.path, tenant paths) are derived in parseConfig.
 */
export const DEFAULTS = {
  environment: "",
  cluster: {
    provider: "kind",
    kind: { nodeImage: "kindest/node:v1.36.1", workers: 1 },
    eks: { region: "", version: "1.34", nodeCount: 3, instanceType: "m6i.large", vpcId: "", subnetIds: [] as string[] },
    gke: { project: "", location: "", version: "1.34", nodeCount: 3, machineType: "e2-standard-4", network: "default", subnetwork: "" },
    aks: { location: "", resourceGroup: "", version: "1.34", nodeCount: 3, vmSize: "Standard_D4s_v5" },
  },
  flux: {
    version: "v2.9.4",
    components: [...FLUX_COMPONENTS],
    componentsExtra: [] as string[],
    manifests: "",
    manifestsSha256: "",
    defaultServiceAccount: "default",
    workloadIdentityLockdown: false,
  },
  github: { host: "github.com", apiUrl: "", sshPort: 22 },
  fleet: {
    provider: "github",
    url: "",
    owner: "",
    repository: "fleet-infra",
    branch: "main",
    visibility: "private",
    create: true,
    receiver: "created" as boolean | "created",
  },
  policies: {
    engine: "kyverno",
    allowedSourcePrefixes: [] as string[],
    validationFailureAction: "Enforce",
    kyvernoVersion: "v1.14.4",
    layout: "infrastructure",
    // "production": on in the environment named production, as upstream denies image automation there.
    denyImageAutomation: "production" as boolean | "production",
  },
  reconcile: {
    infrastructureInterval: "10m",
    infrastructureTimeout: "5m",
    policiesInterval: "5m",
    tenantsInterval: "5m",
  },
  tenants: [] as unknown[],
  tenantServiceAccount: "",
  tenantDefaults: {
    podSecurity: "baseline",
    resourceQuota: {} as Record<string, string>,
    limitRange: { default: {}, defaultRequest: {}, max: {} } as Record<string, Record<string, string>>,
    networkPolicy: { mode: "none", allowNamespaces: [] as string[], allowCidrs: [] as string[] },
    sops: false,
    notifications: { type: "none", events: "errors", channel: "", caCert: "" },
    receiver: "created" as boolean | "created",
  },
  knownHosts: "",
  deployKeyRotation: "",
  sopsKeyRotation: "",
  webhookBaseUrl: "",
  notificationSecrets: {} as Record<string, unknown>,
  kubeconfig: "",
  fleetSshKey: "",
} as const;

/** Set to "true" for the one `up` that may change shared fleet files another stack reads differently. */
export const OVERWRITE_SHARED_ENV = "FLUX_MULTI_TENANCY_OVERWRITE_SHARED_FILES";

/** Keys read only as secrets (never by render, never into StackConfig). */
export const SECRET_KEYS: readonly string[] = ["kubeconfig", "fleetSshKey", "notificationSecrets"];

/** Every top-level key the program reads. */
export const CONFIG_KEYS = Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[];

/** Thrown for bad input; `problems` holds one line per bad value. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join("\n"));
    this.name = "ConfigError";
  }
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_HINT = "use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit";
/** Flux's controllers' service accounts: a tenant given one would reconcile with the platform's rights. */
const FLUX_SERVICE_ACCOUNTS: readonly string[] = [...FLUX_COMPONENTS, ...FLUX_COMPONENTS_EXTRA];

/** Namespaces a tenant may not have: the platform's own, Kubernetes' (`kube-*`), and the policy engine's. */
function platformNamespace(namespace: string, engine: PolicyEngine): boolean {
  return namespace === "default" || namespace === "flux-system" || namespace.startsWith("kube-") || (engine === "kyverno" && namespace === "kyverno");
}
const FLUX_VERSION = /^v\d+\.\d+\.\d+$/;

/** The oldest Flux whose CRDs serve every API version the program renders. */
const MIN_FLUX_VERSION = {
  version: "v2.6.0",
  why: "OCIRepository as source.toolkit.fluxcd.io/v1 (the Kyverno source), beside GitRepository v1, Kustomization v1 and HelmRelease v2",
};

/** The oldest Flux whose helm-controller knows the ObjectLevelWorkloadIdentity gate (v2.6.0's did not). */
const MIN_WORKLOAD_IDENTITY_FLUX = "v2.7.0";

function olderThan(a: string, b: string): boolean {
  const [x, y] = [a, b].map((v) => v.replace(/^v/, "").split(".").map(Number));
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] < y[i];
  return false;
}
const FLUX_DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;
// GitHub owner (user or org) and repository names.
const GITHUB_OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$/;
const GITHUB_REPO = /^[A-Za-z0-9._-]{1,100}$/;
const GIT_REF = /^(?!\/|.*\/\/|.*\.\.|.*\.lock$|.*\/$)[^\s~^:?*[\\]+$/;
const GIT_URL = /^(https?|ssh):\/\/[^\s]+$/;

/**
 * The URL with its credentials masked, when it carries any: a user or token in an https:// or oci:// URL, a password
 * in an ssh:// URL (its user, such as git, is not a secret). Undefined for a URL without credentials.
 */
export function maskedCredentials(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const carries = u.protocol === "ssh:" ? u.password !== "" : u.username !== "" || u.password !== "";
  if (!carries) return undefined;
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, u.protocol === "ssh:" ? `$1${u.username}:***@` : "$1***@");
}

type Raw = Record<string, unknown>;

/** Collects problems while reading one stack's raw config. */
class Reader {
  readonly problems: string[] = [];

  constructor(readonly raw: Raw) {}

  fail(key: string, value: unknown, why: string, fix: string): void {
    const shown = value === undefined ? "(unset)" : JSON.stringify(value);
    this.problems.push(`${PROJECT}:${key}: ${shown} ${why}; ${fix}.`);
  }

  /**
   * Refuses a URL carrying credentials (they would be committed to the fleet repository in clear, and shown in
   * every diff), with its credentials masked in the message; true when it did.
   */
  credentials(key: string, value: unknown, fix: string): boolean {
    const masked = typeof value === "string" ? maskedCredentials(value) : undefined;
    if (masked === undefined) return false;
    this.fail(key, masked, "carries credentials in the URL, which would be committed to the fleet repository in clear", fix);
    return true;
  }

  /** The object at a top-level key, defaults merged per field; unknown fields are reported. */
  object<T extends object>(key: keyof typeof DEFAULTS & string, defaults: T): T {
    const value = this.raw[key];
    if (value === undefined || value === null) return defaults;
    if (!isPlainObject(value)) {
      this.fail(key, value, "is not an object", `set it as a YAML map (see Pulumi.yaml for its fields)`);
      return defaults;
    }
    this.unknownFields(key, value, Object.keys(defaults));
    return { ...defaults, ...value } as T;
  }

  unknownFields(key: string, value: Raw, known: readonly string[]): void {
    for (const field of Object.keys(value)) {
      if (!known.includes(field)) {
        this.fail(`${key}.${field}`, value[field], "is not a known field", `known fields are ${known.join(", ")}`);
      }
    }
  }

  string(key: string, value: unknown, allowEmpty = false): string {
    if (typeof value === "string" && (allowEmpty || value.trim() !== "")) return value.trim();
    this.fail(key, value, allowEmpty ? "is not a string" : "is empty or not a string", "set a non-empty string");
    return "";
  }

  boolean(key: string, value: unknown): boolean {
    if (typeof value === "boolean") return value;
    this.fail(key, value, "is not a boolean", "set true or false");
    return false;
  }

  oneOf<T extends string>(key: string, value: unknown, allowed: readonly T[]): T {
    if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
    this.fail(key, value, "is not supported", `use one of ${allowed.join(", ")}`);
    return allowed[0];
  }

  stringList(key: string, value: unknown): string[] {
    if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value as string[];
    this.fail(key, value, "is not a list of strings", "set a YAML list of strings");
    return [];
  }

  dns1123(key: string, value: unknown): string {
    const s = this.string(key, value);
    if (s !== "" && (!DNS1123_LABEL.test(s) || s.length > 63)) {
      this.fail(key, value, "is not a DNS-1123 label", DNS1123_HINT);
    }
    return s;
  }

  duration(key: string, value: unknown): string {
    const s = this.string(key, value);
    if (s !== "" && !FLUX_DURATION.test(s)) {
      this.fail(key, value, "is not a duration", 'use a Go duration such as "5m", "720m0s" or "1h30m"');
    }
    return s;
  }

  /**
   * A relative path inside a repository, normalised: `./x` when `leadingDot` (Flux
   * Kustomization style, `./` for the root), otherwise `x` ("" for the root).
   * Undefined when the value is unusable (already reported).
   */
  repoPath(key: string, value: unknown, leadingDot: boolean, fix: string): string | undefined {
    const s = this.string(key, value);
    if (s === "") return undefined;
    if (path.posix.isAbsolute(s) || /^[A-Za-z]:[\\/]/.test(s)) {
      this.fail(key, value, "is an absolute path", fix);
      return undefined;
    }
    const normal = path.posix.normalize(s.replace(/\\/g, "/")).replace(/\/+$/, "");
    if (normal === ".." || normal.startsWith("../")) {
      this.fail(key, value, "escapes the repository with '..'", fix);
      return undefined;
    }
    if (!leadingDot) return normal === "." ? "" : normal;
    return normal === "." ? "./" : `./${normal}`;
  }
}

function isPlainObject(v: unknown): v is Raw {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * Reads one stack's config. `raw` maps top-level keys (without the `flux-multi-tenancy:` prefix)
 * to their values as Pulumi would hand them over: the stack file's value if set, else the
 * project default. Throws ConfigError listing every problem; nothing else is read.
 */
export function parseConfig(raw: Raw, ctx: { stack: string; project?: string }): StackConfig {
  const r = new Reader(raw);
  for (const key of Object.keys(raw)) {
    if (key === "overwriteSharedFiles") {
      // Once set with -c, the CLI keeps it in the stack file and the guard would stay off for every later up.
      r.fail(
        key,
        raw[key],
        "is no longer a config key: kept in the stack file, it left the shared-file guard off for good",
        `remove it, and run the one up that should change shared files with ${OVERWRITE_SHARED_ENV}=true`,
      );
    } else if (!(CONFIG_KEYS as string[]).includes(key)) {
      r.fail(key, raw[key], "is not a config key of this program", `known keys are ${CONFIG_KEYS.join(", ")}`);
    }
  }

  const before = r.problems.length;
  const environment = readEnvironment(r, raw.environment ?? DEFAULTS.environment, ctx.stack);
  // Cluster name, cluster path and tenant paths derive from it: stop before they repeat its problem.
  if (r.problems.length > before) throw new ConfigError(r.problems);

  const cluster = readCluster(r, environment);
  const flux = readFlux(r, environment);
  const github = readGitHub(r);
  // "created" receivers are on only where Flux has notification-controller to run them.
  const notifier = flux.components.includes("notification-controller");
  const fleet = readFleet(r, github, notifier);
  const beforePolicies = r.problems.length;
  const policies = readPolicies(r, environment);
  const policiesValid = r.problems.length === beforePolicies;
  const reconcile = readReconcile(r);
  const tenants = readTenants(r, fleet, github, environment, policies.engine, notifier);
  const tenantServiceAccount = readTenantServiceAccount(r, raw.tenantServiceAccount ?? DEFAULTS.tenantServiceAccount);
  crossCheck(r, { flux, fleet, policies, tenants, policiesValid });
  const knownHosts = readKnownHosts(r, raw.knownHosts ?? DEFAULTS.knownHosts, fleet, github, tenants);
  // A date typed as 20261124 arrives as a number: any plain value rotates.
  const rotation = raw.deployKeyRotation ?? DEFAULTS.deployKeyRotation;
  const deployKeyRotation = r.string("deployKeyRotation", typeof rotation === "number" && Number.isFinite(rotation) ? String(rotation) : rotation, true);
  const sopsRotation = raw.sopsKeyRotation ?? DEFAULTS.sopsKeyRotation;
  const sopsKeyRotation = r.string(
    "sopsKeyRotation",
    typeof sopsRotation === "number" && Number.isFinite(sopsRotation) ? String(sopsRotation) : sopsRotation,
    true,
  );
  const webhookBaseUrl = readWebhookBaseUrl(r, raw.webhookBaseUrl ?? DEFAULTS.webhookBaseUrl);

  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return deepFreeze({
    project: ctx.project ?? PROJECT,
    stack: ctx.stack,
    environment,
    cluster,
    flux,
    github,
    fleet,
    policies,
    reconcile,
    tenants,
    tenantServiceAccount,
    knownHosts,
    deployKeyRotation,
    sopsKeyRotation,
    webhookBaseUrl,
  });
}

/** webhookBaseUrl: "" or an https:// URL (a path prefix allowed), kept without its trailing slash. */
function readWebhookBaseUrl(r: Reader, value: unknown): string {
  const s = r.string("webhookBaseUrl", value, true).replace(/\/+$/, "");
  if (s === "" || r.credentials("webhookBaseUrl", s, "remove them: the Receiver's path and its token authenticate the call")) return "";
  let u: URL | undefined;
  try {
    u = new URL(s);
  } catch {
    u = undefined;
  }
  if (!u || u.protocol !== "https:" || u.search !== "" || u.hash !== "") {
    r.fail(
      "webhookBaseUrl",
      value,
      "is not an https:// URL",
      'give the address where notification-controller\'s webhook-receiver Service is reachable from the Git host, e.g. "https://flux-webhook.example.com"',
    );
    return "";
  }
  return s;
}

function readEnvironment(r: Reader, value: unknown, stack: string): string {
  if (value !== "") {
    const env = r.dns1123("environment", value);
    if (env === "base") {
      r.fail("environment", env, "collides with the shared tenants/base directory", "choose another environment name");
    }
    return env;
  }
  if (!DNS1123_LABEL.test(stack) || stack.length > 63 || stack === "base") {
    r.fail(
      "environment",
      stack,
      "(the stack name, used as environment) is not a usable directory name",
      `set ${PROJECT}:environment explicitly; ${DNS1123_HINT}, and not "base"`,
    );
  }
  return stack;
}

/** Fields of a per-provider settings object, defaults merged; unknown fields reported. */
function settings(r: Reader, key: string, value: unknown, defaults: object): Raw {
  if (value === undefined || value === null) return { ...defaults };
  if (!isPlainObject(value)) {
    r.fail(key, value, "is not an object", `set it as a YAML map of ${Object.keys(defaults).join(", ")}`);
    return { ...defaults };
  }
  r.unknownFields(key, value, Object.keys(defaults));
  return { ...defaults, ...value };
}

const AWS_REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$/;
const GCP_LOCATION = /^[a-z]+-[a-z]+\d+(-[a-z])?$/;
const GCP_PROJECT = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const AZURE_LOCATION = /^[a-z][a-z0-9]+$/;
const K8S_MINOR = /^\d+\.\d+(\.\d+)?$/;

/** A required setting of the chosen cloud: missing and malformed each get their own message. */
function required(r: Reader, key: string, value: unknown, provider: string, pattern: RegExp, what: string, example: string): string {
  const s = typeof value === "string" ? value.trim() : "";
  if (s === "") {
    r.fail(key, value, `is required for cluster.provider ${provider}`, `set ${what}: pulumi config set --path ${PROJECT}:${key} ${example}`);
  } else if (!pattern.test(s)) {
    r.fail(key, value, `is not ${what}`, `use e.g. "${example}"`);
  }
  return s;
}

function nodeCount(r: Reader, key: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    r.fail(key, value, "is not a node count", "set a whole number, 1 or more");
    return 1;
  }
  return value;
}

function k8sVersion(r: Reader, key: string, value: unknown): string {
  const s = r.string(key, value);
  if (s !== "" && !K8S_MINOR.test(s)) r.fail(key, value, "is not a Kubernetes version", 'use a minor version such as "1.34"');
  return s;
}

function readEks(r: Reader, e: Raw): EksSettings {
  const eks: EksSettings = {
    region: required(r, "cluster.eks.region", e.region, "eks", AWS_REGION, "an AWS region", "eu-west-1"),
    version: k8sVersion(r, "cluster.eks.version", e.version),
    nodeCount: nodeCount(r, "cluster.eks.nodeCount", e.nodeCount),
    instanceType: r.string("cluster.eks.instanceType", e.instanceType),
    vpcId: r.string("cluster.eks.vpcId", e.vpcId, true),
    subnetIds: r.stringList("cluster.eks.subnetIds", e.subnetIds),
  };
  if ((eks.vpcId === "") !== (eks.subnetIds.length === 0)) {
    r.fail(
      "cluster.eks.subnetIds",
      e.subnetIds,
      "must be given together with cluster.eks.vpcId",
      "set both (a VPC and its subnets), or neither for the default VPC",
    );
  }
  return eks;
}

function readGke(r: Reader, g: Raw): GkeSettings {
  return {
    project: required(r, "cluster.gke.project", g.project, "gke", GCP_PROJECT, "a Google Cloud project ID", "my-project-123"),
    location: required(r, "cluster.gke.location", g.location, "gke", GCP_LOCATION, "a Google Cloud region or zone", "europe-west1"),
    version: k8sVersion(r, "cluster.gke.version", g.version),
    nodeCount: nodeCount(r, "cluster.gke.nodeCount", g.nodeCount),
    machineType: r.string("cluster.gke.machineType", g.machineType),
    network: r.string("cluster.gke.network", g.network),
    subnetwork: r.string("cluster.gke.subnetwork", g.subnetwork, true),
  };
}

function readAks(r: Reader, a: Raw): AksSettings {
  return {
    location: required(r, "cluster.aks.location", a.location, "aks", AZURE_LOCATION, "an Azure location", "westeurope"),
    resourceGroup: r.string("cluster.aks.resourceGroup", a.resourceGroup, true),
    version: k8sVersion(r, "cluster.aks.version", a.version),
    nodeCount: nodeCount(r, "cluster.aks.nodeCount", a.nodeCount),
    vmSize: r.string("cluster.aks.vmSize", a.vmSize),
  };
}

function readCluster(r: Reader, environment: string): ClusterConfig {
  const d = DEFAULTS.cluster;
  const c = r.object("cluster", { provider: d.provider, name: environment, kind: d.kind, eks: d.eks, gke: d.gke, aks: d.aks } as Raw);
  const provider = r.oneOf("cluster.provider", c.provider, CLUSTER_PROVIDERS);
  const name = r.dns1123("cluster.name", c.name);
  const kindRaw = settings(r, "cluster.kind", c.kind, d.kind);
  const nodeImage = r.string("cluster.kind.nodeImage", kindRaw.nodeImage);
  const workers = kindRaw.workers;
  if (typeof workers !== "number" || !Number.isInteger(workers) || workers < 0) {
    r.fail("cluster.kind.workers", workers, "is not a whole number of worker nodes", "set 0 or more");
  }
  const eksRaw = settings(r, "cluster.eks", c.eks, d.eks);
  const gkeRaw = settings(r, "cluster.gke", c.gke, d.gke);
  const aksRaw = settings(r, "cluster.aks", c.aks, d.aks);
  // Only the chosen cloud's settings must be complete; the others are carried as given.
  const eks = provider === "eks" ? readEks(r, eksRaw) : (eksRaw as unknown as EksSettings);
  const gke = provider === "gke" ? readGke(r, gkeRaw) : (gkeRaw as unknown as GkeSettings);
  const aks = provider === "aks" ? readAks(r, aksRaw) : (aksRaw as unknown as AksSettings);
  return { provider, name, kind: { nodeImage, workers: typeof workers === "number" ? workers : 0 }, eks, gke, aks };
}

function readFlux(r: Reader, environment: string): FluxConfig {
  const f = r.object("flux", { ...DEFAULTS.flux, path: `clusters/${environment}` } as Raw);
  const version = r.string("flux.version", f.version);
  if (version !== "" && !FLUX_VERSION.test(version)) {
    r.fail("flux.version", f.version, "is not a pinned Flux release", 'use the form vX.Y.Z, e.g. "v2.9.4" ("latest" is never resolved)');
  } else if (version !== "" && olderThan(version, MIN_FLUX_VERSION.version)) {
    r.fail(
      "flux.version",
      f.version,
      `is older than ${MIN_FLUX_VERSION.version}, the first release serving ${MIN_FLUX_VERSION.why}`,
      `use ${MIN_FLUX_VERSION.version} or later`,
    );
  }
  const components = r.stringList("flux.components", f.components);
  for (const [i, c] of components.entries()) {
    if (!(FLUX_COMPONENTS as readonly string[]).includes(c)) {
      const hint = (FLUX_COMPONENTS_EXTRA as readonly string[]).includes(c)
        ? `${c} is optional: list it under flux.componentsExtra`
        : `use some of ${FLUX_COMPONENTS.join(", ")}`;
      r.fail(`flux.components[${i}]`, c, "is not a Flux component", hint);
    }
  }
  for (const needed of REQUIRED_COMPONENTS) {
    if (Array.isArray(f.components) && !components.includes(needed)) {
      r.fail("flux.components", f.components, `lacks ${needed}`, `add ${needed}: the fleet cannot sync without it`);
    }
  }
  const componentsExtra = r.stringList("flux.componentsExtra", f.componentsExtra);
  for (const [i, c] of componentsExtra.entries()) {
    if (!(FLUX_COMPONENTS_EXTRA as readonly string[]).includes(c)) {
      r.fail(`flux.componentsExtra[${i}]`, c, "is not an optional Flux component", `use some of ${FLUX_COMPONENTS_EXTRA.join(", ")}`);
    }
  }
  const all = [...components, ...componentsExtra];
  const dup = all.find((c, i) => all.indexOf(c) !== i);
  if (dup) r.fail("flux.components", dup, "is listed twice", "list each component once");

  const fix = `use a directory inside the fleet repository, e.g. "clusters/${environment}"`;
  const fluxPath = r.repoPath("flux.path", f.path, false, fix);
  if (fluxPath === "") {
    r.fail("flux.path", f.path, "is the repository root", fix);
  } else if (fluxPath !== undefined && !/^clusters\/./.test(fluxPath)) {
    // The plan finds a stack's files, and other stacks' references to shared ones, under clusters/ only.
    r.fail("flux.path", f.path, "is not under clusters/, where the shared-file rule and destroy look for a stack's files", fix);
  }
  const manifests = r.string("flux.manifests", f.manifests, true);
  const manifestsSha256 = r.string("flux.manifestsSha256", f.manifestsSha256, true).toLowerCase();
  if (manifestsSha256 !== "" && !/^[0-9a-f]{64}$/.test(manifestsSha256)) {
    r.fail(
      "flux.manifestsSha256",
      f.manifestsSha256,
      "is not a SHA-256 digest",
      'give the 64 hex digits of the install manifest\'s SHA-256 (sha256sum install.yaml), or ""',
    );
  }
  const defaultServiceAccount = r.dns1123("flux.defaultServiceAccount", f.defaultServiceAccount);
  const workloadIdentityLockdown = r.boolean("flux.workloadIdentityLockdown", f.workloadIdentityLockdown);
  if (workloadIdentityLockdown && FLUX_VERSION.test(version) && olderThan(version, MIN_WORKLOAD_IDENTITY_FLUX)) {
    r.fail(
      "flux.workloadIdentityLockdown",
      true,
      `needs Flux ${MIN_WORKLOAD_IDENTITY_FLUX} or later (flux.version is ${version}, whose controllers would refuse the lockdown's flags and not start)`,
      `set flux.version to ${MIN_WORKLOAD_IDENTITY_FLUX} or later, or leave the lockdown off`,
    );
  }
  return { version, components, componentsExtra, path: fluxPath ?? "", manifests, manifestsSha256, defaultServiceAccount, workloadIdentityLockdown };
}

/** The SSH URL Flux clones a GitHub repository with (the deploy key authenticates it), on the configured host ("" while the host is refused). */
export function githubSshUrl(github: Pick<GitHubConfig, "host" | "sshPort">, owner: string, repository: string): string {
  if (!HOST_NAME.test(github.host)) return "";
  return `ssh://git@${github.host}${github.sshPort === 22 ? "" : `:${github.sshPort}`}/${owner}/${repository}`;
}

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

function readGitHub(r: Reader): GitHubConfig {
  const g = r.object("github", { ...DEFAULTS.github } as Raw);
  const host = r.string("github.host", g.host).toLowerCase();
  if (host !== "" && !HOST_NAME.test(host)) {
    r.fail("github.host", g.host, "is not a host name", 'give the GitHub host alone, e.g. "github.example.com" (no scheme, port or path)');
  }
  const onGitHubCom = host === "github.com";
  let apiUrl = r.string("github.apiUrl", g.apiUrl, true).replace(/\/+$/, "");
  if (onGitHubCom && (apiUrl === "https://api.github.com" || apiUrl === "")) {
    apiUrl = ""; // api.github.com, as every stack before this key
  } else if (apiUrl === "") {
    apiUrl = `https://${host}/api/v3`;
  } else if (!r.credentials("github.apiUrl", apiUrl, "remove them: the program reads the token from github:token or GITHUB_TOKEN")) {
    let u: URL | undefined;
    try {
      u = new URL(apiUrl);
    } catch {
      u = undefined;
    }
    if (!u || u.protocol !== "https:") {
      r.fail(
        "github.apiUrl",
        g.apiUrl,
        "is not an https:// URL, so the token would cross the network in clear",
        `give the server's REST API URL, e.g. "https://${onGitHubCom ? "api.github.com" : `${host || "github.example.com"}/api/v3`}"`,
      );
    }
  }
  const sshPort = typeof g.sshPort === "number" && Number.isInteger(g.sshPort) && g.sshPort >= 1 && g.sshPort <= 65535 ? g.sshPort : 22;
  if (sshPort !== g.sshPort)
    r.fail("github.sshPort", g.sshPort, "is not a TCP port", "give the port of the host's SSH service (22 unless its admins moved it)");
  return { host, apiUrl, sshPort };
}

function readFleet(r: Reader, github: GitHubConfig, notifier: boolean): FleetConfig {
  const given = r.raw.fleet;
  const f = r.object("fleet", { ...DEFAULTS.fleet } as Raw);
  const provider = r.oneOf("fleet.provider", f.provider, FLEET_PROVIDERS);
  const branch = gitBranch(r, "fleet.branch", f.branch);
  if (provider === "git") {
    // The URL names the repository; GitHub's fields would be silently ignored, so they are refused.
    for (const field of ["owner", "repository", "visibility", "create"]) {
      if (isPlainObject(given) && field in given) {
        r.fail(`fleet.${field}`, given[field], "is a GitHub setting, unused with fleet.provider git", "remove it: fleet.url names the repository");
      }
    }
    const url = sshUrl(
      r,
      "fleet.url",
      f.url,
      'the fleet repository\'s SSH URL, e.g. "ssh://git@git.example.com/platform/fleet.git"',
      "remove the password: the program pushes with the key in flux-multi-tenancy:fleetSshKey (pulumi config set --secret)",
    );
    const receiver = receiverSetting(r, "fleet.receiver", f.receiver);
    return { provider, url, owner: "", repository: "", branch, visibility: "private", create: false, receiver: receiver === true };
  }
  if (typeof f.url === "string" && f.url.trim() !== "") {
    r.fail("fleet.url", f.url, "is for fleet.provider git", "remove it (owner and repository name a GitHub repository), or set fleet.provider: git");
  }
  const owner = typeof f.owner === "string" ? f.owner.trim() : "";
  if (owner === "") {
    r.fail(
      "fleet.owner",
      f.owner,
      "is missing",
      `set the GitHub user or organisation that owns the fleet repository: pulumi config set --path ${PROJECT}:fleet.owner my-org`,
    );
  } else if (!GITHUB_OWNER.test(owner)) {
    r.fail("fleet.owner", f.owner, "is not a GitHub user or organisation name", "use letters, digits and single '-'");
  }
  const repository = r.string("fleet.repository", f.repository);
  if (repository !== "" && !GITHUB_REPO.test(repository)) {
    r.fail("fleet.repository", f.repository, "is not a GitHub repository name", "use letters, digits, '.', '_' and '-'");
  }
  const visibility = r.oneOf("fleet.visibility", f.visibility, VISIBILITIES);
  const create = r.boolean("fleet.create", f.create);
  const receiver = receiverSetting(r, "fleet.receiver", f.receiver);
  return {
    provider,
    url: githubSshUrl(github, owner, repository),
    owner,
    repository,
    branch,
    visibility,
    create,
    receiver: receiver === "created" ? create && notifier : receiver,
  };
}

/** A receiver setting: true, false, or "created" (on for a repository the program creates). */
function receiverSetting(r: Reader, key: string, value: unknown): boolean | "created" {
  if (value === true || value === false || value === "created") return value;
  r.fail(key, value, "is not a receiver setting", 'set true, false, or "created" (on for a repository the program creates)');
  return false;
}

/** An ssh:// URL naming a repository on a host: what Flux clones with an SSH key. */
function sshUrl(r: Reader, key: string, value: unknown, what: string, credentialsFix: string): string {
  const s = r.string(key, value);
  if (s === "" || r.credentials(key, value, credentialsFix)) return "";
  let u: URL | undefined;
  try {
    u = new URL(s);
  } catch {
    u = undefined;
  }
  if (!u || u.protocol !== "ssh:" || u.hostname === "" || u.pathname.replace(/\/+$/, "") === "" || /\s/.test(s)) {
    r.fail(key, value, "is not an ssh:// URL of a repository", `set ${what}`);
  }
  return s;
}

/** The known_hosts name of an ssh:// URL's host: `host`, or `[host]:port` off port 22. */
export function knownHostsName(url: string): string {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  return u.port && u.port !== "22" ? `[${host}]:${u.port}` : host;
}

const KNOWN_HOSTS_LINE = /^(@\S+\s+)?(\S+)\s+(ssh-|ecdsa-|sk-)\S+\s+[A-Za-z0-9+/=]+(\s.*)?$/;

/** known_hosts for the SSH hosts other than github.com: well formed, with a line for every such host Flux clones from. */
function readKnownHosts(r: Reader, value: unknown, fleet: FleetConfig, github: GitHubConfig, tenants: readonly TenantConfig[]): string {
  const text = r.string("knownHosts", value, true);
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  const names = new Set<string>();
  let hashed = false;
  lines.forEach((line, i) => {
    const m = KNOWN_HOSTS_LINE.exec(line);
    if (!m) {
      r.fail(`knownHosts`, line, `(line ${i + 1}) is not a known_hosts line`, 'use "<host> <key type> <base64 key>" lines, as ssh-keyscan prints them');
      return;
    }
    if (m[2].startsWith("|1|")) hashed = true;
    for (const n of m[2].split(",")) names.add(n);
  });
  const needed: [string, string][] = [];
  // A URL already refused is not reported again here.
  if (fleet.provider === "git" && fleet.url.startsWith("ssh://")) needed.push(["fleet.url", fleet.url]);
  tenants.forEach((t, i) => {
    if (t.repository.type === "url" && t.repository.deployKey && t.repository.url.startsWith("ssh://"))
      needed.push([`tenants[${i}].repository.url`, t.repository.url]);
  });
  // A GitHub Enterprise Server's host keys are its own: only github.com's are built in.
  const onGitHub = fleet.provider === "github" || tenants.some((t) => t.repository.type === "github");
  if (onGitHub && github.host !== "github.com" && HOST_NAME.test(github.host)) needed.push(["github.host", githubSshUrl(github, "o", "r")]);
  // Hashed names cannot be matched without the host key; Flux reports a mismatch at its first clone.
  if (hashed) return lines.join("\n") + (lines.length > 0 ? "\n" : "");
  for (const [key, url] of needed) {
    let name: string;
    try {
      name = knownHostsName(url);
    } catch {
      continue; // the URL itself is reported
    }
    if (name === "github.com" || names.has(name)) continue;
    r.fail(
      "knownHosts",
      text === "" ? undefined : `${lines.length} line(s)`,
      `has no line for ${name} (the host of ${key})`,
      `add that host's public key line, checked out of band (e.g. ssh-keyscan${name.startsWith("[") ? ` -p ${name.split(":").pop()}` : ""} ${name.replace(/^\[(.*)\]:\d+$/, "$1")} on a trusted network, compared with the host's published fingerprint)`,
    );
  }
  return lines.join("\n") + (lines.length > 0 ? "\n" : "");
}

function gitBranch(r: Reader, key: string, value: unknown): string {
  const s = r.string(key, value);
  if (s !== "" && !GIT_REF.test(s)) r.fail(key, value, "is not a valid Git branch name", 'use a name such as "main"');
  return s;
}

/** The reconciler account's name for every tenant, or "" for one named after each tenant. */
function readTenantServiceAccount(r: Reader, value: unknown): string {
  if (value === "") return "";
  const name = r.dns1123("tenantServiceAccount", value);
  if (name === "default") {
    r.fail(
      "tenantServiceAccount",
      value,
      "is the account every Pod runs as when it names none, so no tenant Pod could start (Pods may not run as the reconciler)",
      'use a name of its own, e.g. "flux" (upstream\'s since 2026), or "" for an account named after each tenant',
    );
  }
  return name;
}

/** The ServiceAccount a tenant's Kustomization reconciles as: tenantServiceAccount, else the tenant's name. */
export function reconcilerAccount(config: Pick<StackConfig, "tenantServiceAccount">, tenant: Pick<TenantConfig, "name">): string {
  return config.tenantServiceAccount || tenant.name;
}

function readPolicies(r: Reader, environment: string): PoliciesConfig {
  const p = r.object("policies", { ...DEFAULTS.policies } as Raw);
  const engine = r.oneOf("policies.engine", p.engine, POLICY_ENGINES);
  const allowedSourcePrefixes = r.stringList("policies.allowedSourcePrefixes", p.allowedSourcePrefixes);
  for (const [i, prefix] of allowedSourcePrefixes.entries()) {
    const key = `policies.allowedSourcePrefixes[${i}]`;
    if (
      r.credentials(
        key,
        prefix,
        "remove them: a prefix is matched against tenant sources' URLs, which carry no credentials (a source's credentials go in the Secret its spec.secretRef names)",
      )
    ) {
      continue;
    }
    if (!GIT_URL.test(prefix) && !/^[\w.-]+@[\w.-]+:/.test(prefix) && !/^oci:\/\/\S+$/.test(prefix)) {
      r.fail(
        key,
        prefix,
        "is not a source URL prefix",
        'use e.g. "https://github.com/my-org/", "ssh://git@github.com/my-org/" or, for OCI artifacts and images, "oci://ghcr.io/my-org/"',
      );
    } else if (prefix.startsWith("http://")) {
      r.fail(key, prefix, "admits plain http://, which anyone on the way can read and change", "use an https:// or ssh:// prefix");
    } else if (!prefix.endsWith("/") && !prefix.endsWith(":")) {
      r.fail(key, prefix, `does not end at a path boundary, so it also admits e.g. "${prefix}-evil"`, `end it with "/": "${prefix}/"`);
    }
  }
  if (engine !== "none" && Array.isArray(p.allowedSourcePrefixes) && allowedSourcePrefixes.length === 0) {
    r.fail(
      "policies.allowedSourcePrefixes",
      p.allowedSourcePrefixes,
      "is empty, so the source allowlist would refuse every tenant",
      'list the URL prefixes tenants may sync from, e.g. ["https://github.com/my-org/", "ssh://git@github.com/my-org/"]',
    );
  }
  const validationFailureAction = r.oneOf("policies.validationFailureAction", p.validationFailureAction, VALIDATION_ACTIONS);
  const kyvernoVersion = r.string("policies.kyvernoVersion", p.kyvernoVersion);
  if (kyvernoVersion !== "" && !FLUX_VERSION.test(kyvernoVersion)) {
    r.fail("policies.kyvernoVersion", p.kyvernoVersion, "is not a pinned Kyverno release", 'use the form vX.Y.Z, e.g. "v1.14.4"');
  }
  const layout = r.oneOf("policies.layout", p.layout, POLICY_LAYOUTS);
  if (layout === "upstream-2026" && engine !== "vap") {
    r.fail(
      "policies.layout",
      p.layout,
      `is the layout of native admission policies, and policies.engine is ${engine}`,
      'set policies.engine to "vap" with it, or leave policies.layout "infrastructure"',
    );
  }
  const deny = p.denyImageAutomation;
  let denyImageAutomation = false;
  if (deny === "production") denyImageAutomation = engine === "vap" && environment === "production";
  else if (typeof deny !== "boolean") {
    r.fail("policies.denyImageAutomation", deny, "is not a setting of it", 'set true, false, or "production" (on in the production environment, as upstream)');
  } else if (deny && engine !== "vap") {
    r.fail(
      "policies.denyImageAutomation",
      deny,
      `is a native admission policy, and policies.engine is ${engine}`,
      'set policies.engine to "vap" with it, or leave it "production" (on in the production environment with engine vap)',
    );
  } else denyImageAutomation = deny;
  return { engine, allowedSourcePrefixes, validationFailureAction, kyvernoVersion, layout, denyImageAutomation };
}

function readReconcile(r: Reader): ReconcileConfig {
  const c = r.object("reconcile", { ...DEFAULTS.reconcile } as Raw);
  return {
    infrastructureInterval: r.duration("reconcile.infrastructureInterval", c.infrastructureInterval),
    infrastructureTimeout: r.duration("reconcile.infrastructureTimeout", c.infrastructureTimeout),
    policiesInterval: r.duration("reconcile.policiesInterval", c.policiesInterval),
    tenantsInterval: r.duration("reconcile.tenantsInterval", c.tenantsInterval),
  };
}

const FEATURE_FIELDS = Object.keys(DEFAULTS.tenantDefaults);
const TENANT_FIELDS = ["name", "namespace", "repository", "branch", "path", ...FEATURE_FIELDS];

/** A Kubernetes resource quantity (1, 500m, 1.5Gi, 2e3, ...). */
const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)(([KMGTPE]i)|[mkMGTPE]|[eE][+-]?\d+)?$/;
/** A ResourceQuota key: a compute resource (requests.cpu, limits.memory, pods, ...) or an object count (count/<resource>[.<group>]). */
const QUOTA_KEY = /^((requests|limits)\.[a-z0-9.-]+(\/[a-z0-9.-]+)?|[a-z0-9.-]+(\/[a-z0-9.-]+)?|count\/[a-z0-9.-]+)$/;
const CIDR = /^(\d{1,3}(\.\d{1,3}){3}\/(\d|[12]\d|3[0-2])|[0-9a-fA-F:]+\/\d{1,3})$/;

/** A map of Kubernetes quantities at `key`, each value a quantity (numbers become strings). */
function quantities(r: Reader, key: string, value: unknown, keys: RegExp, what: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) {
    r.fail(key, value, "is not a map", `set ${what} as a map of names to quantities, e.g. { cpu: 500m, memory: 512Mi }`);
    return {};
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    const q = typeof v === "number" ? String(v) : v;
    if (!keys.test(k))
      r.fail(
        `${key}.${k}`,
        v,
        `is not ${what}'s name`,
        "use Kubernetes' own names, e.g. requests.cpu, limits.memory, pods, count/kustomizations.kustomize.toolkit.fluxcd.io",
      );
    else if (typeof q !== "string" || !QUANTITY.test(q)) r.fail(`${key}.${k}`, v, "is not a Kubernetes quantity", 'use e.g. "500m", "2", "512Mi"');
    else out[k] = q;
  }
  return out;
}

/** The tenant's features: `given` (its tenants[] entry, or tenantDefaults) field by field over `base`. */
function readFeatures(r: Reader, key: string, given: Raw, base: TenantFeatures): TenantFeatures {
  const podSecurity = given.podSecurity === undefined ? base.podSecurity : r.oneOf(`${key}.podSecurity`, given.podSecurity, POD_SECURITY_LEVELS);
  const resourceQuota =
    given.resourceQuota === undefined ? base.resourceQuota : quantities(r, `${key}.resourceQuota`, given.resourceQuota, QUOTA_KEY, "a ResourceQuota resource");
  let limitRange = base.limitRange;
  if (given.limitRange !== undefined) {
    const l = isPlainObject(given.limitRange) ? given.limitRange : {};
    if (!isPlainObject(given.limitRange))
      r.fail(`${key}.limitRange`, given.limitRange, "is not a map", "set { default, defaultRequest, max }, each a map of resources to quantities");
    r.unknownFields(`${key}.limitRange`, l, ["default", "defaultRequest", "max"]);
    const resource = /^[a-z0-9.-]+(\/[a-z0-9.-]+)?$/;
    limitRange = {
      default: quantities(r, `${key}.limitRange.default`, l.default, resource, "a container resource"),
      defaultRequest: quantities(r, `${key}.limitRange.defaultRequest`, l.defaultRequest, resource, "a container resource"),
      max: quantities(r, `${key}.limitRange.max`, l.max, resource, "a container resource"),
    };
  }
  let networkPolicy = base.networkPolicy;
  if (given.networkPolicy !== undefined) {
    // "default-deny" or "none" alone, or the whole object.
    const n = typeof given.networkPolicy === "string" ? { mode: given.networkPolicy } : isPlainObject(given.networkPolicy) ? given.networkPolicy : undefined;
    if (!n) {
      r.fail(
        `${key}.networkPolicy`,
        given.networkPolicy,
        "is neither a mode nor a map",
        'set "default-deny", "none", or { mode: default-deny, allowNamespaces: [...], allowCidrs: [...] }',
      );
    } else {
      r.unknownFields(`${key}.networkPolicy`, n, ["mode", "allowNamespaces", "allowCidrs"]);
      const mode = r.oneOf(`${key}.networkPolicy${typeof given.networkPolicy === "string" ? "" : ".mode"}`, n.mode ?? "default-deny", [
        "none",
        "default-deny",
      ] as const);
      const allowNamespaces = r.stringList(`${key}.networkPolicy.allowNamespaces`, n.allowNamespaces ?? []);
      allowNamespaces.forEach(
        (ns, i) =>
          (DNS1123_LABEL.test(ns) && ns.length <= 63) ||
          r.fail(`${key}.networkPolicy.allowNamespaces[${i}]`, ns, "is not a namespace name", "use a DNS-1123 label"),
      );
      const allowCidrs = r.stringList(`${key}.networkPolicy.allowCidrs`, n.allowCidrs ?? []);
      allowCidrs.forEach((c, i) => CIDR.test(c) || r.fail(`${key}.networkPolicy.allowCidrs[${i}]`, c, "is not a CIDR", 'use e.g. "10.0.0.0/8"'));
      networkPolicy = { mode, allowNamespaces, allowCidrs };
    }
  }
  const sops = given.sops === undefined ? base.sops : r.boolean(`${key}.sops`, given.sops);
  const notifications = given.notifications === undefined ? base.notifications : readNotifications(r, `${key}.notifications`, given.notifications);
  const receiver = given.receiver === undefined ? base.receiver : receiverSetting(r, `${key}.receiver`, given.receiver);
  return { podSecurity, resourceQuota, limitRange, networkPolicy, sops, notifications, receiver };
}

/** Types whose Provider takes a channel. */
const CHANNEL_TYPES: readonly NotificationType[] = ["slack", "discord"];

/** notifications: a type alone ("slack"), or { type, events, channel, caCert }. */
function readNotifications(r: Reader, key: string, value: unknown): NotificationsConfig {
  const none = DEFAULTS.tenantDefaults.notifications as NotificationsConfig;
  const n = typeof value === "string" ? { type: value } : isPlainObject(value) ? value : undefined;
  if (!n) {
    r.fail(key, value, "is neither a type nor a map", 'set a type ("slack", "generic", ...) or { type, events, channel, caCert }');
    return none;
  }
  r.unknownFields(key, n, ["type", "events", "channel", "caCert"]);
  const type = r.oneOf(typeof value === "string" ? key : `${key}.type`, n.type, NOTIFICATION_TYPES);
  const events = n.events === undefined ? none.events : r.oneOf(`${key}.events`, n.events, NOTIFICATION_EVENTS);
  const channel = n.channel === undefined ? "" : r.string(`${key}.channel`, n.channel, true);
  if (channel !== "" && !CHANNEL_TYPES.includes(type)) {
    r.fail(`${key}.channel`, n.channel, `is not used by a ${type} provider`, `remove it (only ${CHANNEL_TYPES.join(" and ")} take a channel)`);
  }
  const caCert = n.caCert === undefined ? "" : r.string(`${key}.caCert`, n.caCert, true);
  if (caCert !== "") {
    try {
      new X509Certificate(caCert);
    } catch {
      r.fail(
        `${key}.caCert`,
        `${caCert.slice(0, 40)}…`,
        "is not a PEM certificate",
        "give the CA certificate that signed the address's, as PEM (-----BEGIN CERTIFICATE-----)",
      );
    }
  }
  return { type, events, channel, caCert };
}

/** tenantDefaults: every tenant's features unless its own entry sets them. */
function readTenantDefaults(r: Reader): TenantFeatures {
  const given = r.raw.tenantDefaults;
  if (given !== undefined && !isPlainObject(given)) {
    r.fail("tenantDefaults", given, "is not an object", "set it as a YAML map of the tenants' features (see Pulumi.yaml)");
  }
  const g = isPlainObject(given) ? given : {};
  r.unknownFields("tenantDefaults", g, FEATURE_FIELDS);
  return readFeatures(r, "tenantDefaults", g, DEFAULTS.tenantDefaults as unknown as TenantFeatures);
}

function readTenants(r: Reader, fleet: FleetConfig, github: GitHubConfig, environment: string, engine: PolicyEngine, notifier: boolean): TenantConfig[] {
  const value = r.raw.tenants ?? DEFAULTS.tenants;
  if (!Array.isArray(value)) {
    r.fail("tenants", value, "is not a list", "set a YAML list of tenants ([] for none)");
    return [];
  }
  const tenants: TenantConfig[] = [];
  const defaults = readTenantDefaults(r);
  value.forEach((t, i) => {
    const key = `tenants[${i}]`;
    if (!isPlainObject(t)) {
      r.fail(key, t, "is not an object", "set { name, namespace, repository, branch, path }");
      return;
    }
    r.unknownFields(key, t, TENANT_FIELDS);
    const name = r.dns1123(`${key}.name`, t.name);
    // A namespace defaulted from a bad name would only repeat the name's problem.
    const namespace = t.namespace === undefined ? name : r.dns1123(`${key}.namespace`, t.namespace);
    if (platformNamespace(namespace, engine)) {
      r.fail(`${key}.namespace`, namespace, "is reserved for the platform", "give the tenant a namespace of its own");
    }
    const repository = readTenantRepository(r, `${key}.repository`, t.repository, fleet, github, name);
    const branch = gitBranch(r, `${key}.branch`, t.branch ?? "main");
    const tenantPath =
      r.repoPath(`${key}.path`, t.path ?? `./${environment}`, true, `use a directory inside the tenant repository, e.g. "./${environment}"`) ?? "";
    const features = readFeatures(r, key, t, defaults);
    const created = repository.type === "github" && repository.create;
    if (features.notifications.type === "github" && repository.type !== "github") {
      r.fail(
        `${key}.notifications.type`,
        "github",
        "sets commit statuses on the tenant's GitHub repository, and this tenant's repository is not on GitHub",
        "choose another type for this tenant in its own notifications",
      );
    }
    tenants.push({
      name,
      namespace,
      repository,
      branch,
      path: tenantPath,
      features: { ...features, receiver: features.receiver === "created" ? created && notifier : features.receiver },
    });
  });
  const seen = (field: "name" | "namespace") => {
    const first = new Map<string, number>();
    tenants.forEach((t, i) => {
      const v = t[field];
      if (v === "") return;
      const j = first.get(v);
      if (j !== undefined) {
        r.fail(`tenants[${i}].${field}`, v, `duplicates tenants[${j}].${field}`, `give every tenant its own ${field}`);
      } else first.set(v, i);
    });
  };
  seen("name");
  seen("namespace");
  return tenants;
}

function readTenantRepository(r: Reader, key: string, value: unknown, fleet: FleetConfig, github: GitHubConfig, tenant: string): TenantRepository {
  if (value === undefined && fleet.provider === "git") {
    r.fail(
      key,
      value,
      "is required when fleet.provider is git",
      `set { url: "ssh://git@git.example.com/${tenant}/apps.git", deployKey: true }, or { owner, name } on GitHub`,
    );
    return { type: "url", url: "", deployKey: false };
  }
  const v = value ?? { owner: fleet.owner, name: tenant, create: true };
  if (!isPlainObject(v)) {
    r.fail(key, value, "is not an object", "set { owner, name, create } for a GitHub repository or { url } for any Git URL");
    return { type: "url", url: "", deployKey: false };
  }
  if ("url" in v) {
    r.unknownFields(key, v, ["url", "deployKey"]);
    const deployKey = r.boolean(`${key}.deployKey`, v.deployKey ?? false);
    if (deployKey) {
      const url = sshUrl(
        r,
        `${key}.url`,
        v.url,
        `an ssh:// URL for a deploy key, e.g. "ssh://git@git.example.com/${tenant}/apps.git"`,
        "remove the password: Flux reads with the deploy key the program generates",
      );
      return { type: "url", url, deployKey };
    }
    const url = r.string(`${key}.url`, v.url);
    if (
      r.credentials(
        `${key}.url`,
        v.url,
        `remove them, and give ${tenant} read access another way: { url: "ssh://...", deployKey: true } (the program makes the key), or a GitHub repository ({ owner, name })`,
      )
    ) {
      return { type: "url", url: "", deployKey };
    } else if (url !== "" && !GIT_URL.test(url)) {
      r.fail(`${key}.url`, v.url, "is not a Git URL", 'use an https:// or ssh:// URL, e.g. "https://github.com/fluxcd/flux2-multi-tenancy"');
    } else if (url.startsWith("http://")) {
      r.fail(`${key}.url`, v.url, "is plain http://, which anyone on the way can read and change", "use the repository's https:// or ssh:// URL");
    }
    return { type: "url", url, deployKey };
  }
  r.unknownFields(key, v, ["owner", "name", "create"]);
  const owner = typeof v.owner === "string" && v.owner.trim() !== "" ? v.owner.trim() : fleet.owner;
  if (owner !== "" && !GITHUB_OWNER.test(owner)) {
    r.fail(`${key}.owner`, v.owner, "is not a GitHub user or organisation name", "use letters, digits and single '-'");
  }
  const name = r.string(`${key}.name`, v.name ?? tenant);
  if (name !== "" && !GITHUB_REPO.test(name)) {
    r.fail(`${key}.name`, v.name, "is not a GitHub repository name", "use letters, digits, '.', '_' and '-'");
  }
  const create = r.boolean(`${key}.create`, v.create ?? true);
  return { type: "github", owner, name, create, url: githubSshUrl(github, owner, name) };
}

/** The repository a URL names, for comparing: scheme, user and `.git` aside, host lower-cased. */
function repositoryKey(url: string): string {
  const m = /^(?:[a-z+]+:\/\/)?(?:[^@/]+@)?([^/:]+)(?::\d+)?[/:](.+?)(?:\.git)?\/*$/i.exec(url);
  return m ? `${m[1].toLowerCase()}/${m[2].toLowerCase()}` : url;
}

/** Rules across keys: what each key alone cannot tell, but would fail at run time or weaken isolation. */
function crossCheck(
  r: Reader,
  c: { flux: FluxConfig; fleet: FleetConfig; policies: PoliciesConfig; tenants: readonly TenantConfig[]; policiesValid: boolean },
): void {
  if (FLUX_SERVICE_ACCOUNTS.includes(c.flux.defaultServiceAccount)) {
    r.fail(
      "flux.defaultServiceAccount",
      c.flux.defaultServiceAccount,
      "is a Flux controller's account, which holds the platform's rights; tenants without serviceAccountName would reconcile with them",
      'keep a zero-privilege account such as "default"',
    );
  }
  // Notifications and Receivers are notification-controller's.
  if (!c.flux.components.includes("notification-controller")) {
    const needs = [
      ...(c.fleet.receiver ? ["fleet.receiver"] : []),
      ...c.tenants.flatMap((t, i) => [
        ...(t.features.notifications.type !== "none" ? [`tenants[${i}] (${t.name}) notifications`] : []),
        ...(t.features.receiver ? [`tenants[${i}] (${t.name}) receiver`] : []),
      ]),
    ];
    if (needs.length > 0)
      r.fail(
        "flux.components",
        c.flux.components,
        `leaves out notification-controller, which ${needs.join(", ")} need`,
        "add notification-controller, or turn those off (receiver: false, notifications: none)",
      );
  }
  // The repository each tenant creates or reads, against the fleet's and each other's.
  const fleetRepo = repositoryKey(c.fleet.url);
  const owners = new Map<string, number>();
  // The allowlist refuses at admission only when it is sound, on, enforcing and not empty.
  const { engine, validationFailureAction, allowedSourcePrefixes } = c.policies;
  const enforced = c.policiesValid && engine !== "none" && validationFailureAction === "Enforce" && allowedSourcePrefixes.length > 0;
  c.tenants.forEach((t, i) => {
    const repo = t.repository;
    const url = repo.url;
    // What is already refused (a bad URL, a second tenant of one name) is not reported again here.
    if (!GIT_URL.test(url) || url.startsWith("http://") || c.tenants.findIndex((o) => o.name === t.name) !== i) return;
    const key = repositoryKey(url);
    const shown = repo.type === "github" ? `${repo.owner}/${repo.name}` : repo.url;
    if (key === fleetRepo) {
      r.fail(
        `tenants[${i}].repository`,
        shown,
        "is the fleet repository, which holds every tenant's and the platform's files",
        "give the tenant a repository of its own",
      );
    } else if (owners.has(key) && (repo.type === "github" ? repo.create : false)) {
      r.fail(
        `tenants[${i}].repository`,
        shown,
        `is also tenants[${owners.get(key)}]'s repository, and both would create it`,
        "give every tenant its own repository, or set create: false on all but one",
      );
    }
    if (!owners.has(key)) owners.set(key, i);
    // A source the allowlist refuses would fail at its first reconcile: say so now.
    if (enforced && !sourceAdmitted(url, allowedSourcePrefixes)) {
      r.fail(
        `tenants[${i}].repository`,
        url,
        `is not admitted by policies.allowedSourcePrefixes (${allowedSourcePrefixes.join(", ")}), so the source allowlist would refuse its GitRepository`,
        "add a prefix that admits it, or move the repository under an admitted one",
      );
    }
    // A repository the program creates is seeded with the starter layout, whose HelmRepository the allowlist covers too.
    if (enforced && repo.type === "github" && repo.create && !sourceAdmitted(STARTER_CHART_REPOSITORY, allowedSourcePrefixes)) {
      r.fail(
        `tenants[${i}].repository`,
        shown,
        `is created with the starter layout, whose HelmRepository ${STARTER_CHART_REPOSITORY} policies.allowedSourcePrefixes does not admit, so its first reconcile would be refused`,
        `add "${STARTER_CHART_REPOSITORY}/" to policies.allowedSourcePrefixes, or create the repository yourself with create: false`,
      );
    }
  });
}

/** The credential checks, separate from parseConfig because render reads no secrets. */
export function checkCredentials(config: StackConfig, has: { kubeconfig: boolean; fleetSshKey: boolean }): void {
  const problems: string[] = [];
  if (config.cluster.provider === "existing" && !has.kubeconfig) {
    problems.push(
      `${PROJECT}:kubeconfig: (unset) is required when cluster.provider is existing; run: pulumi config set --secret ${PROJECT}:kubeconfig < path/to/kubeconfig.`,
    );
  }
  if (config.fleet.provider === "git" && !has.fleetSshKey) {
    problems.push(
      `${PROJECT}:fleetSshKey: (unset) is required when fleet.provider is git (the key that pushes to ${config.fleet.url}); run: pulumi config set --secret ${PROJECT}:fleetSshKey < path/to/private-key.`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
}

/** What a tenant's notification Provider reads from its Secret: never in Git, never in StackConfig. */
export interface NotificationSecret {
  readonly address: string;
  readonly token: string;
}

const SECRET_FIELDS = ["address", "token"];

/** An address shown in a message without what may be its secret part (a webhook's path, a user, a query). */
function shownAddress(value: unknown): string {
  if (typeof value !== "string") return JSON.stringify(value);
  try {
    const u = new URL(value);
    return `"${u.protocol}//${u.host}/…" (the rest not shown: a secret)`;
  } catch {
    return "(a value that is not a URL, not shown: a secret)";
  }
}

/**
 * notificationSecrets (a secret): per tenant name, or `tenantDefaults` for every tenant without its own, the address and
 * token its notifications Provider reads. Checked before any resource exists; messages never show a secret's value.
 * Returns each notified tenant's address and token (a github Provider's address is its repository's page).
 */
export function checkNotificationSecrets(config: StackConfig, given: unknown): Record<string, NotificationSecret> {
  const problems: string[] = [];
  const key = `${PROJECT}:notificationSecrets`;
  const fix = `set it with: pulumi config set --secret --path '${key}.<tenant or tenantDefaults>.address' <url>`;
  const map = given === undefined ? {} : given;
  if (!isPlainObject(map)) throw new ConfigError([`${key}: (a secret, not shown) is not a map; ${fix}.`]);
  const names = config.tenants.map((t) => t.name);
  for (const [name, entry] of Object.entries(map)) {
    if (name !== "tenantDefaults" && !names.includes(name)) {
      problems.push(`${key}.${name}: is not a tenant of this stack; name a tenant (${names.join(", ") || "none"}) or tenantDefaults.`);
    } else if (!isPlainObject(entry)) {
      problems.push(`${key}.${name}: (a secret, not shown) is not a map; set { address, token }.`);
    } else {
      for (const field of Object.keys(entry)) {
        if (!SECRET_FIELDS.includes(field)) problems.push(`${key}.${name}.${field}: is not a known field; known fields are ${SECRET_FIELDS.join(", ")}.`);
      }
    }
  }
  const out: Record<string, NotificationSecret> = {};
  for (const t of config.tenants) {
    const type = t.features.notifications.type;
    if (type === "none") continue;
    const own = isPlainObject(map[t.name]) ? (map[t.name] as Raw) : undefined;
    const shared = isPlainObject(map.tenantDefaults) ? (map.tenantDefaults as Raw) : undefined;
    const from = own ? t.name : "tenantDefaults";
    const entry = own ?? shared ?? {};
    const at = `${key}.${from}`;
    let address = entry.address;
    if (type === "github") {
      if (address !== undefined)
        problems.push(`${at}.address: ${shownAddress(address)} is not used by a github provider; remove it (the tenant's repository is the address).`);
      const repo = t.repository;
      address = repo.type === "github" ? `https://${config.github.host}/${repo.owner}/${repo.name}` : "";
    } else if (typeof address !== "string" || address === "") {
      problems.push(`${at}.address: (unset) is required by tenant ${t.name}'s ${type} notifications; ${fix.replace("<tenant or tenantDefaults>", t.name)}.`);
      continue;
    } else {
      let u: URL | undefined;
      try {
        u = new URL(address);
      } catch {
        u = undefined;
      }
      if (!u || u.protocol !== "https:")
        problems.push(
          `${at}.address: ${shownAddress(address)} is not an https:// URL, so tenant ${t.name}'s events (and the address itself) would cross the network in clear; give the ${type} webhook's https:// address.`,
        );
    }
    const token = entry.token;
    const needsToken = type === "github" || type === "generic-hmac";
    if (needsToken && (typeof token !== "string" || token === "")) {
      problems.push(
        `${at}.token: (unset) is required by tenant ${t.name}'s ${type} notifications (${type === "github" ? "a token that may set commit statuses on its repository, not the platform's" : "the key events are signed with"}); set it with: pulumi config set --secret --path '${key}.${t.name}.token' <token>.`,
      );
      continue;
    }
    if (token !== undefined && typeof token !== "string") problems.push(`${at}.token: (a secret, not shown) is not a string; set a string.`);
    out[t.name] = { address: String(address), token: typeof token === "string" ? token : "" };
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
}

/**
 * The Pulumi program's entry to config: reads every key once through pulumi.Config, validates
 * it before any resource exists, and keeps the kubeconfig and the fleet's push key secret Outputs.
 */
export function loadConfig(): {
  config: StackConfig;
  kubeconfig?: pulumi.Output<string>;
  fleetSshKey?: pulumi.Output<string>;
  /** Each notified tenant's Provider address and token, a secret. */
  notificationSecrets: pulumi.Output<Record<string, NotificationSecret>>;
  /** This up may change shared files another stack reads (OVERWRITE_SHARED_ENV): never kept anywhere. */
  overwriteSharedFiles: boolean;
} {
  const cfg = new pulumi.Config(PROJECT);
  const raw: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    if (SECRET_KEYS.includes(key)) continue;
    const text = cfg.get(key);
    if (text === undefined) continue;
    try {
      raw[key] = JSON.parse(text);
    } catch {
      raw[key] = text;
    }
  }
  try {
    const config = parseConfig(raw, { stack: pulumi.getStack(), project: pulumi.getProject() });
    // Present and non-empty; the values themselves stay inside secret Outputs.
    const present = (key: string) => Boolean(pulumi.runtime.getConfig(`${PROJECT}:${key}`));
    checkCredentials(config, { kubeconfig: present("kubeconfig"), fleetSshKey: present("fleetSshKey") });
    // Read once to check it, then kept only inside a secret Output.
    const secretsText = pulumi.runtime.getConfig(`${PROJECT}:notificationSecrets`);
    let secretsGiven: unknown = undefined;
    if (secretsText !== undefined) {
      try {
        secretsGiven = JSON.parse(secretsText);
      } catch {
        secretsGiven = secretsText;
      }
    }
    const notificationSecrets = pulumi.secret(checkNotificationSecrets(config, secretsGiven));
    return {
      notificationSecrets,
      config,
      kubeconfig: config.cluster.provider === "existing" ? cfg.getSecret("kubeconfig") : undefined,
      fleetSshKey: config.fleet.provider === "git" ? cfg.getSecret("fleetSshKey") : undefined,
      overwriteSharedFiles: process.env[OVERWRITE_SHARED_ENV] === "true",
    };
  } catch (e) {
    if (e instanceof ConfigError) throw new pulumi.RunError(`invalid stack config:\n${e.message}`);
    throw e;
  }
}
