// Loading: one stack's raw values to a frozen StackConfig (parseConfig), and the program's entry through pulumi.Config (loadConfig).
import * as pulumi from "@pulumi/pulumi";
import { PROJECT, StackConfig } from "./types";
import { CONFIG_KEYS, DEFAULTS, OVERWRITE_SHARED_ENV, SECRET_KEYS } from "./defaults";
import { ConfigError, deepFreeze, Raw, Reader } from "./reader";
import { readEnvironment, readReconcile, readWebhookBaseUrl } from "./stack";
import { readCluster } from "./cluster";
import { readFlux } from "./flux";
import { readFleet, readGitHub, readKnownHosts } from "./fleet";
import { readPolicies } from "./policies";
import { readTenants, readTenantServiceAccount } from "./tenants";
import { crossCheck } from "./rules";
import { checkCredentials, checkNotificationSecrets } from "./secrets";

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

/** The args of FluxFleet that are not stack settings, and the secret keys it takes as Inputs. */
const COMPONENT_ONLY = ["kubeconfig", "clusterName", "githubToken", "fleetSshKey", "notificationSecrets"];

/**
 * FluxFleet's args read as the stack config is (the same readers, defaults and messages), on a cluster the caller made:
 * cluster.provider existing, named clusterName (default: the environment). Throws ConfigError listing every problem.
 */
export function readFleetSettings(args: object, ctx: { has: { kubeconfig: boolean; fleetSshKey: boolean } }): StackConfig {
  const raw: Raw = {};
  for (const [key, value] of Object.entries(args)) {
    if (!COMPONENT_ONLY.includes(key) && value !== undefined && value !== null) raw[key] = value;
  }
  if ("cluster" in raw) {
    throw new ConfigError([
      `${PROJECT}:cluster: ${JSON.stringify(raw.cluster)} is not an arg of FluxFleet; make the cluster in your program and pass its kubeconfig (and clusterName).`,
    ]);
  }
  const clusterName = (args as { clusterName?: unknown }).clusterName;
  raw.cluster = { provider: "existing", ...(clusterName === undefined || clusterName === null ? {} : { name: clusterName }) };
  const config = parseConfig(raw, { stack: pulumi.getStack(), project: pulumi.getProject() });
  checkCredentials(config, ctx.has);
  return config;
}

/**
 * The Pulumi program's entry to config: reads every key once through pulumi.Config, validates
 * it before any resource exists, and keeps the kubeconfig and the fleet's push key secret Outputs.
 */
export function loadConfig(): {
  config: StackConfig;
  /** The stack's settings as given (every key but the cluster and the secrets): FluxFleet's args. */
  settings: Raw;
  kubeconfig?: pulumi.Output<string>;
  fleetSshKey?: pulumi.Output<string>;
  /** notificationSecrets as given (checked), a secret. */
  notificationSecrets: pulumi.Output<unknown>;
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
    checkNotificationSecrets(config, secretsGiven);
    const { cluster: _cluster, ...settings } = raw;
    return {
      config,
      settings,
      notificationSecrets: pulumi.secret(secretsGiven ?? {}),
      kubeconfig: config.cluster.provider === "existing" ? cfg.getSecret("kubeconfig") : undefined,
      fleetSshKey: config.fleet.provider === "git" ? cfg.getSecret("fleetSshKey") : undefined,
    };
  } catch (e) {
    if (e instanceof ConfigError) throw new pulumi.RunError(`invalid stack config:\n${e.message}`);
    throw e;
  }
}
