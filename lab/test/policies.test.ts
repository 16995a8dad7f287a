// The tenant-source allowlist judged by each policy engine itself, on one table of sources: Kyverno's own CLI (built at
// the release the stacks install) on the rendered Kyverno policies, and the lab API server's admission on the rendered
// ValidatingAdmissionPolicies of both layouts. The same outcomes from every engine, and the ones the table states.
import * as assert from "assert/strict";
import * as fs from "fs";
import * as path from "path";
import { randomBytes } from "crypto";
import { execFile } from "child_process";
import { DEFAULTS, parseConfig, type StackConfig } from "../../config";
import { readStackConfig } from "../../lib/stackFiles";
import { parseYamlDocuments, renderFleet, sourceAdmitted, TENANT_LABEL, toYaml, toYamlDocuments, type KubeObject } from "../../manifests";
import { buildOnDemand } from "../build";
import { labInstallManifest } from "../fluxRelease";
import { PROJECT_DIR } from "../layout";
import type { LabState } from "../state";
import { ensureParamsKeeper, getJson, kubectl, lab, tempDir, timings, waitFor } from "./support";

const PREFIXES = ["https://github.com/my-org/", "ssh://git@github.com/my-org/", "oci://ghcr.io/my-org/", "https://stefanprodan.github.io/podinfo/"];

type Case = { kind: "GitRepository" | "OCIRepository" | "HelmRepository" | "ImageRepository"; source: string; admitted: boolean; why: string };

/** Tenant sources: inside and outside the allowlist, at and across its path boundaries, of every kind it covers. */
const CASES: Case[] = [
  { kind: "GitRepository", source: "https://github.com/my-org/app", admitted: true, why: "under a prefix" },
  { kind: "GitRepository", source: "https://github.com/my-org", admitted: true, why: "a prefix's own URL, without its /" },
  { kind: "GitRepository", source: "https://github.com/my-org-evil/app", admitted: false, why: "across the prefix's path boundary" },
  { kind: "GitRepository", source: "ssh://git@github.com/my-org/app", admitted: true, why: "under the SSH prefix" },
  { kind: "GitRepository", source: "ssh://git@github.com/my-org-evil/app", admitted: false, why: "across the SSH prefix's boundary" },
  { kind: "GitRepository", source: "https://example.invalid/my-org/app", admitted: false, why: "another host" },
  { kind: "OCIRepository", source: "oci://ghcr.io/my-org/manifests", admitted: true, why: "under the oci:// prefix" },
  { kind: "OCIRepository", source: "oci://ghcr.io/my-org-evil/manifests", admitted: false, why: "across the oci:// prefix's boundary" },
  { kind: "OCIRepository", source: "oci://registry.invalid/my-org/manifests", admitted: false, why: "another registry" },
  { kind: "HelmRepository", source: "https://stefanprodan.github.io/podinfo", admitted: true, why: "the chart prefix's own URL" },
  { kind: "HelmRepository", source: "https://stefanprodan.github.io/podinfo-evil", admitted: false, why: "across the chart prefix's boundary" },
  { kind: "HelmRepository", source: "https://charts.example.invalid/", admitted: false, why: "another chart host" },
  { kind: "ImageRepository", source: "ghcr.io/my-org/app", admitted: true, why: "an image under the oci:// prefix" },
  { kind: "ImageRepository", source: "ghcr.io/my-org-evil/app", admitted: false, why: "an image across its boundary" },
  { kind: "ImageRepository", source: "docker.io/library/nginx", admitted: false, why: "an image elsewhere" },
];

const API_VERSIONS: Record<Case["kind"], string> = {
  GitRepository: "source.toolkit.fluxcd.io/v1",
  OCIRepository: "source.toolkit.fluxcd.io/v1",
  HelmRepository: "source.toolkit.fluxcd.io/v1",
  ImageRepository: "image.toolkit.fluxcd.io/v1",
};

