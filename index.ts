// Wiring only: read the stack config, render the fleet tree, export what a stack reports.
import { loadConfig } from "./config";
import { loadInstallManifest } from "./lib/fluxRelease";
import { renderFleet } from "./manifests";

export = async () => {
  const { config } = loadConfig();
  const manifest = await loadInstallManifest(config.flux, { baseDir: __dirname });
  const tree = renderFleet({ config, installManifest: manifest.text, installSource: manifest.source });
  return {
    environment: config.environment,
    fluxVersion: config.flux.version,
    fleetFiles: Object.keys(tree),
  };
};
