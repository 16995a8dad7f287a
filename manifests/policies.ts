// infrastructure/: the policy engine and the tenant-isolation policies (Kyverno or native admission policies).
import type { StackConfig } from "../config";
import { API, FLUX_COMPONENTS, FLUX_NAMESPACE, FLUX_RECONCILER_SA, TENANT_LABEL } from "./labels";
import { type KubeObject, toYaml, toYamlDocuments } from "./yaml";

/** Directories under infrastructure/ per engine; distinct names so engines never share a file. */
export const INFRASTRUCTURE_DIRS = {
  kyverno: "infrastructure/kyverno",
  kyvernoPolicies: "infrastructure/kyverno-policies",
  vapPolicies: "infrastructure/admission-policies",
} as const;

const KYVERNO_OCI = "oci://ghcr.io/kyverno/manifests/kyverno";
const KYVERNO_NAME = "kyverno-controller";

/** Flux controller images the cosign policy checks (as upstream), on both registries Flux publishes to. */
const FLUX_IMAGES = ["ghcr.io", "docker.io"].flatMap((registry) =>
  [...FLUX_COMPONENTS, "image-reflector-controller", "image-automation-controller"].map((c) => `${registry}/fluxcd/${c}:*`),
);

function kustomizeFile(resources: readonly string[]): string {
  return toYaml({ apiVersion: API.kustomizeConfig, kind: "Kustomization", resources });
}

function sourceMessage(prefixes: readonly string[]): string {
  return `.spec.url must start with one of: ${prefixes.join(", ")}`;
}

/** infrastructure/kyverno/: Kyverno's release manifests as a cosign-verified OCI artifact. */
export function renderKyverno(config: StackConfig): Record<string, string> {
  const source: KubeObject = {
    apiVersion: API.source,
    kind: "OCIRepository",
    metadata: { name: KYVERNO_NAME, namespace: FLUX_NAMESPACE },
    spec: {
      interval: "120m0s",
      provider: "generic",
      url: KYVERNO_OCI,
      ref: { tag: config.policies.kyvernoVersion },
      verify: { provider: "cosign" },
    },
  };
  const sync: KubeObject = {
    apiVersion: API.kustomization,
    kind: "Kustomization",
    metadata: { name: KYVERNO_NAME, namespace: FLUX_NAMESPACE },
    spec: {
      interval: "720m0s",
      sourceRef: { kind: "OCIRepository", name: KYVERNO_NAME },
      serviceAccountName: FLUX_RECONCILER_SA,
      path: "./",
      prune: true,
      wait: true,
      timeout: "5m",
    },
  };
  const dir = INFRASTRUCTURE_DIRS.kyverno;
  return {
    [`${dir}/kustomization.yaml`]: kustomizeFile(["source.yaml", "sync.yaml"]),
    [`${dir}/source.yaml`]: toYaml(source),
    [`${dir}/sync.yaml`]: toYaml(sync),
  };
}

/** infrastructure/kyverno-policies/: Flux image signatures (audit) and the tenant source allowlist. */
export function renderKyvernoPolicies(config: StackConfig): Record<string, string> {
  const images: KubeObject = {
    apiVersion: API.kyverno,
    kind: "ClusterPolicy",
    metadata: { name: "verify-flux-images" },
    spec: {
      validationFailureAction: "Audit",
      background: false,
      webhookTimeoutSeconds: 30,
      failurePolicy: "Fail",
      rules: [
        {
          name: "verify-cosign-signature",
          match: { any: [{ resources: { kinds: ["Pod"] } }] },
          verifyImages: [
            {
              imageReferences: FLUX_IMAGES,
              mutateDigest: false,
              verifyDigest: false,
              attestors: [
                {
                  entries: [
                    {
                      keyless: {
                        subject: "https://github.com/fluxcd/*",
                        issuer: "https://token.actions.githubusercontent.com",
                        rekor: { url: "https://rekor.sigstore.dev" },
                      },
                    },
                  ],
                },
              ],
            },
          ],
        },
      ],
    },
  };
  const prefixes = config.policies.allowedSourcePrefixes;
  const sources: KubeObject = {
    apiVersion: API.kyverno,
    kind: "ClusterPolicy",
    metadata: { name: "verify-git-repositories" },
    spec: {
      validationFailureAction: config.policies.validationFailureAction,
      rules: [
        {
          name: "github-repositories-only",
          match: { any: [{ resources: { kinds: ["GitRepository"] } }] },
          exclude: { any: [{ resources: { namespaces: [FLUX_NAMESPACE] } }] },
          validate: {
            message: sourceMessage(prefixes),
            pattern: { spec: { url: prefixes.map((p) => `${p}?*`).join(" | ") } },
          },
        },
      ],
    },
  };
  const dir = INFRASTRUCTURE_DIRS.kyvernoPolicies;
  return {
    [`${dir}/kustomization.yaml`]: kustomizeFile(["verify-flux-images.yaml", "verify-git-repositories.yaml"]),
    [`${dir}/verify-flux-images.yaml`]: toYaml(images),
    [`${dir}/verify-git-repositories.yaml`]: toYaml(sources),
  };
}

