// The lab's life cycle: up (build, PKI, then each component started and waited for), down, status, env, authorize.
import * as fs from "fs";
import * as path from "path";
import { run } from "../components/providers/exec";
import { apiserver } from "./components/apiserver";
import { controllerManager } from "./components/controllerManager";
import { etcd } from "./components/etcd";
import { gitServer } from "./components/gitServer";
import { kwok, labNode } from "./components/kwok";
import { scheduler } from "./components/scheduler";
import { buildLab, LabError } from "./build";
import { labInstallManifest } from "./fluxRelease";
import { kubeApi, kubeconfigText, ApiError } from "./kubeApi";
import { RUN, runDir, runPath } from "./layout";
import { createPki } from "./pki";
import { freePort, type ProcessSpec, type Recorded, recorded, runs, startProcess, stopProcess, waitReady } from "./proc";
import { type LabState, type Ports, readState, writeState } from "./state";

const SERVICE_CIDR = "10.96.0.0/24";
const SERVICE_IP = "10.96.0.1";
const NODE_NAME = "lab-node-0";
const SUPERVISOR = "flux-supervisor";

type Log = (line: string) => void;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function until<T>(what: string, seconds: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  let last = "";
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = `: ${(e as Error).message}`;
    }
    if (Date.now() >= deadline) throw new LabError(`${what} did not happen within ${seconds}s${last}`);
    await sleep(250);
  }
}

async function distinctPorts(): Promise<Ports> {
  const seen = new Set<number>();
  const next = async () => {
    let p = await freePort();
    while (seen.has(p)) p = await freePort();
    seen.add(p);
    return p;
  };
  return {
    etcdClient: await next(),
    etcdPeer: await next(),
    apiserver: await next(),
    controllerManager: await next(),
    scheduler: await next(),
    kwok: await next(),
    git: await next(),
    gitHttp: await next(),
    github: await next(),
  };
}

/** Whether every process the lab recorded still runs (and at least one was recorded). */
export function isUp(): boolean {
  const procs = recorded();
  return procs.length > 0 && procs.every((p) => runs(p.pid, p.command)) && readState() !== undefined;
}

/** The supervisor runs in Node with the project's TypeScript loader. */
/** The lab's GitHub, a Node process serving the tests' loopback GitHub over HTTPS (lab/github.ts). */
function githubSpec(state: LabState): ProcessSpec {
  return {
    name: "github",
    command: process.execPath,
    args: ["-r", require.resolve("ts-node/register/transpile-only"), path.join(__dirname, "github.ts")],
    cwd: path.resolve(__dirname, ".."),
    // It listens once GitHub's description is loaded.
    ready: { tcp: state.ports.github },
    readySeconds: 60,
  };
}

function supervisorSpec(): ProcessSpec {
  return {
    name: SUPERVISOR,
    command: process.execPath,
    args: ["-r", require.resolve("ts-node/register/transpile-only"), path.join(__dirname, "supervisor.ts")],
    cwd: path.resolve(__dirname, ".."),
    ready: { check: async () => fs.existsSync(runPath(RUN.flux, "ports.json")) },
  };
}

async function sshKeygen(file: string, comment: string): Promise<void> {
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file]).catch((e: unknown) => {
    throw new LabError(`ssh-keygen could not make the lab's Git key (install openssh-client): ${(e as Error).message}`);
  });
}

export interface UpResult {
  readonly state: LabState;
  readonly buildSeconds: number;
  readonly startSeconds: number;
  readonly alreadyUp: boolean;
}

