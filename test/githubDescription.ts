// GitHub's published API description as the judge of the loopback GitHub: every request and every answer it
// gives is checked against the REST description (OpenAPI, @octokit/openapi) or the GraphQL schema (@octokit/graphql-schema).
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import * as fs from "fs";
import * as path from "path";
import { buildClientSchema, getOperationAST, type GraphQLSchema, parse, validate as validateGraphQL } from "graphql";
import { getVariableValues } from "graphql/execution/values";

type Schema = Record<string, any>;

interface Parameter {
  readonly name: string;
  readonly in: "path" | "query" | "header" | "cookie";
  readonly required?: boolean;
  readonly schema?: Schema;
}

interface Operation {
  readonly operationId: string;
  readonly parameters?: (Parameter | { $ref: string })[];
  readonly requestBody?: { content: Record<string, { schema: Schema }>; required?: boolean };
  readonly responses: Record<string, Schema>;
}

interface Route {
  readonly method: string;
  readonly template: string;
  readonly pattern: RegExp;
  /** Characters of the template outside its parameters: the most literal match wins. */
  readonly literal: number;
  readonly names: string[];
  readonly operation: Operation;
}

/** The operation a request reached, with the values of its path parameters. */
export interface Matched {
  readonly route: Route;
  readonly params: Record<string, string>;
}

/** Which description: api.github.com, or a GitHub Enterprise Server release (ghes-3.19, ...). */
export type Variant = string;

/**
 * Statuses GitHub gives on any endpoint, documented once for the whole REST API rather than per operation:
 * 401 (authentication), 403 and 429 (rate limits), 404 (a resource that does not exist or that the token cannot see,
 * such as /orgs/{org}/repos for a user's account).
 */
const ANY_ENDPOINT = new Set([401, 403, 404, 429]);

function packageFile(pkg: string, file: string): string {
  // Neither package exports these files by name; find the package folder where Node would.
  for (const dir of require.resolve.paths(pkg) ?? []) {
    const candidate = path.join(dir, pkg, file);
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`${pkg}/${file} is not installed: run npm ci`);
}

/**
 * OpenAPI 3.0's `nullable` beside a `$ref`, `allOf` or `oneOf` (no `type`) has no JSON Schema meaning:
 * it becomes "that, or null", in place, throughout the description.
 */
function nullableWithoutType(node: any): void {
  if (Array.isArray(node)) return node.forEach(nullableWithoutType);
  if (typeof node !== "object" || node === null) return;
  for (const v of Object.values(node)) nullableWithoutType(v);
  if (node.nullable === true && node.type === undefined) {
    const rest = { ...node };
    delete rest.nullable;
    for (const k of Object.keys(node)) delete node[k];
    node.anyOf = [rest, { type: "null" }];
  }
}

