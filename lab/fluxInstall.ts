// Flux's install.yaml for the pinned release, built the way the release workflow builds it, from Go modules only: the
// lab cannot download the release asset, and the bootstrap fixture beside the project holds the default components only.
import { promises as fs } from "fs";
import * as path from "path";
import { parse, stringify } from "yaml";
import { run } from "../components/providers/exec";
import { exists, LabError } from "./build";
import { GO_DIR, labDir } from "./layout";

/** A controller release asset a base of flux2's `manifests/` names: `<controller>.crds.yaml` or `<controller>.deployment.yaml`. */
const RELEASE_ASSET = /^https:\/\/github\.com\/fluxcd\/([a-z-]+)\/releases\/download\/(v(\d+)\.[^/]+)\/\1\.(crds|deployment)\.yaml$/;

/** What each asset is: a controller's release workflow builds it from its module's `config/` folder with kustomize. */
const ASSET_CONFIG: Readonly<Record<string, string>> = { crds: "crd", deployment: "manager" };

/**
 * A module's directory in the Go module cache, downloaded through the proxy when missing. Run inside the wrapper module
 * that builds the optional controllers, whose go.sum holds source-watcher/v2 (the checksum database lacks it).
 */
async function moduleDir(module: string, version: string): Promise<string> {
  const info = JSON.parse((await run("go", ["-C", path.join(GO_DIR, "fluximage"), "mod", "download", "-json", `${module}@${version}`])).stdout) as {
    Dir?: string;
    Error?: string;
  };
  if (!info.Dir) throw new LabError(`the Go module proxy could not provide ${module}@${version}: ${info.Error ?? "no directory"}`);
  return info.Dir;
}

/** Copies a directory out of the (read-only) module cache into a writable one. */
async function copyWritable(from: string, to: string): Promise<void> {
  await fs.cp(from, to, { recursive: true });
  for (const f of await fs.readdir(to, { recursive: true })) await fs.chmod(path.join(to, f), 0o755);
  await fs.chmod(to, 0o755);
}

/**
 * The path of Flux `version`'s install.yaml, built once into the lab's folder: `kustomize build manifests/install` of
 * `github.com/fluxcd/flux2/v2@<version>` (as its release workflow runs it), with each controller release asset its bases
 * download replaced by the kustomize build of that controller's module at the same version (as its release workflow
 * makes the asset). The result is not trusted for that: the program checks it against the release's pinned digests.
 */
export async function releaseInstallManifest(version: string, log: (line: string) => void = () => undefined): Promise<string> {
  const out = path.join(labDir(), "flux", version, "install.yaml");
  if (await exists(out)) return out;
  const started = Date.now();
  const work = `${path.dirname(out)}.${process.pid}.partial`;
  await fs.rm(work, { recursive: true, force: true });
  try {
    const manifests = path.join(work, "manifests");
    await copyWritable(path.join(await moduleDir("github.com/fluxcd/flux2/v2", version), "manifests"), manifests);
    const install = parse(await fs.readFile(path.join(manifests, "install", "kustomization.yaml"), "utf8")) as { resources: string[] };
    for (const ref of install.resources.filter((r) => r.startsWith("../bases/"))) {
      const base = path.join(manifests, "install", ref);
      const file = path.join(base, "kustomization.yaml");
      const k = parse(await fs.readFile(file, "utf8")) as { resources: string[] };
      const resources: string[] = [];
      for (const r of k.resources) {
        const m = RELEASE_ASSET.exec(r);
        if (!m) {
          resources.push(r);
          continue;
        }
        const [, controller, tag, major, asset] = m;
        const module = `github.com/fluxcd/${controller}${Number(major) >= 2 ? `/v${major}` : ""}`;
        await copyWritable(path.join(await moduleDir(module, tag), "config", ASSET_CONFIG[asset]), path.join(base, `release-${asset}`));
        resources.push(`release-${asset}`);
      }
      await fs.writeFile(file, stringify({ ...k, resources }));
    }
    const built = await run("kubectl", ["kustomize", path.join(manifests, "install")]);
    await fs.mkdir(path.dirname(out), { recursive: true });
    await fs.writeFile(`${out}.partial`, built.stdout);
    await fs.rename(`${out}.partial`, out);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
  log(`  flux ${version} install.yaml: built from its Go modules in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  return out;
}
