// A tenant's goodbye: when a tenant leaves the stack, its namespace is taken down in the order that lets Flux clean up
// as the tenant's own account (flux2 #997: pruned with the rest, the account and its RoleBinding can go first, and the
// tenant's Kustomization then cannot prune what it applied). Creating it does nothing; deleting it is the goodbye.
import * as pulumi from "@pulumi/pulumi";
import { type DynamicArgs, CommandError, sleep } from "./exec";
import { type Kubectl, probeCluster, withKubectl } from "./kubectl";
import { byReference } from "./reference";

export interface TenantGoodbyeInputs {
  readonly kubeconfig: string;
  /** The cluster the tenant lives in (kube-system UID): another cluster, or none answering, is not this tenant's. */
  readonly clusterUid: string;
  /** The fleet's Kustomization that applies every tenant (flux-system/<name>). */
  readonly tenantsKustomization: string;
  readonly tenant: string;
  readonly namespace: string;
  /** The tenant's reconciler account (absent in states written before tenantServiceAccount: the tenant's name). */
  readonly serviceAccount?: string;
  /** The RoleBinding that makes the tenant's account admin of its namespace. */
  readonly roleBinding: string;
  readonly timeoutSeconds: number;
}

const FLUX_NAMESPACE = "flux-system";
const KUSTOMIZATIONS = "kustomizations.kustomize.toolkit.fluxcd.io";
/** Flux objects that reconcile as the tenant and finalize as it (their finalizers delete what they applied). */
const APPLIERS = [KUSTOMIZATIONS, "helmreleases.helm.toolkit.fluxcd.io"];
/** Flux sources and the objects beside them: they finalize without the tenant's account. */
const SOURCES = [
  "gitrepositories.source.toolkit.fluxcd.io",
  "ocirepositories.source.toolkit.fluxcd.io",
  "helmrepositories.source.toolkit.fluxcd.io",
  "helmcharts.source.toolkit.fluxcd.io",
  "buckets.source.toolkit.fluxcd.io",
  "receivers.notification.toolkit.fluxcd.io",
  "alerts.notification.toolkit.fluxcd.io",
  "providers.notification.toolkit.fluxcd.io",
  "imagerepositories.image.toolkit.fluxcd.io",
  "imagepolicies.image.toolkit.fluxcd.io",
  "imageupdateautomations.image.toolkit.fluxcd.io",
];

type Inventory = { status?: { inventory?: { entries?: { id: string }[] } } };

