// An HTTPS endpoint on 127.0.0.1 that keeps what is posted to it, by path: where a Flux `generic` Provider sends events.
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import type { AddressInfo } from "net";
import type { LabState } from "../state";

/** What a Flux generic Provider posts: the event (fluxcd/pkg's runtime/events Event), the fields the tests read. */
export interface FluxEvent {
  readonly involvedObject?: { readonly kind?: string; readonly namespace?: string; readonly name?: string };
  readonly severity?: string;
  readonly message?: string;
  readonly reason?: string;
  readonly unparsed?: string;
}

export interface Received {
  readonly path: string;
  readonly at: number;
  readonly body: FluxEvent;
}

export class EventListener {
  readonly received: Received[] = [];
  private server?: https.Server;

  /** Serves with the lab's 127.0.0.1 certificate (the lab CA's, which a Provider trusts through its ca.crt). */
  async start(state: LabState): Promise<void> {
    this.server = https.createServer({ cert: fs.readFileSync(state.pki.githubCert), key: fs.readFileSync(state.pki.githubKey) }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let body: FluxEvent;
        try {
          body = JSON.parse(text) as FluxEvent;
        } catch {
          body = { unparsed: text };
        }
        this.received.push({ path: req.url ?? "", at: Date.now(), body });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
  }

  get url(): string {
    return `https://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    if (this.server) await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

/** One request the forwarder passed on, and what the service behind it answered. */
export interface Forwarded {
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly status: number;
}

/**
 * An HTTPS front on 127.0.0.1 for a plain-HTTP service there, as an Ingress terminates TLS before notification-controller's
 * webhook receiver: each request goes on unchanged (method, path, headers, body), and each answer comes back.
 */
export class HttpsForwarder {
  readonly forwarded: Forwarded[] = [];
  private server?: https.Server;

  async start(state: LabState, targetPort: number): Promise<void> {
    this.server = https.createServer({ cert: fs.readFileSync(state.pki.githubCert), key: fs.readFileSync(state.pki.githubKey) }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        const out = http.request(
          { host: "127.0.0.1", port: targetPort, method: req.method, path: req.url, headers: { ...req.headers, host: `127.0.0.1:${targetPort}` } },
          (answer) => {
            this.forwarded.push({ path: req.url ?? "", headers: req.headers, status: answer.statusCode ?? 0 });
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        out.on("error", (e) => {
          this.forwarded.push({ path: req.url ?? "", headers: req.headers, status: 502 });
          res.writeHead(502).end(String(e));
        });
        out.end(body);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
  }

  get url(): string {
    return `https://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    if (this.server) await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}
