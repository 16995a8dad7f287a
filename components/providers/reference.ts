// A dynamic provider as the state holds it: a reference to its implementation, not its code.
//
// Pulumi writes each dynamic resource's provider into the state (its inputs and its outputs alike) as the text its
// closure serializer makes: a provider whose methods close over this program's modules carries those modules along,
// 7 to 26 KB each, twice per resource. Here a provider's methods only name it; the dynamic-provider host requires
// `flux-multi-tenancy-providers` (this folder, a local package of the program: see package.json and load.js) from
// the program's node_modules when it first calls one, and calls the implementation's method there.
import type * as pulumi from "@pulumi/pulumi";
import type { providers } from "./registry";

/** A provider of the registry, by its name there. */
export type ProviderName = keyof typeof providers;

type Props = Record<string, unknown>;
type Method = "check" | "diff" | "create" | "read" | "update" | "delete";

/**
 * The methods a provider offers the host. `update` whenever there is a `diff`: a change of the provider's own text
 * (the state of a stack made before the references, or by another version of the program) is an update that keeps
 * what the resource is (see `loaded`), and the host's update without a method would drop the outputs.
 */
export function methodsOf(impl: pulumi.dynamic.ResourceProvider): Method[] {
  const methods = (["check", "diff", "create", "read", "update", "delete"] as const).filter((m) => impl[m] !== undefined);
  return impl.diff && !impl.update ? [...methods, "update"] : methods;
}

/** The method `method` of the registry's provider `name`, reached at run time by the package's name (this folder, linked into node_modules). */
function forward(name: string, method: string): (...args: unknown[]) => unknown {
  // Only the two strings are captured: `require` is the host's, resolved from the program's directory.
  return (...args) => require("flux-multi-tenancy-providers").providers[name][method](...args);
}

/** One reference per provider: the SDK serializes a provider object once and reuses the text for every resource of it. */
const references = new Map<ProviderName, pulumi.dynamic.ResourceProvider>();

/** What a resource gives `pulumi.dynamic.Resource`: the same methods as `impl`, each a reference to it by name. */
export function byReference<I, O>(name: ProviderName, impl: pulumi.dynamic.ResourceProvider<I, O>): pulumi.dynamic.ResourceProvider<I, O> {
  let reference = references.get(name);
  if (!reference) {
    reference = Object.fromEntries(
      methodsOf(impl as pulumi.dynamic.ResourceProvider).map((m) => [m, forward(name, m)]),
    ) as unknown as pulumi.dynamic.ResourceProvider;
    references.set(name, reference);
  }
  return reference as pulumi.dynamic.ResourceProvider<I, O>;
}

const PROVIDER_KEY = "__provider";

function withoutProvider<T>(props: T): T {
  if (props === undefined || props === null) return props;
  const rest = { ...(props as Props) };
  delete rest[PROVIDER_KEY];
  return rest as T;
}

/** Whether the state's provider text differs from the program's: the resource is the same, its provider is not. */
function providerTextChanged(olds: unknown, news: unknown): boolean {
  return (olds as Props | undefined)?.[PROVIDER_KEY] !== (news as Props | undefined)?.[PROVIDER_KEY];
}

/**
 * An implementation as the host calls it through a reference. It sees its own properties only (the host keeps
 * `__provider` itself), and a resource whose provider text alone changed is updated to the new text with its outputs
 * as they were: nothing is replaced, nothing is done to what it manages.
 */
export function loaded<I, O>(impl: pulumi.dynamic.ResourceProvider<I, O>): pulumi.dynamic.ResourceProvider<I, O> {
  const p = impl as pulumi.dynamic.ResourceProvider;
  const sameResource = async (id: string, olds: Props, news: Props) =>
    providerTextChanged(olds, news) && !(await p.diff!(id, withoutProvider(olds), withoutProvider(news))).changes;
  const out: pulumi.dynamic.ResourceProvider = {
    create: (inputs) => p.create(withoutProvider(inputs)),
  };
  if (p.check) out.check = (olds, news) => p.check!(withoutProvider(olds), withoutProvider(news));
  if (p.read) out.read = (id, props) => p.read!(id, withoutProvider(props));
  if (p.delete) out.delete = (id, props) => p.delete!(id, withoutProvider(props));
  if (p.diff) {
    out.diff = async (id, olds, news) => {
      const result = await p.diff!(id, withoutProvider(olds), withoutProvider(news));
      return !result.changes && providerTextChanged(olds, news) ? { ...result, changes: true } : result;
    };
    out.update = async (id, olds, news) => {
      if (await sameResource(id, olds, news)) return { outs: withoutProvider(olds) };
      if (!p.update) throw new Error(`${id}: this provider replaces its resources on a change, and was asked to update one`);
      return p.update(id, withoutProvider(olds), withoutProvider(news));
    };
  } else if (p.update) {
    out.update = (id, olds, news) => p.update!(id, withoutProvider(olds), withoutProvider(news));
  }
  return out as pulumi.dynamic.ResourceProvider<I, O>;
}
