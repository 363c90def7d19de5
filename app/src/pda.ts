/**
 * Program-derived addresses, with the same seeds as `programs/xmargin/src/pda.rs`.
 * The program stores every bump, so clients only derive addresses.
 */
import { Buffer } from "buffer";
import { PublicKey } from "@solana/web3.js";

/** The program id (Anchor.toml, `declare_id!`). */
export const XMARGIN_PROGRAM_ID = new PublicKey("xmn1AeerV5q4mR3N3SpcSR6vPcBAV8ZQnNKZ5j84dwk");

/** Pyth receiver program: owner of every `PriceUpdateV2` account the banks read. */
export const PYTH_RECEIVER_PROGRAM_ID = new PublicKey("rec5EKMGg6MxZYaMdyBfgwp4d5rB9T1VQH5pJv5LtFJ");

const u16le = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
};
const u32le = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};

/** `[b"group", creator, group_num (u32 LE)]` */
export function groupAddress(creator: PublicKey, groupNum: number, programId = XMARGIN_PROGRAM_ID): PublicKey {
  return PublicKey.findProgramAddressSync([Buffer.from("group"), creator.toBuffer(), u32le(groupNum)], programId)[0];
}

/** `[b"insurance_vault", group]` */
export function insuranceVaultAddress(group: PublicKey, programId = XMARGIN_PROGRAM_ID): PublicKey {
  return PublicKey.findProgramAddressSync([Buffer.from("insurance_vault"), group.toBuffer()], programId)[0];
}

/** `[b"bank", group, token_index (u16 LE)]` */
export function bankAddress(group: PublicKey, tokenIndex: number, programId = XMARGIN_PROGRAM_ID): PublicKey {
  return PublicKey.findProgramAddressSync([Buffer.from("bank"), group.toBuffer(), u16le(tokenIndex)], programId)[0];
}

/** `[b"bank_mint", group, mint]`: the group's marker that `mint` is listed (one bank per mint). */
export function bankMintMarkerAddress(group: PublicKey, mint: PublicKey, programId = XMARGIN_PROGRAM_ID): PublicKey {
  return PublicKey.findProgramAddressSync([Buffer.from("bank_mint"), group.toBuffer(), mint.toBuffer()], programId)[0];
}

/** `[b"bank_vault", bank]` */
export function bankVaultAddress(bank: PublicKey, programId = XMARGIN_PROGRAM_ID): PublicKey {
  return PublicKey.findProgramAddressSync([Buffer.from("bank_vault"), bank.toBuffer()], programId)[0];
}

/** `[b"account", group, owner, account_num (u32 LE)]` */
export function marginAccountAddress(
  group: PublicKey,
  owner: PublicKey,
  accountNum: number,
  programId = XMARGIN_PROGRAM_ID,
): PublicKey {
  return PublicKey.findProgramAddressSync(
    [Buffer.from("account"), group.toBuffer(), owner.toBuffer(), u32le(accountNum)],
    programId,
  )[0];
}

/** `[b"market", group, market_index (u16 LE)]` */
export function marketAddress(group: PublicKey, marketIndex: number, programId = XMARGIN_PROGRAM_ID): PublicKey {
  return PublicKey.findProgramAddressSync([Buffer.from("market"), group.toBuffer(), u16le(marketIndex)], programId)[0];
}
