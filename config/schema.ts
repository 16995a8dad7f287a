// A JSON Schema of the stack settings, for editors (yaml-language-server) and checks: made from the same defaults and
// allowed values the readers use. The readers stay the judge (every message names key, value and fix); the schema
// never refuses what they accept, and refuses the shapes and names they refuse.
import * as fs from "fs";
import * as path from "path";
import { FLUX_COMPONENTS, FLUX_COMPONENTS_EXTRA } from "../lib/fluxRules";
import { DEFAULTS, SECRET_KEYS } from "./defaults";
import {
  CLUSTER_PROVIDERS,
  FLEET_PROVIDERS,
  NETWORK_POLICY_MODES,
  NOTIFICATION_EVENTS,
  NOTIFICATION_TYPES,
  POD_SECURITY_LEVELS,
  POLICY_ENGINES,
  POLICY_LAYOUTS,
  PROJECT,
  VALIDATION_ACTIONS,
  VISIBILITIES,
} from "./types";

type Schema = Record<string, unknown>;

/** Where the published schema lives in the repository (the stack files point editors at it). */
export const SCHEMA_FILE = "schema/stack-settings.schema.json";

const string: Schema = { type: "string" };
const boolean: Schema = { type: "boolean" };
const strings: Schema = { type: "array", items: string };
const oneOfValues = (values: readonly (string | boolean)[]): Schema => ({ enum: [...values] });
/** A setting that is a boolean or one word (receiver: "created", denyImageAutomation: "production"). */
const booleanOr = (word: string): Schema => ({ anyOf: [boolean, { const: word }] });
/** Kubernetes quantities by name: strings, or numbers YAML reads as such. */
const quantities: Schema = { type: "object", additionalProperties: { type: ["string", "number"] } };

/** An object of exactly these fields (the readers refuse any other), each with its default where it has one. */
function fields(properties: Record<string, Schema>, defaults?: Record<string, unknown>): Schema {
  const withDefaults = Object.fromEntries(
    Object.entries(properties).map(([k, s]) => [k, defaults && defaults[k] !== undefined ? { ...s, default: defaults[k] } : s]),
  );
  return { type: "object", properties: withDefaults, additionalProperties: false };
}

/** The schema of a default's own shape: strings, booleans, integers, lists of strings, objects of those. */
function shapeOf(value: unknown): Schema {
  if (typeof value === "string") return string;
  if (typeof value === "boolean") return boolean;
  if (typeof value === "number") return { type: "integer" };
  if (Array.isArray(value)) return strings;
  const o = value as Record<string, unknown>;
  return fields(Object.fromEntries(Object.entries(o).map(([k, v]) => [k, shapeOf(v)])), o);
}

/** A cloud's settings, node counts at least 1. */
function cloud(defaults: Record<string, unknown>): Schema {
  const s = shapeOf(defaults) as { properties: Record<string, Schema> };
  s.properties.nodeCount = { ...s.properties.nodeCount, minimum: 1 };
  return s;
}

const d = DEFAULTS;

/** What a tenant gets beyond its sync, as tenantDefaults and each tenants[] entry set it (no defaults in an entry). */
function features(withDefaults: boolean): Record<string, Schema> {
  const f = d.tenantDefaults;
  const dflt = (s: Schema, v: unknown): Schema => (withDefaults ? { ...s, default: v } : s);
  return {
    podSecurity: dflt(oneOfValues(POD_SECURITY_LEVELS), f.podSecurity),
    resourceQuota: dflt(quantities, f.resourceQuota),
    limitRange: dflt(fields({ default: quantities, defaultRequest: quantities, max: quantities }), f.limitRange),
    networkPolicy: dflt(
      {
        anyOf: [oneOfValues(NETWORK_POLICY_MODES), fields({ mode: oneOfValues(NETWORK_POLICY_MODES), allowNamespaces: strings, allowCidrs: strings })],
      },
      f.networkPolicy,
    ),
    sops: dflt(boolean, f.sops),
    notifications: dflt(
      {
        anyOf: [
          oneOfValues(NOTIFICATION_TYPES),
          fields({ type: oneOfValues(NOTIFICATION_TYPES), events: oneOfValues(NOTIFICATION_EVENTS), channel: string, caCert: string }),
        ],
      },
      f.notifications,
    ),
    receiver: dflt(booleanOr("created"), f.receiver),
  };
}

