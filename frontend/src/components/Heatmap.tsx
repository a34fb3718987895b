import './charts.css';

import type {KeyboardEvent} from 'react';
import {useRef, useState} from 'react';

import type {Num} from '../api/types';
import {isNum} from '../format';
import {DataTableToggle} from './ChartFrame';

export interface HeatmapProps {
  // chart names the heatmap for the page's tests (data-chart).
  chart: string;
  caption: string;
  // cornerLabel names the two axes for screen readers ("Recency \ Frequency").
  cornerLabel: string;
  rowLabels: string[];
  colLabels: string[];
  values: Num[][];
  format: (v: Num) => string;
  // cellLabel is the full sentence a screen reader hears for one cell, and
  // the tooltip shows.
  cellLabel: (row: number, col: number, value: Num) => string;
  // intensity maps a value to 0..1; by default the share of the largest value.
  intensity?: (v: number, max: number) => number;
  // dense uses narrow cells, for wide grids such as 24 hours.
  dense?: boolean;
  // partial marks cells whose period has not ended (counted so far).
  partial?: (row: number, col: number) => boolean;
}

// heat returns the cell's background and a text color that stays readable
// on it (dark text on light cells, white on dark ones).
export function heat(level: number): {background: string; color: string} {
  const t = Math.max(0, Math.min(1, level));
  // Shopify's green, from nearly white to saturated.
  const alpha = 0.06 + 0.84 * t;
  return {background: `rgba(0, 128, 96, ${alpha.toFixed(3)})`, color: t > 0.55 ? '#fff' : '#202223'};
}

// moveCell is where a key moves the focused cell of a rows x cols grid, as
// in the ARIA grid pattern; null for keys the grid leaves alone.
export function moveCell(key: string, ctrl: boolean, [r, c]: [number, number], rows: number, cols: number): [number, number] | null {
  const clamp = (v: number, n: number) => Math.max(0, Math.min(n - 1, v));
  switch (key) {
    case 'ArrowRight':
      return [r, clamp(c + 1, cols)];
    case 'ArrowLeft':
      return [r, clamp(c - 1, cols)];
    case 'ArrowDown':
      return [clamp(r + 1, rows), c];
    case 'ArrowUp':
      return [clamp(r - 1, rows), c];
    case 'Home':
      return ctrl ? [0, 0] : [r, 0];
    case 'End':
      return ctrl ? [rows - 1, cols - 1] : [r, cols - 1];
    case 'PageDown':
      return [rows - 1, c];
    case 'PageUp':
      return [0, c];
    default:
      return null;
  }
}

interface Tip {
  text: string;
  left: number;
  top: number;
}

// Heatmap is a table styled as a heatmap: polaris-viz has no heatmap (its
// Grid draws named groups of cells, traps the Tab key and turns off its
// tooltips below 400 px), and a table keeps every number readable at any
// width. It is an ARIA grid: one tab stop, arrow keys move between cells,
// and the focused or hovered cell shows its sentence as a tooltip.
export function Heatmap({chart, caption, cornerLabel, rowLabels, colLabels, values, format, cellLabel, intensity, dense, partial}: HeatmapProps) {
  const frame = useRef<HTMLDivElement>(null);
  const [active, setActive] = useState<[number, number]>([0, 0]);
  const [tip, setTip] = useState<Tip | null>(null);
  let max = 0;
  for (const row of values) for (const v of row) if (isNum(v) && v > max) max = v;
  const level = intensity ?? ((v: number, m: number) => (m > 0 ? v / m : 0));
  const rows = rowLabels.length;
  const cols = colLabels.length;
  const [ar, ac] = [Math.min(active[0], rows - 1), Math.min(active[1], cols - 1)];

  const show = (cell: HTMLElement, text: string) => {
    const box = frame.current?.getBoundingClientRect();
    if (!box) return;
    const r = cell.getBoundingClientRect();
    // Centered above the cell, kept inside the frame (tooltips are at most 240 px wide).
    const half = Math.min(120, box.width / 2);
    const center = r.left - box.left + r.width / 2;
    setTip({text, left: Math.max(half, Math.min(box.width - half, center)), top: r.top - box.top - 4});
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTableElement>) => {
    if (e.key === 'Escape') {
      setTip(null);
      return;
    }
    const next = moveCell(e.key, e.ctrlKey || e.metaKey, [ar, ac], rows, cols);
    if (!next) return;
    e.preventDefault();
    setActive(next);
    frame.current?.querySelector<HTMLElement>(`td[data-cell="${next[0]}-${next[1]}"]`)?.focus();
  };

  return (
    <div className="cvo-heatmap-frame" data-chart={chart} ref={frame}>
      <div className="cvo-heatmap-scroll">
        <table className={dense ? 'cvo-heatmap cvo-heatmap--dense' : 'cvo-heatmap'} role="grid" onKeyDown={onKeyDown}>
          <caption className="cvo-visually-hidden">{`${caption}. Use the arrow keys to move between cells.`}</caption>
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
                  const label = cellLabel(i, j, v);
                  return (
                    <td
                      key={c}
                      data-cell={`${i}-${j}`}
                      tabIndex={i === ar && j === ac ? 0 : -1}
                      style={style}
                      aria-label={label}
                      className={[isNum(v) ? '' : 'cvo-heatmap__blank', partial?.(i, j) ? 'cvo-heatmap__partial' : ''].join(' ').trim() || undefined}
                      data-partial={partial?.(i, j) ? 'true' : undefined}
                      onFocus={(e) => {
                        setActive([i, j]);
                        show(e.currentTarget, label);
                      }}
                      onBlur={() => setTip(null)}
                      onMouseEnter={(e) => show(e.currentTarget, label)}
                      onMouseLeave={() => setTip(null)}
                    >
                      {isNum(v) ? format(v) : ''}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {tip ? (
        <div role="tooltip" className="cvo-heatmap__tooltip" style={{left: tip.left, top: tip.top}}>
          {tip.text}
        </div>
      ) : null}
      <DataTableToggle
        table={{
          caption,
          columns: [cornerLabel, ...colLabels],
          rows: rowLabels.map((r, i) => ({label: r, cells: colLabels.map((_, j) => (isNum(values[i]?.[j]) ? format(values[i][j]) : '—'))})),
        }}
      />
    </div>
  );
}
