// The real Pulumi engine at fleet scale: the program under the lab's Pulumi CLI with N tenants, each its own repository
// and deploy key on the lab's Git server, timed at each step a user waits for, and its state measured.
import * as fs from "fs";
import { randomBytes } from "crypto";
import { labInstallManifest } from "../fluxRelease";
import { authorize } from "../lab";
import type { LabState } from "../state";
import { EngineStack, registerAskedKeys } from "./engineStack";
import { kubectl, Repo, sshKeyPair, tempDir } from "./support";
import { plainTenantFiles } from "./tenants";

const ENV = "lab";
const PROJECT = "flux-multi-tenancy";

export interface EngineScaleResult {
  readonly tenants: number;
  /** `up` from nothing once the keys it named are registered: Flux installed, every Kustomization and tenant Ready. */
  readonly upS: number;
  /** The first `up` from nothing, to its stop naming the keys to register. */
  readonly keysStopS: number;
  /** `preview --expect-no-changes` (the project refreshes first: every resource read). */
  readonly noopPreviewS: number;
  /** `up` adding one tenant, its key registered (the up before it stops naming the key: `addOneKeysStopS`). */
  readonly addOneS: number;
  readonly addOneKeysStopS: number;
  /** `up` removing that tenant (its goodbye included). */
  readonly removeOneS: number;
  readonly destroyS: number;
  /** `pulumi stack export --show-secrets` after the first up, in bytes, divided by the tenant count. */
  readonly bytesPerTenant: number;
  /** Bytes of dynamic providers' text (`__provider`, inputs and outputs) in that export, and the largest one. */
  readonly providerCodeBytes: number;
  readonly largestProviderBytes: number;
  readonly stateBytes: number;
  readonly resources: number;
}

const seconds = (since: number) => Math.round((Date.now() - since) / 100) / 10;

/** The state's size and its dynamic providers' share, from an export with secrets shown. */
export function stateFigures(exported: string): {
  stateBytes: number;
  resources: number;
  providerCodeBytes: number;
  largestProviderBytes: number;
  /** Bytes by resource type (each resource as compact JSON), largest first: `<type> x<count> <bytes>`. */
  byType: string[];
} {
  type Res = { type: string; inputs?: Record<string, unknown>; outputs?: Record<string, unknown> };
  const resources = (JSON.parse(exported) as { deployment: { resources?: Res[] } }).deployment.resources ?? [];
  const texts = resources.flatMap((r) => [r.inputs?.__provider, r.outputs?.__provider]).filter((p): p is string => typeof p === "string");
  const byType = new Map<string, { count: number; bytes: number }>();
  for (const r of resources) {
    const t = byType.get(r.type) ?? { count: 0, bytes: 0 };
    byType.set(r.type, { count: t.count + 1, bytes: t.bytes + Buffer.byteLength(JSON.stringify(r)) });
  }
  return {
    stateBytes: Buffer.byteLength(exported),
    resources: resources.length,
    providerCodeBytes: texts.reduce((n, p) => n + Buffer.byteLength(p), 0),
    largestProviderBytes: Math.max(0, ...texts.map((p) => Buffer.byteLength(p))),
    byType: [...byType]
      .sort(([, a], [, b]) => b.bytes - a.bytes)
      .map(([type, t]) => `${type.replace(/^pulumi-nodejs:dynamic\/flux-multi-tenancy:/, "")} x${t.count} ${t.bytes}`),
  };
}

/**
 * One run of the program under the real engine with `n` tenants: up from nothing, a no-op preview, up adding one
 * tenant, up removing it, destroy. Everything it made is removed however it ends.
 */
