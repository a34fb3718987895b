// End-to-end check of the embedded admin page in a real browser: Debian's
// Chromium driven by playwright-core (no browser download). It opens every
// page of a running app, waits for its content, compares the figures shown
// with the API's own JSON (fetched with a session token minted by the
// simulator), checks navigation and basic accessibility, and saves a
// screenshot of each page under e2e/screenshots/.
//
//   make run                      # the demo: app on :8080, simulator on :9100
//   cd frontend && npm run e2e
//
// Environment:
//   E2E_APP_URL        app base URL (default http://localhost:8080; must be the
//                      app's SHOPIFY_APP_URL origin, which the simulator allows)
//   E2E_SHOP           shop domain (default cvo-demo.myshopify.com)
//   E2E_SIMULATOR_URL  simulator origin (default http://127.0.0.1:9100)
//   E2E_LOCALE         merchant locale passed as ?locale= (default en-GB)
//   E2E_CHROMIUM       browser binary (default /usr/bin/chromium)
//   E2E_REQUIRE_DATA   "1": an error or empty page fails (default: an error
//                      page passes when the API itself answers an error)
//   E2E_TIMEOUT_MS     per-page wait (default 30000)
//   E2E_FIRST_OPEN     "1": the shop is not installed yet; open the overview
//                      first, as a merchant does right after install, and
//                      check that the figures appear by themselves
//   E2E_FIRST_DATA_MS  how long the first open may wait for figures (300000)

