// `npm run render -- --stack <name> --out <dir>`: writes the fleet tree `pulumi up` would commit, offline.
import { promises as fs } from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { ConfigError, parseConfig, SECRET_KEYS } from "./config";
import { InstallManifestUnavailable, loadInstallManifest } from "./lib/fluxRelease";
import { isSecureValue, readStackConfig, StackFileError } from "./lib/stackFiles";
import { type FileTree, InstallManifestError, renderFleet } from "./manifests";

const USAGE = "usage: npm run render -- --stack <name> --out <dir> [--flux-manifests <file> [--flux-manifests-sha256 <hex>]] [--clean]";

/** A mistake the user can fix; printed as one message, without a stack trace. */
class UsageError extends Error {}

export interface RenderOptions {
  readonly stack: string;
  readonly projectDir: string;
  /** Overrides flux.manifests. */
  readonly fluxManifests?: string;
  /** Overrides flux.manifestsSha256. */
  readonly fluxManifestsSha256?: string;
  readonly cacheDir?: string;
  readonly baseUrl?: string;
}

/** Renders one stack's view of the fleet repository, in memory. */
export async function renderStack(opts: RenderOptions): Promise<{ tree: FileTree; source: string; version: string }> {
  const { project, raw } = await readStackConfig(opts.projectDir, opts.stack);
  for (const [key, value] of Object.entries(raw)) {
    if (!SECRET_KEYS.includes(key) && isSecureValue(value)) {
      throw new UsageError(`${project}:${key} is a secret in Pulumi.${opts.stack}.yaml; render reads no secrets, so set it as a plain value.`);
    }
  }
  if (opts.fluxManifests !== undefined) {
    const flux = (raw.flux ?? {}) as Record<string, unknown>;
    // Resolve against the working directory, where the user typed it.
    raw.flux = { ...flux, manifests: path.resolve(opts.fluxManifests) };
  }
  if (opts.fluxManifestsSha256 !== undefined) raw.flux = { ...((raw.flux ?? {}) as Record<string, unknown>), manifestsSha256: opts.fluxManifestsSha256 };
  const config = parseConfig(raw, { stack: opts.stack, project });
  const manifest = await loadInstallManifest(config.flux, {
    baseDir: opts.projectDir,
    cacheDir: opts.cacheDir,
    baseUrl: opts.baseUrl,
  });
  const tree = renderFleet({ config, installManifest: manifest.text, installSource: manifest.source });
  return { tree, source: manifest.source, version: config.flux.version };
}

async function isEmptyDir(dir: string): Promise<boolean> {
  try {
    return (await fs.readdir(dir)).length === 0;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return true;
    throw e;
  }
}

/** Writes the tree under `out` (checked beforehand to be empty or new), first emptying it when `clean`. */
export async function writeTree(tree: FileTree, out: string, clean: boolean): Promise<void> {
  if (clean) {
    for (const entry of await fs.readdir(out).catch(() => [])) await fs.rm(path.join(out, entry), { recursive: true, force: true });
  }
  for (const [file, text] of Object.entries(tree)) {
    const target = path.join(out, file);
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.writeFile(target, text);
  }
}

/** Runs the command; `projectDir` holds Pulumi.yaml and the stack files. Returns the exit code. */
export async function main(argv: string[], projectDir = __dirname): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        stack: { type: "string" },
        out: { type: "string" },
        "flux-manifests": { type: "string" },
        "flux-manifests-sha256": { type: "string" },
        clean: { type: "boolean", default: false },
      },
      strict: true,
    }));
  } catch (e) {
    console.error(`render: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (!values.stack || !values.out) {
    console.error(`render: --stack and --out are required\n${USAGE}`);
    return 2;
  }
  try {
    const out = path.resolve(values.out);
    // Checked before rendering, so a refused --out costs nothing and nothing is written.
    if (!(await isEmptyDir(out)) && !values.clean) {
      throw new UsageError(`--out ${values.out} is not empty; choose an empty directory, or add --clean to replace its content.`);
    }
    const { tree, source, version } = await renderStack({
      stack: values.stack,
      projectDir,
      fluxManifests: values["flux-manifests"],
      fluxManifestsSha256: values["flux-manifests-sha256"],
    });
    await writeTree(tree, out, values.clean ?? false);
    console.log(`rendered ${Object.keys(tree).length} files for stack ${values.stack} (Flux ${version} from ${source}) into ${values.out}`);
    return 0;
  } catch (e) {
    if (
      e instanceof ConfigError ||
      e instanceof UsageError ||
      e instanceof StackFileError ||
      e instanceof InstallManifestError ||
      e instanceof InstallManifestUnavailable
    ) {
      console.error(`render: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
