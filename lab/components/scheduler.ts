// kube-scheduler: places pods on the simulated node, so Deployments roll out as on a cluster.
import type { ProcessSpec } from "../proc";
import { runPath } from "../layout";
import type { LabState } from "../state";
import { kubeComponentFlags } from "./kubeComponent";

export function scheduler(s: LabState): ProcessSpec {
  return {
    name: "kube-scheduler",
    command: s.bins["kube-scheduler"],
    args: kubeComponentFlags(s.kubeconfigs.scheduler, s.ports.scheduler, runPath("kube-scheduler")),
    ready: { url: `https://127.0.0.1:${s.ports.scheduler}/healthz`, insecure: true },
  };
}
