/**
 * The program's events (`emit!`, `Program data: …` log lines) decoded from a
 * transaction's logs with the IDL, by name (`Deposited`, `TokenLiquidated`,
 * `Traded`, …). Only events the xmargin program itself logged are returned,
 * not another program's that happen to share a discriminator.
 */
import { EventParser, type IdlEvents, type Program } from "@anchor-lang/core";
import type { Connection } from "@solana/web3.js";
import type { Xmargin } from "./idl/xmargin.ts";

/** Every event type by name, as decoded (integers as `BN`, keys as `PublicKey`). */
export type XmarginEvents = IdlEvents<Xmargin>;
/** An event's name as Anchor decodes it: camelCase (`tokenLiquidated` for the program's `TokenLiquidated`). */
export type XmarginEventName = keyof XmarginEvents & string;

/** One decoded event. */
export type XmarginEvent = { [N in XmarginEventName]: { name: N; data: XmarginEvents[N] } }[XmarginEventName];

/** What event parsing needs: the program's id and coder (an `XmarginClient` or its `program`). */
export type EventSource = { program: Program<Xmargin> } | Program<Xmargin>;

function programOf(src: EventSource): Program<Xmargin> {
  return "methods" in src ? src : src.program;
}

/** The program's events in `logs`, in order. */
export function parseEvents(src: EventSource, logs: string[]): XmarginEvent[] {
  const program = programOf(src);
  const parser = new EventParser(program.programId, program.coder);
  return [...parser.parseLogs(logs)].map((e) => ({ name: e.name, data: e.data }) as XmarginEvent);
}

/** The events named `name` in `logs` (`tokenLiquidated` or the program's `TokenLiquidated`). */
export function eventsNamed<N extends XmarginEventName | Capitalize<XmarginEventName>>(
  src: EventSource, logs: string[], name: N,
): XmarginEvents[Uncapitalize<N> & XmarginEventName][] {
  return parseEvents(src, logs).filter((e) => e.name.toLowerCase() === name.toLowerCase())
    .map((e) => e.data as XmarginEvents[Uncapitalize<N> & XmarginEventName]);
}

/** The events of a confirmed transaction, read with `getTransaction` (v0 transactions included). */
export async function transactionEvents(src: EventSource, connection: Connection, signature: string): Promise<XmarginEvent[]> {
  const tx = await connection.getTransaction(signature, { commitment: "confirmed", maxSupportedTransactionVersion: 0 });
  if (!tx) throw new Error(`transaction ${signature} not found`);
  return parseEvents(src, tx.meta?.logMessages ?? []);
}
