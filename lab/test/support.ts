// What the lab suite needs around the program's code: the lab itself, kubectl as the admin, Git pushes, SSH keys, a chart server.
import { createHash } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { run } from "../../components/providers/exec";
import { paramsKeeper } from "../../manifests";
import { isUp, labDown, labUp } from "../lab";
import { logFile, recorded, runs } from "../proc";
import { stopPulumiRuns } from "../pulumi";
import { readState, type LabState } from "../state";

export interface LabSession {
  readonly state: LabState;
  /** Whether this run started the lab (and so stops it at the end). */
  readonly startedHere: boolean;
  readonly buildSeconds: number;
  readonly startSeconds: number;
}

let current: LabSession | undefined;

/** Timings the suites measure, printed once at the end. */
export const timings: Record<string, string> = {};

/** The lab the suites run against (started by the root hook). */
export function lab(): LabSession {
  if (!current) throw new Error("the lab was not started: run the suite with lab/test/.mocharc.json");
  return current;
}

/** Root hooks: the lab, started here unless one is already up; stopped at the end when started here, leaving nothing running. */
export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(90 * 60 * 1000); // a cold build of the lab on two cores
    if (isUp()) {
      if (!readState()!.github)
        throw new Error("the running lab has no GitHub (an earlier version started it): run npm run lab -- down, then npm run lab -- up");
      current = { state: readState()!, startedHere: false, buildSeconds: 0, startSeconds: 0 };
      timings["lab build, lab start"] = "(the lab was already up)";
    } else {
      const r = await labUp((line) => console.log(`  ${line}`));
      current = { state: r.state, startedHere: true, buildSeconds: r.buildSeconds, startSeconds: r.startSeconds };
      timings["lab build"] = `${r.buildSeconds.toFixed(1)}s`;
      timings["lab start"] = `${r.startSeconds.toFixed(1)}s`;
    }
  },
  /** After each test: the API server still watches ConfigMap parameters (see ensureParamsKeeper), or the test that broke it is named. */
  afterEach(this: Mocha.Context) {
    if (!current) return;
    // A test that timed out leaves its `pulumi` running: stopped here, so nothing it started outlives its test.
    const stopped = stopPulumiRuns();
    if (stopped.length > 0) console.log(`    stopped after "${this.currentTest?.title}": ${stopped.join(", ")}`);
    const starts = configMapParamWatchStarts();
    if (starts > 1)
      throw new Error(
        `the lab API server's ConfigMap-parameter watch was stopped and started ${starts} times by now: "${this.currentTest?.fullTitle()}" ` +
          "or one before it took away the last policy with ConfigMap parameters without the program's keeper (ensureParamsKeeper); " +
          "later allowlists go unseen until the API server restarts (npm run lab -- down, then up)",
      );
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(120_000);
    if (!current) return;
    console.log(
      `\n  lab timings:\n${Object.entries(timings)
        .map(([k, v]) => `    ${k}: ${v}`)
        .join("\n")}`,
    );
    const versions = Object.entries(current.state.versions).map(([m, v]) => `    ${m} ${v}`);
    console.log(`  lab components:\n${versions.join("\n")}\n    Flux install manifest: ${current.state.fluxManifest}`);
    if (!current.startedHere) return;
    const started = recorded();
    await labDown((line) => console.log(`  ${line}`));
    const left = started.filter((p) => runs(p.pid, p.command));
    if (left.length > 0) throw new Error(`lab down left processes running: ${left.map((p) => `${p.name} (pid ${p.pid})`).join(", ")}`);
  },
};

/** The real kubectl, as the lab's admin. */
export function kubectl(state: LabState, args: readonly string[], input?: string): Promise<string> {
  return run("kubectl", ["--kubeconfig", state.kubeconfigs.admin, ...args], input).then((r) => r.stdout);
}

/** Applies a Secret as the program's components do (server-side), from its text values. */
export async function applySecret(state: LabState, namespace: string, name: string, data: Record<string, string>): Promise<void> {
  const secret = { apiVersion: "v1", kind: "Secret", metadata: { name, namespace }, type: "Opaque", stringData: data };
  await kubectl(state, ["apply", "--server-side", "--field-manager=flux-lab", "-f", "-"], JSON.stringify(secret));
}

