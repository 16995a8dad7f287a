// What kustomize-controller builds from clusters/<env>/flux-system/, built here so bootstrap applies exactly that.
import type { StackConfig } from "../config";
import { fluxSyncObjects, lockdownPatches } from "./fluxSystem";
import { type KubeObject, parseYamlDocuments } from "./yaml";
import { parse } from "yaml";

/** The objects bootstrap applies, in the order it applies them. */
export interface BootstrapObjects {
  /** CustomResourceDefinitions and the flux-system Namespace: applied first, waited for. */
  readonly foundation: KubeObject[];
  /** Everything else of gotk-components.yaml, lockdown patches applied. */
  readonly components: KubeObject[];
  /** GitRepository + Kustomization flux-system, lockdown patch applied. */
  readonly sync: KubeObject[];
}

type Op = { op: string; path: string; value: unknown };

/** RFC 6902 `add` (the only operation the lockdown uses), on a copy. */
function applyAdd(target: KubeObject, op: Op): KubeObject {
  if (op.op !== "add") throw new Error(`unsupported patch operation ${op.op}`);
  const copy = structuredClone(target) as Record<string, unknown>;
  const keys = op.path
    .split("/")
    .slice(1)
    .map((k) => k.replace(/~1/g, "/").replace(/~0/g, "~"));
  let cur: unknown = copy;
  for (const key of keys.slice(0, -1)) {
    cur = Array.isArray(cur) ? cur[Number(key)] : (cur as Record<string, unknown>)[key];
    if (cur === undefined || cur === null) throw new Error(`patch path ${op.path} does not exist in ${target.kind}/${target.metadata.name}`);
  }
  const last = keys[keys.length - 1];
  if (Array.isArray(cur)) {
    if (last === "-") cur.push(op.value);
    else cur.splice(Number(last), 0, op.value);
  } else {
    (cur as Record<string, unknown>)[last] = op.value;
  }
  return copy as KubeObject;
}

/** Kustomize's target match: kind equal, name a regular expression anchored at both ends. */
function matches(obj: KubeObject, target: { kind: string; name: string }): boolean {
  return obj.kind === target.kind && new RegExp(`^(?:${target.name})$`).test(obj.metadata.name);
}

function patched(objects: KubeObject[], config: StackConfig): KubeObject[] {
  const patches = lockdownPatches(config);
  return objects.map((obj) => patches.filter((p) => matches(obj, p.target)).reduce((o, p) => (parse(p.patch) as Op[]).reduce(applyAdd, o), obj));
}

/**
 * The objects `kubectl kustomize clusters/<env>/flux-system` gives for this config, split in
 * the order bootstrap applies them. Flux's first reconcile of itself then finds nothing to change.
 */
export function bootstrapObjects(config: StackConfig, gotkComponents: string): BootstrapObjects {
  const all = patched(parseYamlDocuments(gotkComponents, "gotk-components.yaml") as KubeObject[], config);
  const isFoundation = (o: KubeObject) => o.kind === "CustomResourceDefinition" || o.kind === "Namespace";
  return {
    foundation: all.filter(isFoundation),
    components: all.filter((o) => !isFoundation(o)),
    sync: patched(fluxSyncObjects(config), config),
  };
}

/** Plural resource names of the Flux custom resources an install manifest defines (for uninstall). */
export function fluxCustomResources(foundation: readonly KubeObject[]): string[] {
  return foundation
    .filter((o) => o.kind === "CustomResourceDefinition")
    .map((o) => o.metadata.name)
    .sort();
}
