// The one reader of stack config: raw values in, a typed, validated, frozen StackConfig out. By job: types, defaults,
// the Reader, one reader per section (stack, cluster, flux, fleet, policies, tenants), the rules across keys, the secret
// keys' checks, loading.
export { FLUX_COMPONENTS, FLUX_COMPONENTS_EXTRA } from "../lib/fluxRules";
export {
  PROJECT,
  CLUSTER_PROVIDERS,
  ClusterProvider,
  POLICY_ENGINES,
  PolicyEngine,
  POLICY_LAYOUTS,
  PolicyLayout,
  VALIDATION_ACTIONS,
  ValidationAction,
  VISIBILITIES,
  Visibility,
  FLEET_PROVIDERS,
  FleetProvider,
  ClusterConfig,
  EksSettings,
  GkeSettings,
  AksSettings,
  FluxConfig,
  FleetConfig,
  PoliciesConfig,
  ReconcileConfig,
  GitHubTenantRepository,
  GitHubConfig,
  UrlTenantRepository,
  TenantRepository,
  TenantConfig,
  POD_SECURITY_LEVELS,
  PodSecurityLevel,
  ResourceList,
  NOTIFICATION_TYPES,
  NotificationType,
  NOTIFICATION_EVENTS,
  NotificationsConfig,
  TenantFeatures,
  TenantFeaturesResolved,
  StackConfig,
} from "./types";
export { DEFAULTS, OVERWRITE_SHARED_ENV, SECRET_KEYS, CONFIG_KEYS } from "./defaults";
export { ConfigError, maskedCredentials } from "./reader";
export { githubSshUrl, knownHostsName } from "./fleet";
export { reconcilerAccount } from "./tenants";
export { checkCredentials, NotificationSecret, checkNotificationSecrets } from "./secrets";
export { parseConfig, loadConfig, readFleetSettings } from "./load";
