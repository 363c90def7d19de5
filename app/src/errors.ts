/**
 * Program errors by name. A failed transaction reports a custom program error
 * as a number (`custom program error: 0x1770`, `{"Custom":6000}`); this turns
 * it into the program's error name and message from the IDL (`XmarginError`,
 * codes 6000 + n) or Anchor's framework errors (codes 100–5999, e.g. 2006
 * `ConstraintSeeds`), and tells which program raised it.
 */
import { LangErrorCode, LangErrorMessage } from "@anchor-lang/core";
import { PublicKey } from "@solana/web3.js";
import idlJson from "./idl/xmargin.json";
import { XMARGIN_PROGRAM_ID } from "./pda.ts";

/** First code of the program's own errors (Anchor's `ERROR_CODE_OFFSET`). */
export const XMARGIN_ERROR_CODE_OFFSET = 6_000;

/** A program error, by code, name and message. */
export interface ProgramErrorInfo {
  code: number;
  /** `XmarginError` variant or Anchor `ErrorCode` name; `null` when neither (another program's error). */
  name: string | null;
  message: string | null;
  /** `xmargin` (the IDL's errors), `anchor` (Anchor's framework errors, raised by xmargin), or `other`. */
  source: "xmargin" | "anchor" | "other";
  /** The program that failed with it, when the logs tell. */
  program: PublicKey | null;
  /** Index of the failing instruction in the transaction, when the error tells. */
  instructionIndex: number | null;
}

const XMARGIN_ERRORS = new Map<number, { name: string; msg: string }>(
  (idlJson as { errors: { code: number; name: string; msg?: string }[] }).errors
    .map((e) => [e.code, { name: e.name, msg: e.msg ?? e.name }]),
);
const ANCHOR_ERROR_NAMES = new Map<number, string>(
  Object.entries(LangErrorCode as Record<string, number>).map(([name, code]) => [code, name]),
);

/**
 * Name and message of error `code` as raised by the xmargin program: its own
 * errors from the IDL, or Anchor's framework errors; `null` for other codes.
 */
export function xmarginErrorByCode(code: number): { name: string; message: string; source: "xmargin" | "anchor" } | null {
  const ours = XMARGIN_ERRORS.get(code);
  if (ours) return { name: ours.name, message: ours.msg, source: "xmargin" };
  const lang = ANCHOR_ERROR_NAMES.get(code);
  if (lang) return { name: lang, message: LangErrorMessage.get(code) ?? lang, source: "anchor" };
  return null;
}

const FAILED_LOG = /^Program (\w+) failed: custom program error: 0x([0-9a-f]+)/i;

function asText(err: unknown): string {
  if (err === null || err === undefined) return "";
  if (typeof err === "string") return err;
  if (err instanceof Error) return err.message;
  try {
    return JSON.stringify(err, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  } catch {
    return String(err);
  }
}

/** Logs carried by an error from web3.js, Anchor or a test harness (`logs`, `transactionLogs`). */
function logsOf(err: unknown): string[] {
  if (err && typeof err === "object") {
    for (const key of ["logs", "transactionLogs"]) {
      const v = (err as Record<string, unknown>)[key];
      if (Array.isArray(v) && v.every((l) => typeof l === "string")) return v as string[];
    }
  }
  return [];
}

/**
 * The custom program error of a failed transaction, decoded: from the logs'
 * `Program <id> failed: custom program error: 0x…` line (the first one: the
 * program that raised it, before the callers that pass it on), else from the
 * error itself (`{"InstructionError":[i,{"Custom":n}]}`, `Custom(n)`,
 * `Custom { code: n }`, an Anchor `AnchorError`/`ProgramError`). `null` when
 * it is not a custom program error. Codes map to names only when xmargin
 * raised them (or when no log tells which program did).
 */
export function parseProgramError(err: unknown, logs: string[] = logsOf(err), programId: PublicKey = XMARGIN_PROGRAM_ID): ProgramErrorInfo | null {
  const text = asText(err);
  const indexMatch = /InstructionError"?\s*[:(\[{]\s*\[?\s*(?:index:\s*)?(\d+)/.exec(text)
    ?? /Error processing Instruction (\d+)/.exec(text);
  const instructionIndex = indexMatch ? Number(indexMatch[1]) : null;
  let code: number | null = null;
  let program: PublicKey | null = null;
  for (const l of logs) {
    const m = FAILED_LOG.exec(l);
    if (m) {
      code = parseInt(m[2], 16);
      try {
        program = new PublicKey(m[1]);
      } catch {
        program = null;
      }
      break;
    }
  }
  if (code === null) {
    const anchor = (err as { error?: { errorCode?: { number?: unknown } }; code?: unknown } | null)?.error?.errorCode?.number;
    const m = /Custom"?\s*(?:\(\s*|\{\s*code:\s*|:\s*)(\d+)/.exec(text) ?? /custom program error: 0x([0-9a-f]+)/i.exec(text);
    if (typeof anchor === "number") code = anchor;
    else if (m) code = m[0].toLowerCase().includes("0x") ? parseInt(m[1], 16) : Number(m[1]);
  }
  if (code === null) return null;
  const ours = program === null || program.equals(programId) ? xmarginErrorByCode(code) : null;
  return {
    code, name: ours?.name ?? null, message: ours?.message ?? null, source: ours?.source ?? "other", program,
    instructionIndex,
  };
}

/** A failed xmargin transaction, by error name: `error.name` is the program's (e.g. `NotLiquidatable`). */
export class XmarginProgramError extends Error {
  constructor(readonly info: ProgramErrorInfo, readonly logs: string[] = [], readonly cause?: unknown) {
    super(describeProgramError(info));
  }

  get code(): number {
    return this.info.code;
  }

  /** The error's name (the IDL's or Anchor's), or `null` for another program's code. */
  get errorName(): string | null {
    return this.info.name;
  }

  /** Throws `err` as an `XmarginProgramError` when it carries a custom program error, else unchanged. */
  static rethrow(err: unknown, logs?: string[], programId?: PublicKey): never {
    const info = parseProgramError(err, logs ?? logsOf(err), programId);
    if (info) throw new XmarginProgramError(info, logs ?? logsOf(err), err);
    throw err;
  }
}

/** `"NotLiquidatable (6012): the account is not liquidatable"`, or the bare code of another program's error. */
export function describeProgramError(info: ProgramErrorInfo): string {
  const at = info.instructionIndex !== null ? ` in instruction ${info.instructionIndex}` : "";
  if (info.name) return `${info.name} (${info.code}): ${info.message}${at}`;
  const by = info.program ? ` of program ${info.program.toBase58()}` : "";
  return `custom program error ${info.code} (0x${info.code.toString(16)})${by}${at}`;
}
