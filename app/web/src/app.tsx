/**
 * The dashboard: an RPC endpoint and a group (`?rpc=`, `?group=`), the group's
 * banks, markets and insurance fund; a margin account (`?account=`, or the
 * connected wallet's) with its health, band, limits, liquidation prices and a
 * what-if chart; wallet actions. Live through account subscriptions.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { PublicKey } from "@solana/web3.js";
import type { Wallet } from "@wallet-standard/base";
import { XMARGIN_PROGRAM_ID } from "@xmargin/client";
import { AccountView } from "./accountView.tsx";
import { CreateAccount } from "./actionsPanel.tsx";
import { short } from "./format.ts";
import { GroupView } from "./groupView.tsx";
import {
  type AccountModel, type AccountSummary, accountsOverview, type GroupModel, listGroups, loadAccount, loadGroup, makeConnection,
} from "./model.ts";
import { connect, type Connected, disconnect, onAccountsChange, watchWallets } from "./wallet.ts";

const DEFAULT_RPC = "http://127.0.0.1:8899";

function param(name: string): string | null {
  return new URLSearchParams(window.location.search).get(name);
}

function setParams(values: Record<string, string | null>): void {
  const url = new URL(window.location.href);
  for (const [k, v] of Object.entries(values)) {
    if (v) url.searchParams.set(k, v);
    else url.searchParams.delete(k);
  }
  window.history.replaceState(null, "", url);
}

function parseKey(s: string | null): PublicKey | null {
  if (!s) return null;
  try { return new PublicKey(s.trim()); } catch { return null; }
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

type Load<T> = { state: "idle" } | { state: "loading"; prev?: T } | { state: "ok"; value: T } | { state: "error"; error: string; prev?: T };

function current<T>(l: Load<T>): T | undefined {
  return l.state === "ok" ? l.value : l.state === "loading" || l.state === "error" ? l.prev : undefined;
}

export function App() {
  const [rpc, setRpc] = useState(param("rpc") ?? DEFAULT_RPC);
  const [rpcDraft, setRpcDraft] = useState(rpc);
  const programId = useMemo(() => parseKey(param("program")) ?? XMARGIN_PROGRAM_ID, []);
  const connection = useMemo(() => makeConnection(rpc), [rpc]);
  const [groups, setGroups] = useState<Load<{ address: PublicKey; label: string }[]>>({ state: "idle" });
  const [groupKey, setGroupKey] = useState<PublicKey | null>(parseKey(param("group")));
  const [group, setGroup] = useState<Load<GroupModel>>({ state: "idle" });
  const [accounts, setAccounts] = useState<Load<AccountSummary[]>>({ state: "idle" });
  const [view, setView] = useState<"group" | "account">(param("account") ? "account" : (param("view") as "group" | null) ?? "group");
  const [accountKey, setAccountKey] = useState<PublicKey | null>(parseKey(param("account")));
  const [accountDraft, setAccountDraft] = useState(param("account") ?? "");
  const [account, setAccount] = useState<Load<AccountModel>>({ state: "idle" });
  const [wallets, setWallets] = useState<Wallet[]>([]);
  const [wallet, setWallet] = useState<Connected | null>(null);
  const [walletError, setWalletError] = useState<string | null>(null);
  const [live, setLive] = useState<"off" | "live" | "error">("off");
  const [tick, setTick] = useState(0);
  const refresh = useCallback(() => setTick((t) => t + 1), []);

  // RPC → groups on the cluster.
  useEffect(() => {
    let stop = false;
    setGroups({ state: "loading" });
    listGroups(connection, programId).then((gs) => {
      if (stop) return;
      const list = gs.map((g) => ({ address: g.address, label: `${short(g.address)} · ${g.data.bankCount} banks, ${g.data.marketCount} markets` }));
      setGroups({ state: "ok", value: list });
      setGroupKey((k) => k ?? list[list.length - 1]?.address ?? null);
    }).catch((e) => !stop && setGroups({ state: "error", error: message(e) }));
    return () => { stop = true; };
  }, [connection, programId]);

  useEffect(() => watchWallets(setWallets), []);
  useEffect(() => (wallet ? onAccountsChange(wallet.wallet, (accs) => {
    if (accs.length === 0) setWallet(null);
  }) : undefined), [wallet]);

  useEffect(() => {
    setParams({ rpc: rpc === DEFAULT_RPC ? null : rpc, group: groupKey?.toBase58() ?? null,
      account: view === "account" ? accountKey?.toBase58() ?? null : null, view: view === "account" ? "account" : null });
  }, [rpc, groupKey, accountKey, view]);

  // Group and its accounts (on every tick: subscriptions and the periodic refresh bump it).
  useEffect(() => {
    if (!groupKey) return;
    let stop = false;
    setGroup((g) => ({ state: "loading", prev: current(g) }));
    loadGroup(connection, groupKey, programId, wallet?.publicKey, parseKey(param("lut"))).then(async (g) => {
      if (stop) return;
      setGroup({ state: "ok", value: g });
      const list = await accountsOverview(g).catch((e) => { throw e; });
      if (!stop) setAccounts({ state: "ok", value: list });
    }).catch((e) => {
      if (!stop) setGroup((g) => ({ state: "error", error: message(e), prev: current(g) }));
    });
    return () => { stop = true; };
  }, [connection, groupKey, programId, wallet, tick]);

  const g = current(group);

  // The connected wallet's margin account becomes the account in view when none is chosen.
  useEffect(() => {
    if (!wallet || !g) return;
    const mine = g.client.marginAccountAddress(wallet.publicKey);
    if (!accountKey) { setAccountKey(mine); setAccountDraft(mine.toBase58()); setView("account"); }
  }, [wallet, g?.address.toBase58()]);

  useEffect(() => {
    if (!g || !accountKey) { setAccount({ state: "idle" }); return; }
    let stop = false;
    setAccount((a) => ({ state: "loading", prev: current(a)?.address.equals(accountKey) ? current(a) : undefined }));
    loadAccount(g, accountKey).then((a) => !stop && setAccount({ state: "ok", value: a }))
      .catch((e) => !stop && setAccount({ state: "error", error: message(e) }));
    return () => { stop = true; };
  }, [g, accountKey?.toBase58()]);

  // Live updates: every account this view reads, plus a slow timer for the clock (oracle ages, interest).
  const watchKey = g ? [...g.watched.map((k) => k.toBase58()), accountKey?.toBase58() ?? ""].join(",") : "";
  const pending = useRef<number | null>(null);
  useEffect(() => {
    if (!g) return;
    const keys = [...g.watched, ...(accountKey ? [accountKey] : [])];
    const bump = () => {
      if (pending.current !== null) return;
      pending.current = window.setTimeout(() => { pending.current = null; refresh(); }, 400);
    };
    let ids: number[] = [];
    try {
      ids = keys.map((k) => connection.onAccountChange(k, bump, { commitment: "confirmed" }));
      setLive("live");
    } catch {
      setLive("error");
    }
    const timer = window.setInterval(refresh, 20_000);
    return () => {
      window.clearInterval(timer);
      ids.forEach((id) => void connection.removeAccountChangeListener(id).catch(() => {}));
    };
  }, [connection, watchKey]);

  const applyRpc = (e: Event) => {
    e.preventDefault();
    const url = rpcDraft.trim();
    if (url === rpc) return;
    setGroupKey(null); setGroup({ state: "idle" }); setAccounts({ state: "idle" }); setAccount({ state: "idle" });
    setRpc(url);
  };

  const viewAccount = (key: PublicKey) => {
    setAccountKey(key); setAccountDraft(key.toBase58()); setView("account");
  };

  const onConnect = async (w: Wallet) => {
    setWalletError(null);
    try { setWallet(await connect(w)); } catch (e) { setWalletError(message(e)); }
  };

  return (
    <div class="page">
      <header class="top">
        <h1>xmargin</h1>
        <form class="rpc" onSubmit={applyRpc}>
          <label for="rpc-input">RPC</label>
          <input id="rpc-input" data-testid="rpc-input" value={rpcDraft} onInput={(e) => setRpcDraft(e.currentTarget.value)} spellcheck={false} />
          <button type="submit">Connect</button>
        </form>
        <div class="wallet" data-testid="wallet">
          {wallet ? (
            <span>
              <span class="pill" data-testid="wallet-address" title={wallet.publicKey.toBase58()}>{wallet.wallet.name}: {short(wallet.publicKey)}</span>
              <button type="button" onClick={() => { void disconnect(wallet); setWallet(null); }}>Disconnect</button>
            </span>
          ) : wallets.length === 0 ? (
            <span class="muted">No Wallet Standard wallet: read-only</span>
          ) : (
            wallets.map((w) => (
              <button type="button" data-testid="connect-wallet" onClick={() => onConnect(w)}>
                {w.icon && <img src={w.icon} alt="" width={16} height={16} />} Connect {w.name}
              </button>
            ))
          )}
          {walletError && <span class="error">{walletError}</span>}
        </div>
      </header>

      <nav class="bar">
        <label>
          Group{" "}
          <select data-testid="group-select" value={groupKey?.toBase58() ?? ""}
            onChange={(e) => { setGroupKey(parseKey(e.currentTarget.value)); setAccountKey(null); setAccountDraft(""); }}>
            {groupKey && !(current(groups) ?? []).some((x) => x.address.equals(groupKey)) && <option value={groupKey.toBase58()}>{short(groupKey)}</option>}
            {(current(groups) ?? []).map((x) => <option value={x.address.toBase58()}>{x.label}</option>)}
          </select>
        </label>
        <div class="tabs" role="tablist">
          <button type="button" role="tab" aria-selected={view === "group"} data-testid="tab-group" onClick={() => setView("group")}>Group</button>
          <button type="button" role="tab" aria-selected={view === "account"} data-testid="tab-account" onClick={() => setView("account")}>Account</button>
        </div>
        <span class={`live ${live}`} data-testid="live" title="account subscriptions">{live === "live" ? "● live" : live === "error" ? "● no subscriptions" : "○"}</span>
      </nav>

      {groups.state === "error" && <p class="error banner" data-testid="rpc-error">Cannot reach {rpc}: {groups.error}</p>}
      {groups.state === "loading" && !g && <p class="muted banner" data-testid="loading">Loading groups from {rpc}…</p>}
      {groups.state === "ok" && groups.value.length === 0 && !groupKey && (
        <p class="muted banner">No xmargin group on {rpc} (program {short(programId)}).</p>
      )}
      {group.state === "error" && <p class="error banner" data-testid="group-error">{group.error}</p>}
      {group.state === "loading" && !g && <p class="muted banner" data-testid="loading">Loading group…</p>}

      {g && view === "group" && <GroupView g={g} accounts={current(accounts)} onAccount={viewAccount} />}
      {g && view === "account" && (
        <section>
          <form class="account-pick" onSubmit={(e) => { e.preventDefault(); const k = parseKey(accountDraft); if (k) viewAccount(k); }}>
            <input data-testid="account-input" placeholder="margin account address" value={accountDraft}
              onInput={(e) => setAccountDraft(e.currentTarget.value)} spellcheck={false} />
            <button type="submit">View</button>
            {wallet && <button type="button" onClick={() => viewAccount(g.client.marginAccountAddress(wallet.publicKey))}>My account</button>}
          </form>
          {account.state === "loading" && !current(account) && <p class="muted" data-testid="loading">Loading account…</p>}
          {account.state === "error" && (
            <div class="error banner" data-testid="account-error">
              {account.error}
              {wallet && accountKey?.equals(g.client.marginAccountAddress(wallet.publicKey)) && /not exist|could not find/i.test(account.error) && (
                <CreateAccount g={g} wallet={wallet} rpc={rpc} onDone={refresh} />
              )}
            </div>
          )}
          {current(account) && <AccountView g={g} a={current(account)!} wallet={wallet} rpc={rpc} onDone={refresh} />}
          {!accountKey && <p class="muted">Connect a wallet, or enter any margin account to view it read-only.</p>}
        </section>
      )}
      <footer class="muted">
        Program {short(programId)} · slot {g?.slot ?? "—"} · cluster time{" "}
        <span data-testid="cluster-now">{g ? new Date(Number(g.now) * 1000).toISOString().replace(".000Z", "Z") : "—"}</span>
      </footer>
    </div>
  );
}
