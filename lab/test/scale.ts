// Time to Ready at fleet scale: the program's own providers, in the order `pulumi up` runs them, for N tenants on the lab.
import * as fs from "fs";
import { randomBytes } from "crypto";
import { parseConfig } from "../../config";
import { fluxInstallProvider, fluxSyncProvider, readiness, waitReady, type FluxInstallInputs, type FluxStatus } from "../../components/providers/flux";
import { applyObjects, clusterUid, type Kubectl, watchOneArgs, withKubectl } from "../../components/providers/kubectl";
import { renderFleet } from "../../manifests";
import { bootstrapObjects } from "../../manifests/fluxBuild";
import { seededKustomizations } from "../../manifests/clusters";
import { gitSshSecretData } from "../../manifests/knownHosts";
import { FLUX_NAMESPACE, FLUX_SYSTEM } from "../../manifests/labels";
import { tenantGitSecretName } from "../../manifests/tenants";
import { labInstallManifest } from "../fluxRelease";
import { authorize } from "../lab";
import type { LabState } from "../state";
import { applySecret, ensureParamsKeeper, getJson, kubectl, Repo, sshKeyPair, tempDir } from "./support";
import { plainTenantFiles } from "./tenants";
import { fluxLogEvents, formatTimeline, tracedKubectl, waitSpans, type TimelineEvent, type WaitSpan } from "./timeline";

const GIT_REPOSITORIES = "gitrepositories.source.toolkit.fluxcd.io";
const KUSTOMIZATIONS = "kustomizations.kustomize.toolkit.fluxcd.io";
const ENV = "lab";
const WAIT_SECONDS = 600;
/** Resource operations `pulumi up` runs at once (its default --parallel on this machine's scale). */
const PARALLEL = 16;

export interface ScaleResult {
  readonly tenants: number;
  /** From the install's first apply to every seeded and tenant Kustomization Ready. */
  readonly installToReadyS: number;
  /** From a fleet commit's push to every fleet Kustomization Ready at it. */
  readonly commitToReadyS: number;
  /** From a tenant commit's push to that tenant's Kustomization Ready at it. */
  readonly tenantCommitToReadyS: number;
  /** Each wait of the install, in order, in seconds (tenants: the slowest). */
  readonly installSteps: string[];
  /** Flux's own share of the tenants' step: from `tenants` Ready to the last tenant Ready, by their Ready transition times (1 s resolution). */
  readonly fluxTenantsS: number;
  /** Whether the waits asked Flux to reconcile (as the program's do), or only watched it work to its own timers. */
  readonly aided: boolean;
  /** The install's waits, each: first asked, Flux's last reconcile before we saw it Ready, seen Ready (seconds from the install). */
  readonly spans: WaitSpan[];
  /** Every request, poll answer and Flux log line of the install, in order (seconds from the install). */
  readonly timeline: string[];
}

/** How the measurement waits: as the program does (asking Flux to reconcile), or leaving Flux to its own timers. */
export interface ScaleOptions {
  /** Default true. False: the waits only poll (every 250 ms), and nothing asks Flux to reconcile. */
  readonly aided?: boolean;
}

/** `fn` over `items`, at most `limit` at once, as the engine runs independent resources. */
async function parallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const seconds = (since: number) => Math.round((Date.now() - since) / 100) / 10;

/**
 * Bootstraps Flux for `n` tenants (each its own repository and deploy key on the lab's Git server),
 * measures install-to-all-Ready, a fleet commit and a tenant commit to Ready, then uninstalls Flux
 * and deletes the tenants' namespaces. The lab must have no Flux installed.
 */