export async function getJson<T>(state: LabState, args: readonly string[]): Promise<T | undefined> {
  const text = await kubectl(state, ["get", ...args, "-o", "json", "--ignore-not-found"]);
  return text.trim() ? (JSON.parse(text) as T) : undefined;
}

/**
 * As the program does on a cluster with native policies, before any of them: the keeper policy and binding that hold
 * the API server's ConfigMap-parameter watch (kubernetes/kubernetes#133827). A suite that brings `vap` policies and
 * takes them away without it stops that watch for the lab's whole life, and every later suite's allowlist goes unseen.
 * Created when missing and left in place, as the program leaves it; one the program made (an engine suite's) stays as it is.
 */
export async function ensureParamsKeeper(state: LabState): Promise<void> {
  for (const o of paramsKeeper()) {
    const resource = o.kind === "ValidatingAdmissionPolicy" ? "validatingadmissionpolicy" : "validatingadmissionpolicybinding";
    if (!(await getJson(state, [resource, o.metadata.name]))) await kubectl(state, ["create", "-f", "-"], JSON.stringify(o));
  }
}

/**
 * How many times the running API server started its ConfigMap-parameter watch ("informer started for /v1,
 * Kind=ConfigMap" from its own process, by the pid klog writes). More than once means it was stopped and handed back
 * stopped: the lab's API server no longer sees allowlist ConfigMaps until it restarts.
 */
export function configMapParamWatchStarts(): number {
  const apiserver = recorded().find((p) => p.name === "kube-apiserver");
  if (!apiserver || !fs.existsSync(logFile("kube-apiserver"))) return 0;
  const line = new RegExp(`^\\S+ \\S+ +${apiserver.pid} \\S+\\] informer started for /v1, Kind=ConfigMap$`, "gm");
  return fs.readFileSync(logFile("kube-apiserver"), "utf8").match(line)?.length ?? 0;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `fn` until it returns a value; the error names what was awaited and the last thing seen. */
export async function waitFor<T>(what: string, seconds: number, fn: () => Promise<{ value?: T; seen?: string }>): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const r = await fn();
    if (r.value !== undefined) return r.value;
    if (Date.now() >= deadline) throw new Error(`${what}: not within ${seconds}s; last seen: ${r.seen ?? ""}`);
    await sleep(500);
  }
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `flux-lab-${prefix}-`));
}

/** An SSH key pair made as the program's keys are (ECDSA P-384), in OpenSSH format. */
export async function sshKeyPair(dir: string, name: string): Promise<{ privateKey: string; publicKey: string; publicKeyFile: string }> {
  const file = path.join(dir, name);
  await run("ssh-keygen", ["-q", "-t", "ecdsa", "-b", "384", "-N", "", "-C", name, "-f", file]);
  return { privateKey: fs.readFileSync(file, "utf8"), publicKey: fs.readFileSync(`${file}.pub`, "utf8").trim(), publicKeyFile: `${file}.pub` };
}

/** A repository's URL on the lab's Git server: `<name>.git`, or `<owner>/<name>` as the lab GitHub keeps repositories. */
function repositoryUrl(state: LabState, name: string): string {
  return `${state.git.url}/${name.includes("/") ? name : `${name}.git`}`;
}

/** A working copy of one repository on the lab's Git server (named as repositoryUrl says), pushed to with the lab's own key. */
export class Repo {
  readonly url: string;
  private readonly dir: string;

  constructor(
    private readonly state: LabState,
    readonly name: string,
    readonly branch = "main",
    /** The repository already holds the branch (one the lab GitHub made): commit on top of it. */
    private readonly onTopOfRemote = false,
  ) {
    this.url = repositoryUrl(state, name);
    this.dir = tempDir(`repo-${name.replace(/\//g, "-")}`);
  }

  private git(args: readonly string[]): Promise<string> {
    const ssh = `ssh -F /dev/null -i ${this.state.git.identity} -o IdentitiesOnly=yes -o UserKnownHostsFile=${this.state.git.knownHosts} -o StrictHostKeyChecking=yes`;
    return run("env", [`GIT_SSH_COMMAND=${ssh}`, "git", "-C", this.dir, "-c", "user.name=flux-lab", "-c", "user.email=lab@flux-lab.invalid", ...args]).then(
      (r) => r.stdout.trim(),
    );
  }

