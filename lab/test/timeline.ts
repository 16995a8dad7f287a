// Where the seconds to Ready go: each wait's reconcile requests and polls (as the program's waits make them), beside
// Flux's own record of the same objects (its controllers' logs, millisecond timestamps), on one clock.
import * as fs from "fs";
import { KINDS, readiness, type FluxStatus } from "../../components/providers/flux";
import type { Kubectl } from "../../components/providers/kubectl";
import { logFile } from "../proc";

/** One thing that happened to a Flux object, in milliseconds since the epoch. */
export interface TimelineEvent {
  readonly at: number;
  /** `Kind namespace/name`. */
  readonly object: string;
  /** `asked` (a reconcile request), `polled ...` / `watched ...` (what a wait read or its watch showed), or Flux's own log message. */
  readonly what: string;
}

const kindOf = (resource: string) => KINDS[resource.split(".")[0]] ?? resource;

/**
 * `k`, recording each reconcile request and each poll's answer (Ready or not, and whether Flux had handled a request
 * by then) into `events`.
 */
export function tracedKubectl(k: Kubectl, events: TimelineEvent[]): Kubectl {
  const seen = (object: string, how: string, obj: FluxStatus) => {
    const r = readiness(obj, "");
    const handled = obj.status?.lastHandledReconcileAt ? " (a request handled)" : "";
    events.push({ at: Date.now(), object, what: `${how}: ${r.ready ? "Ready" : "not Ready"}${handled}` });
  };
  const traced: Kubectl = async (args, input) => {
    const out = await k(args, input);
    const n = args.indexOf("-n");
    if (args[0] === "annotate" && args.some((a) => a.startsWith("reconcile.fluxcd.io/requestedAt="))) {
      events.push({ at: Date.now(), object: `${kindOf(args[n + 2])} ${args[n + 1]}/${args[n + 3]}`, what: "asked" });
    } else if (args[0] === "get" && n === 1 && args.includes("json") && out.trim()) {
      seen(`${kindOf(args[3])} ${args[2]}/${args[4]}`, "polled", JSON.parse(out) as FluxStatus);
    }
    return out;
  };
  const watch = k.watch;
  if (watch) {
    traced.watch = (args, onEvent, onEnd) => {
      // watchOneArgs(namespace, resource, name): ["-n", namespace, resource, "--field-selector", "metadata.name=<name>"]
      const object = `${kindOf(args[2])} ${args[1]}/${args[4].replace(/^metadata\.name=/, "")}`;
      return watch(
        args,
        (e) => {
          if (e.type === "ADDED" || e.type === "MODIFIED") seen(object, "watched", e.object as FluxStatus);
          onEvent(e);
        },
        onEnd,
      );
    };
  }
  return traced;
}

/** Flux's messages worth a line on the timeline: a reconcile's end, a stored artifact, and each reason it requeued. */
const FLUX_MESSAGES =
  /^(Reconciliation finished in [\d.]+m?s|stored artifact|Source artifact not found|Dependencies do not meet|All dependencies are ready|Reconciler error)/;

type LogLine = { ts?: string; msg?: string; controllerKind?: string; namespace?: string; name?: string; error?: string };

/** Flux's controllers' own lines about Flux objects between `from` and `to`, from the lab's logs. */
export function fluxLogEvents(from: number, to: number, controllers = ["source-controller", "kustomize-controller"]): TimelineEvent[] {
  const events: TimelineEvent[] = [];
  for (const controller of controllers) {
    let text: string;
    try {
      text = fs.readFileSync(logFile(controller), "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n")) {
      if (!line.startsWith("{")) continue;
      let l: LogLine;
      try {
        l = JSON.parse(line) as LogLine;
      } catch {
        continue;
      }
      const at = Date.parse(l.ts ?? "");
      const m = FLUX_MESSAGES.exec(l.msg ?? "");
      if (!m || !(at >= from && at <= to) || !l.controllerKind) continue;
      const what = m[1].startsWith("Reconciliation finished") ? m[1].replace(/, next run.*$/, "") : (l.msg ?? "").replace(/, retrying in.*$/, " (requeued)");
      events.push({ at, object: `${l.controllerKind} ${l.namespace}/${l.name}`, what: `flux: ${what}` });
    }
  }
  return events;
}

/** The events, in order, as lines of seconds since `start`; consecutive polls of an object with the same answer fold into one line. */
export function formatTimeline(start: number, events: readonly TimelineEvent[]): string[] {
  const sorted = [...events].sort((a, b) => a.at - b.at);
  const lines: string[] = [];
  const lastPoll = new Map<string, string>();
  for (const e of sorted) {
    if (e.what.startsWith("polled") || e.what.startsWith("watched")) {
      if (lastPoll.get(e.object) === e.what) continue;
      lastPoll.set(e.object, e.what);
    } else lastPoll.delete(e.object);
    lines.push(`+${((e.at - start) / 1000).toFixed(2)}s ${e.object}: ${e.what}`);
  }
  return lines;
}

/**
 * For each waited object: when the wait first looked at it, when it asked Flux (if it did: a Kustomization found
 * current is not asked), when Flux last finished a reconcile of it before the wait saw it Ready, and when it saw it.
 */
export interface WaitSpan {
  readonly object: string;
  readonly startS: number;
  readonly askedS?: number;
  readonly fluxDoneS?: number;
  readonly observedS?: number;
}

const OURS = /^(asked|polled|watched)/;

export function waitSpans(start: number, events: readonly TimelineEvent[]): WaitSpan[] {
  const s = (at: number | undefined) => (at === undefined ? undefined : Math.round((at - start) / 10) / 100);
  const objects = [...new Set(events.filter((e) => OURS.test(e.what)).map((e) => e.object))];
  return objects.map((object) => {
    const mine = events.filter((e) => e.object === object).sort((a, b) => a.at - b.at);
    const first = mine.find((e) => OURS.test(e.what))!.at;
    const observed = mine.find((e) => /^(polled|watched): Ready/.test(e.what))?.at;
    const done = mine
      .filter((e) => e.what.startsWith("flux: Reconciliation finished") || e.what.startsWith("flux: stored artifact"))
      .filter((e) => observed === undefined || e.at <= observed)
      .pop()?.at;
    return { object, startS: s(first)!, askedS: s(mine.find((e) => e.what === "asked")?.at), fluxDoneS: s(done), observedS: s(observed) };
  });
}
