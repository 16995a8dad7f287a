// Dynamic providers for Flux in a cluster: the install (applied once, uninstalled in Flux's order), the sync objects, the readiness waits.
import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { FLUX_NAMESPACE } from "../../manifests/labels";
import type { KubeObject } from "../../manifests/yaml";
import { type DynamicArgs, onlyCredentialsChanged, sleep } from "./exec";
import { githubClient } from "./github";
import { gitContains } from "./gitPush";
import { kindClusterIdentity } from "./kindCluster";
import { applyObjects, type Kubectl, probeCluster, watchOneArgs, withKubectl } from "./kubectl";
import { byReference } from "./reference";

// ---------------------------------------------------------------------------------------------
// Install: CRDs and Namespace, then the controllers, exactly as Flux renders them from Git.

export interface FluxInstallInputs {
  readonly kubeconfig: string;
  /** kube-system UID of the cluster installed into; a new cluster means a new install. */
  readonly clusterUid: string;
  readonly version: string;
  /** The cluster's name, and for kind the host running it ("" otherwise): where "gone" can be proven. */
  readonly clusterName: string;
  readonly kindHost: string;
  readonly foundation: KubeObject[];
  readonly components: KubeObject[];
  readonly timeoutSeconds: number;
}

async function installFlux(k: Kubectl, inputs: FluxInstallInputs): Promise<void> {
  await applyObjects(k, inputs.foundation);
  const crds = inputs.foundation.filter((o) => o.kind === "CustomResourceDefinition").map((o) => `crd/${o.metadata.name}`);
  if (crds.length > 0) await k(["wait", "--for=condition=Established", `--timeout=${inputs.timeoutSeconds}s`, ...crds]);
  await applyObjects(k, inputs.components);
  for (const d of inputs.components.filter((o) => o.kind === "Deployment")) {
    await k(["-n", d.metadata.namespace ?? FLUX_NAMESPACE, "rollout", "status", `deployment/${d.metadata.name}`, `--timeout=${inputs.timeoutSeconds}s`]);
  }
}

/** Removes the finalizers of every object of a custom resource (a resource already gone is skipped). */
async function stripFinalizers(k: Kubectl, resource: string): Promise<void> {
  let items: { metadata: { name: string; namespace?: string; finalizers?: string[] } }[];
  try {
    items = JSON.parse((await k(["get", resource, "-A", "-o", "json", "--ignore-not-found"])) || '{"items":[]}').items ?? [];
  } catch {
    return; // the CRD is already gone
  }
  for (const item of items.filter((i) => (i.metadata.finalizers ?? []).length > 0)) {
    const ns = item.metadata.namespace ? ["-n", item.metadata.namespace] : [];
    await k(["patch", resource, item.metadata.name, ...ns, "--type=merge", "-p", '{"metadata":{"finalizers":null}}']).catch(() => undefined);
  }
}

/**
 * `flux uninstall`'s order: the controllers first (so none can act on what follows: no pruning, no
 * finalizer put back), then the platform's admission policies Flux applied, every Flux object's finalizers, the CRDs (which take their objects
 * with them), the namespace. NotFound is never an error; nothing waits on a finalizer; the
 * controllers' Deployments and the namespace are given a bounded time to go.
 */
