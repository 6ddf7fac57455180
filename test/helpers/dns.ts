// A tiny real DNS server (UDP on loopback) answering from a table, so the gateway's own resolver
// (node:dns with tlsProbe.dnsServers) asks it as it would ask any name server.
import { createSocket, type Socket } from "node:dgram";
import type { AddressInfo } from "node:net";
import * as packet from "dns-packet";

export interface Zone {
  mx?: Record<string, { exchange: string; priority: number }[]>;
  a?: Record<string, string[]>;
  aaaa?: Record<string, string[]>;
  txt?: Record<string, string[]>;
}

const TTL = 60;
const NXDOMAIN = 3;

export class DnsServer {
  /** "TYPE name" of every question asked, in order. */
  readonly queries: string[] = [];
  private socket: Socket | null = null;
  port = 0;

  constructor(private readonly zone: Zone) {}

  /** "127.0.0.1:PORT", as tlsProbe.dnsServers takes it. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    const socket = createSocket("udp4");
    socket.on("message", (message, from) => {
      const reply = this.answer(message);
      if (reply) socket.send(reply, from.port, from.address);
    });
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
    this.socket = socket;
    this.port = (socket.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const socket = this.socket;
    this.socket = null;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  private answer(message: Buffer): Buffer | null {
    let query: packet.DecodedPacket;
    try {
      query = packet.decode(message);
    } catch {
      return null; // not DNS: a real server drops it too
    }
    const question = query.questions?.[0];
    if (!question) return null;
    const name = question.name.toLowerCase();
    this.queries.push(`${question.type} ${name}`);
    const answers = this.records(question.type, name);
    const exists = Object.values(this.zone).some((table: Record<string, unknown>) => name in table);
    return packet.encode({
      id: query.id,
      type: "response",
      flags: packet.AUTHORITATIVE_ANSWER | (exists ? 0 : NXDOMAIN),
      questions: [question],
      answers,
    });
  }

  private records(type: string, name: string): packet.Answer[] {
    const base = { name, ttl: TTL, class: "IN" as const };
    const { mx, a, aaaa, txt } = this.zone;
    if (type === "MX")
      return (mx?.[name] ?? []).map((r) => ({
        ...base,
        type: "MX",
        data: { exchange: r.exchange, preference: r.priority },
      }));
    if (type === "A") return (a?.[name] ?? []).map((data) => ({ ...base, type: "A", data }));
    if (type === "AAAA") return (aaaa?.[name] ?? []).map((data) => ({ ...base, type: "AAAA", data }));
    if (type === "TXT") return (txt?.[name] ?? []).map((data) => ({ ...base, type: "TXT", data }));
    return [];
  }
}