  /** Replaces the whole tree with `files`, commits and pushes (never forced); returns Flux's revision `<branch>@sha1:<sha>`. */
  async commit(files: Readonly<Record<string, string>>, message: string): Promise<string> {
    if (!fs.existsSync(path.join(this.dir, ".git"))) {
      await this.git(["init", "-q", "-b", this.branch]);
      await this.git(["remote", "add", "origin", this.url]);
      // On top of what the branch already holds (a repository the lab GitHub made), so the push is a fast-forward.
      if (this.onTopOfRemote) {
        await this.git(["fetch", "-q", "origin", this.branch]);
        await this.git(["reset", "-q", "--soft", "FETCH_HEAD"]);
      }
    }
    for (const entry of fs.readdirSync(this.dir)) if (entry !== ".git") fs.rmSync(path.join(this.dir, entry), { recursive: true, force: true });
    for (const [file, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(this.dir, file)), { recursive: true });
      fs.writeFileSync(path.join(this.dir, file), text);
    }
    await this.git(["add", "-A"]);
    await this.git(["commit", "-q", "--allow-empty", "-m", message]);
    await this.git(["push", "-q", "origin", `HEAD:refs/heads/${this.branch}`]);
    return `${this.branch}@sha1:${await this.git(["rev-parse", "HEAD"])}`;
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * The files of a repository's `main` on the lab's Git server (or of a commit in its history), as path -> text.
 * `name` is the repository's path there: `<name>` for `<name>.git`, or `<owner>/<name>` as the lab GitHub keeps them.
 */
export async function remoteFiles(state: LabState, name: string, commit = "FETCH_HEAD"): Promise<Map<string, string>> {
  const dir = tempDir(`read-${name.replace(/\//g, "-")}`);
  try {
    const ssh = `ssh -F /dev/null -i ${state.git.identity} -o IdentitiesOnly=yes -o UserKnownHostsFile=${state.git.knownHosts} -o StrictHostKeyChecking=yes`;
    const git = (args: string[]) => run("env", [`GIT_SSH_COMMAND=${ssh}`, "git", "-C", dir, ...args]).then((r) => r.stdout);
    await git(["init", "-q"]);
    // Servers hand out branches, not arbitrary commits: fetch main with its history, then read the commit.
    await git(["fetch", "-q", repositoryUrl(state, name), "main"]);
    const files = new Map<string, string>();
    for (const p of (await git(["ls-tree", "-r", "--name-only", commit])).split("\n").filter(Boolean)) files.set(p, await git(["show", `${commit}:${p}`]));
    return files;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A Helm chart packaged here and served from a Helm repository on loopback HTTP. */
export class ChartServer {
  private server?: http.Server;
  private readonly dir = tempDir("charts");
  url = "";

  /** Packages `chart` (files under `<name>/`) and serves it with its index.yaml. */
  async start(name: string, version: string, files: Readonly<Record<string, string>>): Promise<void> {
    const src = tempDir("chart-src");
    for (const [file, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(src, name, file)), { recursive: true });
      fs.writeFileSync(path.join(src, name, file), text);
    }
    const archive = `${name}-${version}.tgz`;
    await run("tar", ["-czf", path.join(this.dir, archive), "-C", src, name]);
    fs.rmSync(src, { recursive: true, force: true });
    const digest = createHash("sha256")
      .update(fs.readFileSync(path.join(this.dir, archive)))
      .digest("hex");
    this.server = http.createServer((req, res) => {
      const file = path.join(this.dir, path.basename(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)));
      if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-type": file.endsWith(".yaml") ? "application/x-yaml" : "application/gzip" });
      fs.createReadStream(file).pipe(res);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    const index = {
      apiVersion: "v1",
      entries: { [name]: [{ apiVersion: "v2", name, version, digest, created: new Date().toISOString(), urls: [`${this.url}/${archive}`] }] },
      generated: new Date().toISOString(),
    };
    fs.writeFileSync(path.join(this.dir, "index.yaml"), JSON.stringify(index, null, 2));
  }

  /** Serves one more file beside the charts (any HTTP resource a test needs on loopback). */
  serve(name: string, text: string): string {
    fs.writeFileSync(path.join(this.dir, path.basename(name)), text);
    return `${this.url}/${path.basename(name)}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
