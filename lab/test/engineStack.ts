// One lab stack of the program under the real Pulumi CLI: its workspace and stack file, the commands the engine suites run.
import * as assert from "assert/strict";
import * as fs from "fs";
import * as path from "path";
import { parse, stringify } from "yaml";
import { authorize } from "../lab";
import { capturePulumi, engineWorkspace } from "../pulumi";
import type { LabState } from "../state";
import { getJson, waitFor } from "./support";

export const KUSTOMIZATIONS = "kustomizations.kustomize.toolkit.fluxcd.io";

type Condition = { type: string; status: string; message?: string };
/** What the suites read of a Flux object. */
export type FluxObject = { status?: { conditions?: Condition[]; lastAppliedRevision?: string; artifact?: { revision?: string } } };
/** Its Ready condition. */
export const ready = (o: FluxObject | undefined) => o?.status?.conditions?.find((c) => c.type === "Ready");

/** Waits until Flux reports the Kustomization Ready (at `revision`, when given); what it last saw, if it does not. */
export function kustomizationReady(state: LabState, namespace: string, name: string, opts: { revision?: string; seconds?: number } = {}): Promise<FluxObject> {
  const { revision, seconds = 120 } = opts;
  return waitFor(`Kustomization ${namespace}/${name} Ready${revision ? ` at ${revision}` : ""}`, seconds, async () => {
    const o = await getJson<FluxObject>(state, [KUSTOMIZATIONS, "-n", namespace, name]);
    const r = ready(o);
    return r?.status === "True" && (!revision || o?.status?.lastAppliedRevision === revision)
      ? { value: o! }
      : { seen: `${r?.message ?? "absent"} at ${o?.status?.lastAppliedRevision}` };
  });
}

/** A step of a preview's plan. */
export type Step = { op: string; urn: string };

/** A resource's name, the last part of its URN. */
export const shortName = (urn: string) => urn.split("::").pop() ?? urn;

/**
 * The keys an `up` stopped to ask for (its `  <url>: <public key>` lines, Git hosts other than GitHub), registered on
 * the lab's Git server as a platform team registers them on its host: repository URL to key.
 */
export async function registerAskedKeys(state: LabState, dir: string, output: string): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  for (const m of output.matchAll(/(ssh:\/\/\S+): (ecdsa-sha2-nistp384 [A-Za-z0-9+/=]+)\s*$/gm)) found[m[1]] = m[2];
  for (const [i, [repo, key]] of Object.entries(found).entries()) {
    const file = path.join(dir, `${path.basename(repo)}-${i}-${Date.now()}.pub`);
    fs.writeFileSync(file, `${key} ${repo}\n`);
    await authorize(state, file);
  }
  return found;
}

export class EngineStack {
  readonly workspace: string;
  readonly file: string;

  constructor(
    readonly state: LabState,
    readonly name: string,
    /** Where each run's output goes as it comes (none: only collected). */
    private readonly echo?: (chunk: string) => void,
  ) {
    this.workspace = engineWorkspace(name);
    this.file = path.join(this.workspace, `Pulumi.${name}.yaml`);
  }

  /** Runs `pulumi <args>` on this stack (its flag before a `--` that ends the flags: config values may start with a dash). */
  pulumi(...args: string[]): Promise<{ code: number; output: string }> {
    const end = args.indexOf("--");
    const withStack = end < 0 ? [...args, "--stack", this.name] : [...args.slice(0, end), "--stack", this.name, ...args.slice(end)];
    return capturePulumi(this.state, this.workspace, withStack, this.echo);
  }

  /** Runs a command that must succeed; on failure the error carries Pulumi's output. */
  async ok(...args: string[]): Promise<string> {
    const r = await this.pulumi(...args);
    if (r.code !== 0) assert.fail(`pulumi ${args.join(" ")} exited ${r.code}:\n${r.output}`);
    return r.output;
  }

  async outputs(): Promise<Record<string, unknown>> {
    return JSON.parse(await this.ok("stack", "output", "--json")) as Record<string, unknown>;
  }

  /** The steps a preview plans that change something (`args` added to the preview). */
  async planned(...args: string[]): Promise<Step[]> {
    const out = await this.ok("preview", "--json", ...args);
    return (JSON.parse(out) as { steps: Step[] }).steps.filter((s) => s.op !== "same" && s.op !== "refresh");
  }

  /** Changes the stack file's config in place. */
  setConfig(change: (config: Record<string, unknown>) => void): void {
    const doc = parse(fs.readFileSync(this.file, "utf8")) as { config?: Record<string, unknown> };
    change((doc.config ??= {}));
    fs.writeFileSync(this.file, stringify(doc));
  }

  /** Whatever happened, leaves nothing of this stack on the cluster (a failed run's Flux would otherwise stay), and removes it. */
  async remove(): Promise<void> {
    if (!fs.existsSync(this.file)) return;
    await this.pulumi("destroy", "--yes", "--skip-preview");
    await this.pulumi("stack", "rm", "--yes", "--force");
  }
}
