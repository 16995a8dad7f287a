// kube-apiserver: serving on loopback only, client certificates and RBAC, service-account tokens signed with the lab's key.
import type { ProcessSpec } from "../proc";
import type { LabState } from "../state";

export function apiserver(s: LabState): ProcessSpec {
  return {
    name: "kube-apiserver",
    command: s.bins["kube-apiserver"],
    args: [
      `--etcd-servers=http://127.0.0.1:${s.ports.etcdClient}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${s.ports.apiserver}`,
      `--service-cluster-ip-range=${s.serviceCidr}`,
      "--authorization-mode=RBAC",
      `--client-ca-file=${s.pki.caCert}`,
      `--tls-cert-file=${s.pki.serverCert}`,
      `--tls-private-key-file=${s.pki.serverKey}`,
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      `--service-account-key-file=${s.pki.serviceAccountPub}`,
      `--service-account-signing-key-file=${s.pki.serviceAccountKey}`,
      "--allow-privileged=true",
      "--profiling=false",
    ],
    ready: { url: `https://127.0.0.1:${s.ports.apiserver}/readyz`, ca: s.pki.caCert, cert: s.pki.clients.admin.cert, key: s.pki.clients.admin.key },
    readySeconds: 120,
  };
}
