// kube-controller-manager: namespace deletion, garbage collection, Deployments and ReplicaSets, default ServiceAccounts, tokens.
import * as path from "path";
import type { ProcessSpec } from "../proc";
import { runPath } from "../layout";
import type { LabState } from "../state";

export function controllerManager(s: LabState): ProcessSpec {
  const kubeconfig = s.kubeconfigs.controllerManager;
  return {
    name: "kube-controller-manager",
    command: s.bins["kube-controller-manager"],
    args: [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${s.ports.controllerManager}`,
      `--cert-dir=${path.join(runPath("kube-controller-manager"))}`,
      "--leader-elect=false",
      "--use-service-account-credentials=true",
      `--root-ca-file=${s.pki.caCert}`,
      `--service-account-private-key-file=${s.pki.serviceAccountKey}`,
      `--service-cluster-ip-range=${s.serviceCidr}`,
      "--profiling=false",
    ],
    ready: { url: `https://127.0.0.1:${s.ports.controllerManager}/healthz`, insecure: true },
  };
}
