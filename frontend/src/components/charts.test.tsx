import {AppProvider} from '@shopify/polaris';
import en from '@shopify/polaris/locales/en.json';
import {act, render, screen, waitFor, within} from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type {ReactElement} from 'react';
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest';

// polaris-viz replaces its ResizeObserver entries with a fixed box without
// a target when NODE_ENV is "test", which its tooltip then cannot measure;
// this file measures through the observer below instead. Hoisted, so it is
// set before polaris-viz is imported.
vi.hoisted(() => {
  process.env.NODE_ENV = 'development';
});

import {fmtGB} from '../test/render';
import {BarChart} from './BarChart';
import {nextIndex} from './ChartFrame';
import {CohortHeatmap} from './CohortHeatmap';
import {moveCell} from './Heatmap';
import {LineChart} from './LineChart';
import {RfmGrid} from './RfmGrid';

// polaris-viz draws nothing until a ResizeObserver reports a size; jsdom has
// no layout, so this one reports a phone-to-desktop-like box at once.
class SizedObserver {
  constructor(private cb: (entries: unknown[]) => void) {}
  observe(target: Element) {
    this.cb([{target, contentRect: {width: 640, height: 280}}]);
  }
  unobserve() {}
  disconnect() {}
}
const g = globalThis as Record<string, unknown>;
let saved: unknown;
beforeAll(() => {
  saved = g.ResizeObserver;
  g.ResizeObserver = SizedObserver;
});
afterAll(() => {
  g.ResizeObserver = saved;
});

async function renderChart(ui: ReactElement) {
  const out = render(<AppProvider i18n={en}>{ui}</AppProvider>);
  // polaris-viz measures in effects and debounced callbacks, which a loaded
  // machine runs late: wait until every polaris-viz figure holds its drawing.
  await act(async () => {
    await new Promise((r) => setTimeout(r, 50));
  });
  await waitFor(
    () => {
      for (const fig of out.container.querySelectorAll('figure[data-chart]')) {
        expect(fig.querySelector('svg [role="cell"], svg [data-type="BarGroup"]')).not.toBeNull();
      }
    },
    {timeout: 20_000},
  );
  return out;
}

const texts = (els: Element[]) => els.map((e) => (e.textContent ?? '').replace(/\u00a0/g, ' ').trim());

// tooltip is polaris-viz's tooltip, which it renders in a root of its own.
function tooltip(): HTMLElement {
  const root = document.getElementById('polaris_viz_tooltip_root');
  expect(root).not.toBeNull();
  return root as HTMLElement;
}

async function openTable(chart: HTMLElement, caption: RegExp | string) {
  await userEvent.click(within(chart).getByRole('button', {name: 'Show data table'}));
  return within(chart).getByRole('table', {name: caption});
}

function tableRows(table: HTMLElement): string[][] {
  return within(table)
    .getAllByRole('row')
    .slice(1)
    .map((r) => texts(Array.from(r.children)));
}

const retention = [
  {x: 0, y: 0.125, xLabel: 'Jan 2026', yLabel: fmtGB.percent(0.125)},
  {x: 1, y: 0.25, xLabel: 'Feb 2026', yLabel: fmtGB.percent(0.25)},
  {x: 2, y: 0.375, xLabel: 'Mar 2026', yLabel: fmtGB.percent(0.375)},
];

function retentionChart() {
  return (
    <LineChart
      chart="retention"
      title="Monthly retention rate"
      description="Share of customers retained each month."
      points={retention}
      xHeading="Month"
      yHeading="Retention rate"
      yFormat={(v) => fmtGB.percent(v)}
    />
  );
}

