// The lab's PKI, made with openssl: one CA, the API server's and the lab GitHub's serving certificates, client certificates, the service-account signing key.
import { promises as fs } from "fs";
import * as path from "path";
import { randomBytes } from "crypto";
import { run } from "../components/providers/exec";
import { LabError } from "./build";

export interface Pki {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly serverCert: string;
  readonly serverKey: string;
  /** The lab GitHub's serving certificate (127.0.0.1). */
  readonly githubCert: string;
  readonly githubKey: string;
  /** Client certificates by name: `admin` (system:masters), `controller-manager`, `scheduler`. */
  readonly clients: Readonly<Record<ClientName, { cert: string; key: string }>>;
  readonly serviceAccountKey: string;
  readonly serviceAccountPub: string;
}

export type ClientName = "admin" | "controller-manager" | "scheduler";

/** Subjects of the client certificates: the identities Kubernetes' bootstrap RBAC knows. */
const CLIENTS: Record<ClientName, string> = {
  admin: "/O=system:masters/CN=flux-lab-admin",
  "controller-manager": "/CN=system:kube-controller-manager",
  scheduler: "/CN=system:kube-scheduler",
};

/** Names the API server answers to on loopback and inside the cluster (first address of the service range included). */
export const SERVER_NAMES = ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"];

async function openssl(args: string[], input?: string): Promise<string> {
  try {
    return (await run("openssl", args, input)).stdout;
  } catch (e) {
    throw new LabError(`openssl ${args[0]} failed while making the lab's certificates: ${(e as Error).message}`);
  }
}

async function ecKey(file: string): Promise<void> {
  await openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", file]);
  await fs.chmod(file, 0o600);
}

async function signed(
  dir: string,
  name: string,
  subject: string,
  extensions: string[],
  ca: { cert: string; key: string },
): Promise<{ cert: string; key: string }> {
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.crt`);
  const csr = path.join(dir, `${name}.csr`);
  const ext = path.join(dir, `${name}.ext`);
  await ecKey(key);
  await openssl(["req", "-new", "-key", key, "-subj", subject, "-out", csr]);
  await fs.writeFile(ext, extensions.join("\n") + "\n");
  const serial = `0x${randomBytes(16).toString("hex")}`;
  await openssl(["x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key, "-set_serial", serial, "-days", "30", "-extfile", ext, "-out", cert]);
  await Promise.all([fs.rm(csr), fs.rm(ext)]);
  return { cert, key };
}

/** Creates a fresh PKI in `dir`; the API server's certificate names loopback and the first service address. */
export async function createPki(dir: string, serviceIp: string): Promise<Pki> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const caKey = path.join(dir, "ca.key");
  const caCert = path.join(dir, "ca.crt");
  await ecKey(caKey);
  await openssl([
    "req",
    "-x509",
    "-new",
    "-key",
    caKey,
    "-subj",
    "/CN=flux-lab-ca",
    "-days",
    "30",
    "-out",
    caCert,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  const ca = { cert: caCert, key: caKey };
  const server = await signed(
    dir,
    "apiserver",
    "/CN=kube-apiserver",
    [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth",
      `subjectAltName=${[...SERVER_NAMES.map((n) => `DNS:${n}`), "IP:127.0.0.1", `IP:${serviceIp}`].join(",")}`,
    ],
    ca,
  );
  const github = await signed(
    dir,
    "github",
    "/CN=flux-lab-github",
    [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ],
    ca,
  );
  const clientExt = ["basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature,keyEncipherment", "extendedKeyUsage=clientAuth"];
  const clients = {} as Record<ClientName, { cert: string; key: string }>;
  for (const [name, subject] of Object.entries(CLIENTS) as [ClientName, string][]) clients[name] = await signed(dir, name, subject, clientExt, ca);
  const serviceAccountKey = path.join(dir, "sa.key");
  const serviceAccountPub = path.join(dir, "sa.pub");
  await ecKey(serviceAccountKey);
  await openssl(["pkey", "-in", serviceAccountKey, "-pubout", "-out", serviceAccountPub]);
  return {
    dir,
    caCert,
    caKey,
    serverCert: server.cert,
    serverKey: server.key,
    githubCert: github.cert,
    githubKey: github.key,
    clients,
    serviceAccountKey,
    serviceAccountPub,
  };
}
