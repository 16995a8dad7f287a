// A Flux controller's Deployment, as the API server holds it, turned into the host process the lab runs for it.
// The container's args and env are kept; only what a pod has and a host process lacks is translated, each in one place below.

/** The parts of a Deployment the translation reads. */
export interface DeploymentObject {
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly deletionTimestamp?: string };
  readonly spec?: {
    readonly replicas?: number;
    readonly template?: {
      readonly spec?: {
        readonly serviceAccountName?: string;
        readonly containers?: readonly Container[];
      };
    };
  };
}

interface Container {
  readonly args?: readonly string[];
  readonly env?: readonly EnvVar[];
  readonly ports?: readonly { readonly name?: string; readonly containerPort: number }[];
  readonly volumeMounts?: readonly { readonly name: string; readonly mountPath: string }[];
  readonly resources?: { readonly limits?: Readonly<Record<string, string>> };
}

interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: { readonly fieldRef?: { readonly fieldPath: string }; readonly resourceFieldRef?: { readonly resource: string } };
}

/**
 * Each named container port becomes a loopback port, set with the controller's own flag (in a
 * pod every controller has its own network namespace; on the host they share one).
 */
const PORT_FLAGS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  "source-controller": { http: "--storage-addr" },
  "notification-controller": { http: "--events-addr", "http-webhook": "--receiverAddr" },
  "source-watcher": { http: "--storage-addr" },
};

/**
 * Flags whose default (not set in the Deployment) is a path on one of the pod's volumes: given explicitly, moved onto
 * the host like any path, unless the args set them (image-reflector-controller keeps its tag database at `/data`).
 */
const PATH_DEFAULTS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  "image-reflector-controller": { "--storage-path": "/data" },
};
const COMMON_PORT_FLAGS: Readonly<Record<string, string>> = { "http-prom": "--metrics-addr", healthz: "--health-addr" };

/**
 * Flags dropped, with why: leader election needs the pod's namespace file, which a host process
 * lacks (controller-runtime refuses to guess), and the lab runs one process per Deployment anyway.
 */
const DROPPED_FLAGS = ["--enable-leader-election"];

/** Loopback ports for each controller's named container ports, chosen by the lab. */
export type ControllerPorts = Readonly<Record<string, Readonly<Record<string, number>>>>;

export interface HostProcess {
  readonly name: string;
  readonly args: string[];
  readonly env: Record<string, string>;
  /** The ServiceAccount the process authenticates as (its token is the lab's doing). */
  readonly serviceAccount: string;
  readonly namespace: string;
  /** Host directories standing in for the pod's volumes, by mount path. */
  readonly volumes: Record<string, string>;
}

/** Whether the lab should run a process for this Deployment now. */
export function wanted(d: DeploymentObject): boolean {
  return !d.metadata.deletionTimestamp && (d.spec?.replicas ?? 1) > 0 && (d.spec?.template?.spec?.containers?.length ?? 0) > 0;
}

/** Kubernetes' `$(VAR)` expansion of args, from the container's env ( `$$` escapes). */
function expand(arg: string, env: Record<string, string>): string {
  return arg.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string | undefined) => (name === undefined ? "$" : (env[name] ?? m)));
}

const QUANTITY = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|K|M|G|T|m)?$/;
const FACTORS: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, K: 1e3, M: 1e6, G: 1e9, T: 1e12, m: 1e-3 };

/** A resource quantity as the Downward API gives it (bytes for memory, whole cores rounded up for cpu). */
export function quantity(q: string, resource: string): string | undefined {
  const m = QUANTITY.exec(q);
  if (!m) return undefined;
  const value = Number(m[1]) * (m[2] ? FACTORS[m[2]] : 1);
  return String(resource.endsWith("cpu") ? Math.ceil(value) : Math.round(value));
}

/** Replaces in-cluster Service names of controllers the lab runs (`name.ns.svc.cluster.local.`) with their loopback address. */
function serviceAddress(value: string, ports: ControllerPorts): string {
  return value.replace(/\b([a-z0-9-]+)\.[a-z0-9-]+\.svc\.cluster\.local\.?(?::\d+)?/g, (m, name: string) => {
    const http = ports[name]?.http;
    return http ? `127.0.0.1:${http}` : m;
  });
}

function flagName(arg: string): string {
  return arg.split("=")[0];
}

/**
 * The host process for a controller's Deployment: the first container's args and env as the API
 * server holds them, translated for a process beside the others on the host.
 */
export function hostProcess(d: DeploymentObject, ports: ControllerPorts, volumeRoot: string): HostProcess {
  const name = d.metadata.name;
  const namespace = d.metadata.namespace ?? "default";
  const container = d.spec?.template?.spec?.containers?.[0] ?? {};
  const volumes: Record<string, string> = {};
  for (const m of container.volumeMounts ?? []) volumes[m.mountPath] = `${volumeRoot}/${m.name}`;
  // A path under a mount moves to that mount's directory, once (the deepest mount wins, as in a container).
  const mounts = Object.entries(volumes).sort(([a], [b]) => b.length - a.length);
  const onHost = (value: string) => {
    const m = mounts.find(([mount]) => value === mount || value.startsWith(`${mount}/`));
    return m ? m[1] + value.slice(m[0].length) : value;
  };
  const onHostArg = (arg: string) => {
    const eq = arg.indexOf("=");
    return arg.startsWith("--") && eq > 0 ? arg.slice(0, eq + 1) + onHost(arg.slice(eq + 1)) : onHost(arg);
  };

  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = onHost(e.value);
    else if (e.valueFrom?.fieldRef?.fieldPath === "metadata.namespace") env[e.name] = namespace;
    else if (e.valueFrom?.fieldRef?.fieldPath === "metadata.name") env[e.name] = `${name}-lab`;
    else if (e.valueFrom?.resourceFieldRef) {
      const resource = e.valueFrom.resourceFieldRef.resource;
      const limit = container.resources?.limits?.[resource.replace(/^limits\./, "")];
      const v = limit && quantity(limit, resource);
      if (v) env[e.name] = v;
    }
  }
  if (volumes["/tmp"]) env.TMPDIR = volumes["/tmp"];

  const portFlags = { ...COMMON_PORT_FLAGS, ...PORT_FLAGS[name] };
  const overridden = new Set<string>();
  const extra: string[] = [];
  for (const p of container.ports ?? []) {
    const flag = p.name ? portFlags[p.name] : undefined;
    const port = p.name ? ports[name]?.[p.name] : undefined;
    if (flag && port) {
      overridden.add(flag);
      extra.push(`${flag}=127.0.0.1:${port}`);
    }
  }
  const given = new Set((container.args ?? []).map(flagName));
  for (const [flag, value] of Object.entries(PATH_DEFAULTS[name] ?? {})) if (!given.has(flag)) extra.push(`${flag}=${onHost(value)}`);
  const args = (container.args ?? [])
    .map((a) => expand(a, env))
    .filter((a) => !DROPPED_FLAGS.includes(flagName(a)) && !overridden.has(flagName(a)))
    .map((a) => onHostArg(serviceAddress(a, ports)));
  return { name, namespace, args: [...args, ...extra], env, serviceAccount: d.spec?.template?.spec?.serviceAccountName ?? "default", volumes };
}
