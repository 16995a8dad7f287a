// Label and name constants shared by every renderer.

/** Flux's tenant label, set on every object of a tenant's base. */
export const TENANT_LABEL = "toolkit.fluxcd.io/tenant";

/** Labels Flux's install manifest puts on each object. */
export const FLUX_COMPONENT_LABEL = "app.kubernetes.io/component";
export const FLUX_VERSION_LABEL = "app.kubernetes.io/version";

export const FLUX_NAMESPACE = "flux-system";
/** Name of the root GitRepository, Kustomization and SSH Secret that bootstrap creates. */
export const FLUX_SYSTEM = "flux-system";
/** Service account every Kustomization in flux-system impersonates (the lockdown). */
export const FLUX_RECONCILER_SA = "kustomize-controller";

export const API = {
  kustomizeConfig: "kustomize.config.k8s.io/v1beta1",
  kustomization: "kustomize.toolkit.fluxcd.io/v1",
  source: "source.toolkit.fluxcd.io/v1",
  helm: "helm.toolkit.fluxcd.io/v2",
  kyverno: "kyverno.io/v1",
  admission: "admissionregistration.k8s.io/v1",
  notificationProvider: "notification.toolkit.fluxcd.io/v1beta3",
  notificationReceiver: "notification.toolkit.fluxcd.io/v1",
} as const;

/** Interval of the root GitRepository, as `flux bootstrap` writes it. */
export const FLUX_SYSTEM_SOURCE_INTERVAL = "1m0s";
/** Interval of the root Kustomization, as `flux bootstrap` writes it. */
export const FLUX_SYSTEM_SYNC_INTERVAL = "10m0s";

// Read by the config checks too: one home, lib/fluxRules.ts.
export { FLUX_COMPONENTS, FLUX_COMPONENTS_EXTRA, sourceAdmitted, STARTER_CHART_REPOSITORY } from "../lib/fluxRules";