export async function uninstallFlux(
  k: Kubectl,
  state: Pick<FluxInstallInputs, "foundation" | "components">,
  namespaceTimeoutMs = 120_000,
  pollMs = 2000,
): Promise<void> {
  const crds = state.foundation.filter((o) => o.kind === "CustomResourceDefinition").map((o) => o.metadata.name);
  if (state.components.length > 0) {
    await k(["delete", "--ignore-not-found", "--wait=false", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: state.components }));
    const deployments = state.components.filter((o) => o.kind === "Deployment").map((o) => `deployment/${o.metadata.name}`);
    if (deployments.length > 0) {
      await k(["wait", "--for=delete", "-n", FLUX_NAMESPACE, `--timeout=${Math.round(namespaceTimeoutMs / 1000)}s`, ...deployments]).catch(() => undefined);
    }
  }
  // The platform's admission policies Flux applied (from the Kustomizations in flux-system) go with Flux: they read their
  // allowlist from a ConfigMap in flux-system, and left behind without it they would refuse every tenant source on the
  // cluster ("no params found"). What tenants applied, and the program's own keeper, stay.
  await k([
    "delete",
    "validatingadmissionpolicybindings,validatingadmissionpolicies",
    "-l",
    `kustomize.toolkit.fluxcd.io/namespace=${FLUX_NAMESPACE}`,
    "--ignore-not-found",
    "--wait=false",
  ]).catch(() => undefined); // a cluster without the admission policy API has none
  for (const r of crds) await stripFinalizers(k, r);
  if (crds.length > 0) await k(["delete", "crd", "--ignore-not-found", "--wait=false", ...crds]);
  await k(["delete", "namespace", FLUX_NAMESPACE, "--ignore-not-found", "--wait=false"]);
  const deadline = Date.now() + namespaceTimeoutMs;
  while ((await k(["get", "namespace", FLUX_NAMESPACE, "--ignore-not-found", "-o", "name"])).trim() !== "") {
    if (Date.now() >= deadline) {
      const status = await k(["get", "namespace", FLUX_NAMESPACE, "-o", "jsonpath={.status.conditions}"]).catch(() => "");
      throw new Error(`namespace ${FLUX_NAMESPACE} is still terminating after ${namespaceTimeoutMs / 1000}s: ${status}`);
    }
    await sleep(pollMs);
  }
}

/**
 * What the state keeps of the install: its inputs, but of each object only what uninstalling it needs (apiVersion,
 * kind, name, namespace) and a digest of the components. The objects themselves are the input already (some 300 KB
 * for Flux's seven controllers); keeping them twice made the install the state's largest resource. State written
 * before this kept the objects whole: uninstall reads either, and its digest is computed from them.
 */
export interface FluxInstallOutputs extends FluxInstallInputs {
  readonly componentsSha256?: string;
}

/** SHA-256 of a value's JSON: the digests the state keeps in place of what it need not hold. */
const sha256 = (value: unknown) => createHash("sha256").update(JSON.stringify(value)).digest("hex");

function objectRefs(objects: readonly KubeObject[]): KubeObject[] {
  return objects.map((o) => ({
    apiVersion: o.apiVersion,
    kind: o.kind,
    metadata: { name: o.metadata.name, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}) },
  }));
}

export function installOutputs(inputs: FluxInstallInputs): FluxInstallOutputs {
  return {
    ...inputs,
    foundation: objectRefs(inputs.foundation),
    components: objectRefs(inputs.components),
    componentsSha256: sha256(inputs.components),
  };
}

export const fluxInstallProvider: pulumi.dynamic.ResourceProvider<FluxInstallInputs, FluxInstallOutputs> = {
  async diff(_id, olds, news) {
    // A new cluster needs a new install. Anything else (a new Flux version) reaches the cluster
    // through gotk-components.yaml in Git: recorded here, never applied, never recreated.
    const replaces = olds.clusterUid !== news.clusterUid ? ["clusterUid"] : [];
    // A new kubeconfig (rotated credentials) is kept too, so a later uninstall uses the current one.
    const changes =
      replaces.length > 0 ||
      olds.version !== news.version ||
      olds.kubeconfig !== news.kubeconfig ||
      (olds.componentsSha256 ?? sha256(olds.components)) !== sha256(news.components);
    return { changes, replaces };
  },
  async create(inputs) {
    await withKubectl(inputs.kubeconfig, (k) => installFlux(k, inputs));
    return { id: `${FLUX_NAMESPACE}@${inputs.clusterUid}`, outs: installOutputs(inputs) };
  },
  async update(_id, _olds, news) {
    return { outs: installOutputs(news) };
  },
  async delete(_id, props) {
    await withKubectl(props.kubeconfig, (k) => uninstallFromCluster(k, props));
  },
};

