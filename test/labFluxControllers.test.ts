// The lab's translation of a Flux Deployment into the host process it runs (lab/fluxControllers.ts), offline.
import { strict as assert } from "assert";
import * as fs from "fs";
import { type DeploymentObject, hostProcess, quantity, wanted } from "../lab/fluxControllers";
import { bootstrapObjects } from "../manifests/fluxBuild";
import { fluxFixture, render, requirePath, stackConfig } from "./helpers";
import { renderGotkComponents } from "../manifests/fluxInstall";
import { FLUX_COMPONENTS } from "../manifests/labels";

const PORTS = {
  "source-controller": { http: 9001, "http-prom": 9002, healthz: 9003 },
  "notification-controller": { http: 9011, "http-webhook": 9012, "http-prom": 9013, healthz: 9014 },
};

const SOURCE: DeploymentObject = {
  metadata: { name: "source-controller", namespace: "flux-system" },
  spec: {
    template: {
      spec: {
        serviceAccountName: "source-controller",
        containers: [
          {
            args: [
              "--events-addr=http://notification-controller.$(RUNTIME_NAMESPACE).svc.cluster.local./",
              "--watch-all-namespaces=true",
              "--enable-leader-election",
              "--storage-path=/data",
              "--storage-adv-addr=source-controller.$(RUNTIME_NAMESPACE).svc.cluster.local.",
              "--metrics-addr=:8080",
              "--price=$$(NOT_EXPANDED)",
            ],
            env: [
              { name: "RUNTIME_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
              { name: "TUF_ROOT", value: "/tmp/.sigstore" },
              { name: "GOMEMLIMIT", valueFrom: { resourceFieldRef: { resource: "limits.memory" } } },
            ],
            ports: [
              { name: "http", containerPort: 9090 },
              { name: "http-prom", containerPort: 8080 },
              { name: "healthz", containerPort: 9440 },
            ],
            volumeMounts: [
              { name: "data", mountPath: "/data" },
              { name: "tmp", mountPath: "/tmp" },
            ],
            resources: { limits: { memory: "1Gi", cpu: "1000m" } },
          },
        ],
      },
    },
  },
};

describe("lab: a Flux Deployment as a host process", () => {
  it("keeps the container's args, expands $(VAR), and moves what a pod has to the host: ports, Service names, volumes", () => {
    const p = hostProcess(SOURCE, PORTS, "/lab/source-controller/volumes");
    assert.deepEqual(p.args, [
      "--events-addr=http://127.0.0.1:9011/",
      "--watch-all-namespaces=true",
      "--storage-path=/lab/source-controller/volumes/data",
      "--storage-adv-addr=127.0.0.1:9001",
      "--price=$(NOT_EXPANDED)",
      "--storage-addr=127.0.0.1:9001",
      "--metrics-addr=127.0.0.1:9002",
      "--health-addr=127.0.0.1:9003",
    ]);
    assert.deepEqual(p.env, {
      RUNTIME_NAMESPACE: "flux-system",
      TUF_ROOT: "/lab/source-controller/volumes/tmp/.sigstore",
      GOMEMLIMIT: "1073741824",
      TMPDIR: "/lab/source-controller/volumes/tmp",
    });
    assert.equal(p.serviceAccount, "source-controller");
    assert.deepEqual(p.volumes, { "/data": "/lab/source-controller/volumes/data", "/tmp": "/lab/source-controller/volumes/tmp" });
  });

  it("moves a path once, even when the host directory lies under another mount's path (a lab under /tmp)", () => {
    const p = hostProcess(SOURCE, PORTS, "/tmp/lab/volumes");
    assert.ok(p.args.includes("--storage-path=/tmp/lab/volumes/data"), p.args.join(" "));
    assert.equal(p.env.TUF_ROOT, "/tmp/lab/volumes/tmp/.sigstore");
    assert.equal(p.env.TMPDIR, "/tmp/lab/volumes/tmp");
  });

  it("runs a process only for a live Deployment with replicas", () => {
    assert.equal(wanted(SOURCE), true);
    assert.equal(wanted({ ...SOURCE, spec: { ...SOURCE.spec, replicas: 0 } }), false);
    assert.equal(wanted({ ...SOURCE, metadata: { ...SOURCE.metadata, deletionTimestamp: "2026-11-25T00:00:00Z" } }), false);
  });

  it("reads resource quantities as the Downward API gives them", () => {
    assert.equal(quantity("1Gi", "limits.memory"), "1073741824");
    assert.equal(quantity("512Mi", "limits.memory"), "536870912");
    assert.equal(quantity("1G", "limits.memory"), "1000000000");
    assert.equal(quantity("500m", "limits.cpu"), "1");
    assert.equal(quantity("2", "limits.cpu"), "2");
    assert.equal(quantity("lots", "limits.memory"), undefined);
  });

  it("for Flux v2.9.4 with the lockdown: every argument kept but leader election, nothing left pointing into a pod", async function () {
    const file = requirePath(this, fluxFixture("gotk-components-v2.9.4.yaml"), "the Flux v2.9.4 fixture");
    const config = await stackConfig("staging");
    const text = renderGotkComponents(fs.readFileSync(file, "utf8"), { version: "v2.9.4", components: [...FLUX_COMPONENTS], source: file, key: "test" });
    const deployments = bootstrapObjects(config, text).components.filter((o) => o.kind === "Deployment") as unknown as DeploymentObject[];
    assert.equal(deployments.length, 4);
    const ports: Record<string, Record<string, number>> = Object.fromEntries(
      FLUX_COMPONENTS.map((c, i) => [c, { http: 9100 + i * 10, "http-webhook": 9101 + i * 10, "http-prom": 9102 + i * 10, healthz: 9103 + i * 10 }]),
    );
    for (const d of deployments) {
      const container = d.spec!.template!.spec!.containers![0];
      const p = hostProcess(d, ports, `/lab/${d.metadata.name}`);
      const flag = (a: string) => a.split("=")[0];
      const kept = (container.args ?? []).filter((a) => flag(a) !== "--enable-leader-election").map(flag);
      assert.deepEqual(
        kept.filter((f) => !p.args.map(flag).includes(f)),
        [],
        `${d.metadata.name} keeps every flag of its Deployment`,
      );
      assert.ok(!p.args.some((a) => a.startsWith("--enable-leader-election")), `${d.metadata.name}: leader election dropped`);
      assert.ok(!p.args.some((a) => /svc\.cluster\.local|\$\(|=\/(data|tmp)\b|=:\d+/.test(a)), `${d.metadata.name}: ${p.args.join(" ")}`);
      for (const port of container.ports ?? []) {
        assert.ok(
          p.args.some((a) => a.endsWith(`=127.0.0.1:${ports[d.metadata.name][port.name!]}`)),
          `${d.metadata.name}: port ${port.name} is on loopback`,
        );
      }
    }
    const lockdown = (name: string) =>
      hostProcess(
        deployments.find((d) => d.metadata.name === name)!,
        ports,
        "/lab",
      ).args;
    assert.ok(lockdown("kustomize-controller").includes("--no-remote-bases=true"));
    for (const c of ["kustomize-controller", "helm-controller", "notification-controller"])
      assert.ok(lockdown(c).includes("--no-cross-namespace-refs=true"), c);
  });

  it("a path flag left at its default inside a volume is given, moved onto the host (image-reflector-controller's /data)", () => {
    const reflector = (args: string[]): DeploymentObject => ({
      metadata: { name: "image-reflector-controller", namespace: "flux-system" },
      spec: { template: { spec: { containers: [{ args, volumeMounts: [{ name: "data", mountPath: "/data" }] }] } } },
    });
    assert.ok(hostProcess(reflector(["--log-level=info"]), {}, "/lab/irc").args.includes("--storage-path=/lab/irc/data"));
    const set = hostProcess(reflector(["--storage-path=/data/tags"]), {}, "/lab/irc").args;
    assert.deepEqual(
      set.filter((a) => a.startsWith("--storage-path")),
      ["--storage-path=/lab/irc/data/tags"],
    );
  });

  it("a stack rendered with the synthetic manifest gives a process per Deployment too", async () => {
    const config = await stackConfig("staging");
    const tree = render(config);
    const deployments = bootstrapObjects(config, tree["clusters/staging/flux-system/gotk-components.yaml"]).components.filter((o) => o.kind === "Deployment");
    for (const d of deployments) assert.ok(hostProcess(d as unknown as DeploymentObject, {}, "/lab").args.includes("--watch-all-namespaces=true"));
  });
});
