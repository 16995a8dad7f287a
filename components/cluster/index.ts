// Clusters Flux goes on: each gives a secret kubeconfig, its identity and an explicit Kubernetes provider.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ClusterProbeResource } from "../providers/clusterProbe";
import { KindClusterResource } from "../providers/kindCluster";

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
}

/** How long cluster creation and the API readiness wait may take. */
export const CLUSTER_WAIT_SECONDS = 300;

export interface KindClusterArgs {
  /** kind cluster name. */
  readonly clusterName: pulumi.Input<string>;
  /** Node image, e.g. kindest/node:v1.33.1. */
  readonly nodeImage: pulumi.Input<string>;
  /** Worker nodes beside the control plane. */
  readonly workers: pulumi.Input<number>;
}

/** A local kind cluster driven by the kind CLI: replaced on any change, deleted on destroy, re-created when deleted out of band. */
export class KindCluster extends pulumi.ComponentResource implements Cluster {
  public readonly name: pulumi.Output<string>;
  public readonly kubeconfig: pulumi.Output<string>;
  public readonly clusterUid: pulumi.Output<string>;
  public readonly provider: k8s.Provider;

  constructor(name: string, args: KindClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flux-multi-tenancy:cluster:KindCluster", name, {}, opts);
    const cluster = new KindClusterResource(
      `${name}-kind`,
      { name: args.clusterName, nodeImage: args.nodeImage, workers: args.workers, waitSeconds: CLUSTER_WAIT_SECONDS },
      { parent: this },
    );
    this.name = pulumi.output(args.clusterName);
    this.kubeconfig = pulumi.secret(cluster.kubeconfig);
    this.clusterUid = cluster.clusterUid;
    this.provider = new k8s.Provider(`${name}-provider`, { kubeconfig: this.kubeconfig }, { parent: this });
    this.registerOutputs({ name: this.name, kubeconfig: this.kubeconfig, clusterUid: this.clusterUid });
  }
}

export interface ExistingClusterArgs {
  /** Name reported as the stack's cluster name. */
  readonly clusterName: pulumi.Input<string>;
  /** kubeconfig of the cluster (from the secret config key kubeconfig). */
  readonly kubeconfig: pulumi.Input<string>;
}

/** A cluster made elsewhere, reached through its kubeconfig; the program waits for its API before anything else. */
export class ExistingCluster extends pulumi.ComponentResource implements Cluster {
  public readonly name: pulumi.Output<string>;
  public readonly kubeconfig: pulumi.Output<string>;
  public readonly clusterUid: pulumi.Output<string>;
  public readonly provider: k8s.Provider;

  constructor(name: string, args: ExistingClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flux-multi-tenancy:cluster:ExistingCluster", name, {}, opts);
    this.name = pulumi.output(args.clusterName);
    this.kubeconfig = pulumi.secret(args.kubeconfig);
    const probe = new ClusterProbeResource(`${name}-probe`, { kubeconfig: this.kubeconfig, timeoutSeconds: CLUSTER_WAIT_SECONDS }, { parent: this });
    this.clusterUid = probe.clusterUid;
    // The provider waits for the probe, so nothing is applied before the API answers.
    this.provider = new k8s.Provider(`${name}-provider`, { kubeconfig: this.kubeconfig }, { parent: this, dependsOn: [probe] });
    this.registerOutputs({ name: this.name, kubeconfig: this.kubeconfig, clusterUid: this.clusterUid });
  }
}
