/**
 * Wallet actions: deposit, withdraw, borrow, repay (and creating the margin
 * account), built with the client's instruction builders, simulated first
 * (a failure is shown by the program's error name before anything is signed),
 * then signed by the connected wallet and sent.
 */
import { utils } from "@anchor-lang/core";
import { Buffer } from "buffer";
import {
  type AddressLookupTableAccount, type Connection, PublicKey, SystemProgram, TransactionInstruction, VersionedTransaction,
} from "@solana/web3.js";
import {
  buildLegacyMessage, buildV0Message, describeProgramError, type MarginAccountData, parseProgramError,
  type ProgramErrorInfo, TOKEN_PROGRAM_ID, type XmarginClient,
} from "@xmargin/client";
import { chainOf, type Connected, signOrSend, supportsV0 } from "./wallet.ts";

export const ASSOCIATED_TOKEN_PROGRAM_ID = new PublicKey("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");

export type ActionKind = "deposit" | "withdraw" | "borrow" | "repay";

/** A failed action: the program's error by name and message when it raised one, and the logs. */
export class ActionError extends Error {
  constructor(message: string, readonly programError: ProgramErrorInfo | null, readonly logs: string[]) {
    super(message);
  }
}

export function associatedTokenAddress(owner: PublicKey, mint: PublicKey): PublicKey {
  return PublicKey.findProgramAddressSync([owner.toBuffer(), TOKEN_PROGRAM_ID.toBuffer(), mint.toBuffer()],
    ASSOCIATED_TOKEN_PROGRAM_ID)[0];
}

/** `CreateIdempotent` of the associated token account program. */
function createAtaIdempotentIx(payer: PublicKey, owner: PublicKey, mint: PublicKey): TransactionInstruction {
  const ata = associatedTokenAddress(owner, mint);
  return new TransactionInstruction({
    programId: ASSOCIATED_TOKEN_PROGRAM_ID,
    keys: [
      { pubkey: payer, isSigner: true, isWritable: true }, { pubkey: ata, isSigner: false, isWritable: true },
      { pubkey: owner, isSigner: false, isWritable: false }, { pubkey: mint, isSigner: false, isWritable: false },
      { pubkey: SystemProgram.programId, isSigner: false, isWritable: false },
      { pubkey: TOKEN_PROGRAM_ID, isSigner: false, isWritable: false },
    ],
    data: Buffer.from([1]),
  });
}

export interface WalletTokenAccount {
  address: PublicKey;
  /** Native units. */
  amount: bigint;
}

/** The wallet's token account of `mint` holding the most (its associated one on a tie), or `null`. */
export async function walletTokenAccount(connection: Connection, owner: PublicKey, mint: PublicKey): Promise<WalletTokenAccount | null> {
  const res = await connection.getParsedTokenAccountsByOwner(owner, { mint }, "confirmed");
  const ata = associatedTokenAddress(owner, mint);
  const all = res.value.map((a) => ({
    address: a.pubkey,
    amount: BigInt((a.account.data as { parsed: { info: { tokenAmount: { amount: string } } } }).parsed.info.tokenAmount.amount),
  }));
  all.sort((x, y) => (x.amount === y.amount ? (x.address.equals(ata) ? -1 : 1) : x.amount > y.amount ? -1 : 1));
  return all[0] ?? null;
}

export interface ActionInput {
  kind: ActionKind;
  client: XmarginClient;
  wallet: Connected;
  rpc: string;
  /** The wallet's margin account (owner or delegate). */
  account: PublicKey;
  accountData: MarginAccountData;
  tokenIndex: number;
  /** Native units. */
  amount: bigint;
  /** The group's lookup table (v0 transactions: accounts with many positions do not fit without it). */
  lookupTable?: AddressLookupTableAccount | null;
}