/** Names of `resource` objects in the namespace; none when the cluster does not serve that kind (its controller is not installed). */
async function names(k: Kubectl, resource: string, namespace: string): Promise<string[]> {
  try {
    return (await k(["get", resource, "-n", namespace, "-o", "name", "--ignore-not-found"])).split("\n").filter(Boolean);
  } catch (e) {
    if (e instanceof CommandError && /the server doesn't have a resource type/.test(e.stderr)) return [];
    throw e;
  }
}

/** Polls `left` until it finds nothing; fails naming what is left when the deadline passes. */
async function untilGone(what: string, deadline: number, left: () => Promise<string[]>): Promise<void> {
  for (;;) {
    const found = await left();
    if (found.length === 0) return;
    if (Date.now() >= deadline) {
      throw new Error(
        `the tenant's goodbye: ${what} still there after the timeout: ${found.join(", ")}. ` +
          "Look at their finalizers (kubectl get -o yaml); run pulumi up again to resume.",
      );
    }
    await sleep(1000);
  }
}

/**
 * The goodbye, when the fleet no longer declares the tenant (Flux applied the commit without it): the tenant's
 * Kustomizations and HelmReleases first, finalized by Flux as the tenant's account, which still exists; then its
 * sources; then the account and its RoleBinding; then the Namespace, waited until gone. While the fleet still declares
 * the tenant (a destroy: Flux is uninstalled and the tenants' workloads stay), or without Flux, it leaves everything.
 */
export async function sayGoodbye(k: Kubectl, p: TenantGoodbyeInputs, log: (line: string) => void = () => undefined): Promise<void> {
  const probe = await probeCluster(k);
  if (probe.uid !== p.clusterUid) return; // another cluster, or none: what Flux's uninstall decides
  const tenantsText = await k(["get", KUSTOMIZATIONS, "-n", FLUX_NAMESPACE, p.tenantsKustomization, "-o", "json", "--ignore-not-found"]);
  if (tenantsText.trim() === "") return;
  const inventory = (JSON.parse(tenantsText) as Inventory).status?.inventory?.entries ?? [];
  if (inventory.some((e) => e.id === `_${p.namespace}__Namespace`)) return;
  if (!(await k(["get", "namespace", p.namespace, "-o", "name", "--ignore-not-found"])).trim()) return;

  const deadline = Date.now() + p.timeoutSeconds * 1000;
  log(`deleting ${p.namespace}/${p.tenant}'s Kustomizations and HelmReleases, finalized as its account`);
  await k(["delete", KUSTOMIZATIONS, p.tenant, "-n", p.namespace, "--ignore-not-found", "--wait=false"]);
  await untilGone(`Kustomization ${p.namespace}/${p.tenant}`, deadline, async () =>
    (await names(k, KUSTOMIZATIONS, p.namespace)).filter((n) => n.endsWith(`/${p.tenant}`)),
  );
  // What the tenant made itself beyond its own Kustomization's inventory.
  for (const r of APPLIERS) if ((await names(k, r, p.namespace)).length > 0) await k(["delete", r, "--all", "-n", p.namespace, "--wait=false"]);
  await untilGone("the tenant's Kustomizations and HelmReleases", deadline, async () =>
    (await Promise.all(APPLIERS.map((r) => names(k, r, p.namespace)))).flat(),
  );
  for (const r of SOURCES) if ((await names(k, r, p.namespace)).length > 0) await k(["delete", r, "--all", "-n", p.namespace, "--wait=false"]);
  await untilGone("the tenant's Flux sources", deadline, async () => (await Promise.all(SOURCES.map((r) => names(k, r, p.namespace)))).flat());
  log(`deleting ${p.namespace}'s account and RoleBinding, then the namespace`);
  await k(["delete", "rolebinding", p.roleBinding, "-n", p.namespace, "--ignore-not-found"]);
  await k(["delete", "serviceaccount", p.serviceAccount ?? p.tenant, "-n", p.namespace, "--ignore-not-found"]);
  await k(["delete", "namespace", p.namespace, "--ignore-not-found", "--wait=false"]);
  await untilGone(`Namespace ${p.namespace}`, deadline, async () =>
    (await k(["get", "namespace", p.namespace, "-o", "name", "--ignore-not-found"])).split("\n").filter(Boolean),
  );
}

export const tenantGoodbyeProvider: pulumi.dynamic.ResourceProvider<TenantGoodbyeInputs, TenantGoodbyeInputs> = {
  async diff(_id, olds, news) {
    // Nothing to do in the cluster until the delete; new credentials or names are kept for it.
    return { changes: JSON.stringify(olds) !== JSON.stringify(news), replaces: [] };
  },
  async create(inputs) {
    return { id: `${inputs.namespace}@${inputs.clusterUid}`, outs: inputs };
  },
  async update(_id, _olds, news) {
    return { outs: news };
  },
  async delete(_id, props) {
    await withKubectl(props.kubeconfig, (k) => sayGoodbye(k, props, (line) => pulumi.log.info(line)));
  },
};

/** A tenant's goodbye: nothing while the tenant is in the stack; its namespace taken down in order when it leaves. */
export class TenantGoodbyeResource extends pulumi.dynamic.Resource {
  constructor(name: string, args: DynamicArgs<TenantGoodbyeInputs>, opts?: pulumi.CustomResourceOptions) {
    super(
      byReference("tenantGoodbye", tenantGoodbyeProvider),
      name,
      args,
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["kubeconfig"] }),
      "flux-multi-tenancy",
      "TenantGoodbye",
    );
  }
}
