// The lab's stand-in for the kubelet of the Flux controllers: one host process per Flux Deployment in the cluster,
// started when the Deployment appears, restarted when its pod template changes or the process dies, stopped when it goes.
import { type ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { FLUX_NAMESPACE } from "../manifests/labels";
import { type ControllerPorts, type DeploymentObject, hostProcess, type HostProcess, wanted } from "./fluxControllers";
import { RUN, runPath } from "./layout";
import { freePort, logFile } from "./proc";
import { kubeApi, kubeconfigText } from "./kubeApi";
import { readState } from "./state";

/** The controllers the lab has binaries for, with the container ports each Deployment names. */
const CONTROLLERS: Record<string, string[]> = {
  "source-controller": ["http", "http-prom", "healthz"],
  "kustomize-controller": ["http-prom", "healthz"],
  "helm-controller": ["http-prom", "healthz"],
  "notification-controller": ["http", "http-webhook", "http-prom", "healthz"],
  "image-reflector-controller": ["http-prom", "healthz"],
  "image-automation-controller": ["http-prom", "healthz"],
  "source-watcher": ["http", "http-prom", "healthz"],
};

const POLL_MS = 500;

/**
 * The controllers reach nothing beyond loopback: HTTP(S) to any other address goes to a proxy port where nothing
 * listens (refused at once), so a source outside the lab (the starter layout's chart repository, say) fails in the
 * controller instead of being fetched. Git over SSH, the API server and every lab server are on 127.0.0.1.
 */
const LOOPBACK_ONLY = { HTTP_PROXY: "http://127.0.0.1:1", HTTPS_PROXY: "http://127.0.0.1:1", NO_PROXY: "127.0.0.1,localhost" };
const TOKEN_SECONDS = 7 * 24 * 3600;

interface Running {
  readonly spec: string;
  readonly child: ChildProcess;
  exited: boolean;
}

function log(line: string): void {
  console.log(`${new Date().toISOString()} ${line}`);
}

async function main(): Promise<void> {
  const state = readState();
  if (!state) throw new Error("no lab state: start the lab with `npm run lab -- up`");
  const api = kubeApi(state);
  const fluxDir = runPath(RUN.flux);
  fs.mkdirSync(fluxDir, { recursive: true });

  // Ports fixed for the supervisor's lifetime, so a controller's address in another's args never moves.
  const ports: Record<string, Record<string, number>> = {};
  const taken = new Set<number>(Object.values(state.ports));
  for (const [name, names] of Object.entries(CONTROLLERS)) {
    ports[name] = {};
    for (const p of names) {
      let port = await freePort();
      while (taken.has(port)) port = await freePort();
      taken.add(port);
      ports[name][p] = port;
    }
  }
  fs.writeFileSync(path.join(fluxDir, "ports.json"), JSON.stringify(ports, null, 2) + "\n");

  const running = new Map<string, Running>();
  const backoff = new Map<string, { until: number; delay: number }>();
  let stopping = false;

  const stop = (name: string): Promise<void> =>
    new Promise((resolve) => {
      const r = running.get(name);
      running.delete(name);
      fs.rmSync(runPath(RUN.pids, `${name}.pid`), { force: true });
      if (!r || r.exited) return resolve();
      const timer = setTimeout(() => r.child.kill("SIGKILL"), 10_000);
      r.child.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      r.child.kill("SIGTERM");
    });

  const start = async (p: HostProcess, spec: string): Promise<void> => {
    const dir = path.join(fluxDir, p.name);
    for (const v of Object.values(p.volumes)) fs.mkdirSync(v, { recursive: true });
    const token = await api.request<{ status: { token: string } }>("POST", `/api/v1/namespaces/${p.namespace}/serviceaccounts/${p.serviceAccount}/token`, {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: { expirationSeconds: TOKEN_SECONDS },
    });
    const kubeconfig = path.join(dir, "kubeconfig");
    fs.writeFileSync(kubeconfig, kubeconfigText(state, { token: token.status.token }, p.serviceAccount), { mode: 0o600 });
    const bin = state.bins[p.name];
    const out = fs.openSync(logFile(p.name), "a");
    const child = spawn(bin, p.args, {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "", HOME: dir, ...p.env, ...LOOPBACK_ONLY, KUBECONFIG: kubeconfig },
      stdio: ["ignore", out, out],
    });
    fs.closeSync(out);
    const r: Running = { spec, child, exited: false };
    running.set(p.name, r);
    fs.writeFileSync(runPath(RUN.pids, `${p.name}.pid`), `${child.pid}\n${bin}\n${Date.now()}\n`);
    child.on("exit", (code, signal) => {
      r.exited = true;
      if (running.get(p.name) === r && !stopping) {
        const delay = Math.min((backoff.get(p.name)?.delay ?? 500) * 2, 30_000);
        backoff.set(p.name, { until: Date.now() + delay, delay });
        log(`${p.name} exited (${signal ?? code}); restarting in ${delay / 1000}s`);
      }
    });
    log(`${p.name} started as ${p.namespace}/${p.serviceAccount} (pid ${child.pid}): ${p.args.join(" ")}`);
  };

  const reconcile = async (): Promise<void> => {
    const list = await api.request<{ items: DeploymentObject[] }>("GET", `/apis/apps/v1/namespaces/${FLUX_NAMESPACE}/deployments`);
    const desired = new Map<string, HostProcess>();
    for (const d of list.items) {
      if (CONTROLLERS[d.metadata.name] && state.bins[d.metadata.name] && wanted(d)) {
        desired.set(d.metadata.name, hostProcess(d, ports as ControllerPorts, path.join(fluxDir, d.metadata.name, "volumes")));
      }
    }
    for (const name of [...running.keys()]) {
      if (!desired.has(name)) {
        log(`${name}: Deployment gone or scaled to zero; stopping`);
        await stop(name);
      }
    }
    for (const [name, p] of desired) {
      const spec = JSON.stringify(p);
      const r = running.get(name);
      if (r && r.spec !== spec) {
        log(`${name}: pod template changed; restarting`);
        await stop(name);
      } else if (r && !r.exited) continue;
      else if (r && Date.now() < (backoff.get(name)?.until ?? 0)) continue;
      if (r) running.delete(name);
      await start(p, spec);
    }
  };

  const shutdown = async (): Promise<void> => {
    stopping = true;
    log("stopping every controller");
    await Promise.all([...running.keys()].map(stop));
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown());
  process.on("SIGINT", () => void shutdown());

  log(`watching Deployments in ${FLUX_NAMESPACE}`);
  while (!stopping) {
    try {
      await reconcile();
    } catch (e) {
      log(`reconcile failed: ${(e as Error).message}`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
