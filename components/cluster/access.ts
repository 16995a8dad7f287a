// Kubernetes access to a cluster made elsewhere or by a cloud: wait for its API, read its identity, build the provider.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ClusterProbeResource } from "../providers/clusterProbe";

/** How long cluster creation and the API readiness wait may take. */
export const CLUSTER_WAIT_SECONDS = 300;

export interface KubernetesAccess {
  readonly kubeconfig: pulumi.Output<string>;
  readonly clusterUid: pulumi.Output<string>;
  readonly provider: k8s.Provider;
}

/**
 * Children `${name}-probe` (waits until the API answers, reads kube-system's UID) and
 * `${name}-provider` (the explicit provider, after the probe) under `parent`.
 */
export function kubernetesAccess(parent: pulumi.Resource, name: string, kubeconfig: pulumi.Input<string>): KubernetesAccess {
  const secret = pulumi.secret(kubeconfig);
  const probe = new ClusterProbeResource(`${name}-probe`, { kubeconfig: secret, timeoutSeconds: CLUSTER_WAIT_SECONDS }, { parent });
  const provider = new k8s.Provider(`${name}-provider`, { kubeconfig: secret }, { parent, dependsOn: [probe] });
  return { kubeconfig: secret, clusterUid: probe.clusterUid, provider };
}
