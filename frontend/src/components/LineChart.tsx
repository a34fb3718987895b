import type {DataSeries} from '@shopify/polaris-viz';

import {ChartFrame, VizLineChart} from './ChartFrame';

export interface ChartPoint {
  x: number;
  y: number;
  xLabel: string;
  yLabel: string;
}

export interface LineChartProps {
  // chart names the chart for the page's tests (data-chart).
  chart: string;
  title: string;
  description: string;
  points: ChartPoint[];
  xHeading: string;
  yHeading: string;
  // yFormat labels the y axis and the tooltip.
  yFormat: (v: number) => string;
  // xFormat labels the x axis when the points' own labels are too fine for
  // it (whole percents under a curve of hundredths).
  xFormat?: (x: number) => string;
  yMax?: number;
  yTicks?: number[];
  // reference adds a dashed comparison line y = x (the "everyone equal"
  // line of a Pareto curve), named by referenceName.
  reference?: boolean;
  referenceName?: string;
}

// LineChart is polaris-viz's line chart, one series along evenly spaced
// x positions (months, or hundredths of customers), with the frame's
// keyboard access and data table.
export function LineChart(props: LineChartProps) {
  const {chart, title, description, points, xHeading, yHeading, yFormat, xFormat, yMax, yTicks, reference, referenceName} = props;
  const xByLabel = new Map(points.map((p) => [p.xLabel, p.x]));
  const xLabel = (key: string | number | null) => {
    const x = xByLabel.get(String(key));
    return xFormat && x !== undefined ? xFormat(x) : String(key ?? '');
  };
  const data: DataSeries[] = [{name: yHeading, data: points.map((p) => ({key: p.xLabel, value: p.y}))}];
  if (reference) {
    data.push({name: referenceName ?? 'Reference', isComparison: true, data: points.map((p) => ({key: p.xLabel, value: p.x}))});
  }
  const format = (v: string | number | null) => (typeof v === 'number' ? yFormat(v) : String(v ?? ''));
  return (
    <ChartFrame
      chart={chart}
      label={`${title}. ${description}`}
      focusKind="Point"
      count={points.length}
      table={{caption: title, columns: [xHeading, yHeading], rows: points.map((p) => ({label: p.xLabel, cells: [p.yLabel]}))}}
    >
      <VizLineChart
        data={data}
        isAnimated={false}
        showLegend={reference === true}
        xAxisOptions={{labelFormatter: xLabel}}
        yAxisOptions={{labelFormatter: format, maxYOverride: yMax ?? null, ticksOverride: yTicks ?? null}}
        tooltipOptions={{valueFormatter: format}}
      />
    </ChartFrame>
  );
}
