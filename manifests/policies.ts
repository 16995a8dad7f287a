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
  // flux-system is the platform's; Flux's own writes to tenant sources (finalizers, reconcile requests) are never judged.
  const exclude = {
    any: [
      { resources: { namespaces: [FLUX_NAMESPACE] } },
      { subjects: FLUX_SOURCE_WRITERS.map((u) => ({ kind: "ServiceAccount", namespace: FLUX_NAMESPACE, name: u.split(":").pop() })) },
    ],
  };
  const urlKinds = ALLOWLISTED_SOURCES.filter((s) => s.field === "url").map((s) => s.kind);
  const ociPrefixes = prefixes.filter((p) => p.startsWith("oci://"));
  const urlValidate = { failureAction, message: sourceMessage(prefixes), pattern: { spec: { url: kyvernoPattern(prefixes) } } };
  const sources: KubeObject = {
    apiVersion: API.kyverno,
    kind: "ClusterPolicy",
    metadata: { name: "verify-git-repositories" },
    spec: {
      // Judged at admission only: the exclusion of Flux's own accounts reads the request's user, which Kyverno refuses
      // in a background-scanned policy ("only select variables are allowed in background mode").
      background: false,
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
    [`${dir}/protect-tenants.yaml`]: toYamlDocuments(kyvernoTenantProtection(config)),
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
function kyvernoTenantProtection(config: StackConfig): KubeObject[] {
  const tenantNamespaces = { matchExpressions: [{ key: TENANT_LABEL, operator: "Exists" }] };
  const label = `"${TENANT_LABEL}"`;
  // The tenant's reconciler account: tenantServiceAccount, else named as its Namespace's tenant label says.
  const reconciler = config.tenantServiceAccount
    ? { name: "reconciler", variable: { value: config.tenantServiceAccount } }
    : { name: "reconciler", apiCall: { urlPath: "/api/v1/namespaces/{{ request.namespace }}", jmesPath: `metadata.labels.${label} || ''` } };
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
type Validation = { expression: string; message: string; messageExpression?: string; reason?: string };
type Named = { name: string; expression: string };

const NOT_FLUX_SYSTEM = {
  matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: [FLUX_NAMESPACE] }],
};
const TENANT_NAMESPACES = { matchExpressions: [{ key: TENANT_LABEL, operator: "Exists" }] };

/**
 * Flux's controllers that write to tenant sources on their own account: source-controller (its finalizer, removed when a
 * source is deleted), notification-controller (a Receiver's reconcile request) and image-reflector-controller (image
 * repositories' finalizer). Never judged by the allowlist: a source the allowlist no longer admits must still go.
 */
export const FLUX_SOURCE_WRITERS = ["source-controller", "notification-controller", "image-reflector-controller"].map(
  (c) => `system:serviceaccount:${FLUX_NAMESPACE}:${c}`,
);

/** A matchCondition leaving Flux's own writes to tenant sources alone (see FLUX_SOURCE_WRITERS). */
const NOT_FLUX_ITSELF: Named = {
  name: "not-flux-itself",
  expression: `!(request.userInfo.username in [${FLUX_SOURCE_WRITERS.map((u) => celString(u)).join(", ")}])`,
};

/** One ValidatingAdmissionPolicy and its binding. */
interface PolicySpec {
  readonly name: string;
  readonly rules: Rule[];
  /** The namespaces judged: selected on the policy's match constraints, or (upstream's way) on the binding. */
  readonly namespaces?: { readonly selector: object; readonly on: "policy" | "binding" };
  readonly validations: Validation[];
  readonly actions: string[];
  /** A ConfigMap in flux-system read as `params` (through `variables`); a missing one denies. */
  readonly param?: string;
  /** Narrow what the policy judges beyond its rules and namespaces. */
  readonly matchConditions?: Named[];
  /** Values its validations share. */
  readonly variables?: Named[];
  /** Upstream's description annotations, of the policy and of its binding. */
  readonly descriptions?: { readonly policy: string; readonly binding: string };
}

function described(description: string | undefined): object {
  return description ? { annotations: { "policy.toolkit.fluxcd.io/description": description } } : {};
}

function policyPair(p: PolicySpec): KubeObject[] {
  const onPolicy = p.namespaces?.on === "policy" ? { namespaceSelector: p.namespaces.selector } : {};
  const onBinding = p.namespaces?.on === "binding" ? { matchResources: { namespaceSelector: p.namespaces.selector } } : {};
  return [
    {
      apiVersion: API.admission,
      kind: "ValidatingAdmissionPolicy",
      metadata: { name: p.name, ...described(p.descriptions?.policy) },
      spec: {
        failurePolicy: "Fail",
        ...(p.param ? { paramKind: { apiVersion: "v1", kind: "ConfigMap" } } : {}),
        matchConstraints: { ...onPolicy, resourceRules: p.rules },
        ...(p.matchConditions ? { matchConditions: p.matchConditions } : {}),
        ...(p.variables && p.variables.length > 0 ? { variables: p.variables } : {}),
        validations: p.validations,
      },
    },
    {
      apiVersion: API.admission,
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: { name: p.name, ...described(p.descriptions?.binding) },
      spec: {
        policyName: p.name,
        validationActions: p.actions,
        ...(p.param ? { paramRef: { name: p.param, namespace: FLUX_NAMESPACE, parameterNotFoundAction: "Deny" } } : {}),
        ...onBinding,
      },
    },
  ];
}

/** Whether an allowlisted source (its URL, or an image read as oci://<image>) starts at a prefix's path boundary (`sourceAdmitted`). */
const SOURCE_ADMITTED = "variables.prefixes.exists(p, (variables.url.endsWith('/') ? variables.url : variables.url + '/').startsWith(p))";
/** A source's URL as the allowlist reads it. */
const SOURCE_URL: Named = { name: "url", expression: "has(object.spec.url) ? object.spec.url : 'oci://' + object.spec.image" };
const ALLOWLIST_RULES: Rule[] = ALLOWLISTED_SOURCES.map((s) => ({ apiGroups: [s.group], apiVersions: ["*"], operations: WRITE, resources: [s.resource] }));

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
    ...policyPair({
      name: "restrict-tenant-sources",
      rules: ALLOWLIST_RULES,
      namespaces: { selector: NOT_FLUX_SYSTEM, on: "policy" },
      validations: [
        {
          expression: SOURCE_ADMITTED,
          messageExpression:
            "object.kind + ' source ' + variables.url + ' is outside the allowlist: use a source under one of ' + variables.prefixes.join(', ')",
          message: sourceMessage(prefixes),
        },
      ],
      actions,
      param: ALLOWLIST_CONFIGMAP,
      matchConditions: [NOT_FLUX_ITSELF],
      variables: [SOURCE_URL, { name: "prefixes", expression: "params.data.prefixes.split('\\n').filter(p, p != '')" }],
    }),
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

/** The tenant's reconciler account in CEL: the one name every tenant's has, or its Namespace's tenant label (the tenant's name). */
function reconcilerCel(config: StackConfig): string {
  return config.tenantServiceAccount ? celString(config.tenantServiceAccount) : `namespaceObject.metadata.labels[${celString(TENANT_LABEL)}]`;
}

/**
 * The guarantees of both native layouts beyond the allowlist: no token of the tenant's reconciler, its Namespace and
 * guardrails the platform's. `namespaces` places the tenant selector as the layout does.
 */
function reconcilerTokens(config: StackConfig, name: string, on: "policy" | "binding", descriptions?: PolicySpec["descriptions"]): KubeObject[] {
  return policyPair({
    name,
    rules: [
      { apiGroups: [""], apiVersions: ["v1"], operations: WRITE, resources: ["secrets"] },
      { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["serviceaccounts/token"] },
    ],
    namespaces: { selector: TENANT_NAMESPACES, on },
    validations: [
      {
        expression: `request.resource.resource != 'secrets' || object.type != ${celString(SA_TOKEN_SECRET)} || !has(object.metadata.annotations) || !(${celString(SA_NAME_ANNOTATION)} in object.metadata.annotations) || object.metadata.annotations[${celString(SA_NAME_ANNOTATION)}] != variables.reconciler`,
        message: "a token Secret of the tenant's Flux reconciler service account is not allowed: its token would let any Pod act as the reconciler",
      },
      {
        expression: "request.subResource != 'token' || request.name != variables.reconciler",
        message: "tokens of the tenant's Flux reconciler service account are not issued: no one but Flux acts as the reconciler",
      },
    ],
    actions: ["Deny"],
    variables: [{ name: "reconciler", expression: reconcilerCel(config) }],
    descriptions,
  });
}

function tenantNamespaces(name: string, descriptions?: PolicySpec["descriptions"]): KubeObject[] {
  return policyPair({
    name,
    rules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["UPDATE", "DELETE"], resources: ["namespaces"] }],
    // Not a namespace selector: for a Namespace update it reads the new labels, so removing the tenant label would
    // take the Namespace out of the policy's reach. The labels it had before decide.
    validations: [
      {
        expression: PLATFORM_WRITER,
        message: "a tenant's Namespace is the platform's: only an account allowed to change namespaces cluster-wide may change or delete it",
        messageExpression: `'Namespace ' + oldObject.metadata.name + ' belongs to tenant ' + oldObject.metadata.labels[${celString(TENANT_LABEL)}] + ': only an account allowed to ' + (request.operation == 'DELETE' ? 'delete' : 'update') + ' namespaces cluster-wide may change or delete it, not one bound inside it'`,
      },
    ],
    actions: ["Deny"],
    matchConditions: [{ name: "tenant-namespace", expression: `has(oldObject.metadata.labels) && ${celString(TENANT_LABEL)} in oldObject.metadata.labels` }],
    descriptions,
  });
}