export async function measureScale(
  state: LabState,
  n: number,
  log: (line: string) => void = () => undefined,
  options: ScaleOptions = {},
): Promise<ScaleResult> {
  const aided = options.aided ?? true;
  if (await getJson(state, ["namespace", FLUX_NAMESPACE])) throw new Error("Flux is installed on the lab already: uninstall it (or restart the lab) first");
  const id = randomBytes(3).toString("hex");
  // Names of this run only: the namespaces of an earlier run may still be terminating.
  const names = Array.from({ length: n }, (_, i) => `t${id}-${String(i + 1).padStart(3, "0")}`);
  const keys = tempDir("scale-keys");
  const kubeconfig = fs.readFileSync(state.kubeconfigs.admin, "utf8");
  const uid = (await withKubectl(kubeconfig, clusterUid)) ?? "";
  const fleet = new Repo(state, `scale-${id}-fleet`);
  const tenantRepos = Object.fromEntries(names.map((t) => [t, new Repo(state, `scale-${id}-${t}`)]));
  let installed: FluxInstallInputs | undefined;
  try {
    const fleetKey = await sshKeyPair(keys, "flux-system");
    await authorize(state, fleetKey.publicKeyFile);
    const tenantKeys: Record<string, Awaited<ReturnType<typeof sshKeyPair>>> = {};
    for (const t of names) {
      tenantKeys[t] = await sshKeyPair(keys, t);
      await authorize(state, tenantKeys[t].publicKeyFile);
    }
    const raw = (tenantsInterval: string) => ({
      cluster: { provider: "existing" },
      fleet: { provider: "git", url: fleet.url, branch: "main" },
      policies: { engine: "vap", allowedSourcePrefixes: [`${state.git.url}/`] },
      reconcile: { tenantsInterval },
      tenants: names.map((name) => ({ name, repository: { url: tenantRepos[name].url, deployKey: true } })),
      knownHosts: fs.readFileSync(state.git.knownHosts, "utf8"),
    });
    const config = parseConfig(raw("5m"), { stack: ENV });
    const manifest = await labInstallManifest();
    const render = (c: typeof config) => renderFleet({ config: c, installManifest: manifest.text, installSource: manifest.source });
    const tree = render(config);
    const objects = bootstrapObjects(config, tree[`clusters/${ENV}/flux-system/gotk-components.yaml`]);
    let revision = await fleet.commit(tree, "scale: fleet");
    await parallel(names, 8, async (t) => void (await tenantRepos[t].commit(plainTenantFiles(t, ENV), `${t}: workloads`)));
    log(`${n} tenants: repositories pushed`);

    const steps: string[] = [];
    const events: TimelineEvent[] = [];
    const wait = async (k: Kubectl, resource: string, namespace: string, name: string, at: string) =>
      aided
        ? waitReady(tracedKubectl(k, events), { resource, namespace, name, revision: at, timeoutSeconds: WAIT_SECONDS })
        : watchReady(tracedKubectl(k, events), resource, namespace, name, at);
    const fleetWaits = async (k: Kubectl, at: string, record?: string[]) => {
      for (const [resource, name] of [
        [GIT_REPOSITORIES, FLUX_SYSTEM],
        [KUSTOMIZATIONS, FLUX_SYSTEM],
        ...seededKustomizations(config)
          .filter((s) => s.namespace === FLUX_NAMESPACE)
          .map((s) => [KUSTOMIZATIONS, s.name]),
      ]) {
        const t = Date.now();
        await wait(k, resource, FLUX_NAMESPACE, name, at);
        record?.push(`${resource === GIT_REPOSITORIES ? "source" : name} ${seconds(t)}s`);
      }
    };

    const install: FluxInstallInputs = {
      kubeconfig,
      clusterUid: uid,
      version: config.flux.version,
      clusterName: ENV,
      kindHost: "",
      foundation: objects.foundation,
      components: objects.components,
      timeoutSeconds: WAIT_SECONDS,
    };
    // The program's keeper of the API server's ConfigMap-parameter watch, made beside the install (not timed: once a cluster).
    await ensureParamsKeeper(state);
    const started = Date.now();
    installed = install;
    await fluxInstallProvider.create!(install);
    steps.push(`install ${seconds(started)}s`);
    await withKubectl(kubeconfig, async (k) => {
      await applySecret(state, FLUX_NAMESPACE, FLUX_SYSTEM, gitSshSecretData(fleetKey.privateKey, fleetKey.publicKey, config.knownHosts));
      await fluxSyncProvider.create!({ kubeconfig, clusterUid: uid, path: config.flux.path, objects: objects.sync });
      await fleetWaits(k, revision, steps);
      // Each tenant as the engine runs it: its Secret once `tenants` made the namespace (the engine's Kubernetes provider
      // creates them at once, through one process: here one apply), then its wait: its source Ready, then its
      // Kustomization (a tenant with a deploy key: FluxReady with its source input).
      const t = Date.now();
      await applyObjects(
        k,
        config.tenants.map((tenant) => ({
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: tenantGitSecretName(tenant), namespace: tenant.namespace },
          type: "Opaque",
          stringData: gitSshSecretData(tenantKeys[tenant.name].privateKey, tenantKeys[tenant.name].publicKey, config.knownHosts),
        })),
      );
      await parallel(config.tenants, PARALLEL, async (tenant) => {
        await wait(k, GIT_REPOSITORIES, tenant.namespace, tenant.name, "");
        await wait(k, KUSTOMIZATIONS, tenant.namespace, tenant.name, "");
      });
      steps.push(`${n} tenants ${seconds(t)}s`);
    });
    const installToReadyS = seconds(started);
    type Ready = { metadata: { name: string; namespace: string }; status?: { conditions?: { type: string; lastTransitionTime?: string }[] } };
    const readyAt = (o: Ready | undefined) => Date.parse(o?.status?.conditions?.find((c) => c.type === "Ready")?.lastTransitionTime ?? "");
    const tenantsReady = readyAt(await getJson<Ready>(state, [KUSTOMIZATIONS, "-n", FLUX_NAMESPACE, "tenants"]));
    const all = await getJson<{ items: Ready[] }>(state, [KUSTOMIZATIONS, "-A"]);
    const tenantObjects = (all?.items ?? []).filter((o) => names.includes(o.metadata.namespace) && o.metadata.name === o.metadata.namespace);
    const fluxTenantsS = (Math.max(...tenantObjects.map(readyAt)) - tenantsReady) / 1000;
    const everything = [...events, ...fluxLogEvents(started, Date.now())];
    const timeline = formatTimeline(started, everything);
    const spans = waitSpans(started, everything);
    const how = aided ? "" : " (unaided: Flux's own timers)";
    log(`${n} tenants${how}: install to all Ready ${installToReadyS}s (${steps.join(", ")}); Flux made the last tenant Ready ${fluxTenantsS}s after tenants`);
    if (!aided)
      return { tenants: n, installToReadyS, commitToReadyS: NaN, tenantCommitToReadyS: NaN, installSteps: steps, fluxTenantsS, aided, spans, timeline };

    // A fleet commit (the tenants' interval), pushed and waited for as up does.
    revision = await fleet.commit(render(parseConfig(raw("6m"), { stack: ENV })), "scale: tenants interval 6m");
    const committed = Date.now();
    await withKubectl(kubeconfig, (k) => fleetWaits(k, revision));
    const commitToReadyS = seconds(committed);
    // A tenant commit: its source and Kustomization, as the tenant's own push reaches Ready.
    const first = names[0];
    const tenantRevision = await tenantRepos[first].commit(plainTenantFiles(first, ENV, "hello again"), `${first}: new greeting`);
    const tenantCommitted = Date.now();
    await withKubectl(kubeconfig, async (k) => {
      await wait(k, GIT_REPOSITORIES, first, first, tenantRevision);
      await wait(k, KUSTOMIZATIONS, first, first, tenantRevision);
    });
    const tenantCommitToReadyS = seconds(tenantCommitted);
    log(`${n} tenants: fleet commit to Ready ${commitToReadyS}s, tenant commit to Ready ${tenantCommitToReadyS}s`);

    return { tenants: n, installToReadyS, commitToReadyS, tenantCommitToReadyS, installSteps: steps, fluxTenantsS, aided, spans, timeline };
  } finally {
    // The program's uninstall, however the measurement ended, so the lab is left without Flux.
    if (installed) await fluxInstallProvider.delete!(`${FLUX_NAMESPACE}@${uid}`, installed);
    await kubectl(state, ["delete", "namespace", "--ignore-not-found", "--wait=false", ...names]).catch(() => undefined);
    fleet.remove();
    for (const r of Object.values(tenantRepos)) r.remove();
    fs.rmSync(keys, { recursive: true, force: true });
  }
}

