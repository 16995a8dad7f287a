// flux: the release, its components, the install manifests and the lockdown.
import { DEFAULTS } from "./defaults";
import { FLUX_COMPONENTS, FLUX_COMPONENTS_EXTRA } from "../lib/fluxRules";
import { FluxConfig } from "./types";
import { Raw, Reader } from "./reader";

/** Without these two Flux cannot sync the fleet repository at all. */
export const REQUIRED_COMPONENTS = ["source-controller", "kustomize-controller"];

export const FLUX_VERSION = /^v\d+\.\d+\.\d+$/;

/** The oldest Flux whose CRDs serve every API version the program renders. */
export const MIN_FLUX_VERSION = {
  version: "v2.6.0",
  why: "OCIRepository as source.toolkit.fluxcd.io/v1 (the Kyverno source), beside GitRepository v1, Kustomization v1 and HelmRelease v2",
};

/** The oldest Flux whose helm-controller knows the ObjectLevelWorkloadIdentity gate (v2.6.0's did not). */
export const MIN_WORKLOAD_IDENTITY_FLUX = "v2.7.0";

export function olderThan(a: string, b: string): boolean {
  const [x, y] = [a, b].map((v) => v.replace(/^v/, "").split(".").map(Number));
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] < y[i];
  return false;
}

export function readFlux(r: Reader, environment: string): FluxConfig {
  const f = r.object("flux", { ...DEFAULTS.flux, path: `clusters/${environment}` } as Raw);
  const version = r.string("flux.version", f.version);
  if (version !== "" && !FLUX_VERSION.test(version)) {
    r.fail("flux.version", f.version, "is not a pinned Flux release", 'use the form vX.Y.Z, e.g. "v2.9.4" ("latest" is never resolved)');
  } else if (version !== "" && olderThan(version, MIN_FLUX_VERSION.version)) {
    r.fail(
      "flux.version",
      f.version,
      `is older than ${MIN_FLUX_VERSION.version}, the first release serving ${MIN_FLUX_VERSION.why}`,
      `use ${MIN_FLUX_VERSION.version} or later`,
    );
  }
  const components = r.stringList("flux.components", f.components);
  for (const [i, c] of components.entries()) {
    if (!(FLUX_COMPONENTS as readonly string[]).includes(c)) {
      const hint = (FLUX_COMPONENTS_EXTRA as readonly string[]).includes(c)
        ? `${c} is optional: list it under flux.componentsExtra`
        : `use some of ${FLUX_COMPONENTS.join(", ")}`;
      r.fail(`flux.components[${i}]`, c, "is not a Flux component", hint);
    }
  }
  for (const needed of REQUIRED_COMPONENTS) {
    if (Array.isArray(f.components) && !components.includes(needed)) {
      r.fail("flux.components", f.components, `lacks ${needed}`, `add ${needed}: the fleet cannot sync without it`);
    }
  }
  const componentsExtra = r.stringList("flux.componentsExtra", f.componentsExtra);
  for (const [i, c] of componentsExtra.entries()) {
    if (!(FLUX_COMPONENTS_EXTRA as readonly string[]).includes(c)) {
      r.fail(`flux.componentsExtra[${i}]`, c, "is not an optional Flux component", `use some of ${FLUX_COMPONENTS_EXTRA.join(", ")}`);
    }
  }
  const all = [...components, ...componentsExtra];
  const dup = all.find((c, i) => all.indexOf(c) !== i);
  if (dup) r.fail("flux.components", dup, "is listed twice", "list each component once");

  const fix = `use a directory inside the fleet repository, e.g. "clusters/${environment}"`;
  const fluxPath = r.repoPath("flux.path", f.path, false, fix);
  if (fluxPath === "") {
    r.fail("flux.path", f.path, "is the repository root", fix);
  } else if (fluxPath !== undefined && !/^clusters\/./.test(fluxPath)) {
    // The plan finds a stack's files, and other stacks' references to shared ones, under clusters/ only.
    r.fail("flux.path", f.path, "is not under clusters/, where the shared-file rule and destroy look for a stack's files", fix);
  }
  const manifests = r.string("flux.manifests", f.manifests, true);
  const manifestsSha256 = r.string("flux.manifestsSha256", f.manifestsSha256, true).toLowerCase();
  if (manifestsSha256 !== "" && !/^[0-9a-f]{64}$/.test(manifestsSha256)) {
    r.fail(
      "flux.manifestsSha256",
      f.manifestsSha256,
      "is not a SHA-256 digest",
      'give the 64 hex digits of the install manifest\'s SHA-256 (sha256sum install.yaml), or ""',
    );
  }
  const defaultServiceAccount = r.dns1123("flux.defaultServiceAccount", f.defaultServiceAccount);
  const workloadIdentityLockdown = r.boolean("flux.workloadIdentityLockdown", f.workloadIdentityLockdown);
  if (workloadIdentityLockdown && FLUX_VERSION.test(version) && olderThan(version, MIN_WORKLOAD_IDENTITY_FLUX)) {
    r.fail(
      "flux.workloadIdentityLockdown",
      true,
      `needs Flux ${MIN_WORKLOAD_IDENTITY_FLUX} or later (flux.version is ${version}, whose controllers would refuse the lockdown's flags and not start)`,
      `set flux.version to ${MIN_WORKLOAD_IDENTITY_FLUX} or later, or leave the lockdown off`,
    );
  }
  return { version, components, componentsExtra, path: fluxPath ?? "", manifests, manifestsSha256, defaultServiceAccount, workloadIdentityLockdown };
}