/** A case as the tenant would write it, named by its row. */
function sourceObject(c: Case, i: number, namespace: string): KubeObject {
  const spec: Record<string, unknown> =
    c.kind === "ImageRepository"
      ? { image: c.source, interval: "5m" }
      : {
          url: c.source,
          interval: "5m",
          ...(c.kind === "GitRepository" ? { ref: { branch: "main" } } : {}),
          ...(c.kind === "OCIRepository" ? { ref: { tag: "latest" } } : {}),
        };
  return { apiVersion: API_VERSIONS[c.kind], kind: c.kind, metadata: { name: `case-${i}`, namespace }, spec };
}

/** The staging stack with the table's allowlist and the given policies. */
async function stackWith(policies: Record<string, unknown>): Promise<StackConfig> {
  const raw = structuredClone((await readStackConfig(PROJECT_DIR, "staging")).raw);
  raw.policies = { allowedSourcePrefixes: PREFIXES, ...policies };
  for (const t of raw.tenants as Record<string, unknown>[]) t.repository = { url: `https://github.com/my-org/${String(t.name)}` };
  return parseConfig(raw, { stack: "staging" });
}

async function rendered(policies: Record<string, unknown>): Promise<Record<string, string>> {
  const config = await stackWith(policies);
  const manifest = await labInstallManifest();
  return renderFleet({ config, installManifest: manifest.text, installSource: manifest.source });
}

