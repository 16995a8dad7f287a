// Fetches the pinned Flux release's install.yaml into a local cache, or reads a local copy (air-gapped).
import { promises as fs } from "fs";
import * as os from "os";
import * as path from "path";
import type { FluxConfig } from "../config";
import { PINNED_OBJECT_DIGESTS, PINNED_RELEASE_DIGESTS } from "../manifests/fluxDigests";
import { verifyInstallManifest } from "../manifests/fluxInstall";

export const FLUX_RELEASES_URL = "https://github.com/fluxcd/flux2/releases/download";

export interface InstallManifest {
  readonly text: string;
  /** The file or URL it came from. */
  readonly source: string;
}

export interface FetchOptions {
  /** Where downloads are kept; default $FLUX_MULTI_TENANCY_CACHE, else $XDG_CACHE_HOME or ~/.cache, /flux-multi-tenancy. */
  readonly cacheDir?: string;
  /** Release download base URL; default Flux's GitHub releases. */
  readonly baseUrl?: string;
  /** Directory a relative flux.manifests path is resolved from; default the working directory. */
  readonly baseDir?: string;
  readonly timeoutMs?: number;
  /** Digests to check against (default: the program's pins), for the bootstrap form and the release's install.yaml form. */
  readonly pins?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly releasePins?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** A manifest could neither be read nor downloaded. */
export class InstallManifestUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InstallManifestUnavailable";
  }
}

export function defaultCacheDir(): string {
  if (process.env.FLUX_MULTI_TENANCY_CACHE) return process.env.FLUX_MULTI_TENANCY_CACHE;
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  return path.join(base, "flux-multi-tenancy");
}

export function releaseUrl(version: string, baseUrl = FLUX_RELEASES_URL): string {
  return `${baseUrl.replace(/\/+$/, "")}/${version}/install.yaml`;
}

/** What loading a manifest needs of flux config: the release, where it comes from, and what to check it against. */
export type ManifestChoice = Pick<FluxConfig, "version" | "manifests" | "components" | "componentsExtra" | "manifestsSha256">;

/**
 * The install manifest for flux.version: the local file flux.manifests when set, else the cached
 * download, else a fresh download (kept in the cache; a release never changes, so the cache
 * never expires). Never resolves "latest". Whichever it is, it is checked to be the release (its SHA-256
 * as given in flux.manifestsSha256, or its objects against the digests pinned for the release) before
 * anything uses it; a download that does not match is not cached.
 */
export async function loadInstallManifest(flux: ManifestChoice, opts: FetchOptions = {}): Promise<InstallManifest> {
  const verify = (m: InstallManifest, key: string): InstallManifest => {
    verifyInstallManifest(m.text, {
      version: flux.version,
      components: [...flux.components, ...flux.componentsExtra],
      sha256: flux.manifestsSha256,
      source: m.source,
      key,
      pins: opts.pins ?? PINNED_OBJECT_DIGESTS,
      releasePins: opts.releasePins ?? PINNED_RELEASE_DIGESTS,
    });
    return m;
  };
  return flux.manifests
    ? verify(await readGiven(flux, opts), "flux-multi-tenancy:flux.manifests")
    : fetchRelease(flux, opts, (m) => verify(m, "flux-multi-tenancy:flux.version"));
}

async function readGiven(flux: ManifestChoice, opts: FetchOptions): Promise<InstallManifest> {
  const file = path.resolve(opts.baseDir ?? process.cwd(), flux.manifests);
  try {
    return { text: await fs.readFile(file, "utf8"), source: file };
  } catch (e) {
    throw new InstallManifestUnavailable(
      `flux-multi-tenancy:flux.manifests: cannot read "${flux.manifests}" (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give the path of Flux's install.yaml for ${flux.version}, or set it to "" to download ${releaseUrl(flux.version)}.`,
    );
  }
}

async function fetchRelease(flux: ManifestChoice, opts: FetchOptions, verify: (m: InstallManifest) => InstallManifest): Promise<InstallManifest> {
  const cached = path.join(opts.cacheDir ?? defaultCacheDir(), "flux", flux.version, "install.yaml");
  let text: string | undefined;
  try {
    text = await fs.readFile(cached, "utf8");
  } catch {
    // not cached yet
  }
  if (text !== undefined) return verify({ text, source: cached });
  const url = releaseUrl(flux.version, opts.baseUrl);
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000), redirect: "follow" });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    text = await res.text();
  } catch (e) {
    const reason = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
    throw new InstallManifestUnavailable(
      `flux-multi-tenancy:flux.version: cannot download ${url} (${reason}) and no copy is cached at ${cached}; on a machine without network set flux-multi-tenancy:flux.manifests (or --flux-manifests for render) to a local copy of that file.`,
    );
  }
  const downloaded = verify({ text, source: url });
  await fs.mkdir(path.dirname(cached), { recursive: true });
  const partial = `${cached}.${process.pid}.partial`;
  await fs.writeFile(partial, text);
  await fs.rename(partial, cached);
  return downloaded;
}