import {mkdirSync, readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

import {chromium} from 'playwright-core';

import {surveyChecks} from './surveys.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const APP = (process.env.E2E_APP_URL || 'http://localhost:8080').replace(/\/+$/, '');
const SHOP = process.env.E2E_SHOP || 'cvo-demo.myshopify.com';
const SIM = (process.env.E2E_SIMULATOR_URL || 'http://127.0.0.1:9100').replace(/\/+$/, '');
const LOCALE = process.env.E2E_LOCALE || 'en-GB';
const BROWSER = process.env.E2E_CHROMIUM || '/usr/bin/chromium';
const REQUIRE_DATA = process.env.E2E_REQUIRE_DATA === '1';
const TIMEOUT = Number(process.env.E2E_TIMEOUT_MS || 30000);
const FIRST_OPEN = process.env.E2E_FIRST_OPEN === '1';
const FIRST_DATA_TIMEOUT = Number(process.env.E2E_FIRST_DATA_MS || 300000);
const SHOTS = join(here, 'screenshots');
const CDN_APP_BRIDGE = 'https://cdn.shopify.com/shopifycloud/app-bridge.js';

let passed = 0;
let failed = 0;
const failures = [];

function check(name, ok, detail = '') {
  if (ok) {
    passed++;
    console.log(`  ok    ${name}`);
  } else {
    failed++;
    failures.push(`${name}${detail ? `: ${detail}` : ''}`);
    console.log(`  FAIL  ${name}${detail ? `: ${detail}` : ''}`);
  }
}

// --- the API, as the page sees it -----------------------------------------

async function sessionToken() {
  const res = await fetch(`${SIM}/simulator/session-token?shop=${encodeURIComponent(SHOP)}`);
  if (!res.ok) throw new Error(`simulator refused a session token: HTTP ${res.status}`);
  const body = await res.json();
  if (typeof body.token !== 'string') throw new Error('simulator answered without a token');
  return body.token;
}

async function api(path) {
  const res = await fetch(APP + path, {headers: {Authorization: `Bearer ${await sessionToken()}`, Accept: 'application/json'}});
  let json;
  try {
    json = await res.json();
  } catch {
    json = undefined;
  }
  return {status: res.status, ok: res.ok, json};
}

// --- expected text, formatted independently of the page's code ------------

const plain = (s) => String(s ?? '').replace(/[\u00a0\u202f]/g, ' ').replace(/\s+/g, ' ').trim();
const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

function formatters(currency) {
  let money;
  try {
    money = new Intl.NumberFormat(LOCALE, {style: 'currency', currency});
  } catch {
    money = new Intl.NumberFormat(LOCALE, {minimumFractionDigits: 2, maximumFractionDigits: 2});
  }
  const pct = new Intl.NumberFormat(LOCALE, {style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1});
  const int = new Intl.NumberFormat(LOCALE, {maximumFractionDigits: 0});
  const dec = (d) => new Intl.NumberFormat(LOCALE, {minimumFractionDigits: d, maximumFractionDigits: d});
  const dash = '—';
  return {
    money: (v) => (isNum(v) ? plain(money.format(v)) : dash),
    percent: (v) => (isNum(v) ? plain(pct.format(v)) : dash),
    integer: (v) => (isNum(v) ? plain(int.format(v)) : dash),
    ratio: (v) => (isNum(v) ? `${plain(dec(1).format(v))}×` : dash),
    decimal: (v, d) => (isNum(v) ? plain(dec(d).format(v)) : dash),
    number: (v) => (isNum(v) ? plain(new Intl.NumberFormat(LOCALE, {maximumFractionDigits: 2}).format(v)) : dash),
    days: (v) => (isNum(v) ? `${plain(int.format(v))} ${Math.round(v) === 1 ? 'day' : 'days'}` : dash),
    pValue: (v) => (isNum(v) ? (v < 0.001 ? `< ${plain(dec(3).format(0.001))}` : plain(dec(3).format(v))) : dash),
  };
}

// --- the pages --------------------------------------------------------------

const PAGES = [
  {name: 'overview', path: '/', api: '/api/overview', label: 'Overview'},
  {name: 'segments', path: '/segments', api: '/api/segments', label: 'Segments'},
  {name: 'cohorts', path: '/cohorts', api: '/api/cohorts', label: 'Cohorts'},
  {name: 'lifetime-value', path: '/lifetime-value', api: '/api/lifetime-value', label: 'Lifetime value'},
  {name: 'products', path: '/products', api: '/api/products', label: 'Products'},
  {name: 'customers', path: '/customers', api: '/api/customers?page=1&per_page=25', label: 'Customers'},
  {name: 'insights', path: '/insights', api: '/api/insights', label: 'Insights'},
  {name: 'settings', path: '/settings', api: '/api/settings', label: 'Settings'},
];

function pageURL(path) {
  const q = new URLSearchParams({shop: SHOP, host: Buffer.from(`${SHOP}/admin`).toString('base64url'), embedded: '1', locale: LOCALE});
  return `${APP}${path}?${q}`;
}

async function textOf(page, selector) {
  const el = await page.$(selector);
  return el ? plain(await el.textContent()) : undefined;
}

// figureChecks lists [description, selector, expected text] for a page
// showing data, derived from the API's JSON.
function figureChecks(name, json, f) {
  const out = [];
  const metric = (id, expected) => out.push([`${id} = ${expected}`, `[data-metric="${id}"]`, expected]);
  switch (name) {
    case 'overview':
      metric('customers', f.integer(json.customers));
      metric('repeat_rate', f.percent(json.repeat_rate));
      metric('retention_rate', f.percent(json.retention_rate));
      metric('avg_historical_clv', f.money(json.avg_historical_clv));
      metric('avg_predicted_clv', f.money(json.avg_predicted_clv));
      // The page shows no ratio while no acquisition cost is set (the API sends 0).
      metric('clv_cac', isNum(json.clv_cac) && json.clv_cac > 0 ? f.ratio(json.clv_cac) : '—');
      metric('top_groups_revenue_share', f.percent(json.top_groups_revenue_share));
      {
        const last = (json.retention_trend ?? []).at(-1);
        if (last?.partial) {
          const so = last.buyers > 0 ? `${f.percent(last.returning_rate)} of ${f.integer(last.buyers)} ` : 'no orders yet';
          out.push([`the month not over is stated as so far (${so.trim()})`, '[data-metric="retention_partial"]', (shown) => shown?.includes('so far') && shown.includes(so)]);
        }
      }
      break;
    case 'segments':
      for (const g of json.groups ?? []) {
        if (!g.slug) continue;
        out.push([`group ${g.slug} customers = ${f.integer(g.customers)}`, `tr:has([data-group="${g.slug}"]) [data-cell="customers"]`, f.integer(g.customers)]);
        if (isNum(g.avg_p_order_window)) {
          out.push([`group ${g.slug} chance to order = ${f.percent(g.avg_p_order_window)}`, `tr:has([data-group="${g.slug}"]) [data-cell="p_order_window"]`, f.percent(g.avg_p_order_window)]);
        }
      }
      for (const c of json.grid ?? []) {
        if (!isNum(c.customers) || c.customers === 0) continue;
        out.push([`grid R${c.r} F${c.f} = ${f.integer(c.customers)}`, `td[aria-label^="Recency score ${c.r}, frequency score ${c.f}:"]`, f.integer(c.customers)]);
      }
      break;
    case 'cohorts': {
      const first = (json.monthly ?? [])[0];
      if (first && isNum(first.retention?.[1])) {
        out.push([`first cohort month 1 = ${f.percent(first.retention[1])}`, `td[aria-label*=", month 1: "]`, f.percent(first.retention[1])]);
      }
      break;
    }
    case 'lifetime-value': {
      const gross = json.overall?.gross_profit ?? [];
      metric('ltv_gross_m0', f.money(gross[0]));
      metric('ltv_gross_m3', f.money(gross[3]));
      metric('ltv_cac', isNum(json.cac) && json.cac > 0 ? f.money(json.cac) : '—');
      metric('steady_customers', f.integer(json.steady?.customers));
      metric('steady_on_schedule', f.integer(json.steady?.on_schedule));
      // The comparison table's first cohort with customers, month 0.
      const first = (json.cohorts ?? []).find((c) => isNum(c.customers) && c.customers > 0);
      if (first && isNum(first.gross_profit?.[0]) && !(first.partial && first.gross_profit.length === 1)) {
        out.push([`first cohort month 0 = ${f.money(first.gross_profit[0])}`, 'tbody tr:first-child [data-cell="month-0"]', f.money(first.gross_profit[0])]);
      }
      if (json.overall?.payback?.state === 'no_cac') metric('ltv_payback', '—');
      break;
    }
    case 'products': {
      const rows = (json.products ?? []).filter((p) => isNum(p.customers));
      if (rows.length) {
        const top = Math.max(...rows.map((p) => p.customers));
        out.push([`largest product customers = ${f.integer(top)}`, 'tbody tr:first-child [data-cell="customers"]', f.integer(top)]);
      }
      break;
    }
    case 'customers': {
      metric('customers_total', f.integer(json.total));
      // The rows come in the API's order (predicted value, highest first).
      const first = (json.customers ?? [])[0];
      if (first && isNum(first.p_order_window)) {
        out.push([`first customer's chance to order = ${f.percent(first.p_order_window)}`, 'tbody tr:first-child [data-cell="p_order_window"]', f.percent(first.p_order_window)]);
      }
      break;
    }
    case 'customer':
      metric('group_rule', plain(`Rule ${f.integer(json.group?.priority)} of 11: ${json.group?.rule ?? '—'}`));
      metric('predicted_clv', f.money(json.customer?.predicted_clv));
      for (const [i, s] of (json.scores ?? []).entries()) {
        out.push([`score ${s.dimension} explained`, `[data-metric="score_explanations"] li:nth-child(${i + 1})`, plain(s.text)]);
      }
      break;
    case 'insights': {
      metric('top20_revenue_share', f.percent(json.pareto?.top20_revenue_share));
      metric('top20_margin_share', f.percent(json.pareto?.top20_margin_share));
      metric('crosswalk_with_shopify', f.integer(json.shopify_crosswalk?.with_shopify_group));
      const p = json.prediction;
      if (p && isNum(p.holdoutShare)) {
        metric('prediction_actual_share', f.percent(p.holdoutShare));
        metric('prediction_mean', f.percent(p.meanPredicted));
        const used = (p.candidates ?? []).find((c) => c.name === p.model);
        if (used && isNum(used.auc)) metric('prediction_auc', f.decimal(used.auc, 3));
      }
      break;
    }
    default:
      break;
  }
  return out;
}

// --- every number and badge of the tables ------------------------------------

// cellsOf reads a table row's cells as the merchant sees them.
async function cellsOf(row) {
  return row.$$eval('th, td', (cs) => cs.map((c) => (c.textContent || '').replace(/[\u00a0\u202f]/g, ' ').replace(/\s+/g, ' ').trim()));
}

// rowChecks compares every row the page shows in its main table with the
// API's numbers, cell by cell, and every badge the API implies.
async function rowChecks(page, name, json, f) {
  switch (name) {
    case 'segments': {
      let rows = 0;
      let wrong = [];
      for (const g of json.groups ?? []) {
        const row = await page.$(`tr:has([data-group="${g.slug}"])`);
        if (!row) {
          wrong.push(`${g.slug} missing`);
          continue;
        }
        const want = [g.name || g.slug, f.integer(g.customers), f.percent(g.share), f.percent(g.revenue_share), f.money(g.aov), f.days(g.avg_days_between_orders),
          f.money(g.avg_historical_clv), f.money(g.avg_predicted_clv), f.percent(g.avg_p_order_window)];
        // The table's first nine columns are the group's scores (others,
        // such as survey answers, are checked where they are made).
        const got = (await cellsOf(row)).slice(0, want.length);
        rows++;
        if (!same(got, want)) wrong.push(`${g.slug}: page ${brief(got)}, API ${brief(want)}`);
      }
      check(`segments: every number of the ${rows} group rows equals the API's`, rows > 0 && wrong.length === 0, wrong.join('; '));
      break;
    }
    case 'products': {
      const byKey = new Map((json.products ?? []).map((r) => [r.key, r]));
      const shown = await page.$$('tbody tr:has([data-key])');
      const wrong = [];
      let badges = 0;
      for (const row of shown) {
        const key = await row.$eval('[data-key]', (e) => e.getAttribute('data-key'));
        const r = byKey.get(key);
        if (!r) {
          wrong.push(`${key} not in the API`);
          continue;
        }
        const badge = r.verdict === 'above' ? 'Rockstar' : r.verdict === 'below' ? 'Toxic' : '';
        const got = [
          plain(await row.$eval('[data-key] .Polaris-Text--semibold, [data-key] .Polaris-Text--root', (e) => e.textContent)),
          plain(await row.$eval('[data-key]', (e) => window.badgeText(e.querySelector('.Polaris-Badge')))),
          ...(await cellsOf(row)).slice(1),
        ];
        const want = [plain(r.title || r.key), badge, f.integer(r.customers), f.percent(r.repurchase_rate), f.percent(r.baseline), f.money(r.later_value), f.pValue(r.p_value)];
        if (badge) badges++;
        if (!same(got, want)) wrong.push(`${key}: page ${brief(got)}, API ${brief(want)}`);
      }
      check(`products: every number and badge of the ${shown.length} rows shown equals the API's`, shown.length > 0 && wrong.length === 0, wrong.slice(0, 5).join('; '));
      // Every product the API gives a verdict shows its badge: each is
      // looked up with the page's own filter, wherever the sort puts it.
      const implied = (json.products ?? []).filter((r) => r.verdict === 'above' || r.verdict === 'below');
      const missing = [];
      const filterBox = page.getByLabel('Filter products');
      for (const r of implied) {
        await filterBox.fill(r.title || r.key);
        const shownBadge = await page
          .waitForSelector(`[data-key="${r.key}"]`, {timeout: 5000})
          .then((el) => el.evaluate((e) => window.badgeText(e.querySelector('.Polaris-Badge'))))
          .catch(() => 'row not found');
        const want = r.verdict === 'above' ? 'Rockstar' : 'Toxic';
        if (plain(shownBadge) !== want) missing.push(`${r.title || r.key}: ${shownBadge || 'no badge'}, API ${r.verdict}`);
      }
      await filterBox.fill('');
      check(`products: every badge the API implies appears (${implied.length} rockstar or toxic products, ${badges} on the first rows)`, missing.length === 0, missing.join('; '));
      break;
    }
    case 'customers': {
      const wrong = [];
      const shown = await page.$$('tbody tr');
      const list = json.customers ?? [];
      for (let i = 0; i < Math.min(shown.length, list.length); i++) {
        const c = list[i];
        const got = await cellsOf(shown[i]);
        // The churn badge's text carries Polaris's hidden tone word first
        // ("SuccessLow"): its end is the risk the page shows.
        const risk = c.churn_risk ? c.churn_risk[0].toUpperCase() + c.churn_risk.slice(1) : '—';
        const shownRisk = got[3] !== undefined && got[3].endsWith(risk) ? got[3] : risk;
        const want = [c.name || `Customer ${c.id ?? ''}`, got[1], f.percent(c.p_order_window), shownRisk, f.integer(c.r), f.integer(c.f), f.integer(c.m),
          f.money(c.historical_clv), f.money(c.predicted_clv), got[9]];
        if (!same(got, want)) wrong.push(`row ${i + 1}: page ${brief(got)}, API ${brief(want)}`);
      }
      check(`customers: every number of the ${shown.length} rows equals the API's`, shown.length > 0 && shown.length === list.length && wrong.length === 0, wrong.slice(0, 3).join('; '));
      break;
    }
    case 'cohorts': {
      const wrong = [];
      const cells = await page.$$eval('[data-chart="cohorts-retention"] tbody tr', (trs) =>
        trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((c) => (c.textContent || '').replace(/[\u00a0\u202f]/g, ' ').trim())),
      );
      (json.monthly ?? []).forEach((co, i) => {
        const want = (co.retention ?? []).map((v) => (co.customers === 0 ? '' : f.percent(v)));
        const got = (cells[i] ?? []).slice(0, want.length);
        if (!same(got, want)) wrong.push(`${co.cohort}: page ${brief(got)}, API ${brief(want)}`);
      });
      check(`cohorts: every cell of the ${cells.length} cohorts equals the API's`, cells.length === (json.monthly ?? []).length && wrong.length === 0, wrong.slice(0, 3).join('; '));
      if (json.partial_month) {
        const partial = await page.$$eval('[data-chart="cohorts-retention"] td[data-partial="true"]', (tds) => tds.length);
        check(`cohorts: the cells of ${json.partial_month}, not over, are marked as so far`, partial > 0, `${partial} marked`);
      }
      break;
    }
    default:
      break;
  }
}

