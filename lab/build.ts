// Builds the lab's binaries from the committed Go wrapper modules, cached by a hash of each module, so a second run builds nothing.
import { createHash } from "crypto";
import { promises as fs } from "fs";
import * as path from "path";
import { CommandError, run } from "../components/providers/exec";
import { DEFAULTS } from "../config";
import { binRoot, GO_DIR } from "./layout";
import { checkFluxPins } from "./fluxRelease";
import { checkKubeReplaces, kubeLdflags } from "./gomod";

/** A failure the lab explains itself (no stack trace needed). */
export class LabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LabError";
  }
}

export interface Binary {
  readonly name: string;
  /** Main package, as the wrapper module sees it. */
  readonly pkg: string;
}

export interface Family {
  /** Directory under lab/go. */
  readonly name: string;
  readonly binaries: readonly Binary[];
  /** Checks before a build (pins against a release, generated blocks up to date). */
  readonly check?: (dir: string, versions: ModuleVersions) => Promise<void>;
  /** Files a build needs in the wrapper module, copied out of the module cache first (into an ignored folder). */
  readonly prepare?: (dir: string, moduleDir: (module: string) => Promise<string>) => Promise<void>;
  /** Modules whose versions to record beside those providing the main packages (for binaries built from our own main). */
  readonly modules?: readonly string[];
  /** Linker flags derived from the resolved versions. */
  readonly ldflags?: (versions: ModuleVersions) => string[];
  /** Data a binary needs at run time, copied out of the module cache into the family's output directory. */
  readonly data?: (out: string, moduleDir: (module: string) => Promise<string>) => Promise<void>;
}

/** Module path -> version of the modules providing each binary's main package. */
export type ModuleVersions = Record<string, string>;

/** Bumped when what a build writes changes (e.g. what versions.json records): part of the cache key. */
const BUILD_FORMAT = 2;

/** Flags every binary is built with; part of the cache key. */
const BUILD_FLAGS = ["-trimpath"];
const BASE_LDFLAGS = ["-s", "-w"];

export const FAMILIES: readonly Family[] = [
  { name: "etcd", binaries: [{ name: "etcd", pkg: "go.etcd.io/etcd/server/v3" }] },
  {
    name: "kube",
    binaries: [
      { name: "kube-apiserver", pkg: "k8s.io/kubernetes/cmd/kube-apiserver" },
      { name: "kube-controller-manager", pkg: "k8s.io/kubernetes/cmd/kube-controller-manager" },
      { name: "kube-scheduler", pkg: "k8s.io/kubernetes/cmd/kube-scheduler" },
      { name: "kwok", pkg: "sigs.k8s.io/kwok/cmd/kwok" },
    ],
    check: checkKubeReplaces,
    ldflags: kubeLdflags,
    // kwok runs with the node and pod stages kwokctl gives it by default, as the kwok module ships them.
    data: async (out, moduleDir) => {
      const stages = path.join(await moduleDir("sigs.k8s.io/kwok"), "kustomize", "stage");
      const files = [
        "node/fast/node-initialize.yaml",
        "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
        "pod/fast/pod-ready.yaml",
        "pod/fast/pod-complete.yaml",
        "pod/fast/pod-delete.yaml",
      ];
      const docs = await Promise.all(files.map((f) => fs.readFile(path.join(stages, f), "utf8")));
      await fs.writeFile(path.join(out, "kwok-stages.yaml"), docs.map((d) => d.trimEnd() + "\n").join("---\n"));
    },
  },
  {
    name: "flux",
    binaries: ["source-controller", "kustomize-controller", "notification-controller"].map((c) => ({ name: c, pkg: `github.com/fluxcd/${c}` })),
    check: (_dir, versions) => checkFluxPins("lab/go/flux/go.mod", versions),
  },
  {
    name: "fluximage",
    binaries: [
      { name: "image-reflector-controller", pkg: "github.com/fluxcd/image-reflector-controller" },
      { name: "image-automation-controller", pkg: "github.com/fluxcd/image-automation-controller" },
      { name: "source-watcher", pkg: "github.com/fluxcd/source-watcher/v2/cmd" },
    ],
    check: (_dir, versions) => checkFluxPins("lab/go/fluximage/go.mod", versions),
  },
  {
    name: "helm",
    binaries: [{ name: "helm-controller", pkg: "github.com/fluxcd/helm-controller" }],
    check: (_dir, versions) => checkFluxPins("lab/go/helm/go.mod", versions),
  },
  { name: "gitserver", binaries: [{ name: "git-server", pkg: "." }], modules: ["github.com/fluxcd/gitkit"] },
  {
    name: "sops",
    binaries: [{ name: "sops", pkg: "github.com/getsops/sops/v3/cmd/sops" }],
    check: (_dir, versions) => checkSopsPin(versions),
  },
  {
    name: "pulumi",
    binaries: [
      { name: "pulumi", pkg: "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi" },
      { name: "pulumi-language-nodejs", pkg: "./langhost" },
    ],
    modules: ["github.com/pulumi/pulumi/sdk/v3"],
    check: (_dir, versions) => checkPulumiPin(versions),
    ldflags: (versions) => {
      const v = versions["github.com/pulumi/pulumi/pkg/v3"];
      return [`-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=${v}`, `-X main.version=${v.replace(/^v/, "")}`];
    },
  },
  {
    name: "kubernetes",
    binaries: [{ name: "pulumi-resource-kubernetes", pkg: "." }],
    modules: ["github.com/pulumi/pulumi-kubernetes/provider/v4"],
    prepare: async (dir, moduleDir) => {
      const shipped = path.join(await moduleDir("github.com/pulumi/pulumi-kubernetes/provider/v4"), "cmd", "pulumi-resource-kubernetes");
      await fs.mkdir(path.join(dir, "schema"), { recursive: true });
      for (const f of ["schema.json", "terraform-mapping.json"]) {
        await fs.writeFile(path.join(dir, "schema", f), await fs.readFile(path.join(shipped, f)));
      }
    },
    ldflags: (versions) => [
      `-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=${versions["github.com/pulumi/pulumi-kubernetes/provider/v4"]}`,
    ],
  },
];

