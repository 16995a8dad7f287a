// The secret keys (kubeconfig, fleetSshKey, notificationSecrets): checked apart from parseConfig, which render runs without them.
import { PROJECT, StackConfig } from "./types";
import { ConfigError, isPlainObject, Raw } from "./reader";

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

export const SECRET_FIELDS = ["address", "token"];

/** An address shown in a message without what may be its secret part (a webhook's path, a user, a query). */
export function shownAddress(value: unknown): string {
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