// overflows lists text that does not fit its box: table cells, headings,
// paragraphs, badges and labels whose content is wider than they are (cut
// off or spilling), and, where nothing should scroll sideways, scroll
// boxes whose columns are hidden.
async function overflows(page, {scrollBoxes}) {
  return page.evaluate((scrollBoxes) => {
    const out = [];
    const visible = (e) => e.offsetParent !== null && e.clientWidth > 0;
    const name = (e) => `${e.tagName.toLowerCase()} "${(e.textContent || '').trim().slice(0, 40)}"`;
    for (const e of document.querySelectorAll('td, th, p, h1, h2, h3, dt, dd, label, .Polaris-Badge, .Polaris-Button, .Polaris-Text--root')) {
      // Text only for screen readers is clipped to a pixel on purpose.
      if (!visible(e) || e.clientWidth <= 2 || e.closest('.cvo-visually-hidden, .Polaris-Text--visuallyHidden, [data-chart] svg')) continue;
      if (e.scrollWidth > e.clientWidth + 1) out.push(`${name(e)}: ${e.scrollWidth}px of text in ${e.clientWidth}px`);
    }
    if (scrollBoxes) {
      for (const e of document.querySelectorAll('.cvo-heatmap-scroll, .Polaris-DataTable__ScrollContainer')) {
        if (visible(e) && e.scrollWidth > e.clientWidth + 1) out.push(`${e.closest('[data-chart]')?.getAttribute('data-chart') || 'table'}: columns cut off (${e.scrollWidth}px in ${e.clientWidth}px)`);
      }
    }
    return out;
  }, scrollBoxes);
}