function tenantGuardrails(name: string, on: "policy" | "binding", descriptions?: PolicySpec["descriptions"]): KubeObject[] {
  return policyPair({
    name,
    rules: GUARDRAIL_RULES,
    namespaces: { selector: TENANT_NAMESPACES, on },
    validations: [
      {
        expression: PLATFORM_WRITER,
        message: "a tenant namespace's quota, limit range and network policies are the platform's: only an account allowed to change them cluster-wide may",
        messageExpression: `request.kind.kind + ' ' + (has(request.name) ? request.name : '(every one)') + ' in ' + request.namespace + ' is the platform\\'s: only an account allowed to change ' + request.resource.resource + ' cluster-wide may ' + (request.operation == 'DELETE' ? 'delete' : request.operation == 'CREATE' ? 'create' : 'change') + ' it, not one bound inside the namespace'`,
      },
    ],
    actions: ["Deny"],
    descriptions,
  });
}

/** Image automation's kinds, which upstream denies tenants in production. */
const IMAGE_AUTOMATION_RULE: Rule = {
  apiGroups: ["image.toolkit.fluxcd.io"],
  apiVersions: ["*"],
  operations: ["CREATE"],
  resources: ["imagerepositories", "imagepolicies", "imageupdateautomations"],
};

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
    "deny-bucket-sources.yaml": policyPair({
      name: "deny-bucket-sources",
      rules: [{ apiGroups: [FLUX_SOURCE_GROUP], apiVersions: ["*"], operations: WRITE, resources: ["buckets"] }],
      namespaces: { selector: NOT_FLUX_SYSTEM, on: "policy" },
      validations: [{ expression: "false", message: "Bucket sources are reserved for the platform (flux-system)" }],
      actions: ["Deny"],
    }),
    "deny-remote-clusters.yaml": policyPair({
      name: "deny-remote-clusters",
      rules: [
        { apiGroups: ["kustomize.toolkit.fluxcd.io"], apiVersions: ["*"], operations: WRITE, resources: ["kustomizations"] },
        { apiGroups: ["helm.toolkit.fluxcd.io"], apiVersions: ["*"], operations: WRITE, resources: ["helmreleases"] },
      ],
      namespaces: { selector: NOT_FLUX_SYSTEM, on: "policy" },
      validations: [{ expression: "!has(object.spec.kubeConfig)", message: ".spec.kubeConfig is not allowed: tenants reconcile into their own cluster only" }],
      actions: ["Deny"],
    }),
    "deny-reconciler-tokens.yaml": reconcilerTokens(config, "deny-reconciler-tokens", "policy"),
    "protect-tenant-namespaces.yaml": tenantNamespaces("protect-tenant-namespaces"),
    "protect-tenant-guardrails.yaml": tenantGuardrails("protect-tenant-guardrails", "policy"),
    "deny-reconciler-pods.yaml": policyPair({
      name: "deny-reconciler-pods",
      rules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"] }],
      namespaces: { selector: TENANT_NAMESPACES, on: "policy" },
      validations: [
        {
          expression: `!has(object.spec.serviceAccountName) || object.spec.serviceAccountName != ${reconcilerCel(config)}`,
          message: "Pods may not run as the tenant's Flux reconciler service account",
        },
      ],
      actions: ["Deny"],
    }),
    ...(config.policies.denyImageAutomation
      ? {
          "deny-image-automation.yaml": policyPair({
            name: "deny-image-automation",
            rules: [IMAGE_AUTOMATION_RULE],
            namespaces: { selector: TENANT_NAMESPACES, on: "policy" },
            validations: [
              { expression: "false", message: "image automation is the platform's: tenants may not create image repositories, policies or update automations" },
            ],
            actions: ["Deny"],
          }),
        }
      : {}),
  };
  files["restrict-tenant-sources.yaml"] = sourceAllowlistPolicy(prefixes, allowlistActions);
  const dir = INFRASTRUCTURE_DIRS.vapPolicies;
  const out: Record<string, string> = { [`${dir}/kustomization.yaml`]: kustomizeFile(Object.keys(files).sort()) };
  for (const [file, objects] of Object.entries(files)) out[`${dir}/${file}`] = toYamlDocuments(objects);
  return out;
}