/**
 * Delete's decision, with the credentials of the current up (not those of the create): uninstall from the
 * cluster Flux was installed in; skip one proven to be another (a new kube-system UID, a kind cluster its own host
 * no longer lists, or one kind made again under the same name); otherwise fail loudly, since skipping would leave
 * Flux running unseen. A kind cluster whose recorded credentials no longer work is asked through kind itself.
 */
export async function uninstallFromCluster(k: Kubectl, props: FluxInstallInputs, identify = kindClusterIdentity): Promise<void> {
  const probe = await probeCluster(k);
  if (probe.uid === props.clusterUid) return uninstallFlux(k, props);
  if (probe.uid !== undefined) return;
  // "" for any cluster but kind: an unreachable cloud or existing cluster is never taken for gone.
  let why = "";
  if (props.kindHost && props.clusterName) {
    const found = await identify(props.clusterName, props.kindHost, props.clusterUid);
    if (found.verdict === "gone") return;
    if (found.verdict === "same") return withKubectl(found.kubeconfig, (current) => uninstallFlux(current, props));
    why = `; ${found.why}`;
  }
  throw new Error(
    `cannot uninstall Flux: the cluster ${props.clusterName || "(unnamed)"} does not answer (${probe.error})${why}. ` +
      "Bring it back, or give the program current credentials (pulumi up stores them) and destroy again; " +
      "if the cluster is gone for good, drop Flux from the state with pulumi state delete on the FluxInstall resource.",
  );
}

// ---------------------------------------------------------------------------------------------
// Sync: GitRepository + Kustomization flux-system, applied at bootstrap and when the branch or URL moves.

export interface FluxSyncInputs {
  readonly kubeconfig: string;
  readonly clusterUid: string;
  /** The cluster path the root Kustomization syncs; cannot move without a re-bootstrap. */
  readonly path: string;
  readonly objects: KubeObject[];
}

export function pathChangeFailure(olds: Partial<FluxSyncInputs>, news: FluxSyncInputs): pulumi.dynamic.CheckFailure[] {
  if (olds.path === undefined || olds.path === news.path) return [];
  if (olds.clusterUid !== undefined && news.clusterUid !== undefined && olds.clusterUid !== news.clusterUid) return [];
  return [
    {
      property: "path",
      reason:
        `flux.path changed from ${olds.path} to ${news.path}, but Flux in this cluster syncs ${olds.path} and would prune ` +
        `everything it applied from there. Moving a cluster needs a re-bootstrap: destroy the stack and up again, or set flux.path back.`,
    },
  ];
}

export const fluxSyncProvider: pulumi.dynamic.ResourceProvider<FluxSyncInputs, FluxSyncInputs> = {
  async check(olds, news) {
    const failures = pathChangeFailure(olds, news);
    return failures.length > 0 ? { failures } : { inputs: news };
  },
  async diff(_id, olds, news) {
    const replaces = olds.clusterUid !== news.clusterUid ? ["clusterUid"] : [];
    // A new kubeconfig alone is recorded, not applied: the objects in the cluster are the same.
    const changes = replaces.length > 0 || olds.kubeconfig !== news.kubeconfig || JSON.stringify(olds.objects) !== JSON.stringify(news.objects);
    return { changes, replaces };
  },
  async create(inputs) {
    await withKubectl(inputs.kubeconfig, (k) => applyObjects(k, inputs.objects));
    return { id: `${FLUX_NAMESPACE}/${FLUX_NAMESPACE}@${inputs.clusterUid}`, outs: inputs };
  },
  async update(_id, olds, news) {
    if (onlyCredentialsChanged<FluxSyncInputs>(olds, news, ["kubeconfig"])) return { outs: news };
    // A branch or URL change is committed to the new branch, which Flux would never read: point Flux at it.
    await withKubectl(news.kubeconfig, (k) => applyObjects(k, news.objects));
    return { outs: news };
  },
  // The sync objects go with the install's uninstall (finalizers stripped first).
};

