// The benchmark's stack: the staging stack file with n generated tenants and a synthetic Flux install manifest (no download).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { readStackConfig } from "../lib/stackFiles";
import { localManifest, syntheticInstallManifest } from "../test/helpers";

let manifest: string | undefined;

/** The synthetic install manifest, written once per process. */
export function benchManifest(): string {
  if (manifest === undefined) {
    manifest = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bench-")), "install.yaml");
    fs.writeFileSync(manifest, syntheticInstallManifest("v2.9.4"));
    process.on("exit", () => fs.rmSync(path.dirname(manifest!), { recursive: true, force: true }));
  }
  return manifest;
}

/** Raw config of the staging stack with `n` generated tenants. */
export async function benchStack(n: number): Promise<Record<string, unknown>> {
  const { raw } = await readStackConfig(path.resolve(__dirname, ".."), "staging");
  return { ...raw, flux: localManifest(benchManifest()), tenants: generatedTenants(n) };
}
/** Generated tenants team-0..team-<n-1>, each with a repository the program creates and seeds. */
export function generatedTenants(n: number): { name: string; namespace: string }[] {
  return Array.from({ length: n }, (_, i) => ({ name: `team-${i}`, namespace: `team-${i}` }));
}
