import {useId} from 'react';

export interface ChartPoint {
  x: number;
  y: number;
  xLabel: string;
  yLabel: string;
}

export interface LineChartProps {
  title: string;
  description: string;
  points: ChartPoint[];
  xHeading: string;
  yHeading: string;
  xDomain?: [number, number];
  yDomain?: [number, number];
  xTicks?: {value: number; label: string}[];
  yTicks?: {value: number; label: string}[];
  // reference draws a dashed diagonal (the "everyone equal" line of a Pareto curve).
  reference?: boolean;
}

const W = 640;
const H = 260;
const PAD = {left: 56, right: 16, top: 12, bottom: 36};

// LineChart is a plain SVG line chart. The SVG has a title and description
// for assistive technology, and the same data follows as a visually hidden
// table so every value can be read.
export function LineChart({title, description, points, xHeading, yHeading, xDomain, yDomain, xTicks, yTicks, reference}: LineChartProps) {
  const id = useId();
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const [x0, x1] = xDomain ?? [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = yDomain ?? [Math.min(0, ...ys), Math.max(...ys)];
  const sx = (x: number) => PAD.left + (x1 === x0 ? 0.5 : (x - x0) / (x1 - x0)) * (W - PAD.left - PAD.right);
  const sy = (y: number) => H - PAD.bottom - (y1 === y0 ? 0.5 : (y - y0) / (y1 - y0)) * (H - PAD.top - PAD.bottom);
  const path = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ');

  return (
    <figure className="cvo-chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${id}-t ${id}-d`} preserveAspectRatio="xMidYMid meet">
        <title id={`${id}-t`}>{title}</title>
        <desc id={`${id}-d`}>{description}</desc>
        <line x1={PAD.left} y1={H - PAD.bottom} x2={W - PAD.right} y2={H - PAD.bottom} className="cvo-chart__axis" />
        <line x1={PAD.left} y1={PAD.top} x2={PAD.left} y2={H - PAD.bottom} className="cvo-chart__axis" />
        {(yTicks ?? []).map((t) => (
          <g key={`y${t.value}`}>
            <line x1={PAD.left} x2={W - PAD.right} y1={sy(t.value)} y2={sy(t.value)} className="cvo-chart__grid" />
            <text x={PAD.left - 6} y={sy(t.value) + 4} textAnchor="end" className="cvo-chart__tick">
              {t.label}
            </text>
          </g>
        ))}
        {(xTicks ?? []).map((t) => (
          <text key={`x${t.value}`} x={sx(t.value)} y={H - PAD.bottom + 18} textAnchor="middle" className="cvo-chart__tick">
            {t.label}
          </text>
        ))}
        {reference ? <line x1={sx(x0)} y1={sy(y0)} x2={sx(x1)} y2={sy(y1)} className="cvo-chart__reference" /> : null}
        {points.length > 0 ? <path d={path} className="cvo-chart__line" /> : null}
        {points.length <= 60
          ? points.map((p, i) => <circle key={i} cx={sx(p.x)} cy={sy(p.y)} r={3} className="cvo-chart__dot" />)
          : null}
      </svg>
      <table className="cvo-visually-hidden">
        <caption>{title}</caption>
        <thead>
          <tr>
            <th scope="col">{xHeading}</th>
            <th scope="col">{yHeading}</th>
          </tr>
        </thead>
        <tbody>
          {points.map((p, i) => (
            <tr key={i}>
              <th scope="row">{p.xLabel}</th>
              <td>{p.yLabel}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
