/**
 * An account's derivative positions: contracts, entry and cost, value and
 * unrealised PnL at the price the program marks it at, realised PnL not yet
 * settled, pending funding, and the contribution to Init and Maint health
 * (the client's estimate; "—" with the reason where it cannot value one).
 */
import { amount, price, usd } from "./format.ts";
import { marketTerms } from "./marketsTable.tsx";
import type { AccountModel, Contribution, DerivativeRow } from "./model.ts";

const SOURCE_LABEL: Record<DerivativeRow["priceSource"], string> = {
  oracle: "at oracle", "model value": "at model value", settlement: "at settlement", none: "unpriced",
};

function ContributionCell({ c, qd, testid, marks }: { c: Contribution; qd: number; testid: string; marks: string[] }) {
  if ("error" in c) {
    const mark = "*".repeat(marks.indexOf(c.error) + 1);
    return <td class="num muted" data-testid={testid} data-reason={c.error} title={c.error}>— {mark}</td>;
  }
  return <td class={`num ${c.native < 0n ? "neg-text" : ""}`} data-testid={testid} data-raw={c.raw.toString()}>{usd(c.native, qd)}</td>;
}

function Signed({ v, qd }: { v: bigint | null; qd: number }) {
  if (v === null) return <>—</>;
  return <span class={v < 0n ? "neg-text" : v > 0n ? "pos-text" : ""}>{v > 0n ? "+" : ""}{usd(v, qd)}</span>;
}

function DerivativeTr({ d, qd, marks }: { d: DerivativeRow; qd: number; marks: string[] }) {
  const m = d.market;
  const side = d.baseContracts > 0n ? "long" : d.baseContracts < 0n ? "short" : "flat";
  return (
    <tr data-market={m.name} data-contracts={d.baseContracts.toString()} data-quote-cost={d.quoteCost.toString()}
      data-realized={d.realizedPnl.toString()} data-funding={d.pendingFunding.toString()}
      data-value={d.value?.toString() ?? ""} data-upnl={d.unrealizedPnl?.toString() ?? ""}>
      <th scope="row" class="sticky"><b>{m.name}</b> <span class={`tag ${side === "short" ? "debt" : ""}`}>{side}</span>
        <div class="muted small">{marketTerms(m)}</div></th>
      <td class="num" data-testid={`contracts-${m.name}`}>{amount(d.baseContracts, 0)}
        <div class="muted small">{amount(d.baseContracts * m.contractSize, m.underlyingDecimals, 4)} {m.underlyingSymbol}</div></td>
      <td class="num" data-testid={`entry-${m.name}`}>{price(d.entryPrice)}<div class="muted small">cost {usd(d.quoteCost, qd)}</div></td>
      <td class="num">{d.value === null ? "—" : usd(d.value, qd)}<div class="muted small">{SOURCE_LABEL[d.priceSource]}</div></td>
      <td class="num" data-testid={`upnl-${m.name}`}><Signed v={d.unrealizedPnl} qd={qd} /></td>
      <td class="num"><Signed v={d.realizedPnl} qd={qd} /></td>
      <td class="num" data-testid={`pending-funding-${m.name}`}>{m.kind === "perpetual" ? <Signed v={d.pendingFunding} qd={qd} /> : "—"}</td>
      <ContributionCell c={d.init} qd={qd} testid={`init-contrib-${m.name}`} marks={marks} />
      <ContributionCell c={d.maint} qd={qd} testid={`maint-contrib-${m.name}`} marks={marks} />
    </tr>
  );
}

export function DerivativePositions({ a, qd }: { a: AccountModel; qd: number }) {
  if (a.derivatives.length === 0) return <p class="muted" data-testid="no-derivatives">No derivative positions.</p>;
  // Each distinct reason a contribution is missing, footnoted once.
  const marks = [...new Set(a.derivatives.flatMap((d) => [d.init, d.maint]).flatMap((c) => ("error" in c ? [c.error] : [])))];
  return (
    <>
      <div class="scroll">
        <table data-testid="derivatives">
          <thead><tr>
            <th class="sticky">Market</th><th>Contracts</th><th>Entry</th><th>Value</th><th>Unrealised PnL</th>
            <th>Realised, unsettled</th><th>Pending funding</th><th>Init contrib.</th><th>Maint contrib.</th>
          </tr></thead>
          <tbody>{a.derivatives.map((d) => <DerivativeTr d={d} qd={qd} marks={marks} />)}</tbody>
        </table>
      </div>
      {marks.map((r, i) => <p class="muted small" data-testid="contribution-reason">{"*".repeat(i + 1)} {r}</p>)}
    </>
  );
}