/** Starts the lab (building what is not cached); on any failure stops what it started and says which component failed. */
export async function labUp(log: Log = console.log): Promise<UpResult> {
  const existing = readState();
  if (existing && isUp()) {
    log(`lab already up since ${existing.startedAt}`);
    return { state: existing, buildSeconds: 0, startSeconds: 0, alreadyUp: true };
  }
  if (recorded().length > 0) {
    log("stopping what is left of an earlier lab");
    await labDown(() => undefined);
  }
  const built = await buildLab(log);
  const manifest = await labInstallManifest();
  const started = Date.now();
  fs.rmSync(runDir(), { recursive: true, force: true });
  fs.mkdirSync(runDir(), { recursive: true, mode: 0o700 });

  const ports = await distinctPorts();
  const pki = await createPki(runPath(RUN.pki), SERVICE_IP);
  const kubeconfigs = {
    admin: runPath(RUN.adminKubeconfig),
    controllerManager: runPath("controller-manager.kubeconfig"),
    scheduler: runPath("scheduler.kubeconfig"),
  };
  fs.writeFileSync(kubeconfigs.admin, kubeconfigText({ ports, pki }, pki.clients.admin), { mode: 0o600 });
  fs.writeFileSync(kubeconfigs.controllerManager, kubeconfigText({ ports, pki }, pki.clients["controller-manager"]), { mode: 0o600 });
  fs.writeFileSync(kubeconfigs.scheduler, kubeconfigText({ ports, pki }, pki.clients.scheduler), { mode: 0o600 });

  const gitDir = runPath(RUN.git);
  fs.mkdirSync(path.join(gitDir, "repos"), { recursive: true });
  const identity = path.join(gitDir, "lab_ed25519");
  await sshKeygen(identity, "flux-lab");
  fs.writeFileSync(path.join(gitDir, "authorized_keys"), fs.readFileSync(`${identity}.pub`));

  // kwok's stages sit beside the kube family's binaries.
  const bins = { ...built.bins, "kube:data": built.families.find((f) => f.family === "kube")!.dir };
  const state: LabState = {
    startedAt: new Date().toISOString(),
    bins,
    ports,
    serviceCidr: SERVICE_CIDR,
    serviceIp: SERVICE_IP,
    pki,
    kubeconfigs,
    git: {
      url: `ssh://git@127.0.0.1:${ports.git}`,
      httpUrl: `http://127.0.0.1:${ports.gitHttp}`,
      repos: path.join(gitDir, "repos"),
      hostKeyDir: path.join(gitDir, "host-key"),
      authorizedKeys: path.join(gitDir, "authorized_keys"),
      knownHosts: runPath(RUN.knownHosts),
      identity,
      deployKeys: path.join(gitDir, "deploy-keys"),
      webhooks: path.join(gitDir, "webhooks.json"),
    },
    github: {
      apiUrl: `https://127.0.0.1:${ports.github}/api/v3`,
      host: "127.0.0.1",
      violations: runPath(RUN.github, "violations.log"),
      requests: runPath(RUN.github, "requests.log"),
    },
    nodeName: NODE_NAME,
    fluxManifest: manifest.source,
    versions: Object.assign({ go: built.toolchain }, ...built.families.map((f) => f.versions)),
  };
  writeState(state);

  const api = kubeApi(state);
  await startInOrder(
    [
      etcd(state),
      apiserver(state),
      controllerManager(state),
      scheduler(state),
      kwok(state),
      async () => {
        await api.request("POST", "/api/v1/nodes", labNode(NODE_NAME));
        await until(`node ${NODE_NAME} Ready`, 60, async () => {
          const node = await api.request<{ status?: { conditions?: { type: string; status: string }[] } }>("GET", `/api/v1/nodes/${NODE_NAME}`);
          return node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ? true : undefined;
        });
        // The controller manager gives every namespace its default ServiceAccount; Flux impersonates tenants' accounts.
        await until("the default ServiceAccount", 60, () =>
          api.request("GET", "/api/v1/namespaces/default/serviceaccounts/default").then(
            () => true,
            (e: unknown) => (e instanceof ApiError && e.status === 404 ? undefined : Promise.reject(e)),
          ),
        );
      },
      gitServer(state),
      async () => {
        const hostKey = fs.readFileSync(path.join(state.git.hostKeyDir, "gitkit.rsa.pub"), "utf8").trim();
        fs.writeFileSync(state.git.knownHosts, `[127.0.0.1]:${ports.git} ${hostKey}\n`);
        fs.mkdirSync(runPath(RUN.github), { recursive: true });
      },
      githubSpec(state),
      supervisorSpec(),
    ],
    log,
  );
  const startSeconds = (Date.now() - started) / 1000;
  log(`lab up in ${startSeconds.toFixed(1)}s (build ${built.seconds.toFixed(1)}s)`);
  return { state, buildSeconds: built.seconds, startSeconds, alreadyUp: false };
}

