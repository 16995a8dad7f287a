// clusters/<env>/infrastructure.yaml and tenants.yaml: the seeded Kustomizations and their order.
import type { StackConfig } from "../config";
import { INFRASTRUCTURE_DIRS, UPSTREAM_2026_DIRS } from "./policies";
import { API, FLUX_NAMESPACE, FLUX_RECONCILER_SA, FLUX_SYSTEM } from "./labels";
import { receiverObject } from "./tenants";
import { type KubeObject, toYamlDocuments } from "./yaml";

/** The fleet's Receiver and the Secret of its token (made by the program in flux-system, never in Git). */
export const FLEET_RECEIVER = "fleet-receiver";

/** A Kustomization Flux reconciles once the fleet is synced, with what it waits for. */
export interface SeededKustomization {
  readonly name: string;
  readonly namespace: string;
  /** Names (same namespace) this one depends on in Flux. */
  readonly dependsOn: readonly string[];
}

function rootKustomization(name: string, spec: { dependsOn?: string; interval: string; path: string; wait?: boolean; timeout?: string }): KubeObject {
  return {
    apiVersion: API.kustomization,
    kind: "Kustomization",
    metadata: { name, namespace: FLUX_NAMESPACE },
    spec: {
      ...(spec.dependsOn ? { dependsOn: [{ name: spec.dependsOn }] } : {}),
      interval: spec.interval,
      sourceRef: { kind: "GitRepository", name: FLUX_SYSTEM },
      serviceAccountName: FLUX_RECONCILER_SA,
      path: spec.path,
      prune: true,
      ...(spec.wait ? { wait: true } : {}),
      ...(spec.timeout ? { timeout: spec.timeout } : {}),
    },
  };
}

/** The infrastructure Kustomizations for the chosen engine, in dependency order. */
export function infrastructureKustomizations(config: StackConfig): KubeObject[] {
  const r = config.reconcile;
  switch (config.policies.engine) {
    case "kyverno":
      return [
        rootKustomization("kyverno", {
          interval: r.infrastructureInterval,
          path: `./${INFRASTRUCTURE_DIRS.kyverno}`,
          wait: true,
          timeout: r.infrastructureTimeout,
        }),
        rootKustomization("kyverno-policies", {
          dependsOn: "kyverno",
          interval: r.policiesInterval,
          path: `./${INFRASTRUCTURE_DIRS.kyvernoPolicies}`,
        }),
      ];
    case "vap":
      if (config.policies.layout === "upstream-2026") {
        // Upstream's since 2026: one Kustomization `policies` for policies/<env> (its base and the environment's allowlist).
        return [
          rootKustomization("policies", {
            interval: r.policiesInterval,
            path: `./${UPSTREAM_2026_DIRS.environment(config.environment)}`,
            wait: true,
            timeout: r.infrastructureTimeout,
          }),
        ];
      }
      return [
        rootKustomization("admission-policies", {
          interval: r.policiesInterval,
          path: `./${INFRASTRUCTURE_DIRS.vapPolicies}`,
          wait: true,
          timeout: r.infrastructureTimeout,
        }),
      ];
    case "none":
      return [];
  }
}

/** The fleet's Kustomization in flux-system that applies every tenant. */
export const TENANTS_KUSTOMIZATION = "tenants";

export function tenantsKustomization(config: StackConfig): KubeObject {
  const infra = infrastructureKustomizations(config);
  const last = infra[infra.length - 1];
  return rootKustomization(TENANTS_KUSTOMIZATION, {
    dependsOn: last?.metadata.name,
    interval: config.reconcile.tenantsInterval,
    path: `./tenants/${config.environment}`,
  });
}

/** clusters/<env>/ files beside flux-system/; no infrastructure.yaml (policies.yaml in upstream's 2026 layout) when there is no engine. */
export function renderClusterFiles(config: StackConfig): Record<string, string> {
  const dir = config.flux.path;
  const infra = infrastructureKustomizations(config);
  const file = config.policies.engine === "vap" && config.policies.layout === "upstream-2026" ? "policies.yaml" : "infrastructure.yaml";
  return {
    ...(infra.length > 0 ? { [`${dir}/${file}`]: toYamlDocuments(infra) } : {}),
    [`${dir}/tenants.yaml`]: toYamlDocuments([tenantsKustomization(config)]),
    // A push to the fleet reaches Flux at once when the Git host calls this (its webhook).
    ...(config.fleet.receiver
      ? {
          [`${dir}/receiver.yaml`]: toYamlDocuments([
            receiverObject(FLEET_RECEIVER, FLUX_NAMESPACE, config.fleet.provider === "github" ? "github" : "generic", FLUX_SYSTEM, {
              "app.kubernetes.io/managed-by": "flux-multi-tenancy",
            }),
          ]),
        }
      : {}),
  };
}

/**
 * Every Kustomization the program waits for after bootstrap, in the order Flux will make them
 * Ready: the infrastructure chain, `tenants`, then each tenant's own Kustomization.
 */
export function seededKustomizations(config: StackConfig): SeededKustomization[] {
  const ordered = [...infrastructureKustomizations(config), tenantsKustomization(config)].map((k) => ({
    name: k.metadata.name,
    namespace: FLUX_NAMESPACE,
    dependsOn: ((k.spec as { dependsOn?: { name: string }[] }).dependsOn ?? []).map((d) => d.name),
  }));
  const tenants = config.tenants.map((t) => ({ name: t.name, namespace: t.namespace, dependsOn: [] as string[] }));
  return [...ordered, ...tenants];
}
