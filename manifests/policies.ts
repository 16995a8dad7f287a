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

const FLUX_SOURCE_GROUP = "source.toolkit.fluxcd.io";
/** The operations an admission policy judges: what creates or changes an object. */
const WRITE = ["CREATE", "UPDATE"];

/** The tenant sources the allowlist covers: where each keeps its URL. ImageRepository's image is read as oci://<image>. */
export const ALLOWLISTED_SOURCES = [
  { kind: "GitRepository", group: FLUX_SOURCE_GROUP, resource: "gitrepositories", field: "url" },
  { kind: "OCIRepository", group: FLUX_SOURCE_GROUP, resource: "ocirepositories", field: "url" },
  { kind: "HelmRepository", group: FLUX_SOURCE_GROUP, resource: "helmrepositories", field: "url" },
  { kind: "ImageRepository", group: "image.toolkit.fluxcd.io", resource: "imagerepositories", field: "image" },
] as const;

/** The ConfigMap in flux-system that holds the allowlist the native policy reads (one prefix per line). */
export const ALLOWLIST_CONFIGMAP = "tenant-source-allowlist";

/** A Kyverno pattern admitting exactly what `sourceAdmitted` admits, for values read without a scheme prefix `strip`. */
function kyvernoPattern(prefixes: readonly string[], strip = ""): string {
  return prefixes
    .filter((p) => p.startsWith(strip))
    .map((p) => p.slice(strip.length))
    .flatMap((p) => [`${p}?*`, p, ...(p.endsWith("/") ? [p.slice(0, -1)] : [])])
    .join(" | ");
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
      background: false,
      webhookConfiguration: { failurePolicy: "Fail", timeoutSeconds: 30 },
      rules: [
        {
          name: "verify-cosign-signature",
          match: { any: [{ resources: { kinds: ["Pod"] } }] },
          verifyImages: [
            {
              failureAction: "Audit",
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
  const failureAction = config.policies.validationFailureAction;
  const exclude = { any: [{ resources: { namespaces: [FLUX_NAMESPACE] } }] };
  const urlKinds = ALLOWLISTED_SOURCES.filter((s) => s.field === "url").map((s) => s.kind);
  const ociPrefixes = prefixes.filter((p) => p.startsWith("oci://"));
  const urlValidate = { failureAction, message: sourceMessage(prefixes), pattern: { spec: { url: kyvernoPattern(prefixes) } } };
  const sources: KubeObject = {
    apiVersion: API.kyverno,
    kind: "ClusterPolicy",
    metadata: { name: "verify-git-repositories" },
    spec: {
      rules: [
        {
          name: "github-repositories-only",
          match: { any: [{ resources: { kinds: ["GitRepository"] } }] },
          exclude,
          validate: urlValidate,
        },
        {
          // The same allowlist for every other tenant source with a URL: OCI artifacts and Helm repositories.
          name: "allowed-source-urls",
          match: { any: [{ resources: { kinds: urlKinds.filter((k) => k !== "GitRepository") } }] },
          exclude,
          validate: urlValidate,
        },
        {
          // Image repositories name an image, read as oci://<image>: only oci:// prefixes can admit one.
          name: "allowed-image-repositories",
          match: { any: [{ resources: { kinds: ["ImageRepository"] } }] },
          exclude,
          validate:
            ociPrefixes.length > 0
              ? {
                  failureAction,
                  message: `.spec.image must start with one of: ${ociPrefixes.map((p) => p.slice("oci://".length)).join(", ")}`,
                  pattern: { spec: { image: kyvernoPattern(ociPrefixes, "oci://") } },
                }
              : { failureAction, message: "image repositories are not allowed: policies.allowedSourcePrefixes has no oci:// prefix", deny: {} },
        },
      ],
    },
  };
  const dir = INFRASTRUCTURE_DIRS.kyvernoPolicies;
  return {
    [`${dir}/kustomization.yaml`]: kustomizeFile(["protect-tenants.yaml", "verify-flux-images.yaml", "verify-git-repositories.yaml"]),
    [`${dir}/protect-tenants.yaml`]: toYamlDocuments(kyvernoTenantProtection()),
    [`${dir}/verify-flux-images.yaml`]: toYaml(images),
    [`${dir}/verify-git-repositories.yaml`]: toYaml(sources),
  };
}

/**
 * The tenant's reconciler, Namespace and guardrails as Kyverno protects them, the same guarantees as the native
 * policies: no Pod runs as the reconciler, no token Secret of it exists, and only an account allowed to change them
 * cluster-wide changes a tenant's Namespace, quota, limit range or network policies (asked of the API server with a
 * SubjectAccessReview, which counts only cluster-wide grants; Kyverno may create those through the aggregated
 * ClusterRole here).
 */
function kyvernoTenantProtection(): KubeObject[] {
  const tenantNamespaces = { matchExpressions: [{ key: TENANT_LABEL, operator: "Exists" }] };
  const label = `"${TENANT_LABEL}"`;
  // The tenant's reconciler account is named as its Namespace's tenant label says.
  const reconciler = { name: "reconciler", apiCall: { urlPath: "/api/v1/namespaces/{{ request.namespace }}", jmesPath: `metadata.labels.${label} || ''` } };
  // Whether the requester may make this request cluster-wide, asked of the API server (a SubjectAccessReview without a
  // namespace counts only ClusterRoleBindings, never a binding inside the tenant's namespace).
  const platformWriterReview = {
    name: "sar",
    apiCall: {
      urlPath: "/apis/authorization.k8s.io/v1/subjectaccessreviews",
      method: "POST",
      data: [
        { key: "apiVersion", value: "authorization.k8s.io/v1" },
        { key: "kind", value: "SubjectAccessReview" },
        {
          key: "spec",
          value: {
            resourceAttributes: {
              group: "{{ request.resource.group }}",
              resource: "{{ request.resource.resource }}",
              verb: "{{ request.operation == 'DELETE' && 'delete' || request.operation == 'CREATE' && 'create' || 'update' }}",
              name: "{{ request.name }}",
            },
            user: "{{ request.userInfo.username }}",
            groups: "{{ request.userInfo.groups }}",
          },
        },
      ],
    },
  };
  const policy: KubeObject = {
    apiVersion: API.kyverno,
    kind: "ClusterPolicy",
    metadata: { name: "protect-tenants" },
    spec: {
      background: false,
      webhookConfiguration: { failurePolicy: "Fail", timeoutSeconds: 30 },
      rules: [
        {
          name: "no-pod-as-reconciler",
          match: { any: [{ resources: { kinds: ["Pod"], operations: ["CREATE"], namespaceSelector: tenantNamespaces } }] },
          context: [reconciler],
          validate: {
            failureAction: "Enforce",
            message: "Pods may not run as the tenant's Flux reconciler service account",
            deny: { conditions: { all: [{ key: "{{ request.object.spec.serviceAccountName || '' }}", operator: "Equals", value: "{{ reconciler }}" }] } },
          },
        },
        {
          name: "no-reconciler-token-secret",
          match: { any: [{ resources: { kinds: ["Secret"], operations: ["CREATE", "UPDATE"], namespaceSelector: tenantNamespaces } }] },
          context: [reconciler],
          validate: {
            failureAction: "Enforce",
            message: "a token Secret of the tenant's Flux reconciler service account is not allowed: its token would let any Pod act as the reconciler",
            deny: {
              conditions: {
                all: [
                  { key: "{{ request.object.type || '' }}", operator: "Equals", value: SA_TOKEN_SECRET },
                  { key: `{{ request.object.metadata.annotations."${SA_NAME_ANNOTATION}" || '' }}`, operator: "Equals", value: "{{ reconciler }}" },
                ],
              },
            },
          },
        },
        {
          name: "tenant-namespace-is-the-platforms",
          match: { any: [{ resources: { kinds: ["Namespace"], operations: ["UPDATE", "DELETE"] } }] },
          // The labels the Namespace had: a request removing the tenant label is judged too.
          preconditions: { all: [{ key: `{{ request.oldObject.metadata.labels.${label} || '' }}`, operator: "NotEquals", value: "" }] },
          context: [platformWriterReview],
          validate: {
            failureAction: "Enforce",
            message: "a tenant's Namespace is the platform's: only an account allowed to change namespaces cluster-wide may change or delete it",
            deny: { conditions: { any: [{ key: "{{ sar.status.allowed }}", operator: "NotEquals", value: true }] } },
          },
        },
        {
          name: "tenant-guardrails-are-the-platforms",
          match: {
            any: [
              {
                resources: {
                  kinds: ["ResourceQuota", "LimitRange", "NetworkPolicy"],
                  operations: ["CREATE", "UPDATE", "DELETE"],
                  namespaceSelector: tenantNamespaces,
                },
              },
            ],
          },
          context: [platformWriterReview],
          validate: {
            failureAction: "Enforce",
            message: "a tenant namespace's quota, limit range and network policies are the platform's: only an account allowed to change them cluster-wide may",
            deny: { conditions: { any: [{ key: "{{ sar.status.allowed }}", operator: "NotEquals", value: true }] } },
          },
        },
      ],
    },
  };
  const subjectAccessReviews: KubeObject = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name: "kyverno:tenant-namespace-reviews", labels: { "rbac.kyverno.io/aggregate-to-admission-controller": "true" } },
    rules: [{ apiGroups: ["authorization.k8s.io"], resources: ["subjectaccessreviews"], verbs: ["create"] }],
  } as KubeObject;
  return [policy, subjectAccessReviews];
}

type Rule = { apiGroups: string[]; apiVersions: string[]; operations: string[]; resources: string[] };

const NOT_FLUX_SYSTEM = {
  matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: [FLUX_NAMESPACE] }],
};
const TENANT_NAMESPACES = { matchExpressions: [{ key: TENANT_LABEL, operator: "Exists" }] };

