import {Badge} from '@shopify/polaris';

import type {CustomerRow} from '../api/types';

const churnTone = {high: 'critical', medium: 'warning', low: 'success'} as const;

// churnRank sorts high risk first when sorting descending.
export function churnRank(risk: CustomerRow['churn_risk']): number | undefined {
  return risk === 'high' ? 3 : risk === 'medium' ? 2 : risk === 'low' ? 1 : undefined;
}

// ChurnBadge shows the churn risk the shop's thresholds give the chance to
// order; a dash for scorings made before churn risk existed.
export function ChurnBadge({risk}: {risk: CustomerRow['churn_risk']}) {
  if (risk !== 'high' && risk !== 'medium' && risk !== 'low') return <>—</>;
  return <Badge tone={churnTone[risk]}>{risk[0].toUpperCase() + risk.slice(1)}</Badge>;
}
