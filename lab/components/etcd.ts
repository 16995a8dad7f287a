// etcd: one member on loopback, data in the lab folder, no fsync (a throwaway test store, as envtest runs it).
import type { ProcessSpec } from "../proc";
import { RUN, runPath } from "../layout";
import type { LabState } from "../state";

export function etcd(s: LabState): ProcessSpec {
  const client = `http://127.0.0.1:${s.ports.etcdClient}`;
  const peer = `http://127.0.0.1:${s.ports.etcdPeer}`;
  return {
    name: "etcd",
    command: s.bins.etcd,
    args: [
      "--name=lab",
      `--data-dir=${runPath(RUN.etcdData)}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=lab=${peer}`,
      "--initial-cluster-state=new",
      "--unsafe-no-fsync=true",
      "--log-level=warn",
    ],
    ready: { url: `${client}/health`, expect: /"health":"true"/ },
  };
}
