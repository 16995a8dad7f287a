// Tenant-isolation rules as plain functions: used by the tests and wrapped by the policy pack (policy/index.ts).
// Each returns the violations it finds, one sentence each; an empty list passes.
import { parseAllDocuments } from "yaml";

/* eslint-disable @typescript-eslint/no-explicit-any -- policy inputs are untyped JSON read field by field */
/** A resource as Pulumi policies and the test mocks both see it. */
export interface ResourceView {
  readonly type: string;
  readonly name: string;
  readonly props: Record<string, any>;
}

/** A Kubernetes object (rendered, or as Flux builds it). */
export type ObjectView = { kind?: string; metadata?: { name?: string; namespace?: string }; spec?: any; [k: string]: unknown };
/* eslint-enable @typescript-eslint/no-explicit-any */

const FLUX_NAMESPACE = "flux-system";
const DEPLOY_KEY = "pulumi-nodejs:dynamic/flux-multi-tenancy:GitHubDeployKey";
const REPOSITORY = "pulumi-nodejs:dynamic/flux-multi-tenancy:GitHubRepository";
const SECRET = "kubernetes:core/v1:Secret";

const id = (o: ObjectView) => `${o.kind}/${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;

/** Deploy keys Flux clones with must not be able to push (as asked; after a write or refresh, as GitHub reports). */
export function deployKeysReadOnly(r: ResourceView): string[] {
  return r.type === DEPLOY_KEY && r.props.readOnly !== true ? [`deploy key ${r.name} can push: set readOnly: true`] : [];
}

/**
 * Repositories are as private as asked, judged on what GitHub reports (`reportedVisibility`, read after every
 * write and refresh), not on what the program asked for: a tenant's repository is private; the fleet repository
 * has the visibility its stack chose (fleet.visibility: private, internal or public). A repository not created yet
 * has nothing on GitHub to judge.
 */
export function repositoriesPrivateAsReported(r: ResourceView): string[] {
  const reported = r.props.reportedVisibility;
  if (r.type !== REPOSITORY || typeof reported !== "string") return [];
  if (String(r.props.description ?? "").startsWith("Flux tenant ")) {
    return reported === "private" ? [] : [`tenant repository ${r.name} is ${reported} on GitHub: make it private`];
  }
  return reported === r.props.visibility ? [] : [`repository ${r.name} is ${reported} on GitHub, but its stack chose ${r.props.visibility}`];
}

/** Tenant Kustomizations and HelmReleases act as the tenant's service account, never the controller's. */
export function tenantReconcilersImpersonate(objects: readonly ObjectView[]): string[] {
  return objects
    .filter((o) => (o.kind === "Kustomization" || o.kind === "HelmRelease") && o.spec && o.metadata?.namespace && o.metadata.namespace !== FLUX_NAMESPACE)
    .filter((o) => typeof o.spec.serviceAccountName !== "string" || o.spec.serviceAccountName === "")
    .map((o) => `${id(o)} has no serviceAccountName: tenant reconcilers must impersonate the tenant's service account`);
}

/** No tenant object points into another namespace. */
export function noCrossNamespaceRefs(objects: readonly ObjectView[]): string[] {
  const out: string[] = [];
  for (const o of objects) {
    const ns = o.metadata?.namespace;
    if (!o.spec || !ns || ns === FLUX_NAMESPACE) continue;
    const refs: [string, unknown][] = [
      ["spec.sourceRef", o.spec.sourceRef?.namespace],
      ["spec.chart.spec.sourceRef", o.spec.chart?.spec?.sourceRef?.namespace],
      ["spec.chartRef", o.spec.chartRef?.namespace],
      ["spec.targetNamespace", o.kind === "Kustomization" || o.kind === "HelmRelease" ? o.spec.targetNamespace : undefined],
      ...((Array.isArray(o.spec.dependsOn) ? o.spec.dependsOn : []) as { namespace?: string }[]).map((d, i): [string, unknown] => [
        `spec.dependsOn[${i}]`,
        d.namespace,
      ]),
    ];
    for (const [field, target] of refs) {
      if (typeof target === "string" && target !== "" && target !== ns) out.push(`${id(o)} ${field} points into namespace ${target}`);
    }
  }
  return out;
}

