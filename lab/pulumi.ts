// The lab's Pulumi: the CLI and plugins it built, a file backend in the lab folder, no network (no plugin download, no update check).
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { LabError } from "./build";
import { PROJECT_DIR, RUN, runPath } from "./layout";
import type { LabState } from "./state";

/** The passphrase of the lab's stacks' secrets: the lab is throwaway, its state never leaves its folder. */
export const LAB_PASSPHRASE = "flux-lab";

/**
 * Pulumi's launcher for Node.js dynamic providers, written by the lab (Pulumi ships it as a script in its
 * release archive, which is not a Go module): the program's own @pulumi/pulumi dynamic-provider host.
 */
const DYNAMIC_PROVIDER_LAUNCHER = `#!/bin/sh
# As Pulumi's own shim: the host of the @pulumi/pulumi Node resolves from where the engine starts providers (the
# program's directory), or from NODE_PATH.
exec node "$(node -e "console.log(require.resolve('@pulumi/pulumi/cmd/dynamic-provider'))")" "$@"
`;

/** Environment for running the lab's `pulumi` against the lab's cluster. */
export function pulumiEnv(state: LabState): NodeJS.ProcessEnv {
  const bins = ["pulumi", "pulumi-language-nodejs", "pulumi-resource-kubernetes"].map((b) => {
    const p = state.bins[b];
    if (!p) throw new LabError(`the lab was started without ${b}: run \`npm run lab -- down\` and \`npm run lab -- up\` to build it`);
    return path.dirname(p);
  });
  const launchers = runPath(RUN.pulumi, "bin");
  const launcher = path.join(launchers, "pulumi-resource-pulumi-nodejs");
  if (!fs.existsSync(launcher) || fs.readFileSync(launcher, "utf8") !== DYNAMIC_PROVIDER_LAUNCHER) {
    fs.mkdirSync(launchers, { recursive: true });
    fs.writeFileSync(launcher, DYNAMIC_PROVIDER_LAUNCHER, { mode: 0o755 });
  }
  fs.mkdirSync(runPath(RUN.pulumi, "state"), { recursive: true });
  return {
    ...process.env,
    PATH: [...new Set([...bins, launchers])].join(":") + `:${process.env.PATH ?? ""}`,
    PULUMI_HOME: runPath(RUN.pulumi, "home"),
    PULUMI_BACKEND_URL: `file://${runPath(RUN.pulumi, "state")}`,
    PULUMI_CONFIG_PASSPHRASE: LAB_PASSPHRASE,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_SKIP_CONFIRMATIONS: "true",
    KUBECONFIG: state.kubeconfigs.admin,
    // The lab GitHub's certificate is from the lab's CA: the program's GitHub client trusts it as a server's own CA.
    NODE_EXTRA_CA_CERTS: state.pki.caCert,
  };
}

/** Runs the lab's `pulumi` in the project directory; output passes through; resolves to the exit code. */
export function runPulumi(state: LabState, args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(state.bins.pulumi, [...args], { cwd: PROJECT_DIR, env: pulumiEnv(state), stdio: "inherit" });
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/** The captured runs still going. */
const capturing = new Set<number>();

/**
 * Runs the lab's `pulumi` in `cwd`, collecting its output (stdout and stderr interleaved as written; passed to `echo` as
 * it comes). `pathBefore`: directories searched for plugins before the lab's own (a language host built on demand);
 * `env`: more of the environment.
 */
export function capturePulumi(
  state: LabState,
  cwd: string,
  args: readonly string[],
  echo?: (chunk: string) => void,
  pathBefore: readonly string[] = [],
  more: NodeJS.ProcessEnv = {},
): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...pulumiEnv(state), ...more };
    if (pathBefore.length > 0) env.PATH = `${pathBefore.join(":")}:${env.PATH}`;
    const child = spawn(state.bins.pulumi, ["--non-interactive", ...args], { cwd, env });
    if (child.pid !== undefined) capturing.add(child.pid);
    let output = "";
    const take = (d: Buffer) => {
      output += d;
      echo?.(d.toString());
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (child.pid !== undefined) capturing.delete(child.pid);
      resolve({ code: code ?? (signal ? 1 : 0), output });
    });
  });
}

/** `pid` and every process under it, read from /proc (the CLI starts its plugins in process groups of their own). */
function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The fields after the command's closing parenthesis: state, then the parent's id.
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // Gone while read.
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]) ?? []));
  return tree;
}

/**
 * Kills every captured run still going (a test timed out while its `pulumi up` waited) with its language host and
 * plugins, and names them. The stack's lock stays, as after any killed run.
 */
export function stopPulumiRuns(): string[] {
  const stopped: string[] = [];
  for (const pid of capturing) {
    const tree = processTree(pid);
    for (const p of tree) {
      try {
        process.kill(p, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    stopped.push(`pulumi (pid ${pid}) and ${tree.length - 1} processes it started`);
    capturing.delete(pid);
  }
  return stopped;
}

/**
 * A directory where the project's program runs under its own stack files: every entry of the project
 * linked in, but its Pulumi.<stack>.yaml files, so lab stacks never touch the project's own tree.
 */
export function engineWorkspace(name: string): string {
  const dir = runPath(RUN.pulumi, "projects", name);
  fs.mkdirSync(dir, { recursive: true });
  for (const entry of fs.readdirSync(PROJECT_DIR)) {
    if (/^Pulumi\..+\.yaml$/.test(entry) || entry === ".git" || entry === ".lab") continue;
    const link = path.join(dir, entry);
    if (!fs.existsSync(link)) fs.symlinkSync(path.join(PROJECT_DIR, entry), link);
  }
  return dir;
}
