// Dynamic provider that waits for an existing cluster's API and reads its identity (kube-system UID).
import * as pulumi from "@pulumi/pulumi";
import { clusterUid, waitForApi, withKubectl } from "./kubectl";

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
    // Refresh notices a cluster that is gone or was rebuilt (another kube-system UID).
    const uid = props ? await withKubectl(props.kubeconfig, clusterUid) : undefined;
    return uid === id && props ? { id, props } : { id: "", props: {} as ClusterProbeOutputs };
  },
};

export class ClusterProbeResource extends pulumi.dynamic.Resource {
  declare public readonly clusterUid: pulumi.Output<string>;
  constructor(name: string, args: { kubeconfig: pulumi.Input<string>; timeoutSeconds: pulumi.Input<number> }, opts?: pulumi.CustomResourceOptions) {
    super(
      clusterProbeProvider,
      name,
      { ...args, clusterUid: undefined },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["kubeconfig"] }),
      "flux-multi-tenancy",
      "ClusterProbe",
    );
  }
}
