// Dynamic provider for a kind cluster (there is no kind provider on npm): create, read, replace, delete via the kind CLI.
import * as os from "os";
import * as pulumi from "@pulumi/pulumi";
import { toYaml } from "../../manifests/yaml";
import { CommandError, run, withTempFile } from "./exec";
import { probeCluster, waitForApi, withKubectl } from "./kubectl";
import { byReference } from "./reference";

export interface KindClusterInputs {
  readonly name: string;
  readonly nodeImage: string;
  readonly workers: number;
  /** How long to wait for the control plane and the API, in seconds. */
  readonly waitSeconds: number;
}

export interface KindClusterOutputs extends KindClusterInputs {
  readonly kubeconfig: string;
  /** UID of kube-system: changes when the cluster is recreated under the same name. */
  readonly clusterUid: string;
  /** The host whose Docker runs the cluster: a kind cluster exists for that host's kind CLI only. */
  readonly host: string;
}

/**
 * What the cluster now under a kind name is, against the one recorded (`uid`, its kube-system UID): the same
 * cluster (with the kubeconfig kind gives for it now), gone (its host's kind no longer lists the name, or the
 * name answers with another UID: a cluster made again under that name is another cluster), or unknown, with why:
 * another host, no kind CLI or Docker to ask, a listed cluster that does not answer. Only an answer is proof.
 */
export async function kindClusterIdentity(
  name: string,
  host: string,
  uid: string,
): Promise<{ verdict: "same"; kubeconfig: string } | { verdict: "gone"; why: string } | { verdict: "unknown"; why: string }> {
  if (host !== os.hostname()) return { verdict: "unknown", why: `the kind cluster ${name} lives on host ${host}, and this is ${os.hostname()}` };
  let clusters: string[];
  try {
    clusters = await kindClusters();
  } catch (e) {
    return { verdict: "unknown", why: `kind could not list its clusters: ${e instanceof CommandError ? e.stderr.trim() : String(e)}` };
  }
  if (!clusters.includes(name)) return { verdict: "gone", why: `kind on ${host} no longer lists ${name}` };
  let kubeconfig: string;
  try {
    kubeconfig = await kubeconfigOf(name);
  } catch (e) {
    return { verdict: "unknown", why: `kind has no kubeconfig for ${name}: ${e instanceof CommandError ? e.stderr.trim() : String(e)}` };
  }
  const probe = await withKubectl(kubeconfig, probeCluster);
  if (probe.uid === undefined) return { verdict: "unknown", why: `the kind cluster ${name} does not answer: ${probe.error}` };
  if (uid !== "" && probe.uid !== uid) {
    return { verdict: "gone", why: `the kind cluster now named ${name} is another one (kube-system ${probe.uid}, not ${uid}): it was made again` };
  }
  return { verdict: "same", kubeconfig };
}

/** Everything that makes a different cluster: any change replaces it. */
const IDENTITY: (keyof KindClusterInputs)[] = ["name", "nodeImage", "workers"];

/** The kind config: one control plane and `workers` workers. */
export function kindConfig(workers: number): string {
  return toYaml({
    kind: "Cluster",
    apiVersion: "kind.x-k8s.io/v1alpha4",
    nodes: [{ role: "control-plane" }, ...Array.from({ length: workers }, () => ({ role: "worker" }))],
  });
}

export async function kindClusters(): Promise<string[]> {
  const { stdout } = await run("kind", ["get", "clusters"]);
  return stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("No kind clusters"));
}

async function kubeconfigOf(name: string): Promise<string> {
  return (await run("kind", ["get", "kubeconfig", "--name", name])).stdout;
}

export const kindClusterProvider: pulumi.dynamic.ResourceProvider<KindClusterInputs, KindClusterOutputs> = {
  async diff(_id, olds, news) {
    const replaces = IDENTITY.filter((k) => olds[k] !== news[k]);
    return { changes: replaces.length > 0 || olds.waitSeconds !== news.waitSeconds, replaces, deleteBeforeReplace: true };
  },

  async create(inputs) {
    if ((await kindClusters()).includes(inputs.name)) {
      throw new Error(
        `a kind cluster named ${inputs.name} already exists outside this stack; delete it (kind delete cluster --name ${inputs.name}) or set flux-multi-tenancy:cluster.name to another name`,
      );
    }
    await withTempFile("kind.yaml", kindConfig(inputs.workers), (config) =>
      run("kind", ["create", "cluster", "--name", inputs.name, "--image", inputs.nodeImage, "--config", config, "--wait", `${inputs.waitSeconds}s`]),
    );
    const kubeconfig = await kubeconfigOf(inputs.name);
    const clusterUid = await withKubectl(kubeconfig, (k) => waitForApi(k, inputs.waitSeconds * 1000));
    return { id: inputs.name, outs: { ...inputs, kubeconfig, clusterUid, host: os.hostname() } };
  },

  async read(id, props) {
    const p = props as KindClusterOutputs;
    const found = await kindClusterIdentity(id, p.host ?? os.hostname(), p.clusterUid ?? "");
    if (found.verdict === "same") return { id, props: { ...p, kubeconfig: found.kubeconfig } };
    // Deleted out of band on its own host, or made again by someone else: refresh drops it and the next up makes its own.
    if (found.verdict === "gone") return { id: "", props: {} as KindClusterOutputs };
    // Elsewhere the cluster is not listed because it lives on its own host: say so instead of planning a new one.
    if (p.host && p.host !== os.hostname()) {
      throw new Error(
        `the kind cluster ${id} lives on host ${p.host}, and this is ${os.hostname()}: run this stack from ${p.host} (a preview elsewhere: pulumi preview --refresh=false)`,
      );
    }
    // Nothing could be asked (no kind CLI, Docker down, a cluster that does not answer): the state stands, and says why.
    console.error(`kind cluster ${id}: kept as it is in the state, since ${found.why}`);
    return { id, props: p };
  },

  async update(_id, olds, news) {
    // Only waitSeconds can change without a replacement; it matters for the next create.
    return { outs: { ...olds, waitSeconds: news.waitSeconds } };
  },

  async delete(id) {
    // kind deletes a missing cluster without complaint.
    await run("kind", ["delete", "cluster", "--name", id]);
  },
};

export interface KindClusterResourceArgs {
  readonly name: pulumi.Input<string>;
  readonly nodeImage: pulumi.Input<string>;
  readonly workers: pulumi.Input<number>;
  readonly waitSeconds: pulumi.Input<number>;
}

/** The kind cluster itself; KindCluster (the component) wraps it with its Kubernetes provider. */
export class KindClusterResource extends pulumi.dynamic.Resource {
  declare public readonly kubeconfig: pulumi.Output<string>;
  declare public readonly clusterUid: pulumi.Output<string>;
  declare public readonly host: pulumi.Output<string>;

  constructor(name: string, args: KindClusterResourceArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      byReference("kindCluster", kindClusterProvider),
      name,
      { ...args, kubeconfig: undefined, clusterUid: undefined, host: undefined },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["kubeconfig"] }),
      "flux-multi-tenancy",
      "KindCluster",
    );
  }
}