/**
 * Families built only by the suite that runs them, not by `lab build`: a cold build of one would take the whole lab's past
 * its budget, for one suite's use.
 */
export const ON_DEMAND_FAMILIES: readonly Family[] = [
  {
    name: "kyverno",
    binaries: [{ name: "kyverno", pkg: "github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno" }],
    check: (_dir, versions) => checkKyvernoPin(versions),
  },
  {
    name: "pulumiyaml",
    binaries: [{ name: "pulumi-language-yaml", pkg: "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml" }],
    ldflags: (versions) => [`-X github.com/pulumi/pulumi-yaml/pkg/version.Version=${versions["github.com/pulumi/pulumi-yaml"]}`],
  },
];

/** The Kyverno CLI must be the release the stacks install (policies.kyvernoVersion's default). */
async function checkKyvernoPin(versions: ModuleVersions): Promise<void> {
  const want = DEFAULTS.policies.kyvernoVersion;
  const module = "github.com/kyverno/kyverno";
  if (versions[module] !== want) {
    throw new LabError(
      `lab/go/kyverno/go.mod builds ${module} ${versions[module]}, but the stacks install Kyverno ${want} (policies.kyvernoVersion): require ${module} ${want}`,
    );
  }
}

/** Builds (or finds cached) an on-demand family, for the suite that runs it; its binary paths by name. */
export async function buildOnDemand(name: string, log: (line: string) => void = console.log): Promise<Record<string, string>> {
  const family = ON_DEMAND_FAMILIES.find((f) => f.name === name);
  if (!family) throw new LabError(`no on-demand lab family ${name}`);
  const built = await buildFamily(family, await goVersion(), log);
  return Object.fromEntries(family.binaries.map((b) => [b.name, path.join(built.dir, b.name)]));
}

/** The CLI must be the release of the @pulumi/pulumi the program runs with (package.json). */
async function checkPulumiPin(versions: ModuleVersions): Promise<void> {
  const pkg = JSON.parse(await fs.readFile(path.join(GO_DIR, "..", "..", "package.json"), "utf8")) as { dependencies: Record<string, string> };
  const sdk = pkg.dependencies["@pulumi/pulumi"];
  const cli = versions["github.com/pulumi/pulumi/pkg/v3"];
  if (cli !== `v${sdk}`)
    throw new LabError(
      `lab/go/pulumi/go.mod builds the Pulumi CLI ${cli}, but package.json pins @pulumi/pulumi ${sdk}: require github.com/pulumi/pulumi/pkg/v3 v${sdk}`,
    );
}