/** A JSON pointer fragment for a key. */
const pointer = (key: string) => key.replace(/~/g, "~0").replace(/\//g, "~1");

const descriptions = new Map<Variant, GitHubDescription>();
let graphqlSchema: GraphQLSchema | undefined;

export class GitHubDescription {
  private readonly routes: Route[] = [];
  private readonly ajv: Ajv;
  /** A second validator that reads parameters as GitHub does: strings coerced to the declared type. */
  private readonly params: Ajv;
  private readonly compiled = new Map<string, ValidateFunction>();

  private constructor(
    private readonly spec: { paths: Record<string, Record<string, Operation>>; components: Record<string, Record<string, Schema>> },
    readonly variant: Variant,
  ) {
    this.ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
    addFormats(this.ajv);
    this.ajv.addSchema(spec as object, "github");
    this.params = new Ajv({ strict: false, coerceTypes: true, validateSchema: false });
    for (const [template, item] of Object.entries(spec.paths)) {
      const names: string[] = [];
      const segments = template.split("/");
      const source = segments
        .map((segment, i) =>
          segment.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\\?\{([^}]+)\\?\}/g, (_m, name: string) => {
            names.push(name);
            // The last parameter may hold slashes (a ref such as heads/main, a file path).
            return i === segments.length - 1 ? "(.+)" : "([^/]+)";
          }),
        )
        .join("/");
      const literal = template.replace(/\{[^}]+\}/g, "").length;
      for (const [method, operation] of Object.entries(item)) {
        if (!["get", "put", "post", "patch", "delete", "head"].includes(method)) continue;
        this.routes.push({ method: method.toUpperCase(), template, pattern: new RegExp(`^${source}$`), literal, names, operation });
      }
    }
    this.routes.sort((a, b) => b.literal - a.literal);
  }

  /** The description of `variant`, loaded once per process (the files are large). */
  static load(variant: Variant = "api.github.com"): GitHubDescription {
    let d = descriptions.get(variant);
    if (!d) {
      const spec = JSON.parse(fs.readFileSync(packageFile("@octokit/openapi", `generated/${variant}.json`), "utf8"));
      nullableWithoutType(spec.components);
      nullableWithoutType(spec.paths);
      d = new GitHubDescription(spec, variant);
      descriptions.set(variant, d);
    }
    return d;
  }

  private resolve<T>(value: T | { $ref: string }): T {
    let v: any = value;
    while (v && typeof v === "object" && typeof v.$ref === "string") {
      v = v.$ref
        .replace(/^#\//, "")
        .split("/")
        .map((k: string) => k.replace(/~1/g, "/").replace(/~0/g, "~"))
        .reduce((o: any, k: string) => o?.[k], this.spec);
    }
    return v as T;
  }

  /** The operation for `method` and a request path, as GitHub routes it. */
  match(method: string, pathname: string): Matched | undefined {
    for (const route of this.routes) {
      if (route.method !== method.toUpperCase()) continue;
      const m = route.pattern.exec(pathname);
      if (m) return { route, params: Object.fromEntries(route.names.map((n, i) => [n, m[i + 1]])) };
    }
    return undefined;
  }

  /** `METHOD /template (operationId)`: how a message names the operation. */
  static label(m: Matched): string {
    return `${m.route.method} ${m.route.template} (${m.route.operation.operationId})`;
  }

  private parameters(m: Matched): Parameter[] {
    const shared = (this.spec.paths[m.route.template] as { parameters?: (Parameter | { $ref: string })[] }).parameters ?? [];
    return [...shared, ...(m.route.operation.parameters ?? [])].map((p) => this.resolve<Parameter>(p));
  }

  private validator(key: string, schema: Schema, ajv = this.ajv): ValidateFunction {
    let v = this.compiled.get(key);
    if (!v) {
      v = ajv.compile(schema);
      this.compiled.set(key, v);
    }
    return v;
  }

  /**
   * What is wrong with a request, one message each (none when it is one GitHub describes): an operation
   * for the method and path, declared and well-typed parameters, a body valid against the operation's
   * schema with no field the operation does not declare (GitHub ignores those, silently).
   */
  checkRequest(method: string, pathname: string, query: URLSearchParams, body: unknown): string[] {
    const m = this.match(method, pathname);
    if (!m) return [`${method} ${pathname}: no operation of GitHub's API (${this.variant}) has this method and path`];
    const label = GitHubDescription.label(m);
    const problems: string[] = [];
    const params = this.parameters(m);
    const check = (p: Parameter, value: string) => {
      if (!p.schema) return;
      const v = this.validator(`param ${label} ${p.in} ${p.name}`, { type: "object", properties: { value: p.schema } }, this.params);
      if (!v({ value })) problems.push(`${label}: ${p.in} parameter ${p.name}=${JSON.stringify(value)} ${v.errors?.[0]?.message ?? "is invalid"}`);
    };
    for (const [name, value] of Object.entries(m.params)) {
      const p = params.find((x) => x.in === "path" && x.name === name);
      if (p) check(p, decodeURIComponent(value));
    }
    for (const [name, value] of query) {
      const p = params.find((x) => x.in === "query" && x.name === name);
      if (!p) problems.push(`${label}: query parameter ${name} is not declared by this operation`);
      else check(p, value);
    }
    for (const p of params.filter((x) => x.in === "query" && x.required && !query.has(x.name))) {
      problems.push(`${label}: required query parameter ${p.name} is missing`);
    }
    const requestBody = m.route.operation.requestBody ? this.resolve(m.route.operation.requestBody) : undefined;
    const schema = requestBody?.content?.["application/json"]?.schema;
    if (body === undefined) {
      if (requestBody?.required) problems.push(`${label}: the request has no body, and the operation requires one`);
    } else if (!schema) {
      problems.push(`${label}: the operation takes no request body`);
    } else {
      const v = this.validator(`body ${label}`, this.closed(schema));
      if (!v(body)) problems.push(...(v.errors ?? []).map((e) => `${label}: request body${describe(e)}`));
    }
    return problems;
  }

  /**
   * The operation's request schema with every object closed: a field it does not declare is an error
   * here, where GitHub would drop it without a word (and do something else than asked).
   */
  private closed(schema: Schema, depth = 0): Schema {
    const s = this.resolve(schema);
    if (depth > 12 || typeof s !== "object" || s === null) return s;
    if (Array.isArray(s)) return s.map((x) => this.closed(x, depth + 1));
    const out: Schema = {};
    for (const [k, v] of Object.entries(s)) {
      if (k === "properties") out[k] = Object.fromEntries(Object.entries(v as Schema).map(([p, ps]) => [p, this.closed(ps as Schema, depth + 1)]));
      else if (["items", "oneOf", "anyOf", "additionalProperties"].includes(k) && typeof v === "object") out[k] = this.closed(v as Schema, depth + 1);
      else out[k] = v;
    }
    // allOf members are parts of one object: closing each alone would refuse the others' fields.
    if (out.properties && out.additionalProperties === undefined && !out.allOf) out.additionalProperties = false;
    return out;
  }

  /** What is wrong with an answer to a request: a status the operation documents, and a body valid against that response. */
  checkResponse(method: string, pathname: string, status: number, body: unknown): string[] {
    const m = this.match(method, pathname);
    if (!m) return [];
    const label = GitHubDescription.label(m);
    const documented = m.route.operation.responses[String(status)];
    let schemaPath: string;
    if (documented) {
      const response = this.resolve(documented);
      const content = response.content as Record<string, { schema?: Schema }> | undefined;
      if (!content?.["application/json"]?.schema) {
        return body === undefined || body === "" ? [] : [`${label}: a ${status} answer has no body in the description`];
      }
      schemaPath = documented.$ref
        ? `${documented.$ref}/content/application~1json/schema`
        : `#/paths/${pointer(m.route.template)}/${m.route.method.toLowerCase()}/responses/${status}/content/application~1json/schema`;
    } else if (ANY_ENDPOINT.has(status)) {
      schemaPath = "#/components/schemas/basic-error";
    } else {
      return [`${label}: status ${status} is not among the operation's documented answers (${Object.keys(m.route.operation.responses).join(", ")})`];
    }
    const v = this.validator(`response ${schemaPath}`, { $ref: `github${schemaPath}` });
    if (v(body)) return [];
    return (v.errors ?? []).slice(0, 5).map((e) => `${label}: ${status} answer${describe(e)}`);
  }

  /** The documented example of an operation's answer with `status` (deep copy), the base of the fake's answers. */
  example(method: string, template: string, status: number): any {
    const op = this.spec.paths[template]?.[method.toLowerCase()];
    const response = op && this.resolve(op.responses[String(status)]);
    const content = response?.content?.["application/json"];
    const first = content?.examples ? Object.values(content.examples)[0] : undefined;
    const value = first ? this.resolve<{ value: unknown }>(first as { $ref: string }).value : content?.example;
    if (value === undefined) throw new Error(`GitHub's description has no example of ${method} ${template} ${status}`);
    return structuredClone(value);
  }
}

