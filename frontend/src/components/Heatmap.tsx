import type {Num} from '../api/types';
import {isNum} from '../format';

export interface HeatmapProps {
  caption: string;
  // cornerLabel names the two axes for screen readers ("Recency \ Frequency").
  cornerLabel: string;
  rowLabels: string[];
  colLabels: string[];
  values: Num[][];
  format: (v: Num) => string;
  // cellLabel is the full sentence a screen reader hears for one cell.
  cellLabel: (row: number, col: number, value: Num) => string;
  // intensity maps a value to 0..1; by default the share of the largest value.
  intensity?: (v: number, max: number) => number;
  // dense uses narrow cells, for wide grids such as 24 hours.
  dense?: boolean;
}

// heat returns the cell's background and a text color that stays readable
// on it (dark text on light cells, white on dark ones).
export function heat(level: number): {background: string; color: string} {
  const t = Math.max(0, Math.min(1, level));
  // Shopify's green, from nearly white to saturated.
  const alpha = 0.06 + 0.84 * t;
  return {background: `rgba(0, 128, 96, ${alpha.toFixed(3)})`, color: t > 0.55 ? '#fff' : '#202223'};
}

export function Heatmap({caption, cornerLabel, rowLabels, colLabels, values, format, cellLabel, intensity, dense}: HeatmapProps) {
  let max = 0;
  for (const row of values) for (const v of row) if (isNum(v) && v > max) max = v;
  const level = intensity ?? ((v: number, m: number) => (m > 0 ? v / m : 0));
  return (
    <div className="cvo-heatmap-scroll">
      <table className={dense ? 'cvo-heatmap cvo-heatmap--dense' : 'cvo-heatmap'}>
        <caption className="cvo-visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col" className="cvo-heatmap__corner">
              {cornerLabel}
            </th>
            {colLabels.map((c) => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rowLabels.map((r, i) => (
            <tr key={r}>
              <th scope="row">{r}</th>
              {colLabels.map((c, j) => {
                const v = values[i]?.[j];
                const style = isNum(v) ? heat(level(v, max)) : undefined;
                return (
                  <td key={c} style={style} aria-label={cellLabel(i, j, v)} className={isNum(v) ? undefined : 'cvo-heatmap__blank'}>
                    {isNum(v) ? format(v) : ''}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
