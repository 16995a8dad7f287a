// tenants/base/<tenant>/ (shared by every environment) and tenants/<env>/ (this environment's overlay).
import { createHash } from "crypto";
import type { StackConfig, TenantConfig } from "../config";
import { API, TENANT_LABEL } from "./labels";
import { type KubeObject, toYaml, toYamlDocuments } from "./yaml";

/** Interval of a tenant's GitRepository and Kustomization, as in the upstream example. */
const TENANT_SOURCE_INTERVAL = "1m";
const TENANT_SYNC_INTERVAL = "5m";

export const TENANTS_BASE_DIR = "tenants/base";

/** Name of the Secret in the tenant namespace that holds the deploy key Flux clones with. */
export function tenantGitSecretName(tenant: TenantConfig): string {
  return `${tenant.name}-git`;
}

/** The URL Flux clones the tenant repository from, and whether it needs the deploy-key Secret. */
export function tenantSource(tenant: TenantConfig): { url: string; secretName?: string } {
  const repo = tenant.repository;
  if (repo.type === "github") return { url: repo.url, secretName: tenantGitSecretName(tenant) };
  return repo.deployKey ? { url: repo.url, secretName: tenantGitSecretName(tenant) } : { url: repo.url };
}

/** The RoleBinding that makes a tenant's reconciler admin of its namespace (upstream's name). */
export const TENANT_ROLE_BINDING = "gotk-reconciler";

/**
 * Flux leaves these to the program's goodbye when a tenant leaves the fleet: pruned with the rest, the account and its
 * RoleBinding could go before the tenant's Kustomization has pruned what it applied as them (flux2 #997).
 */
const LEFT_TO_THE_GOODBYE = { "kustomize.toolkit.fluxcd.io/prune": "disabled" };

/** Namespace, reconciler ServiceAccount and its namespace-scoped admin RoleBinding. */
export function tenantRbacObjects(tenant: TenantConfig, serviceAccount = tenant.name): KubeObject[] {
  const labels = { [TENANT_LABEL]: tenant.name };
  const annotations = LEFT_TO_THE_GOODBYE;
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { labels, annotations, name: tenant.namespace } },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { labels, annotations, name: serviceAccount, namespace: tenant.namespace } },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { labels, annotations, name: TENANT_ROLE_BINDING, namespace: tenant.namespace },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
      subjects: [
        { kind: "User", name: `gotk:${tenant.namespace}:reconciler` },
        { kind: "ServiceAccount", name: serviceAccount, namespace: tenant.namespace },
      ],
    },
  ];
}

/** The tenant's GitRepository and the Kustomization that impersonates the tenant SA. */
export function tenantSyncObjects(tenant: TenantConfig, serviceAccount = tenant.name): KubeObject[] {
  const source = tenantSource(tenant);
  return [
    {
      apiVersion: API.source,
      kind: "GitRepository",
      metadata: { name: tenant.name, namespace: tenant.namespace },
      spec: {
        interval: TENANT_SOURCE_INTERVAL,
        url: source.url,
        ref: { branch: tenant.branch },
        ...(source.secretName ? { secretRef: { name: source.secretName } } : {}),
      },
    },
    {
      apiVersion: API.kustomization,
      kind: "Kustomization",
      metadata: { name: tenant.name, namespace: tenant.namespace },
      spec: {
        serviceAccountName: serviceAccount,
        interval: TENANT_SYNC_INTERVAL,
        sourceRef: { kind: "GitRepository", name: tenant.name },
        prune: true,
      },
    },
  ];
}

/**
 * tenants/base/<tenant>/: shared by every environment, so it holds only what names the tenant
 * (name, namespace, repository, branch); the environment's path lives in its overlay.
 */
export function renderTenantBase(tenant: TenantConfig, serviceAccount = tenant.name): Record<string, string> {
  const dir = `${TENANTS_BASE_DIR}/${tenant.name}`;
  return {
    [`${dir}/kustomization.yaml`]: toYaml({
      apiVersion: API.kustomizeConfig,
      kind: "Kustomization",
      namespace: tenant.namespace,
      resources: ["rbac.yaml", "sync.yaml"],
    }),
    [`${dir}/rbac.yaml`]: toYamlDocuments(tenantRbacObjects(tenant, serviceAccount)),
    [`${dir}/sync.yaml`]: toYamlDocuments(tenantSyncObjects(tenant, serviceAccount)),
  };
}