/**
 * Starts each component and waits until it answers (other steps are awaited as they are). On a
 * failure everything started so far is stopped, and the error names the component with its log tail.
 */
export async function startInOrder(steps: readonly (ProcessSpec | (() => Promise<void>))[], log: Log = console.log): Promise<void> {
  try {
    for (const step of steps) {
      if (typeof step === "function") {
        await step();
        continue;
      }
      const t = Date.now();
      const p = startProcess(step);
      await waitReady(step, p);
      log(`  ${step.name} ready in ${((Date.now() - t) / 1000).toFixed(1)}s (pid ${p.pid})`);
    }
  } catch (e) {
    log("lab up failed; stopping what it started");
    await labDown(() => undefined);
    throw e;
  }
}

/** Stops every process the lab started, the controllers' supervisor first; files stay for reading until the next up. */
export async function labDown(log: Log = console.log): Promise<void> {
  const procs = recorded();
  if (procs.length === 0) {
    log("lab is not running");
    return;
  }
  const stop = async (p: Recorded) => {
    const was = runs(p.pid, p.command);
    await stopProcess(p);
    log(`  ${p.name}: ${was ? `stopped (pid ${p.pid})` : "was not running"}`);
  };
  // The supervisor stops the Flux controllers it runs; whatever is left goes in reverse start order.
  for (const p of procs.filter((p) => p.name === SUPERVISOR)) await stop(p);
  for (const p of recorded().reverse()) await stop(p);
  log("lab down");
}

/** One line per recorded process, and where the lab listens. */
export function labStatus(): string[] {
  const state = readState();
  const procs = recorded();
  if (!state || procs.length === 0) return ["lab is not running"];
  const lines = procs.map((p) => `${p.name.padEnd(24)} ${runs(p.pid, p.command) ? "running" : "STOPPED"}  pid ${p.pid}`);
  lines.push(`API server https://127.0.0.1:${state.ports.apiserver}, Git ${state.git.url}, since ${state.startedAt}`);
  return lines;
}

/** Shell lines for using the lab from a terminal or a test. */
export function labEnv(state: LabState): string[] {
  return [
    `export KUBECONFIG=${state.kubeconfigs.admin}`,
    `export LAB_GIT_SSH=${state.git.url}`,
    `export LAB_KNOWN_HOSTS=${state.git.knownHosts}`,
    `export LAB_GIT_IDENTITY=${state.git.identity}`,
    `export LAB_GITHUB_API=${state.github.apiUrl}`,
    `export NODE_EXTRA_CA_CERTS=${state.pki.caCert}`,
  ];
}

/** Lets a public key (OpenSSH format) read and push on the lab's Git server; returns its fingerprint. */
export async function authorize(state: LabState, pubKeyFile: string): Promise<string> {
  let fingerprint: string;
  try {
    fingerprint = (await run("ssh-keygen", ["-l", "-f", pubKeyFile])).stdout.trim();
  } catch (e) {
    throw new LabError(`${pubKeyFile} is not an OpenSSH public key: ${(e as Error).message}`);
  }
  const line = fs.readFileSync(pubKeyFile, "utf8").trim().split("\n")[0];
  fs.appendFileSync(state.git.authorizedKeys, `${line}\n`);
  return fingerprint;
}
