// policies.layout upstream-2026: the fleet's policies as upstream lays them out since its 2026 move to admission
// policies, compared object by object with upstream's files, each deliberate difference named.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import type { StackConfig } from "../config";
import type { RawConfig } from "../lib/stackFiles";
import { applyPlan, FLUX_SOURCE_WRITERS, type FileTree, parseYamlDocuments, planAgainst, seededKustomizations } from "../manifests";
import { comparable, configProblem, kustomizeBuild, REFERENCE_2026_DIR, render, requireKubectl, requirePath, stackConfig, writeTemp } from "./helpers";

/** Upstream's staging allowlist. */
const UPSTREAM_PREFIXES = [
  "https://github.com/fluxcd/",
  "oci://ghcr.io/fluxcd/",
  "https://github.com/stefanprodan/",
  "https://stefanprodan.github.io/",
  "oci://ghcr.io/stefanprodan/",
];

/** A stack set up as upstream's 2026 example: engine vap in its layout, tenants reconciling as `flux`, upstream's intervals. */
const asUpstream2026 = (raw: RawConfig) => {
  raw.policies = { engine: "vap", layout: "upstream-2026", allowedSourcePrefixes: UPSTREAM_PREFIXES };
  raw.tenantServiceAccount = "flux";
  raw.reconcile = { policiesInterval: "1h", infrastructureTimeout: "2m" };
  const t = (raw.tenants as Record<string, unknown>[])[0];
  t.repository = { url: "https://github.com/fluxcd/flux2-multi-tenancy" };
  t.branch = "dev-team";
};

type Obj = { kind?: string; metadata?: { name?: string }; spec?: Record<string, any>; resources?: string[] };

/** Files of ours upstream does not have: the protections both our layouts give beyond upstream's four policies. */
const OUR_EXTRA_BASE_FILES = ["guardrails.yaml", "namespaces.yaml", "reconciler-tokens.yaml"];

/**
 * Our objects read back as upstream's, undoing each deliberate difference:
 * - flux-tenant-sources: Flux's own writes to tenant sources are not judged (a matchCondition), so a source the
 *   allowlist no longer admits can still be finalized and deleted; a prefix admits a URL at its path boundary (also the
 *   prefix's own URL without its "/", as `sourceAdmitted` and every engine read it); a static message for when the
 *   message expression cannot be evaluated.
 * - flux-tenant-kubeconfig: Flux's field is spec.kubeConfig; upstream's spec.kubeconfig is never set on a stored object.
 * - policies/base/kustomization.yaml lists our extra protections.
 */
function asUpstream(objects: unknown[]): unknown[] {
  return (structuredClone(objects) as Obj[]).map((o) => {
    if (o.kind === "ValidatingAdmissionPolicy" && o.metadata?.name === "flux-tenant-sources") {
      delete o.spec!.matchConditions;
      o.spec!.validations[0].expression = "variables.prefixes.exists(p, variables.url.startsWith(p))";
      delete o.spec!.validations[0].message;
    }
    if (o.kind === "ValidatingAdmissionPolicy" && o.metadata?.name === "flux-tenant-kubeconfig") {
      o.spec!.validations[0].expression = "!has(object.spec.kubeconfig)";
      o.spec!.validations[0].message = "spec.kubeconfig is not allowed in tenant namespaces";
      const annotations = (o.metadata as { annotations: Record<string, string> }).annotations;
      annotations["policy.toolkit.fluxcd.io/description"] = annotations["policy.toolkit.fluxcd.io/description"].replace("kubeConfig", "kubeconfig");
    }
    if (o.kind === "Kustomization" && o.resources) o.resources = o.resources.filter((r) => !OUR_EXTRA_BASE_FILES.includes(r));
    return o;
  });
}

function listFiles(dir: string, prefix = ""): string[] {
  return fs
    .readdirSync(path.join(dir, prefix), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(dir, path.posix.join(prefix, e.name)) : [path.posix.join(prefix, e.name)]));
}

