// Rules across keys: what no key alone can tell, but would fail at run time or weaken isolation.
import { FLUX_COMPONENTS, FLUX_COMPONENTS_EXTRA, sourceAdmitted, STARTER_CHART_REPOSITORY } from "../lib/fluxRules";
import { FleetConfig, FluxConfig, PoliciesConfig, TenantConfig } from "./types";
import { GIT_URL, Reader } from "./reader";

/** Flux's controllers' service accounts: a tenant given one would reconcile with the platform's rights. */
export const FLUX_SERVICE_ACCOUNTS: readonly string[] = [...FLUX_COMPONENTS, ...FLUX_COMPONENTS_EXTRA];

/** The repository a URL names, for comparing: scheme, user and `.git` aside, host lower-cased. */
export function repositoryKey(url: string): string {
  const m = /^(?:[a-z+]+:\/\/)?(?:[^@/]+@)?([^/:]+)(?::\d+)?[/:](.+?)(?:\.git)?\/*$/i.exec(url);
  return m ? `${m[1].toLowerCase()}/${m[2].toLowerCase()}` : url;
}

/** Rules across keys: what each key alone cannot tell, but would fail at run time or weaken isolation. */
export function crossCheck(
  r: Reader,
  c: { flux: FluxConfig; fleet: FleetConfig; policies: PoliciesConfig; tenants: readonly TenantConfig[]; policiesValid: boolean },
): void {
  if (FLUX_SERVICE_ACCOUNTS.includes(c.flux.defaultServiceAccount)) {
    r.fail(
      "flux.defaultServiceAccount",
      c.flux.defaultServiceAccount,
      "is a Flux controller's account, which holds the platform's rights; tenants without serviceAccountName would reconcile with them",
      'keep a zero-privilege account such as "default"',
    );
  }
  // Notifications and Receivers are notification-controller's.
  if (!c.flux.components.includes("notification-controller")) {
    const needs = [
      ...(c.fleet.receiver ? ["fleet.receiver"] : []),
      ...c.tenants.flatMap((t, i) => [
        ...(t.features.notifications.type !== "none" ? [`tenants[${i}] (${t.name}) notifications`] : []),
        ...(t.features.receiver ? [`tenants[${i}] (${t.name}) receiver`] : []),
      ]),
    ];
    if (needs.length > 0)
      r.fail(
        "flux.components",
        c.flux.components,
        `leaves out notification-controller, which ${needs.join(", ")} need`,
        "add notification-controller, or turn those off (receiver: false, notifications: none)",
      );
  }
  // The repository each tenant creates or reads, against the fleet's and each other's.
  const fleetRepo = repositoryKey(c.fleet.url);
  const owners = new Map<string, number>();
  // The allowlist refuses at admission only when it is sound, on, enforcing and not empty.
  const { engine, validationFailureAction, allowedSourcePrefixes } = c.policies;
  const enforced = c.policiesValid && engine !== "none" && validationFailureAction === "Enforce" && allowedSourcePrefixes.length > 0;
  c.tenants.forEach((t, i) => {
    const repo = t.repository;
    const url = repo.url;
    // What is already refused (a bad URL, a second tenant of one name) is not reported again here.
    if (!GIT_URL.test(url) || url.startsWith("http://") || c.tenants.findIndex((o) => o.name === t.name) !== i) return;
    const key = repositoryKey(url);
    const shown = repo.type === "github" ? `${repo.owner}/${repo.name}` : repo.url;
    if (key === fleetRepo) {
      r.fail(
        `tenants[${i}].repository`,
        shown,
        "is the fleet repository, which holds every tenant's and the platform's files",
        "give the tenant a repository of its own",
      );
    } else if (owners.has(key) && (repo.type === "github" ? repo.create : false)) {
      r.fail(
        `tenants[${i}].repository`,
        shown,
        `is also tenants[${owners.get(key)}]'s repository, and both would create it`,
        "give every tenant its own repository, or set create: false on all but one",
      );
    }
    if (!owners.has(key)) owners.set(key, i);
    // A source the allowlist refuses would fail at its first reconcile: say so now.
    if (enforced && !sourceAdmitted(url, allowedSourcePrefixes)) {
      r.fail(
        `tenants[${i}].repository`,
        url,
        `is not admitted by policies.allowedSourcePrefixes (${allowedSourcePrefixes.join(", ")}), so the source allowlist would refuse its GitRepository`,
        "add a prefix that admits it, or move the repository under an admitted one",
      );
    }
    // A repository the program creates is seeded with the starter layout, whose HelmRepository the allowlist covers too.
    if (enforced && repo.type === "github" && repo.create && !sourceAdmitted(STARTER_CHART_REPOSITORY, allowedSourcePrefixes)) {
      r.fail(
        `tenants[${i}].repository`,
        shown,
        `is created with the starter layout, whose HelmRepository ${STARTER_CHART_REPOSITORY} policies.allowedSourcePrefixes does not admit, so its first reconcile would be refused`,
        `add "${STARTER_CHART_REPOSITORY}/" to policies.allowedSourcePrefixes, or create the repository yourself with create: false`,
      );
    }
  });
}