function describe(e: ErrorObject): string {
  const at = e.instancePath ? ` ${e.instancePath}` : "";
  if (e.keyword === "additionalProperties")
    return `${at}: field "${(e.params as { additionalProperty: string }).additionalProperty}" is not declared by this operation`;
  if (e.keyword === "enum") return `${at}: ${e.message} (${(e.params as { allowedValues: unknown[] }).allowedValues.map((x) => JSON.stringify(x)).join(", ")})`;
  return `${at}: ${e.message}`;
}

/** GitHub's GraphQL schema (public, api.github.com), built once from its introspection result, as the package's own validator does. */
export function githubGraphQLSchema(): GraphQLSchema {
  graphqlSchema ??= buildClientSchema(JSON.parse(fs.readFileSync(packageFile("@octokit/graphql-schema", "schema.json"), "utf8")));
  return graphqlSchema;
}

/** What is wrong with a GraphQL request: its document against GitHub's schema, and its variables against the document's definitions. */
export function checkGraphQL(query: unknown, variables: unknown): string[] {
  if (typeof query !== "string") return ["POST /graphql: the request has no query"];
  let document;
  try {
    document = parse(query);
  } catch (e) {
    return [`POST /graphql: the query does not parse: ${(e as Error).message}`];
  }
  const schema = githubGraphQLSchema();
  const errors = validateGraphQL(schema, document).map((e) => `POST /graphql: ${e.message}`);
  if (errors.length > 0) return errors;
  const operation = getOperationAST(document);
  if (!operation) return ["POST /graphql: the document has no single operation"];
  const values = getVariableValues(schema, operation.variableDefinitions ?? [], (variables ?? {}) as Record<string, unknown>);
  return (values.errors ?? []).map((e) => `POST /graphql: ${e.message}`);
}