describe('LineChart', () => {
  it('draws the numbers given, formatted, in polaris-viz', async () => {
    const {container} = await renderChart(retentionChart());
    const svg = container.querySelector('[data-chart="retention"] svg[role="table"]');
    expect(svg).not.toBeNull();
    const cells = Array.from(svg!.querySelectorAll('[role="cell"]'));
    expect(texts(cells)).toEqual(['12.5%', '25.0%', '37.5%']);
    expect(texts(Array.from(svg!.querySelectorAll('[role="columnheader"]')))).toEqual(['Jan 2026', 'Feb 2026', 'Mar 2026']);
  });

  it('shows the same numbers in its data table', async () => {
    await renderChart(retentionChart());
    const chart = screen.getByRole('figure');
    expect(within(chart).queryByRole('table', {name: 'Monthly retention rate'})).toBeNull();
    const table = await openTable(chart, 'Monthly retention rate');
    expect(texts(within(table).getAllByRole('columnheader'))).toEqual(['Month', 'Retention rate']);
    expect(tableRows(table)).toEqual([
      ['Jan 2026', '12.5%'],
      ['Feb 2026', '25.0%'],
      ['Mar 2026', '37.5%'],
    ]);
    await userEvent.click(within(chart).getByRole('button', {name: 'Hide data table'}));
    expect(within(chart).queryByRole('table', {name: 'Monthly retention rate'})).toBeNull();
  });

  it('is one tab stop whose arrow keys walk the values with a tooltip', async () => {
    const {container} = await renderChart(retentionChart());
    const plot = screen.getByRole('group', {name: /Monthly retention rate\. Share of customers retained each month\./});
    // No point of the line is a tab stop of its own.
    expect(container.querySelectorAll('svg [tabindex="0"]')).toHaveLength(0);
    await userEvent.tab();
    expect(plot).toHaveFocus();
    await userEvent.keyboard('{ArrowRight}');
    expect(document.activeElement?.getAttribute('data-index')).toBe('0');
    await userEvent.keyboard('{End}');
    expect(document.activeElement?.getAttribute('data-type')).toBe('Point');
    expect(document.activeElement?.getAttribute('data-index')).toBe('2');
    expect(tooltip()).toHaveTextContent(/^Mar 2026Retention rate37\.5%$/);
    await userEvent.keyboard('{ArrowLeft}');
    expect(document.activeElement?.getAttribute('data-index')).toBe('1');
    await userEvent.keyboard('{Escape}');
    expect(plot).toHaveFocus();
    // Tab leaves the chart for its data table toggle.
    await userEvent.tab();
    expect(screen.getByRole('button', {name: 'Show data table'})).toHaveFocus();
  });

  it('draws an even-split comparison line when asked', async () => {
    const {container} = await renderChart(
      <LineChart
        chart="pareto"
        title="Cumulative revenue share"
        description="Customers ranked by revenue."
        points={[
          {x: 0, y: 0, xLabel: '0.0%', yLabel: '0.0%'},
          {x: 0.5, y: 0.9, xLabel: '50.0%', yLabel: '90.0%'},
          {x: 1, y: 1, xLabel: '100.0%', yLabel: '100.0%'},
        ]}
        xHeading="Share of customers"
        yHeading="Share of revenue"
        yFormat={(v) => fmtGB.percent(v)}
        xFormat={(v) => fmtGB.wholePercent(v)}
        reference
        referenceName="Even split"
      />,
    );
    const rows = Array.from(container.querySelectorAll('svg[role="table"] [role="row"]')).slice(1);
    expect(rows.map((r) => texts(Array.from(r.children)))).toEqual([
      ['Share of revenue', '0.0%', '90.0%', '100.0%'],
      ['Even split', '0.0%', '50.0%', '100.0%'],
    ]);
    expect(screen.getByRole('button', {name: 'Even split'})).toBeInTheDocument();
    // The x axis reads whole percents; the hidden table keeps the keys.
    const axis = texts(Array.from(container.querySelectorAll('svg[role="table"] > g[aria-hidden="true"] text')));
    expect(axis).toEqual(expect.arrayContaining(['0%', '50%']));
    expect(axis).not.toContain('50.0%');
  });
});