// --- the charts ---------------------------------------------------------------

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const brief = (v) => {
  const s = JSON.stringify(v);
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
};

// vizRows waits for a polaris-viz line chart and reads the table it draws
// for assistive technology: [series name, value per x position] per row.
async function vizRows(page, chart) {
  const sel = `[data-chart="${chart}"] svg[role="table"]`;
  await page.waitForSelector(sel, {timeout: TIMEOUT});
  return page.$$eval(`${sel} [role="row"]`, (rows) =>
    rows.slice(1).map((r) => Array.from(r.children).map((c) => (c.textContent || '').replace(/[\u00a0\u202f]/g, ' ').trim())),
  );
}

// dataTable opens a chart's data table and reads its body rows.
async function dataTable(page, chart) {
  const fig = page.locator(`[data-chart="${chart}"]`);
  await fig.getByRole('button', {name: 'Show data table'}).click();
  const rows = await fig.locator('table.cvo-data-table tbody tr').evaluateAll((trs) =>
    trs.map((tr) => Array.from(tr.children).map((c) => (c.textContent || '').replace(/[\u00a0\u202f]/g, ' ').trim())),
  );
  await fig.getByRole('button', {name: 'Hide data table'}).click();
  return rows;
}

// blur leaves no focus ring in the screenshots.
async function blur(page) {
  await page.evaluate(() => document.activeElement instanceof HTMLElement && document.activeElement.blur());
}