describe("policies.layout upstream-2026", () => {
  for (const env of ["staging", "production"]) {
    describe(`${env}: means the same as upstream's files`, () => {
      let refDir: string;
      let config: StackConfig;
      let tree: FileTree;
      before(async function () {
        refDir = requirePath(this, REFERENCE_2026_DIR, "../shared/reference/flux2-multi-tenancy-2026");
        config = await stackConfig(env, asUpstream2026);
        tree = render(config);
      });

      it("renders upstream's files of this environment, our extra protections, and no infrastructure/", () => {
        const other = env === "staging" ? "production" : "staging";
        const refFiles = listFiles(refDir).filter((f) => f.endsWith(".yaml") && !f.includes(`/${other}/`));
        const ours = Object.keys(tree).filter((f) => f.startsWith("policies/") || f === `clusters/${env}/policies.yaml`);
        const expected = [
          ...refFiles,
          ...OUR_EXTRA_BASE_FILES.map((f) => `policies/base/${f}`),
          // Upstream's production allowlist was not available (the reference is partial); ours is the stack's.
          ...(env === "production" ? ["policies/production/allowlist.yaml"] : []),
        ];
        assert.deepEqual(ours.sort(), expected.sort());
        assert.deepEqual(
          Object.keys(tree).filter((f) => f.startsWith("infrastructure/") || f === `clusters/${env}/infrastructure.yaml`),
          [],
        );
      });

      it("every file holds upstream's objects, the deliberate differences aside", () => {
        for (const file of listFiles(refDir).filter((f) => f.endsWith(".yaml"))) {
          if (!(file in tree)) continue;
          const expected = parseYamlDocuments(fs.readFileSync(path.join(refDir, file), "utf8"), file);
          const actual = asUpstream(parseYamlDocuments(tree[file], file));
          assert.deepEqual(comparable(actual), comparable(expected), file);
        }
      });

      it("tenants wait for policies, and the program waits for them in that order", () => {
        assert.deepEqual(
          seededKustomizations(config)
            .slice(0, 2)
            .map((k) => [k.name, k.dependsOn]),
          [
            ["policies", []],
            ["tenants", ["policies"]],
          ],
        );
      });

      it("tenants reconcile as the ServiceAccount flux, as upstream's since 2026", () => {
        const base = parseYamlDocuments(tree["tenants/base/dev-team/rbac.yaml"], "rbac") as Obj[];
        assert.deepEqual(
          base.filter((o) => o.kind === "ServiceAccount").map((o) => o.metadata?.name),
          ["flux"],
        );
        const sync = parseYamlDocuments(tree["tenants/base/dev-team/sync.yaml"], "sync") as Obj[];
        assert.equal(sync.find((o) => o.kind === "Kustomization")?.spec?.serviceAccountName, "flux");
      });
    });
  }

  it("staging's policies build with kustomize to upstream's objects, the deliberate differences and our extra protections aside", async function () {
    requireKubectl(this);
    const refDir = requirePath(this, REFERENCE_2026_DIR, "../shared/reference/flux2-multi-tenancy-2026");
    const ours = writeTemp(render(await stackConfig("staging", asUpstream2026)));
    try {
      const extra = ["flux-tenant-guardrails", "flux-tenant-namespaces", "flux-tenant-reconciler-tokens"];
      const built = kustomizeBuild(path.join(ours, "policies/staging")).filter((o) => !extra.includes(String((o as Obj).metadata?.name)));
      assert.deepEqual(comparable(asUpstream(built)), comparable(kustomizeBuild(path.join(refDir, "policies/staging"))));
    } finally {
      fs.rmSync(ours, { recursive: true, force: true });
    }
  });

  it("the allowlist of both native layouts and Kyverno's never judges Flux's own writes to tenant sources", async () => {
    const accounts = ["source-controller", "notification-controller", "image-reflector-controller"].map((c) => `system:serviceaccount:flux-system:${c}`);
    assert.deepEqual(FLUX_SOURCE_WRITERS, accounts);
    const vap = (layout: string) => async () =>
      render(await stackConfig("staging", (raw) => (raw.policies = { ...(raw.policies as object), ...asPolicies, layout })));
    const asPolicies = { engine: "vap" };
    for (const [layout, file, name] of [
      ["infrastructure", "infrastructure/admission-policies/restrict-tenant-sources.yaml", "restrict-tenant-sources"],
      ["upstream-2026", "policies/base/sources.yaml", "flux-tenant-sources"],
    ]) {
      const policy = (parseYamlDocuments((await vap(layout)())[file], file) as Obj[]).find((o) => o.kind === "ValidatingAdmissionPolicy");
      assert.equal(policy?.metadata?.name, name);
      assert.deepEqual(policy?.spec?.matchConditions, [
        { name: "not-flux-itself", expression: `!(request.userInfo.username in [${accounts.map((a) => `'${a}'`).join(", ")}])` },
      ]);
    }
    const kyverno = render(await stackConfig("staging"))["infrastructure/kyverno-policies/verify-git-repositories.yaml"];
    const rules = (parseYamlDocuments(kyverno, "kyverno")[0] as Obj).spec!.rules as { exclude: { any: unknown[] } }[];
    for (const rule of rules) {
      assert.deepEqual(rule.exclude.any, [
        { resources: { namespaces: ["flux-system"] } },
        {
          subjects: ["source-controller", "notification-controller", "image-reflector-controller"].map((name) => ({
            kind: "ServiceAccount",
            namespace: "flux-system",
            name,
          })),
        },
      ]);
    }
  });

  it("policies.denyImageAutomation: on in production as upstream, off in staging, and either way when set", async () => {
    const files = async (stack: string, deny?: boolean, layout = "upstream-2026") =>
      Object.keys(
        render(
          await stackConfig(stack, (raw) => {
            asUpstream2026(raw);
            raw.policies = { ...(raw.policies as object), layout, ...(deny === undefined ? {} : { denyImageAutomation: deny }) };
          }),
        ),
      ).filter((f) => /image-automation/.test(f));
    assert.deepEqual(await files("production"), ["policies/production/image-automation.yaml"]);
    assert.deepEqual(await files("staging"), []);
    assert.deepEqual(await files("staging", true), ["policies/staging/image-automation.yaml"]);
    assert.deepEqual(await files("production", false), []);
    assert.deepEqual(await files("staging", true, "infrastructure"), ["infrastructure/admission-policies/deny-image-automation.yaml"]);
  });

  it("tenantServiceAccount in the infrastructure layout and Kyverno's: the pods and token rules follow it", async () => {
    const vap = render(
      await stackConfig("staging", (raw) => {
        raw.policies = { ...(raw.policies as object), engine: "vap" };
        raw.tenantServiceAccount = "flux";
      }),
    );
    assert.match(vap["infrastructure/admission-policies/deny-reconciler-pods.yaml"], /object\.spec\.serviceAccountName != 'flux'/);
    assert.match(vap["infrastructure/admission-policies/deny-reconciler-tokens.yaml"], /expression: "'flux'"/);
    const kyverno = render(await stackConfig("staging", (raw) => (raw.tenantServiceAccount = "flux")));
    const policy = parseYamlDocuments(kyverno["infrastructure/kyverno-policies/protect-tenants.yaml"], "kyverno")[0] as Obj;
    for (const rule of (policy.spec!.rules as { name: string; context?: unknown[] }[]).filter((r) => r.context?.length && r.name.includes("reconciler"))) {
      assert.deepEqual(rule.context, [{ name: "reconciler", variable: { value: "flux" } }], rule.name);
    }
  });

  describe("config", () => {
    const problem = (patch: (raw: RawConfig) => void) => configProblem("staging", patch);
    const policies = (p: object) => (raw: RawConfig) => (raw.policies = { ...(raw.policies as object), ...p });
    const cases: [string, (raw: RawConfig) => void, string][] = [
      [
        "upstream-2026 with Kyverno",
        policies({ layout: "upstream-2026" }),
        `flux-multi-tenancy:policies.layout: "upstream-2026" is the layout of native admission policies, and policies.engine is kyverno; set policies.engine to "vap" with it, or leave policies.layout "infrastructure".`,
      ],
      [
        "an unknown layout",
        policies({ engine: "vap", layout: "upstream" }),
        `flux-multi-tenancy:policies.layout: "upstream" is not supported; use one of infrastructure, upstream-2026.`,
      ],
      [
        "denyImageAutomation with Kyverno",
        policies({ denyImageAutomation: true }),
        `flux-multi-tenancy:policies.denyImageAutomation: true is a native admission policy, and policies.engine is kyverno; set policies.engine to "vap" with it, or leave it "production" (on in the production environment with engine vap).`,
      ],
      [
        "denyImageAutomation neither a boolean nor production",
        policies({ engine: "vap", denyImageAutomation: "yes" }),
        `flux-multi-tenancy:policies.denyImageAutomation: "yes" is not a setting of it; set true, false, or "production" (on in the production environment, as upstream).`,
      ],
      [
        "tenantServiceAccount default",
        (raw) => (raw.tenantServiceAccount = "default"),
        `flux-multi-tenancy:tenantServiceAccount: "default" is the account every Pod runs as when it names none, so no tenant Pod could start (Pods may not run as the reconciler); use a name of its own, e.g. "flux" (upstream's since 2026), or "" for an account named after each tenant.`,
      ],
    ];
    for (const [name, patch, message] of cases) it(name, async () => assert.equal(await problem(patch), message));
  });
});

