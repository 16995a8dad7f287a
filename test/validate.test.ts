import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import type { StackConfig } from "../config";
import type { RawConfig } from "../lib/stackFiles";
import type { FileTree } from "../manifests";
import { fluxFixture, kustomizeBuild, render, requireKubectl, stackConfig, treeObjects, writeTemp } from "./helpers";

/** The trees every check here runs over: both stack files, three tenants, and each policy engine. */
const VARIANTS: [string, string, (raw: RawConfig) => void][] = [
  ["staging", "staging", () => undefined],
  ["production", "production", () => undefined],
  [
    "three tenants",
    "staging",
    (raw) => {
      raw.tenants = [
        { name: "team-a", namespace: "a" },
        { name: "team-b", namespace: "b" },
        { name: "team-c", namespace: "c", repository: { url: "https://github.com/my-org/c" } },
      ];
    },
  ],
  ["vap engine", "staging", (raw) => (raw.policies = { ...(raw.policies as object), engine: "vap" })],
  [
    "tenant guardrails",
    "staging",
    (raw) => {
      raw.tenantDefaults = {
        podSecurity: "restricted",
        resourceQuota: { pods: "20", "requests.cpu": "4", "count/kustomizations.kustomize.toolkit.fluxcd.io": "5" },
        limitRange: { default: { cpu: "500m", memory: "512Mi" }, defaultRequest: { cpu: "100m", memory: "128Mi" }, max: { cpu: "2" } },
        networkPolicy: { mode: "default-deny", allowNamespaces: ["monitoring"], allowCidrs: ["10.0.0.0/8"] },
      };
      raw.tenants = [{ name: "team-a" }, { name: "team-b", podSecurity: "privileged", resourceQuota: {}, networkPolicy: "none" }];
    },
  ],
  ["no engine, no tenants", "production", (raw) => ((raw.policies = { engine: "none" }), (raw.tenants = []))],
  [
    "all extra components",
    "staging",
    (raw) => (raw.flux = { componentsExtra: ["image-reflector-controller", "image-automation-controller", "source-watcher"] }),
  ],
];

async function variantTrees(): Promise<[string, StackConfig, FileTree][]> {
  const real = fluxFixture("gotk-components-v2.9.4.yaml");
  return Promise.all(
    VARIANTS.map(async ([name, stack, patch]) => {
      const config = await stackConfig(stack, patch);
      // The real v2.9.4 manifest holds only the four default components.
      const useReal = real && config.flux.componentsExtra.length === 0;
      return [name, config, render(config, useReal ? fs.readFileSync(real, "utf8") : undefined)] as [string, StackConfig, FileTree];
    }),
  );
}

/** Flux kinds -> the @kubernetes-models/flux-cd module of their API group and version. */
async function fluxModel(apiVersion: string, kind: string): Promise<(new (data: object) => { validate(): void }) | undefined> {
  const [group, version] = apiVersion.split("/");
  if (!group.endsWith(".toolkit.fluxcd.io")) return undefined;
  const mod = (await import(`@kubernetes-models/flux-cd/${group}/${version}`)) as Record<string, new (data: object) => { validate(): void }>;
  assert.ok(mod[kind], `no schema for ${apiVersion} ${kind}`);
  return mod[kind];
}

async function coreModel(apiVersion: string, kind: string): Promise<(new (data: object) => { validate(): void }) | undefined> {
  const modPath = apiVersion === "v1" ? "kubernetes-models/v1" : `kubernetes-models/${apiVersion}`;
  if (!["v1", "rbac.authorization.k8s.io/v1", "admissionregistration.k8s.io/v1", "apps/v1"].includes(apiVersion)) return undefined;
  const mod = (await import(modPath)) as Record<string, new (data: object) => { validate(): void }>;
  return mod[kind];
}

describe("rendered objects are valid", () => {
  let trees: [string, StackConfig, FileTree][];
  before(async () => (trees = await variantTrees()));

  it("every Flux object validates against the Flux CRD schemas", async () => {
    let checked = 0;
    for (const [name, , tree] of trees) {
      for (const { file, obj } of treeObjects(tree)) {
        // Flux's own manifest, and overlay patches (partial objects, checked once built below).
        if (file.endsWith("gotk-components.yaml") || file.endsWith("-patch.yaml")) continue;
        const Model = await fluxModel(String(obj.apiVersion), String(obj.kind));
        if (!Model) continue;
        assert.doesNotThrow(() => new Model(obj).validate(), `${name}: ${file} ${String(obj.kind)}`);
        checked++;
      }
    }
    assert.ok(checked >= 40, `only ${checked} Flux objects checked`);
  });

  it("the tenant overlays, built, are valid Flux objects too", async function () {
    requireKubectl(this);
    let checked = 0;
    for (const [name, config, tree] of trees) {
      const dir = writeTemp(tree);
      try {
        for (const obj of kustomizeBuild(path.join(dir, "tenants", config.environment))) {
          const Model = await fluxModel(String(obj.apiVersion), String(obj.kind));
          if (!Model) continue;
          assert.doesNotThrow(() => new Model(obj).validate(), `${name}: ${String(obj.kind)}`);
          checked++;
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
    assert.ok(checked >= 10, `only ${checked} built Flux objects checked`);
  });

  it("the schema check catches a malformed Flux object", async () => {
    const Model = (await fluxModel("kustomize.toolkit.fluxcd.io/v1", "Kustomization"))!;
    assert.throws(() => new Model({ metadata: { name: "x" }, spec: { interval: 5, sourceRef: { kind: "GitRepository", name: "x" } } }).validate());
  });

  it("every Kubernetes core, RBAC and admission object validates against its schema", async () => {
    let checked = 0;
    for (const [name, , tree] of trees) {
      for (const { file, obj } of treeObjects(tree)) {
        if (file.endsWith("gotk-components.yaml")) continue;
        const Model = await coreModel(String(obj.apiVersion), String(obj.kind));
        if (!Model) continue;
        assert.doesNotThrow(() => new Model(obj).validate(), `${name}: ${file} ${String(obj.kind)}`);
        checked++;
      }
    }
    assert.ok(checked >= 20, `only ${checked} objects checked`);
  });

  it("kubectl kustomize builds every rendered directory that has a kustomization.yaml", async function () {
    requireKubectl(this);
    for (const [name, , tree] of trees) {
      const dir = writeTemp(tree);
      try {
        const dirs = Object.keys(tree)
          .filter((f) => f.endsWith("/kustomization.yaml"))
          .map((f) => path.dirname(f));
        assert.ok(dirs.length >= 2, name);
        for (const d of dirs) {
          assert.doesNotThrow(() => kustomizeBuild(path.join(dir, d)), `${name}: ${d}`);
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});
