// kube-controller-manager: namespace deletion, garbage collection, Deployments and ReplicaSets, default ServiceAccounts, tokens.
import type { ProcessSpec } from "../proc";
import { runPath } from "../layout";
import type { LabState } from "../state";
import { kubeComponentFlags } from "./kubeComponent";

export function controllerManager(s: LabState): ProcessSpec {
  return {
    name: "kube-controller-manager",
    command: s.bins["kube-controller-manager"],
    args: [
      ...kubeComponentFlags(s.kubeconfigs.controllerManager, s.ports.controllerManager, runPath("kube-controller-manager")),
      // Each controller as its own ServiceAccount, with the roles Kubernetes bootstraps for it (as kubeadm runs it).
      "--use-service-account-credentials=true",
      `--root-ca-file=${s.pki.caCert}`,
      `--service-account-private-key-file=${s.pki.serviceAccountKey}`,
      `--service-cluster-ip-range=${s.serviceCidr}`,
    ],
    ready: { url: `https://127.0.0.1:${s.ports.controllerManager}/healthz`, insecure: true },
  };
}
