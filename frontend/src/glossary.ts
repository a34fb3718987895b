// The words the pages use for computed figures, each with the one line that
// defines it. Where Shopify's analytics have the metric, the name and the
// definition follow Shopify's (returning customer rate: customers with
// more than one order over all customers who ordered); model names stay
// in the "How this is computed" entries, never as a figure's only name.

export interface Term {
  term: string;
  definition: string;
}

export const TERMS = {
  customers: {term: 'Customers', definition: 'Customers with at least one order that counts (test, cancelled and fully refunded orders are left out).'},
  returning_customer_rate: {
    term: 'Returning customer rate',
    definition: 'Share of your customers who have placed more than one order, over the whole history.',
  },
  returning_orders_share: {
    term: 'Orders from returning customers',
    definition: "Share of all orders that were not the customer's first order.",
  },
  returning_rate_by_month: {
    term: 'Returning customer rate by month',
    definition: "Of the customers who ordered in a month, the share who had ordered in an earlier month. The current month counts orders so far.",
  },
  avg_historical_clv: {
    term: 'Average historical CLV',
    definition: 'Gross profit per customer so far: revenue net of refunds times your margin, less the acquisition cost you set.',
  },
  avg_predicted_clv: {
    term: 'Average predicted CLV',
    definition: 'Gross profit expected per customer over the next 12 months, from the purchase and spend models, discounted 1% a month.',
  },
  clv_cac: {term: 'CLV : CAC', definition: 'Historical customer lifetime value divided by the cost of acquiring a customer (set in Settings).'},
  top_groups_revenue_share: {term: 'Revenue from top groups', definition: 'Share of all revenue that came from Soulmates and Lovers, your most loyal groups.'},
  cohort_retention: {
    term: 'Cohort retention',
    definition: "Share of the customers who first ordered in a month (the cohort) who ordered again in each later month. Dashed cells are the current month, counted so far.",
  },
  rfm: {
    term: 'R, F, M scores',
    definition: 'Recency, frequency and monetary value from 1 to 5: how recently, how often and how much a customer bought compared with your other customers (5 is best).',
  },
  p_alive: {
    term: 'Chance still active',
    definition: "The model's estimate that a customer has not quietly stopped buying from you (P(alive) in the models).",
  },
  expected_next_order: {
    term: 'Expected next order',
    definition: 'The day by which another order becomes more likely than not; none when the chance still active is one half or less.',
  },
  verdict: {
    term: 'Rockstar and toxic products',
    definition: 'Customers whose first order had a rockstar product came back far more often than your average customer; toxic products, far less.',
  },
  p_value: {
    term: 'Chance it is luck',
    definition: 'How likely a difference this large would be if the product made no difference (the p-value). Only differences under 5%, after allowing for testing many products at once, are marked.',
  },
  anomaly_score: {
    term: 'How unusual',
    definition: 'How far a month is from the median of the six months before it, in robust standard deviations (a "score" of 9.9 is very far); 3.5 or more is flagged.',
  },
  pareto: {term: 'Top 20% share', definition: 'Share of revenue (or margin) that came from your best fifth of customers.'},
  backtest: {
    term: 'Backtest',
    definition: 'The models fitted on history up to one horizon ago, their predictions compared with the orders that then came.',
  },
} satisfies Record<string, Term>;

export type TermId = keyof typeof TERMS;

// MODELS explains the model names that appear on the pages.
export const MODELS: Term[] = [
  {
    term: 'MBG/NBD (the default purchase model)',
    definition:
      'Predicts how many orders each customer will place from three facts: how many repeat orders they placed, when the last was, and how long ago the first was. It assumes each customer buys at their own steady pace until they stop, and may stop at any order, including right after the first.',
  },
  {
    term: 'BG/NBD',
    definition: 'An older variant in which customers can only stop after a repeat order, so a one-time buyer always counts as active, however long ago they bought.',
  },
  {
    term: 'Gamma-Gamma (the spend model)',
    definition: 'Predicts the value of future orders from each customer’s average order value, pulled towards the shop’s average when they have few orders.',
  },
  {
    term: 'Simple model (fallback)',
    definition: 'When there are fewer than 30 repeat customers, or the models fit badly, predictions come from each group’s average repeat rate and gap between orders.',
  },
  {
    term: 'P(alive)',
    definition: 'The purchase model’s probability that a customer is still active: shown as “chance still active”.',
  },
  {
    term: 'p-value and score',
    definition:
      'A p-value is the chance of seeing a difference at least this large by luck alone (shown as “chance it is luck”); a score is a robust z-score, the distance from the usual in robust standard deviations (shown as “how unusual”).',
  },
];

// COLUMN_HELP defines the tables' computed columns, by heading; the
// tables show it on hover and focus of the heading.
export const COLUMN_HELP: Record<string, string> = {
  Share: 'Share of all scored customers in the group.',
  'Revenue share': 'Share of all revenue, net of refunds, that came from the group.',
  AOV: 'Average order value: revenue net of refunds divided by orders.',
  'Days between orders': "Average gap between a returning customer's orders, in days.",
  'Historical CLV': TERMS.avg_historical_clv.definition,
  'Predicted CLV': TERMS.avg_predicted_clv.definition,
  [TERMS.p_alive.term]: TERMS.p_alive.definition,
  R: 'Recency score, 1 to 5: how recently the customer last ordered compared with your other customers (5 is most recent).',
  F: 'Frequency score, 1 to 5: how many orders compared with your other customers (5 is most).',
  M: 'Monetary score, 1 to 5: how much they spent compared with your other customers (5 is most).',
  'Expected next order': TERMS.expected_next_order.definition,
  'Repurchase rate': 'Share of the customers whose first order had it who ordered again within the repeat window.',
  'Repeat rate': 'Share of the customers who ordered again within the repeat window after their first order.',
  Baseline: 'The repurchase rate of all your other customers, for comparison.',
  'Later value': 'Average revenue from those customers after their first order, within the repeat window.',
  'Average later value': 'Average revenue from those customers after their first order, within the repeat window.',
  [TERMS.p_value.term]: TERMS.p_value.definition,
  [TERMS.anomaly_score.term]: TERMS.anomaly_score.definition,
  Expected: 'What the month would have been like the six months before it (their median).',
  'Predicted orders': 'Orders the models, fitted on older history, predicted for the holdout period.',
  'Actual orders': 'Orders that customers actually placed in the holdout period.',
  'Mean abs. error': 'Average difference, per customer, between predicted and actual orders.',
  Correlation: 'How closely predicted and actual orders move together, from −1 to 1 (1 is perfect).',
  NPS: 'Net Promoter Score from survey answers: the percentage who would recommend you (9–10) less the percentage who would not (0–6), from −100 to +100.',
};
