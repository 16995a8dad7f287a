// The lab's own calls to its API server, as the admin client certificate: a few JSON requests, no client library.
import * as fs from "fs";
import * as https from "https";
import type { LabState } from "./state";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: HTTP ${status}: ${body.slice(0, 500)}`);
    this.name = "ApiError";
  }
}

export interface KubeApi {
  request<T>(method: string, path: string, body?: unknown): Promise<T>;
}

export function kubeApi(state: LabState): KubeApi {
  const agent = new https.Agent({
    ca: fs.readFileSync(state.pki.caCert),
    cert: fs.readFileSync(state.pki.clients.admin.cert),
    key: fs.readFileSync(state.pki.clients.admin.key),
    keepAlive: true,
    maxSockets: 4,
  });
  return {
    request<T>(method: string, path: string, body?: unknown): Promise<T> {
      const data = body === undefined ? undefined : JSON.stringify(body);
      return new Promise((resolve, reject) => {
        const req = https.request(
          {
            host: "127.0.0.1",
            port: state.ports.apiserver,
            path,
            method,
            agent,
            timeout: 10_000,
            headers: { accept: "application/json", ...(data ? { "content-type": "application/json", "content-length": Buffer.byteLength(data) } : {}) },
          },
          (res) => {
            let text = "";
            res.setEncoding("utf8");
            res.on("data", (d) => (text += d));
            res.on("end", () => {
              const status = res.statusCode ?? 0;
              if (status >= 200 && status < 300) resolve((text ? JSON.parse(text) : undefined) as T);
              else reject(new ApiError(status, text, `${method} ${path}`));
            });
          },
        );
        req.on("timeout", () => req.destroy(new Error(`${method} ${path}: timeout`)));
        req.on("error", reject);
        req.end(data);
      });
    },
  };
}

/** A kubeconfig for one identity against the lab API server (certificate data or a token inline). */
export function kubeconfigText(state: Pick<LabState, "ports" | "pki">, user: { cert?: string; key?: string; token?: string }, name = "flux-lab"): string {
  const b64 = (file: string) => fs.readFileSync(file).toString("base64");
  const credentials =
    user.token !== undefined ? { token: user.token } : { "client-certificate-data": b64(user.cert as string), "client-key-data": b64(user.key as string) };
  return JSON.stringify(
    {
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name, cluster: { server: `https://127.0.0.1:${state.ports.apiserver}`, "certificate-authority-data": b64(state.pki.caCert) } }],
      users: [{ name, user: credentials }],
      contexts: [{ name, context: { cluster: name, user: name } }],
      "current-context": name,
    },
    null,
    2,
  );
}
