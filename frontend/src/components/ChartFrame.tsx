import './charts.css';

import {Button} from '@shopify/polaris';
import type {KeyboardEvent, ReactNode} from 'react';
import {Suspense, lazy, useCallback, useEffect, useId, useRef, useState} from 'react';

// polaris-viz arrives with the first chart, in a chunk of its own.
export const VizLineChart = lazy(() => import('./viz').then((m) => ({default: m.VizLineChart})));
export const VizBarChart = lazy(() => import('./viz').then((m) => ({default: m.VizBarChart})));

export interface DataTableProps {
  caption: string;
  // columns are the headings, the first one over the row labels.
  columns: string[];
  rows: {label: string; cells: string[]}[];
}

// DataTable is the plain table behind every chart: the same numbers, for
// anyone who cannot or would rather not read them off a picture.
export function DataTable({caption, columns, rows}: DataTableProps) {
  return (
    <div className="cvo-data-table-scroll">
      <table className="cvo-data-table">
        <caption>{caption}</caption>
        <thead>
          <tr>
            {columns.map((c, i) => (
              <th key={i} scope="col">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i}>
              <th scope="row">{r.label}</th>
              {r.cells.map((c, j) => (
                <td key={j}>{c}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

// DataTableToggle shows the chart's data table on demand, so the page keeps
// its length while every number stays one keypress away.
export function DataTableToggle({table}: {table: DataTableProps}) {
  const [open, setOpen] = useState(false);
  const id = useId();
  return (
    <div className="cvo-data-table-toggle">
      <Button variant="plain" disclosure={open ? 'up' : 'down'} ariaExpanded={open} ariaControls={id} onClick={() => setOpen((o) => !o)}>
        {open ? 'Hide data table' : 'Show data table'}
      </Button>
      <div id={id}>{open ? <DataTable {...table} /> : null}</div>
    </div>
  );
}

// The elements polaris-viz shows a tooltip for when they take focus.
export type FocusKind = 'Point' | 'BarGroup';

export interface ChartFrameProps {
  // label is the chart's accessible name: what it shows, in one sentence.
  label: string;
  focusKind: FocusKind;
  // count is the number of positions along the x axis.
  count: number;
  table: DataTableProps;
  chart: string;
  children: ReactNode;
}

// nextIndex is where an arrow, Home or End key moves the active value;
// null for keys the chart leaves alone.
export function nextIndex(key: string, current: number, count: number): number | null {
  if (count <= 0) return null;
  switch (key) {
    case 'ArrowRight':
    case 'ArrowDown':
      return current < 0 ? 0 : Math.min(count - 1, current + 1);
    case 'ArrowLeft':
    case 'ArrowUp':
      return current < 0 ? count - 1 : Math.max(0, current - 1);
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    default:
      return null;
  }
}

// ChartFrame wraps a polaris-viz chart: one tab stop for the whole chart
// (polaris-viz makes every line point a tab stop, a hundred for a Pareto
// curve), arrow keys that move polaris-viz's own tooltip from value to value,
// and the data table toggle.
export function ChartFrame({label, focusKind, count, table, chart, children}: ChartFrameProps) {
  const plot = useRef<HTMLDivElement>(null);
  const active = useRef(-1);
  const selector = `[data-type="${focusKind}"][aria-hidden="false"]`;

  // polaris-viz renders its points with tabindex 0 and its bar groups with
  // none; both become focusable by script only, and the frame moves focus.
  const demote = useCallback(() => {
    const root = plot.current;
    if (!root) return;
    root.querySelectorAll(`${selector}, svg [tabindex="0"]`).forEach((el) => {
      if (el.getAttribute('tabindex') !== '-1') el.setAttribute('tabindex', '-1');
    });
  }, [selector]);

  useEffect(() => {
    const root = plot.current;
    if (!root) return;
    demote();
    const observer = new MutationObserver(demote);
    observer.observe(root, {subtree: true, childList: true, attributes: true, attributeFilter: ['tabindex']});
    return () => observer.disconnect();
  }, [demote]);

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const root = plot.current;
    if (!root) return;
    if (e.key === 'Escape') {
      active.current = -1;
      root.focus();
      return;
    }
    const next = nextIndex(e.key, active.current, count);
    if (next === null) return;
    e.preventDefault();
    const target = Array.from(root.querySelectorAll<SVGElement>(selector)).find((el) => el.dataset.index === String(next));
    active.current = next;
    // Focus makes polaris-viz show its tooltip for that value.
    target?.focus();
  };

  return (
    <figure className="cvo-chart" data-chart={chart}>
      <div
        ref={plot}
        className="cvo-chart__plot"
        tabIndex={0}
        role="group"
        aria-label={`${label} Use the arrow keys to read each value.`}
        onKeyDown={onKeyDown}
        onBlur={(e) => {
          if (!e.currentTarget.contains(e.relatedTarget as Node | null)) active.current = -1;
        }}
      >
        {/* The data table below has every number while the chart loads. */}
        <Suspense fallback={null}>{children}</Suspense>
      </div>
      <DataTableToggle table={table} />
    </figure>
  );
}
