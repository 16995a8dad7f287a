import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import type { StackConfig } from "../config";
import type { RawConfig } from "../lib/stackFiles";
import { type FileTree, isSharedPath, parseYamlDocuments, seededKustomizations, TENANT_LABEL } from "../manifests";
import { sourceAdmitted } from "../manifests/labels";
import { comparable, fluxFixture, kustomizeBuild, REFERENCE_DIR, render, requireKubectl, requirePath, stackConfig, treeObjects, writeTemp } from "./helpers";

/** The staging or production stack file, changed to use exactly the values of the upstream example. */
const asReference = (raw: RawConfig) => {
  raw.policies = {
    allowedSourcePrefixes: ["https://github.com/fluxcd/", "ssh://git@github.com:fluxcd/"],
    validationFailureAction: "Audit",
  };
  const t = (raw.tenants as Record<string, unknown>[])[0];
  t.repository = { url: "https://github.com/fluxcd/flux2-multi-tenancy" };
  t.branch = "dev-team";
};

function listFiles(dir: string, prefix = ""): string[] {
  return fs
    .readdirSync(path.join(dir, prefix), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(dir, path.posix.join(prefix, e.name)) : [path.posix.join(prefix, e.name)]));
}

function readObjects(file: string): unknown[] {
  return parseYamlDocuments(fs.readFileSync(file, "utf8"), file);
}

/** Deletes a field at a dotted path in each object (used for the deliberate differences). */
function without(objects: unknown[], dotted: string): unknown[] {
  return objects.map((o) => {
    const copy = structuredClone(o) as Record<string, unknown>;
    const keys = dotted.split(".");
    let cur: Record<string, unknown> | undefined = copy;
    for (const k of keys.slice(0, -1)) cur = (Array.isArray(cur) ? cur[Number(k)] : cur?.[k]) as Record<string, unknown> | undefined;
    if (cur) delete cur[keys[keys.length - 1]];
    return copy;
  });
}

const ALLOWLIST_FILE = "infrastructure/kyverno-policies/verify-git-repositories.yaml";
/** Kyverno's tenant protections, which the reference does not have (a deliberate difference). */
const PROTECT_TENANTS_FILE = "infrastructure/kyverno-policies/protect-tenants.yaml";

/**
 * Built objects without what the reference lacks on a tenant's Namespace, account and RoleBinding: the namespace's Pod
 * Security labels, and the prune-disabled annotation that leaves them to the program's goodbye (deliberate differences).
 */
function withoutPodSecurityLabels<T extends { kind?: unknown; metadata?: unknown }>(objects: T[]): T[] {
  return objects.map((o) => {
    const meta = (o.metadata ?? {}) as { labels?: Record<string, string>; annotations?: Record<string, string> };
    let out = o;
    if (o.kind === "Namespace" && meta.labels) {
      const kept = Object.fromEntries(Object.entries(meta.labels).filter(([k]) => !k.startsWith("pod-security.kubernetes.io/")));
      out = { ...out, metadata: { ...(out.metadata as object), labels: kept } };
    }
    if (["Namespace", "ServiceAccount", "RoleBinding"].includes(String(o.kind)) && meta.annotations) {
      const { "kustomize.toolkit.fluxcd.io/prune": _left, ...rest } = meta.annotations;
      const { annotations: _all, ...others } = out.metadata as Record<string, unknown>;
      out = { ...out, metadata: Object.keys(rest).length > 0 ? { ...others, annotations: rest } : others };
    }
    return out;
  });
}

/** Built objects without the tenant protections the reference lacks. */
function withoutTenantProtection<T extends { kind?: unknown; metadata?: unknown }>(objects: T[]): T[] {
  const ours = ["ClusterPolicy/protect-tenants", "ClusterRole/kyverno:tenant-namespace-reviews"];
  // Deliberate too: the Receivers (push-to-deploy) of repositories the program creates.
  return objects.filter((o) => o.kind !== "Receiver" && !ours.includes(`${String(o.kind)}/${(o.metadata as { name?: string } | undefined)?.name}`));
}

/**
 * Deliberate differences in the allowlist: its message names the configured prefixes instead of the
 * reference's "organisation X" (asserted on its own below); its pattern also admits a prefix's own
 * URL without the trailing "/" (a chart repository URL such as ".../podinfo"); and further rules
 * cover OCI, Helm and image sources; and Flux's own accounts are excluded beside flux-system (their finalizer and
 * reconcile-request writes to a source the allowlist no longer admits), for which Kyverno wants the policy judged at
 * admission only (background: false). Compared: the GitRepository rule's "?*"
 * alternatives and its flux-system exclusion.
 */
function withoutAllowlistMessage(objects: unknown[]): unknown[] {
  return objects.map((o) => {
    const policy = o as { metadata?: { name?: string }; spec?: { rules?: { validate?: { pattern?: { spec?: { url?: string } } } }[] } };
    if (policy.metadata?.name !== "verify-git-repositories") return o;
    const copy = structuredClone(policy);
    copy.spec!.rules = copy.spec!.rules!.slice(0, 1);
    delete (copy.spec as { background?: boolean }).background;
    const exclude = (copy.spec!.rules[0] as { exclude?: { any: { subjects?: unknown }[] } }).exclude;
    if (exclude) exclude.any = exclude.any.filter((a) => !a.subjects);
    const pattern = copy.spec!.rules[0].validate!.pattern!.spec!;
    pattern.url = pattern
      .url!.split(" | ")
      .filter((alt) => alt.endsWith("?*"))
      .join(" | ");
    return without([copy], "spec.rules.0.validate.message")[0];
  });
}