/** Labels of the platform's objects in a tenant namespace. */
function guardrailLabels(tenant: TenantConfig): Record<string, string> {
  return { [TENANT_LABEL]: tenant.name, "app.kubernetes.io/managed-by": "flux-multi-tenancy" };
}

/** The Namespace's Pod Security labels: the tenant's level enforced, restricted warned and audited. */
export function tenantNamespacePatch(tenant: TenantConfig): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name: tenant.namespace,
      labels: {
        "pod-security.kubernetes.io/enforce": tenant.features.podSecurity,
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
      },
    },
  };
}

/** The guardrails of a tenant namespace that are objects: its quota, its limit range, its network policy (none when unset). */
export function tenantGuardrails(tenant: TenantConfig): KubeObject[] {
  const f = tenant.features;
  const metadata = (name: string) => ({ name, namespace: tenant.namespace, labels: guardrailLabels(tenant) });
  const out: KubeObject[] = [];
  if (Object.keys(f.resourceQuota).length > 0) {
    out.push({ apiVersion: "v1", kind: "ResourceQuota", metadata: metadata("tenant-quota"), spec: { hard: { ...f.resourceQuota } } });
  }
  const limits = Object.fromEntries(Object.entries(f.limitRange).filter(([, v]) => Object.keys(v).length > 0));
  if (Object.keys(limits).length > 0) {
    out.push({ apiVersion: "v1", kind: "LimitRange", metadata: metadata("tenant-limits"), spec: { limits: [{ type: "Container", ...limits }] } });
  }
  if (f.networkPolicy.mode === "default-deny") {
    const sameNamespace = { podSelector: {} };
    const namespaces = f.networkPolicy.allowNamespaces.map((ns) => ({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } } }));
    const cidrs = f.networkPolicy.allowCidrs.map((cidr) => ({ ipBlock: { cidr } }));
    const dns = {
      to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
      ports: [
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 53 },
      ],
    };
    out.push({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: metadata("tenant-default-deny"),
      spec: {
        podSelector: {},
        policyTypes: ["Ingress", "Egress"],
        ingress: [{ from: [sameNamespace, ...namespaces] }],
        egress: [{ to: [sameNamespace, ...namespaces, ...cidrs] }, dns],
      },
    });
  }
  return out;
}

/** Names of the platform's objects in a tenant namespace beside its guardrails (the Secrets the program makes, never Git). */
export const TENANT_OBJECTS = {
  notifications: "tenant-notifications",
  receiver: "tenant-receiver",
  sopsSecret: "sops-age",
} as const;

/** The data of the Secret `sops-age`: kustomize-controller decrypts with every `.agekey` entry (the key before a rotation too). */
export function sopsSecretData(identity: string, previousIdentity: string): Record<string, string> {
  return { "age.agekey": `${identity}\n`, ...(previousIdentity ? { "previous.agekey": `${previousIdentity}\n` } : {}) };
}

/** The data of the Secret `tenant-notifications`, in the keys a Flux Provider reads: address, token, ca.crt. */
export function notificationSecretData(secret: { address: string; token?: string }, caCert: string): Record<string, string> {
  return { address: secret.address, ...(secret.token ? { token: secret.token } : {}), ...(caCert ? { "ca.crt": caCert } : {}) };
}

/** Flux kinds of the tenant's own whose events the platform's Alert sends. */
const ALERT_SOURCES = ["GitRepository", "OCIRepository", "HelmRepository", "HelmChart", "Bucket", "Kustomization", "HelmRelease"];

