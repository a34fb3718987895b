import type {GridCell, Num} from '../api/types';
import type {Formatter} from '../format';
import {isNum} from '../format';
import {Heatmap} from './Heatmap';

// rfmMatrix lays the grid out with the most recent customers (highest R)
// in the top row and the most frequent (highest F) in the right column.
export function rfmMatrix(grid: GridCell[]): {rScores: number[]; fScores: number[]; values: Num[][]} {
  let maxR = 5;
  let maxF = 5;
  for (const c of grid) {
    if (isNum(c.r) && c.r > maxR) maxR = c.r;
    if (isNum(c.f) && c.f > maxF) maxF = c.f;
  }
  const rScores = Array.from({length: maxR}, (_, i) => maxR - i);
  const fScores = Array.from({length: maxF}, (_, i) => i + 1);
  const values: Num[][] = rScores.map(() => fScores.map(() => null));
  for (const c of grid) {
    if (!isNum(c.r) || !isNum(c.f) || c.r < 1 || c.f < 1) continue;
    const row = maxR - c.r;
    const col = c.f - 1;
    const prev = values[row][col];
    values[row][col] = (isNum(prev) ? prev : 0) + (isNum(c.customers) ? c.customers : 0);
  }
  return {rScores, fScores, values};
}

export function rfmCellLabel(fmt: Formatter, r: number, f: number, v: Num): string {
  const who = isNum(v) ? `${fmt.integer(v)} ${v === 1 ? 'customer' : 'customers'}` : 'no customers';
  return `Recency score ${r}, frequency score ${f}: ${who}`;
}

export function RfmGrid({grid, fmt}: {grid: GridCell[]; fmt: Formatter}) {
  const {rScores, fScores, values} = rfmMatrix(grid);
  return (
    <Heatmap
      chart="rfm"
      caption="Customers by recency score (rows, 5 is most recent) and frequency score (columns, 5 is most frequent)"
      cornerLabel="Recency / Frequency"
      rowLabels={rScores.map((r) => `R${r}`)}
      colLabels={fScores.map((f) => `F${f}`)}
      values={values}
      format={(v) => fmt.integer(v)}
      cellLabel={(i, j, v) => rfmCellLabel(fmt, rScores[i], fScores[j], v)}
    />
  );
}
