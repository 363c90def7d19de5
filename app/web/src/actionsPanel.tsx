/** Wallet actions on the account in view (deposit, withdraw, borrow, repay) and creating the connected wallet's margin account. */
import { useEffect, useRef, useState } from "preact/hooks";
import { fromUiAmount } from "@xmargin/client";
import { ActionError, type ActionKind, createAccount, runAction, walletTokenAccount } from "./actions.ts";
import { amount, short } from "./format.ts";
import type { AccountModel, GroupModel } from "./model.ts";
import type { Connected } from "./wallet.ts";

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export function Actions({ g, a, wallet, rpc, onDone }: { g: GroupModel; a: AccountModel; wallet: Connected; rpc: string; onDone: () => void }) {
  const [tokenIndex, setTokenIndex] = useState(g.banks[0]?.tokenIndex ?? 0);
  const [value, setValue] = useState("");
  const [status, setStatusState] = useState<{ kind: "busy" | "ok" | "error"; text: string; name?: string; seq: number } | null>(null);
  const seq = useRef(0);
  const setStatus = (s: { kind: "busy" | "ok" | "error"; text: string; name?: string }) => setStatusState({ ...s, seq: seq.current });
  const [walletBalance, setWalletBalance] = useState<bigint | null>(null);
  const bank = g.banks.find((b) => b.tokenIndex === tokenIndex)!;
  const connection = g.client.program.provider.connection;
  useEffect(() => {
    let stop = false;
    walletTokenAccount(connection, wallet.publicKey, bank.mint).then((t) => !stop && setWalletBalance(t?.amount ?? 0n)).catch(() => !stop && setWalletBalance(null));
    return () => { stop = true; };
  }, [bank.mint.toBase58(), wallet.publicKey.toBase58(), a]);
  const position = a.positions.find((p) => p.tokenIndex === tokenIndex);
  const limits = a.limits.find((l) => l.bank.tokenIndex === tokenIndex);

  const act = async (kind: ActionKind) => {
    seq.current += 1;
    let native: bigint;
    try {
      native = fromUiAmount(value, bank.decimals, "floor");
      if (native <= 0n) throw new Error("enter an amount above 0");
    } catch (e) {
      setStatus({ kind: "error", text: message(e) });
      return;
    }
    if (kind === "withdraw" && (position?.balance ?? 0n) < native) {
      setStatus({ kind: "error", text: `withdraw is limited to the deposit (${amount(position && position.balance > 0n ? position.balance : 0n, bank.decimals, 6)} ${bank.symbol}); use Borrow to go beyond it` });
      return;
    }
    setStatus({ kind: "busy", text: `${kind}: preparing` });
    try {
      const sig = await runAction({ kind, client: g.client, wallet, rpc, account: a.address, accountData: a.data, tokenIndex, amount: native,
        lookupTable: g.lookupTable },
        (s) => setStatus({ kind: "busy", text: `${kind}: ${s}` }));
      setStatus({ kind: "ok", text: `${kind} of ${value} ${bank.symbol} confirmed: ${short(sig)}` });
      setValue("");
      onDone();
    } catch (e) {
      const pe = e instanceof ActionError ? e.programError : null;
      setStatus({ kind: "error", text: message(e), name: pe?.name ?? undefined });
    }
  };

  const fill = (v: bigint | null | undefined) => v !== null && v !== undefined && setValue(amount(v, bank.decimals, bank.decimals).replace(/,/g, ""));
  return (
    <section class="actions" data-testid="actions">
      <h2>Actions</h2>
      <div class="action-row">
        <select data-testid="action-token" value={String(tokenIndex)} onChange={(e) => setTokenIndex(Number(e.currentTarget.value))}>
          {g.banks.map((b) => <option value={String(b.tokenIndex)}>{b.symbol}</option>)}
        </select>
        <input data-testid="action-amount" inputMode="decimal" placeholder="amount" value={value} onInput={(e) => setValue(e.currentTarget.value)} />
      </div>
      <p class="muted small">
        Wallet: <span data-testid="wallet-balance">{walletBalance === null ? "—" : amount(walletBalance, bank.decimals, 6)}</span> {bank.symbol}
        {" "}· in account: {amount(position?.balance ?? 0n, bank.decimals, 6)}
        {" "}· max withdraw <a href="#" onClick={(e) => { e.preventDefault(); fill(limits?.maxWithdraw); }}>{limits?.maxWithdraw != null ? amount(limits.maxWithdraw, bank.decimals, 6) : "—"}</a>
        {" "}· max borrow <a href="#" onClick={(e) => { e.preventDefault(); fill(limits?.maxBorrow); }}>{limits?.maxBorrow != null ? amount(limits.maxBorrow, bank.decimals, 6) : "—"}</a>
      </p>
      <p class="muted small">Withdraw takes from the deposit only; Borrow may go beyond it (a withdraw that borrows); Repay never deposits.</p>
      <div class="action-row buttons">
        {(["deposit", "withdraw", "borrow", "repay"] as const).map((k) => (
          <button type="button" data-testid={`action-${k}`} disabled={status?.kind === "busy"} onClick={() => act(k)}>
            {k[0].toUpperCase() + k.slice(1)}
          </button>
        ))}
      </div>
      {status && (
        <p class={`status ${status.kind}`} data-testid="action-status" data-state={status.kind} data-seq={status.seq} data-error-name={status.name ?? ""}>
          {status.name && <b class="mono">{status.name}</b>} {status.text}
        </p>
      )}
    </section>
  );
}

export function CreateAccount({ g, wallet, rpc, onDone }: { g: GroupModel; wallet: Connected; rpc: string; onDone: () => void }) {
  const [state, setState] = useState<string | null>(null);
  return (
    <div>
      <button type="button" data-testid="create-account" onClick={async () => {
        try { setState("creating…"); await createAccount(g.client, wallet, rpc, setState); setState("created"); onDone(); } catch (e) { setState(message(e)); }
      }}>Create my margin account</button> {state}
    </div>
  );
}