/** Builds, simulates, signs with the wallet, sends and confirms; returns the signature. Throws `ActionError`. */
export async function runAction(p: ActionInput, onStatus: (s: string) => void = () => {}): Promise<string> {
  const { client, wallet } = p;
  const connection = client.program.provider.connection;
  const bank = client.bank(p.tokenIndex);
  const authority = wallet.publicKey;
  const ixs: TransactionInstruction[] = [];
  const held = await walletTokenAccount(connection, authority, bank.mint);
  let tokenAccount: PublicKey;
  if (p.kind === "deposit" || p.kind === "repay") {
    if (!held) throw new ActionError(`the wallet holds no token account of ${bank.mint.toBase58()}`, null, []);
    tokenAccount = held.address;
  } else if (held) {
    tokenAccount = held.address;
  } else {
    ixs.push(createAtaIdempotentIx(authority, authority, bank.mint));
    tokenAccount = associatedTokenAddress(authority, bank.mint);
  }
  const payIn = { account: p.account, tokenIndex: p.tokenIndex, amount: p.amount, tokenAccount, authority };
  if (p.kind === "deposit") ixs.push(await client.depositIx({ ...payIn, accountData: p.accountData }));
  else if (p.kind === "repay") ixs.push(await client.repayIx({ ...payIn, accountData: p.accountData }));
  else ixs.push(await client.withdrawIx({ ...payIn, accountData: p.accountData })); // a borrow is a withdraw beyond the deposit
  return sendWithWallet(client, wallet, p.rpc, ixs, onStatus, p.lookupTable);
}

/** `create_account` (number 0) for the connected wallet. */
export async function createAccount(client: XmarginClient, wallet: Connected, rpc: string, onStatus: (s: string) => void = () => {}): Promise<string> {
  return sendWithWallet(client, wallet, rpc, [await client.createAccountIx(wallet.publicKey)], onStatus);
}

function programFailure(err: unknown, logs: string[], programId: PublicKey, what: string): ActionError {
  const info = parseProgramError(err, logs, programId);
  const text = info ? describeProgramError(info) : `${what}: ${typeof err === "string" ? err : JSON.stringify(err)}`;
  return new ActionError(text, info, logs);
}

export async function sendWithWallet(
  client: XmarginClient, wallet: Connected, rpc: string, instructions: TransactionInstruction[], onStatus: (s: string) => void,
  lookupTable?: AddressLookupTableAccount | null,
): Promise<string> {
  const connection = client.program.provider.connection;
  const payer = wallet.publicKey;
  const { blockhash, lastValidBlockHeight } = await connection.getLatestBlockhash("confirmed");
  const args = { payer, instructions, recentBlockhash: blockhash, computeUnitLimit: 400_000 };
  const message = supportsV0(wallet.wallet)
    ? buildV0Message({ ...args, lookupTables: lookupTable ? [lookupTable] : [] })
    : buildLegacyMessage(args);
  const tx = new VersionedTransaction(message);
  onStatus("simulating");
  const sim = await connection.simulateTransaction(tx, { sigVerify: false, replaceRecentBlockhash: true, commitment: "confirmed" });
  if (sim.value.err) throw programFailure(sim.value.err, sim.value.logs ?? [], client.programId, "simulation failed");
  onStatus("waiting for the wallet");
  const out = await signOrSend(wallet, tx.serialize(), chainOf(rpc));
  let signature: string;
  if ("signed" in out) {
    onStatus("sending");
    try {
      signature = await connection.sendRawTransaction(out.signed, { preflightCommitment: "confirmed" });
    } catch (e) {
      const logs = (e as { logs?: string[]; transactionLogs?: string[] }).transactionLogs ?? (e as { logs?: string[] }).logs ?? [];
      throw programFailure(e, logs, client.programId, "send failed");
    }
  } else {
    signature = utils.bytes.bs58.encode(out.signature);
  }
  onStatus("confirming");
  const err = await waitConfirmed(connection, signature, lastValidBlockHeight);
  if (err) {
    const got = await connection.getTransaction(signature, { commitment: "confirmed", maxSupportedTransactionVersion: 0 });
    throw programFailure(err, got?.meta?.logMessages ?? [], client.programId, "transaction failed");
  }
  return signature;
}

/**
 * Polls the signature's status until it is confirmed (its error, or `null`),
 * or throws once the blockhash has expired. Polling, not a WebSocket
 * subscription: it works through RPC endpoints that serve HTTP only.
 */
async function waitConfirmed(connection: Connection, signature: string, lastValidBlockHeight: number): Promise<unknown> {
  for (let i = 0; ; i++) {
    const { value } = await connection.getSignatureStatuses([signature]);
    const st = value[0];
    if (st && (st.confirmationStatus === "confirmed" || st.confirmationStatus === "finalized")) return st.err;
    if (i % 10 === 9 && (await connection.getBlockHeight("confirmed")) > lastValidBlockHeight) {
      throw new ActionError(`transaction ${signature} expired before it was confirmed`, null, []);
    }
    await new Promise((r) => setTimeout(r, 400));
  }
}
