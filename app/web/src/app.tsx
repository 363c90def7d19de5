/**
 * The dashboard: an RPC endpoint and a group (`?rpc=`, `?group=`), the group's
 * banks, markets and insurance fund; a margin account (`?account=`, or the
 * connected wallet's) with its health, band, limits, liquidation prices and a
 * what-if chart; wallet actions. Live through account subscriptions.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { PublicKey } from "@solana/web3.js";
import type { Wallet } from "@wallet-standard/base";
import { fromUiAmount, priceToUi, XMARGIN_PROGRAM_ID } from "@xmargin/client";
import { ActionError, type ActionKind, createAccount, runAction, walletTokenAccount } from "./actions.ts";
import { HealthChart } from "./chart.tsx";
import { age, amount, BAND_LABEL, cap, pct, price, short, usd } from "./format.ts";
import {
  type AccountModel, type AccountSummary, accountsOverview, type GroupModel, healthCurve, listGroups, loadAccount, loadGroup,
  makeConnection,
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

function GroupView({ g, accounts, onAccount }: { g: GroupModel; accounts?: AccountSummary[]; onAccount: (k: PublicKey) => void }) {
  const quote = g.banks.find((b) => b.isQuote);
  const qd = g.quoteDecimals;
  return (
    <section data-testid="group-view">
      <div class="cards">
        <div class="card"><div class="k">Group</div><div class="v mono" title={g.address.toBase58()}>{short(g.address)}</div></div>
        <div class="card"><div class="k">Insurance fund</div>
          <div class="v" data-testid="insurance">{g.insurance.balance === null ? "—" : `${amount(g.insurance.balance, qd, 2)} ${quote?.symbol ?? ""}`}</div></div>
        <div class="card"><div class="k">Banks · markets</div><div class="v">{g.banks.length} · {g.markets.length}</div></div>
        <div class="card"><div class="k">Paused</div><div class="v">{g.data.pauseFlags === 0 ? "no" : `flags ${g.data.pauseFlags}`}</div></div>
      </div>

      <h2>Banks</h2>
      <div class="scroll">
        <table data-testid="banks">
          <thead><tr>
            <th>Token</th><th>Oracle</th><th>Age</th><th>Deposits</th><th>Borrows</th><th>Util.</th>
            <th>Deposit APR</th><th>Borrow APR</th><th>Deposit cap</th><th>Borrow limit</th><th>Asset w. I/M</th><th>Liab w. I/M</th>
          </tr></thead>
          <tbody>
            {g.banks.map((b) => (
              <tr data-token={b.symbol}>
                <td><b>{b.symbol}</b></td>
                <td class="num" data-testid={`oracle-${b.symbol}`}>{b.oracle.error ? <span class="error">{b.oracle.error}</span> : price(b.oracle.price)}</td>
                <td class={`num ${b.oracle.ageSecs !== null && b.oracle.ageSecs > b.maxOracleAgeSecs ? "error" : ""}`}>{age(b.oracle.ageSecs)}</td>
                <td class="num" data-testid={`deposits-${b.symbol}`}>{amount(b.deposits, b.decimals, 2)}</td>
                <td class="num">{amount(b.borrows, b.decimals, 2)}</td>
                <td class="num">{pct(b.utilization, 1)}</td>
                <td class="num">{pct(b.depositRate)}</td>
                <td class="num">{pct(b.borrowRate)}</td>
                <td class="num">{cap(b.depositCap, b.decimals)}</td>
                <td class="num">{cap(b.borrowLimit, b.decimals)}</td>
                <td class="num">{b.weights.initAsset.toFixed(2)} / {b.weights.maintAsset.toFixed(2)}</td>
                <td class="num">{b.weights.initLiab.toFixed(2)} / {b.weights.maintLiab.toFixed(2)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      {g.markets.length > 0 && (
        <>
          <h2>Derivative markets</h2>
          <div class="scroll">
            <table data-testid="markets">
              <thead><tr><th>Market</th><th>Kind</th><th>Status</th><th>Open interest</th><th>OI cap</th><th>Funding /h</th><th>Mark TWAP</th><th>Oracle TWAP</th><th>Last funding</th></tr></thead>
              <tbody>
                {g.markets.map((m) => {
                  const dec = m.underlying?.decimals ?? 0;
                  return (
                    <tr data-market={m.name}>
                      <td><b>{m.name}</b></td><td>{m.kind}{m.expiryTs > 0 ? ` · ${new Date(m.expiryTs * 1000).toISOString().slice(0, 10)}` : ""}</td>
                      <td>{m.status}</td>
                      <td class="num" data-testid={`oi-${m.name}`}>{amount(m.openInterest, 0)} ({amount(m.openInterest * m.contractSize, dec, 2)} {m.underlying?.symbol})</td>
                      <td class="num">{amount(m.openInterestCap, 0)}</td>
                      <td class="num">{pct(m.lastFundingRate, 4)}</td>
                      <td class="num">{m.markTwap === 0 ? "—" : price(m.markTwap)}</td>
                      <td class="num">{m.oracleTwap === 0 ? "—" : price(m.oracleTwap)}</td>
                      <td class="num">{m.lastFundingTs > 0 ? age(Math.max(0, Number(g.now) - m.lastFundingTs)) + " ago" : "never"}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </>
      )}

      <h2>Margin accounts</h2>
      {!accounts ? <p class="muted">Loading accounts…</p> : accounts.length === 0 ? <p class="muted">No margin account yet.</p> : (
        <div class="scroll">
          <table data-testid="accounts">
            <thead><tr><th>Account</th><th>Band</th><th>Init</th><th>Maint</th><th>Owner</th></tr></thead>
            <tbody>
              {accounts.map((a) => (
                <tr data-account={a.address.toBase58()}>
                  <td><a href="#" class="mono" onClick={(e) => { e.preventDefault(); onAccount(a.address); }}>{short(a.address)}</a></td>
                  <td>{a.band ? <span class={`band ${a.band}`}>{BAND_LABEL[a.band]}</span> : <span class="error">{a.error}</span>}</td>
                  <td class="num">{a.health ? usd(a.health.init, qd) : "—"}</td>
                  <td class="num">{a.health ? usd(a.health.maint, qd) : "—"}</td>
                  <td class="mono">{short(a.owner)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function AccountView({ g, a, wallet, rpc, onDone }: { g: GroupModel; a: AccountModel; wallet: Connected | null; rpc: string; onDone: () => void }) {
  const qd = g.quoteDecimals;
  const charted = a.positions.filter((p) => !p.bank.isQuote).map((p) => p.tokenIndex);
  for (const d of a.derivatives) {
    const t = d.market.data.underlyingTokenIndex;
    if (!charted.includes(t)) charted.push(t);
  }
  const [chartToken, setChartToken] = useState<number | null>(null);
  const token = chartToken !== null && charted.includes(chartToken) ? chartToken
    : [...a.positions].filter((p) => !p.bank.isQuote).sort((x, y) => Number(y.value - x.value))[0]?.tokenIndex ?? charted[0] ?? null;
  const liqOf = (tokenIndex: number): number | null => {
    const l = a.limits.find((x) => x.bank.tokenIndex === tokenIndex);
    if (!l || l.liquidationPrice === undefined || l.liquidationPrice === null) return null;
    return Number(priceToUi(l.liquidationPrice, l.bank.decimals, qd, 6, "ceil"));
  };
  const curve = useMemo(() => {
    if (token === null) return null;
    // From a quarter to twice the current price, widened to show the liquidation price.
    const p0 = g.banks.find((b) => b.tokenIndex === token)?.oracle.price ?? null;
    const liq = liqOf(token);
    const ratio = p0 && liq ? liq / p0 : 1;
    return healthCurve(a, g, token, 61, Math.max(0.01, Math.min(0.25, ratio * 0.8)), Math.max(2, ratio * 1.2));
  }, [a, g, token]);
  const isOwner = wallet !== null && (a.owner.equals(wallet.publicKey) || a.data.delegate.equals(wallet.publicKey));
  const h = a.health;
  return (
    <div data-testid="account-view">
      <div class="cards">
        <div class={`card band-card ${a.band ?? "unknown"}`} data-testid="band" data-band={a.band ?? ""}>
          <div class="k">Band</div>
          <div class="v">{a.band ? BAND_LABEL[a.band] : "unknown"}{a.beingLiquidated ? " · being liquidated" : ""}{a.bankrupt ? " · bankrupt" : ""}</div>
        </div>
        {(["init", "maint", "liqEnd"] as const).map((k) => (
          <div class="card" data-testid={`health-${k}`} data-raw={h ? h[k].toString() : ""}>
            <div class="k">{k === "init" ? "Init health" : k === "maint" ? "Maint health" : "LiquidationEnd health"}</div>
            <div class={`v ${h && h[k] < 0n ? "neg" : ""}`}>{h ? usd(h[k], qd) : "—"}</div>
          </div>
        ))}
      </div>
      {a.healthError && <p class="error" data-testid="health-error">{a.healthError}</p>}
      <p class="muted small">
        Account <span class="mono" data-testid="account-address">{a.address.toBase58()}</span> · owner <span class="mono">{short(a.owner)}</span>
        {" "}· valued at cluster time <span data-testid="account-now" data-now={a.now.toString()}>{a.now.toString()}</span> exactly as <code>compute_health</code> does
      </p>

      <h2>Positions</h2>
      {a.positions.length === 0 && a.derivatives.length === 0 ? <p class="muted">No positions.</p> : (
        <div class="scroll">
          <table data-testid="positions">
            <thead><tr><th>Token</th><th>Balance</th><th>Value</th><th>Weight I/M/LE</th><th>Init contrib.</th><th>Maint contrib.</th></tr></thead>
            <tbody>
              {a.positions.map((p) => (
                <tr data-token={p.bank.symbol} data-balance={p.balance.toString()}>
                  <td><b>{p.bank.symbol}</b> {p.balance < 0n ? <span class="tag debt">borrow</span> : <span class="tag">deposit</span>}</td>
                  <td class="num" data-testid={`balance-${p.bank.symbol}`}>{amount(p.balance, p.bank.decimals, 6)}</td>
                  <td class="num">{p.priced ? usd(p.value, qd) : "unpriced"}</td>
                  <td class="num">{[p.initWeight, p.maintWeight, p.liqEndWeight].map((w) => (Number.isNaN(w) ? "—" : w.toFixed(3))).join(" / ")}</td>
                  <td class="num">{usd(p.initContribution, qd)}</td>
                  <td class="num">{usd(p.maintContribution, qd)}</td>
                </tr>
              ))}
              {a.derivatives.map((d) => (
                <tr data-market={d.market.name}>
                  <td><b>{d.market.name}</b> <span class="tag">{d.baseContracts >= 0n ? "long" : "short"}</span></td>
                  <td class="num">{d.baseContracts.toString()} contracts</td>
                  <td class="num">cost {usd(d.quoteCost, qd)}</td>
                  <td class="num">—</td>
                  <td class="num" colSpan={2}>realised PnL {usd(d.realizedPnl, qd)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h2>Limits and liquidation prices</h2>
      <div class="scroll">
        <table data-testid="limits">
          <thead><tr><th>Token</th><th>Max withdraw</th><th>Max borrow</th><th>Liquidation price</th><th>Oracle</th></tr></thead>
          <tbody>
            {a.limits.map((l) => (
              <tr data-token={l.bank.symbol}>
                <td><b>{l.bank.symbol}</b></td>
                <td class="num" data-testid={`max-withdraw-${l.bank.symbol}`}>{l.maxWithdraw === null ? <span class="muted" title={l.error ?? ""}>—</span> : amount(l.maxWithdraw, l.bank.decimals, 6)}</td>
                <td class="num" data-testid={`max-borrow-${l.bank.symbol}`}>{l.maxBorrow === null ? "—" : amount(l.maxBorrow, l.bank.decimals, 6)}</td>
                <td class="num" data-testid={`liq-price-${l.bank.symbol}`}>
                  {l.liquidationPrice === undefined ? "—" : l.liquidationPrice === null ? "none" : price(Number(priceToUi(l.liquidationPrice, l.bank.decimals, qd, 6, "ceil")))}
                </td>
                <td class="num">{price(l.bank.oracle.price)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      {token !== null && curve && (
        <>
          <h2>What if: Maint health against the price of{" "}
            <select data-testid="chart-token" value={String(token)} onChange={(e) => setChartToken(Number(e.currentTarget.value))}>
              {charted.map((t) => <option value={String(t)}>{g.banks.find((b) => b.tokenIndex === t)?.symbol ?? t}</option>)}
            </select>
          </h2>
          {curve.error ? <p class="error">{curve.error}</p> : (
            <HealthChart samples={curve.samples} p0={curve.p0} liquidationPrice={liqOf(token)}
              symbol={g.banks.find((b) => b.tokenIndex === token)?.symbol ?? String(token)} />
          )}
        </>
      )}

      {isOwner ? <Actions g={g} a={a} wallet={wallet!} rpc={rpc} onDone={onDone} /> : (
        <p class="muted small" data-testid="read-only">Read-only: connect the owner's wallet to act on this account.</p>
      )}
    </div>
  );
}

function Actions({ g, a, wallet, rpc, onDone }: { g: GroupModel; a: AccountModel; wallet: Connected; rpc: string; onDone: () => void }) {
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

function CreateAccount({ g, wallet, rpc, onDone }: { g: GroupModel; wallet: Connected; rpc: string; onDone: () => void }) {
  const [state, setState] = useState<string | null>(null);
  return (
    <div>
      <button type="button" data-testid="create-account" onClick={async () => {
        try { setState("creating…"); await createAccount(g.client, wallet, rpc, setState); setState("created"); onDone(); } catch (e) { setState(message(e)); }
      }}>Create my margin account</button> {state}
    </div>
  );
}

