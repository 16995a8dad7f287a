// EKS: the control plane, a managed node group with its IAM role, and a kubeconfig that authenticates with `aws eks get-token`.
import * as aws from "@pulumi/aws";
import * as eks from "@pulumi/eks";
import * as pulumi from "@pulumi/pulumi";
import type { EksSettings } from "../../../config";
import { ClusterComponent } from "../access";
import type { CloudClusterArgs, IsCloudCluster } from "..";

/** Policies every EKS worker node needs. */
const NODE_POLICIES = [
  "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
  "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
  "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
];

export type EksClusterArgs = CloudClusterArgs<EksSettings>;

export class EksCluster extends ClusterComponent {
  constructor(name: string, args: EksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flux-multi-tenancy:cluster:EksCluster", name, args.clusterName, opts, (self) => {
      const s = args.settings;
      const awsProvider = new aws.Provider(`${name}-aws`, { region: s.region as aws.Region }, { parent: self });
      const inAws = { parent: self, provider: awsProvider };
      const nodeRole = new aws.iam.Role(
        `${name}-node-role`,
        {
          assumeRolePolicy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
          }),
        },
        inAws,
      );
      NODE_POLICIES.forEach((arn, i) => new aws.iam.RolePolicyAttachment(`${name}-node-policy-${i}`, { role: nodeRole.name, policyArn: arn }, inAws));
      const network = s.vpcId ? { vpcId: s.vpcId, subnetIds: [...s.subnetIds] } : {};
      const cluster = new eks.Cluster(
        `${name}-eks`,
        { name: args.clusterName, version: s.version, skipDefaultNodeGroup: true, instanceRoles: [nodeRole], ...network },
        { parent: self, providers: { aws: awsProvider } },
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
        { parent: self, providers: { aws: awsProvider } },
      );
      // The kubeconfig runs `aws eks get-token`: a CI runner with AWS credentials needs no login.
      return { kubeconfig: cluster.kubeconfigJson };
    });
  }
}

/** createCluster requires this module as a CloudClusterClass: checked here, where the cloud's types are. */
export type EksClusterShape = IsCloudCluster<EksSettings, typeof EksCluster>;