/** Directories of upstream's 2026 layout: the shared policies and each environment's (its allowlist and extras). */
export const UPSTREAM_2026_DIRS = { base: "policies/base", environment: (env: string) => `policies/${env}` } as const;
/** Upstream's allowlist ConfigMap in flux-system and its key (one prefix a line). */
export const UPSTREAM_ALLOWLIST = { name: "flux-tenant-sources-allowlist", key: "allowedPrefixes" } as const;
/** Upstream's [Deny, Audit]: refused, and written to the audit log. */
const DENY_AUDIT = ["Deny", "Audit"];

function upstreamDescriptions(policy: string, binding: string): PolicySpec["descriptions"] {
  return { policy: `${policy}\n`, binding: `${binding}\n` };
}

/**
 * policies/base/ and policies/<env>/ as upstream lays them out since its 2026 move to admission policies, with upstream's
 * names (flux-tenant-*, the ConfigMap flux-tenant-sources-allowlist, bindings [Deny, Audit] on namespaces labelled
 * toolkit.fluxcd.io/tenant) and the same guarantees as the infrastructure layout. The differences from upstream's
 * files are deliberate and listed in the README.
 */
export function renderUpstream2026Policies(config: StackConfig): Record<string, string> {
  const onTenants = { selector: TENANT_NAMESPACES, on: "binding" as const };
  const sourcesActions = config.policies.validationFailureAction === "Enforce" ? DENY_AUDIT : ["Audit", "Warn"];
  const sa = config.tenantServiceAccount;
  const base: Record<string, KubeObject[]> = {
    "sources.yaml": policyPair({
      name: "flux-tenant-sources",
      rules: [
        { apiGroups: [FLUX_SOURCE_GROUP], apiVersions: ["v1"], operations: WRITE, resources: ["gitrepositories", "ocirepositories", "helmrepositories"] },
        { apiGroups: ["image.toolkit.fluxcd.io"], apiVersions: ["*"], operations: WRITE, resources: ["imagerepositories"] },
      ],
      namespaces: onTenants,
      validations: [
        {
          expression: SOURCE_ADMITTED,
          messageExpression: "'spec.url \"' + variables.url + '\" is not allowed. Permitted prefixes: ' + variables.prefixes.join(', ')",
          message: sourceMessage(config.policies.allowedSourcePrefixes),
          reason: "Forbidden",
        },
      ],
      actions: sourcesActions,
      param: UPSTREAM_ALLOWLIST.name,
      matchConditions: [NOT_FLUX_ITSELF],
      variables: [{ name: "prefixes", expression: `params.data['${UPSTREAM_ALLOWLIST.key}'].split('\\n').filter(p, p != '')` }, SOURCE_URL],
      descriptions: upstreamDescriptions(
        "Restrict Flux access to Git, OCI and Helm repositories,\nbased on an allowlist ConfigMap stored in the flux-system namespace.",
        "Bind the Flux source allowlist policy to all tenant namespaces.",
      ),
    }),
    "buckets.yaml": policyPair({
      name: "flux-tenant-buckets",
      rules: [{ apiGroups: [FLUX_SOURCE_GROUP], apiVersions: ["v1"], operations: ["CREATE"], resources: ["buckets"] }],
      namespaces: onTenants,
      validations: [{ expression: "false", message: "Bucket sources are not allowed in tenant namespaces", reason: "Forbidden" }],
      actions: DENY_AUDIT,
      descriptions: upstreamDescriptions("Deny Flux Bucket sources in tenant namespaces.", "Bind the Flux Bucket restriction policy to all tenant namespaces."),
    }),
    "kubeconfig.yaml": policyPair({
      name: "flux-tenant-kubeconfig",
      rules: [
        { apiGroups: ["kustomize.toolkit.fluxcd.io"], apiVersions: ["v1"], operations: WRITE, resources: ["kustomizations"] },
        { apiGroups: ["helm.toolkit.fluxcd.io"], apiVersions: ["v2"], operations: WRITE, resources: ["helmreleases"] },
      ],
      namespaces: onTenants,
      // Flux's field is spec.kubeConfig: upstream's spec.kubeconfig is never set on a stored object (pruned as unknown).
      validations: [{ expression: "!has(object.spec.kubeConfig)", message: "spec.kubeConfig is not allowed in tenant namespaces", reason: "Forbidden" }],
      actions: DENY_AUDIT,
      descriptions: upstreamDescriptions(
        "Deny Flux Kustomizations and HelmReleases that target a remote cluster\nvia spec.kubeConfig in tenant namespaces.",
        "Bind the Flux remote cluster restriction policy to all tenant namespaces.",
      ),
    }),
    "pods.yaml": policyPair({
      name: "flux-tenant-pods",
      rules: [{ apiGroups: [""], apiVersions: ["v1"], operations: WRITE, resources: ["pods"] }],
      namespaces: onTenants,
      validations: [
        {
          expression: `object.spec.serviceAccountName != ${reconcilerCel(config)}`,
          message: sa
            ? `pods in tenant namespaces cannot run under the '${sa}' ServiceAccount`
            : "pods in tenant namespaces cannot run under the tenant's Flux ServiceAccount",
          reason: "Forbidden",
        },
      ],
      actions: DENY_AUDIT,
      descriptions: upstreamDescriptions(
        "Deny pods from running under the Flux ServiceAccount,\nto prevent privilege escalation to namespace admin for tenant workloads.",
        "Bind the Flux SA pod restriction policy to all tenant namespaces.",
      ),
    }),
    "reconciler-tokens.yaml": reconcilerTokens(
      config,
      "flux-tenant-reconciler-tokens",
      "binding",
      upstreamDescriptions(
        "Deny tokens of the tenant's Flux ServiceAccount (token Secrets and TokenRequests),\nwhich would let any Pod act as the tenant's reconciler.",
        "Bind the Flux SA token restriction policy to all tenant namespaces.",
      ),
    ),
    "namespaces.yaml": tenantNamespaces(
      "flux-tenant-namespaces",
      upstreamDescriptions(
        "Keep tenant namespaces the platform's: only an account allowed to change\nnamespaces cluster-wide may relabel or delete one.",
        "Bind the tenant namespace protection policy (it selects namespaces by their labels before the request).",
      ),
    ),
    "guardrails.yaml": tenantGuardrails(
      "flux-tenant-guardrails",
      "binding",
      upstreamDescriptions(
        "Keep a tenant namespace's quota, limit range and network policies the platform's.",
        "Bind the tenant guardrail protection policy to all tenant namespaces.",
      ),
    ),
  };
  const envDir = UPSTREAM_2026_DIRS.environment(config.environment);
  const env: Record<string, KubeObject[]> = {
    "allowlist.yaml": [
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: UPSTREAM_ALLOWLIST.name, namespace: FLUX_NAMESPACE },
        data: { [UPSTREAM_ALLOWLIST.key]: config.policies.allowedSourcePrefixes.map((p) => `${p}\n`).join("") },
      },
    ],
    ...(config.policies.denyImageAutomation
      ? {
          "image-automation.yaml": policyPair({
            name: "flux-tenant-image-automation",
            rules: [IMAGE_AUTOMATION_RULE],
            namespaces: onTenants,
            validations: [{ expression: "false", message: "image automation resources are not allowed in tenant namespaces", reason: "Forbidden" }],
            actions: DENY_AUDIT,
            descriptions: upstreamDescriptions(
              "Deny Flux image automation resources in tenant namespaces.",
              "Bind the Flux image automation restriction policy to all tenant namespaces.",
            ),
          }),
        }
      : {}),
  };
  const out: Record<string, string> = {
    [`${UPSTREAM_2026_DIRS.base}/kustomization.yaml`]: kustomizeFile(Object.keys(base)),
    [`${envDir}/kustomization.yaml`]: toYaml({
      apiVersion: API.kustomizeConfig,
      kind: "Kustomization",
      resources: ["../base", ...Object.keys(env)],
      labels: [{ pairs: { "toolkit.fluxcd.io/role": "policy" } }],
    }),
  };
  for (const [file, objects] of Object.entries(base)) out[`${UPSTREAM_2026_DIRS.base}/${file}`] = toYamlDocuments(objects);
  for (const [file, objects] of Object.entries(env)) out[`${envDir}/${file}`] = toYamlDocuments(objects);
  return out;
}

