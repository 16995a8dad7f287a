// Pulumi mocks for program tests, loaded before any test file (.mocharc.json): records every registration
// with its parent, dependencies, provider and options, and answers with realistic outputs.
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";

// Internal to the SDK (not in its typings): resolves once every pending registration is done.
const { waitForRPCs } = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
import { createHash } from "crypto";
import { bech32 } from "bech32";

export interface Registered {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  readonly parent: string;
  readonly dependencies: string[];
  /** Provider reference (`<urn>::<id>`), "" for the default provider. */
  readonly provider: string;
  readonly inputs: Record<string, any>;
  /** Top-level inputs that arrived as secrets. */
  readonly secretInputs: string[];
  readonly additionalSecretOutputs: string[];
  readonly retainOnDelete: boolean;
  readonly replacementTrigger: unknown;
  /** Aliases as the SDK sent them: URNs, or alias specs (JSON). */
  readonly aliases: string[];
}

export const registered: Registered[] = [];

/**
 * Off: registrations are neither recorded here nor kept by the mock monitor, as when the engine (another
 * process) holds them; for measuring the program's own memory. On by default.
 */
let recording = true;
export function setRecording(on: boolean): void {
  recording = on;
}

let registrations = 0;
/** Registrations since the process started, recorded or not. */
export function registrationCount(): number {
  return registrations;
}

const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const SIG_KEY = "4dabf18193072939515e22adb298388d";

type Request = {
  getType(): string;
  getName(): string;
  getCustom(): boolean;
  getParent(): string;
  getDependenciesList(): string[];
  getProvider(): string;
  getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
  getAdditionalsecretoutputsList(): string[];
  getRetainondelete(): boolean | undefined;
  getReplacementTrigger(): { toJavaScript(): unknown } | undefined;
  getAliasesList(): { toObject(): Record<string, unknown> }[];
  getAliasurnsList(): string[];
};

const original = MockMonitor.prototype.registerResource;
MockMonitor.prototype.registerResource = function (this: MockMonitor, req: Request, callback: (err: unknown, res: any) => void) {
  const raw = req.getObject()?.toJavaScript() ?? {};
  const isSecret = (v: unknown) => typeof v === "object" && v !== null && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
  const unwrap = (v: unknown): unknown =>
    isSecret(v)
      ? unwrap((v as { value: unknown }).value)
      : Array.isArray(v)
        ? v.map(unwrap)
        : typeof v === "object" && v !== null
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrap(x)]))
          : v;
  registrations++;
  if (!recording) {
    return original.call(this, req, (err: unknown, res: any) => {
      if (!err) (this as unknown as { resources: Map<string, unknown> }).resources.delete(res.getUrn());
      callback(err, res);
    });
  }
  return original.call(this, req, (err: unknown, res: any) => {
    if (!err) {
      registered.push({
        urn: res.getUrn(),
        type: req.getType(),
        name: req.getName(),
        custom: req.getCustom(),
        parent: req.getParent(),
        dependencies: req.getDependenciesList(),
        provider: req.getProvider(),
        inputs: unwrap(raw) as Record<string, any>,
        secretInputs: Object.keys(raw).filter((k) => isSecret(raw[k])),
        additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        retainOnDelete: req.getRetainondelete() ?? false,
        replacementTrigger: req.getReplacementTrigger()?.toJavaScript(),
        aliases: [...req.getAliasurnsList(), ...req.getAliasesList().map((a) => JSON.stringify(a.toObject()))],
      });
    }
    callback(err, res);
  });
} as typeof original;

const digest = (v: unknown) => createHash("sha1").update(JSON.stringify(v)).digest("hex");

