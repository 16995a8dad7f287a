// The part every cluster component shares: its four outputs, the API wait and the explicit Kubernetes provider.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ClusterProbeResource } from "../providers/clusterProbe";

/** How long cluster creation and the API readiness wait may take. */
export const CLUSTER_WAIT_SECONDS = 300;

/** What every cluster component gives the rest of the program. */
export interface Cluster extends pulumi.Resource {
  /** Cluster name. */
  readonly name: pulumi.Output<string>;
  /** kubeconfig; always a secret. */
  readonly kubeconfig: pulumi.Output<string>;
  /** UID of kube-system: changes when the cluster is rebuilt, which re-bootstraps Flux. */
  readonly clusterUid: pulumi.Output<string>;
  /** The explicit provider every Kubernetes resource of the program uses. */
  readonly provider: k8s.Provider;
  /** For a kind cluster, the host that runs it ("" for any other cluster): where "gone" can be proven. */
  readonly kindHost: pulumi.Output<string>;
}

/** What a concrete cluster builds: its kubeconfig, and its identity when it already knows it. */
export interface BuiltCluster {
  readonly kubeconfig: pulumi.Input<string>;
  /** Given by clusters that wait for their API themselves (kind); otherwise a probe reads it. */
  readonly clusterUid?: pulumi.Output<string>;
  /**
   * The host of a kind cluster. A kind cluster lives and dies with its host's Docker: when it is gone,
   * its objects are gone with it, so the provider drops them from state instead of failing refresh or destroy.
   */
  readonly kindHost?: pulumi.Output<string>;
}

/**
 * Base of the cluster components. `build` creates the cluster's own children (parented to the
 * component); then come `${name}-probe` (waits until the API answers and reads kube-system's UID,
 * unless the cluster gave it) and `${name}-provider` (the explicit provider, after the wait).
 */
export abstract class ClusterComponent extends pulumi.ComponentResource implements Cluster {
  public readonly name: pulumi.Output<string>;
  public readonly kubeconfig: pulumi.Output<string>;
  public readonly clusterUid: pulumi.Output<string>;
  public readonly provider: k8s.Provider;
  public readonly kindHost: pulumi.Output<string>;

  protected constructor(
    type: string,
    name: string,
    clusterName: pulumi.Input<string>,
    opts: pulumi.ComponentResourceOptions | undefined,
    build: (self: ClusterComponent) => BuiltCluster,
  ) {
    super(type, name, {}, opts);
    const built = build(this);
    this.name = pulumi.output(clusterName);
    this.kubeconfig = pulumi.secret(built.kubeconfig);
    let ready: pulumi.Resource[] = [];
    if (built.clusterUid) {
      this.clusterUid = built.clusterUid;
    } else {
      const probe = new ClusterProbeResource(`${name}-probe`, { kubeconfig: this.kubeconfig, timeoutSeconds: CLUSTER_WAIT_SECONDS }, { parent: this });
      this.clusterUid = probe.clusterUid;
      ready = [probe];
    }
    this.kindHost = built.kindHost ?? pulumi.output("");
    this.provider = new k8s.Provider(
      `${name}-provider`,
      { kubeconfig: this.kubeconfig, ...(built.kindHost ? { deleteUnreachable: true } : {}) },
      { parent: this, dependsOn: ready },
    );
    this.registerOutputs({ name: this.name, kubeconfig: this.kubeconfig, clusterUid: this.clusterUid });
  }
}