/** Name of the policy and binding that keep the API server watching ConfigMap parameters (see paramsKeeper). */
export const PARAMS_KEEPER = "flux-multi-tenancy-params-keeper";

/**
 * A policy and binding that read a ConfigMap parameter and judge nothing, kept as long as the cluster lives.
 *
 * The API server watches a parameter kind only while some bound policy uses it. When the last one goes (a layout
 * move between the old policies' prune and the new ones' apply, a destroy and a later up), it stops the watch, and a
 * later policy with ConfigMap parameters is given the same stopped watch: ConfigMaps created or changed after that are
 * never seen ("no params found", or an old allowlist), until the API server restarts (kubernetes/kubernetes#133827;
 * read in k8s.io/apiserver v0.36.3's policy source: the shared informer factory never restarts an informer it started
 * once). While this binding exists the watch never stops.
 */
export function paramsKeeper(): KubeObject[] {
  return [
    {
      apiVersion: API.admission,
      kind: "ValidatingAdmissionPolicy",
      metadata: { name: PARAMS_KEEPER },
      spec: {
        failurePolicy: "Ignore",
        paramKind: { apiVersion: "v1", kind: "ConfigMap" },
        matchConstraints: { resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["configmaps"] }] },
        validations: [{ expression: "true" }],
      },
    },
    {
      apiVersion: API.admission,
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: { name: PARAMS_KEEPER },
      spec: {
        policyName: PARAMS_KEEPER,
        validationActions: ["Deny"],
        paramRef: { name: "kube-root-ca.crt", namespace: "kube-system", parameterNotFoundAction: "Allow" },
        // No namespace has this label: the binding judges nothing.
        matchResources: { namespaceSelector: { matchLabels: { [`${PARAMS_KEEPER}/never`]: "true" } } },
      },
    },
  ];
}