// ---------------------------------------------------------------------------------------------
// Readiness: wait for a Flux object to be Ready (at a revision), reporting Flux's own message.

export interface FluxReadyInputs {
  readonly kubeconfig: string;
  /** `gitrepositories.source.toolkit.fluxcd.io` or `kustomizations.kustomize.toolkit.fluxcd.io`. */
  readonly resource: string;
  readonly namespace: string;
  readonly name: string;
  /** Expected `<branch>@sha1:<sha>`, or "" for any revision. */
  readonly revision: string;
  readonly timeoutSeconds: number;
  /**
   * `owner/name` of the GitHub repository the revision is in ("" for none): when Flux is Ready at a
   * later commit (another stack pushed after this one), GitHub says whether it contains this one.
   */
  readonly repository: string;
  /** GitHub token for that check; "" reads GITHUB_TOKEN. */
  readonly token: string;
  /** GitHub API URL; "" for api.github.com. */
  readonly apiUrl: string;
  /** The fleet's URL on another Git host ("" for none): the same check, with git over SSH. */
  readonly gitUrl: string;
  /** The key that reads gitUrl (the push key); secret. */
  readonly sshKey: string;
  /** known_hosts lines of gitUrl's host. */
  readonly knownHosts: string;
  /**
   * For a GitRepository whose key the user registers on the Git host: what to register ("" for
   * none). When Flux cannot authenticate, the wait stops at once with it instead of timing out.
   */
  readonly hint: string;
  /**
   * A source of the same namespace and name to see Ready first, with the hint above (a tenant's GitRepository before its
   * Kustomization: one wait per tenant, not two). Absent for none, so waits written before it see no change.
   */
  readonly source?: string;
}

export interface FluxStatus {
  metadata?: { generation?: number };
  /** A Kustomization's source. */
  spec?: { sourceRef?: { kind: string; name: string; namespace?: string } };
  status?: {
    observedGeneration?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    artifact?: { revision?: string };
    lastAppliedRevision?: string;
    /** The last `reconcile.fluxcd.io/requestedAt` value Flux finished a reconcile for. */
    lastHandledReconcileAt?: string;
  };
}

/** Whether a Flux object is Ready at the expected revision, and Flux's own words about it. */
export function readiness(obj: FluxStatus | undefined, revision: string): { ready: boolean; message: string; other?: string } {
  if (!obj) return { ready: false, message: "not found" };
  const ready = obj.status?.conditions?.find((c) => c.type === "Ready");
  const observed = obj.status?.observedGeneration === obj.metadata?.generation;
  const at = obj.status?.artifact?.revision ?? obj.status?.lastAppliedRevision ?? "";
  const message = ready ? `${ready.reason ?? ready.status}: ${ready.message ?? ""}`.trim() : "no Ready condition yet";
  if (!ready || ready.status !== "True" || !observed) return { ready: false, message };
  if (revision !== "" && at !== revision) return { ready: false, message: `Ready at ${at || "no revision"}, waiting for ${revision}`, other: at || undefined };
  return { ready: true, message };
}

/** The commit SHA of a Flux revision (`main@sha1:<sha>`, or a bare SHA). */
export function revisionSha(revision: string): string {
  return revision.replace(/^.*(sha1|sha256):/, "");
}

/** Whether commit `head` contains commit `base`, as GitHub compares them. */
export type Contains = (base: string, head: string) => Promise<boolean>;

export function githubContains(inputs: Pick<FluxReadyInputs, "repository" | "token" | "apiUrl">): Contains | undefined {
  if (!inputs.repository) return undefined;
  const [owner, repo] = inputs.repository.split("/");
  return async (base, head) => {
    try {
      const { data } = await githubClient(inputs).rest.repos.compareCommits({ owner, repo, base, head });
      return data.status === "ahead" || data.status === "identical";
    } catch {
      return false; // unknown commits (a force-push elsewhere): keep waiting for the exact revision
    }
  };
}

