/** The what-if chart: Maint health against one token's price, inline SVG. */
import { price as fmtPrice } from "./format.ts";

export interface ChartProps {
  samples: { price: number; health: number }[];
  p0: number;
  liquidationPrice: number | null;
  symbol: string;
}

export function HealthChart({ samples, p0, liquidationPrice, symbol }: ChartProps) {
  if (samples.length < 2) return <p class="muted">No curve: the account has no usable price for {symbol}.</p>;
  const W = 640, H = 240, L = 76, R = 12, T = 12, B = 34;
  const xs = samples.map((s) => s.price);
  const ys = samples.map((s) => s.health);
  const x0 = Math.min(...xs), x1 = Math.max(...xs);
  let y0 = Math.min(0, ...ys), y1 = Math.max(0, ...ys);
  if (y1 - y0 < 1e-9) { y0 -= 1; y1 += 1; }
  const pad = (y1 - y0) * 0.08;
  y0 -= pad; y1 += pad;
  const sx = (x: number) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const sy = (y: number) => T + (1 - (y - y0) / (y1 - y0)) * (H - T - B);
  const path = samples.map((s, i) => `${i ? "L" : "M"}${sx(s.price).toFixed(1)},${sy(s.health).toFixed(1)}`).join("");
  const ticksY = [y0 + pad, (y0 + y1) / 2, y1 - pad];
  const ticksX = [x0, (x0 + x1) / 2, x1];
  const fmtY = (v: number) => Math.abs(v) >= 1e6 ? `${(v / 1e6).toFixed(1)}M` : Math.abs(v) >= 1e3 ? `${(v / 1e3).toFixed(1)}k` : v.toFixed(0);
  return (
    <svg class="chart" viewBox={`0 0 ${W} ${H}`} role="img" data-testid="health-chart"
      aria-label={`Maint health against the ${symbol} price`}>
      <rect x={L} y={T} width={W - L - R} height={Math.max(0, sy(0) - T)} class="chart-safe" />
      <rect x={L} y={sy(0)} width={W - L - R} height={Math.max(0, H - B - sy(0))} class="chart-danger" />
      <line x1={L} x2={W - R} y1={sy(0)} y2={sy(0)} class="chart-zero" />
      {ticksY.map((v) => <text x={L - 6} y={sy(v) + 4} class="chart-tick" text-anchor="end">{fmtY(v)}</text>)}
      {ticksX.map((v, i) => <text x={sx(v)} y={H - B + 16} class="chart-tick" text-anchor={["start", "middle", "end"][i]}>{fmtPrice(v)}</text>)}
      <text x={(L + W - R) / 2} y={H - 4} class="chart-label" text-anchor="middle">{symbol} price</text>
      <path d={path} class="chart-line" />
      <line x1={sx(p0)} x2={sx(p0)} y1={T} y2={H - B} class="chart-now" />
      <text x={sx(p0) + 4} y={T + 12} class="chart-tick">now {fmtPrice(p0)}</text>
      {liquidationPrice !== null && liquidationPrice >= x0 && liquidationPrice <= x1 && (
        <g>
          <line x1={sx(liquidationPrice)} x2={sx(liquidationPrice)} y1={T} y2={H - B} class="chart-liq" />
          <text x={sx(liquidationPrice) + 4} y={H - B - 6} class="chart-tick liq">liq. {fmtPrice(liquidationPrice)}</text>
        </g>
      )}
    </svg>
  );
}