type Rule = { apiGroups: string[]; apiVersions: string[]; operations: string[]; resources: string[] };

const FLUX_SOURCE_GROUP = "source.toolkit.fluxcd.io";
const NOT_FLUX_SYSTEM = {
  matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: [FLUX_NAMESPACE] }],
};
const TENANT_NAMESPACES = { matchExpressions: [{ key: TENANT_LABEL, operator: "Exists" }] };

function policyPair(
  name: string,
  rules: Rule[],
  namespaceSelector: object,
  validations: { expression: string; message: string }[],
  actions: string[],
): KubeObject[] {
  return [
    {
      apiVersion: API.admission,
      kind: "ValidatingAdmissionPolicy",
      metadata: { name },
      spec: {
        failurePolicy: "Fail",
        matchConstraints: { namespaceSelector, resourceRules: rules },
        validations,
      },
    },
    {
      apiVersion: API.admission,
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: { name },
      spec: { policyName: name, validationActions: actions },
    },
  ];
}

/** A CEL string literal. */
function celString(s: string): string {
  return `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/**
 * infrastructure/admission-policies/: the same guarantees with native ValidatingAdmissionPolicies
 * (no engine to install): tenant Git sources from the allowlist only, no Bucket sources in tenant
 * namespaces, no remote-cluster `spec.kubeConfig`, and no Pod running as its tenant's Flux
 * reconciler service account.
 */
export function renderAdmissionPolicies(config: StackConfig): Record<string, string> {
  const prefixes = config.policies.allowedSourcePrefixes;
  const allowlistActions = config.policies.validationFailureAction === "Enforce" ? ["Deny"] : ["Audit", "Warn"];
  const write = ["CREATE", "UPDATE"];
  const files: Record<string, KubeObject[]> = {
    "restrict-git-sources.yaml": policyPair(
      "restrict-git-sources",
      [{ apiGroups: [FLUX_SOURCE_GROUP], apiVersions: ["*"], operations: write, resources: ["gitrepositories"] }],
      NOT_FLUX_SYSTEM,
      [
        {
          expression: `[${prefixes.map(celString).join(", ")}].exists(p, object.spec.url.startsWith(p))`,
          message: sourceMessage(prefixes),
        },
      ],
      allowlistActions,
    ),
    "deny-bucket-sources.yaml": policyPair(
      "deny-bucket-sources",
      [{ apiGroups: [FLUX_SOURCE_GROUP], apiVersions: ["*"], operations: write, resources: ["buckets"] }],
      NOT_FLUX_SYSTEM,
      [{ expression: "false", message: "Bucket sources are reserved for the platform (flux-system)" }],
      ["Deny"],
    ),
    "deny-remote-clusters.yaml": policyPair(
      "deny-remote-clusters",
      [
        { apiGroups: ["kustomize.toolkit.fluxcd.io"], apiVersions: ["*"], operations: write, resources: ["kustomizations"] },
        { apiGroups: ["helm.toolkit.fluxcd.io"], apiVersions: ["*"], operations: write, resources: ["helmreleases"] },
      ],
      NOT_FLUX_SYSTEM,
      [{ expression: "!has(object.spec.kubeConfig)", message: ".spec.kubeConfig is not allowed: tenants reconcile into their own cluster only" }],
      ["Deny"],
    ),
    "deny-reconciler-pods.yaml": policyPair(
      "deny-reconciler-pods",
      [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"] }],
      TENANT_NAMESPACES,
      [
        {
          expression: `!has(object.spec.serviceAccountName) || object.spec.serviceAccountName != namespaceObject.metadata.labels[${celString(TENANT_LABEL)}]`,
          message: "Pods may not run as the tenant's Flux reconciler service account",
        },
      ],
      ["Deny"],
    ),
  };
  const dir = INFRASTRUCTURE_DIRS.vapPolicies;
  const out: Record<string, string> = { [`${dir}/kustomization.yaml`]: kustomizeFile(Object.keys(files)) };
  for (const [file, objects] of Object.entries(files)) out[`${dir}/${file}`] = toYamlDocuments(objects);
  return out;
}
