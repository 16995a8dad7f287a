// Pure renderers: typed config in, YAML objects and fleet-repository files out. No Pulumi, no I/O.
export * from "./clusters";
export * from "./fleet";
export * from "./fluxInstall";
export * from "./fluxSystem";
export * from "./labels";
export * from "./policies";
export * from "./tenants";
export * from "./yaml";
export * from "./fleetPlan";
export * from "./fluxBuild";
export * from "./knownHosts";
export * from "./tenantStarter";