function backtestChart(lovers: number | null = 35) {
  return (
    <BarChart
      chart="backtest"
      title="Predicted and actual orders by group"
      description="Orders predicted beside orders placed."
      categories={['Soulmates', 'Lovers']}
      categoryHeading="Group"
      series={[
        {name: 'Predicted orders', values: [120.5, 40]},
        {name: 'Actual orders', values: [118, lovers]},
      ]}
      format={(v) => fmtGB.number(v)}
    />
  );
}

describe('BarChart', () => {
  it('draws one group of bars per category with the numbers given', async () => {
    const {container} = await renderChart(backtestChart());
    const groups = Array.from(container.querySelectorAll('[data-chart="backtest"] [data-type="BarGroup"][aria-hidden="false"]'));
    expect(groups.map((el) => el.getAttribute('aria-label'))).toEqual([
      `Soulmates: Predicted orders ${fmtGB.number(120.5)},Actual orders 118`,
      'Lovers: Predicted orders 40,Actual orders 35',
    ]);
  });

  it('shows the same numbers in its data table', async () => {
    await renderChart(backtestChart(null));
    const table = await openTable(screen.getByRole('figure'), 'Predicted and actual orders by group');
    expect(texts(within(table).getAllByRole('columnheader'))).toEqual(['Group', 'Predicted orders', 'Actual orders']);
    expect(tableRows(table)).toEqual([
      ['Soulmates', fmtGB.number(120.5), '118'],
      ['Lovers', '40', '—'],
    ]);
  });

  it('moves between bar groups from the keyboard', async () => {
    await renderChart(backtestChart());
    const plot = screen.getByRole('group', {name: /Predicted and actual orders by group/});
    await userEvent.tab();
    expect(plot).toHaveFocus();
    await userEvent.keyboard('{ArrowRight}');
    expect(document.activeElement?.getAttribute('aria-label')).toMatch(/^Soulmates:/);
    expect(tooltip()).toHaveTextContent(`SoulmatesPredicted orders${fmtGB.number(120.5)}Actual orders118`);
    await userEvent.keyboard('{ArrowRight}{ArrowRight}');
    expect(document.activeElement?.getAttribute('aria-label')).toMatch(/^Lovers:/);
    expect(tooltip()).toHaveTextContent(/^LoversPredicted orders40Actual orders35$/);
    await userEvent.keyboard('{Home}');
    expect(document.activeElement?.getAttribute('aria-label')).toMatch(/^Soulmates:/);
  });
});

describe('nextIndex', () => {
  it.each([
    ['ArrowRight', -1, 0],
    ['ArrowRight', 0, 1],
    ['ArrowRight', 2, 2],
    ['ArrowLeft', -1, 2],
    ['ArrowLeft', 0, 0],
    ['ArrowDown', 1, 2],
    ['ArrowUp', 1, 0],
    ['Home', 2, 0],
    ['End', 0, 2],
  ])('%s from %i goes to %i of three', (key, from, to) => {
    expect(nextIndex(key, from, 3)).toBe(to);
  });

  it('ignores other keys and empty charts', () => {
    expect(nextIndex('a', 0, 3)).toBeNull();
    expect(nextIndex('ArrowRight', -1, 0)).toBeNull();
  });
});

describe('moveCell', () => {
  it.each([
    ['ArrowRight', false, [1, 1], [1, 2]],
    ['ArrowRight', false, [1, 3], [1, 3]],
    ['ArrowLeft', false, [1, 0], [1, 0]],
    ['ArrowDown', false, [1, 1], [2, 1]],
    ['ArrowDown', false, [2, 1], [2, 1]],
    ['ArrowUp', false, [0, 1], [0, 1]],
    ['Home', false, [2, 2], [2, 0]],
    ['End', false, [0, 0], [0, 3]],
    ['Home', true, [2, 2], [0, 0]],
    ['End', true, [0, 0], [2, 3]],
    ['PageDown', false, [0, 1], [2, 1]],
    ['PageUp', false, [2, 1], [0, 1]],
  ] as [string, boolean, [number, number], [number, number]][])('%s (ctrl %s) from %j goes to %j in 3x4', (key, ctrl, from, to) => {
    expect(moveCell(key, ctrl, from, 3, 4)).toEqual(to);
  });

  it('ignores other keys', () => {
    expect(moveCell('Enter', false, [0, 0], 3, 4)).toBeNull();
  });
});

