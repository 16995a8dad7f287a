// Barrel of the Pulumi ComponentResources (cluster, Flux bootstrap, fleet repository, tenants).
export {};