// tooltipShows waits until polaris-viz's tooltip holds the text.
async function tooltipShows(page, text) {
  try {
    await page.waitForFunction((t) => (document.getElementById('polaris_viz_tooltip_root')?.textContent || '').replace(/[\u00a0\u202f]/g, ' ').includes(t), text, {timeout: 5000});
    return true;
  } catch {
    return false;
  }
}

async function lineChartChecks(page, chart, what, values, comparison) {
  const rows = await vizRows(page, chart);
  check(`${chart} chart draws the API's ${values.length} ${what}`, same(rows[0]?.slice(1), values), `chart ${brief(rows[0]?.slice(1))}, API ${brief(values)}`);
  if (comparison) check(`${chart} chart draws its comparison line`, same(rows[1]?.slice(1), comparison), brief(rows[1]));
  const table = await dataTable(page, chart);
  check(`${chart} data table shows the same ${what}`, same(table.map((r) => r[1]), values), brief(table));
  // Keyboard: one tab stop, End reaches the last value and its tooltip.
  await page.focus(`[data-chart="${chart}"] .cvo-chart__plot`);
  await page.keyboard.press('End');
  const focused = await page.evaluate(() => document.activeElement?.getAttribute('data-index'));
  check(`${chart} chart: End focuses the last value`, focused === String(values.length - 1), `focused ${focused}`);
  check(`${chart} chart: its tooltip shows ${values[values.length - 1]}`, await tooltipShows(page, values[values.length - 1]));
  await page.keyboard.press('Escape');
  await blur(page);
}

async function heatmapChecks(page, chart, expectCell) {
  const grid = `[data-chart="${chart}"] table[role="grid"]`;
  const shown = await page.$$eval(`${grid} tbody tr`, (trs) =>
    trs.map((tr) => Array.from(tr.children).map((c) => (c.textContent || '').replace(/[\u00a0\u202f]/g, ' ').trim() || '—')),
  );
  const table = await dataTable(page, chart);
  check(`${chart} data table shows the grid's numbers`, shown.length > 0 && same(table, shown), `grid ${brief(shown)}, table ${brief(table)}`);
  if (expectCell) {
    const [row, col, value] = expectCell;
    check(`${chart} data table ${row}/${col} = ${value}`, table.find((r) => r[0] === row)?.[col] === value, brief(table));
  }
  // Keyboard: the grid is one tab stop; arrows move the focus and the tooltip.
  await page.focus(`${grid} td[tabindex="0"]`);
  await page.keyboard.press('Home');
  await page.keyboard.press('ArrowRight');
  const moved = await page.evaluate(() => ({cell: document.activeElement?.getAttribute('data-cell'), label: document.activeElement?.getAttribute('aria-label')}));
  check(`${chart} grid: arrow keys move between cells`, /^\d+-1$/.test(moved.cell ?? ''), `focused ${moved.cell}`);
  const tip = await textOf(page, `[data-chart="${chart}"] [role="tooltip"]`);
  check(`${chart} grid: the focused cell's tooltip reads its label`, !!moved.label && tip === plain(moved.label), `tooltip ${tip}`);
  await page.keyboard.press('Escape');
  await blur(page);
}