function hasIdentity(r: ResourceView): boolean {
  return [r.props.stringData, r.props.data].some((d) => d && typeof d === "object" && "identity" in d);
}

/**
 * A Secret holding an SSH identity lives only where a GitRepository of the same namespace uses it:
 * a key never sits where another tenant's objects could mount it.
 */
export function sshSecretsWhereUsed(resources: readonly ResourceView[], objects: readonly ObjectView[]): string[] {
  const used = new Set(
    objects.filter((o) => o.kind === "GitRepository" && o.spec?.secretRef?.name).map((o) => `${o.metadata?.namespace ?? ""}/${o.spec.secretRef.name}`),
  );
  return resources
    .filter((r) => r.type === SECRET && hasIdentity(r))
    .map((r) => `${r.props.metadata?.namespace ?? ""}/${r.props.metadata?.name ?? ""}`)
    .filter((key) => !used.has(key))
    .map((key) => `Secret ${key} holds an SSH identity that no GitRepository in its namespace uses`);
}

/** The lockdown flags, per controller, as the upstream multi-tenancy layout sets them. */
const LOCKDOWN: Record<string, RegExp[]> = {
  "kustomize-controller": [/^--no-cross-namespace-refs=true$/, /^--no-remote-bases=true$/, /^--default-service-account=.+$/],
  "helm-controller": [/^--no-cross-namespace-refs=true$/, /^--default-service-account=.+$/],
  "notification-controller": [/^--no-cross-namespace-refs=true$/],
  "image-reflector-controller": [/^--no-cross-namespace-refs=true$/],
  "image-automation-controller": [/^--no-cross-namespace-refs=true$/],
  "source-watcher": [/^--no-cross-namespace-refs=true$/],
};

/** Every installed controller carries its lockdown flags, and the root Kustomization impersonates kustomize-controller. */
export function lockdownPresent(objects: readonly ObjectView[]): string[] {
  const out: string[] = [];
  for (const o of objects.filter((x) => x.kind === "Deployment" && x.metadata?.name && x.metadata.name in LOCKDOWN)) {
    const args: string[] = o.spec?.template?.spec?.containers?.[0]?.args ?? [];
    for (const flag of LOCKDOWN[o.metadata!.name!]) {
      if (!args.some((a) => flag.test(a))) out.push(`${o.metadata!.name} lacks ${flag.source.replace(/^\^|\$$/g, "").replace(".+", "<sa>")}`);
    }
  }
  const root = objects.find((o) => o.kind === "Kustomization" && o.metadata?.name === FLUX_NAMESPACE && o.metadata?.namespace === FLUX_NAMESPACE);
  if (root && root.spec?.serviceAccountName !== "kustomize-controller") {
    out.push("Kustomization flux-system/flux-system does not impersonate kustomize-controller");
  }
  return out;
}

/**
 * The whole objects a committed file tree defines: every YAML document except kustomization.yaml
 * files, the patches they list (partial objects) and Flux's own gotk-components.yaml.
 */
export function committedObjects(files: Readonly<Record<string, string>>): ObjectView[] {
  const patches = new Set<string>();
  for (const [file, text] of Object.entries(files)) {
    if (!file.endsWith("kustomization.yaml")) continue;
    const dir = file.includes("/") ? file.slice(0, file.lastIndexOf("/") + 1) : "";
    const k = parseAllDocuments(text)[0]?.toJS() as { patches?: { path?: string }[]; patchesStrategicMerge?: string[] } | null;
    for (const p of k?.patches ?? []) if (p.path) patches.add(dir + p.path);
    for (const p of k?.patchesStrategicMerge ?? []) patches.add(dir + p);
  }
  return Object.entries(files)
    .filter(([f]) => /\.ya?ml$/.test(f) && !f.endsWith("kustomization.yaml") && !f.endsWith("gotk-components.yaml") && !patches.has(f))
    .flatMap(([, text]) => parseAllDocuments(text).map((d) => d.toJS() as ObjectView))
    .filter((o) => o !== null && typeof o === "object");
}
