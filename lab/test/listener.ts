// An HTTPS endpoint on 127.0.0.1 that keeps what is posted to it, by path: where a Flux `generic` Provider sends events.
import * as fs from "fs";
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
