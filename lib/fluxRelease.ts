// Fetches the pinned Flux release's install.yaml into a local cache, or reads a local copy (air-gapped).
import { promises as fs } from "fs";
import * as os from "os";
import * as path from "path";
import type { FluxConfig } from "../config";

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

/**
 * The install manifest for flux.version: the local file flux.manifests when set, else the cached
 * download, else a fresh download (kept in the cache; a release never changes, so the cache
 * never expires). Never resolves "latest".
 */
export async function loadInstallManifest(flux: Pick<FluxConfig, "version" | "manifests">, opts: FetchOptions = {}): Promise<InstallManifest> {
  if (flux.manifests) {
    const file = path.resolve(opts.baseDir ?? process.cwd(), flux.manifests);
    try {
      return { text: await fs.readFile(file, "utf8"), source: file };
    } catch (e) {
      throw new InstallManifestUnavailable(
        `flux-multi-tenancy:flux.manifests: cannot read "${flux.manifests}" (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give the path of Flux's install.yaml for ${flux.version}, or set it to "" to download ${releaseUrl(flux.version)}.`,
      );
    }
  }
  const cached = path.join(opts.cacheDir ?? defaultCacheDir(), "flux", flux.version, "install.yaml");
  try {
    return { text: await fs.readFile(cached, "utf8"), source: cached };
  } catch {
    // not cached yet
  }
  const url = releaseUrl(flux.version, opts.baseUrl);
  let text: string;
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
  await fs.mkdir(path.dirname(cached), { recursive: true });
  const partial = `${cached}.${process.pid}.partial`;
  await fs.writeFile(partial, text);
  await fs.rename(partial, cached);
  return { text, source: url };
}