/** The tenant's notifications: a Flux Provider reading its address and token from the Secret the program makes, and an Alert on its own objects. */
export function tenantNotifications(tenant: TenantConfig): KubeObject[] {
  const n = tenant.features.notifications;
  if (n.type === "none") return [];
  const metadata = { name: TENANT_OBJECTS.notifications, namespace: tenant.namespace, labels: guardrailLabels(tenant) };
  return [
    {
      apiVersion: API.notificationProvider,
      kind: "Provider",
      metadata,
      spec: {
        type: n.type,
        ...(n.channel !== "" ? { channel: n.channel } : {}),
        secretRef: { name: TENANT_OBJECTS.notifications },
        ...(n.caCert !== "" ? { certSecretRef: { name: TENANT_OBJECTS.notifications } } : {}),
      },
    },
    {
      apiVersion: API.notificationProvider,
      kind: "Alert",
      metadata,
      spec: {
        providerRef: { name: TENANT_OBJECTS.notifications },
        eventSeverity: n.events === "all" ? "info" : "error",
        eventSources: ALERT_SOURCES.map((kind) => ({ kind, name: "*" })),
      },
    },
  ];
}

/** The Receiver type for a repository: GitHub's own (signed deliveries) on GitHub, generic (the path is the secret) elsewhere. */
export function receiverType(tenant: TenantConfig): "github" | "generic" {
  return tenant.repository.type === "github" ? "github" : "generic";
}

/** A Flux Receiver that asks the tenant's GitRepository to fetch when its Git host calls it (push events). */
export function tenantReceiver(tenant: TenantConfig): KubeObject[] {
  if (!tenant.features.receiver) return [];
  return [receiverObject(TENANT_OBJECTS.receiver, tenant.namespace, receiverType(tenant), tenant.name, guardrailLabels(tenant))];
}

export function receiverObject(name: string, namespace: string, type: "github" | "generic", source: string, labels: Record<string, string>): KubeObject {
  return {
    apiVersion: API.notificationReceiver,
    kind: "Receiver",
    metadata: { name, namespace, labels },
    spec: {
      type,
      ...(type === "github" ? { events: ["ping", "push"] } : {}),
      resources: [{ apiVersion: API.source, kind: "GitRepository", name: source }],
      secretRef: { name },
    },
  };
}

/** Flux's webhook path of a Receiver: /hook/ and the SHA-256 of its token, name and namespace (notification-controller's own rule). */
export function receiverWebhookPath(token: string, name: string, namespace: string): string {
  return `/hook/${createHash("sha256")
    .update(token + name + namespace)
    .digest("hex")}`;
}

/**
 * tenants/<env>/: every tenant's base, each patched with this environment's path (and SOPS decryption with its own key)
 * and its namespace's Pod Security level, with the platform's objects beside it: its guardrails
 * (`<tenant>-guardrails.yaml`), notifications and Receiver. They are this environment's, so staging and production may
 * differ; Flux applies them as the platform, and the policies keep the tenant off the guardrails.
 */
export function renderTenantOverlay(config: StackConfig): Record<string, string> {
  const dir = `tenants/${config.environment}`;
  const extras = config.tenants.flatMap((t) =>
    (
      [
        ["guardrails", tenantGuardrails(t)],
        ["notifications", tenantNotifications(t)],
        ["receiver", tenantReceiver(t)],
      ] as const
    ).flatMap(([kind, objects]) => (objects.length > 0 ? [{ file: `${t.name}-${kind}.yaml`, objects }] : [])),
  );
  const files: Record<string, string> = {
    [`${dir}/kustomization.yaml`]: toYaml({
      apiVersion: API.kustomizeConfig,
      kind: "Kustomization",
      resources: [...config.tenants.map((t) => `../base/${t.name}`), ...extras.map((e) => e.file)],
      ...(config.tenants.length > 0
        ? { patches: config.tenants.flatMap((t) => [{ path: `${t.name}-patch.yaml` }, { path: `${t.name}-namespace.yaml` }]) }
        : {}),
    }),
  };
  for (const t of config.tenants) {
    files[`${dir}/${t.name}-patch.yaml`] = toYaml({
      apiVersion: API.kustomization,
      kind: "Kustomization",
      metadata: { name: t.name, namespace: t.namespace },
      spec: {
        path: t.path,
        ...(t.features.sops ? { decryption: { provider: "sops", secretRef: { name: TENANT_OBJECTS.sopsSecret } } } : {}),
      },
    });
    files[`${dir}/${t.name}-namespace.yaml`] = toYaml(tenantNamespacePatch(t));
  }
  for (const e of extras) files[`${dir}/${e.file}`] = toYamlDocuments(e.objects);
  return files;
}
