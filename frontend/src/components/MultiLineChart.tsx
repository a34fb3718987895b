import type {DataSeries} from '@shopify/polaris-viz';

import type {Num} from '../api/types';
import {isNum} from '../format';
import {ChartFrame, VizLineChart} from './ChartFrame';

export interface LineSeries {
  name: string;
  // values has one entry per x position; a missing value leaves a gap.
  values: Num[];
  // comparison draws the series dashed, as a reference (a cost to reach).
  comparison?: boolean;
}

export interface MultiLineChartProps {
  // chart names the chart for the page's tests (data-chart).
  chart: string;
  title: string;
  description: string;
  xLabels: string[];
  xHeading: string;
  series: LineSeries[];
  format: (v: Num) => string;
}

// MultiLineChart is polaris-viz's line chart with several series over the
// same x positions (months since the first order, say), with the frame's
// keyboard access and a data table of every series.
export function MultiLineChart({chart, title, description, xLabels, xHeading, series, format}: MultiLineChartProps) {
  const data: DataSeries[] = series.map((s) => ({
    name: s.name,
    isComparison: s.comparison === true,
    data: xLabels.map((x, i) => ({key: x, value: isNum(s.values[i]) ? (s.values[i] as number) : null})),
  }));
  const label = (v: string | number | null) => (typeof v === 'number' ? format(v) : String(v ?? ''));
  return (
    <ChartFrame
      chart={chart}
      label={`${title}. ${description}`}
      focusKind="Point"
      count={xLabels.length}
      table={{
        caption: title,
        columns: [xHeading, ...series.map((s) => s.name)],
        rows: xLabels.map((x, i) => ({label: x, cells: series.map((s) => format(s.values[i]))})),
      }}
    >
      <VizLineChart
        data={data}
        isAnimated={false}
        showLegend={series.length > 1}
        xAxisOptions={{labelFormatter: (v) => String(v ?? '')}}
        yAxisOptions={{labelFormatter: label}}
        tooltipOptions={{valueFormatter: label}}
      />
    </ChartFrame>
  );
}