/** How to tell whether a later commit contains this one: GitHub's compare, git on another host, or not at all. */
export function containsFor(inputs: FluxReadyInputs): Contains | undefined {
  if (inputs.repository) return githubContains(inputs);
  if (!inputs.gitUrl) return undefined;
  const branch = inputs.revision.replace(/@.*$/, "");
  return (base, head) => gitContains({ url: inputs.gitUrl, sshKey: inputs.sshKey, knownHosts: inputs.knownHosts }, branch, base, head);
}

/** Flux's words when a Git host refuses the key it was given (SSH or HTTPS). */
const AUTHENTICATION_FAILED = /unable to authenticate|permission denied|authentication required|access denied|could not read Username/i;

/** Kinds by resource name, for messages in Flux's terms. */
export const KINDS: Record<string, string> = { gitrepositories: "GitRepository", kustomizations: "Kustomization", helmreleases: "HelmRelease" };

/** The first poll comes this soon after the reconcile request; each later one waits twice as long, up to the interval. */
const FIRST_POLL_MS = 250;
/**
 * An object still not Ready this long after the last request is asked again: a reconcile that failed on
 * something passing (an admission policy whose parameter the API server had not loaded yet, a source
 * a moment behind) would otherwise retry only at its interval, minutes later.
 */
const REQUEST_AGAIN_MS = 10_000;
/**
 * A request Flux has not handled this long is asked again sooner: a reconcile already under way when it came (the
 * source's new artifact started it) can take the request's event in and still read the object from before it, and
 * nothing asks again until the next request.
 */
const UNHANDLED_AGAIN_MS = 2_000;

/** The API server's words when a ResourceQuota has no usage yet for what it counts. */
const QUOTA_STATUS_UNKNOWN = /status unknown for quota/;
/** The quota controller counts a new quota at once; one older than this without a count is stuck. */
const QUOTA_FIRST_COUNT_MS = 5_000;

type QuotaList = { items: { metadata: { name: string; namespace: string; creationTimestamp: string }; status?: { hard?: object; used?: object } }[] };

/**
 * The program's quotas (tenant guardrails) that are stuck without a count. The quota controller counts a quota when it is
 * created, but only the kinds it knows then: it learns new ones (Flux's, from its CRDs) by discovery every 30 s, and
 * counts an existing quota again only at its full resync (5 minutes by default) or when a counted object changes or
 * goes. A quota of Flux objects made within 30 s of Flux's CRDs (every first up) therefore refuses each of them ("status
 * unknown for quota") for minutes. Deleting such a quota lets Flux apply it again at the next reconcile, counted from
 * the start; until then it refused every object it counts anyway. Returns `<namespace>/<name>` of those deleted.
 */
export async function recountStuckQuotas(k: Kubectl, now = Date.now()): Promise<string[]> {
  const text = await k(["get", "resourcequotas", "-A", "-l", "app.kubernetes.io/managed-by=flux-multi-tenancy", "-o", "json"]).catch(() => "");
  if (!text.trim()) return [];
  const stuck = (JSON.parse(text) as QuotaList).items.filter((q) => {
    const counted = Object.keys(q.status?.used ?? {});
    const uncounted = Object.keys(q.status?.hard ?? {}).filter((r) => !counted.includes(r));
    return now - Date.parse(q.metadata.creationTimestamp) >= QUOTA_FIRST_COUNT_MS && (q.status?.hard === undefined || uncounted.length > 0);
  });
  for (const q of stuck) await k(["delete", "resourcequota", q.metadata.name, "-n", q.metadata.namespace, "--ignore-not-found"]);
  return stuck.map((q) => `${q.metadata.namespace}/${q.metadata.name}`);
}

