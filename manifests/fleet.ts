// The whole fleet-repository tree one stack renders: its environment directories plus the shared ones it needs.
import { reconcilerAccount, type StackConfig } from "../config";
import { renderClusterFiles } from "./clusters";
import { renderFluxSystemKustomization, renderGotkSync } from "./fluxSystem";
import { renderGotkComponents } from "./fluxInstall";
import { renderAdmissionPolicies, renderKyverno, renderKyvernoPolicies, renderUpstream2026Policies } from "./policies";
import { renderTenantBase, renderTenantOverlay } from "./tenants";

/** Repository path -> file text, sorted by path. */
export type FileTree = Readonly<Record<string, string>>;

export interface FleetInputs {
  readonly config: StackConfig;
  /** Flux's install manifest text for config.flux.version (see lib/fluxRelease). */
  readonly installManifest: string;
  /** Where the install manifest came from, for error messages. */
  readonly installSource: string;
}

/**
 * Who owns a path. Environment paths (clusters/<env>/, tenants/<env>/, policies/<env>/) belong to one stack;
 * shared paths (infrastructure/, tenants/base/, policies/base/) are rendered identically by every stack that
 * needs them.
 */
export function isSharedPath(path: string): boolean {
  return path.startsWith("infrastructure/") || path.startsWith("tenants/base/") || path.startsWith("policies/base/");
}

function sorted(files: Record<string, string>): FileTree {
  return Object.freeze(Object.fromEntries(Object.entries(files).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}

export function renderFleet(inputs: FleetInputs): FileTree {
  const { config } = inputs;
  const fluxDir = `${config.flux.path}/flux-system`;
  const files: Record<string, string> = {
    [`${fluxDir}/gotk-components.yaml`]: renderGotkComponents(inputs.installManifest, {
      version: config.flux.version,
      components: [...config.flux.components, ...config.flux.componentsExtra],
      source: inputs.installSource,
      key: `${config.project}:${config.flux.manifests ? "flux.manifests" : "flux.version"}`,
    }),
    [`${fluxDir}/gotk-sync.yaml`]: renderGotkSync(config),
    [`${fluxDir}/kustomization.yaml`]: renderFluxSystemKustomization(config),
    ...renderClusterFiles(config),
    ...renderTenantOverlay(config),
  };
  switch (config.policies.engine) {
    case "kyverno":
      Object.assign(files, renderKyverno(config), renderKyvernoPolicies(config));
      break;
    case "vap":
      Object.assign(files, config.policies.layout === "upstream-2026" ? renderUpstream2026Policies(config) : renderAdmissionPolicies(config));
      break;
    case "none":
      break;
  }
  for (const tenant of config.tenants) Object.assign(files, renderTenantBase(tenant, reconcilerAccount(config, tenant)));
  return sorted(files);
}
