/** The group view: summary cards, every bank, the derivative markets and the group's margin accounts by health. */
import type { PublicKey } from "@solana/web3.js";
import { age, amount, BAND_LABEL, cap, pct, price, short, usd } from "./format.ts";
import { MarketsTable } from "./marketsTable.tsx";
import type { AccountSummary, GroupModel } from "./model.ts";

export function GroupView({ g, accounts, onAccount }: { g: GroupModel; accounts?: AccountSummary[]; onAccount: (k: PublicKey) => void }) {
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

      <h2>Derivative markets</h2>
      <MarketsTable g={g} />

      <h2>Margin accounts</h2>
      {!accounts ? <p class="muted">Loading accounts…</p> : accounts.length === 0 ? <p class="muted">No margin account yet.</p> : (
        <div class="scroll">
          <table data-testid="accounts">
            <thead><tr><th>Account</th><th>Band</th><th>Init</th><th>Maint</th><th>Owner</th></tr></thead>
            <tbody>
              {accounts.map((a) => (
                <tr data-account={a.address.toBase58()}>
                  <td><a href="#" class="mono" onClick={(e) => { e.preventDefault(); onAccount(a.address); }}>{short(a.address)}</a></td>
                  <td>{a.band ? <span class={`band ${a.band}`} title={a.source === "compute_health" ? "compute_health (simulated): the client's estimate could not value its options" : undefined}>
                    {BAND_LABEL[a.band]}{a.source === "compute_health" ? " *" : ""}</span> : <span class="error">{a.error}</span>}</td>
                  <td class="num">{a.health ? usd(a.health.init, qd) : "—"}</td>
                  <td class="num">{a.health ? usd(a.health.maint, qd) : "—"}</td>
                  <td class="mono">{short(a.owner)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {accounts?.some((a) => a.source === "compute_health") && (
        <p class="muted small">* valued by the program's <code>compute_health</code> (simulated): the account holds options the
          client's estimate could not value.</p>
      )}
    </section>
  );
}

