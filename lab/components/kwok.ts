// kwok: keeps the lab's node Ready and plays each pod scheduled to it through to Running and Ready, with no containers.
import * as path from "path";
import type { ProcessSpec } from "../proc";
import type { LabState } from "../state";

/** Nodes carrying this annotation are kwok's to simulate. */
export const KWOK_NODE_ANNOTATION = { key: "kwok.x-k8s.io/node", value: "fake" };

export function kwok(s: LabState): ProcessSpec {
  return {
    name: "kwok",
    command: s.bins.kwok,
    args: [
      `--kubeconfig=${s.kubeconfigs.admin}`,
      `--config=${path.join(s.bins["kube:data"], "kwok-stages.yaml")}`,
      `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION.key}=${KWOK_NODE_ANNOTATION.value}`,
      "--node-ip=127.0.0.1",
      `--server-address=127.0.0.1:${s.ports.kwok}`,
      "--cidr=10.244.0.0/24",
      "--node-lease-duration-seconds=40",
    ],
    ready: { url: `http://127.0.0.1:${s.ports.kwok}/healthz` },
  };
}

/** The simulated node, as kwokctl creates its nodes: schedulable Linux capacity. */
export function labNode(name: string): object {
  const capacity = { cpu: "32", memory: "256Gi", pods: "110" };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      annotations: { [KWOK_NODE_ANNOTATION.key]: KWOK_NODE_ANNOTATION.value, "node.alpha.kubernetes.io/ttl": "0" },
      labels: { "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", type: "kwok" },
    },
    status: { allocatable: capacity, capacity, nodeInfo: { architecture: "amd64", operatingSystem: "linux", kubeletVersion: "fake" } },
  };
}
