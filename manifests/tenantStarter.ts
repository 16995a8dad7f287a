// The starter layout a new tenant repository is seeded with once: the upstream dev-team branch's shape, current APIs.
import type { TenantConfig } from "../config";
import { API, STARTER_CHART_REPOSITORY } from "./labels";
import { toYaml } from "./yaml";

/** Environments the starter layout has overlays for (as upstream), plus the one this stack syncs. */
const STARTER_ENVIRONMENTS: Record<string, { version: string; replicaCount: number }> = {
  staging: { version: ">=1.0.0-alpha", replicaCount: 1 },
  production: { version: ">=1.0.0", replicaCount: 2 },
};

/**
 * base/ (podinfo HelmRepository + HelmRelease run as the tenant's service account) and one
 * overlay per environment setting the chart version range and replicas. The tenant's own path
 * in this stack gets an overlay too, so the seeded repository reconciles from the first up.
 */
export function renderTenantStarter(tenant: TenantConfig, opts: { ageRecipient?: string; serviceAccount?: string } = {}): Record<string, string> {
  const ns = tenant.namespace;
  const release = (spec: object) => ({ apiVersion: API.helm, kind: "HelmRelease", metadata: { name: "podinfo", namespace: ns }, spec });
  const files: Record<string, string> = {
    "base/kustomization.yaml": toYaml({
      apiVersion: API.kustomizeConfig,
      kind: "Kustomization",
      resources: ["podinfo-repository.yaml", "podinfo-release.yaml"],
    }),
    "base/podinfo-repository.yaml": toYaml({
      apiVersion: API.source,
      kind: "HelmRepository",
      metadata: { name: "podinfo", namespace: ns },
      spec: { interval: "5m", url: STARTER_CHART_REPOSITORY },
    }),
    "base/podinfo-release.yaml": toYaml(
      release({
        serviceAccountName: opts.serviceAccount ?? tenant.name,
        releaseName: "podinfo",
        chart: { spec: { chart: "podinfo", sourceRef: { kind: "HelmRepository", name: "podinfo" } } },
        interval: "5m",
      }),
    ),
  };
  const own = tenant.path.replace(/^\.\/?/, "");
  const envs = { ...STARTER_ENVIRONMENTS, ...(own && !(own in STARTER_ENVIRONMENTS) ? { [own]: STARTER_ENVIRONMENTS.staging } : {}) };
  for (const [dir, values] of Object.entries(envs)) {
    const up = dir
      .split("/")
      .map(() => "..")
      .join("/");
    files[`${dir}/kustomization.yaml`] = toYaml({
      apiVersion: API.kustomizeConfig,
      kind: "Kustomization",
      resources: [`${up}/base`],
      patches: [{ path: "podinfo-values.yaml" }],
    });
    files[`${dir}/podinfo-values.yaml`] = toYaml(release({ chart: { spec: { version: values.version } }, values: { replicaCount: values.replicaCount } }));
  }
  // With a SOPS key of its own: `sops --encrypt` in this repository encrypts a Secret's data to it, as Flux decrypts it.
  if (opts.ageRecipient) files[".sops.yaml"] = sopsCreationRules(opts.ageRecipient);
  return files;
}

/** A .sops.yaml whose one creation rule encrypts the data of Kubernetes Secrets in YAML files to the tenant's age recipient. */
export function sopsCreationRules(recipient: string): string {
  return toYaml({ creation_rules: [{ path_regex: "\\.ya?ml$", encrypted_regex: "^(data|stringData)$", age: recipient }] });
}
