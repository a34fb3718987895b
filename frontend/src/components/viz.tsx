// viz holds everything that needs polaris-viz, so the page loads it as a
// chunk of its own when a chart first shows (it would double the size of
// the page's main script, and most of the page never draws a chart).
import '@shopify/polaris-viz/build/esm/styles.css';

import type {BarChartProps, LineChartProps} from '@shopify/polaris-viz';
import {BarChart, LineChart, PolarisVizProvider} from '@shopify/polaris-viz';

export function VizLineChart(props: LineChartProps) {
  return (
    <PolarisVizProvider defaultTheme="Light">
      <LineChart {...props} />
    </PolarisVizProvider>
  );
}

export function VizBarChart(props: BarChartProps) {
  return (
    <PolarisVizProvider defaultTheme="Light">
      <BarChart {...props} />
    </PolarisVizProvider>
  );
}
