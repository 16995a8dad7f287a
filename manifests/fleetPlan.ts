// What one stack's commit to the shared fleet repository writes and deletes, given what the repository holds.
import { createHash } from "crypto";
import * as path from "path";
import { isSharedPath } from "./fleet";
import { parseYamlDocuments } from "./yaml";

export interface PlanInput {
  /** What this stack renders now; empty when the stack is destroyed. */
  readonly desired: Readonly<Record<string, string>>;
  /** Paths this stack committed last time (from its state); they are its to delete. */
  readonly previous: readonly string[];
  /** The repository's files under clusters/, tenants/ and infrastructure/: path -> Git blob SHA. */
  readonly current: ReadonlyMap<string, string>;
  /** Text of the repository files that may reference shared directories (see referenceCandidates). */
  readonly texts: ReadonlyMap<string, string>;
}

export interface SharedConflict {
  readonly path: string;
  /** Repository files of other stacks that reference the file's directory. */
  readonly usedBy: readonly string[];
}

export interface FleetPlan {
  /** path -> new text, for files that are missing or differ. */
  readonly writes: Readonly<Record<string, string>>;
  readonly deletes: readonly string[];
  /** Shared files this stack would change while another stack reads them: refused. */
  readonly conflicts: readonly SharedConflict[];
}

/** The repository roots a stack's commit reads and writes. */
export const FLEET_ROOTS = ["clusters/", "tenants/", "infrastructure/", "policies/"];

/** Git's blob id of a text: files are compared by it, so unchanged files are never downloaded. */
export function gitBlobSha(text: string): string {
  const body = Buffer.from(text, "utf8");
  return createHash("sha1").update(`blob ${body.length}\0`).update(body).digest("hex");
}

/**
 * Repository files that may point into shared directories and are not this stack's: other
 * stacks' YAML under clusters/, tenants/ and policies/ (Flux's own gotk-components.yaml aside).
 */
export function referenceCandidates(paths: Iterable<string>, ours: ReadonlySet<string>): string[] {
  return [...paths].filter(
    (p) =>
      (p.startsWith("clusters/") || p.startsWith("tenants/") || p.startsWith("policies/")) &&
      !isSharedPath(p) &&
      p.endsWith(".yaml") &&
      !p.endsWith("/gotk-components.yaml") &&
      !ours.has(p),
  );
}

/** The shared directory (infrastructure/<d>/, tenants/base/<t>/ or policies/base/) a repository path lies in. */
function sharedDir(p: string): string | undefined {
  const m = /^(infrastructure\/[^/]+|tenants\/base\/[^/]+|policies\/base)(\/|$)/.exec(p);
  return m ? `${m[1]}/` : undefined;
}

/** Shared directories a file references: Flux Kustomization paths and kustomize resources. */
function references(file: string, text: string): string[] {
  let docs: unknown[];
  try {
    docs = parseYamlDocuments(text, file);
  } catch {
    return []; // not ours to judge; an unparsable file references nothing we can see
  }
  const out: string[] = [];
  for (const doc of docs) {
    const o = doc as { apiVersion?: string; spec?: { path?: unknown }; resources?: unknown };
    if (typeof o?.apiVersion === "string" && o.apiVersion.startsWith("kustomize.toolkit.fluxcd.io/") && typeof o.spec?.path === "string") {
      out.push(path.posix.normalize(o.spec.path));
    }
    if (typeof o?.apiVersion === "string" && o.apiVersion.startsWith("kustomize.config.k8s.io/") && Array.isArray(o.resources)) {
      for (const r of o.resources) if (typeof r === "string") out.push(path.posix.join(path.posix.dirname(file), r));
    }
  }
  return out.map((p) => sharedDir(`${p}/`)).filter((d): d is string => d !== undefined);
}

/**
 * Plans one commit: write what differs, delete what this stack wrote before and renders no
 * more, and keep every shared file another stack still references. A shared file another stack
 * references is never changed here (that would flip-flop between the stacks' commits): it is
 * reported as a conflict instead.
 */
export function planFleetCommit(input: PlanInput): FleetPlan {
  const ours = new Set([...Object.keys(input.desired), ...input.previous]);
  // Who else reads which shared directory: the other stacks' files.
  const usedBy = new Map<string, string[]>();
  for (const file of referenceCandidates(input.current.keys(), ours)) {
    const text = input.texts.get(file);
    if (text === undefined) continue;
    for (const dir of references(file, text)) usedBy.set(dir, [...(usedBy.get(dir) ?? []), file]);
  }
  const readers = (p: string) => {
    const dir = sharedDir(p);
    return dir ? (usedBy.get(dir) ?? []) : [];
  };

  const writes: Record<string, string> = {};
  const conflicts: SharedConflict[] = [];
  for (const [p, text] of Object.entries(input.desired)) {
    const now = input.current.get(p);
    if (now === gitBlobSha(text)) continue;
    if (now !== undefined && isSharedPath(p) && readers(p).length > 0) {
      conflicts.push({ path: p, usedBy: readers(p) });
      continue;
    }
    writes[p] = text;
  }
  const deletes = input.previous
    .filter((p) => !(p in input.desired) && input.current.has(p))
    .filter((p) => !isSharedPath(p) || readers(p).length === 0)
    .sort();
  return { writes, deletes, conflicts };
}

/** The message for refused shared files: which files, who reads them, and what to make equal. */
export function conflictMessage(conflicts: readonly SharedConflict[]): string {
  const lines = conflicts.map((c) => `  ${c.path} (read through ${c.usedBy.join(", ")})`);
  return (
    `these shared fleet files differ from what another stack committed and still reads:\n${lines.join("\n")}\n` +
    "Shared files (infrastructure/, tenants/base/, policies/base/) must be rendered identically by every stack: give the tenants the same " +
    "namespace, repository and branch, and the policies the same settings, in every stack file (or move shared settings to Pulumi.yaml)."
  );
}

/**
 * What a commit writes for a plan: its writes, and the conflicting shared files too when the change
 * is deliberate (`overwriteShared`); otherwise a conflict refuses the whole commit.
 */
export function commitWrites(plan: FleetPlan, desired: Readonly<Record<string, string>>, overwriteShared: boolean): Record<string, string> {
  if (plan.conflicts.length > 0 && !overwriteShared) throw new Error(conflictMessage(plan.conflicts));
  return { ...plan.writes, ...Object.fromEntries(plan.conflicts.map((c) => [c.path, desired[c.path]])) };
}

/** A repository's files as path -> text, applied a plan to (what the commit does): for simulating stacks in turn. */
export function applyPlan(files: ReadonlyMap<string, string>, plan: FleetPlan): Map<string, string> {
  const next = new Map(files);
  for (const [p, text] of Object.entries(plan.writes)) next.set(p, text);
  for (const p of plan.deletes) next.delete(p);
  return next;
}

/** Plan input from a repository's files as path -> text (tests and benchmarks; the provider reads SHAs from GitHub). */
export function planAgainst(files: ReadonlyMap<string, string>, desired: Readonly<Record<string, string>>, previous: readonly string[]): FleetPlan {
  const current = new Map([...files].map(([p, t]) => [p, gitBlobSha(t)]));
  return planFleetCommit({ desired, previous, current, texts: files });
}