/**
 * A ValidatingAdmissionPolicy and its binding. With `param`, the policy reads the ConfigMap of that
 * name in flux-system as `params` (through its `variables`), and a missing ConfigMap denies. `matchConditions`
 * narrow what it judges beyond its rules and namespaces; `variables` name values its validations share.
 */
function policyPair(
  name: string,
  rules: Rule[],
  namespaceSelector: object | undefined,
  validations: { expression: string; message: string; messageExpression?: string }[],
  actions: string[],
  param?: { configMap: string; variables: { name: string; expression: string }[] },
  extra: { matchConditions?: { name: string; expression: string }[]; variables?: { name: string; expression: string }[] } = {},
): KubeObject[] {
  const variables = [...(param?.variables ?? []), ...(extra.variables ?? [])];
  return [
    {
      apiVersion: API.admission,
      kind: "ValidatingAdmissionPolicy",
      metadata: { name },
      spec: {
        failurePolicy: "Fail",
        ...(param ? { paramKind: { apiVersion: "v1", kind: "ConfigMap" } } : {}),
        matchConstraints: { ...(namespaceSelector ? { namespaceSelector } : {}), resourceRules: rules },
        ...(extra.matchConditions ? { matchConditions: extra.matchConditions } : {}),
        ...(variables.length > 0 ? { variables } : {}),
        validations,
      },
    },
    {
      apiVersion: API.admission,
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: { name },
      spec: {
        policyName: name,
        validationActions: actions,
        ...(param ? { paramRef: { name: param.configMap, namespace: FLUX_NAMESPACE, parameterNotFoundAction: "Deny" } } : {}),
      },
    },
  ];
}

