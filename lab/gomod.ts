// The kube wrapper module's replace block, generated from the pinned k8s.io/kubernetes tag's own go.mod, and its version ldflags.
import { promises as fs } from "fs";
import * as path from "path";
import { run } from "../components/providers/exec";
import { GO_DIR } from "./layout";
import { LabError, type ModuleVersions } from "./build";

const KUBERNETES = "k8s.io/kubernetes";

interface GoModJson {
  Require?: { Path: string; Version: string }[];
  Replace?: { Old: { Path: string }; New: { Path: string; Version?: string } }[];
}

async function goModJson(dir: string): Promise<GoModJson> {
  return JSON.parse((await run("go", ["-C", dir, "mod", "edit", "-json"])).stdout) as GoModJson;
}

/** The pinned Kubernetes release of a wrapper module. */
function kubernetesVersion(mod: GoModJson, where: string): string {
  const v = mod.Require?.find((r) => r.Path === KUBERNETES)?.Version;
  if (!v) throw new LabError(`${where} does not require ${KUBERNETES}`);
  return v;
}

/**
 * What the wrapper must replace: every module the tag's go.mod maps to `./staging/...`, mapped
 * instead to its published release, v0.<minor>.<patch> for Kubernetes v1.<minor>.<patch>.
 */
export function stagingReplaces(tagGoMod: string, kubeVersion: string): Map<string, string> {
  const m = /^v1\.(\d+\.\d+)$/.exec(kubeVersion);
  if (!m) throw new LabError(`${KUBERNETES} ${kubeVersion} is not a release version (v1.<minor>.<patch>)`);
  const staging = `v0.${m[1]}`;
  const replaces = new Map<string, string>();
  for (const line of tagGoMod.split("\n")) {
    const r = /^\s*(?:replace\s+)?(\S+)\s+=>\s+\.\/staging\/\S+\s*$/.exec(line);
    if (r) replaces.set(r[1], staging);
  }
  if (replaces.size === 0)
    throw new LabError(`${KUBERNETES}@${kubeVersion}'s go.mod has no ./staging replace lines; the generator needs updating for this release`);
  return replaces;
}

async function tagGoMod(dir: string, version: string): Promise<string> {
  const info = JSON.parse((await run("go", ["-C", dir, "mod", "download", "-json", `${KUBERNETES}@${version}`])).stdout) as { GoMod?: string; Error?: string };
  if (!info.GoMod) throw new LabError(`the Go module proxy has no ${KUBERNETES}@${version}: ${info.Error ?? "no go.mod"}`);
  return fs.readFile(info.GoMod, "utf8");
}

/** Differences between the wrapper's replace lines and the ones generated from the tag; [] when they agree. */
function replaceDrift(mod: GoModJson, expected: Map<string, string>): string[] {
  const actual = new Map((mod.Replace ?? []).map((r) => [r.Old.Path, r.New] as const));
  const drift: string[] = [];
  for (const [p, v] of expected) {
    const got = actual.get(p);
    if (!got || got.Path !== p || got.Version !== v) drift.push(`${p} => ${p} ${v} (have ${got ? `${got.Path} ${got.Version ?? ""}`.trim() : "none"})`);
  }
  for (const p of actual.keys()) if (p.startsWith("k8s.io/") && !expected.has(p)) drift.push(`${p}: not a staging module of ${KUBERNETES} any more`);
  return drift;
}

/** Before a build: the committed replace block is the one the pinned tag's go.mod gives. */
export async function checkKubeReplaces(dir: string): Promise<void> {
  const mod = await goModJson(dir);
  const version = kubernetesVersion(mod, "lab/go/kube/go.mod");
  const drift = replaceDrift(mod, stagingReplaces(await tagGoMod(dir, version), version));
  if (drift.length > 0) {
    throw new LabError(
      `lab/go/kube/go.mod's replace block does not match ${KUBERNETES}@${version}'s go.mod:\n  ${drift.join("\n  ")}\nRun \`npm run lab -- gomod\` to generate it.`,
    );
  }
}

/** Rewrites the kube wrapper's replace block from the pinned tag's go.mod (with `go mod edit`), then tidies. */
export async function generateKubeReplaces(log: (line: string) => void = console.log): Promise<void> {
  const dir = path.join(GO_DIR, "kube");
  const mod = await goModJson(dir);
  const version = kubernetesVersion(mod, "lab/go/kube/go.mod");
  const expected = stagingReplaces(await tagGoMod(dir, version), version);
  const edits = (mod.Replace ?? []).filter((r) => r.Old.Path.startsWith("k8s.io/")).map((r) => `-dropreplace=${r.Old.Path}`);
  for (const [p, v] of expected) edits.push(`-replace=${p}=${p}@${v}`);
  await run("go", ["-C", dir, "mod", "edit", ...edits]);
  await run("go", ["-C", dir, "mod", "tidy"]);
  log(`lab/go/kube/go.mod: ${expected.size} staging modules replaced for ${KUBERNETES} ${version}`);
}

/** `-X` flags so `/version` and `--version` report the release the binaries are built from. */
export function kubeLdflags(versions: ModuleVersions): string[] {
  const version = versions[KUBERNETES];
  const m = /^v(\d+)\.(\d+)\./.exec(version ?? "");
  if (!m) throw new LabError(`cannot derive version flags from ${KUBERNETES} ${version ?? "(not resolved)"}`);
  return ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"].flatMap((pkg) => [
    `-X ${pkg}.gitVersion=${version}`,
    `-X ${pkg}.gitMajor=${m[1]}`,
    `-X ${pkg}.gitMinor=${m[2]}`,
    `-X ${pkg}.gitTreeState=clean`,
  ]);
}
