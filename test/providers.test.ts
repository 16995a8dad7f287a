// The cluster-side dynamic providers' logic, against a scripted kubectl and fake kind/kubectl executables.
import { strict as assert } from "assert";
import { createHash } from "crypto";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { clusterProbeProvider } from "../components/providers/clusterProbe";
import { kindClusterIdentity, kindClusterProvider, kindConfig } from "../components/providers/kindCluster";
import {
  fluxInstallProvider,
  type FluxInstallInputs,
  fluxReadyProvider,
  type FluxReadyOutputs,
  fluxSyncProvider,
  pathChangeFailure,
  readiness,
  uninstallFlux,
  uninstallFromCluster,
  waitReady,
  waitReadyInOrder,
  recountStuckQuotas,
} from "../components/providers/flux";
import { CommandError } from "../components/providers/exec";
import type { Kubectl, WatchEvent } from "../components/providers/kubectl";
import { bootstrapObjects, GITHUB_KNOWN_HOSTS, type KubeObject } from "../manifests";
import { comparable, fluxFixture, kustomizeBuild, render, requireKubectl, requirePath, stackConfig, syntheticInstallManifest, writeTemp } from "./helpers";

/** A kubectl that answers from a script and records every call. */
function scripted(answer: (args: readonly string[]) => string | Error): { kubectl: Kubectl; calls: string[] } {
  const calls: string[] = [];
  const kubectl: Kubectl = async (args) => {
    calls.push(args.join(" "));
    const a = answer(args);
    if (a instanceof Error) throw a;
    return a;
  };
  return { kubectl, calls };
}

/**
 * A kubectl in front of a Flux object that handles reconcile requests as Flux does: after an annotate, the
 * object `answer` gives reports the request as handled (`status.lastHandledReconcileAt`), unless `handles` says not yet.
 */
function fluxObject(
  answer: (args: readonly string[]) => string | Error | object,
  handles: (poll: number) => boolean = () => true,
): { kubectl: Kubectl; calls: string[] } {
  let requested = "";
  let handled = "";
  let polls = 0;
  return scripted((a) => {
    const r = answer(a);
    if (a[0] === "annotate") {
      if (!(r instanceof Error)) requested = a[a.length - 1].replace(/^reconcile\.fluxcd\.io\/requestedAt=/, "");
      return r instanceof Error ? r : "";
    }
    if (typeof r === "string" || r instanceof Error) return r;
    if (handles(++polls)) handled = requested;
    const o = r as { status?: object };
    return JSON.stringify({ ...o, status: { ...o.status, ...(handled ? { lastHandledReconcileAt: handled } : {}) } });
  });
}

