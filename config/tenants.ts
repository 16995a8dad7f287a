// tenants, tenantDefaults and tenantServiceAccount: each tenant's repository, namespace and features.
import { X509Certificate } from "crypto";
import {
  FleetConfig,
  NETWORK_POLICY_MODES,
  GitHubConfig,
  NOTIFICATION_EVENTS,
  NOTIFICATION_TYPES,
  NotificationsConfig,
  NotificationType,
  POD_SECURITY_LEVELS,
  PolicyEngine,
  StackConfig,
  TenantConfig,
  TenantFeatures,
  TenantRepository,
} from "./types";
import { DEFAULTS } from "./defaults";
import { DNS1123_LABEL, GIT_URL, gitBranch, GITHUB_OWNER, GITHUB_REPO, isPlainObject, Raw, Reader, receiverSetting, sshUrl } from "./reader";
import { githubSshUrl } from "./fleet";

/** Namespaces a tenant may not have: the platform's own, Kubernetes' (`kube-*`), and the policy engine's. */
export function platformNamespace(namespace: string, engine: PolicyEngine): boolean {
  return namespace === "default" || namespace === "flux-system" || namespace.startsWith("kube-") || (engine === "kyverno" && namespace === "kyverno");
}

/** The reconciler account's name for every tenant, or "" for one named after each tenant. */
export function readTenantServiceAccount(r: Reader, value: unknown): string {
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

export const FEATURE_FIELDS = Object.keys(DEFAULTS.tenantDefaults);
export const TENANT_FIELDS = ["name", "namespace", "repository", "branch", "path", ...FEATURE_FIELDS];

/** A Kubernetes resource quantity (1, 500m, 1.5Gi, 2e3, ...). */
export const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)(([KMGTPE]i)|[mkMGTPE]|[eE][+-]?\d+)?$/;
/** A ResourceQuota key: a compute resource (requests.cpu, limits.memory, pods, ...) or an object count (count/<resource>[.<group>]). */
export const QUOTA_KEY = /^((requests|limits)\.[a-z0-9.-]+(\/[a-z0-9.-]+)?|[a-z0-9.-]+(\/[a-z0-9.-]+)?|count\/[a-z0-9.-]+)$/;
export const CIDR = /^(\d{1,3}(\.\d{1,3}){3}\/(\d|[12]\d|3[0-2])|[0-9a-fA-F:]+\/\d{1,3})$/;

/** A map of Kubernetes quantities at `key`, each value a quantity (numbers become strings). */
export function quantities(r: Reader, key: string, value: unknown, keys: RegExp, what: string): Record<string, string> {
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
export function readFeatures(r: Reader, key: string, given: Raw, base: TenantFeatures): TenantFeatures {
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
      const mode = r.oneOf(`${key}.networkPolicy${typeof given.networkPolicy === "string" ? "" : ".mode"}`, n.mode ?? "default-deny", NETWORK_POLICY_MODES);
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
export const CHANNEL_TYPES: readonly NotificationType[] = ["slack", "discord"];

/** notifications: a type alone ("slack"), or { type, events, channel, caCert }. */
export function readNotifications(r: Reader, key: string, value: unknown): NotificationsConfig {
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
export function readTenantDefaults(r: Reader): TenantFeatures {
  const given = r.raw.tenantDefaults;
  if (given !== undefined && !isPlainObject(given)) {
    r.fail("tenantDefaults", given, "is not an object", "set it as a YAML map of the tenants' features (see Pulumi.yaml)");
  }
  const g = isPlainObject(given) ? given : {};
  r.unknownFields("tenantDefaults", g, FEATURE_FIELDS);
  return readFeatures(r, "tenantDefaults", g, DEFAULTS.tenantDefaults as unknown as TenantFeatures);
}

export function readTenants(r: Reader, fleet: FleetConfig, github: GitHubConfig, environment: string, engine: PolicyEngine, notifier: boolean): TenantConfig[] {
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

export function readTenantRepository(r: Reader, key: string, value: unknown, fleet: FleetConfig, github: GitHubConfig, tenant: string): TenantRepository {
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
