// Dynamic provider that waits for an existing cluster's API and reads its identity (kube-system UID).
import * as pulumi from "@pulumi/pulumi";
import { probeCluster, waitForApi, withKubectl } from "./kubectl";
import { byReference } from "./reference";

export interface ClusterProbeInputs {
  readonly kubeconfig: string;
  readonly timeoutSeconds: number;
}

export interface ClusterProbeOutputs extends ClusterProbeInputs {
  readonly clusterUid: string;
}

export const clusterProbeProvider: pulumi.dynamic.ResourceProvider<ClusterProbeInputs, ClusterProbeOutputs> = {
  async diff(_id, olds, news) {
    return { changes: olds.kubeconfig !== news.kubeconfig || olds.timeoutSeconds !== news.timeoutSeconds };
  },
  async create(inputs) {
    const uid = await withKubectl(inputs.kubeconfig, (k) => waitForApi(k, inputs.timeoutSeconds * 1000));
    return { id: uid, outs: { ...inputs, clusterUid: uid } };
  },
  async update(_id, _olds, news) {
    const uid = await withKubectl(news.kubeconfig, (k) => waitForApi(k, news.timeoutSeconds * 1000));
    return { outs: { ...news, clusterUid: uid } };
  },
  async read(id, props) {
    // Refresh notices a cluster that was rebuilt: it answers with another kube-system UID. Only such an answer is
    // proof; a probe that could not ask (a timeout, a network blip, missing cloud credentials in a fork's pull
    // request) keeps the state and says why, so a preview does not plan Flux's reinstall on a cluster that is there.
    const probe = await withKubectl(props!.kubeconfig, probeCluster);
    if (probe.uid === undefined) {
      console.error(`cluster probe: kept as it is in the state, since the cluster's API did not answer: ${probe.error}`);
      return { id, props: props! };
    }
    return probe.uid === id ? { id, props: props! } : { id: "", props: {} as ClusterProbeOutputs };
  },
};

export class ClusterProbeResource extends pulumi.dynamic.Resource {
  declare public readonly clusterUid: pulumi.Output<string>;
  constructor(name: string, args: { kubeconfig: pulumi.Input<string>; timeoutSeconds: pulumi.Input<number> }, opts?: pulumi.CustomResourceOptions) {
    super(
      byReference("clusterProbe", clusterProbeProvider),
      name,
      { ...args, clusterUid: undefined },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["kubeconfig"] }),
      "flux-multi-tenancy",
      "ClusterProbe",
    );
  }
}