export async function measureEngine(state: LabState, n: number, log: (line: string) => void = () => undefined): Promise<EngineScaleResult> {
  const id = randomBytes(3).toString("hex");
  const names = Array.from({ length: n + 1 }, (_, i) => `e${id}-${String(i + 1).padStart(3, "0")}`);
  const keys = tempDir("scale-engine-keys");
  const fleet = new Repo(state, `scale-engine-${id}-fleet`);
  const repos = Object.fromEntries(names.map((t) => [t, new Repo(state, `scale-engine-${id}-${t}`)]));
  const engine = new EngineStack(state, `scale-${id}`);
  const tenants = (count: number) => names.slice(0, count).map((name) => ({ name, repository: { url: repos[name].url, deployKey: true } }));
  try {
    for (const t of names) await repos[t].commit(plainTenantFiles(t, ENV), `${t}: workloads`);
    const pushKey = await sshKeyPair(keys, "fleet-push");
    await authorize(state, pushKey.publicKeyFile);
    await engine.ok("stack", "init", "--secrets-provider", "passphrase");
    const manifest = await labInstallManifest();
    engine.setConfig((c) => {
      c[`${PROJECT}:environment`] = ENV;
      c[`${PROJECT}:cluster`] = { provider: "existing" };
      c[`${PROJECT}:flux`] = { manifests: manifest.file };
      c[`${PROJECT}:fleet`] = { provider: "git", url: fleet.url };
      c[`${PROJECT}:policies`] = { engine: "vap", allowedSourcePrefixes: [`${state.git.url}/`] };
      c[`${PROJECT}:tenants`] = tenants(n);
      c[`${PROJECT}:knownHosts`] = fs.readFileSync(state.git.knownHosts, "utf8");
    });
    await engine.ok("config", "set", "--secret", `${PROJECT}:kubeconfig`, "--", fs.readFileSync(state.kubeconfigs.admin, "utf8"));
    await engine.ok("config", "set", "--secret", `${PROJECT}:fleetSshKey`, "--", pushKey.privateKey);
    log(`${n} tenants: repositories pushed, stack ${engine.name} set`);

    /** `up` that stops naming keys, the keys registered, then the `up` that does the work: both timed. */
    const upRegistering = async (expected: number): Promise<[number, number]> => {
      let t = Date.now();
      const stop = await engine.pulumi("up", "--yes", "--skip-preview");
      const stopS = seconds(t);
      const registered = Object.keys(await registerAskedKeys(state, keys, stop.output)).length;
      if (stop.code === 0 || registered !== expected)
        throw new Error(`up was to stop naming ${expected} keys; it named ${registered}:\n${stop.output.slice(-4000)}`);
      t = Date.now();
      await engine.ok("up", "--yes", "--skip-preview");
      return [stopS, seconds(t)];
    };

    const [keysStopS, upS] = await upRegistering(n + 1);
    log(`${n} tenants: up ${upS}s (${keysStopS}s to the keys to register)`);
    const exported = await engine.ok("stack", "export", "--show-secrets");
    // To read what the state holds: LAB_ENGINE_EXPORTS names a folder that keeps each run's export.
    if (process.env.LAB_ENGINE_EXPORTS) fs.writeFileSync(`${process.env.LAB_ENGINE_EXPORTS}/export-${n}-${id}.json`, exported);
    const figures = stateFigures(exported);
    log(
      `${n} tenants: state ${figures.stateBytes} bytes, ${figures.resources} resources, provider text ${figures.providerCodeBytes} bytes; by type: ${figures.byType.join(", ")}`,
    );

    let t = Date.now();
    await engine.ok("preview", "--expect-no-changes");
    const noopPreviewS = seconds(t);
    log(`${n} tenants: no-op preview ${noopPreviewS}s`);

    engine.setConfig((c) => (c[`${PROJECT}:tenants`] = tenants(n + 1)));
    const [addOneKeysStopS, addOneS] = await upRegistering(1);
    log(`${n} tenants: up adding one ${addOneS}s (${addOneKeysStopS}s to its key to register)`);

    engine.setConfig((c) => (c[`${PROJECT}:tenants`] = tenants(n)));
    t = Date.now();
    await engine.ok("up", "--yes", "--skip-preview");
    const removeOneS = seconds(t);
    log(`${n} tenants: up removing it ${removeOneS}s`);

    t = Date.now();
    await engine.ok("destroy", "--yes", "--skip-preview");
    const destroyS = seconds(t);
    log(`${n} tenants: destroy ${destroyS}s`);
    return {
      tenants: n,
      upS,
      keysStopS,
      noopPreviewS,
      addOneS,
      addOneKeysStopS,
      removeOneS,
      destroyS,
      bytesPerTenant: Math.round(figures.stateBytes / n),
      ...figures,
    };
  } finally {
    await engine.remove();
    // destroy leaves what Flux applied (as flux uninstall does): the tenants' namespaces go here, so the next run has
    // the lab's node to itself (kwok's node takes 110 pods).
    await kubectl(state, ["delete", "namespace", "--ignore-not-found", "--timeout=120s", ...names]).catch(() => undefined);
    fleet.remove();
    for (const r of Object.values(repos)) r.remove();
    fs.rmSync(keys, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export type EngineFigures = Record<string, { upS: number; noopPreviewS: number; addOneS: number; removeOneS: number; destroyS: number; runs: number }>;
export type StateFigures = Record<string, { bytesPerTenant: number; providerCodeBytes: number; largestProviderBytes: number; resources: number }>;

/** `runs` runs per size: the engine's medians and the state's figures (the same every run), by size. */
export async function engineMedians(
  state: LabState,
  sizes: readonly number[],
  runs: number,
  log: (line: string) => void,
): Promise<{ engine: EngineFigures; state: StateFigures }> {
  const engine: EngineFigures = {};
  const stateOut: StateFigures = {};
  for (const n of sizes) {
    const results: EngineScaleResult[] = [];
    for (let i = 0; i < runs; i++) results.push(await measureEngine(state, n, log));
    const m = (k: keyof EngineScaleResult) => median(results.map((r) => r[k] as number));
    engine[String(n)] = { upS: m("upS"), noopPreviewS: m("noopPreviewS"), addOneS: m("addOneS"), removeOneS: m("removeOneS"), destroyS: m("destroyS"), runs };
    stateOut[String(n)] = {
      bytesPerTenant: m("bytesPerTenant"),
      providerCodeBytes: m("providerCodeBytes"),
      largestProviderBytes: m("largestProviderBytes"),
      resources: m("resources"),
    };
  }
  return { engine, state: stateOut };
}