export async function waitReady(
  k: Kubectl,
  inputs: Pick<FluxReadyInputs, "resource" | "namespace" | "name" | "revision" | "timeoutSeconds"> & Partial<Pick<FluxReadyInputs, "hint">>,
  intervalMs = 2000,
  contains?: Contains,
  requestAgainMs = REQUEST_AGAIN_MS,
): Promise<string> {
  const plural = inputs.resource.split(".")[0];
  const id = `${KINDS[plural] ?? plural} ${inputs.namespace}/${inputs.name}`;
  // Ask Flux to reconcile now (what `flux reconcile` does) instead of waiting out the interval or the
  // dependency requeue: the previous level is Ready, so this one can go. An object that does not exist
  // yet (a tenant's, until its parent applies it) is asked as soon as it appears. Each request carries its own
  // time, and what Flux reports counts only once it handled one of them (`status.lastHandledReconcileAt`, as
  // `flux reconcile` waits for): a Ready from before (a key rotated since, a commit not yet read) is not an answer.
  const requests = new Set<string>();
  const poke = () => {
    const at = new Date().toISOString();
    return k(["annotate", "--overwrite", "-n", inputs.namespace, inputs.resource, inputs.name, `reconcile.fluxcd.io/requestedAt=${at}`]).then(
      () => (requests.add(at), true),
      () => false,
    );
  };
  // One watch for the whole wait where the kubectl can watch: each change of the object is seen as it happens, by one
  // process, rather than a process per poll. Until the watch has shown the object (or once it ends) the wait polls.
  const watch: WatchedObject = { alive: Boolean(k.watch), seen: false, changed: false, object: undefined, wake: () => undefined };
  const watcher = k.watch?.(
    watchOneArgs(inputs.namespace, inputs.resource, inputs.name),
    (e) => {
      if (e.type !== "ADDED" && e.type !== "MODIFIED" && e.type !== "DELETED") return;
      watch.seen = true;
      watch.changed = true;
      watch.object = e.type === "DELETED" ? undefined : (e.object as FluxStatus);
      watch.wake();
    },
    () => {
      watch.alive = false;
      watch.wake();
    },
  );
  try {
    // When Flux was last asked; undefined while the object was not there to ask. A Kustomization is asked once it is
    // seen not current: Flux's own reconcile at the new source revision usually answers first, and a request on top of
    // it would have Flux build and apply it all again for nothing.
    let askedAt = plural === KUSTOMIZATIONS ? undefined : (await poke()) ? Date.now() : undefined;
    const deadline = Date.now() + inputs.timeoutSeconds * 1000;
    // Flux answers a request within a second or two: poll soon, then back off to the interval. A watched object wakes
    // the wait at each change, and at the interval at the latest (a request to repeat, the deadline).
    let delay = Math.min(FIRST_POLL_MS, intervalMs);
    let polls = 0;
    for (;;) {
      // A live watch shows the object as its first event: until then a poll waits for it (the object may not exist yet).
      const watched = watch.alive && (watch.seen || polls === 0);
      if (!watch.changed) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, watched ? intervalMs : delay);
          watch.wake = () => (clearTimeout(timer), resolve());
        });
        watch.wake = () => undefined;
      }
      watch.changed = false;
      delay = Math.min(delay * 2, intervalMs);
      let obj: FluxStatus | undefined;
      if (watch.alive && watch.seen) obj = watch.object;
      else {
        polls++;
        const text = await k(["get", "-n", inputs.namespace, inputs.resource, inputs.name, "-o", "json", "--ignore-not-found"]).catch(() => "");
        obj = text.trim() ? (JSON.parse(text) as FluxStatus) : undefined;
      }
      const handled = requests.has(obj?.status?.lastHandledReconcileAt ?? "");
      const status = readiness(obj, inputs.revision);
      // A Kustomization Ready at the commit waited for, or (none named) at its Ready source's current artifact, answers
      // as well as a request would: what it applied is what the source holds now, at its current spec. A source has no
      // such test (a Ready from before a key was rotated), so its Ready counts only as an answer to a request.
      const current =
        !handled && obj && status.ready && plural === KUSTOMIZATIONS && (inputs.revision !== "" || (await appliedCurrentSource(k, obj, inputs.namespace)));
      const last =
        handled || current || !obj
          ? status
          : askedAt === undefined
            ? { ready: false, message: status.message } // not asked yet: Flux's own word
            : { ready: false, message: `Flux has not handled the reconcile request yet (last: ${status.message})` };
      if (last.ready) return last.message;
      const again = handled ? requestAgainMs : Math.min(requestAgainMs, UNHANDLED_AGAIN_MS);
      if (obj && (askedAt === undefined || Date.now() - askedAt >= again)) {
        // A quota stuck without its count would refuse until the quota controller's full resync: applied again, it counts.
        if (handled && QUOTA_STATUS_UNKNOWN.test(status.message)) await recountStuckQuotas(k);
        askedAt = (await poke()) ? Date.now() : undefined;
      }
      // Another stack may have pushed on top of this commit: Ready there includes this one.
      if (handled && status.other && contains && (await contains(revisionSha(inputs.revision), revisionSha(status.other)))) {
        return `Ready at ${status.other}, which contains ${inputs.revision}`;
      }
      // A key nobody registered yet will not start working by waiting: say which to register, now.
      if (handled && inputs.hint && plural === "gitrepositories" && AUTHENTICATION_FAILED.test(status.message)) {
        throw new Error(`${id} cannot read its repository: ${status.message}\n${inputs.hint}`);
      }
      if (Date.now() >= deadline) throw new Error(`${id} is not Ready after ${inputs.timeoutSeconds}s: ${last.message}`);
    }
  } finally {
    watcher?.stop();
  }
}

