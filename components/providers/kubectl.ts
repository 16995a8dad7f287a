// kubectl against one cluster: server-side apply, waits on conditions, the API's readiness.
import { spawn } from "child_process";
import { createInterface } from "readline";
import { CommandError, run, sleep, withTempFile } from "./exec";

/** Flux's field manager: applying as kustomize-controller makes Flux's first self-apply a no-op. */
export const FLUX_FIELD_MANAGER = "kustomize-controller";

export interface Kubectl {
  (args: readonly string[], input?: string): Promise<string>;
  /**
   * `kubectl get <args> --watch`: each event as the API server sends it (the objects that match first, as ADDED),
   * until `stop()` or the watch ends (`onEnd`, with kubectl's error if it failed). Absent: the caller polls instead.
   */
  watch?(args: readonly string[], onEvent: (event: WatchEvent) => void, onEnd: (error?: string) => void): { stop(): void };
}

/** `watch` arguments for one object, by name (a field selector: a watch of an object not made yet waits for it). */
export function watchOneArgs(namespace: string, resource: string, name: string): string[] {
  return ["-n", namespace, resource, "--field-selector", `metadata.name=${name}`];
}

/** One event of a watch, as `kubectl get --watch --output-watch-events -o json` prints it (one a line). */
export interface WatchEvent {
  readonly type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  readonly object: unknown;
}

/** A kubectl bound to a kubeconfig (written to a private temporary file for the duration of `fn`); its watches end with it. */
export function withKubectl<T>(kubeconfig: string, fn: (kubectl: Kubectl) => Promise<T>): Promise<T> {
  return withTempFile("kubeconfig", kubeconfig, async (file) => {
    const watches = new Set<{ stop(): void }>();
    const kubectl: Kubectl = async (args, input) => (await run("kubectl", ["--kubeconfig", file, ...args], input)).stdout;
    kubectl.watch = (args, onEvent, onEnd) => {
      const w = watchWith(["--kubeconfig", file, "get", ...args], onEvent, (error) => (watches.delete(w), onEnd(error)));
      watches.add(w);
      return w;
    };
    try {
      return await fn(kubectl);
    } finally {
      for (const w of watches) w.stop();
    }
  });
}

/** Runs `kubectl get ... --watch` and hands on each event line; one process for the whole watch. */
function watchWith(args: readonly string[], onEvent: (event: WatchEvent) => void, onEnd: (error?: string) => void): { stop(): void } {
  const child = spawn("kubectl", [...args, "--watch", "--output-watch-events", "-o", "json"], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  let stopped = false;
  child.stderr.on("data", (d: Buffer) => void (stderr += d.toString()));
  createInterface({ input: child.stdout }).on("line", (line) => {
    if (!line.trim() || stopped) return;
    try {
      onEvent(JSON.parse(line) as WatchEvent);
    } catch {
      // Not an event (kubectl printed something else): the caller's next read tells.
    }
  });
  let ended = false;
  const end = (error?: string) => {
    if (ended) return;
    ended = true;
    onEnd(stopped ? undefined : error);
  };
  child.on("error", (e) => end(e.message));
  child.on("close", (code) => end(code ? stderr.trim() || `kubectl exited with ${code}` : undefined));
  return {
    stop: () => {
      stopped = true;
      child.kill();
    },
  };
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