const crd = (name: string): KubeObject => ({ apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", metadata: { name } });

describe("Flux providers", () => {
  describe("readiness", () => {
    const obj = (status: string, extra: object = {}) => ({
      metadata: { generation: 2 },
      status: {
        observedGeneration: 2,
        conditions: [{ type: "Ready", status, reason: status === "True" ? "ReconciliationSucceeded" : "BuildFailed", message: "kustomize build failed: x" }],
        ...extra,
      },
    });

    it("is Ready only at the expected revision and observed generation", () => {
      assert.equal(readiness(obj("True", { artifact: { revision: "main@sha1:abc" } }), "main@sha1:abc").ready, true);
      assert.equal(readiness(obj("True", { lastAppliedRevision: "main@sha1:abc" }), "main@sha1:abc").ready, true);
      assert.deepEqual(readiness(obj("True", { lastAppliedRevision: "main@sha1:old" }), "main@sha1:abc"), {
        ready: false,
        message: "Ready at main@sha1:old, waiting for main@sha1:abc",
        other: "main@sha1:old",
      });
      assert.equal(readiness({ ...obj("True"), metadata: { generation: 3 } }, "").ready, false);
      assert.deepEqual(readiness(undefined, ""), { ready: false, message: "not found" });
    });

    it("a wait that times out fails with Flux's own status message", async () => {
      const { kubectl, calls } = fluxObject(() => obj("False"));
      await assert.rejects(
        waitReady(
          kubectl,
          { resource: "kustomizations.kustomize.toolkit.fluxcd.io", namespace: "flux-system", name: "kyverno", revision: "", timeoutSeconds: 0 },
          1,
        ),
        { message: "Kustomization flux-system/kyverno is not Ready after 0s: BuildFailed: kustomize build failed: x" },
      );
      // A Kustomization is read first, and asked once it is seen not current.
      assert.match(calls[1], /^annotate --overwrite -n flux-system kustomizations\.kustomize\.toolkit\.fluxcd\.io kyverno reconcile\.fluxcd\.io\/requestedAt=/);
    });

    it("a source whose key the host refuses stops the wait at once, saying which key to register", async () => {
      const refused =
        "failed to checkout and determine revision: unable to clone 'ssh://git@git.example.com/fleet.git': ssh: handshake failed: ssh: unable to authenticate, attempted methods [none publickey], no supported methods remain";
      const { kubectl } = fluxObject(() => ({
        ...obj("False"),
        status: { observedGeneration: 1, conditions: [{ type: "Ready", status: "False", reason: "GitOperationFailed", message: refused }] },
      }));
      const inputs = { resource: "gitrepositories.source.toolkit.fluxcd.io", namespace: "flux-system", name: "flux-system", revision: "", timeoutSeconds: 600 };
      await assert.rejects(waitReady(kubectl, { ...inputs, hint: "Register this public key: ecdsa-sha2-nistp384 AAAA" }, 1), {
        message: `GitRepository flux-system/flux-system cannot read its repository: GitOperationFailed: ${refused}\nRegister this public key: ecdsa-sha2-nistp384 AAAA`,
      });
      // Without a key to name (GitHub deploy keys are the program's own), it keeps waiting for Flux's retries.
      await assert.rejects(waitReady(kubectl, { ...inputs, timeoutSeconds: 0 }, 1), /is not Ready after 0s: GitOperationFailed: /);
    });

    it("a tenant's wait sees its source Ready first: a key the host refuses stops it with the hint before its Kustomization is asked", async () => {
      const refused = "unable to clone 'ssh://git@git.example.com/team-a.git': ssh: handshake failed: ssh: unable to authenticate";
      let sourceReady = false;
      const { kubectl, calls } = fluxObject((a) =>
        a.some((x) => x.startsWith("gitrepositories"))
          ? sourceReady
            ? obj("True", { artifact: { revision: "main@sha1:abc" } })
            : {
                ...obj("False"),
                status: { observedGeneration: 2, conditions: [{ type: "Ready", status: "False", reason: "GitOperationFailed", message: refused }] },
              }
          : obj("True", { lastAppliedRevision: "main@sha1:abc" }),
      );
      const inputs = {
        kubeconfig: "",
        resource: "kustomizations.kustomize.toolkit.fluxcd.io",
        source: "gitrepositories.source.toolkit.fluxcd.io",
        namespace: "team-a",
        name: "team-a",
        revision: "",
        timeoutSeconds: 600,
        ...{ repository: "", token: "", apiUrl: "", gitUrl: "", sshKey: "", knownHosts: "" },
        hint: "Register this public key: ecdsa-sha2-nistp384 AAAA",
      };
      await assert.rejects(waitReadyInOrder(kubectl, inputs), {
        message: `GitRepository team-a/team-a cannot read its repository: GitOperationFailed: ${refused}\nRegister this public key: ecdsa-sha2-nistp384 AAAA`,
      });
      assert.ok(!calls.some((c) => c.includes("kustomizations")), calls.join("\n"));
      sourceReady = true;
      calls.length = 0;
      assert.equal(await waitReadyInOrder(kubectl, inputs), "ReconciliationSucceeded: kustomize build failed: x");
      const first = (plural: string) => calls.findIndex((c) => c.includes(plural));
      assert.ok(first("gitrepositories") >= 0 && first("gitrepositories") < first("kustomizations"), calls.join("\n"));
    });

    it("asks a source to reconcile at once, polls soon and backs off to the interval; an object that appears later is asked when it appears", async () => {
      let polls = 0;
      const at: number[] = [];
      const start = Date.now();
      const { kubectl, calls } = fluxObject((a) => {
        if (a[0] === "annotate")
          return polls < 2
            ? new CommandError("kubectl annotate", 'Error from server (NotFound): gitrepositories.source.toolkit.fluxcd.io "team-a" not found', 1)
            : "";
        polls++;
        at.push(Date.now() - start);
        if (polls < 2) return "";
        return obj("True", { artifact: { revision: polls < 5 ? "main@sha1:old" : "main@sha1:new" } });
      });
      await waitReady(
        kubectl,
        { resource: "gitrepositories.source.toolkit.fluxcd.io", namespace: "team-a", name: "team-a", revision: "main@sha1:new", timeoutSeconds: 60 },
        1000,
      );
      assert.deepEqual(
        calls.map((c) => c.split(" ")[0]),
        ["annotate", "get", "get", "annotate", "get", "get", "get"],
        "asked once more, when the object first exists; not again",
      );
      // Polls after 250 ms, then 500, 1000 and 1000 (the interval caps the back-off).
      const gaps = at.map((t, i) => t - (at[i - 1] ?? 0));
      assert.ok(gaps[0] >= 240 && gaps[0] < 700, `first poll after ${gaps[0]} ms`);
      assert.ok(gaps[1] >= 490 && gaps[2] >= 990 && gaps[3] >= 990 && gaps[3] < 1600, `gaps ${gaps.join(", ")}`);
    });

    it("a quota of the program's counted before the quota controller knew a Flux kind is applied again: deleted, for Flux to make it anew", async () => {
      const now = Date.parse("2026-11-30T10:00:00Z");
      const quota = (name: string, ageS: number, used: object | undefined) => ({
        metadata: { name, namespace: name, creationTimestamp: new Date(now - ageS * 1000).toISOString() },
        status: { hard: { pods: "4", "count/kustomizations.kustomize.toolkit.fluxcd.io": "4" }, ...(used ? { used } : {}) },
      });
      const { kubectl, calls } = scripted((a) =>
        a[0] === "get"
          ? JSON.stringify({
              items: [
                quota("stuck", 60, { pods: "0" }),
                quota("counted", 60, { pods: "0", "count/kustomizations.kustomize.toolkit.fluxcd.io": "1" }),
                quota("new", 1, undefined),
                quota("never", 30, undefined),
              ],
            })
          : "",
      );
      assert.deepEqual(await recountStuckQuotas(kubectl, now), ["stuck/stuck", "never/never"]);
      assert.deepEqual(calls, [
        "get resourcequotas -A -l app.kubernetes.io/managed-by=flux-multi-tenancy -o json",
        "delete resourcequota stuck -n stuck --ignore-not-found",
        "delete resourcequota never -n never --ignore-not-found",
      ]);
    });

    it("an object still not Ready is asked again after a while: a failure that passed is retried now, not at the interval", async () => {
      let polls = 0;
      const { kubectl, calls } = fluxObject((a) => {
        if (a[0] === "annotate") return "";
        polls++;
        return polls < 12 ? obj("False") : obj("True", { lastAppliedRevision: "main@sha1:new" });
      });
      await waitReady(
        kubectl,
        { resource: "kustomizations.kustomize.toolkit.fluxcd.io", namespace: "flux-system", name: "tenants", revision: "main@sha1:new", timeoutSeconds: 60 },
        20,
        undefined,
        50,
      );
      const asked = calls.filter((c) => c.startsWith("annotate")).length;
      assert.ok(asked >= 3 && asked <= 8, `asked ${asked} times over ${polls} polls`);
    });

    it("waits accept no Ready from before they asked: Ready counts once Flux handled this wait's own request (lastHandledReconcileAt)", async () => {
      // A key rotated on an SSH host: the GitRepository is still Ready from the old key until Flux handles the request,
      // then it cannot authenticate. However soon the first poll comes, the wait stops with the key to register.
      const refused = "unable to clone: ssh: handshake failed: ssh: unable to authenticate, attempted methods [none publickey]";
      const inputs = { resource: "gitrepositories.source.toolkit.fluxcd.io", namespace: "flux-system", name: "flux-system", revision: "", timeoutSeconds: 30 };
      for (const handledAtPoll of [1, 2, 4]) {
        let polls = 0;
        const { kubectl } = fluxObject(
          (a) => {
            if (a[0] !== "get") return "";
            polls++;
            return polls < handledAtPoll
              ? obj("True", { artifact: { revision: "main@sha1:abc" }, lastHandledReconcileAt: "2026-01-01T00:00:00Z" })
              : {
                  ...obj("False"),
                  status: { observedGeneration: 2, conditions: [{ type: "Ready", status: "False", reason: "GitOperationFailed", message: refused }] },
                };
          },
          (poll) => poll >= handledAtPoll,
        );
        await assert.rejects(waitReady(kubectl, { ...inputs, hint: "Register this public key: ecdsa-sha2-nistp384 NEW" }, 1), {
          message: `GitRepository flux-system/flux-system cannot read its repository: GitOperationFailed: ${refused}\nRegister this public key: ecdsa-sha2-nistp384 NEW`,
        });
      }
      // A stale failure from before the request (the key registered since) does not stop the wait either: Flux's answer to this request does.
      let polls = 0;
      const { kubectl } = fluxObject(
        () =>
          ++polls < 3
            ? {
                ...obj("False"),
                status: { observedGeneration: 2, conditions: [{ type: "Ready", status: "False", reason: "GitOperationFailed", message: refused }] },
              }
            : obj("True"),
        (poll) => poll >= 3,
      );
      assert.equal(await waitReady(kubectl, { ...inputs, hint: "Register this public key" }, 1), "ReconciliationSucceeded: kustomize build failed: x");
      // Never handled: a timeout that says so.
      const never = fluxObject(
        () => obj("True"),
        () => false,
      );
      await assert.rejects(waitReady(never.kubectl, { ...inputs, timeoutSeconds: 0 }, 1), {
        message:
          "GitRepository flux-system/flux-system is not Ready after 0s: Flux has not handled the reconcile request yet (last: ReconciliationSucceeded: kustomize build failed: x)",
      });
    });

    it("a request Flux took in but did not handle (a reconcile already under way read the object from before it) is asked again within seconds", async () => {
      const tokens: string[] = [];
      const started = Date.now();
      const { kubectl, calls } = scripted((a) => {
        if (a[0] === "annotate") {
          tokens.push(a[a.length - 1].replace(/^reconcile\.fluxcd\.io\/requestedAt=/, ""));
          return "";
        }
        // Ready all along, and the first request never recorded as handled: only a later one is.
        const handled = tokens.length > 1 ? tokens[tokens.length - 1] : "an-earlier-request";
        return JSON.stringify(obj("True", { lastHandledReconcileAt: handled }));
      });
      await waitReady(
        kubectl,
        { resource: "kustomizations.kustomize.toolkit.fluxcd.io", namespace: "flux-system", name: "flux-system", revision: "", timeoutSeconds: 30 },
        500,
      );
      const took = Date.now() - started;
      assert.equal(calls.filter((c) => c.startsWith("annotate")).length, 2);
      assert.ok(took >= 2000 && took < 4000, `asked again after 2 s, not the 10 s of a failure: ${took} ms`);
    });

    it("a Kustomization already current (Ready at the commit waited for, or at its Ready source's artifact) is not asked again; one that is not is asked", async () => {
      const ks = (revision: string, handled = "") => ({
        ...obj("True", { lastAppliedRevision: revision, ...(handled ? { lastHandledReconcileAt: handled } : {}) }),
        spec: { sourceRef: { kind: "GitRepository", name: "team-a" } },
      });
      const source = (revision: string) => obj("True", { artifact: { revision } });
      const inputs = { resource: "kustomizations.kustomize.toolkit.fluxcd.io", namespace: "team-a", name: "team-a", timeoutSeconds: 60 };
      // Ready at the commit waited for: no request.
      let answer = scripted((a) => (a[0] === "get" ? JSON.stringify(ks("main@sha1:new")) : ""));
      assert.equal(await waitReady(answer.kubectl, { ...inputs, revision: "main@sha1:new" }, 1), "ReconciliationSucceeded: kustomize build failed: x");
      assert.deepEqual(
        answer.calls.map((c) => c.split(" ")[0]),
        ["get"],
      );
      // No commit named: Ready at the source's current artifact, the source Ready: no request.
      answer = scripted((a) =>
        a[0] !== "get" ? "" : JSON.stringify(a[3] === "gitrepositories.source.toolkit.fluxcd.io" ? source("main@sha1:new") : ks("main@sha1:new")),
      );
      assert.equal(await waitReady(answer.kubectl, { ...inputs, revision: "" }, 1), "ReconciliationSucceeded: kustomize build failed: x");
      assert.deepEqual(answer.calls, [
        "get -n team-a kustomizations.kustomize.toolkit.fluxcd.io team-a -o json --ignore-not-found",
        "get -n team-a gitrepositories.source.toolkit.fluxcd.io team-a -o json --ignore-not-found",
      ]);
      // The source holds a newer artifact than the Kustomization applied: asked, and Flux's answer to the request counts.
      let requested = "";
      answer = scripted((a) => {
        if (a[0] === "annotate") {
          requested = a[a.length - 1].replace(/^reconcile\.fluxcd\.io\/requestedAt=/, "");
          return "";
        }
        if (a[3] === "gitrepositories.source.toolkit.fluxcd.io") return JSON.stringify(source("main@sha1:new"));
        return JSON.stringify(requested ? ks("main@sha1:new", requested) : ks("main@sha1:old"));
      });
      assert.equal(await waitReady(answer.kubectl, { ...inputs, revision: "" }, 1), "ReconciliationSucceeded: kustomize build failed: x");
      assert.deepEqual(
        answer.calls.map((c) => `${c.split(" ")[0]} ${c.includes("gitrepositories") ? "source" : "kustomization"}`),
        ["get kustomization", "get source", "annotate kustomization", "get kustomization"],
      );
    });

    it("a kubectl that watches: one watch for the wait, each change seen as it comes, no polling; a watch that ends falls back to polling", async () => {
      const calls: string[] = [];
      let emit: (e: WatchEvent) => void = () => undefined;
      let end: (error?: string) => void = () => undefined;
      let stopped = 0;
      let requested = "";
      const kubectl: Kubectl = async (args) => {
        calls.push(args.join(" "));
        if (args[0] === "annotate") requested = args[args.length - 1].replace(/^reconcile\.fluxcd\.io\/requestedAt=/, "");
        return args[0] === "get" ? JSON.stringify(obj("True", { lastHandledReconcileAt: requested })) : "";
      };
      kubectl.watch = (args, onEvent, onEnd) => {
        calls.push(`watch ${args.join(" ")}`);
        emit = onEvent;
        end = onEnd;
        return { stop: () => void stopped++ };
      };
      const inputs = { resource: "kustomizations.kustomize.toolkit.fluxcd.io", namespace: "team-a", name: "team-a", revision: "", timeoutSeconds: 60 };
      const start = Date.now();
      const waited = waitReady(kubectl, inputs, 60_000);
      await new Promise((r) => setTimeout(r, 50));
      emit({ type: "ADDED", object: obj("False") });
      await new Promise((r) => setTimeout(r, 50));
      emit({ type: "MODIFIED", object: obj("True", { lastHandledReconcileAt: requested }) });
      assert.equal(await waited, "ReconciliationSucceeded: kustomize build failed: x");
      assert.ok(Date.now() - start < 1000, "seen when the watch showed it, not at the 60 s interval");
      assert.deepEqual(
        calls.map((c) => c.replace(/requestedAt=\S+$/, "requestedAt=")),
        [
          "watch -n team-a kustomizations.kustomize.toolkit.fluxcd.io --field-selector metadata.name=team-a",
          "annotate --overwrite -n team-a kustomizations.kustomize.toolkit.fluxcd.io team-a reconcile.fluxcd.io/requestedAt=",
        ],
      );
      assert.equal(stopped, 1, "the watch is stopped when the wait ends");

      // The watch ends (a server timeout, a refusal): the wait polls from then on.
      calls.length = 0;
      const again = waitReady(kubectl, inputs, 100);
      await new Promise((r) => setTimeout(r, 20));
      emit({ type: "ADDED", object: obj("False") });
      end("error: watch closed");
      assert.equal(await again, "ReconciliationSucceeded: kustomize build failed: x");
      assert.ok(calls.some((c) => c.startsWith("get -n team-a kustomizations.kustomize.toolkit.fluxcd.io team-a -o json")));
    });

    it("a wait returns once Flux reports Ready at the revision", async () => {
      let polls = 0;
      const { kubectl } = fluxObject((a) => {
        if (a[0] !== "get") return "";
        polls++;
        return obj("True", { artifact: { revision: polls < 3 ? "main@sha1:old" : "main@sha1:new" } });
      });
      const message = await waitReady(
        kubectl,
        { resource: "gitrepositories.source.toolkit.fluxcd.io", namespace: "flux-system", name: "flux-system", revision: "main@sha1:new", timeoutSeconds: 30 },
        1,
      );
      assert.equal(message, "ReconciliationSucceeded: kustomize build failed: x");
      assert.equal(polls, 3);
    });

    it("accepts Flux Ready at a later commit that contains this one (another stack pushed meanwhile)", async () => {
      const { kubectl } = fluxObject(() => obj("True", { artifact: { revision: "main@sha1:later" } }));
      const asked: string[] = [];
      const contains = async (base: string, head: string) => (asked.push(`${base}..${head}`), head === "later");
      const inputs = {
        resource: "gitrepositories.source.toolkit.fluxcd.io",
        namespace: "flux-system",
        name: "flux-system",
        revision: "main@sha1:mine",
        timeoutSeconds: 5,
      };
      assert.equal(await waitReady(kubectl, inputs, 1, contains), "Ready at main@sha1:later, which contains main@sha1:mine");
      assert.deepEqual(asked, ["mine..later"]);
      await assert.rejects(
        waitReady(kubectl, { ...inputs, timeoutSeconds: 0 }, 1, async () => false),
        /is not Ready after 0s: Ready at main@sha1:later, waiting for main@sha1:mine/,
      );
    });

    it("waits again when the revision moves, not otherwise", async () => {
      const base = {
        kubeconfig: "k",
        resource: "r",
        namespace: "n",
        name: "x",
        revision: "main@sha1:a",
        timeoutSeconds: 1,
        repository: "",
        token: "",
        apiUrl: "",
        gitUrl: "",
        sshKey: "",
        knownHosts: "",
        hint: "",
      };
      // State written before the digests kept the credentials themselves: it reads the same.
      const legacy = (message: string) => ({ ...base, message }) as unknown as FluxReadyOutputs;
      assert.equal((await fluxReadyProvider.diff!("id", legacy(""), base)).changes, false);
      assert.equal((await fluxReadyProvider.diff!("id", legacy(""), { ...base, revision: "main@sha1:b" })).changes, true);
      // A new token or push key is recorded without a wait: kubeconfig "k" would fail any kubectl call.
      const rotated = { ...base, token: "t2", sshKey: "key2" };
      assert.equal((await fluxReadyProvider.diff!("id", legacy("Ready"), rotated)).changes, true);
      const recorded = (await fluxReadyProvider.update!("id", legacy("Ready"), rotated)).outs!;
      // The state keeps what was waited for and Flux's message; of the credentials, digests only.
      for (const k of ["kubeconfig", "token", "sshKey", "knownHosts"]) assert.ok(!(k in recorded), k);
      assert.equal(recorded.message, "Ready");
      assert.equal(recorded.revision, base.revision);
      assert.match(recorded.kubeconfigSha256, /^[0-9a-f]{64}$/);
      assert.equal((await fluxReadyProvider.diff!("id", recorded, rotated)).changes, false);
      assert.equal((await fluxReadyProvider.diff!("id", recorded, { ...rotated, sshKey: "key3" })).changes, true);
      assert.equal((await fluxReadyProvider.diff!("id", recorded, { ...rotated, kubeconfig: "k2" })).changes, true);
      // A tenant's wait from before its source wait joined it waits again (an update: nothing in the cluster changes).
      const joined = { ...rotated, source: "gitrepositories.source.toolkit.fluxcd.io" };
      const diff = await fluxReadyProvider.diff!("id", recorded, joined);
      assert.deepEqual([diff.changes, diff.replaces ?? [], diff.deleteBeforeReplace ?? false], [true, [], false]);
    });
  });

  describe("install", () => {
    const state: FluxInstallInputs = {
      kubeconfig: "k",
      clusterUid: "uid-1",
      version: "v2.9.4",
      clusterName: "staging",
      kindHost: "",
      foundation: [
        { apiVersion: "v1", kind: "Namespace", metadata: { name: "flux-system" } },
        crd("gitrepositories.source.toolkit.fluxcd.io"),
        crd("kustomizations.kustomize.toolkit.fluxcd.io"),
        crd("helmreleases.helm.toolkit.fluxcd.io"),
      ],
      components: [{ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "kustomize-controller", namespace: "flux-system" } }],
      timeoutSeconds: 60,
    };

    it("a Flux version change is recorded, never applied or recreated; a new cluster reinstalls", async () => {
      const upgrade = await fluxInstallProvider.diff!("id", state, { ...state, version: "v2.9.6" });
      assert.deepEqual(upgrade, { changes: true, replaces: [] });
      const out = await fluxInstallProvider.update!("id", state, { ...state, version: "v2.9.6" });
      assert.equal(out.outs?.version, "v2.9.6");
      assert.deepEqual((await fluxInstallProvider.diff!("id", state, { ...state, clusterUid: "uid-2" })).replaces, ["clusterUid"]);
    });

    it("the state keeps each object's apiVersion, kind, name and namespace, not its body: a digest tells a change", async () => {
      const deployment = { ...state.components[0], spec: { replicas: 1, template: { spec: { containers: [{ name: "manager", image: "m:1" }] } } } };
      const full = { ...state, components: [deployment] };
      const out = (await fluxInstallProvider.update!("id", state, full)).outs!;
      assert.deepEqual(out.components, [{ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "kustomize-controller", namespace: "flux-system" } }]);
      assert.deepEqual(
        out.foundation.map((o) => `${o.kind}/${o.metadata.name}`),
        state.foundation.map((o) => `${o.kind}/${o.metadata.name}`),
      );
      assert.ok(!JSON.stringify(out).includes("m:1"));
      assert.equal((await fluxInstallProvider.diff!("id", out, full)).changes, false);
      const newer = { ...full, components: [{ ...deployment, spec: { ...deployment.spec, replicas: 2 } }] };
      assert.equal((await fluxInstallProvider.diff!("id", out, newer)).changes, true);
      // State written before kept the objects whole: the same objects are no change.
      assert.equal((await fluxInstallProvider.diff!("id", full, full)).changes, false);
    });

    it("uninstalls in flux uninstall's order: the controllers, the platform's admission policies Flux applied, then finalizers, CRDs, namespace", async () => {
      let namespaceGone = false;
      const { kubectl, calls } = scripted((a) => {
        if (a[0] === "get" && a[1] === "kustomizations.kustomize.toolkit.fluxcd.io") {
          return JSON.stringify({ items: [{ metadata: { name: "tenants", namespace: "flux-system", finalizers: ["finalizers.fluxcd.io"] } }] });
        }
        if (a[0] === "get" && a[1] === "namespace") return namespaceGone ? "" : ((namespaceGone = true), "namespace/flux-system");
        if (a[0] === "get") return "";
        return "";
      });
      await uninstallFlux(kubectl, state, 5_000, 1);
      const steps = calls.map((c) => c.split(" --")[0].split(" -p")[0]);
      assert.deepEqual(steps, [
        "delete",
        "wait",
        "delete validatingadmissionpolicybindings,validatingadmissionpolicies -l kustomize.toolkit.fluxcd.io/namespace=flux-system",
        "get gitrepositories.source.toolkit.fluxcd.io -A -o json",
        "get kustomizations.kustomize.toolkit.fluxcd.io -A -o json",
        "patch kustomizations.kustomize.toolkit.fluxcd.io tenants -n flux-system",
        "get helmreleases.helm.toolkit.fluxcd.io -A -o json",
        "delete crd",
        "delete namespace flux-system",
        "get namespace flux-system",
        "get namespace flux-system",
      ]);
      assert.match(calls[1], /^wait --for=delete -n flux-system --timeout=5s deployment\/kustomize-controller/);
      assert.ok(
        calls.every((c) => !c.startsWith("delete") || c.includes("--ignore-not-found")),
        "NotFound is never an error",
      );
      assert.ok(
        calls.every((c) => !c.startsWith("delete") || c.includes("--wait=false")),
        "nothing waits on a finalizer",
      );
      assert.ok(calls.find((c) => c.startsWith("patch"))!.endsWith(`-p {"metadata":{"finalizers":null}}`));
    });

    it("a cluster that does not answer (the real kubectl, nothing listening) fails the uninstall loudly", async () => {
      const kubeconfig =
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:9\nusers:\n- name: u\n  user: {token: revoked}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n";
      // Nothing listens on port 9 of loopback: the real kubectl cannot reach it.
      await assert.rejects(fluxInstallProvider.delete!("id", { ...state, kubeconfig }), (e: Error) => {
        assert.match(
          e.message,
          /^cannot uninstall Flux: the cluster staging does not answer \(.*(refused|connect).*\)\. Bring it back, or give the program current credentials/s,
        );
        assert.match(e.message, /pulumi state delete on the FluxInstall resource\.$/);
        return true;
      });
    });

    it("delete uses the current credentials' answer: uninstalls the same cluster, skips one proven another or gone, fails otherwise", async () => {
      const refused = new CommandError("kubectl", "error: You must be logged in to the server (Unauthorized)\n", 1);
      const answering = (uid: string) => scripted((a) => (a.join(" ").includes("kube-system") ? uid : a[0] === "get" ? "" : ""));
      // Same cluster: the uninstall runs (its first step deletes the controllers).
      const same = answering("uid-1");
      await uninstallFromCluster(same.kubectl, { ...state, foundation: [], components: [] }, async () => assert.fail("not asked"));
      assert.ok(same.calls.some((c) => c.startsWith("delete namespace flux-system")));
      // Another cluster under the same name: nothing is deleted there.
      const other = answering("uid-2");
      await uninstallFromCluster(other.kubectl, state, async () => assert.fail("not asked"));
      assert.deepEqual(
        other.calls.map((c) => c.split(" ")[0]),
        ["get"],
      );
      // Credentials refused: kind is asked about a kind cluster (gone, or made again: skipped); anything else is loud.
      const denied = scripted(() => refused);
      const kind = { ...state, kindHost: os.hostname() };
      await uninstallFromCluster(denied.kubectl, kind, async (name, host, uid) => {
        assert.deepEqual([name, host, uid], ["staging", os.hostname(), "uid-1"]);
        return { verdict: "gone", why: "kind no longer lists staging" };
      });
      await assert.rejects(
        uninstallFromCluster(denied.kubectl, kind, async () => ({ verdict: "unknown", why: "the kind cluster staging does not answer: x" })),
        {
          message:
            "cannot uninstall Flux: the cluster staging does not answer (error: You must be logged in to the server (Unauthorized)); the kind cluster staging does not answer: x. Bring it back, or give the program current credentials (pulumi up stores them) and destroy again; if the cluster is gone for good, drop Flux from the state with pulumi state delete on the FluxInstall resource.",
        },
      );
      await assert.rejects(
        uninstallFromCluster(denied.kubectl, state, async () => ({ verdict: "gone", why: "x" })),
        /does not answer/,
        "a cluster that is not kind is never taken for gone",
      );
    });

    it("a new kubeconfig is an update (kept for the delete), not a replacement", async () => {
      assert.deepEqual(await fluxInstallProvider.diff!("id", state, { ...state, kubeconfig: "k2" }), { changes: true, replaces: [] });
    });

    it("a namespace stuck terminating fails after a bounded time instead of hanging", async () => {
      const { kubectl } = scripted((a) =>
        a[0] === "get" && a[1] === "namespace" ? (a.includes("jsonpath={.status.conditions}") ? "[stuck]" : "namespace/flux-system") : "",
      );
      await assert.rejects(uninstallFlux(kubectl, { foundation: [], components: [] }, 10, 1), {
        message: "namespace flux-system is still terminating after 0.01s: [stuck]",
      });
    });
  });

  describe("sync", () => {
    const sync = { kubeconfig: "k", clusterUid: "uid-1", path: "clusters/staging", objects: [] };

    it("a new kubeconfig alone is recorded, not applied again", async () => {
      assert.deepEqual(await fluxSyncProvider.diff!("id", sync, { ...sync, kubeconfig: "k2" }), { changes: true, replaces: [] });
      // "k2" is no kubeconfig: an apply would fail.
      assert.deepEqual((await fluxSyncProvider.update!("id", sync, { ...sync, kubeconfig: "k2" })).outs, { ...sync, kubeconfig: "k2" });
    });

    it("refuses a cluster path change on the same cluster, with the way out", async () => {
      const result = await fluxSyncProvider.check!(sync, { ...sync, path: "clusters/eu" });
      assert.deepEqual(result.failures, [
        {
          property: "path",
          reason:
            "flux.path changed from clusters/staging to clusters/eu, but Flux in this cluster syncs clusters/staging and would prune everything it applied from there. Moving a cluster needs a re-bootstrap: destroy the stack and up again, or set flux.path back.",
        },
      ]);
      assert.deepEqual(pathChangeFailure(sync, { ...sync, path: "clusters/eu", clusterUid: "uid-2" }), [], "a new cluster is a new bootstrap");
      assert.deepEqual(pathChangeFailure({}, sync), []);
    });

    it("a branch change re-points the in-cluster GitRepository", async () => {
      const objects = [
        { apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository", metadata: { name: "flux-system" }, spec: { ref: { branch: "release" } } },
      ];
      assert.deepEqual(await fluxSyncProvider.diff!("id", sync, { ...sync, objects }), { changes: true, replaces: [] });
    });
  });
});

describe("kind cluster provider", () => {
  let bin: string;
  let log: string;
  let clusters: string;
  let uid: string;
  let savedPath: string | undefined;

  /**
   * Fake kind and kubectl on PATH. kind keeps its clusters in a file and gives each new cluster a new kube-system
   * UID; a kubeconfig names the cluster it was issued for, and kubectl gets no answer with one issued for a cluster
   * that is gone (as a real kubeconfig's server address and certificates die with their cluster).
   */
  beforeEach(() => {
    bin = fs.mkdtempSync(path.join(os.tmpdir(), "kind-bin-"));
    log = path.join(bin, "calls.log");
    clusters = path.join(bin, "clusters");
    uid = path.join(bin, "uid");
    fs.writeFileSync(clusters, "");
    fs.writeFileSync(uid, "uid-0");
    fs.writeFileSync(
      path.join(bin, "kind"),
      `#!/bin/sh
echo "kind $*" >> "${log}"
[ -f "${bin}/docker-down" ] && { echo "ERROR: failed to list clusters: command docker ps failed" >&2; exit 1; }
case "$1 $2" in
  "get clusters") cat "${clusters}";;
  "create cluster") echo "$4" >> "${clusters}"; echo "uid-$(wc -l < "${log}" | tr -d ' ')" > "${uid}";;
  "get kubeconfig") echo "apiVersion: v1"; echo "kind: Config"; echo "current-context: kind-$4"; echo "# issued for: $(cat "${uid}")";;
  "delete cluster") grep -vx "$4" "${clusters}" > "${clusters}.new"; mv "${clusters}.new" "${clusters}";;
esac
`,
      { mode: 0o755 },
    );
    fs.writeFileSync(
      path.join(bin, "kubectl"),
      `#!/bin/sh
echo "kubectl $*" >> "${log}"
issued=$(sed -n 's/^# issued for: //p' "$2")
if [ ! -s "${clusters}" ] || [ "$issued" != "$(cat "${uid}")" ] || [ -f "${bin}/api-down" ]; then
  echo "The connection to the server 127.0.0.1:40123 was refused - did you specify the right host or port?" >&2; exit 1
fi
case "$*" in
  *--raw=/readyz*) echo ok;;
  *"get namespace kube-system"*) cat "${uid}";;
esac
`,
      { mode: 0o755 },
    );
    savedPath = process.env.PATH;
    process.env.PATH = `${bin}${path.delimiter}${savedPath}`;
  });
  afterEach(() => {
    process.env.PATH = savedPath;
    fs.rmSync(bin, { recursive: true, force: true });
  });

  const inputs = { name: "staging", nodeImage: "kindest/node:v1.33.1", workers: 2, waitSeconds: 60 };

  it("creates the cluster with its node image and workers, and waits for the API", async () => {
    const result = await kindClusterProvider.create(inputs);
    assert.equal(result.id, "staging");
    assert.equal(result.outs?.clusterUid, fs.readFileSync(uid, "utf8").trim());
    assert.match(result.outs!.kubeconfig, /current-context: kind-staging/);
    const calls = fs.readFileSync(log, "utf8");
    assert.match(calls, /^kind create cluster --name staging --image kindest\/node:v1\.33\.1 --config \S+kind\.yaml --wait 60s$/m);
    assert.match(calls, /--raw=\/readyz/);
    assert.equal(kindConfig(2), "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n  - role: control-plane\n  - role: worker\n  - role: worker\n");
  });

  it("refuses to take over a kind cluster of the same name made elsewhere", async () => {
    fs.writeFileSync(clusters, "staging\n");
    await assert.rejects(kindClusterProvider.create(inputs), /a kind cluster named staging already exists outside this stack/);
  });

  it("reads a cluster deleted out of band as gone, so refresh drops it", async () => {
    const created = await kindClusterProvider.create(inputs);
    assert.equal((await kindClusterProvider.read!("staging", created.outs)).id, "staging");
    fs.writeFileSync(clusters, "");
    assert.equal((await kindClusterProvider.read!("staging", created.outs)).id, "");
  });

  it("a cluster of that name with another identity is another cluster: made again out of band, refresh drops it", async () => {
    const created = (await kindClusterProvider.create(inputs)).outs!;
    fs.writeFileSync(clusters, "");
    execFileSync("kind", ["create", "cluster", "--name", "staging"]);
    assert.notEqual(fs.readFileSync(uid, "utf8").trim(), created.clusterUid);
    assert.equal((await kindClusterProvider.read!("staging", created)).id, "");
    assert.deepEqual(await kindClusterIdentity("staging", os.hostname(), created.clusterUid), {
      verdict: "gone",
      why: `the kind cluster now named staging is another one (kube-system ${fs.readFileSync(uid, "utf8").trim()}, not ${created.clusterUid}): it was made again`,
    });
  });

  it("a kind cluster deleted out of band: the next up makes it again, the old Flux install's delete proves the old cluster gone, and later ups work", async () => {
    // First up: the cluster, and Flux installed into it with the kubeconfig kind gave.
    const first = (await kindClusterProvider.create(inputs)).outs!;
    const install: FluxInstallInputs = {
      kubeconfig: first.kubeconfig,
      clusterUid: first.clusterUid,
      version: "v2.9.4",
      clusterName: "staging",
      kindHost: first.host,
      foundation: [],
      components: [],
      timeoutSeconds: 60,
    };
    // Deleted out of band; refresh (on its own host) drops it, and the next up makes it again under the same name.
    execFileSync("kind", ["delete", "cluster", "--name", "staging"]);
    assert.equal((await kindClusterProvider.read!("staging", first)).id, "");
    const second = (await kindClusterProvider.create(inputs)).outs!;
    assert.notEqual(second.clusterUid, first.clusterUid);
    // The new cluster means a new install; the old one's delete runs with the old credentials, which reach nothing,
    // and kind says the cluster now under that name is another one: the delete is skipped, not failed.
    assert.deepEqual((await fluxInstallProvider.diff!("id", install, { ...install, kubeconfig: second.kubeconfig, clusterUid: second.clusterUid })).replaces, [
      "clusterUid",
    ]);
    const calls = fs.readFileSync(log, "utf8").split("\n").length;
    await fluxInstallProvider.delete!("id", install);
    const after = fs
      .readFileSync(log, "utf8")
      .split("\n")
      .slice(calls - 1);
    assert.ok(!after.some((c) => / delete /.test(c)), `nothing deleted in the new cluster: ${after.join("; ")}`);
    // Later refreshes find the cluster the stack made, under its identity.
    assert.equal((await kindClusterProvider.read!("staging", second)).id, "staging");
  });

  it("a kind cluster whose recorded kubeconfig no longer works is uninstalled with the one kind gives now", async () => {
    const created = (await kindClusterProvider.create(inputs)).outs!;
    const stale = created.kubeconfig.replace(/# issued for: .*/, "# issued for: an-earlier-certificate");
    const found = await kindClusterIdentity("staging", os.hostname(), created.clusterUid);
    assert.equal(found.verdict, "same");
    const install = {
      kubeconfig: stale,
      clusterUid: created.clusterUid,
      version: "v2.9.4",
      clusterName: "staging",
      kindHost: created.host,
      foundation: [],
      components: [],
      timeoutSeconds: 1,
    };
    await fluxInstallProvider.delete!("id", install);
    assert.match(fs.readFileSync(log, "utf8"), /kubectl --kubeconfig \S+ delete namespace flux-system/);
  });

  it("a refresh that cannot ask keeps the state and says why: Docker down, a listed cluster that does not answer", async () => {
    const created = (await kindClusterProvider.create(inputs)).outs!;
    const said: string[] = [];
    const saved = console.error;
    console.error = (m: string) => said.push(m);
    try {
      fs.writeFileSync(path.join(bin, "api-down"), "");
      assert.deepEqual(await kindClusterProvider.read!("staging", created), { id: "staging", props: created });
      fs.writeFileSync(path.join(bin, "docker-down"), "");
      assert.deepEqual(await kindClusterProvider.read!("staging", created), { id: "staging", props: created });
    } finally {
      console.error = saved;
    }
    assert.match(
      said[0],
      /^kind cluster staging: kept as it is in the state, since the kind cluster staging does not answer: The connection to the server .* was refused/,
    );
    assert.match(said[1], /^kind cluster staging: kept as it is in the state, since kind could not list its clusters: ERROR: failed to list clusters/);
  });

  it("replaces on any change of name, image or workers, deleting first; delete is idempotent", async () => {
    const created = (await kindClusterProvider.create(inputs)).outs!;
    assert.deepEqual(await kindClusterProvider.diff!("staging", created, { ...inputs, nodeImage: "kindest/node:v1.34.0" }), {
      changes: true,
      replaces: ["nodeImage"],
      deleteBeforeReplace: true,
    });
    assert.equal((await kindClusterProvider.diff!("staging", created, inputs)).changes, false);
    await kindClusterProvider.delete!("staging", created);
    await kindClusterProvider.delete!("staging", created);
    assert.equal(fs.readFileSync(clusters, "utf8").trim(), "");
  });

  it("records its host; from another host a refresh says where the cluster lives instead of planning a new one", async () => {
    const created = (await kindClusterProvider.create(inputs)).outs!;
    assert.equal(created.host, os.hostname());
    const elsewhere = { ...created, host: "build-box-7" };
    fs.writeFileSync(clusters, "");
    await assert.rejects(kindClusterProvider.read!("staging", elsewhere), {
      message: `the kind cluster staging lives on host build-box-7, and this is ${os.hostname()}: run this stack from build-box-7 (a preview elsewhere: pulumi preview --refresh=false)`,
    });
  });

  it("proves a kind cluster gone only on its own host, from an answer: not listed, or another identity", async () => {
    const created = (await kindClusterProvider.create(inputs)).outs!;
    assert.equal((await kindClusterIdentity("staging", os.hostname(), created.clusterUid)).verdict, "same", "listed, answering as itself");
    fs.writeFileSync(path.join(bin, "api-down"), "");
    assert.equal((await kindClusterIdentity("staging", os.hostname(), created.clusterUid)).verdict, "unknown", "listed, not answering: no proof");
    fs.writeFileSync(clusters, "");
    assert.deepEqual(await kindClusterIdentity("staging", os.hostname(), created.clusterUid), {
      verdict: "gone",
      why: `kind on ${os.hostname()} no longer lists staging`,
    });
    assert.equal((await kindClusterIdentity("staging", "build-box-7", created.clusterUid)).verdict, "unknown", "another host proves nothing");
    process.env.PATH = `${bin}-none`;
    assert.equal((await kindClusterIdentity("staging", os.hostname(), created.clusterUid)).verdict, "unknown", "no kind CLI proves nothing");
  });

  it("keeps the state on refresh where kind is not installed (a preview on another machine)", async () => {
    const created = (await kindClusterProvider.create(inputs)).outs!;
    process.env.PATH = `${bin}-none`;
    assert.deepEqual(await kindClusterProvider.read!("staging", created), { id: "staging", props: created });
  });

  it("says how to get a missing CLI", async () => {
    process.env.PATH = bin.replace(/$/, "-none");
    await assert.rejects(kindClusterProvider.create(inputs), /kind is not on PATH; install it/);
  });
});

describe("cluster probe (existing and cloud clusters)", () => {
  const kubeconfigFor = (server: string) =>
    `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: ${server}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n`;

  it("any failed probe is not 'cluster deleted': a cluster that cannot be asked keeps its state and says why (the real kubectl, nothing listening)", async function () {
    requireKubectl(this);
    const props = { kubeconfig: kubeconfigFor("https://127.0.0.1:9"), timeoutSeconds: 1, clusterUid: "uid-1" };
    const said: string[] = [];
    const saved = console.error;
    console.error = (m: string) => said.push(m);
    try {
      assert.deepEqual(await clusterProbeProvider.read!("uid-1", props), { id: "uid-1", props });
    } finally {
      console.error = saved;
    }
    assert.match(said[0], /^cluster probe: kept as it is in the state, since the cluster's API did not answer: .*(refused|connect)/s);
  });

  it("a cluster answering with another kube-system UID is another cluster: refresh drops the probe", async function () {
    requireKubectl(this);
    // An API server's answers, as far as kubectl asks for a namespace: discovery, then the object.
    const answers: Record<string, object> = {
      "/api": { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [] },
      "/apis": { kind: "APIGroupList", apiVersion: "v1", groups: [] },
      "/api/v1": {
        kind: "APIResourceList",
        groupVersion: "v1",
        resources: [{ name: "namespaces", singularName: "namespace", namespaced: false, kind: "Namespace", verbs: ["get", "list"], shortNames: ["ns"] }],
      },
      "/api/v1/namespaces/kube-system": { apiVersion: "v1", kind: "Namespace", metadata: { name: "kube-system", uid: "uid-2" } },
    };
    const server = http.createServer((req, res) => {
      const answer = answers[new URL(req.url ?? "/", "http://x").pathname];
      res.writeHead(answer ? 200 : 404, { "content-type": "application/json" });
      res.end(JSON.stringify(answer ?? { kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404 }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const { port } = server.address() as AddressInfo;
      const props = { kubeconfig: kubeconfigFor(`http://127.0.0.1:${port}`), timeoutSeconds: 1, clusterUid: "uid-1" };
      assert.equal((await clusterProbeProvider.read!("uid-1", props)).id, "", "rebuilt: another identity");
      assert.equal((await clusterProbeProvider.read!("uid-2", { ...props, clusterUid: "uid-2" })).id, "uid-2", "the same cluster");
    } finally {
      server.close();
    }
  });
});

describe("what bootstrap applies", () => {
  for (const real of [false, true]) {
    it(`equals what kustomize-controller builds from clusters/<env>/flux-system (${real ? "real Flux v2.9.4" : "synthetic, with extras"})`, async function () {
      requireKubectl(this);
      const manifest = real ? requirePath(this, fluxFixture("gotk-components-v2.9.4.yaml"), "the Flux v2.9.4 fixture") : undefined;
      const config = await stackConfig("staging", (raw) => (raw.flux = real ? {} : { componentsExtra: ["image-reflector-controller"] }));
      const tree = render(config, manifest ? fs.readFileSync(manifest, "utf8") : undefined);
      const dir = writeTemp(tree);
      try {
        const built = kustomizeBuild(path.join(dir, "clusters/staging/flux-system"));
        const ours = bootstrapObjects(config, tree["clusters/staging/flux-system/gotk-components.yaml"]);
        assert.deepEqual(comparable([...ours.foundation, ...ours.components, ...ours.sync]), comparable(built));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it("puts CRDs and the Namespace first, the sync objects last", async () => {
    const config = await stackConfig("staging");
    const objects = bootstrapObjects(config, syntheticInstallManifest());
    assert.deepEqual(
      objects.foundation.map((o) => o.kind),
      ["Namespace"],
    );
    assert.deepEqual(
      objects.sync.map((o) => o.kind),
      ["GitRepository", "Kustomization"],
    );
    assert.equal((objects.sync[1].spec as { serviceAccountName: string }).serviceAccountName, "kustomize-controller");
  });
});

describe("github.com known_hosts", () => {
  it("matches the SHA256 fingerprints GitHub publishes", () => {
    const published: Record<string, string> = {
      "ssh-ed25519": "+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU",
      "ecdsa-sha2-nistp256": "p2QAMXNIC1TJYWeIOttrVc98/R1BUFWu3/LiyKgUfQM",
      "ssh-rsa": "uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s",
    };
    const lines = GITHUB_KNOWN_HOSTS.trim().split("\n");
    assert.equal(lines.length, 3);
    for (const line of lines) {
      const [host, type, key] = line.split(" ");
      assert.equal(host, "github.com");
      const fingerprint = createHash("sha256").update(Buffer.from(key, "base64")).digest("base64").replace(/=+$/, "");
      assert.equal(fingerprint, published[type], type);
    }
  });
});