describe('RfmGrid as a heatmap', () => {
  const grid = [
    {r: 5, f: 1, customers: 7},
    {r: 5, f: 2, customers: 1234},
    {r: 4, f: 1, customers: 3},
  ];

  it('is one tab stop; arrows move the focus and the tooltip from cell to cell', async () => {
    await renderChart(<RfmGrid grid={grid} fmt={fmtGB} />);
    const table = screen.getByRole('grid', {name: /recency score/i});
    await userEvent.tab();
    const first = within(table).getByLabelText('Recency score 5, frequency score 1: 7 customers');
    expect(first).toHaveFocus();
    expect(screen.getByRole('tooltip')).toHaveTextContent('Recency score 5, frequency score 1: 7 customers');
    await userEvent.keyboard('{ArrowRight}');
    expect(within(table).getByLabelText('Recency score 5, frequency score 2: 1,234 customers')).toHaveFocus();
    expect(screen.getByRole('tooltip')).toHaveTextContent('frequency score 2: 1,234 customers');
    await userEvent.keyboard('{ArrowDown}{ArrowLeft}');
    expect(within(table).getByLabelText('Recency score 4, frequency score 1: 3 customers')).toHaveFocus();
    await userEvent.keyboard('{Escape}');
    expect(screen.queryByRole('tooltip')).toBeNull();
    // Only the focused cell is in the tab order.
    expect(table.querySelectorAll('td[tabindex="0"]')).toHaveLength(1);
    await userEvent.tab();
    expect(screen.getByRole('button', {name: 'Show data table'})).toHaveFocus();
  });

  it('shows a tooltip on hover', async () => {
    await renderChart(<RfmGrid grid={grid} fmt={fmtGB} />);
    await userEvent.hover(screen.getByLabelText('Recency score 4, frequency score 1: 3 customers'));
    expect(screen.getByRole('tooltip')).toHaveTextContent('Recency score 4, frequency score 1: 3 customers');
    await userEvent.unhover(screen.getByLabelText('Recency score 4, frequency score 1: 3 customers'));
    expect(screen.queryByRole('tooltip')).toBeNull();
  });

  it('shows the same numbers in its data table', async () => {
    const {container} = await renderChart(<RfmGrid grid={grid} fmt={fmtGB} />);
    const table = await openTable(container.querySelector('[data-chart="rfm"]') as HTMLElement, /^Customers by recency score/);
    expect(texts(within(table).getAllByRole('columnheader'))).toEqual(['Recency / Frequency', 'F1', 'F2', 'F3', 'F4', 'F5']);
    expect(tableRows(table)).toEqual([
      ['R5', '7', '1,234', '—', '—', '—'],
      ['R4', '3', '—', '—', '—', '—'],
      ['R3', '—', '—', '—', '—', '—'],
      ['R2', '—', '—', '—', '—', '—'],
      ['R1', '—', '—', '—', '—', '—'],
    ]);
  });
});

describe('CohortHeatmap data table', () => {
  it('shows the same retention shares as the grid', async () => {
    const cohorts = [
      {cohort: '2026-01', customers: 120, retention: [1, 0.25, 0.2]},
      {cohort: '2026-02', customers: 80, retention: [1, 0.3]},
    ];
    const {container} = await renderChart(<CohortHeatmap cohorts={cohorts} measure="retention" fmt={fmtGB} />);
    const grid = screen.getByRole('grid');
    const shown = within(grid)
      .getAllByRole('row')
      .slice(1)
      .map((r) => texts(Array.from(r.children)).map((t) => t || '—'));
    const table = await openTable(container.querySelector('[data-chart="cohorts-retention"]') as HTMLElement, /^Share of each monthly cohort/);
    expect(tableRows(table)).toEqual(shown);
    expect(shown[0]).toEqual(['Jan 2026 (120)', '100.0%', '25.0%', '20.0%']);
  });
});