// chartChecks compares each chart of a page with the API's numbers: what
// polaris-viz draws, the data table, the keyboard path and the tooltip.
async function chartChecks(page, name, json, f) {
  switch (name) {
    case 'overview': {
      // Complete months after the first of the history; the month not over
      // is stated apart (figureChecks).
      const rates = (json.retention_trend ?? [])
        .slice(1)
        .filter((t) => !t.partial && isNum(t.returning_rate) && t.buyers > 0)
        .map((t) => f.percent(t.returning_rate));
      if (rates.length) await lineChartChecks(page, 'retention', 'monthly returning customer rates', rates);
      break;
    }
    case 'segments': {
      const cell = (json.grid ?? []).find((c) => isNum(c.customers) && c.customers > 0 && isNum(c.f));
      await heatmapChecks(page, 'rfm', cell ? [`R${cell.r}`, cell.f, f.integer(cell.customers)] : undefined);
      break;
    }
    case 'cohorts':
      if ((json.monthly ?? []).length) await heatmapChecks(page, 'cohorts-retention');
      break;
    case 'lifetime-value': {
      const gross = json.overall?.gross_profit ?? [];
      if (gross.length) {
        await lineChartChecks(page, 'ltv-overall', 'gross profits per customer', gross.map((v) => f.money(v)), (json.overall?.revenue ?? []).map((v) => f.money(v)));
      }
      break;
    }
    case 'insights': {
      const curve = (json.pareto?.curve ?? []).filter((p) => isNum(p.customers_share) && isNum(p.revenue_share));
      if (curve.length) {
        await lineChartChecks(page, 'pareto', 'revenue shares', curve.map((p) => f.percent(p.revenue_share)), curve.map((p) => f.percent(p.customers_share)));
      }
      const pick = (o, ...keys) => keys.map((k) => o?.[k]).find(isNum);
      const groups = (json.backtest?.groups ?? []).filter((g) => g && typeof g === 'object');
      if (groups.length) {
        const expected = groups.map((g) => [f.number(pick(g, 'predictedOrders', 'predicted_orders')), f.number(pick(g, 'actualOrders', 'actual_orders'))]);
        const sel = '[data-chart="backtest"] [data-type="BarGroup"][aria-hidden="false"]';
        await page.waitForSelector(sel, {timeout: TIMEOUT});
        const bars = (await page.$$eval(sel, (els) => els.map((e) => e.getAttribute('aria-label') || ''))).map(plain);
        // polaris-viz labels a group "Key: Series value,Series value".
        const drawn = bars.map((b) => b.match(/Predicted orders (.*),Actual orders (.*)$/)?.slice(1, 3));
        check(`backtest chart draws the API's orders for ${groups.length} groups`, same(drawn, expected), `chart ${brief(drawn)}, API ${brief(expected)}`);
        const table = await dataTable(page, 'backtest');
        check('backtest data table shows the same orders', same(table.map((r) => r.slice(1)), expected), brief(table));
        await page.focus('[data-chart="backtest"] .cvo-chart__plot');
        await page.keyboard.press('ArrowRight');
        check(`backtest chart: the arrow key shows the first group's tooltip (${table[0]?.[0]})`, await tooltipShows(page, table[0]?.[0] ?? '?'));
        await page.keyboard.press('Escape');
        await blur(page);
      }
      // The chance to order's calibration by tenth of the prediction.
      const deciles = (json.prediction?.deciles ?? []).filter((d) => d && isNum(d.predicted) && isNum(d.actual));
      if (deciles.length) {
        const expected = deciles.map((d) => [f.percent(d.predicted), f.percent(d.actual)]);
        const sel = '[data-chart="prediction-deciles"] [data-type="BarGroup"][aria-hidden="false"]';
        await page.waitForSelector(sel, {timeout: TIMEOUT});
        const bars = (await page.$$eval(sel, (els) => els.map((e) => e.getAttribute('aria-label') || ''))).map(plain);
        const drawn = bars.map((b) => b.match(/Predicted (.*),Actual (.*)$/)?.slice(1, 3));
        check(`prediction chart draws the API's shares for ${deciles.length} tenths`, same(drawn, expected), `chart ${brief(drawn)}, API ${brief(expected)}`);
        const table = await dataTable(page, 'prediction-deciles');
        check('prediction data table shows the same shares', same(table.map((r) => r.slice(1)), expected), brief(table));
      }
      break;
    }
    default:
      break;
  }
}

// fits checks that nothing of the page sticks out sideways: the charts take
// the width they are given, and heatmaps scroll inside their own box.
async function fits(page, label) {
  const over = await page.evaluate(() => {
    const out = [];
    if (document.documentElement.scrollWidth > window.innerWidth + 1) out.push(`page ${document.documentElement.scrollWidth}px wide`);
    for (const svg of document.querySelectorAll('[data-chart] .cvo-chart__plot svg')) {
      const plot = svg.closest('.cvo-chart__plot');
      if (svg.getBoundingClientRect().width > plot.getBoundingClientRect().width + 1) out.push(`${svg.closest('[data-chart]').getAttribute('data-chart')} wider than its card`);
    }
    return out;
  });
  check(`${label}: fits the width`, over.length === 0, over.join('; '));
}

async function accessibility(page, name) {
  const h1 = await page.$$eval('h1', (els) => els.filter((e) => e.offsetParent !== null).length);
  check(`${name}: one visible h1`, h1 === 1, `found ${h1}`);
  const unnamed = await page.$$eval('button, a[href], input, select, textarea', (els) =>
    els
      .filter((e) => e.offsetParent !== null && !e.closest('ui-nav-menu'))
      .filter((e) => {
        const labelled = e.getAttribute('aria-label') || e.getAttribute('aria-labelledby') || e.getAttribute('title');
        const text = (e.textContent || '').trim();
        const id = e.getAttribute('id');
        const forLabel = id && document.querySelector(`label[for="${CSS.escape(id)}"]`);
        return !(labelled || text || forLabel || e.closest('label'));
      })
      .map((e) => e.outerHTML.slice(0, 80)),
  );
  check(`${name}: every control has a name`, unnamed.length === 0, unnamed.join(' | '));
}

