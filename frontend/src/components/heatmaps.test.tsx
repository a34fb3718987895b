import {AppProvider} from '@shopify/polaris';
import en from '@shopify/polaris/locales/en.json';
import {render as rtlRender, screen, within} from '@testing-library/react';
import type {ReactElement} from 'react';
import {describe, expect, it} from 'vitest';

import {fmtGB} from '../test/render';
import {CohortHeatmap, cohortCellLabel} from './CohortHeatmap';
import {heat} from './Heatmap';
import {RfmGrid, rfmCellLabel, rfmMatrix} from './RfmGrid';

// The heatmaps' data table toggle is a Polaris button.
const render = (ui: ReactElement) => rtlRender(<AppProvider i18n={en}>{ui}</AppProvider>);

describe('rfmMatrix', () => {
  it('puts the most recent customers in the top row and the most frequent on the right', () => {
    const {rScores, fScores, values} = rfmMatrix([
      {r: 5, f: 5, customers: 10},
      {r: 1, f: 1, customers: 3},
      {r: 5, f: 1, customers: 7},
      {r: 5, f: 1, customers: 1}, // duplicates add up
      {r: null, f: 2, customers: 99}, // unusable cells are skipped
    ]);
    expect(rScores).toEqual([5, 4, 3, 2, 1]);
    expect(fScores).toEqual([1, 2, 3, 4, 5]);
    expect(values[0][4]).toBe(10);
    expect(values[0][0]).toBe(8);
    expect(values[4][0]).toBe(3);
    expect(values[2][2]).toBeNull();
  });

  it('grows past five scores when the server uses more', () => {
    expect(rfmMatrix([{r: 7, f: 2, customers: 1}]).rScores[0]).toBe(7);
  });
});

describe('RfmGrid', () => {
  it('is a grid with headers and a spoken label per cell', () => {
    render(<RfmGrid fmt={fmtGB} grid={[{r: 5, f: 3, customers: 1234}, {r: 1, f: 1, customers: 1}]} />);
    const table = screen.getByRole('grid', {name: /recency score/i});
    expect(within(table).getAllByRole('columnheader').map((h) => h.textContent)).toEqual([
      'Recency / Frequency',
      'F1',
      'F2',
      'F3',
      'F4',
      'F5',
    ]);
    expect(within(table).getAllByRole('rowheader').map((h) => h.textContent)).toEqual(['R5', 'R4', 'R3', 'R2', 'R1']);
    const cell = within(table).getByLabelText('Recency score 5, frequency score 3: 1,234 customers');
    expect(cell).toHaveTextContent('1,234');
    expect(within(table).getByLabelText('Recency score 1, frequency score 1: 1 customer')).toHaveTextContent('1');
    expect(within(table).getByLabelText('Recency score 3, frequency score 3: no customers')).toHaveTextContent('');
  });

  it('shades the largest cell darkest with readable text', () => {
    render(<RfmGrid fmt={fmtGB} grid={[{r: 5, f: 5, customers: 100}, {r: 4, f: 4, customers: 10}]} />);
    const big = screen.getByLabelText(/score 5, frequency score 5/);
    const small = screen.getByLabelText(/score 4, frequency score 4/);
    expect(big.style.color).toBe('rgb(255, 255, 255)');
    expect(small.style.color).not.toBe('rgb(255, 255, 255)');
  });

  it('labels cells in words', () => {
    expect(rfmCellLabel(fmtGB, 2, 4, 2500)).toBe('Recency score 2, frequency score 4: 2,500 customers');
  });
});

describe('heat', () => {
  it('clamps its level and darkens with it', () => {
    expect(heat(-1)).toEqual(heat(0));
    expect(heat(2)).toEqual(heat(1));
    expect(heat(0).background).toBe('rgba(0, 128, 96, 0.060)');
    expect(heat(1).background).toBe('rgba(0, 128, 96, 0.900)');
  });
});

describe('CohortHeatmap', () => {
  const cohorts = [
    {cohort: '2011-01', customers: 120, retention: [1, 0.25, 0.2], revenue: [1000, 300.5, 200]},
    {cohort: '2011-02', customers: 80, retention: [1, 0.3], revenue: [800, 250]},
  ];

  it('shows retention shares with month offsets as columns', () => {
    render(<CohortHeatmap cohorts={cohorts} measure="retention" fmt={fmtGB} />);
    const table = screen.getByRole('grid', {name: /share of each monthly cohort/i});
    expect(within(table).getAllByRole('columnheader').map((h) => h.textContent)).toEqual(['Cohort (customers)', 'M0', 'M1', 'M2']);
    expect(within(table).getAllByRole('rowheader').map((h) => h.textContent)).toEqual(['Jan 2011 (120)', 'Feb 2011 (80)']);
    expect(screen.getByLabelText('Cohort Jan 2011, month 1: 25.0% of customers ordered')).toHaveTextContent('25.0%');
    expect(screen.getByLabelText('Cohort Feb 2011, month 2: no data')).toHaveTextContent('');
  });

  it('shows revenue in the shop currency', () => {
    render(<CohortHeatmap cohorts={cohorts} measure="revenue" fmt={fmtGB} />);
    expect(screen.getByLabelText('Cohort Jan 2011, month 1: £300.50 revenue')).toHaveTextContent('£300.5');
  });

  it("marks the current month's cells as counted so far, not as final", () => {
    render(<CohortHeatmap cohorts={cohorts} measure="retention" fmt={fmtGB} partialMonth="2011-03" />);
    const partial = document.querySelectorAll('td[data-partial="true"]');
    // Jan's month 2 and Feb's month 1 are both March.
    expect(Array.from(partial).map((td) => td.getAttribute('aria-label'))).toEqual([
      'Cohort Jan 2011, month 2: 20.0% of customers ordered so far (this month is not over)',
      'Cohort Feb 2011, month 1: 30.0% of customers ordered so far (this month is not over)',
    ]);
    expect(screen.getByLabelText('Cohort Jan 2011, month 1: 25.0% of customers ordered')).not.toHaveAttribute('data-partial');
  });

  it('labels the first month in words', () => {
    expect(cohortCellLabel(fmtGB, 'retention', '2011-01', 0, 1)).toBe('Cohort Jan 2011, first month: 100.0% of customers ordered');
  });
});
