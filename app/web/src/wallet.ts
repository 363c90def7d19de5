/**
 * Wallets through the Wallet Standard (`@wallet-standard/app`): any wallet
 * the page's window registers (browser extensions, or a test's own) that can
 * connect and sign Solana transactions (`solana:signTransaction`, else
 * `solana:signAndSendTransaction`). The feature shapes are those of
 * `@solana/wallet-standard-features`, written out here to keep dependencies few.
 */
import { getWallets } from "@wallet-standard/app";
import type { IdentifierString, Wallet, WalletAccount } from "@wallet-standard/base";
import { PublicKey } from "@solana/web3.js";

export const CONNECT = "standard:connect";
export const DISCONNECT = "standard:disconnect";
export const EVENTS = "standard:events";
export const SIGN_TRANSACTION = "solana:signTransaction";
export const SIGN_AND_SEND = "solana:signAndSendTransaction";

interface ConnectFeature { connect(input?: { silent?: boolean }): Promise<{ accounts: readonly WalletAccount[] }> }
interface DisconnectFeature { disconnect(): Promise<void> }
interface EventsFeature { on(event: "change", listener: (p: { accounts?: readonly WalletAccount[] }) => void): () => void }
interface SignTransactionFeature {
  supportedTransactionVersions?: readonly ("legacy" | 0)[];
  signTransaction(...inputs: { account: WalletAccount; transaction: Uint8Array; chain?: IdentifierString }[]):
    Promise<readonly { signedTransaction: Uint8Array }[]>;
}
interface SignAndSendFeature {
  supportedTransactionVersions?: readonly ("legacy" | 0)[];
  signAndSendTransaction(...inputs: { account: WalletAccount; transaction: Uint8Array; chain: IdentifierString;
    options?: { skipPreflight?: boolean; commitment?: string } }[]): Promise<readonly { signature: Uint8Array }[]>;
}

function feature<T>(wallet: Wallet, name: string): T | undefined {
  return (wallet.features as Record<string, unknown>)[name] as T | undefined;
}

/** A wallet this page can use: connects and signs Solana transactions. */
export function isUsable(wallet: Wallet): boolean {
  return CONNECT in wallet.features && (SIGN_TRANSACTION in wallet.features || SIGN_AND_SEND in wallet.features)
    && wallet.chains.some((c) => c.startsWith("solana:"));
}

/** Usable wallets now and whenever one registers or leaves. Returns the unsubscribe function. */
export function watchWallets(onChange: (wallets: Wallet[]) => void): () => void {
  const api = getWallets();
  const emit = () => onChange(api.get().filter(isUsable));
  emit();
  const offs = [api.on("register", emit), api.on("unregister", emit)];
  return () => offs.forEach((off) => off());
}

/** The Wallet Standard chain of an RPC URL (localnet for a local host, devnet/testnet by name, else mainnet). */
export function chainOf(rpc: string): IdentifierString {
  let host = "";
  try { host = new URL(rpc).hostname; } catch { /* not a URL */ }
  if (host === "127.0.0.1" || host === "localhost" || host === "0.0.0.0" || host === "[::1]") return "solana:localnet";
  if (rpc.includes("devnet")) return "solana:devnet";
  if (rpc.includes("testnet")) return "solana:testnet";
  return "solana:mainnet";
}

export interface Connected {
  wallet: Wallet;
  account: WalletAccount;
  publicKey: PublicKey;
}

export async function connect(wallet: Wallet): Promise<Connected> {
  const f = feature<ConnectFeature>(wallet, CONNECT);
  if (!f) throw new Error(`${wallet.name} cannot connect`);
  const { accounts } = await f.connect();
  const account = accounts[0] ?? wallet.accounts[0];
  if (!account) throw new Error(`${wallet.name} gave no account`);
  return { wallet, account, publicKey: new PublicKey(account.publicKey) };
}

export async function disconnect(c: Connected): Promise<void> {
  await feature<DisconnectFeature>(c.wallet, DISCONNECT)?.disconnect();
}

/** Calls `listener` with the wallet's accounts when they change (another account picked, disconnected). */
export function onAccountsChange(wallet: Wallet, listener: (accounts: readonly WalletAccount[]) => void): () => void {
  const f = feature<EventsFeature>(wallet, EVENTS);
  return f ? f.on("change", (p) => { if (p.accounts) listener(p.accounts); }) : () => {};
}

/**
 * Signs a serialised transaction: `{ signed }` when the wallet signs only
 * (the page sends it), `{ signature }` when the wallet signed and sent it.
 */
export async function signOrSend(c: Connected, transaction: Uint8Array, chain: IdentifierString):
  Promise<{ signed: Uint8Array } | { signature: Uint8Array }> {
  const sign = feature<SignTransactionFeature>(c.wallet, SIGN_TRANSACTION);
  if (sign) {
    const [out] = await sign.signTransaction({ account: c.account, transaction, chain });
    return { signed: out.signedTransaction };
  }
  const send = feature<SignAndSendFeature>(c.wallet, SIGN_AND_SEND);
  if (!send) throw new Error(`${c.wallet.name} cannot sign transactions`);
  const [out] = await send.signAndSendTransaction({ account: c.account, transaction, chain, options: { commitment: "confirmed" } });
  return { signature: out.signature };
}

/** Whether the wallet takes v0 transactions (else the page sends legacy ones). */
export function supportsV0(wallet: Wallet): boolean {
  const f = feature<SignTransactionFeature>(wallet, SIGN_TRANSACTION) ?? feature<SignAndSendFeature>(wallet, SIGN_AND_SEND);
  return f?.supportedTransactionVersions?.includes(0) ?? false;
}