// firstOpen opens the overview of a shop not installed yet, as a merchant
// does right after install: the page's first call installs the shop, and
// the figures must appear by themselves, without a reload, after the page
// has shown what is happening (import, then scoring).
async function firstOpen(page, pageErrors) {
  console.log('\nFirst open, right after install');
  await page.addInitScript(() => {
    window.__cvoStages = [];
    const seen = () => {
      const el = document.querySelector('[data-progress]');
      const stage = el?.getAttribute('data-progress');
      const list = window.__cvoStages;
      if (stage && list[list.length - 1] !== stage) list.push(stage);
    };
    new MutationObserver(seen).observe(document, {subtree: true, childList: true, attributes: true, attributeFilter: ['data-progress']});
  });
  let loads = 0;
  page.on('load', () => loads++);
  const started = Date.now();
  await page.goto(pageURL('/'), {waitUntil: 'domcontentloaded'});
  let ready = true;
  try {
    await page.waitForSelector('[data-page="overview"][data-state="ready"]', {timeout: FIRST_DATA_TIMEOUT});
  } catch {
    ready = false;
  }
  const stages = await page.evaluate(() => window.__cvoStages);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`  stages shown: ${stages.join(' → ') || 'none'}; figures after ${seconds} s`);
  check('first open: the figures appear by themselves', ready, `not within ${FIRST_DATA_TIMEOUT} ms; stages ${stages.join(', ')}`);
  check('first open: no reload was needed', loads === 1, `${loads} page loads`);
  check('first open: the page said the import was under way before the figures', stages[0] === 'sync_queued' || stages[0] === 'syncing', `stages ${stages.join(', ')}`);
  // A scoring shorter than the page's poll interval can finish between two
  // answers, so the scoring stage may not be shown at all (the page's unit
  // tests show it when the API reports it); what the merchant sees must
  // still move forward only, import before scoring.
  const order = ['sync_queued', 'syncing', 'scoring_queued', 'scoring'];
  const forward = stages.every((st, i) => order.includes(st) && (i === 0 || order.indexOf(st) > order.indexOf(stages[i - 1])));
  check('first open: the stages shown only move forward, import before scoring', forward, `stages ${stages.join(', ')}`);
  check('first open: no progress left once the figures are there', (await page.$('[data-progress]')) === null);
  check('first open: no uncaught script errors', pageErrors.length === 0, pageErrors.join(' | '));
  await page.screenshot({path: join(SHOTS, 'first-open.png'), fullPage: true});
}

