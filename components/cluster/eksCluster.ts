// EKS: the control plane, a managed node group with its IAM role, and a kubeconfig that authenticates with `aws eks get-token`.
import * as aws from "@pulumi/aws";
import * as eks from "@pulumi/eks";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { EksSettings } from "../../config";
import type { Cluster } from "./index";
import { kubernetesAccess } from "./access";

/** Policies every EKS worker node needs. */
const NODE_POLICIES = [
  "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
  "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
  "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
];

export interface EksClusterArgs {
  readonly clusterName: string;
  readonly settings: EksSettings;
}

export class EksCluster extends pulumi.ComponentResource implements Cluster {
  public readonly name: pulumi.Output<string>;
  public readonly kubeconfig: pulumi.Output<string>;
  public readonly clusterUid: pulumi.Output<string>;
  public readonly provider: k8s.Provider;

  constructor(name: string, args: EksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flux-multi-tenancy:cluster:EksCluster", name, {}, opts);
    const s = args.settings;
    const awsProvider = new aws.Provider(`${name}-aws`, { region: s.region as aws.Region }, { parent: this });
    const inAws = { parent: this, provider: awsProvider };
    const nodeRole = new aws.iam.Role(
      `${name}-node-role`,
      { assumeRolePolicy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }] }) },
      inAws,
    );
    NODE_POLICIES.forEach((arn, i) => new aws.iam.RolePolicyAttachment(`${name}-node-policy-${i}`, { role: nodeRole.name, policyArn: arn }, inAws));
    const network = s.vpcId ? { vpcId: s.vpcId, subnetIds: [...s.subnetIds] } : {};
    const cluster = new eks.Cluster(
      `${name}-eks`,
      { name: args.clusterName, version: s.version, skipDefaultNodeGroup: true, instanceRoles: [nodeRole], ...network },
      { parent: this, providers: { aws: awsProvider } },
    );
    new eks.ManagedNodeGroup(
      `${name}-nodes`,
      {
        cluster,
        nodeRole,
        instanceTypes: [s.instanceType],
        scalingConfig: { desiredSize: s.nodeCount, minSize: s.nodeCount, maxSize: s.nodeCount },
        ...(s.vpcId ? { subnetIds: [...s.subnetIds] } : {}),
      },
      { parent: this, providers: { aws: awsProvider } },
    );
    this.name = pulumi.output(args.clusterName);
    // The kubeconfig runs `aws eks get-token`: a CI runner with AWS credentials needs no login.
    const access = kubernetesAccess(this, name, cluster.kubeconfigJson);
    ({ kubeconfig: this.kubeconfig, clusterUid: this.clusterUid, provider: this.provider } = access);
    this.registerOutputs({ name: this.name, kubeconfig: this.kubeconfig });
  }
}
