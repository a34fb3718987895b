// Package shopgen makes shops for the Shopify simulator: the UCI Online
// Retail data set as the demo shop, and synthetic shops of any size for
// tests and benchmarks. Both stream into a Sink (the simulator through
// ForShop, a JSONL snapshot, an orders CSV) in batches of BatchSize, and
// both are deterministic: the same input or seed gives the same shop with
// the same ids.
//
// # Online Retail as a Shopify shop
//
// The data: UCI Machine Learning Repository, "Online Retail", donated by
// Daqing Chen; Chen, Sain and Guo (2012), doi:10.1057/dbm.2012.17; CC BY
// 4.0.
//
// LoadOnlineRetail reads online_retail.csv.gz (a UK gift-ware wholesaler,
// 2010-12-01..2011-12-09, in GBP; see the shared data README beside the checkout) row by
// row and maps it so:
//
//   - Times: InvoiceDate is London wall-clock time (GMT in winter, BST in
//     summer) and stored in UTC. An invoice whose rows span two minutes
//     takes the earliest.
//   - Orders: one per sale invoice with at least one kept row. Order id
//     and number are the invoice number (#536365), line item ids
//     invoice*10000+row. Rows keep their own price and quantity; repeated
//     stock codes on one invoice stay separate lines.
//   - Products: one per stock code (upper-cased: 85123a is 85123A) that
//     has a kept sale row, ids 1..n in code order, one variant (variant and
//     inventory item id = product id, SKU = code). Title: the code's most
//     frequent description (ties: alphabetical); price: its most frequent
//     positive unit price. Product type: keyword rules over the title
//     (Christmas, Candles & Holders, Bags, Baking, Mugs & Tableware,
//     Lighting, Cards & Wrap, ... else Gifts); see productTypeRules.
//     Vendor: one of eight invented suppliers, chosen by the code's first
//     three characters so a product family shares one. Unit cost: the data
//     has none, so 40-65 % of the lowest price the code sold at, fixed by a
//     hash of the code; about 15 % of products (also by hash) have no cost,
//     for the "cost unknown" paths.
//   - Customers: every CustomerID in the file (4,372), created at their
//     first row, country the one on most of their rows (EIRE is Ireland,
//     RSA South Africa, USA United States; Unspecified and European
//     Community give no address; Channel Islands keeps its name without a
//     country code). The data has no personal data, and none is made up
//     beyond an obviously fake email customer-{id}@example.com and the name
//     "Customer {id}". About 45 % are marked subscribed to email.
//   - Guest orders: sale rows without CustomerID become orders without a
//     customer, kept for product analytics.
//   - Cancellations (C invoices) with a customer become refunds: each row's
//     units are matched to the same stock code on that customer's orders
//     placed no later than the cancellation, latest first, and refunded at
//     the price paid on that order. One refund per (cancellation invoice,
//     order), dated at the cancellation. Orders whose refunds reach their
//     total are fully refunded (they stay orders; Shopify does not cancel
//     them). Rows matching nothing (mostly returns of orders from before
//     December 2010) are skipped as cancellation_unmatched; rows matching
//     part of their units refund that part (PartlyMatchedRows). C rows
//     without a customer cannot be matched and are skipped.
//   - Bookkeeping codes: POST, DOT and C2 (postage, carriage) add to the
//     order total but are no line items; an invoice of postage alone gets
//     it as a custom line item, as Shopify needs one line. M (manual), S
//     (samples) and gift_0001_* (gift vouchers) are custom line items
//     without a product. D (discount) only occurs on C invoices, given
//     after the sale: a refund on the customer's latest order with value
//     left. BANK CHARGES, AMAZONFEE and CRUK are fees between the retailer
//     and third parties, skipped; A invoices (bad-debt adjustments, code B)
//     are skipped. DCGS* and PADS are ordinary products.
//   - Skipped sale rows: quantity <= 0 (stock adjustments, all without a
//     customer and priced 0), and price 0 without a customer (stock notes
//     such as "check", "found", "damaged"). Zero-priced rows of a customer
//     are kept as free lines.
//   - Synthetic marketing labels, fixed by hashes of the invoice and
//     customer numbers, never changing amounts: source name "web" (7 % of
//     customer orders "shopify_draft_order", wholesale by phone); a
//     customerJourneySummary whose first order carries the customer's
//     acquisition channel (direct, google cpc/organic, newsletter,
//     facebook, tiktok, affiliate with UTM parameters) and later orders
//     mostly direct or newsletter; discount codes XMAS2011 (10 % of orders
//     in November-December 2011), WELCOME10 (15 % of first orders), TRADE5
//     (2 %). Retention does not differ by channel here: the labels are
//     random with respect to behaviour.
//
// The result, checked by a separate Python count
// (testdata/online_retail_reference.py): 541,909 rows; 3,799 products,
// 4,372 customers, 19,950 orders (1,425 guest), 528,235 line items, 3,911
// refunds (164 orders fully refunded) from 7,645 cancellation rows (54
// partly matched). Skipped rows: 1,336 stock adjustments, 1,139 stock
// notes, 1,244 unmatched and 326 customer-less cancellation rows, 87 fee
// rows, 3 bad-debt adjustments.
//
// # Generated shops
//
// Generate follows the customer-base models the app fits. Customers arrive
// over the period (twice as many at the end as at the start, 70 % more in
// November and December) through a marketing channel. Each draws a
// purchase rate lambda ~ Gamma(0.75, alpha) and a dropout probability p ~
// Beta(0.9, 2.5), scaled by the channel (newsletter customers stay, tiktok
// ones leave), and buys by the BG/NBD process: exponential gaps at rate
// lambda, after each purchase leaving with probability p. Order values
// follow Gamma-Gamma: nu ~ Gamma(4, 30), value ~ Gamma(6, nu), a mean of
// 60, filled with catalogue products drawn by Zipf popularity. The rate
// scale alpha is calibrated on a pilot of up to 50,000 customers so the
// order count lands near GenOptions.Orders (within about 1 %).
//
// The catalogue (2,000 products by default) has twenty invented vendors,
// twelve product types, one product in five in three sizes and 12 %
// without a unit cost. Five popular products are "rockstars" (their
// first-time buyers drop out at 35 % of the usual rate) and five "toxic"
// (65 % more likely to leave); Stats names them. About 5 % of orders are
// guest orders (mostly POS), 3 % are returned in full or part, 1 % are
// cancelled (refunded unless the payment was declined), 0.02 % are test
// orders. Discount codes WELCOME10 (first orders from campaigns, 10 %
// off), BFCM25 (late November, 25 % off) and FREESHIP change totals;
// orders below 50 pay 4.95 shipping.
//
// Customers are made in chunks of about BatchSize orders, on several
// goroutines, each customer from random streams keyed by seed and index,
// so the shop does not depend on the number of workers. A chunk's
// customers go to the sink before its orders, which are sorted by time and
// numbered in sequence; order ids therefore follow time within a chunk
// only. Memory stays at a few chunks: 1,000,000 customers with 5,000,000
// orders peak at about 150 MB of heap, in about 12 s of CPU time.
//
// # Files
//
// SnapshotWriter and LoadSnapshot store a shop as gzip JSON lines (see
// snapshot.go) for `cvodev simulator --load`; JSON decoding makes loading the
// slow direction (about 15 us of CPU per order), so for shops of millions
// of orders generating in process is quicker than loading a snapshot.
// OrderCSVWriter writes the orders with a customer in the CSV `cvo score`
// reads: customer_id,order_id,created_at,total, then refunded, cancelled,
// test, source_name and utm_source. It writes every such order unless
// PurchasesOnly is set.
package shopgen