/**
 * A wait that asks nothing: it watches the object (one kubectl process, as the program's waits do) until Flux, to its
 * own timers, reports it Ready (at `revision` unless empty).
 */
async function watchReady(k: Kubectl, resource: string, namespace: string, name: string, revision: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      w?.stop();
      reject(new Error(`${resource} ${namespace}/${name} is not Ready after ${WAIT_SECONDS}s (unaided)`));
    }, WAIT_SECONDS * 1000);
    const w = k.watch?.(
      watchOneArgs(namespace, resource, name),
      (e) => {
        if (e.type !== "DELETED" && readiness(e.object as FluxStatus, revision).ready) {
          clearTimeout(timer);
          w?.stop();
          resolve();
        }
      },
      (error) => error && (clearTimeout(timer), reject(new Error(`watching ${resource} ${namespace}/${name}: ${error}`))),
    );
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export interface ScaleMedians {
  readonly installToReadyS: number;
  readonly commitToReadyS: number;
  readonly tenantCommitToReadyS: number;
  /** The same install with nothing asking Flux to reconcile: Flux's own timers and the stack's intervals. */
  readonly unaidedInstallToReadyS: number;
  readonly runs: number;
}

/**
 * `runs` measurements per size, each an install as the program waits and the same install left to Flux's own timers;
 * the medians, by size. With `timeline`, each run's timeline goes to `log` as well.
 */
export async function scaleMedians(
  state: LabState,
  sizes: readonly number[],
  runs: number,
  log: (line: string) => void,
  timeline = false,
): Promise<Record<string, ScaleMedians>> {
  const out: Record<string, ScaleMedians> = {};
  const show = (r: ScaleResult) => {
    log(
      `${r.tenants} tenants${r.aided ? "" : " (unaided)"}, each wait: ${r.spans
        .map(
          (w) =>
            `${w.object} from +${w.startS}s, ${w.askedS === undefined ? "not asked" : `asked +${w.askedS}s`}, Flux done +${w.fluxDoneS ?? "?"}s, seen +${w.observedS ?? "?"}s`,
        )
        .join("; ")}`,
    );
    if (timeline) for (const line of r.timeline) log(`  ${line}`);
  };
  for (const n of sizes) {
    const aided: ScaleResult[] = [];
    const unaided: ScaleResult[] = [];
    for (let i = 0; i < runs; i++) {
      aided.push(await measureScale(state, n, log));
      show(aided[i]);
      unaided.push(await measureScale(state, n, log, { aided: false }));
      show(unaided[i]);
    }
    out[String(n)] = {
      installToReadyS: median(aided.map((r) => r.installToReadyS)),
      commitToReadyS: median(aided.map((r) => r.commitToReadyS)),
      tenantCommitToReadyS: median(aided.map((r) => r.tenantCommitToReadyS)),
      unaidedInstallToReadyS: median(unaided.map((r) => r.installToReadyS)),
      runs,
    };
  }
  return out;
}
