// Rules both the stack config's checks and the renderers read: Flux's component names, the starter chart's source and
// the source allowlist's rule. Nothing here imports either side.

/** Components `flux bootstrap` installs by default, in its order. */
export const FLUX_COMPONENTS = ["source-controller", "kustomize-controller", "helm-controller", "notification-controller"] as const;

/** Optional components (`--components-extra`). */
export const FLUX_COMPONENTS_EXTRA = ["image-reflector-controller", "image-automation-controller", "source-watcher"] as const;

/** The chart repository of the starter layout seeded into new tenant repositories (upstream's podinfo). */
export const STARTER_CHART_REPOSITORY = "https://stefanprodan.github.io/podinfo";

/**
 * Whether an allowlist admits a tenant source URL: some prefix starts it, read with a path boundary
 * (a prefix "https://host/org/" admits "https://host/org/app" and "https://host/org", never
 * "https://host/org-evil/app"). An image repository's `spec.image` is read as `oci://<image>`.
 * The admission policies (both engines) and the config check apply this same rule.
 */
export function sourceAdmitted(source: string, prefixes: readonly string[]): boolean {
  const url = source.endsWith("/") ? source : `${source}/`;
  return prefixes.some((p) => url.startsWith(p));
}
