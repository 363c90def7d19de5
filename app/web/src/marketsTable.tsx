/**
 * Every derivative market of the group: kind and terms, state at the
 * cluster's clock, oracle and its age, mark and stable prices, open interest
 * (contracts and notional), funding (perpetuals) and, for options, volatility,
 * model value and the risk array's age and freshness.
 */
import { age, amount, pct, price } from "./format.ts";
import type { GroupModel, MarketRow, OptionInfo } from "./model.ts";

const date = (ts: number): string => new Date(ts * 1000).toISOString().slice(0, 10);

/** `call $165 · 2027-01-06`, `future · 2027-01-06`, `perp`. */
export function marketTerms(m: MarketRow): string {
  if (m.option) return `${m.kindLabel} ${price(m.option.strike)} · ${date(m.expiryTs)}`;
  return m.expiryTs > 0 ? `${m.kindLabel} · ${date(m.expiryTs)}` : m.kindLabel;
}

const FRESHNESS_LABEL: Record<OptionInfo["freshness"], string> = {
  fresh: "fresh", stale: "stale", drifted: "drifted", otherGrid: "other grid", never: "never computed",
};

function StateTag({ m }: { m: MarketRow }) {
  const cls = m.state === "active" ? "ok" : m.state === "expired" ? "warn" : "";
  return <span class={`tag ${cls}`} data-testid={`state-${m.name}`}>{m.state}{m.settlementPrice !== null ? ` at ${price(m.settlementPrice)}` : ""}</span>;
}

function OracleCell({ m }: { m: MarketRow }) {
  const stale = m.oracle.ageSecs !== null && m.oracle.ageSecs > m.maxOracleAgeSecs;
  return (
    <td class="num">
      <span data-testid={`market-oracle-${m.name}`}>{m.oracle.error ? <span class="error">{m.oracle.error}</span> : price(m.oracle.price)}</span>
      <div class={`small ${stale ? "error" : "muted"}`} title={`max ${m.maxOracleAgeSecs} s`}>{age(m.oracle.ageSecs)}{stale ? " · stale" : " old"}</div>
    </td>
  );
}

function FundingCells({ m, now }: { m: MarketRow; now: bigint }) {
  if (m.kind !== "perpetual") return <><td class="num muted">—</td><td class="num muted">—</td></>;
  return (
    <>
      <td class="num">
        <span data-testid={`funding-${m.name}`} data-rate={m.lastFundingRate}>{pct(m.lastFundingRate, 4)}</span>
        <div class="muted small" title="the rate update_funding would apply now">next {m.nextFundingRate === null ? "—" : pct(m.nextFundingRate, 4)}</div>
      </td>
      <td class="num" data-testid={`funding-ts-${m.name}`} data-ts={m.lastFundingTs}>
        {m.lastFundingTs > 0 ? `${age(Math.max(0, Number(now) - m.lastFundingTs))} ago` : "never"}
      </td>
    </>
  );
}

function OptionCells({ m, qd }: { m: MarketRow; qd: number }) {
  const o = m.option;
  if (!o) return <><td class="num muted">—</td><td class="num muted">—</td><td class="num muted">—</td></>;
  const bad = o.freshness !== "fresh";
  return (
    <>
      <td class="num">
        <span data-testid={`vol-${m.name}`} data-vol={o.volatility}>{pct(o.volatility, 1)}</span>
        {o.pendingVolatility ? <div class="muted small">→ {pct(o.pendingVolatility.value, 1)} at {new Date(o.pendingVolatility.ts * 1000).toISOString().slice(0, 16)}</div> : null}
      </td>
      <td class="num">
        <span data-testid={`model-${m.name}`} data-per-contract={o.valuePerContract.toString()}>
          {o.arrayComputedAt === 0 ? "—" : `$${amount(o.valuePerContract, qd, 4)} /ct`}
        </span>
        <div class="muted small">Δ {o.delta.toFixed(3)}</div>
      </td>
      <td class={`num ${bad ? "error" : "ok"}`} data-testid={`array-${m.name}`} data-freshness={o.freshness}
        data-computed-at={o.arrayComputedAt}>
        {FRESHNESS_LABEL[o.freshness]}{o.arrayAgeSecs !== null ? ` · ${age(o.arrayAgeSecs)}` : ""}
      </td>
    </>
  );
}

function MarketTr({ m, g }: { m: MarketRow; g: GroupModel }) {
  const markTitle = m.option ? "model value of the risk array, per token" : "oracle · (1 + mark premium in force)";
  return (
    <tr data-market={m.name} data-state={m.state}>
      <th scope="row" class="sticky"><b>{m.name}</b><div class="muted small" data-testid={`kind-${m.name}`}>{marketTerms(m)}</div></th>
      <td><StateTag m={m} /></td>
      <OracleCell m={m} />
      <td class="num" title={markTitle}>
        <span data-testid={`mark-${m.name}`}>{price(m.markPrice)}</span>
        <div class="muted small">stable <span data-testid={`stable-${m.name}`}>{price(m.stablePrice)}</span></div>
      </td>
      <td class="num">
        <span data-testid={`oi-${m.name}`} data-oi={m.openInterest.toString()}>
          {amount(m.openInterest, 0)} ({amount(m.openInterest * m.contractSize, m.underlyingDecimals, 2)} {m.underlyingSymbol})
        </span>
        <div class="muted small" data-testid={`oi-usd-${m.name}`}>{m.openInterestNotional === null ? "—" : price(m.openInterestNotional)}</div>
      </td>
      <FundingCells m={m} now={g.now} />
      <OptionCells m={m} qd={g.quoteDecimals} />
    </tr>
  );
}

export function MarketsTable({ g }: { g: GroupModel }) {
  if (g.markets.length === 0) return <p class="muted" data-testid="no-markets">No derivative market listed.</p>;
  return (
    <>
      <div class="scroll">
        <table data-testid="markets">
          <thead><tr>
            <th class="sticky">Market</th><th>Status</th><th>Oracle</th><th>Mark</th><th>Open interest</th><th>Funding /h</th>
            <th>Last funding</th><th>Volatility</th><th>Model value</th><th>Risk array</th>
          </tr></thead>
          <tbody>{g.markets.map((m) => <MarketTr m={m} g={g} />)}</tbody>
        </table>
      </div>
      <p class="muted small">
        Prices per whole underlying token; open interest in contracts, underlying and dollars at the oracle. Funding: the last hourly rate applied (&gt; 0: longs pay shorts) and what{" "}
        <code>update_funding</code> would apply now. Options: model value per contract from the market's risk array, usable for
        health while fresh (at most 600 s old, the oracle within 2 % of its spot, at the volatility in force).
      </p>
    </>
  );
}