/** Each top-level key's schema, by key (without the project prefix). */
export function settingsSchemas(): Record<string, Schema> {
  const cluster = shapeOf(d.cluster) as { properties: Record<string, Schema> };
  cluster.properties.provider = { ...oneOfValues(CLUSTER_PROVIDERS), default: d.cluster.provider };
  cluster.properties.name = string;
  (cluster.properties.kind as { properties: Record<string, Schema> }).properties.workers = { type: "integer", minimum: 0, default: d.cluster.kind.workers };
  cluster.properties.eks = cloud(d.cluster.eks);
  cluster.properties.gke = cloud(d.cluster.gke);
  cluster.properties.aks = cloud(d.cluster.aks);

  const flux = shapeOf(d.flux) as { properties: Record<string, Schema> };
  flux.properties.components = { type: "array", items: oneOfValues(FLUX_COMPONENTS), default: d.flux.components };
  flux.properties.componentsExtra = { type: "array", items: oneOfValues(FLUX_COMPONENTS_EXTRA), default: d.flux.componentsExtra };
  flux.properties.path = string;

  const github = shapeOf(d.github) as { properties: Record<string, Schema> };
  github.properties.sshPort = { type: "integer", minimum: 1, maximum: 65535, default: d.github.sshPort };

  const fleet = shapeOf(d.fleet) as { properties: Record<string, Schema> };
  fleet.properties.provider = { ...oneOfValues(FLEET_PROVIDERS), default: d.fleet.provider };
  fleet.properties.visibility = { ...oneOfValues(VISIBILITIES), default: d.fleet.visibility };
  fleet.properties.receiver = { ...booleanOr("created"), default: d.fleet.receiver };

  const policies = shapeOf(d.policies) as { properties: Record<string, Schema> };
  policies.properties.engine = { ...oneOfValues(POLICY_ENGINES), default: d.policies.engine };
  policies.properties.layout = { ...oneOfValues(POLICY_LAYOUTS), default: d.policies.layout };
  policies.properties.validationFailureAction = { ...oneOfValues(VALIDATION_ACTIONS), default: d.policies.validationFailureAction };
  policies.properties.denyImageAutomation = { ...booleanOr("production"), default: d.policies.denyImageAutomation };

  const repository: Schema = {
    anyOf: [fields({ owner: string, name: string, create: boolean }), { ...fields({ url: string, deployKey: boolean }), required: ["url"] }],
  };
  const tenant: Schema = {
    ...fields({ name: string, namespace: string, repository, branch: string, path: string, ...features(false) }),
    required: ["name"],
  };
  /** A rotation value: any plain value; a date typed as 20261124 arrives as a number. */
  const rotation: Schema = { type: ["string", "number"], default: "" };
  /** A secret as the CLI writes it (`secure:` ciphertext), or its plain text. */
  const secret: Schema = { anyOf: [string, fields({ secure: string })] };

  const schemas: Record<string, Schema> = {
    environment: { ...string, default: d.environment },
    cluster,
    flux,
    github,
    fleet,
    policies,
    reconcile: shapeOf(d.reconcile),
    tenants: { type: "array", items: tenant, default: d.tenants },
    tenantServiceAccount: { ...string, default: d.tenantServiceAccount },
    tenantDefaults: fields(features(true)),
    knownHosts: { ...string, default: d.knownHosts },
    deployKeyRotation: rotation,
    sopsKeyRotation: rotation,
    webhookBaseUrl: { ...string, default: d.webhookBaseUrl },
    kubeconfig: secret,
    fleetSshKey: secret,
    // Set with --path, the CLI writes each secret leaf as its own `secure:` value.
    notificationSecrets: { type: "object" },
  };
  for (const key of SECRET_KEYS) schemas[key] = { ...schemas[key], description: "a secret: pulumi config set --secret" };
  return schemas;
}

/** The schema of a stack file (Pulumi.<stack>.yaml): this project's keys checked, other namespaces' left alone. */
export function stackSettingsSchema(): Schema {
  const properties = Object.fromEntries(Object.entries(settingsSchemas()).map(([k, s]) => [`${PROJECT}:${k}`, s]));
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    $id: `https://${PROJECT}.invalid/${SCHEMA_FILE}`,
    title: `${PROJECT} stack settings (Pulumi.<stack>.yaml)`,
    type: "object",
    properties: {
      config: {
        type: "object",
        properties,
        // Another namespace's keys (aws:region, pulumi:...) are its own business; a key of ours not listed is a typo.
        patternProperties: { [`^(?!${PROJECT}:)`]: {} },
        additionalProperties: false,
      },
    },
  };
}

/** `npm run schema`: writes the published schema from the readers' defaults and values. */
if (require.main === module) {
  const file = path.join(__dirname, "..", SCHEMA_FILE);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(stackSettingsSchema(), null, 2) + "\n");
  console.log(`wrote ${SCHEMA_FILE}`);
}