/**
 * The source allowlist as a native policy with its prefixes as a parameter: a ConfigMap in flux-system
 * (one prefix per line), bound with parameterNotFoundAction Deny, so a missing or emptied list admits
 * nothing. One policy for every allowlisted source kind; the same rule as `sourceAdmitted`.
 */
function sourceAllowlistPolicy(prefixes: readonly string[], actions: string[]): KubeObject[] {
  return [
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: ALLOWLIST_CONFIGMAP, namespace: FLUX_NAMESPACE },
      data: { prefixes: prefixes.join("\n") },
    },
    ...policyPair(
      "restrict-tenant-sources",
      ALLOWLISTED_SOURCES.map((s) => ({ apiGroups: [s.group], apiVersions: ["*"], operations: WRITE, resources: [s.resource] })),
      NOT_FLUX_SYSTEM,
      [
        {
          expression: "variables.prefixes.exists(p, (variables.source.endsWith('/') ? variables.source : variables.source + '/').startsWith(p))",
          messageExpression:
            "object.kind + ' source ' + variables.source + ' is outside the allowlist: use a source under one of ' + variables.prefixes.join(', ')",
          message: sourceMessage(prefixes),
        },
      ],
      actions,
      {
        configMap: ALLOWLIST_CONFIGMAP,
        variables: [
          { name: "source", expression: "object.kind == 'ImageRepository' ? 'oci://' + object.spec.image : object.spec.url" },
          { name: "prefixes", expression: "params.data.prefixes.split('\\n').filter(p, p != '')" },
        ],
      },
    ),
  ];
}

