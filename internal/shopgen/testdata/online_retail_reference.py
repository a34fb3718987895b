#!/usr/bin/env python3
"""Independent re-count of the Online Retail shop for retail_test.go.

Written from the mapping rules in doc.go, not from the Go code, and run
once by hand:  python3 testdata/online_retail_reference.py PATH.csv.gz
Amounts are summed in integer ten-thousandths, like simulator.Amount.
"""
import bisect, collections, csv, gzip, sys
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
SHIPPING = {"POST", "DOT", "C2"}
FEES = {"BANK CHARGES", "AMAZONFEE", "CRUK"}

def amount(s):
    return int(Decimal(s) * 10000)

def custom(code):
    return code in ("M", "S") or code.startswith("GIFT_0001_")

def main(path):
    skipped = collections.Counter()
    customers = set()
    invoices = {}   # no -> dict(customer, at, lines=[[code, qty, price, refunded]])
    cancels = {}
    rows = 0
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            rows += 1
            code = r["StockCode"].strip().upper()
            qty = int(r["Quantity"])
            price = amount(r["UnitPrice"])
            cust = int(r["CustomerID"]) if r["CustomerID"] else 0
            at = int(datetime.fromisoformat(r["InvoiceDate"]).replace(tzinfo=LONDON).timestamp())
            if cust:
                customers.add(cust)
            no = r["InvoiceNo"]
            if no.startswith("A") or code == "B":
                skipped["bad_debt_adjustment"] += 1; continue
            if code in FEES:
                skipped["fee"] += 1; continue
            if no.startswith("C"):
                if not cust:
                    skipped["cancellation_without_customer"] += 1; continue
                c = cancels.setdefault(int(no[1:]), {"customer": cust, "at": at, "rows": []})
                c["at"] = min(c["at"], at)
                c["rows"].append((code, -qty, price))
                continue
            if qty <= 0:
                skipped["stock_adjustment"] += 1; continue
            if price == 0 and not cust:
                skipped["stock_note"] += 1; continue
            inv = invoices.setdefault(int(no), {"customer": cust, "at": at, "lines": []})
            inv["at"] = min(inv["at"], at)
            inv["lines"].append([code, qty, price, 0])
    order = sorted(invoices, key=lambda n: (invoices[n]["at"], n))
    by_cust = collections.defaultdict(list)
    for n in order:
        inv = invoices[n]
        inv["total"] = sum(q * p for _, q, p, _ in inv["lines"])
        inv["refunded"] = 0
        inv["refunds"] = []
        if inv["customer"]:
            by_cust[inv["customer"]].append(n)
    refunded_rows = partly = 0
    for cn in sorted(cancels, key=lambda n: (cancels[n]["at"], n)):
        c = cancels[cn]
        mine = by_cust[c["customer"]]
        earlier = mine[:bisect.bisect_right([invoices[n]["at"] for n in mine], c["at"])]
        pending = {}
        for code, units, price in c["rows"]:
            if code == "D":
                want = units * price
                for n in reversed(earlier):
                    inv = invoices[n]
                    left = inv["total"] - inv["refunded"] - pending.get(n, 0)
                    if left > 0:
                        pending[n] = pending.get(n, 0) + min(left, want)
                        refunded_rows += 1
                        break
                else:
                    skipped["cancellation_unmatched"] += 1
                continue
            need = units
            for n in reversed(earlier):
                for line in invoices[n]["lines"]:
                    if need == 0:
                        break
                    if line[0] != code or line[3] >= line[1]:
                        continue
                    take = min(need, line[1] - line[3])
                    line[3] += take
                    need -= take
                    pending[n] = pending.get(n, 0) + take * line[2]
                if need == 0:
                    break
            if need == units:
                skipped["cancellation_unmatched"] += 1
            else:
                refunded_rows += 1
                partly += need > 0
        for n, amt in pending.items():
            inv = invoices[n]
            amt = min(amt, inv["total"] - inv["refunded"])
            if amt > 0:
                inv["refunded"] += amt
                inv["refunds"].append(amt)
    products = {l[0] for inv in invoices.values() for l in inv["lines"]
                if l[0] not in SHIPPING and not custom(l[0])}
    guest = sum(1 for inv in invoices.values() if not inv["customer"])
    refunds = sum(len(inv["refunds"]) for inv in invoices.values())
    full = sum(1 for inv in invoices.values() if inv["total"] > 0 and inv["refunded"] >= inv["total"])
    lines = sum(1 for inv in invoices.values() for l in inv["lines"]
                if l[0] not in SHIPPING or all(x[0] in SHIPPING for x in inv["lines"]))
    print("rows", rows, "customers", len(customers), "products", len(products), "orders", len(invoices),
          "guest_orders", guest, "line_items", lines, "refunds", refunds, "fully_refunded", full,
          "refunded_rows", refunded_rows, "partly_matched_rows", partly)
    print("total", sum(inv["total"] for inv in invoices.values()),
          "refunded", sum(inv["refunded"] for inv in invoices.values()))
    print(dict(sorted(skipped.items())))

if __name__ == "__main__":
    main(sys.argv[1])
