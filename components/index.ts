// Barrel of the Pulumi ComponentResources.
export * from "./cluster";
export * from "./deployKey";
export * from "./fleetRepository";
export * from "./fluxBootstrap";
export * from "./sshFleetRepository";
export * from "./tenant";
export * from "./fluxFleet";
