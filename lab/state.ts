// A running lab's settings, written once by `up` and read by everything else: addresses, files, binaries, versions.
import * as fs from "fs";
import type { Pki } from "./pki";
import { RUN, runPath } from "./layout";

export interface Ports {
  readonly etcdClient: number;
  readonly etcdPeer: number;
  readonly apiserver: number;
  readonly controllerManager: number;
  readonly scheduler: number;
  readonly kwok: number;
  readonly git: number;
  readonly gitHttp: number;
  readonly github: number;
}

export interface LabState {
  readonly startedAt: string;
  /** Binary paths by name, and `kube:data` for the kwok stages. */
  readonly bins: Readonly<Record<string, string>>;
  readonly ports: Ports;
  /** Service range of the API server and its first address (the `kubernetes` Service). */
  readonly serviceCidr: string;
  readonly serviceIp: string;
  readonly pki: Pki;
  /** Kubeconfig files by identity. */
  readonly kubeconfigs: { readonly admin: string; readonly controllerManager: string; readonly scheduler: string };
  readonly git: {
    /** `ssh://git@127.0.0.1:PORT`; repositories are `<url>/<name>.git`. */
    readonly url: string;
    /** `http://127.0.0.1:PORT`: the same repositories, anonymous and read-only. */
    readonly httpUrl: string;
    readonly repos: string;
    readonly hostKeyDir: string;
    readonly authorizedKeys: string;
    /** known_hosts line(s) of the server's host key. */
    readonly knownHosts: string;
    /** The lab's own push key (authorised at start), OpenSSH private key file. */
    readonly identity: string;
    /** Deploy keys the lab GitHub registered: `<fingerprint> <owner>/<repository> <ro|rw>` lines, the only repositories those keys reach. */
    readonly deployKeys: string;
    /** Webhooks the server calls on push (as a Git host does), JSON: `{"<repository path without .git>": [{url, secret}]}`; read at each push. */
    readonly webhooks: string;
  };
  /** The lab's GitHub (a GitHub Enterprise Server's API, held to its description), its repositories on the Git server above. */
  readonly github: {
    /** `https://127.0.0.1:PORT/api/v3`, its certificate from the lab's CA. */
    readonly apiUrl: string;
    readonly host: string;
    /** Requests and answers it saw outside GitHub's description, one a line (none is right). */
    readonly violations: string;
    /** Every request it served, one a line: `R` (a read) or `W` (a write, GraphQL mutations too), then `METHOD /path`. */
    readonly requests: string;
  };
  /** The simulated node kwok keeps Ready. */
  readonly nodeName: string;
  /** Flux install manifest the controllers' versions were checked against. */
  readonly fluxManifest: string;
  /** Module path -> version of every built component. */
  readonly versions: Readonly<Record<string, string>>;
}

export function readState(): LabState | undefined {
  try {
    return JSON.parse(fs.readFileSync(runPath(RUN.state), "utf8")) as LabState;
  } catch {
    return undefined;
  }
}

export function writeState(state: LabState): void {
  fs.writeFileSync(runPath(RUN.state), JSON.stringify(state, null, 2) + "\n");
}