const KUSTOMIZATIONS = "kustomizations";

/** The source kinds a Kustomization can name, as resources. */
const SOURCE_RESOURCES: Record<string, string> = {
  GitRepository: "gitrepositories.source.toolkit.fluxcd.io",
  OCIRepository: "ocirepositories.source.toolkit.fluxcd.io",
  Bucket: "buckets.source.toolkit.fluxcd.io",
};

/** Whether a Kustomization last applied its source's current artifact, and that source is Ready. */
async function appliedCurrentSource(k: Kubectl, obj: FluxStatus, namespace: string): Promise<boolean> {
  const ref = obj.spec?.sourceRef;
  const resource = ref && SOURCE_RESOURCES[ref.kind];
  if (!resource || !obj.status?.lastAppliedRevision) return false;
  const text = await k(["get", "-n", ref.namespace ?? namespace, resource, ref.name, "-o", "json", "--ignore-not-found"]).catch(() => "");
  const source = text.trim() ? (JSON.parse(text) as FluxStatus) : undefined;
  return readiness(source, "").ready && source?.status?.artifact?.revision === obj.status.lastAppliedRevision;
}

/**
 * What a wait's watch has shown: the object as last seen (`seen` once any event came; `changed` since the wait last
 * read it), and how to wake the wait.
 */
interface WatchedObject {
  alive: boolean;
  seen: boolean;
  changed: boolean;
  object: FluxStatus | undefined;
  wake: () => void;
}

/** How a wait reaches the Git host to compare commits: a new one alone is recorded without waiting again. */
const READY_CREDENTIALS = ["token", "sshKey", "knownHosts"] as const;
/** What is waited for: any change is a wait again. */
const WAITED_FOR = ["resource", "namespace", "name", "revision", "hint", "source"] as const;

/**
 * What the state keeps of a wait: what it waited for and Flux's message. A wait has nothing to delete and reads
 * nothing back, so of its credentials it keeps digests only (secret too), to tell a new cluster (wait again) from a
 * new key (recorded). State written before this kept the credentials themselves: their digests are computed from them.
 */
export interface FluxReadyOutputs extends Omit<FluxReadyInputs, "kubeconfig" | (typeof READY_CREDENTIALS)[number]> {
  readonly message: string;
  readonly kubeconfigSha256: string;
  readonly credentialsSha256: string;
}
type ReadyState = Partial<FluxReadyInputs> & Partial<FluxReadyOutputs>;