export interface Built {
  readonly family: string;
  /** Directory holding the binaries (and any data files). */
  readonly dir: string;
  readonly versions: ModuleVersions;
  /** Seconds spent building; 0 when cached. */
  readonly seconds: number;
  readonly cached: boolean;
}

function go(dir: string, args: readonly string[]): Promise<string> {
  return run("go", ["-C", dir, ...args]).then(
    (r) => r.stdout,
    (e: unknown) => {
      if (e instanceof CommandError && e.code === "ENOENT") {
        throw new LabError(
          "Go is not on PATH: the lab builds etcd, Kubernetes, kwok, the Flux controllers and its Git server from Go modules; install Go 1.26 or later and run again.",
        );
      }
      throw e;
    },
  );
}

/** The sops a tenant encrypts with is the one kustomize-controller decrypts with: its version in the controllers' module graph. */
async function checkSopsPin(versions: ModuleVersions): Promise<void> {
  const module = "github.com/getsops/sops/v3";
  const flux = await fs.readFile(path.join(GO_DIR, "flux", "go.mod"), "utf8");
  const want = new RegExp(`^\\s*${module.replace(/[./]/g, "\\$&")} (\\S+)`, "m").exec(flux)?.[1];
  if (!want) throw new LabError(`lab/go/flux/go.mod does not require ${module}: kustomize-controller's sops version is unknown`);
  if (versions[module] !== want)
    throw new LabError(`lab/go/sops/go.mod builds ${module} ${versions[module]}, but kustomize-controller decrypts with ${want}: require ${module} ${want}`);
}

/** The Go toolchain's version line; fails clearly when Go is missing. */
export async function goVersion(): Promise<string> {
  return (await go(GO_DIR, ["version"])).trim();
}

async function cacheKey(family: Family, dir: string, toolchain: string): Promise<string> {
  const h = createHash("sha256");
  h.update(`${BUILD_FORMAT}\n${family.name}\n${toolchain}\n${BUILD_FLAGS.join(" ")}\n${BASE_LDFLAGS.join(" ")}\n`);
  for (const b of family.binaries) h.update(`${b.name}=${b.pkg}\n`);
  // The module's own sources, in every package directory; what prepare copies is derived from go.sum's pins.
  const files = (await fs.readdir(dir, { recursive: true })).filter((f) => f === "go.mod" || f === "go.sum" || f.endsWith(".go")).sort();
  for (const f of files) h.update(`${f}\n`).update(await fs.readFile(path.join(dir, f)));
  return h.digest("hex").slice(0, 16);
}

/** Versions of the modules that provide the family's main packages, and of the modules it names (after replaces). */
async function resolveVersions(dir: string, family: Family): Promise<ModuleVersions> {
  const module = "{{.Path}} {{.Version}}{{with .Replace}} {{.Path}} {{.Version}}{{end}}";
  const lines = [
    ...(await go(dir, ["list", "-f", `{{with .Module}}${module}{{end}}`, ...family.binaries.map((b) => b.pkg)])).trim().split("\n"),
    ...(family.modules?.length ? (await go(dir, ["list", "-m", "-f", module, ...family.modules])).trim().split("\n") : []),
  ];
  const versions: ModuleVersions = {};
  for (const line of lines) {
    const [mod, version, , replaced] = line.split(" ");
    if (version) versions[mod] = replaced ?? version; // the wrapper module itself has none
  }
  return versions;
}

/** Every module the build needs, downloaded (and checked against go.sum) before compiling; names what the proxy does not serve. */
async function downloadModules(dir: string, family: Family): Promise<void> {
  try {
    await go(dir, ["mod", "download"]);
  } catch (e) {
    const stderr = e instanceof CommandError ? e.stderr : String(e);
    throw new LabError(`lab/go/${family.name}: the Go module proxy could not provide a pinned module:\n${stderr.trim()}`);
  }
}

async function moduleDirOf(dir: string, module: string): Promise<string> {
  return (await go(dir, ["list", "-m", "-f", "{{if .Replace}}{{.Replace.Dir}}{{else}}{{.Dir}}{{end}}", module])).trim();
}

/** Whether a path exists. */
export async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}

/** Each binary's last build time (seconds) on this machine, kept beside the binaries: what a build in progress expects. */
function buildSecondsFile(): string {
  return path.join(binRoot(), "build-seconds.json");
}

