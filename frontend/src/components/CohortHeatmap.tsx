import type {MonthlyCohort, Num} from '../api/types';
import type {Formatter} from '../format';
import {isNum} from '../format';
import {Heatmap} from './Heatmap';

export type CohortMeasure = 'retention' | 'revenue';

export function cohortCellLabel(fmt: Formatter, measure: CohortMeasure, cohort: string, offset: number, v: Num, partial = false): string {
  const when = offset === 0 ? 'first month' : `month ${offset}`;
  if (!isNum(v)) return `Cohort ${fmt.month(cohort)}, ${when}: no data`;
  const sofar = partial ? ' so far (this month is not over)' : '';
  return measure === 'retention'
    ? `Cohort ${fmt.month(cohort)}, ${when}: ${fmt.percent(v)} of customers ordered${sofar}`
    : `Cohort ${fmt.month(cohort)}, ${when}: ${fmt.money(v)} revenue${sofar}`;
}

// monthsBetween counts calendar months from one YYYY-MM to another.
export function monthsBetween(from: string, to: string): number | undefined {
  const a = /^(\d{4})-(\d{2})$/.exec(from);
  const b = /^(\d{4})-(\d{2})$/.exec(to);
  if (!a || !b) return undefined;
  return (Number(b[1]) - Number(a[1])) * 12 + Number(b[2]) - Number(a[2]);
}

// CohortHeatmap shows each acquisition month's retention (or revenue) by
// months since the first order: the classic triangle.
export function CohortHeatmap({cohorts, measure, fmt, partialMonth}: {cohorts: MonthlyCohort[]; measure: CohortMeasure; fmt: Formatter; partialMonth?: string}) {
  // Each cohort's cell for the month not over yet counts orders so far.
  const partial = (i: number, j: number) => partialMonth !== undefined && monthsBetween(cohorts[i].cohort ?? '', partialMonth) === j;
  const width = Math.max(0, ...cohorts.map((c) => (measure === 'retention' ? c.retention : c.revenue)?.length ?? 0));
  const offsets = Array.from({length: width}, (_, i) => i);
  // A cohort of no customers yet (this month's, on its first day) has no
  // share to show, not 0%.
  const values = cohorts.map((c) =>
    offsets.map((i) => (measure === 'retention' ? (c.customers === 0 ? undefined : c.retention?.[i]) : c.revenue?.[i])),
  );
  const rowLabels = cohorts.map((c) => `${fmt.month(c.cohort)} (${fmt.integer(c.customers)})`);
  return (
    <Heatmap
      chart={`cohorts-${measure}`}
      caption={
        measure === 'retention'
          ? 'Share of each monthly cohort that ordered again, by months since the first order'
          : 'Revenue from each monthly cohort, by months since the first order'
      }
      cornerLabel="Cohort (customers)"
      rowLabels={rowLabels}
      colLabels={offsets.map((i) => `M${i}`)}
      values={values}
      format={measure === 'retention' ? (v) => fmt.percent(v) : (v) => fmt.moneyCompact(v)}
      cellLabel={(i, j, v) => cohortCellLabel(fmt, measure, cohorts[i].cohort ?? '', offsets[j], v, partial(i, j))}
      partial={partial}
      // Month 0 is 100% by definition; scale retention on the later months
      // so the interesting cells are not all pale.
      intensity={
        measure === 'retention'
          ? (v) => Math.min(1, v / Math.max(0.01, laterMax(cohorts)))
          : undefined
      }
    />
  );
}

function laterMax(cohorts: MonthlyCohort[]): number {
  let m = 0;
  for (const c of cohorts) for (const v of (c.retention ?? []).slice(1)) if (isNum(v) && v > m) m = v;
  return m || 1;
}