const kubeconfigDigest = (o: ReadyState) => o.kubeconfigSha256 ?? sha256([o.kubeconfig ?? ""]);
const credentialsDigest = (o: ReadyState) => o.credentialsSha256 ?? sha256(READY_CREDENTIALS.map((k) => o[k] ?? ""));

function readyOutputs(inputs: FluxReadyInputs, message: string): FluxReadyOutputs {
  const { kubeconfig, token, sshKey, knownHosts, ...rest } = inputs;
  return { ...rest, message, kubeconfigSha256: sha256([kubeconfig]), credentialsSha256: sha256([token, sshKey, knownHosts]) };
}

/** Whether `news` waits for what `olds` waited for, in the same cluster. */
const sameWait = (olds: ReadyState, news: FluxReadyInputs) => WAITED_FOR.every((k) => olds[k] === news[k]) && kubeconfigDigest(olds) === kubeconfigDigest(news);

/** The wait itself: its source first when it names one (stopping with the hint if Flux cannot read it), then its object. */
export async function waitReadyInOrder(k: Kubectl, inputs: FluxReadyInputs): Promise<string> {
  if (inputs.source) await waitReady(k, { ...inputs, resource: inputs.source, revision: "" });
  return waitReady(k, inputs, undefined, containsFor(inputs));
}

export const fluxReadyProvider: pulumi.dynamic.ResourceProvider<FluxReadyInputs, FluxReadyOutputs> = {
  async diff(_id, olds, news) {
    // Wait again whenever what is waited for changes (a new commit, a new cluster).
    // A new key to register (rotation) is a change too: Flux must be seen reading with it.
    return { changes: !sameWait(olds, news) || credentialsDigest(olds) !== credentialsDigest(news) };
  },
  async create(inputs) {
    const message = await withKubectl(inputs.kubeconfig, (k) => waitReadyInOrder(k, inputs));
    return { id: `${inputs.namespace}/${inputs.name}`, outs: readyOutputs(inputs, message) };
  },
  async update(_id, olds, news) {
    if (sameWait(olds, news)) return { outs: readyOutputs(news, olds.message) };
    const message = await withKubectl(news.kubeconfig, (k) => waitReadyInOrder(k, news));
    return { outs: readyOutputs(news, message) };
  },
  // Waiting leaves nothing behind to delete.
};

/** Flux's install in the cluster. */
export class FluxInstallResource extends pulumi.dynamic.Resource {
  constructor(name: string, args: DynamicArgs<FluxInstallInputs>, opts?: pulumi.CustomResourceOptions) {
    super(
      byReference("fluxInstall", fluxInstallProvider),
      name,
      args,
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["kubeconfig"] }),
      "flux-multi-tenancy",
      "FluxInstall",
    );
  }
}

/** The flux-system GitRepository and Kustomization. */
export class FluxSyncResource extends pulumi.dynamic.Resource {
  constructor(name: string, args: DynamicArgs<FluxSyncInputs>, opts?: pulumi.CustomResourceOptions) {
    super(
      byReference("fluxSync", fluxSyncProvider),
      name,
      args,
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["kubeconfig"] }),
      "flux-multi-tenancy",
      "FluxSync",
    );
  }
}

/** A wait for one Flux object to be Ready. */
export class FluxReadyResource extends pulumi.dynamic.Resource {
  declare public readonly message: pulumi.Output<string>;
  constructor(name: string, args: DynamicArgs<FluxReadyInputs>, opts?: pulumi.CustomResourceOptions) {
    super(
      byReference("fluxReady", fluxReadyProvider),
      name,
      { ...args, message: undefined },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["kubeconfig", "token", "sshKey", "kubeconfigSha256", "credentialsSha256"] }),
      "flux-multi-tenancy",
      "FluxReady",
    );
  }
}
