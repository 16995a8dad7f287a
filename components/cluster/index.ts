// Clusters Flux goes on: each gives a secret kubeconfig, its identity and an explicit Kubernetes provider.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ClusterConfig } from "../../config";
import { KindClusterResource } from "../providers/kindCluster";
import { CLUSTER_WAIT_SECONDS, kubernetesAccess } from "./access";

export { CLUSTER_WAIT_SECONDS };

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
    // The provider waits for the probe, so nothing is applied before the API answers.
    ({ kubeconfig: this.kubeconfig, clusterUid: this.clusterUid, provider: this.provider } = kubernetesAccess(this, name, args.kubeconfig));
    this.registerOutputs({ name: this.name, kubeconfig: this.kubeconfig, clusterUid: this.clusterUid });
  }
}

/**
 * The cluster `config.provider` names. A cloud's SDK is loaded only when that cloud is chosen, so a
 * kind or existing-cluster run never pays for the others.
 */
export function createCluster(name: string, config: ClusterConfig, kubeconfig?: pulumi.Input<string>): Cluster {
  switch (config.provider) {
    case "kind":
      return new KindCluster(name, { clusterName: config.name, nodeImage: config.kind.nodeImage, workers: config.kind.workers });
    case "existing":
      if (kubeconfig === undefined) throw new Error("an existing cluster needs its kubeconfig");
      return new ExistingCluster(name, { clusterName: config.name, kubeconfig });
    case "eks": {
      const { EksCluster } = require("./eksCluster") as typeof import("./eksCluster");
      return new EksCluster(name, { clusterName: config.name, settings: config.eks });
    }
    case "gke": {
      const { GkeCluster } = require("./gkeCluster") as typeof import("./gkeCluster");
      return new GkeCluster(name, { clusterName: config.name, settings: config.gke });
    }
    case "aks": {
      const { AksCluster } = require("./aksCluster") as typeof import("./aksCluster");
      return new AksCluster(name, { clusterName: config.name, settings: config.aks });
    }
  }
}