/** Runs the Kyverno CLI: its output whatever its exit (it exits 1 when a resource fails a rule, and the report says which). */
function runKyverno(binary: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(binary, args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Which rows an engine refused, by row, with its message: what the table is compared against. */
type Verdicts = Record<number, string | null>;

function outcomes(v: Verdicts): boolean[] {
  return CASES.map((_, i) => v[i] === null);
}

describe("the source allowlist, judged by each engine itself on one table: Kyverno's CLI, and the API server's admission for both native layouts", function () {
  const id = randomBytes(3).toString("hex");
  const ns = `policy-table-${id}`;
  const tenantUser = `system:serviceaccount:${ns}:${ns}`;
  const work = tempDir("policy-table");
  let state: LabState;
  let kyverno = "";
  const createdCrds: string[] = [];
  let createdFluxNamespace = false;
  const applied: string[] = [];

  before(async function () {
    // A cold build of the Kyverno CLI is long (some 16 minutes on 2 cores); it is built for this suite only, then cached.
    this.timeout(40 * 60_000);
    state = lab().state;
    const t = Date.now();
    kyverno = (await buildOnDemand("kyverno", (line) => console.log(`  ${line}`))).kyverno;
    timings["policies: Kyverno CLI build (cached when 0)"] = `${((Date.now() - t) / 1000).toFixed(1)}s`;

    // The kinds the table and the image-automation rows write, without Flux: the source and image CRDs of the pinned
    // release's install.yaml. Only what is missing is created (and removed after).
    const manifest = await labInstallManifest();
    const crds = (parseYamlDocuments(manifest.text, "install manifest") as KubeObject[]).filter(
      (o) =>
        o.kind === "CustomResourceDefinition" &&
        /^((gitrepositories|ocirepositories|helmrepositories)\.source|(imagerepositories|imagepolicies|imageupdateautomations)\.image)\.toolkit\.fluxcd\.io$/.test(
          o.metadata.name,
        ),
    );
    for (const crd of crds) {
      if (await getJson(state, ["crd", crd.metadata.name])) continue;
      await kubectl(state, ["create", "-f", "-"], JSON.stringify(crd));
      createdCrds.push(crd.metadata.name);
    }
    for (const name of createdCrds) await kubectl(state, ["wait", "--for=condition=Established", "--timeout=60s", `crd/${name}`]);
    if (!(await getJson(state, ["namespace", "flux-system"]))) {
      await kubectl(state, ["create", "namespace", "flux-system"]);
      createdFluxNamespace = true;
    }
    // A tenant namespace as the fleet makes one: labelled, its account admin there. Flux's source-controller may write
    // there too (its finalizers), as the cluster-wide role it has would let it.
    const objects: KubeObject[] = [
      { apiVersion: "v1", kind: "Namespace", metadata: { name: ns, labels: { [TENANT_LABEL]: ns } } },
      { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: ns, namespace: ns } },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: "admin", namespace: ns },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
        subjects: [
          { kind: "ServiceAccount", name: ns, namespace: ns },
          { kind: "ServiceAccount", name: "source-controller", namespace: "flux-system" },
        ],
      } as KubeObject,
    ];
    await kubectl(state, ["apply", "-f", "-"], toYamlDocuments(objects));
    await ensureParamsKeeper(state);
  });

  after(async function () {
    this.timeout(120_000);
    if (!state) return;
    for (const file of applied.reverse()) await kubectl(state, ["delete", "--ignore-not-found", "-f", file]).catch(() => undefined);
    await kubectl(state, ["delete", "namespace", ns, "--ignore-not-found"]);
    for (const name of createdCrds) await kubectl(state, ["delete", "crd", name, "--ignore-not-found"]);
    if (createdFluxNamespace) await kubectl(state, ["delete", "namespace", "flux-system", "--ignore-not-found"]);
    fs.rmSync(work, { recursive: true, force: true });
  });

  it("the table states what the one rule (sourceAdmitted, which the config check applies too) says", () => {
    for (const c of CASES) {
      const url = c.kind === "ImageRepository" ? `oci://${c.source}` : c.source;
      assert.equal(sourceAdmitted(url, PREFIXES), c.admitted, `${c.kind} ${c.source}: ${c.why}`);
    }
  });

  /** `kyverno apply` of the rendered allowlist policy on every row, as `user`: its PolicyReport's failures by row. */
  async function kyvernoVerdicts(policyFile: string, user: string, namespace: string): Promise<Verdicts> {
    const resources = path.join(work, `resources-${namespace}.yaml`);
    fs.writeFileSync(resources, toYamlDocuments(CASES.map((c, i) => sourceObject(c, i, namespace))));
    const userInfo = path.join(work, `user-${user.replace(/:/g, "-")}.yaml`);
    fs.writeFileSync(
      userInfo,
      toYaml({ apiVersion: "cli.kyverno.io/v1alpha1", kind: "UserInfo", metadata: { name: "user-info" }, userInfo: { username: user } }),
    );
    const args = ["apply", policyFile, "--resource", resources, "--userinfo", userInfo, "--policy-report", "--output-format", "json", "--remove-color"];
    const r = await runKyverno(kyverno, args);
    assert.doesNotMatch(r.stdout + r.stderr, /Policies Skipped|policy validation error/, "Kyverno accepts the policy as written");
    const verdicts: Verdicts = Object.fromEntries(CASES.map((_, i) => [i, null]));
    const start = r.stdout.indexOf("{");
    // No rule applied to any row (all excluded): Kyverno prints no report, and exits 0.
    if (start < 0) {
      assert.equal(r.code, 0, `kyverno printed no report and exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
      return verdicts;
    }
    const report = JSON.parse(r.stdout.slice(start)) as {
      summary: { error: number };
      results?: { resources: { name: string }[]; result: string; message: string }[];
    };
    assert.equal(report.summary.error, 0, r.stdout);
    for (const res of report.results ?? []) {
      if (res.result === "fail") verdicts[Number(res.resources[0].name.replace("case-", ""))] = res.message;
    }
    return verdicts;
  }

  it(`Kyverno ${DEFAULTS.policies.kyvernoVersion}'s CLI on the rendered Kyverno policy: the table's outcomes as the tenant; Flux's own controllers and flux-system never judged`, async () => {
    const tree = await rendered({ engine: "kyverno" });
    const file = path.join(work, "verify-git-repositories.yaml");
    fs.writeFileSync(file, tree["infrastructure/kyverno-policies/verify-git-repositories.yaml"]);
    const asTenant = await kyvernoVerdicts(file, tenantUser, ns);
    assert.deepEqual(
      outcomes(asTenant),
      CASES.map((c) => c.admitted),
    );
    for (const [i, message] of Object.entries(asTenant))
      if (message !== null) assert.match(message, /must start with one of|image repositories|\.spec\.image must start/, CASES[Number(i)].source);
    assert.deepEqual(
      outcomes(await kyvernoVerdicts(file, "system:serviceaccount:flux-system:source-controller", ns)),
      CASES.map(() => true),
      "source-controller's own writes",
    );
    assert.deepEqual(
      outcomes(await kyvernoVerdicts(file, tenantUser, "flux-system")),
      CASES.map(() => true),
      "the platform's flux-system",
    );
  });

  it("Kyverno accepts every rendered Kyverno policy as its admission controller would (its own policy validation), with and without tenantServiceAccount", async () => {
    for (const extra of [{}, { tenantServiceAccount: "flux" }]) {
      const raw = structuredClone((await readStackConfig(PROJECT_DIR, "staging")).raw);
      Object.assign(raw, extra);
      const manifest = await labInstallManifest();
      const tree = renderFleet({ config: parseConfig(raw, { stack: "staging" }), installManifest: manifest.text, installSource: manifest.source });
      const files = Object.keys(tree).filter((f) => f.startsWith("infrastructure/kyverno-policies/") && !f.endsWith("/kustomization.yaml"));
      assert.deepEqual(files.map((f) => path.basename(f)).sort(), ["protect-tenants.yaml", "verify-flux-images.yaml", "verify-git-repositories.yaml"]);
      const policies = files.map((f) => {
        const out = path.join(work, `check-${path.basename(f)}`);
        // The ClusterRole beside protect-tenants is not a policy.
        fs.writeFileSync(out, toYamlDocuments((parseYamlDocuments(tree[f], f) as KubeObject[]).filter((o) => o.kind === "ClusterPolicy")));
        return out;
      });
      const resource = path.join(work, "pod.yaml");
      fs.writeFileSync(
        resource,
        toYaml({ apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: ns }, spec: { containers: [{ name: "c", image: "registry.invalid/x:1" }] } }),
      );
      const r = await runKyverno(kyverno, ["apply", ...policies, "--resource", resource, "--remove-color"]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.doesNotMatch(r.stdout + r.stderr, /Policies Skipped|policy validation error|failed to load/, r.stdout + r.stderr);
      assert.match(r.stdout, /Applying \d+ policy rule\(s\) to 1 resource/, r.stdout + r.stderr);
    }
  });

  /** The API server's admission of `o`, created as `user` (else the lab's admin) by a server-side dry run: its refusal message, or null. */
  function dryRun(o: KubeObject, user?: string): Promise<string | null> {
    return kubectl(state, ["create", "--dry-run=server", ...(user ? [`--as=${user}`] : []), "-f", "-"], JSON.stringify(o)).then(
      () => null,
      (e: unknown) => (e as Error).message,
    );
  }

  /** The API server's admission of every row, as `user`: its refusal message by row. */
  async function apiServerVerdicts(user: string): Promise<Verdicts> {
    const verdicts: Verdicts = {};
    for (const [i, c] of CASES.entries()) verdicts[i] = await dryRun(sourceObject(c, i, ns), user);
    return verdicts;
  }

  /** Applies rendered files of the tree (removed again by removePolicy). */
  async function applyFiles(files: readonly string[], tree: Record<string, string>): Promise<void> {
    for (const f of files) {
      const out = path.join(work, f.replace(/\//g, "-"));
      fs.writeFileSync(out, tree[f]);
      await kubectl(state, ["apply", "-f", out]);
      applied.push(out);
    }
  }

  /**
   * Applies a layout's rendered allowlist policy and its ConfigMap, and waits until the API server enforces it, and it
   * alone: a policy the test before removed may still be in force for a moment (its refusals, taken for this one's, made
   * the upstream layout's table fail once after the infrastructure layout's).
   */
  async function applyPolicy(files: string[], tree: Record<string, string>, policy: string): Promise<void> {
    await applyFiles(files, tree);
    const own = new RegExp(`ValidatingAdmissionPolicy '${policy}'`);
    await waitFor(`${policy} in force, and no other policy`, 60, async () => {
      const refusals = Object.values(await apiServerVerdicts(tenantUser)).filter((m): m is string => m !== null);
      const other = refusals.find((m) => !own.test(m));
      return refusals.length > 0 && other === undefined ? { value: true } : { seen: other ?? "admitted" };
    });
  }

  async function removePolicy(): Promise<void> {
    for (const file of applied.splice(0).reverse()) await kubectl(state, ["delete", "--ignore-not-found", "-f", file]);
  }

  /** An image automation object of `kind` as a tenant would write it (inside the allowlist: only the deny rule refuses it). */
  function imageObject(kind: string, namespace: string): KubeObject {
    const spec: Record<string, Record<string, unknown>> = {
      ImageRepository: { image: "ghcr.io/my-org/app", interval: "5m" },
      ImagePolicy: { imageRepositoryRef: { name: "app" }, policy: { semver: { range: ">=1.0.0" } } },
      ImageUpdateAutomation: {
        interval: "5m",
        sourceRef: { kind: "GitRepository", name: "app" },
        git: { commit: { author: { name: "flux", email: "flux@example.com" } } },
      },
    };
    return { apiVersion: "image.toolkit.fluxcd.io/v1", kind, metadata: { name: `automation-${kind.toLowerCase()}`, namespace }, spec: spec[kind] };
  }

  for (const [layout, file, policy, message] of [
    [
      "infrastructure",
      "infrastructure/admission-policies/deny-image-automation.yaml",
      "deny-image-automation",
      "image automation is the platform's: tenants may not create image repositories, policies or update automations",
    ],
    [
      "upstream-2026",
      "policies/staging/image-automation.yaml",
      "flux-tenant-image-automation",
      "image automation resources are not allowed in tenant namespaces",
    ],
  ] as const) {
    it(`the ${layout} layout with denyImageAutomation: a tenant's ImageUpdateAutomation, ImagePolicy and ImageRepository are refused on the policy's message; the platform's, outside tenant namespaces, are not`, async () => {
      const tree = await rendered({ engine: "vap", layout, denyImageAutomation: true });
      await applyFiles([file], tree);
      try {
        const denied = new RegExp(`ValidatingAdmissionPolicy '${policy}' with binding '${policy}' denied request: ${message}`);
        await waitFor("the policy in force", 60, async () => {
          const m = await dryRun(imageObject("ImageUpdateAutomation", ns), tenantUser);
          return m && denied.test(m) ? { value: true } : { seen: m ?? "admitted" };
        });
        for (const kind of ["ImageUpdateAutomation", "ImagePolicy", "ImageRepository"]) {
          assert.match((await dryRun(imageObject(kind, ns), tenantUser)) ?? "admitted", denied, `${kind} in the tenant's namespace`);
          assert.equal(await dryRun(imageObject(kind, "flux-system")), null, `${kind} in flux-system, by the platform`);
        }
      } finally {
        await removePolicy();
      }
    });
  }

  for (const [layout, files, policy] of [
    ["infrastructure", ["infrastructure/admission-policies/restrict-tenant-sources.yaml"], "restrict-tenant-sources"],
    ["upstream-2026", ["policies/staging/allowlist.yaml", "policies/base/sources.yaml"], "flux-tenant-sources"],
  ] as const) {
    it(`the ${layout} layout's ValidatingAdmissionPolicy on the API server: the same outcomes as the table and Kyverno; Flux's source-controller never judged`, async () => {
      const tree = await rendered({ engine: "vap", layout });
      await applyPolicy([...files], tree, policy);
      try {
        const asTenant = await apiServerVerdicts(tenantUser);
        for (const [i, message] of Object.entries(asTenant)) {
          if (message !== null)
            assert.match(message, new RegExp(`ValidatingAdmissionPolicy '${policy}' with binding '${policy}' denied request`), CASES[Number(i)].source);
        }
        assert.deepEqual(
          outcomes(asTenant),
          CASES.map((c) => c.admitted),
          JSON.stringify(asTenant, null, 1),
        );
        assert.deepEqual(
          outcomes(await apiServerVerdicts("system:serviceaccount:flux-system:source-controller")),
          CASES.map(() => true),
          "source-controller's own writes",
        );
      } finally {
        await removePolicy();
      }
    });
  }
});