/**
 * Deliberate difference: Kyverno 1.13 deprecated the policy-wide validationFailureAction, failurePolicy
 * and webhookTimeoutSeconds; ours carry failureAction per rule and webhookConfiguration. The reference
 * is read in that form to compare.
 */
function modernKyverno(objects: unknown[]): unknown[] {
  return objects.map((o) => {
    const p = o as { kind?: string; spec?: Record<string, any> };
    if (p.kind !== "ClusterPolicy" || !p.spec) return o;
    const copy = structuredClone(p) as { spec: Record<string, any> };
    const { validationFailureAction: action, failurePolicy, webhookTimeoutSeconds, ...rest } = copy.spec;
    if (failurePolicy !== undefined || webhookTimeoutSeconds !== undefined) {
      rest.webhookConfiguration = { failurePolicy, timeoutSeconds: webhookTimeoutSeconds };
    }
    for (const rule of rest.rules ?? []) {
      if (rule.validate) rule.validate = { failureAction: action, ...rule.validate };
      for (const v of rule.verifyImages ?? []) v.failureAction = action;
    }
    copy.spec = rest;
    return copy;
  });
}

describe("fleet repository tree", () => {
  for (const env of ["staging", "production"]) {
    describe(`${env}: the upstream example means the same as the reference`, () => {
      let refDir: string;
      let tree: FileTree;
      let ours: string;
      let receivers: string[];
      before(async function () {
        refDir = path.join(requirePath(this, REFERENCE_DIR, "../shared/reference/flux2-multi-tenancy"), "main");
        const manifest = fluxFixture("gotk-components-v2.9.4.yaml");
        const config = await stackConfig(env, asReference);
        receivers = [
          ...(config.fleet.receiver ? [`clusters/${env}/receiver.yaml`] : []),
          ...config.tenants.filter((t) => t.features.receiver).map((t) => `tenants/${env}/${t.name}-receiver.yaml`),
        ];
        tree = render(config, manifest ? fs.readFileSync(manifest, "utf8") : undefined);
        ours = writeTemp(tree);
      });
      after(() => ours && fs.rmSync(ours, { recursive: true, force: true }));

      it("renders the reference's files for this environment and the shared ones, plus gotk-components.yaml", () => {
        const refFiles = listFiles(refDir).filter((f) => {
          const other = env === "staging" ? "production" : "staging";
          return !f.startsWith(`clusters/${other}/`) && !f.startsWith(`tenants/${other}/`);
        });
        // Deliberate: protect-tenants.yaml (no Pod or token of a tenant's reconciler; a tenant's Namespace and guardrails
        // the platform's), each tenant's Pod Security labels in the environment's overlay, and the Receivers of the
        // repositories the program creates.
        assert.deepEqual(
          Object.keys(tree).sort(),
          [
            ...refFiles,
            `clusters/${env}/flux-system/gotk-components.yaml`,
            PROTECT_TENANTS_FILE,
            `tenants/${env}/dev-team-namespace.yaml`,
            ...receivers,
          ].sort(),
        );
      });

      it("every file holds the same objects, API versions aside", () => {
        for (const file of listFiles(refDir)) {
          if (!(file in tree)) continue;
          let expected = modernKyverno(readObjects(path.join(refDir, file)));
          let actual = parseYamlDocuments(tree[file], file);
          if (file.endsWith("/flux-system/gotk-sync.yaml")) {
            // The reference holds a placeholder: bootstrap writes it. Ours is what bootstrap writes.
            assert.deepEqual(expected, []);
            continue;
          }
          if (file === `tenants/${env}/kustomization.yaml`) {
            // Deliberate: each tenant base sets its own namespace, so the overlay does not set one
            // (it could not, with several tenants). The build comparison below shows the same output.
            expected = without(expected, "namespace");
            // Deliberate: the tenant namespace's Pod Security labels, a patch of the overlay's own; its Receiver.
            actual = (actual as { patches: { path: string }[]; resources: string[] }[]).map((k) => ({
              ...k,
              resources: k.resources.filter((r) => !r.endsWith("-receiver.yaml")),
              patches: k.patches.filter((p) => !p.path.endsWith("-namespace.yaml")),
            }));
          }
          if (file.endsWith("/flux-system/kustomization.yaml")) {
            // Deliberate: source-watcher (Flux 2.7+, after the reference) refuses cross-namespace references too.
            expected = JSON.parse(
              JSON.stringify(expected).replace("|image-automation-controller)", "|image-automation-controller|source-watcher)"),
            ) as typeof expected;
          }
          if (file === ALLOWLIST_FILE) {
            expected = withoutAllowlistMessage(expected);
            actual = withoutAllowlistMessage(actual);
          }
          if (file === "infrastructure/kyverno-policies/kustomization.yaml") {
            // Deliberate: the tenant protections beside the reference's policies.
            actual = (actual as { resources: string[] }[]).map((k) => ({
              ...k,
              resources: k.resources.filter((r) => r !== path.basename(PROTECT_TENANTS_FILE)),
            }));
          }
          // Deliberate: a tenant's Namespace, account and RoleBinding are left to the program's goodbye (prune disabled).
          if (file.endsWith("/rbac.yaml")) actual = withoutPodSecurityLabels(actual as { kind?: unknown; metadata?: unknown }[]);
          assert.deepEqual(comparable(actual), comparable(expected), file);
        }
      });

      it("the allowlist message names the allowed prefixes", () => {
        const policy = parseYamlDocuments(tree[ALLOWLIST_FILE], ALLOWLIST_FILE)[0] as Record<string, any>;
        assert.equal(policy.spec.rules[0].validate.message, ".spec.url must start with one of: https://github.com/fluxcd/, ssh://git@github.com:fluxcd/");
      });

      it("every reference kustomization builds to the same objects from our tree", function () {
        requireKubectl(this);
        const dirs = listFiles(refDir).filter((f) => f.endsWith("kustomization.yaml") && f in tree);
        assert.ok(dirs.length >= 4);
        for (const file of dirs) {
          const dir = path.dirname(file);
          if (dir.endsWith("flux-system")) continue; // the reference has no gotk-components.yaml to build
          const [actual, expected] = [ours, refDir].map((root) =>
            withoutAllowlistMessage(
              root === refDir
                ? modernKyverno(kustomizeBuild(path.join(root, dir)))
                : withoutPodSecurityLabels(withoutTenantProtection(kustomizeBuild(path.join(root, dir)))),
            ),
          );
          assert.deepEqual(comparable(actual), comparable(expected), dir);
        }
      });
    });
  }

  describe("tenant guardrails", () => {
    it("are the environment's: each tenant's quota, limit range, network policy and Pod Security labels in its overlay, built onto its namespace", async function () {
      requireKubectl(this);
      const config = await stackConfig("staging", (raw) => {
        raw.tenantDefaults = {
          podSecurity: "restricted",
          resourceQuota: { pods: "20", "count/helmreleases.helm.toolkit.fluxcd.io": "3" },
          limitRange: { default: { cpu: "500m" } },
          networkPolicy: { mode: "default-deny", allowNamespaces: ["monitoring"] },
        };
        raw.tenants = [{ name: "team-a" }, { name: "team-b", podSecurity: "baseline", resourceQuota: {}, limitRange: {}, networkPolicy: "none" }];
      });
      const tree = render(config);
      assert.ok(!Object.keys(tree).some((f) => f.startsWith("tenants/base/") && /guardrail|namespace\.yaml$/.test(f)), "nothing of it in the shared base");
      assert.ok("tenants/staging/team-a-guardrails.yaml" in tree);
      assert.ok(!("tenants/staging/team-b-guardrails.yaml" in tree), "a tenant without guardrail objects has no file");
      const dir = writeTemp(tree);
      try {
        const built = kustomizeBuild(path.join(dir, "tenants/staging")) as Record<string, any>[];
        const find = (kind: string, ns: string) => built.filter((o) => o.kind === kind && (o.metadata.namespace ?? o.metadata.name) === ns);
        assert.deepEqual(find("Namespace", "team-a")[0].metadata.labels, {
          "toolkit.fluxcd.io/tenant": "team-a",
          "pod-security.kubernetes.io/enforce": "restricted",
          "pod-security.kubernetes.io/warn": "restricted",
          "pod-security.kubernetes.io/audit": "restricted",
        });
        assert.equal(find("Namespace", "team-b")[0].metadata.labels["pod-security.kubernetes.io/enforce"], "baseline");
        assert.deepEqual(find("ResourceQuota", "team-a")[0].spec.hard, { pods: "20", "count/helmreleases.helm.toolkit.fluxcd.io": "3" });
        assert.deepEqual(find("LimitRange", "team-a")[0].spec.limits, [{ type: "Container", default: { cpu: "500m" } }]);
        const policy = find("NetworkPolicy", "team-a")[0];
        assert.deepEqual(policy.spec.policyTypes, ["Ingress", "Egress"]);
        assert.deepEqual(policy.spec.ingress[0].from, [
          { podSelector: {} },
          { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } },
        ]);
        assert.deepEqual(policy.spec.egress[1].ports, [
          { protocol: "UDP", port: 53 },
          { protocol: "TCP", port: 53 },
        ]);
        assert.deepEqual(
          built.filter((o) => ["ResourceQuota", "LimitRange", "NetworkPolicy"].includes(o.kind) && o.metadata.namespace === "team-b"),
          [],
        );
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("tenant secrets, notifications and push-to-deploy", () => {
    it("are the environment's: SOPS decryption on the tenant's Kustomization, its Provider and Alert, its Receiver; the fleet's Receiver beside flux-system", async function () {
      requireKubectl(this);
      const config = await stackConfig("staging", (raw) => {
        raw.tenantDefaults = { sops: true, notifications: { type: "slack", channel: "#deploys" } };
        raw.tenants = [{ name: "team-a" }, { name: "team-b", sops: false, notifications: { type: "none" }, receiver: false }];
      });
      const tree = render(config);
      assert.ok(!Object.keys(tree).some((f) => f.startsWith("tenants/base/") && /notifications|receiver/.test(f)), "nothing of it in the shared base");
      assert.deepEqual(
        Object.keys(tree)
          .filter((f) => /-(notifications|receiver)\.yaml$|\/receiver\.yaml$/.test(f))
          .sort(),
        ["clusters/staging/receiver.yaml", "tenants/staging/team-a-notifications.yaml", "tenants/staging/team-a-receiver.yaml"],
      );
      const dir = writeTemp(tree);
      try {
        const built = kustomizeBuild(path.join(dir, "tenants/staging")) as Record<string, any>[];
        const find = (kind: string, ns: string) => built.filter((o) => o.kind === kind && o.metadata.namespace === ns);
        const sync = (ns: string) => find("Kustomization", ns)[0].spec;
        assert.deepEqual(sync("team-a").decryption, { provider: "sops", secretRef: { name: "sops-age" } });
        assert.equal(sync("team-a").serviceAccountName, "team-a", "still the tenant's own account");
        assert.equal(sync("team-b").decryption, undefined);
        assert.deepEqual(find("Provider", "team-a")[0].spec, { type: "slack", channel: "#deploys", secretRef: { name: "tenant-notifications" } });
        const alert = find("Alert", "team-a")[0].spec;
        assert.equal(alert.eventSeverity, "error");
        assert.deepEqual(alert.providerRef, { name: "tenant-notifications" });
        assert.ok(
          alert.eventSources.every((s: { name: string; namespace?: string }) => s.name === "*" && s.namespace === undefined),
          "only its own namespace's objects",
        );
        assert.deepEqual(find("Receiver", "team-a")[0].spec, {
          type: "github",
          events: ["ping", "push"],
          resources: [{ apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository", name: "team-a" }],
          secretRef: { name: "tenant-receiver" },
        });
        assert.deepEqual(
          built.filter((o) => ["Provider", "Alert", "Receiver"].includes(o.kind) && o.metadata.namespace === "team-b"),
          [],
        );
        for (const o of built.filter((x) => ["Provider", "Alert", "Receiver"].includes(x.kind))) {
          assert.equal(o.metadata.labels["toolkit.fluxcd.io/tenant"], o.metadata.namespace, `${o.kind} carries the tenant label the policies protect`);
        }
        const [fleet] = parseYamlDocuments(tree["clusters/staging/receiver.yaml"], "receiver.yaml") as Record<string, any>[];
        assert.deepEqual(
          [fleet.metadata, fleet.spec.type, fleet.spec.resources, fleet.spec.secretRef],
          [
            { name: "fleet-receiver", namespace: "flux-system", labels: { "app.kubernetes.io/managed-by": "flux-multi-tenancy" } },
            "github",
            [{ apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository", name: "flux-system" }],
            { name: "fleet-receiver" },
          ],
        );
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it("a tenant repository given by URL gets a generic Receiver only when asked", async () => {
      const config = await stackConfig("staging", (raw) => {
        (raw.policies as Record<string, string[]>).allowedSourcePrefixes.push("https://git.example.com/");
        raw.tenants = [
          { name: "team-a", repository: { url: "https://git.example.com/team-a/apps.git" } },
          { name: "team-b", repository: { url: "https://git.example.com/team-b/apps.git" }, receiver: true },
        ];
      });
      const tree = render(config);
      assert.ok(!("tenants/staging/team-a-receiver.yaml" in tree), "receiver: created is for repositories the program creates");
      const [receiver] = parseYamlDocuments(tree["tenants/staging/team-b-receiver.yaml"], "team-b") as Record<string, any>[];
      assert.equal(receiver.spec.type, "generic");
      assert.equal(receiver.spec.events, undefined);
    });
  });

  describe("the shipped stack files", () => {
    let staging: FileTree;
    let production: FileTree;
    before(async () => {
      staging = render(await stackConfig("staging"));
      production = render(await stackConfig("production"));
    });

    it("each stack writes its own environment directories only", () => {
      for (const [tree, env] of [
        [staging, "staging"],
        [production, "production"],
      ] as const) {
        for (const file of Object.keys(tree).filter((f) => !isSharedPath(f))) {
          assert.ok(file.startsWith(`clusters/${env}/`) || file.startsWith(`tenants/${env}/`), file);
        }
      }
    });

    it("both stacks render every shared file identically, so they never fight over one", () => {
      const shared = (t: FileTree) => Object.fromEntries(Object.entries(t).filter(([f]) => isSharedPath(f)));
      assert.ok(Object.keys(shared(staging)).length > 0);
      assert.deepEqual(shared(staging), shared(production));
    });

    it("the tenant syncs from its own repository with its deploy key Secret", () => {
      const sync = parseYamlDocuments(staging["tenants/base/dev-team/sync.yaml"], "sync") as Record<string, any>[];
      assert.deepEqual(sync[0].spec, {
        interval: "1m",
        url: "ssh://git@github.com/my-org/dev-team",
        ref: { branch: "main" },
        secretRef: { name: "dev-team-git" },
      });
    });

    it("rendering twice gives the same bytes", async () => {
      assert.deepEqual(render(await stackConfig("staging")), staging);
    });
  });

  describe("three tenants", () => {
    let config: StackConfig;
    let tree: FileTree;
    before(async () => {
      config = await stackConfig("staging", (raw) => {
        raw.tenants = [
          { name: "team-a", namespace: "a" },
          { name: "team-b", namespace: "b", branch: "release" },
          { name: "team-c", namespace: "c", repository: { url: "https://github.com/my-org/team-c-apps" }, path: "deploy/staging" },
        ];
      });
      tree = render(config);
    });

    it("each tenant has its own base and overlay patch", () => {
      for (const t of ["team-a", "team-b", "team-c"]) {
        for (const f of ["kustomization.yaml", "rbac.yaml", "sync.yaml"]) assert.ok(`tenants/base/${t}/${f}` in tree);
        assert.ok(`tenants/staging/${t}-patch.yaml` in tree);
      }
    });

    it("every tenant object lives in that tenant's namespace and carries its label", () => {
      for (const t of config.tenants) {
        const objects = treeObjects(tree).filter(({ file }) => file.startsWith(`tenants/base/${t.name}/`) && !file.endsWith("kustomization.yaml"));
        assert.equal(objects.length, 5);
        for (const { obj } of objects) {
          const meta = obj.metadata as { name: string; namespace?: string; labels?: Record<string, string> };
          if (obj.kind === "Namespace") assert.equal(meta.name, t.namespace);
          else assert.equal(meta.namespace, t.namespace, `${obj.kind}/${meta.name}`);
          if (obj.kind !== "GitRepository" && obj.kind !== "Kustomization") assert.equal(meta.labels?.[TENANT_LABEL], t.name);
        }
      }
    });

    it("each tenant reconciles as its own service account, bound only inside its namespace", () => {
      for (const t of config.tenants) {
        const objects = treeObjects(tree)
          .filter(({ file }) => file.startsWith(`tenants/base/${t.name}/`))
          .map(({ obj }) => obj as Record<string, any>);
        const ks = objects.find((o) => o.kind === "Kustomization" && o.metadata.name === t.name);
        assert.equal(ks?.spec.serviceAccountName, t.name);
        assert.equal(ks?.spec.sourceRef.namespace, undefined, "no cross-namespace source");
        const binding = objects.find((o) => o.kind === "RoleBinding");
        assert.equal(binding?.metadata.namespace, t.namespace);
        assert.deepEqual(
          binding?.subjects.map((s: { name: string }) => s.name),
          [`gotk:${t.namespace}:reconciler`, t.name],
        );
        assert.equal(objects.filter((o) => o.kind === "ClusterRoleBinding").length, 0);
      }
    });

    it("the overlay gives each tenant this environment's path, and its branch", function () {
      requireKubectl(this);
      const dir = writeTemp(tree);
      try {
        const built = kustomizeBuild(path.join(dir, "tenants/staging")) as Record<string, any>[];
        const byName = (kind: string, name: string) => built.find((o) => o.kind === kind && o.metadata.name === name);
        assert.equal(byName("Kustomization", "team-a")?.spec.path, "./staging");
        assert.equal(byName("Kustomization", "team-c")?.spec.path, "./deploy/staging");
        assert.equal(byName("GitRepository", "team-b")?.spec.ref.branch, "release");
        assert.equal(byName("GitRepository", "team-c")?.spec.url, "https://github.com/my-org/team-c-apps");
        assert.equal(byName("GitRepository", "team-c")?.spec.secretRef, undefined);
        assert.equal(built.filter((o) => o.kind === "Namespace").length, 3);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it("the seeded Kustomizations are ordered engine, policies, tenants, then each tenant", () => {
      assert.deepEqual(
        seededKustomizations(config).map((k) => `${k.namespace}/${k.name}<-${k.dependsOn.join(",")}`),
        ["flux-system/kyverno<-", "flux-system/kyverno-policies<-kyverno", "flux-system/tenants<-kyverno-policies", "a/team-a<-", "b/team-b<-", "c/team-c<-"],
      );
    });
  });

  describe("no tenants", () => {
    it("renders an overlay with no resources that still builds", async function () {
      const tree = render(await stackConfig("staging", (raw) => (raw.tenants = [])));
      assert.ok(!Object.keys(tree).some((f) => f.startsWith("tenants/base/")));
      assert.ok("tenants/staging/kustomization.yaml" in tree);
      requireKubectl(this);
      const dir = writeTemp(tree);
      try {
        assert.deepEqual(kustomizeBuild(path.join(dir, "tenants/staging")), []);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("policy engines", () => {
    it("kyverno: the same tenant protections as vap: no Pod or token Secret of the reconciler, a tenant's Namespace the platform's", async () => {
      const tree = render(await stackConfig("staging"));
      const [policy, role] = parseYamlDocuments(tree[PROTECT_TENANTS_FILE], PROTECT_TENANTS_FILE) as Record<string, any>[];
      assert.equal(policy.spec.background, false, "request data is only there at admission");
      const rules = Object.fromEntries((policy.spec.rules as Record<string, any>[]).map((r) => [r.name, r]));
      assert.deepEqual(Object.keys(rules), [
        "no-pod-as-reconciler",
        "no-reconciler-token-secret",
        "tenant-namespace-is-the-platforms",
        "tenant-guardrails-are-the-platforms",
      ]);
      for (const r of Object.values(rules) as Record<string, any>[]) assert.equal(r.validate.failureAction, "Enforce");
      // The reconciler is the account its Namespace's tenant label names.
      assert.equal(rules["no-pod-as-reconciler"].context[0].apiCall.jmesPath, `metadata.labels."toolkit.fluxcd.io/tenant" || ''`);
      // The Namespace rule reads the labels the Namespace had (removing the tenant label is judged too) and asks the API
      // server whether the requester may change namespaces cluster-wide: a binding inside the namespace does not count.
      const ns = rules["tenant-namespace-is-the-platforms"];
      assert.deepEqual(ns.match.any[0].resources, { kinds: ["Namespace"], operations: ["UPDATE", "DELETE"] });
      assert.equal(ns.preconditions.all[0].key, `{{ request.oldObject.metadata.labels."toolkit.fluxcd.io/tenant" || '' }}`);
      const sar = ns.context[0].apiCall;
      assert.equal(sar.urlPath, "/apis/authorization.k8s.io/v1/subjectaccessreviews");
      const spec = sar.data.find((d: { key: string }) => d.key === "spec").value;
      assert.equal(spec.resourceAttributes.namespace, undefined, "cluster-wide");
      assert.equal(spec.user, "{{ request.userInfo.username }}");
      assert.deepEqual(role.metadata.labels, { "rbac.kyverno.io/aggregate-to-admission-controller": "true" });
      assert.deepEqual(role.rules, [{ apiGroups: ["authorization.k8s.io"], resources: ["subjectaccessreviews"], verbs: ["create"] }]);
    });

    it("vap: admission policies instead of Kyverno, tenants after them", async () => {
      const config = await stackConfig("staging", (raw) => (raw.policies = { ...(raw.policies as object), engine: "vap" }));
      const tree = render(config);
      assert.ok(!Object.keys(tree).some((f) => f.includes("kyverno")));
      const policies = treeObjects(tree)
        .filter(({ obj }) => obj.kind === "ValidatingAdmissionPolicy")
        .map(({ obj }) => (obj.metadata as { name: string }).name);
      assert.deepEqual(policies.sort(), [
        "deny-bucket-sources",
        "deny-reconciler-pods",
        "deny-reconciler-tokens",
        "deny-remote-clusters",
        "protect-tenant-guardrails",
        "protect-tenant-namespaces",
        "restrict-tenant-sources",
      ]);
      const bindings = treeObjects(tree).filter(({ obj }) => obj.kind === "ValidatingAdmissionPolicyBinding");
      assert.equal(bindings.length, 7);
      for (const { obj } of bindings) assert.deepEqual((obj.spec as { validationActions: string[] }).validationActions, ["Deny"]);
      const named = (kind: string, name: string) =>
        treeObjects(tree).find(({ obj }) => obj.kind === kind && (obj.metadata as { name: string }).name === name)!.obj as Record<string, any>;
      // The allowlist is the policy's parameter: a ConfigMap in flux-system, a missing one denying everything.
      const allowlist = named("ValidatingAdmissionPolicy", "restrict-tenant-sources");
      assert.deepEqual(allowlist.spec.paramKind, { apiVersion: "v1", kind: "ConfigMap" });
      assert.deepEqual(
        allowlist.spec.matchConstraints.resourceRules.map((r: { apiGroups: string[]; resources: string[] }) => `${r.resources[0]}.${r.apiGroups[0]}`),
        [
          "gitrepositories.source.toolkit.fluxcd.io",
          "ocirepositories.source.toolkit.fluxcd.io",
          "helmrepositories.source.toolkit.fluxcd.io",
          "imagerepositories.image.toolkit.fluxcd.io",
        ],
      );
      assert.deepEqual(named("ValidatingAdmissionPolicyBinding", "restrict-tenant-sources").spec.paramRef, {
        name: "tenant-source-allowlist",
        namespace: "flux-system",
        parameterNotFoundAction: "Deny",
      });
      assert.equal(
        named("ConfigMap", "tenant-source-allowlist").data.prefixes,
        "https://github.com/my-org/\nssh://git@github.com/my-org/\nhttps://stefanprodan.github.io/podinfo/",
      );
      assert.equal((named("ConfigMap", "tenant-source-allowlist").metadata as { namespace: string }).namespace, "flux-system");
      assert.deepEqual(
        seededKustomizations(config).map((k) => k.name),
        ["admission-policies", "tenants", "dev-team"],
      );
    });

    it("vap in audit mode audits and warns instead of denying the allowlist", async () => {
      const tree = render(
        await stackConfig("staging", (raw) => (raw.policies = { ...(raw.policies as object), engine: "vap", validationFailureAction: "Audit" })),
      );
      const binding = treeObjects(tree).find(
        ({ obj }) => obj.kind === "ValidatingAdmissionPolicyBinding" && (obj.metadata as { name: string }).name === "restrict-tenant-sources",
      )!;
      assert.deepEqual((binding.obj.spec as { validationActions: string[] }).validationActions, ["Audit", "Warn"]);
    });

    it("kyverno: the allowlist covers Git, OCI, Helm and image sources, admitting exactly what the config check admits", async () => {
      const config = await stackConfig("staging", (raw) => {
        raw.policies = { ...(raw.policies as object), allowedSourcePrefixes: ["https://github.com/my-org/", "oci://ghcr.io/my-org/", "git@github.com:"] };
        raw.tenants = [];
      });
      const policy = parseYamlDocuments(render(config)[ALLOWLIST_FILE], ALLOWLIST_FILE)[0] as Record<string, any>;
      const rules = policy.spec.rules as Record<string, any>[];
      assert.deepEqual(
        rules.map((r) => r.match.any[0].resources.kinds),
        [["GitRepository"], ["OCIRepository", "HelmRepository"], ["ImageRepository"]],
      );
      assert.ok(!("validationFailureAction" in policy.spec), "no policy-wide action (deprecated in Kyverno 1.13)");
      assert.ok(rules.every((r) => r.validate.failureAction === "Enforce"));
      // Kyverno's wildcards: "?" one character, "*" any; alternatives split on " | ".
      const escaped = (alt: string) => alt.replace(/[.+^$()|[\]\\/{}]/g, "\\$&");
      const kyvernoMatches = (pattern: string, value: string) =>
        pattern.split(" | ").some((alt) => new RegExp("^" + escaped(alt).replace(/\?/g, ".").replace(/\*/g, ".*") + "$").test(value));
      const urls = [
        "https://github.com/my-org/app",
        "https://github.com/my-org",
        "https://github.com/my-org/",
        "https://github.com/my-org-evil/app",
        "https://github.com/other/app",
        "oci://ghcr.io/my-org/charts/app",
        "oci://ghcr.io/my-org-evil/app",
        "git@github.com:my-org/app",
        "http://github.com/my-org/app",
      ];
      for (const url of urls) {
        const expected = sourceAdmitted(url, config.policies.allowedSourcePrefixes);
        assert.equal(kyvernoMatches(rules[0].validate.pattern.spec.url, url), expected, `GitRepository ${url}`);
        assert.equal(kyvernoMatches(rules[1].validate.pattern.spec.url, url), expected, `OCI/Helm ${url}`);
      }
      for (const image of ["ghcr.io/my-org/app", "ghcr.io/my-org-evil/app", "docker.io/library/nginx"]) {
        assert.equal(
          kyvernoMatches(rules[2].validate.pattern.spec.image, image),
          sourceAdmitted(`oci://${image}`, config.policies.allowedSourcePrefixes),
          image,
        );
      }
      // Without an oci:// prefix no image repository is admitted.
      const noOci = await stackConfig("staging", (raw) => (raw.tenants = []));
      const denyAll = (parseYamlDocuments(render(noOci)[ALLOWLIST_FILE], ALLOWLIST_FILE)[0] as Record<string, any>).spec.rules[2].validate;
      assert.deepEqual(denyAll.deny, {});
    });

    it("kyverno: Flux's image signatures are audited with Kyverno 1.13's fields, none deprecated", async () => {
      const tree = render(await stackConfig("staging"));
      const images = parseYamlDocuments(tree["infrastructure/kyverno-policies/verify-flux-images.yaml"], "v")[0] as Record<string, any>;
      for (const deprecated of ["validationFailureAction", "validationFailureActionOverrides", "failurePolicy", "webhookTimeoutSeconds"]) {
        assert.ok(!(deprecated in images.spec), deprecated);
      }
      assert.deepEqual(images.spec.webhookConfiguration, { failurePolicy: "Fail", timeoutSeconds: 30 });
      assert.equal(images.spec.rules[0].verifyImages[0].failureAction, "Audit");
    });

    it("none: no infrastructure, tenants depend on nothing", async () => {
      const config = await stackConfig("staging", (raw) => (raw.policies = { engine: "none" }));
      const tree = render(config);
      assert.ok(!Object.keys(tree).some((f) => f.startsWith("infrastructure/") || f.endsWith("/infrastructure.yaml")));
      const tenants = parseYamlDocuments(tree["clusters/staging/tenants.yaml"], "t")[0] as Record<string, any>;
      assert.equal(tenants.spec.dependsOn, undefined);
    });
  });

  describe("lockdown", () => {
    it("the built flux-system carries every lockdown flag and the impersonating root Kustomization", async function () {
      requireKubectl(this);
      const config = await stackConfig("staging", (raw) => {
        raw.flux = { componentsExtra: ["image-reflector-controller", "image-automation-controller"], defaultServiceAccount: "nobody" };
      });
      const dir = writeTemp(render(config));
      try {
        const built = kustomizeBuild(path.join(dir, "clusters/staging/flux-system")) as Record<string, any>[];
        const args = (name: string) =>
          built.find((o) => o.kind === "Deployment" && o.metadata.name === name)!.spec.template.spec.containers[0].args as string[];
        for (const c of ["kustomize-controller", "helm-controller", "notification-controller", "image-reflector-controller", "image-automation-controller"]) {
          assert.ok(args(c).includes("--no-cross-namespace-refs=true"), c);
        }
        assert.ok(args("kustomize-controller").includes("--no-remote-bases=true"));
        for (const c of ["kustomize-controller", "helm-controller"]) assert.ok(args(c).includes("--default-service-account=nobody"), c);
        assert.ok(!args("source-controller").some((a) => a.startsWith("--no-") || a.startsWith("--default-service-account")));
        const root = built.find((o) => o.kind === "Kustomization" && o.metadata.name === "flux-system")!;
        assert.equal(root.spec.serviceAccountName, "kustomize-controller");
        assert.equal(root.spec.path, "./clusters/staging");
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it("source-watcher, when installed, refuses cross-namespace references too; the workload-identity lockdown sets its gate and flags on each controller", async function () {
      requireKubectl(this);
      const all = ["image-reflector-controller", "image-automation-controller", "source-watcher"];
      const built = async (lockdown: boolean) => {
        const config = await stackConfig("staging", (raw) => {
          raw.flux = { componentsExtra: all, defaultServiceAccount: "nobody", workloadIdentityLockdown: lockdown };
        });
        const dir = writeTemp(render(config));
        try {
          const objects = kustomizeBuild(path.join(dir, "clusters/staging/flux-system")) as Record<string, any>[];
          return (name: string) => objects.find((o) => o.kind === "Deployment" && o.metadata.name === name)!.spec.template.spec.containers[0].args as string[];
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      };
      const off = await built(false);
      assert.ok(off("source-watcher").includes("--no-cross-namespace-refs=true"));
      for (const c of ["source-controller", "kustomize-controller", "helm-controller", "notification-controller", ...all]) {
        assert.ok(!off(c).some((a) => a.startsWith("--feature-gates") || /^--default-(decryption|kubeconfig)-/.test(a)), `${c}: off by default`);
      }
      const on = await built(true);
      const expected: Record<string, string[]> = {
        "source-controller": ["--default-service-account=nobody"],
        "notification-controller": ["--default-service-account=nobody"],
        "image-reflector-controller": ["--default-service-account=nobody"],
        "image-automation-controller": ["--default-service-account=nobody"],
        "kustomize-controller": ["--default-decryption-service-account=nobody", "--default-kubeconfig-service-account=nobody"],
        "helm-controller": ["--default-kubeconfig-service-account=nobody"],
      };
      for (const [c, flags] of Object.entries(expected)) {
        const args = on(c);
        assert.equal(args.filter((a) => a.startsWith("--feature-gates")).join(), "--feature-gates=ObjectLevelWorkloadIdentity=true", c);
        for (const f of flags) assert.ok(args.includes(f), `${c}: ${f}`);
      }
      assert.ok(!on("source-watcher").some((a) => a.startsWith("--feature-gates")), "source-watcher takes no cloud credentials");
    });

    it("every Kustomization in flux-system impersonates kustomize-controller", async () => {
      const tree = render(await stackConfig("production"));
      const ks = treeObjects(tree).filter(({ obj }) => obj.kind === "Kustomization" && (obj.metadata as { namespace?: string }).namespace === "flux-system");
      assert.ok(ks.length >= 4);
      for (const { file, obj } of ks) {
        if ((obj.metadata as { name: string }).name === "flux-system") continue; // set by the lockdown patch
        assert.equal((obj.spec as { serviceAccountName?: string }).serviceAccountName, "kustomize-controller", file);
      }
    });
  });

  describe("a fleet on any SSH Git host", () => {
    const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
    let tree: FileTree;
    before(async () => {
      const config = await stackConfig("staging", (raw: RawConfig) => {
        raw.fleet = { provider: "git", url: "ssh://git@git.example.com:2222/platform/fleet.git" };
        raw.tenants = [
          { name: "team-a", repository: { url: "ssh://git@git.example.com:2222/team-a/apps.git", deployKey: true } },
          { name: "team-b", repository: { url: "https://git.example.com/team-b/apps.git" } },
        ];
        raw.knownHosts = `[git.example.com]:2222 ${KEY}`;
        raw.policies = { ...(raw.policies as object), allowedSourcePrefixes: ["ssh://git@git.example.com:2222/", "https://git.example.com/"] };
      });
      tree = render(config);
    });

    it("Flux syncs the configured URL with the flux-system Secret", () => {
      const [source] = parseYamlDocuments(tree["clusters/staging/flux-system/gotk-sync.yaml"], "gotk-sync.yaml") as {
        kind: string;
        spec: Record<string, unknown>;
      }[];
      assert.equal(source.kind, "GitRepository");
      assert.equal(source.spec.url, "ssh://git@git.example.com:2222/platform/fleet.git");
      assert.deepEqual(source.spec.secretRef, { name: "flux-system" });
    });

    it("a tenant with a deploy key clones with its Secret; a tenant by URL alone clones as it is", () => {
      const source = (t: string) =>
        (parseYamlDocuments(tree[`tenants/base/${t}/sync.yaml`], t) as { kind: string; spec: Record<string, unknown> }[]).find(
          (o) => o.kind === "GitRepository",
        )!.spec;
      assert.deepEqual(source("team-a"), {
        interval: "1m",
        url: "ssh://git@git.example.com:2222/team-a/apps.git",
        ref: { branch: "main" },
        secretRef: { name: "team-a-git" },
      });
      assert.deepEqual(source("team-b"), { interval: "1m", url: "https://git.example.com/team-b/apps.git", ref: { branch: "main" } });
    });
  });
});