async function main() {
  mkdirSync(SHOTS, {recursive: true});
  console.log(`e2e: app ${APP}, shop ${SHOP}, simulator ${SIM}, locale ${LOCALE}`);

  let index;
  try {
    index = await (await fetch(`${APP}/?shop=${encodeURIComponent(SHOP)}`)).text();
    await sessionToken();
  } catch (e) {
    console.error(`e2e: the app or the simulator is not reachable (${e.message}). Start the demo with \`make run\`.`);
    process.exit(2);
  }
  check('index carries the App Bridge meta tag with a client id', /<meta name="shopify-api-key" content="[^"]+"/.test(index));
  const servesStandIn = index.includes('app-bridge-standin');
  if (!servesStandIn) {
    console.log('  note  the server serves the CDN App Bridge (demo wiring absent): the harness substitutes the local stand-in');
  }

  const browser = await chromium.launch({
    executablePath: BROWSER,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({locale: LOCALE, viewport: {width: 1280, height: 900}});
  const standIn = readFileSync(join(here, '..', '..', 'internal', 'web', 'appbridge_standin.js'), 'utf8');
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (url === CDN_APP_BRIDGE && !servesStandIn) {
      const prelude = `document.currentScript && document.currentScript.setAttribute('data-simulator-origin', ${JSON.stringify(SIM)});\n`;
      return route.fulfill({status: 200, contentType: 'text/javascript', body: prelude + standIn});
    }
    // Nothing outside this machine is reachable; fail such requests at once.
    if (!url.startsWith(APP) && !url.startsWith(SIM)) return route.abort();
    return route.continue();
  });

  // badgeText is a Polaris badge's visible words, without the tone it
  // spells out for screen readers.
  await context.addInitScript(() => {
    window.badgeText = (b) => {
      if (!b) return '';
      const copy = b.cloneNode(true);
      for (const h of copy.querySelectorAll('.Polaris-Text--visuallyHidden')) h.remove();
      return (copy.textContent || '').trim();
    };
  });
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));

  if (FIRST_OPEN) await firstOpen(page, pageErrors);

  const shopAnswer = await api('/api/shop');
  check('GET /api/shop answers', shopAnswer.ok, `HTTP ${shopAnswer.status} ${JSON.stringify(shopAnswer.json ?? '')}`);
  const f = formatters(shopAnswer.json?.currency || 'USD');

  // The customer screen of the most valuable customer, after the list.
  const first = await api('/api/customers?page=1&per_page=1');
  const firstID = first.json?.customers?.[0]?.id;
  if (firstID) {
    PAGES.splice(PAGES.findIndex((x) => x.name === 'customers') + 1, 0,
      {name: 'customer', path: `/customers/${firstID}`, api: `/api/customers/${firstID}`, label: 'Customer screen'});
  } else {
    check('customers: a customer to open', !REQUIRE_DATA, 'no customer in the list');
  }

  for (const p of PAGES) {
    console.log(`\n${p.label} (${p.path})`);
    pageErrors.length = 0;
    await page.goto(pageURL(p.path), {waitUntil: 'domcontentloaded'});
    const settled = `[data-page="${p.name}"]:not([data-state="loading"]), [data-page="app"][data-state="error"]`;
    try {
      await page.waitForSelector(settled, {timeout: TIMEOUT});
    } catch {
      check(`${p.name}: content appears`, false, `nothing settled within ${TIMEOUT} ms`);
      await page.screenshot({path: join(SHOTS, `${p.name}.png`), fullPage: true});
      continue;
    }
    const state = await page.$eval(settled, (el) => `${el.getAttribute('data-page')}:${el.getAttribute('data-state')}`);
    const answer = await api(p.api);
    console.log(`  page state ${state}; API HTTP ${answer.status}`);
    if (state === `${p.name}:ready`) {
      check(`${p.name}: API answered what the page shows`, answer.ok, `HTTP ${answer.status}`);
      for (const [what, selector, expected] of figureChecks(p.name, answer.json ?? {}, f)) {
        const shown = await textOf(page, selector);
        check(`${p.name}: ${what}`, typeof expected === 'function' ? expected(shown) : shown === expected, `page shows ${JSON.stringify(shown)}`);
      }
      if (answer.ok) await rowChecks(page, p.name, answer.json ?? {}, f);
      if (answer.ok) await chartChecks(page, p.name, answer.json ?? {}, f);
      if (p.name === 'settings' && answer.ok) {
        const prefix = await page.getByLabel('Tag prefix').inputValue();
        check(`settings: tag prefix = ${answer.json.tag_prefix}`, prefix === answer.json.tag_prefix, `page shows ${prefix}`);
      }
    } else if (state.endsWith(':error')) {
      const banner = await textOf(page, '.Polaris-Banner');
      console.log(`  error shown: ${banner}`);
      check(`${p.name}: error state only when the API fails`, !answer.ok || state.startsWith('app:'), `API HTTP ${answer.status}`);
      if (REQUIRE_DATA) check(`${p.name}: shows data`, false, 'error state');
    } else {
      check(`${p.name}: empty state`, !REQUIRE_DATA, 'E2E_REQUIRE_DATA=1');
    }
    await accessibility(page, p.name);
    check(`${p.name}: no uncaught script errors`, pageErrors.length === 0, pageErrors.join(' | '));
    await fits(page, `${p.name} at 1280 px`);
    const over = await overflows(page, {scrollBoxes: true});
    check(`${p.name} at 1280 px: no text overflows, no column cut off`, over.length === 0, over.slice(0, 5).join('; '));
    await page.screenshot({path: join(SHOTS, `${p.name}.png`), fullPage: true});
  }

  // The chart pages at the admin's other common width and on a phone.
  for (const [label, viewport] of [
    ['1440', {width: 1440, height: 900}],
    ['phone', {width: 390, height: 844}],
  ]) {
    console.log(`\nEvery page at ${label} (${viewport.width} px)`);
    await page.setViewportSize(viewport);
    for (const p of PAGES) {
      await page.goto(pageURL(p.path), {waitUntil: 'domcontentloaded'});
      await page.waitForSelector(`[data-page="${p.name}"][data-state="ready"]`, {timeout: TIMEOUT}).catch(() => {});
      const charts = await page.$$eval('[data-chart] .cvo-chart__plot', (els) => els.length);
      try {
        await page.waitForFunction((n) => document.querySelectorAll('[data-chart] .cvo-chart__plot svg').length >= n, charts, {timeout: TIMEOUT});
      } catch {
        check(`${p.name} at ${label}: every chart draws`, false, `${charts} charts`);
      }
      await fits(page, `${p.name} at ${label}`);
      // On a phone wide tables and grids scroll sideways (their row labels
      // stay); at the admin's widths every column shows.
      const over = await overflows(page, {scrollBoxes: label !== 'phone'});
      check(`${p.name} at ${label}: no text overflows${label !== 'phone' ? ', no column cut off' : ''}`, over.length === 0, over.slice(0, 5).join('; '));
      await page.screenshot({path: join(SHOTS, `${p.name}-${label}.png`), fullPage: true});
      // Each chart alone too, to look at it at this width.
      for (const el of await page.$$('[data-chart]')) {
        await el.screenshot({path: join(SHOTS, `chart-${await el.getAttribute('data-chart')}-${label}.png`)});
      }
    }
  }
  await page.setViewportSize({width: 1280, height: 900});

  console.log('\nNavigation');
  await page.goto(pageURL('/'), {waitUntil: 'domcontentloaded'});
  const nav = page.getByRole('navigation', {name: 'App pages'});
  await nav.getByRole('link', {name: 'Segments'}).click();
  await page.waitForURL((u) => u.pathname === '/segments');
  const url = new URL(page.url());
  check('tab click routes without losing Shopify query parameters', url.searchParams.get('shop') === SHOP && url.searchParams.get('locale') === LOCALE, page.url());
  check('current tab is marked', (await nav.getByRole('link', {name: 'Segments'}).getAttribute('aria-current')) === 'page');
  await nav.getByRole('link', {name: 'Cohorts'}).focus();
  await page.keyboard.press('Enter');
  await page.waitForURL((u) => u.pathname === '/cohorts');
  check('keyboard (Enter on a focused tab) navigates', new URL(page.url()).pathname === '/cohorts');
  await page.goBack();
  await page.waitForURL((u) => u.pathname === '/segments');
  await page.waitForSelector('[data-page="segments"], [data-page="app"]');
  check('back button returns to the previous page', new URL(page.url()).pathname === '/segments');
  await page.reload({waitUntil: 'domcontentloaded'});
  await page.waitForSelector('[data-page="segments"], [data-page="app"]', {timeout: TIMEOUT});
  check('reload of a client route serves the app', (await page.$('[data-page="segments"], [data-page="app"]')) !== null);

  await surveyChecks({page, api, pageURL, check, timeout: TIMEOUT, shots: SHOTS, join});

  await browser.close();
  console.log(`\nScreenshots in ${SHOTS}`);
  if (failures.length) console.log(`Failures:\n  ${failures.join('\n  ')}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(`e2e: ${e.stack || e}`);
  process.exit(1);
});
