// Dynamic provider for a kind cluster (there is no kind provider on npm): create, read, replace, delete via the kind CLI.
import * as pulumi from "@pulumi/pulumi";
import { toYaml } from "../../manifests/yaml";
import { CommandError, run, withTempFile } from "./exec";
import { waitForApi, withKubectl } from "./kubectl";

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
    return { id: inputs.name, outs: { ...inputs, kubeconfig, clusterUid } };
  },

  async read(id, props) {
    let clusters: string[];
    try {
      clusters = await kindClusters();
    } catch (e) {
      // Without the kind CLI (a preview on another machine) nothing can be said: keep the state.
      if (e instanceof CommandError && e.code === "ENOENT") return { id, props: props as KindClusterOutputs };
      throw e;
    }
    // A cluster deleted out of band reads as gone, so refresh drops it and the next up recreates it.
    if (!clusters.includes(id)) return { id: "", props: {} as KindClusterOutputs };
    return { id, props: { ...(props as KindClusterOutputs), kubeconfig: await kubeconfigOf(id) } };
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

  constructor(name: string, args: KindClusterResourceArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      kindClusterProvider,
      name,
      { ...args, kubeconfig: undefined, clusterUid: undefined },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["kubeconfig"] }),
      "flux-multi-tenancy",
      "KindCluster",
    );
  }
}
