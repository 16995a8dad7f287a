// The lab tenants' repositories: team-a with plain manifests, team-b with a HelmRelease of a chart kept in its own repository.
import { toYaml, toYamlDocuments } from "../../manifests/yaml";

/** What every tenant object carries in the lab. */
const LABELS = { "app.kubernetes.io/part-of": "flux-lab" };

/** team-a: a ConfigMap, a Deployment and its Service, under the tenant path `./<env>`. */
export function plainTenantFiles(namespace: string, env: string, greeting = "hello"): Record<string, string> {
  return {
    [`${env}/kustomization.yaml`]: toYaml({ apiVersion: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization", resources: ["web.yaml"] }),
    [`${env}/web.yaml`]: toYamlDocuments([
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "web-config", namespace, labels: LABELS }, data: { greeting } },
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "web", namespace, labels: LABELS },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: "web" } },
          template: {
            metadata: { labels: { app: "web" } },
            spec: { containers: [{ name: "web", image: "registry.invalid/web:1.0.0", ports: [{ containerPort: 8080 }] }] },
          },
        },
      },
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "web", namespace, labels: LABELS },
        spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] },
      },
    ]),
  };
}

export const CHART = { name: "hello", version: "0.1.0" };

/** The chart team-b installs: one Deployment named after the release. */
export const CHART_FILES: Record<string, string> = {
  "Chart.yaml": toYaml({ apiVersion: "v2", name: CHART.name, version: CHART.version, description: "The lab's chart" }),
  "values.yaml": toYaml({ replicas: 1, image: "registry.invalid/hello:0.1.0" }),
  "templates/deployment.yaml": [
    "apiVersion: apps/v1",
    "kind: Deployment",
    "metadata:",
    "  name: {{ .Release.Name }}",
    "  labels:",
    "    app.kubernetes.io/instance: {{ .Release.Name }}",
    "spec:",
    "  replicas: {{ .Values.replicas }}",
    "  selector:",
    "    matchLabels:",
    "      app.kubernetes.io/instance: {{ .Release.Name }}",
    "  template:",
    "    metadata:",
    "      labels:",
    "        app.kubernetes.io/instance: {{ .Release.Name }}",
    "    spec:",
    "      containers:",
    "        - name: hello",
    "          image: {{ .Values.image }}",
    "",
  ].join("\n"),
};

/**
 * team-b: its chart in its own repository (charts/hello) and a HelmRelease of it, run as the tenant's
 * account. The chart comes from the tenant's GitRepository `source`: a Helm repository would have to be
 * on an allowlisted https:// or oci:// host, which the lab (plain HTTP on loopback) does not serve.
 */
export function helmTenantFiles(namespace: string, env: string, source: string, serviceAccount: string): Record<string, string> {
  const chart = Object.fromEntries(Object.entries(CHART_FILES).map(([f, text]) => [`charts/${CHART.name}/${f}`, text]));
  return {
    ...chart,
    [`${env}/kustomization.yaml`]: toYaml({ apiVersion: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization", resources: ["release.yaml"] }),
    [`${env}/release.yaml`]: toYamlDocuments([
      {
        apiVersion: "helm.toolkit.fluxcd.io/v2",
        kind: "HelmRelease",
        metadata: { name: "hello", namespace, labels: LABELS },
        spec: {
          interval: "1m",
          serviceAccountName: serviceAccount,
          chart: { spec: { chart: `./charts/${CHART.name}`, sourceRef: { kind: "GitRepository", name: source } } },
          values: { replicas: 2 },
        },
      },
    ]),
  };
}