async function readBuildSeconds(): Promise<Record<string, number>> {
  try {
    return JSON.parse(await fs.readFile(buildSecondsFile(), "utf8")) as Record<string, number>;
  } catch {
    return {};
  }
}

async function recordBuildSeconds(binary: string, seconds: number): Promise<void> {
  const times = { ...(await readBuildSeconds()), [binary]: Math.round(seconds * 10) / 10 };
  await fs.mkdir(binRoot(), { recursive: true });
  await fs.writeFile(buildSecondsFile(), JSON.stringify(times, null, 2) + "\n");
}

/** Builds one family unless a build of exactly this module is cached; logs what it does and how long it took. */
export async function buildFamily(family: Family, toolchain: string, log: (line: string) => void = console.log): Promise<Built> {
  const dir = path.join(GO_DIR, family.name);
  const out = path.join(binRoot(), `${family.name}-${await cacheKey(family, dir, toolchain)}`);
  const manifest = path.join(out, "versions.json");
  if (await exists(manifest)) {
    const versions = JSON.parse(await fs.readFile(manifest, "utf8")) as ModuleVersions;
    log(`  ${family.name}: cached (${path.basename(out)})`);
    return { family: family.name, dir: out, versions, seconds: 0, cached: true };
  }
  const started = Date.now();
  await downloadModules(dir, family);
  await family.prepare?.(dir, (m) => moduleDirOf(dir, m));
  const versions = await resolveVersions(dir, family);
  await family.check?.(dir, versions);
  const tmp = `${out}.${process.pid}.partial`;
  await fs.rm(tmp, { recursive: true, force: true });
  await fs.mkdir(tmp, { recursive: true });
  const ldflags = [...BASE_LDFLAGS, ...(family.ldflags?.(versions) ?? [])].join(" ");
  const lastTimes = await readBuildSeconds();
  try {
    for (const b of family.binaries) {
      const t = Date.now();
      const last = lastTimes[b.name];
      const expected = last === undefined ? "no earlier build of it here" : `about ${Math.round(last)}s the last time`;
      log(`  ${family.name}: building ${b.name} (${expected})`);
      // A build of minutes says it is still going, every half minute.
      const ticker = setInterval(() => log(`  ${family.name}: still building ${b.name}: ${Math.round((Date.now() - t) / 1000)}s (${expected})`), 30_000);
      try {
        await go(dir, ["build", ...BUILD_FLAGS, "-ldflags", ldflags, "-o", path.join(tmp, b.name), b.pkg]).catch((e: unknown) => {
          throw e instanceof CommandError ? new LabError(`building ${b.name} (${b.pkg}) in lab/go/${family.name} failed:\n${e.stderr.trim()}`) : e;
        });
      } finally {
        clearInterval(ticker);
      }
      const seconds = (Date.now() - t) / 1000;
      log(`  ${family.name}: built ${b.name} in ${seconds.toFixed(1)}s`);
      await recordBuildSeconds(b.name, seconds);
    }
    await family.data?.(tmp, (m) => moduleDirOf(dir, m));
    await fs.writeFile(path.join(tmp, "versions.json"), JSON.stringify(versions, null, 2) + "\n");
    await fs.rm(out, { recursive: true, force: true });
    await fs.rename(tmp, out);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
  const seconds = (Date.now() - started) / 1000;
  log(`  ${family.name}: done in ${seconds.toFixed(1)}s`);
  return { family: family.name, dir: out, versions, seconds, cached: false };
}

export interface BuildResult {
  readonly families: readonly Built[];
  readonly seconds: number;
  readonly toolchain: string;
}

/** Builds (or finds cached) every family; binary paths by name. */
export async function buildLab(log: (line: string) => void = console.log): Promise<BuildResult & { bins: Record<string, string> }> {
  const started = Date.now();
  const toolchain = await goVersion();
  log(`lab build with ${toolchain}`);
  const families: Built[] = [];
  for (const f of FAMILIES) families.push(await buildFamily(f, toolchain, log));
  const seconds = (Date.now() - started) / 1000;
  log(`lab build: ${seconds.toFixed(1)}s${families.every((f) => f.cached) ? " (all cached)" : ""}`);
  const bins = Object.fromEntries(FAMILIES.flatMap((f, i) => f.binaries.map((b) => [b.name, path.join(families[i].dir, b.name)])));
  return { families, seconds, toolchain, bins };
}
