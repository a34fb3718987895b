import type {DataSeries} from '@shopify/polaris-viz';

import type {Num} from '../api/types';
import {isNum} from '../format';
import {ChartFrame, VizBarChart} from './ChartFrame';

export interface BarSeries {
  name: string;
  values: Num[];
}

export interface BarChartProps {
  chart: string;
  title: string;
  description: string;
  // categories are the x positions; each series has one value per category.
  categories: string[];
  categoryHeading: string;
  series: BarSeries[];
  format: (v: Num) => string;
}

// BarChart is polaris-viz's vertical bar chart, series side by side in each
// category, with the frame's keyboard access and data table.
export function BarChart({chart, title, description, categories, categoryHeading, series, format}: BarChartProps) {
  const data: DataSeries[] = series.map((s) => ({
    name: s.name,
    data: categories.map((c, i) => ({key: c, value: isNum(s.values[i]) ? (s.values[i] as number) : null})),
  }));
  const label = (v: string | number | null) => (typeof v === 'number' ? format(v) : String(v ?? ''));
  return (
    <ChartFrame
      chart={chart}
      label={`${title}. ${description}`}
      focusKind="BarGroup"
      count={categories.length}
      table={{
        caption: title,
        columns: [categoryHeading, ...series.map((s) => s.name)],
        rows: categories.map((c, i) => ({label: c, cells: series.map((s) => format(s.values[i]))})),
      }}
    >
      <VizBarChart
        data={data}
        isAnimated={false}
        showLegend
        xAxisOptions={{labelFormatter: (v) => String(v ?? '')}}
        yAxisOptions={{labelFormatter: label}}
        tooltipOptions={{valueFormatter: label}}
      />
    </ChartFrame>
  );
}