describe("policies/ in a fleet shared by stacks", () => {
  it("policies/base is shared: it stays while another stack's policies/<env> reads it, and each environment's goes with its stack", async () => {
    const staging = render(await stackConfig("staging", asUpstream2026));
    const production = render(await stackConfig("production", asUpstream2026));
    let repo = new Map<string, string>();
    repo = applyPlan(repo, planAgainst(repo, staging, []));
    const both = planAgainst(repo, production, []);
    assert.deepEqual(both.conflicts, [], "both stacks render policies/base alike");
    repo = applyPlan(repo, both);
    assert.ok(repo.has("policies/staging/allowlist.yaml") && repo.has("policies/production/allowlist.yaml"));
    // production is destroyed: its environment goes, the shared base stays for staging.
    const gone = planAgainst(repo, {}, Object.keys(production));
    assert.ok(gone.deletes.includes("policies/production/kustomization.yaml") && gone.deletes.includes("clusters/production/policies.yaml"));
    assert.ok(!gone.deletes.some((p) => p.startsWith("policies/base/")), "policies/base stays while staging reads it");
    // A production rendering a different base (another tenant account: the policies and the tenant's base) is refused
    // while staging reads it.
    const other = render(
      await stackConfig("production", (raw) => {
        asUpstream2026(raw);
        raw.tenantServiceAccount = "reconciler";
      }),
    );
    assert.deepEqual(
      planAgainst(repo, other, Object.keys(production)).conflicts.map((c) => c.path),
      ["policies/base/pods.yaml", "policies/base/reconciler-tokens.yaml", "tenants/base/dev-team/rbac.yaml", "tenants/base/dev-team/sync.yaml"],
    );
  });
});
