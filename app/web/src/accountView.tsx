/**
 * The account view: band and health, token positions with their weights and
 * contributions, derivative positions, limits and liquidation prices, the
 * what-if chart, and the owner's actions.
 */
import { useMemo, useState } from "preact/hooks";
import { priceToUi } from "@xmargin/client";
import { Actions } from "./actionsPanel.tsx";
import { HealthChart } from "./chart.tsx";
import { DerivativePositions } from "./derivativePositions.tsx";
import { amount, BAND_LABEL, price, short, usd } from "./format.ts";
import { type AccountModel, type GroupModel, healthCurve } from "./model.ts";
import type { Connected } from "./wallet.ts";

export function AccountView({ g, a, wallet, rpc, onDone }: { g: GroupModel; a: AccountModel; wallet: Connected | null; rpc: string; onDone: () => void }) {
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
      {a.healthSource === "compute_health" && (
        <p class="muted small" data-testid="health-note">
          Health from the program's <code>compute_health</code>, simulated (nothing signed): {a.healthNote}.
        </p>
      )}
      <p class="muted small" data-testid="health-source" data-source={a.healthSource ?? ""}>
        Account <span class="mono" data-testid="account-address">{a.address.toBase58()}</span> · owner <span class="mono">{short(a.owner)}</span>
        {" "}· valued at cluster time <span data-testid="account-now" data-now={a.now.toString()}>{a.now.toString()}</span>{" "}
        {a.healthSource === "compute_health" ? <>by <code>compute_health</code></> : <>exactly as <code>compute_health</code> does</>}
      </p>

      <h2>Token positions</h2>
      {a.positions.length === 0 ? <p class="muted">No token positions.</p> : (
        <div class="scroll">
          <table data-testid="positions">
            <thead><tr><th>Token</th><th>Balance</th><th>Value</th><th>Weight I/M/LE</th><th>Init contrib.</th><th>Maint contrib.</th></tr></thead>
            <tbody>
              {a.positions.map((p) => (
                <tr data-token={p.bank.symbol} data-balance={p.balance.toString()} data-init-raw={p.initRaw.toString()}
                  data-maint-raw={p.maintRaw.toString()}>
                  <td><b>{p.bank.symbol}</b> {p.balance < 0n ? <span class="tag debt">borrow</span> : <span class="tag">deposit</span>}</td>
                  <td class="num" data-testid={`balance-${p.bank.symbol}`}>{amount(p.balance, p.bank.decimals, 6)}</td>
                  <td class="num">{p.priced ? usd(p.value, qd) : "unpriced"}</td>
                  <td class="num">{[p.initWeight, p.maintWeight, p.liqEndWeight].map((w) => (Number.isNaN(w) ? "—" : w.toFixed(3))).join(" / ")}</td>
                  <td class="num">{usd(p.initContribution, qd)}</td>
                  <td class="num">{usd(p.maintContribution, qd)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h2>Derivative positions</h2>
      <DerivativePositions a={a} qd={qd} />

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
      {[...new Set(a.limits.flatMap((l) => (l.error ? [l.error] : [])))].map((e) => (
        <p class="muted small" data-testid="limits-unavailable">Limits not available: {e}</p>
      ))}

      {token !== null && curve && (
        <>
          <h2>What if: Maint health against the price of{" "}
            <select data-testid="chart-token" value={String(token)} onChange={(e) => setChartToken(Number(e.currentTarget.value))}>
              {charted.map((t) => <option value={String(t)}>{g.banks.find((b) => b.tokenIndex === t)?.symbol ?? t}</option>)}
            </select>
          </h2>
          {curve.error ? <p class="muted" data-testid="chart-unavailable">Not available: {curve.error}</p> : (
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

