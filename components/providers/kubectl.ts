// kubectl against one cluster: server-side apply, waits on conditions, the API's readiness.
import { CommandError, run, sleep, withTempFile } from "./exec";

/** Flux's field manager: applying as kustomize-controller makes Flux's first self-apply a no-op. */
export const FLUX_FIELD_MANAGER = "kustomize-controller";

export interface Kubectl {
  (args: readonly string[], input?: string): Promise<string>;
}

/** A kubectl bound to a kubeconfig (written to a private temporary file for the duration of `fn`). */
export function withKubectl<T>(kubeconfig: string, fn: (kubectl: Kubectl) => Promise<T>): Promise<T> {
  return withTempFile("kubeconfig", kubeconfig, (file) => fn(async (args, input) => (await run("kubectl", ["--kubeconfig", file, ...args], input)).stdout));
}

/** Server-side applies objects (JSON list), as Flux's own field manager. */
export async function applyObjects(kubectl: Kubectl, objects: readonly object[]): Promise<void> {
  if (objects.length === 0) return;
  const list = JSON.stringify({ apiVersion: "v1", kind: "List", items: objects });
  await kubectl(["apply", "--server-side", "--force-conflicts", `--field-manager=${FLUX_FIELD_MANAGER}`, "-f", "-"], list);
}

/** Polls until the API server answers /readyz; returns the kube-system namespace UID (the cluster's identity). */
export async function waitForApi(kubectl: Kubectl, timeoutMs: number, intervalMs = 2000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last: string;
  for (;;) {
    try {
      await kubectl(["get", "--raw=/readyz"]);
      return (await kubectl(["get", "namespace", "kube-system", "-o", "jsonpath={.metadata.uid}"])).trim();
    } catch (e) {
      last = e instanceof CommandError ? e.stderr.trim() : String(e);
    }
    if (Date.now() >= deadline) throw new Error(`the Kubernetes API did not answer within ${Math.round(timeoutMs / 1000)}s: ${last}`);
    await sleep(intervalMs);
  }
}

/** The kube-system UID when the API answers, undefined when the cluster did not answer. */
export async function clusterUid(kubectl: Kubectl): Promise<string | undefined> {
  return (await probeCluster(kubectl)).uid;
}

/** The kube-system UID, or why the cluster did not give it (unreachable, credentials refused). */
export async function probeCluster(kubectl: Kubectl): Promise<{ uid?: string; error?: string }> {
  try {
    const uid = (await kubectl(["get", "namespace", "kube-system", "-o", "jsonpath={.metadata.uid}", "--request-timeout=20s"])).trim();
    return uid ? { uid } : { error: "kube-system has no UID" };
  } catch (e) {
    return { error: e instanceof CommandError ? e.stderr.trim() : String(e) };
  }
}
