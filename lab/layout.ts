// Where the lab keeps things: Go wrapper modules (committed), built binaries and a running lab's files (ignored).
import * as path from "path";

export const PROJECT_DIR = path.resolve(__dirname, "..");
/** The committed Go wrapper modules, one directory per family. */
export const GO_DIR = path.join(PROJECT_DIR, "lab", "go");

/** Everything the lab writes: `$FLUX_LAB_DIR`, default `.lab/` in the project (ignored by Git). */
export function labDir(): string {
  return path.resolve(process.env.FLUX_LAB_DIR || path.join(PROJECT_DIR, ".lab"));
}

/** Built binaries, one directory per family and go.mod hash. */
export function binRoot(): string {
  return path.join(labDir(), "bin");
}

/** A running lab's files: PKI, kubeconfigs, etcd data, repositories, logs, process ids, state. */
export function runDir(): string {
  return path.join(labDir(), "run");
}

export const RUN = {
  state: "state.json",
  pki: "pki",
  logs: "logs",
  pids: "pids",
  etcdData: "etcd",
  adminKubeconfig: "admin.kubeconfig",
  knownHosts: "known_hosts",
  git: "git",
  flux: "flux",
  github: "github",
  pulumi: "pulumi",
} as const;

export function runPath(...parts: string[]): string {
  return path.join(runDir(), ...parts);
}
