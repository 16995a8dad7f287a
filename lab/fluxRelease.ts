// The pinned Flux release as the lab sees it: its install manifest, and the controller versions it runs.
import { DEFAULTS } from "../config";
import { type InstallManifest, loadInstallManifest } from "../lib/fluxRelease";
import { parseYamlDocuments, type KubeObject } from "../manifests/yaml";
import { releaseInstallManifest } from "./fluxInstall";
import { LabError, type ModuleVersions } from "./build";

/** The Flux release the program pins by default, which the lab runs. */
export const FLUX_VERSION = DEFAULTS.flux.version;

/**
 * The install manifest of the pinned release: `$FLUX_LAB_MANIFEST` when set, else the release's install.yaml (every
 * component, the form the program downloads by default), built from its Go modules into the lab's folder. Either is
 * checked as the program checks it: the built one against the release form's pinned digests.
 */
export async function labInstallManifest(version = FLUX_VERSION): Promise<InstallManifest & { file: string }> {
  const given = process.env.FLUX_LAB_MANIFEST || (await releaseInstallManifest(version));
  try {
    const m = await loadInstallManifest({ ...DEFAULTS.flux, version, manifests: given });
    return { ...m, file: m.source };
  } catch (e) {
    throw new LabError(`${(e as Error).message}\nFor the lab, FLUX_LAB_MANIFEST may name Flux ${version}'s install.yaml (or a gotk-components.yaml of it).`);
  }
}

/** Controller name -> image tag, from the Deployments of an install manifest. */
export function controllerVersions(installText: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const o of parseYamlDocuments(installText, "install manifest") as KubeObject[]) {
    if (o.kind !== "Deployment") continue;
    const image = (o as { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } }).spec?.template?.spec?.containers?.[0]?.image ?? "";
    const m = /\/([^/:]+):(v[^@]+)/.exec(image);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

/** The controllers a wrapper module builds must be the versions the pinned release runs. */
export async function checkFluxPins(goMod: string, versions: ModuleVersions): Promise<void> {
  const manifest = await labInstallManifest();
  const release = controllerVersions(manifest.text);
  const wrong: string[] = [];
  for (const [mod, version] of Object.entries(versions)) {
    const name = mod.replace(/^github\.com\/fluxcd\//, "").replace(/\/v\d+$/, "");
    const want = release[name];
    if (!want) wrong.push(`${mod} ${version}: Flux ${FLUX_VERSION} does not run ${name}`);
    else if (want !== version) wrong.push(`${mod} is ${version} but Flux ${FLUX_VERSION} runs ${name} ${want}: require ${mod} ${want}`);
  }
  if (wrong.length > 0) throw new LabError(`${goMod} does not build the controllers of Flux ${FLUX_VERSION} (${manifest.source}):\n  ${wrong.join("\n  ")}`);
}
