// The users' GitHub Actions workflows: valid YAML, pinned actions, the README's commands, the right triggers and jobs.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { parseConfig } from "../config";
import { stackConfigOf } from "../lib/stackFiles";
import { PROJECT_DIR } from "./helpers";

type Step = { uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string> };
type Job = {
  "runs-on": string;
  needs?: string | string[];
  environment?: string;
  steps: Step[];
  strategy?: { matrix: Record<string, unknown[]> };
  env?: Record<string, string>;
};
type Workflow = { on: Record<string, unknown>; jobs: Record<string, Job>; permissions?: Record<string, string>; env?: Record<string, string> };

function workflow(name: string): Workflow {
  return parse(fs.readFileSync(path.join(PROJECT_DIR, ".github", "workflows", name), "utf8")) as Workflow;
}

/**
 * A GitHub expression (`${{ ... }}`) as a plausible value a run would see: the last name it reads, lower-cased
 * with dashes (vars.E2E_GITHUB_OWNER -> e2e-github-owner, github.run_id -> run-id): a valid GitHub name.
 */
function expressionValue(expression: string): string {
  const names = expression.match(/[A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)+/g) ?? ["value"];
  return names[names.length - 1].split(".").pop()!.toLowerCase().replace(/_/g, "-");
}

/** The words of one shell command line: quotes removed, $VAR and ${VAR} expanded (not inside single quotes). */
function shellWords(line: string, env: Record<string, string>): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: "'" | '"' | undefined;
  const expand = (text: string) => text.replace(/\$(?:\{(\w+)\}|(\w+))/g, (_m, a: string, b: string) => env[a ?? b] ?? "");
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (c === "'" || c === '"') {
      if (quote === c) quote = undefined;
      else if (quote === undefined) quote = c;
      else word = (word ?? "") + c;
      word ??= "";
    } else if (quote === undefined && /\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (quote === undefined && c === "#" && word === undefined) {
      break;
    } else if (c === "$") {
      const m = /^\$(?:\{\w+\}|\w+)/.exec(line.slice(i));
      word = (word ?? "") + (m ? expand(m[0]) : c);
      if (m) i += m[0].length - 1;
    } else {
      word = (word ?? "") + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** Sets `value` at a `pulumi config set --path` path (`key.field[0].x`) in a stack file's config, as the CLI does. */
function setPath(config: Record<string, unknown>, key: string, value: unknown): void {
  const [, ns, rest] = /^([^:]+:)?(.*)$/.exec(key)!;
  const parts = rest.match(/[^.[\]]+|\[\d+\]/g)!.map((p) => (/^\[\d+\]$/.test(p) ? Number(p.slice(1, -1)) : p));
  const top = `${ns ?? ""}${parts.shift()}`;
  if (parts.length === 0) {
    config[top] = value;
    return;
  }
  config[top] ??= typeof parts[0] === "number" ? [] : {};
  let node = config[top] as Record<string | number, unknown>;
  for (const [i, part] of parts.entries()) {
    if (i === parts.length - 1) {
      node[part] = value;
    } else {
      node[part] ??= typeof parts[i + 1] === "number" ? [] : {};
      node = node[part] as Record<string | number, unknown>;
    }
  }
}

/** A value as `pulumi config set --path` stores it in an object: true/false as booleans, integers as numbers, the rest as strings. */
function pathValue(value: string): unknown {
  if (value === "true" || value === "false") return value === "true";
  if (/^-?[1-9]\d*$|^0$/.test(value)) return Number(value);
  return value;
}

/**
 * The stack settings a workflow's job runs with: each stack it names (by `pulumi stack init/select`, `--stack`,
 * or pulumi/actions' stack-name), from the committed Pulumi.<stack>.yaml when there is one, with every
 * `pulumi config set` line of its run steps applied in order, as the CLI would.
 */
function workflowStacks(w: Workflow, job: Job): Map<string, Record<string, unknown>> {
  const stacks = new Map<string, Record<string, unknown>>();
  const stackFile = (name: string) => {
    if (!stacks.has(name)) {
      const file = path.join(PROJECT_DIR, `Pulumi.${name}.yaml`);
      stacks.set(name, fs.existsSync(file) ? (parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>) : { config: {} });
    }
    return stacks.get(name)!;
  };
  const resolve = (v: string) => v.replace(/\$\{\{(.*?)\}\}/g, (_m, e: string) => expressionValue(e));
  let current: string | undefined;
  for (const step of job.steps) {
    const env = Object.fromEntries(Object.entries({ ...w.env, ...job.env, ...step.env }).map(([k, v]) => [k, resolve(String(v))]));
    if (step.uses?.startsWith("pulumi/actions@") && step.with?.["stack-name"]) {
      // With no PULUMI_ORG, the expression's last alternative: a quoted stack name, or each of the matrix's.
      const alternative = String(step.with["stack-name"])
        .replace(/^\$\{\{|\}\}$/g, "")
        .split("||")
        .pop()!
        .trim();
      const names = alternative === "matrix.stack" ? (job.strategy?.matrix.stack as string[]) : [alternative.replace(/^'|'$/g, "")];
      names.forEach(stackFile);
    }
    for (const line of (step.run ?? "").replace(/\\\n/g, " ").split("\n")) {
      const words = shellWords(resolve(line), env);
      if (words[0] !== "pulumi") continue;
      const flag = words.findIndex((x) => x === "--stack" || x === "-s");
      if (flag >= 0) current = words[flag + 1];
      if ((words[1] === "stack" && (words[2] === "init" || words[2] === "select")) || flag >= 0) {
        current = flag >= 0 ? words[flag + 1] : words.slice(3).find((x) => !x.startsWith("-"));
        stackFile(current!);
      }
      if (words[1] === "config" && words[2] === "set") {
        assert.ok(current, `pulumi config set before any stack is named: ${line.trim()}`);
        const args = words.slice(3).filter((x, i, all) => !x.startsWith("-") && all[i - 1] !== "--stack" && all[i - 1] !== "-s");
        const [key, value] = args;
        const config = (stackFile(current!).config ??= {}) as Record<string, unknown>;
        if (words.includes("--path")) setPath(config, key, pathValue(value));
        else config[key] = value;
      }
    }
  }
  return stacks;
}

const runs = (job: Job) => job.steps.filter((s) => s.run).map((s) => s.run!.trim());
const pulumiSteps = (job: Job) => job.steps.filter((s) => s.uses?.startsWith("pulumi/actions@"));

describe("users' workflows", () => {
  const names = ["preview.yml", "up.yml", "e2e.yml"];

  it("are all there and valid YAML", () => {
    assert.deepEqual(fs.readdirSync(path.join(PROJECT_DIR, ".github", "workflows")).sort(), [...names].sort());
    for (const n of names) assert.ok(workflow(n).jobs, n);
  });

  it("pin every action to an exact release or commit", () => {
    for (const n of names) {
      for (const job of Object.values(workflow(n).jobs)) {
        for (const s of job.steps.filter((x) => x.uses)) assert.match(s.uses!, /^[\w.-]+\/[\w.-]+@(v\d+\.\d+\.\d+|[0-9a-f]{40})$/, `${n}: ${s.uses}`);
      }
    }
  });

  it("install and test with the README's own commands before any Pulumi step", () => {
    const readme = fs.readFileSync(path.join(PROJECT_DIR, "README.md"), "utf8");
    assert.match(readme, /npm ci {2}.*install/);
    assert.match(readme, /npm test {2}.*test/);
    for (const n of names) {
      for (const [id, job] of Object.entries(workflow(n).jobs)) {
        const r = runs(job);
        assert.ok(r.includes("npm ci"), `${n}/${id} runs npm ci`);
        const firstPulumi = job.steps.findIndex((s) => s.uses?.startsWith("pulumi/actions@") || /\bpulumi /.test(s.run ?? ""));
        if (firstPulumi >= 0) assert.ok(job.steps.findIndex((s) => s.run === "npm ci") < firstPulumi, `${n}/${id}: install first`);
      }
    }
    assert.ok(runs(workflow("preview.yml").jobs.test).includes("npm test"));
    for (const id of ["staging", "production"]) assert.ok(runs(workflow("up.yml").jobs[id]).includes("npm test"));
    assert.ok(runs(workflow("e2e.yml").jobs.e2e).includes("npm test"));
  });

  it("preview: on pull requests, both stacks, commented, with the policy pack", () => {
    const w = workflow("preview.yml");
    assert.deepEqual(Object.keys(w.on), ["pull_request"]);
    assert.equal(w.permissions?.["pull-requests"], "write");
    const job = w.jobs.preview;
    assert.deepEqual(job.strategy?.matrix.stack, ["staging", "production"]);
    assert.equal(job.needs, "test");
    // Refresh reads the kind cluster, which only its own host can: staging previews where it is upped.
    assert.equal(job["runs-on"], "${{ matrix.stack == 'staging' && (vars.STAGING_RUNNER || 'self-hosted') || 'ubuntu-latest' }}");
    assert.equal(workflow("up.yml").jobs.staging["runs-on"], "${{ vars.STAGING_RUNNER || 'self-hosted' }}");
    const [pulumi] = pulumiSteps(job);
    assert.equal(pulumi.with?.command, "preview");
    assert.equal(pulumi.with?.["comment-on-pr"], true);
    assert.equal(pulumi.with?.policyPacks, "policy");
    assert.ok(runs(job).includes("npm ci --prefix policy"));
    assert.deepEqual(Object.keys(pulumi.env ?? {}).sort(), ["GITHUB_TOKEN", "PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE"]);
    for (const v of Object.values(pulumi.env ?? {})) assert.match(v, /^\$\{\{ secrets\.\w+ \}\}$/, "backend and tokens come from repository secrets");
  });

  it("up: staging on pushes to main, production after it behind the production environment", () => {
    const w = workflow("up.yml");
    assert.deepEqual((w.on.push as { branches: string[] }).branches, ["main"]);
    assert.equal(pulumiSteps(w.jobs.staging)[0].with?.command, "up");
    assert.match(String(pulumiSteps(w.jobs.staging)[0].with?.["stack-name"]), /staging/);
    assert.equal(w.jobs.production.needs, "staging");
    assert.equal(w.jobs.production.environment, "production");
    assert.equal(pulumiSteps(w.jobs.production)[0].with?.command, "up");
    assert.match(String(pulumiSteps(w.jobs.production)[0].with?.["stack-name"]), /production/);
  });

  it("every stack a workflow runs passes the program's own config check, with its pulumi config set lines applied", () => {
    const projectFile = parse(fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), "utf8")) as Record<string, unknown>;
    const checked: string[] = [];
    for (const n of names) {
      for (const [id, job] of Object.entries(workflow(n).jobs)) {
        for (const [stack, file] of workflowStacks(workflow(n), job)) {
          const { raw } = stackConfigOf(projectFile, file);
          assert.doesNotThrow(() => parseConfig(raw, { stack }), `${n}/${id}, stack ${stack}`);
          checked.push(`${n}/${id}:${stack}`);
        }
      }
    }
    assert.deepEqual(checked.sort(), [
      "e2e.yml/e2e:e2e",
      "preview.yml/preview:production",
      "preview.yml/preview:staging",
      "up.yml/production:production",
      "up.yml/staging:staging",
    ]);
  });

  it("the stack settings are rebuilt as the Pulumi CLI writes them: paths into lists and maps, typed values, quoted words, the run's variables", () => {
    const w: Workflow = {
      on: {},
      env: { OWNER: "${{ vars.E2E_GITHUB_OWNER }}" },
      jobs: {
        j: {
          "runs-on": "x",
          steps: [
            {
              run: [
                'pulumi stack init "t1"',
                "pulumi config set --path 'flux-multi-tenancy:tenants[0].name' team # a comment",
                'pulumi config set --path flux-multi-tenancy:tenants[0].repository.owner "$OWNER"',
                "pulumi config set --path flux-multi-tenancy:tenants[0].repository.create false",
                "pulumi config set --path flux-multi-tenancy:cluster.kind.workers 2",
                "pulumi config set flux-multi-tenancy:environment 'my env'",
              ].join("\n"),
            },
          ],
        },
      },
    };
    assert.deepEqual(workflowStacks(w, w.jobs.j).get("t1"), {
      config: {
        "flux-multi-tenancy:tenants": [{ name: "team", repository: { owner: "e2e-github-owner", create: false } }],
        "flux-multi-tenancy:cluster": { kind: { workers: 2 } },
        "flux-multi-tenancy:environment": "my env",
      },
    });
  });

  it("e2e: the program's own kind cluster, upstream's checks, the isolation checks, a clean destroy", () => {
    const w = workflow("e2e.yml");
    assert.ok("workflow_dispatch" in w.on);
    const script = runs(w.jobs.e2e).join("\n");
    for (const expected of [
      /pulumi up --yes --skip-preview --stack "\$STACK"/,
      /kubectl -n flux-system wait kustomizations\.kustomize\.toolkit\.fluxcd\.io --all --for=condition=Ready/,
      /kubectl -n apps wait kustomizations\.kustomize\.toolkit\.fluxcd\.io\/dev-team --for=condition=Ready/,
      /namespace: flux-system \}[\s\S]*grep -i "cross-namespace"/,
      /grep "system:serviceaccount:apps:default"/,
      /grep -i "remote"/,
      /--target-dependents[\s\S]*Terminating/,
      /pulumi destroy --yes --skip-preview --stack "\$STACK"$/m,
    ]) {
      assert.match(script, expected);
    }
    assert.ok(!/kind create cluster/.test(script), "the program creates the cluster, not the workflow");
  });
});
