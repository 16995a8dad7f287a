// kube-scheduler: places pods on the simulated node, so Deployments roll out as on a cluster.
import type { ProcessSpec } from "../proc";
import { runPath } from "../layout";
import type { LabState } from "../state";

export function scheduler(s: LabState): ProcessSpec {
  const kubeconfig = s.kubeconfigs.scheduler;
  return {
    name: "kube-scheduler",
    command: s.bins["kube-scheduler"],
    args: [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${s.ports.scheduler}`,
      `--cert-dir=${runPath("kube-scheduler")}`,
      "--leader-elect=false",
      "--profiling=false",
    ],
    ready: { url: `https://127.0.0.1:${s.ports.scheduler}/healthz`, insecure: true },
  };
}