/** Outputs a real provider would give, derived from the inputs only (so runs are repeatable). */
export function outputsFor(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> {
  if (type === "eks:index:Cluster") return { ...inputs, kubeconfigJson: JSON.stringify({ apiVersion: "v1", kind: "Config", "current-context": inputs.name }) };
  if (type === "gcp:container/cluster:Cluster") {
    return { ...inputs, endpoint: "203.0.113.10", masterVersion: `${inputs.minMasterVersion}.5-gke.100`, masterAuth: { clusterCaCertificate: "Q0E=" } };
  }
  if (type === "azure-native:containerservice:ManagedCluster") return { ...inputs, name: inputs.resourceName };
  if (type === "azure-native:resources:ResourceGroup") return { ...inputs, name: inputs.resourceGroupName };
  if (type.startsWith("pulumi-nodejs:dynamic")) {
    if (type.endsWith(":GitHubDeployKey")) return { ...inputs, keyId: 1000 + registrations };
    if (type.endsWith(":GitHubDefaultBranch")) return inputs;
    if ("nodeImage" in inputs)
      return {
        ...inputs,
        kubeconfig: `apiVersion: v1\nkind: Config\nclusters:\n- name: kind-${inputs.name}\n`,
        clusterUid: `uid-${inputs.name}`,
        host: "workstation-1",
      };
    if ("files" in inputs) {
      const sha = digest(inputs.files);
      return { ...inputs, commitSha: sha, revision: `${inputs.branch}@sha1:${sha}`, paths: Object.keys(inputs.files).sort(), commits: 1 };
    }
    if ("resource" in inputs) return { ...inputs, message: "ReconciliationSucceeded: Applied revision" };
    if ("visibility" in inputs) {
      return { ...inputs, htmlUrl: `https://github.com/${inputs.owner}/${inputs.name}`, adopted: false, reportedVisibility: inputs.visibility };
    }
    // Generated secrets: fixed per name (a run registers the same inputs twice), in their real forms.
    if (type.endsWith(":Token")) return { ...inputs, token: createHash("sha256").update(name).digest("hex") };
    if (type.endsWith(":AgeKey")) {
      const words = (seed: string) => bech32.toWords(createHash("sha256").update(seed).digest());
      return {
        ...inputs,
        identity: bech32.encode("age-secret-key-", words(`${name}-identity`), 90).toUpperCase(),
        recipient: bech32.encode("age", words(`${name}-recipient`), 90),
        previousIdentity: "",
        previousRecipient: "",
      };
    }
    if ("rotation" in inputs) {
      return {
        ...inputs,
        privateKeyPem: `-----BEGIN EC PRIVATE KEY-----\n${name}\n-----END EC PRIVATE KEY-----\n`,
        publicKeyOpenssh: `ecdsa-sha2-nistp384 AAAA${Buffer.from(name).toString("base64")}`,
      };
    }
    if (!("foundation" in inputs) && !("objects" in inputs)) return { ...inputs, clusterUid: "uid-existing" };
  }
  return inputs;
}

const mocks: pulumi.runtime.Mocks = {
  newResource(args: pulumi.runtime.MockResourceArgs) {
    return { id: `${args.name}-id`, state: outputsFor(args.type, args.name, args.inputs) };
  },
  call(args: pulumi.runtime.MockCallArgs) {
    if (args.token === "azure-native:containerservice:listManagedClusterAdminCredentials") {
      const text = `apiVersion: v1\nkind: Config\ncurrent-context: ${args.inputs.resourceName}\n`;
      return { kubeconfigs: [{ name: "clusterAdmin", value: Buffer.from(text).toString("base64") }] };
    }
    return args.inputs;
  },
};

pulumi.runtime.setMocks(mocks, "flux-multi-tenancy", "staging", false);

// The loopback GitHub API answers at once: no client-side spacing of writes (one test turns it back on).
process.env.FLUX_MULTI_TENANCY_GITHUB_THROTTLE ??= "off";

/**
 * Runs the Pulumi program (index.ts) for a stack with exactly this config, waits until every
 * registration is done, and returns the stack outputs and the registrations of this run.
 */
export async function runProgram(
  stack: string,
  raw: Record<string, unknown>,
  secrets: Record<string, string> = {},
): Promise<{ outputs: Record<string, any>; raw: Record<string, any>; resources: Registered[] }> {
  registered.splice(0);
  await pulumi.runtime.setMocks(mocks, "flux-multi-tenancy", stack, false);
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...raw, ...secrets })) {
    config[`flux-multi-tenancy:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
  }
  pulumi.runtime.setAllConfig(
    config,
    Object.keys(secrets).map((k) => `flux-multi-tenancy:${k}`),
  );
  const program = require("../index") as () => Promise<Record<string, unknown>>;
  const outputs = await program();
  const resolved = await valueOf(pulumi.output(outputs));
  await waitForRPCs();
  return { outputs: resolved as Record<string, any>, raw: outputs, resources: [...registered] };
}

/** Runs `build` (resources of a Pulumi program of one's own, such as one using FluxFleet) under the same mocks. */
export async function runUnderMocks<T>(stack: string, build: () => T): Promise<{ result: T; resources: Registered[] }> {
  registered.splice(0);
  await pulumi.runtime.setMocks(mocks, "consumer", stack, false);
  pulumi.runtime.setAllConfig({}, []);
  const result = build();
  await waitForRPCs();
  return { result, resources: [...registered] };
}

/** Sets the program's config keys as the Pulumi CLI would pass them (objects as JSON). */
export function setStackConfig(raw: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(raw)) {
    pulumi.runtime.setConfig(`flux-multi-tenancy:${key}`, typeof value === "string" ? value : JSON.stringify(value));
  }
}

/** The value of an Output, awaited. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => (resolve(v), v)));
}
