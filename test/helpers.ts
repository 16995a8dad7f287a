// Shared test helpers: stack configs, a synthetic Flux install manifest, the optional shared fixtures.
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { strict as assert } from "assert";
import { ConfigError, parseConfig, type StackConfig } from "../config";
import { readStackConfig, type RawConfig } from "../lib/stackFiles";
import { FLUX_COMPONENTS, FLUX_COMPONENTS_EXTRA, type FileTree, parseYamlDocuments, renderFleet } from "../manifests";

export const PROJECT_DIR = path.resolve(__dirname, "..");

/** `../shared` beside the project: reference copies and real Flux manifests, when present. */
const SHARED_DIR = path.resolve(PROJECT_DIR, "..", "shared");
export const REFERENCE_DIR = path.join(SHARED_DIR, "reference", "flux2-multi-tenancy");
/** Upstream's policy files after its 2026 move to admission policies (partial). */
export const REFERENCE_2026_DIR = path.join(SHARED_DIR, "reference", "flux2-multi-tenancy-2026");
export const FLUX_FIXTURES_DIR = path.join(SHARED_DIR, "fixtures", "flux");

/** Path of a real Flux manifest from the shared fixtures, or undefined when they are absent. */
export function fluxFixture(file: string): string | undefined {
  const p = path.join(FLUX_FIXTURES_DIR, file);
  return fs.existsSync(p) ? p : undefined;
}

/** Skips the current suite or test, saying why, when a needed path is missing. */
export function requirePath(ctx: Mocha.Context, p: string | undefined, what: string): string {
  if (p === undefined || !fs.existsSync(p)) {
    console.log(`      skipped: ${what} not found${p ? ` at ${path.relative(PROJECT_DIR, p)}` : ""}`);
    ctx.skip();
  }
  return p as string;
}

let kubectlChecked: boolean | undefined;
/** Skips, saying why, when kubectl (with its built-in Kustomize) is not on PATH. */
export function requireKubectl(ctx: Mocha.Context): void {
  if (kubectlChecked === undefined) {
    try {
      execFileSync("kubectl", ["version", "--client"], { stdio: "ignore" });
      kubectlChecked = true;
    } catch {
      kubectlChecked = false;
    }
  }
  if (!kubectlChecked) {
    console.log("      skipped: kubectl is not on PATH, so kustomize builds cannot be checked");
    ctx.skip();
  }
}

export const ALL_COMPONENTS = [...FLUX_COMPONENTS, ...FLUX_COMPONENTS_EXTRA];

/**
 * A small install manifest shaped like Flux's: the labelled namespace, then per component a
 * ServiceAccount and a Deployment whose first container has args (what the lockdown patches).
 */
/**
 * flux config for a local install manifest the program has no digests pinned for (a synthetic one): the file and
 * its SHA-256, as a user gives a manifest they checked.
 */
export function localManifest(file: string): { manifests: string; manifestsSha256: string } {
  return { manifests: file, manifestsSha256: createHash("sha256").update(fs.readFileSync(file)).digest("hex") };
}

export function syntheticInstallManifest(version = "v2.9.4", components: readonly string[] = ALL_COMPONENTS): string {
  const labels = (extra: string) =>
    `  labels:\n    app.kubernetes.io/instance: flux-system\n    app.kubernetes.io/part-of: flux\n${extra}    app.kubernetes.io/version: ${version}\n`;
  const docs = [
    `apiVersion: v1\nkind: Namespace\nmetadata:\n${labels("")}  name: flux-system\n`,
    `apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n${labels("")}  name: crd-controller-flux-system\nrules: []\n`,
  ];
  for (const c of components) {
    const component = `    app.kubernetes.io/component: ${c}\n`;
    docs.push(`apiVersion: v1\nkind: ServiceAccount\nmetadata:\n${labels(component)}  name: ${c}\n  namespace: flux-system\n`);
    docs.push(
      `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n${labels(component)}  name: ${c}\n  namespace: flux-system\n` +
        `spec:\n  selector:\n    matchLabels:\n      app: ${c}\n  template:\n    metadata:\n      labels:\n        app: ${c}\n` +
        `    spec:\n      containers:\n      - args:\n        - --watch-all-namespaces=true\n        image: ghcr.io/fluxcd/${c}:v0.0.0\n        name: manager\n      serviceAccountName: ${c}\n`,
    );
  }
  return `---\n# Flux Version: ${version}\n${docs.join("---\n")}`;
}

/** Raw config of a shipped stack file, as Pulumi would hand it to the program. */
export async function stackRaw(stack: string): Promise<RawConfig> {
  return (await readStackConfig(PROJECT_DIR, stack)).raw;
}

export async function stackConfig(stack: string, patch: (raw: RawConfig) => void = () => undefined): Promise<StackConfig> {
  const raw = structuredClone(await stackRaw(stack));
  patch(raw);
  return parseConfig(raw, { stack });
}

export function render(config: StackConfig, installManifest = syntheticInstallManifest(config.flux.version)): FileTree {
  return renderFleet({ config, installManifest, installSource: "synthetic install manifest" });
}

/** The Kubernetes objects of every YAML file of a tree (kustomization.yaml files are not objects). */
export function treeObjects(tree: FileTree): { file: string; obj: Record<string, unknown> }[] {
  return Object.entries(tree)
    .filter(([file]) => !file.endsWith("/kustomization.yaml"))
    .flatMap(([file, text]) => parseYamlDocuments(text, file).map((obj) => ({ file, obj: obj as Record<string, unknown> })));
}

/** Writes a tree under a fresh temporary directory and returns it. */
export function writeTemp(tree: FileTree): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-"));
  for (const [file, text] of Object.entries(tree)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

/** `kubectl kustomize <dir>` parsed. */
export function kustomizeBuild(dir: string): Record<string, unknown>[] {
  const out = execFileSync("kubectl", ["kustomize", dir], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return parseYamlDocuments(out, dir) as Record<string, unknown>[];
}

/** Objects as a comparable, order-independent list, API versions aside. */
export function comparable(objects: readonly unknown[]): unknown[] {
  const key = (o: Record<string, unknown>) => {
    const m = (o.metadata ?? {}) as { name?: string; namespace?: string };
    return `${String(o.kind)}/${m.namespace ?? ""}/${m.name ?? ""}`;
  };
  return objects
    .map((o) => {
      const { apiVersion: _ignored, ...rest } = o as Record<string, unknown>;
      return rest;
    })
    .sort((a, b) => key(a).localeCompare(key(b)));
}

/** The message parseConfig throws for a shipped stack file with `patch` applied (the config must be refused). */
export async function configProblem(stack: string, patch: (raw: RawConfig) => void): Promise<string> {
  const raw = structuredClone(await stackRaw(stack));
  patch(raw);
  try {
    parseConfig(raw, { stack });
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
    return e.message;
  }
  assert.fail("expected the config to be refused");
}
