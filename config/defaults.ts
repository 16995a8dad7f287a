// Every key's default, in one place (Pulumi.yaml declares the same values; a test keeps them equal).
import { FLUX_COMPONENTS } from "../lib/fluxRules";

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