/** A CEL string literal. */
function celString(s: string): string {
  return `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/** A Secret holding a service account's token, and the annotation naming the account (filled in by Kubernetes). */
const SA_TOKEN_SECRET = "kubernetes.io/service-account-token";
const SA_NAME_ANNOTATION = "kubernetes.io/service-account.name";

/**
 * Whether the requester may make this request as the platform may: asked of the API server's own authorizer for the
 * request's resource cluster-wide. A request on a Namespace, or on an object inside one, is authorized against the
 * RoleBindings in that namespace too, and a tenant's reconciler is cluster-admin there; a cluster-wide check counts
 * only ClusterRoleBindings (Flux's kustomize-controller, cluster admins), never a binding inside the namespace.
 */
const PLATFORM_WRITER =
  "(request.operation == 'DELETE' ? ['delete'] : request.operation == 'CREATE' ? ['create'] : ['update', 'patch'])" +
  // A collection delete (the namespace controller emptying a namespace) carries no name: the check is then for any name.
  ".exists(verb, authorizer.group(request.resource.group).resource(request.resource.resource).name(has(request.name) ? request.name : '').check(verb).allowed())";

/** What a tenant namespace holds that is the platform's: its guardrails (additive network policies included, which would lift a default deny). */
const GUARDRAIL_RULES: Rule[] = [
  { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE", "DELETE"], resources: ["resourcequotas", "limitranges"] },
  { apiGroups: ["networking.k8s.io"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE", "DELETE"], resources: ["networkpolicies"] },
];

/**
 * infrastructure/admission-policies/: the same guarantees with native ValidatingAdmissionPolicies
 * (no engine to install): tenant sources (Git, OCI, Helm, image) from the allowlist only, no Bucket sources in tenant
 * namespaces, no remote-cluster `spec.kubeConfig`, and no Pod running as its tenant's Flux
 * reconciler service account.
 */
export function renderAdmissionPolicies(config: StackConfig): Record<string, string> {
  const prefixes = config.policies.allowedSourcePrefixes;
  const allowlistActions = config.policies.validationFailureAction === "Enforce" ? ["Deny"] : ["Audit", "Warn"];
  const files: Record<string, KubeObject[]> = {
    "deny-bucket-sources.yaml": policyPair(
      "deny-bucket-sources",
      [{ apiGroups: [FLUX_SOURCE_GROUP], apiVersions: ["*"], operations: WRITE, resources: ["buckets"] }],
      NOT_FLUX_SYSTEM,
      [{ expression: "false", message: "Bucket sources are reserved for the platform (flux-system)" }],
      ["Deny"],
    ),
    "deny-remote-clusters.yaml": policyPair(
      "deny-remote-clusters",
      [
        { apiGroups: ["kustomize.toolkit.fluxcd.io"], apiVersions: ["*"], operations: WRITE, resources: ["kustomizations"] },
        { apiGroups: ["helm.toolkit.fluxcd.io"], apiVersions: ["*"], operations: WRITE, resources: ["helmreleases"] },
      ],
      NOT_FLUX_SYSTEM,
      [{ expression: "!has(object.spec.kubeConfig)", message: ".spec.kubeConfig is not allowed: tenants reconcile into their own cluster only" }],
      ["Deny"],
    ),
    "deny-reconciler-tokens.yaml": policyPair(
      "deny-reconciler-tokens",
      [
        { apiGroups: [""], apiVersions: ["v1"], operations: WRITE, resources: ["secrets"] },
        { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["serviceaccounts/token"] },
      ],
      TENANT_NAMESPACES,
      [
        {
          expression: `request.resource.resource != 'secrets' || object.type != ${celString(SA_TOKEN_SECRET)} || !has(object.metadata.annotations) || !(${celString(SA_NAME_ANNOTATION)} in object.metadata.annotations) || object.metadata.annotations[${celString(SA_NAME_ANNOTATION)}] != variables.reconciler`,
          message: "a token Secret of the tenant's Flux reconciler service account is not allowed: its token would let any Pod act as the reconciler",
        },
        {
          expression: "request.subResource != 'token' || request.name != variables.reconciler",
          message: "tokens of the tenant's Flux reconciler service account are not issued: no one but Flux acts as the reconciler",
        },
      ],
      ["Deny"],
      undefined,
      { variables: [{ name: "reconciler", expression: `namespaceObject.metadata.labels[${celString(TENANT_LABEL)}]` }] },
    ),
    "protect-tenant-namespaces.yaml": policyPair(
      "protect-tenant-namespaces",
      [{ apiGroups: [""], apiVersions: ["v1"], operations: ["UPDATE", "DELETE"], resources: ["namespaces"] }],
      // Not a namespace selector: for a Namespace update it reads the new labels, so removing the tenant label would
      // take the Namespace out of the policy's reach. The labels it had before decide.
      undefined,
      [
        {
          expression: PLATFORM_WRITER,
          message: "a tenant's Namespace is the platform's: only an account allowed to change namespaces cluster-wide may change or delete it",
          messageExpression: `'Namespace ' + oldObject.metadata.name + ' belongs to tenant ' + oldObject.metadata.labels[${celString(TENANT_LABEL)}] + ': only an account allowed to ' + (request.operation == 'DELETE' ? 'delete' : 'update') + ' namespaces cluster-wide may change or delete it, not one bound inside it'`,
        },
      ],
      ["Deny"],
      undefined,
      {
        matchConditions: [
          { name: "tenant-namespace", expression: `has(oldObject.metadata.labels) && ${celString(TENANT_LABEL)} in oldObject.metadata.labels` },
        ],
      },
    ),
    "protect-tenant-guardrails.yaml": policyPair(
      "protect-tenant-guardrails",
      GUARDRAIL_RULES,
      TENANT_NAMESPACES,
      [
        {
          expression: PLATFORM_WRITER,
          message: "a tenant namespace's quota, limit range and network policies are the platform's: only an account allowed to change them cluster-wide may",
          messageExpression: `request.kind.kind + ' ' + (has(request.name) ? request.name : '(every one)') + ' in ' + request.namespace + ' is the platform\\'s: only an account allowed to change ' + request.resource.resource + ' cluster-wide may ' + (request.operation == 'DELETE' ? 'delete' : request.operation == 'CREATE' ? 'create' : 'change') + ' it, not one bound inside the namespace'`,
        },
      ],
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
  files["restrict-tenant-sources.yaml"] = sourceAllowlistPolicy(prefixes, allowlistActions);
  const dir = INFRASTRUCTURE_DIRS.vapPolicies;
  const out: Record<string, string> = { [`${dir}/kustomization.yaml`]: kustomizeFile(Object.keys(files).sort()) };
  for (const [file, objects] of Object.entries(files)) out[`${dir}/${file}`] = toYamlDocuments(objects);
  return out;
}
