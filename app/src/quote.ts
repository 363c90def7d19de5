/**
 * Maker-signed quotes (`programs/xmargin/src/quote.rs`): the 145-byte message
 * a maker signs off-chain, its Ed25519 signature, and the Ed25519 precompile
 * instruction that must come immediately before `take_quote` in the
 * transaction.
 *
 * ```text
 * "xmargin-quote-v1" (16) | group (32) | market (32) | maker account (32)
 * | side (1: 0 = the maker buys, 1 = the maker sells) | size (8, contracts)
 * | price (8, quote native per contract) | expiry_slot (8) | nonce (8)
 * ```
 * Integers little-endian. The signer must be the maker account's owner or
 * delegate; a nonce fills once (a 128-nonce window per maker account), and a
 * quote never fills after its expiry slot.
 */
import { ed25519 } from "@noble/curves/ed25519";
import { Buffer } from "buffer";
import { type Keypair, PublicKey, TransactionInstruction } from "@solana/web3.js";

/** The domain prefix of every quote message. */
export const QUOTE_DOMAIN = Buffer.from("xmargin-quote-v1", "utf8");
/** `QUOTE_MESSAGE_LEN`. */
export const QUOTE_MESSAGE_LEN = 16 + 3 * 32 + 1 + 4 * 8;
/** Nonces tracked above a maker account's base (`NONCE_WINDOW`). */
export const QUOTE_NONCE_WINDOW = 128n;
/** The Ed25519 signature-verification precompile. */
export const ED25519_PROGRAM_ID = new PublicKey("Ed25519SigVerify111111111111111111111111111");

/** `quote_side`: which side the maker takes. */
export const QuoteSide = { makerBuys: 0, makerSells: 1 } as const;

/** The terms a maker signs (`QuoteTerms`). */
export interface QuoteTerms {
  /** {@link QuoteSide}. */
  side: number;
  /** Contracts. */
  size: bigint;
  /** Quote native per contract. */
  price: bigint;
  /** Last slot the quote may fill in. */
  expirySlot: bigint;
  nonce: bigint;
}

/** The bytes a maker signs (`quote::quote_message`). */
export function quoteMessage(group: PublicKey, market: PublicKey, makerAccount: PublicKey, t: QuoteTerms): Buffer {
  const m = Buffer.alloc(QUOTE_MESSAGE_LEN);
  QUOTE_DOMAIN.copy(m, 0);
  group.toBuffer().copy(m, 16);
  market.toBuffer().copy(m, 48);
  makerAccount.toBuffer().copy(m, 80);
  m.writeUInt8(t.side, 112);
  m.writeBigUInt64LE(t.size, 113);
  m.writeBigUInt64LE(t.price, 121);
  m.writeBigUInt64LE(t.expirySlot, 129);
  m.writeBigUInt64LE(t.nonce, 137);
  return m;
}

/** Ed25519 signature of `message` by `signer` (RFC 8032, deterministic: `@noble/curves`, browser-safe). */
export function signMessage(signer: Keypair, message: Uint8Array): Buffer {
  return Buffer.from(ed25519.sign(Uint8Array.from(message), signer.secretKey.subarray(0, 32)));
}

/**
 * Whether `signature` is `signer`'s Ed25519 signature of `message`, under
 * RFC 8032 / FIPS 186-5 rules (canonical encodings, cofactorless equation; not
 * ZIP-215's looser ones), as Node's OpenSSL verify checks them.
 */
export function verifyMessage(signer: PublicKey, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return ed25519.verify(Uint8Array.from(signature), Uint8Array.from(message), signer.toBytes(), { zip215: false });
  } catch {
    return false;
  }
}

/** A quote and its maker's signature, as a maker hands it to a taker. */
export interface SignedQuote {
  group: PublicKey;
  market: PublicKey;
  /** The maker's margin account. */
  makerAccount: PublicKey;
  terms: QuoteTerms;
  /** Owner or delegate of the maker account. */
  signer: PublicKey;
  signature: Buffer;
}

/** Signs a quote for `makerAccount` with its owner's or delegate's key. */
export function signQuote(
  signer: Keypair,
  q: { group: PublicKey; market: PublicKey; makerAccount: PublicKey; terms: QuoteTerms },
): SignedQuote {
  const signature = signMessage(signer, quoteMessage(q.group, q.market, q.makerAccount, q.terms));
  return { ...q, signer: signer.publicKey, signature };
}

/**
 * The Ed25519 precompile instruction data for one self-contained signature
 * (`quote::ed25519_instruction_data`): header (count 1, padding), offsets
 * (signature 48, key 16, message 112, every instruction index `u16::MAX`),
 * key, signature, message. The same bytes as web3.js
 * `Ed25519Program.createInstructionWithPublicKey`.
 */
export function ed25519InstructionData(signer: PublicKey, signature: Uint8Array, message: Uint8Array): Buffer {
  if (signature.length !== 64) throw new RangeError("an Ed25519 signature is 64 bytes");
  const KEY_AT = 16;
  const SIG_AT = KEY_AT + 32;
  const MSG_AT = SIG_AT + 64;
  const d = Buffer.alloc(MSG_AT + message.length);
  d.writeUInt8(1, 0);
  d.writeUInt8(0, 1);
  [SIG_AT, 0xffff, KEY_AT, 0xffff, MSG_AT, message.length, 0xffff].forEach((v, i) => d.writeUInt16LE(v, 2 + 2 * i));
  signer.toBuffer().copy(d, KEY_AT);
  Buffer.from(signature).copy(d, SIG_AT);
  Buffer.from(message).copy(d, MSG_AT);
  return d;
}

/** The Ed25519 instruction carrying a signed quote; it must come right before `take_quote`. */
export function ed25519QuoteInstruction(q: SignedQuote): TransactionInstruction {
  const message = quoteMessage(q.group, q.market, q.makerAccount, q.terms);
  return new TransactionInstruction({
    programId: ED25519_PROGRAM_ID,
    keys: [],
    data: ed25519InstructionData(q.signer, q.signature, message),
  });
}
