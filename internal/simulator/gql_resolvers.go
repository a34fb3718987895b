package simulator

import (
	"strconv"
	"strings"
	"time"
)

// adminSchema is the part of the GraphQL Admin API the simulator serves.
var adminSchema = buildAdminSchema()

// Parent values the resolvers pass down.
type (
	moneyBag struct {
		shop, presentment       Amount
		shopCur, presentmentCur string
	}
	money struct {
		amount Amount
		cur    string
	}
	lineRef struct {
		o *orderRec
		l *lineRec
	}
	refundRef struct {
		o *orderRec
		r *refundRec
	}
	variantOf struct {
		p *Product
		v *Variant
	}
	journeyOf struct{ j *journeyRec }
)

func isoTime(unix int64) any {
	if unix == 0 {
		return nil
	}
	return time.Unix(unix, 0).UTC().Format(time.RFC3339)
}

func (ec *execCtx) str(i uint32) string { return ec.sh.store.strs.str(i) }

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// parseGID reads "gid://shopify/{kind}/{id}" and returns the id.
func parseGID(gid, kind string) (int64, bool) {
	rest, ok := strings.CutPrefix(gid, "gid://shopify/"+kind+"/")
	if !ok {
		return 0, false
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		rest = rest[:i]
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil && id > 0
}

func (ec *execCtx) orderMoney(o *orderRec, a Amount) moneyBag {
	cur := ec.sh.opts.Currency
	pres := ec.str(o.presentment)
	rate := o.rate
	if pres == "" {
		pres, rate = cur, 1
	}
	if rate == 0 {
		rate = 1
	}
	return moneyBag{shop: a, presentment: NewAmount(a.Float64() * rate), shopCur: cur, presentmentCur: pres}
}

// orderVisible hides orders older than 60 days from apps without
// read_all_orders, as Shopify does.
func (ec *execCtx) orderVisible(o *orderRec) bool {
	if o.deleted {
		return false
	}
	if hasScope(ec.scopes, "read_all_orders") {
		return true
	}
	return o.processed >= ec.now.Add(-60*24*time.Hour).Unix()
}

func buildAdminSchema() *schema {
	sc := newSchema()
	sc.enum("CustomerSortKeys", "CREATED_AT", "ID", "LOCATION", "NAME", "RELEVANCE", "UPDATED_AT")
	sc.enum("OrderSortKeys", "CREATED_AT", "CURRENT_TOTAL_PRICE", "CUSTOMER_NAME", "DESTINATION", "FINANCIAL_STATUS",
		"FULFILLMENT_STATUS", "ID", "ORDER_NUMBER", "PO_NUMBER", "PROCESSED_AT", "RELEVANCE", "TOTAL_ITEMS_QUANTITY",
		"TOTAL_PRICE", "UPDATED_AT")
	sc.enum("ProductSortKeys", "CREATED_AT", "ID", "INVENTORY_TOTAL", "PRODUCT_TYPE", "PUBLISHED_AT", "RELEVANCE",
		"TITLE", "UPDATED_AT", "VENDOR")
	sc.enum("ProductVariantSortKeys", "FULL_TITLE", "ID", "INVENTORY_QUANTITY", "NAME", "POSITION", "RELEVANCE", "SKU", "TITLE")
	sc.enum("LineItemSortKeys", "ID")

	addMoneyTypes(sc)
	addShopTypes(sc)
	addCustomerTypes(sc)
	addOrderTypes(sc)
	addProductTypes(sc)

	sc.query = sc.object("QueryRoot",
		&fieldDef{name: "shop", kind: kindObject, typ: "Shop", resolve: func(ec *execCtx, _ any, _ map[string]any) (any, error) {
			return ec.sh, nil
		}},
		&fieldDef{name: "currentAppInstallation", kind: kindObject, typ: "AppInstallation", resolve: func(ec *execCtx, _ any, _ map[string]any) (any, error) {
			return ec.sh, nil
		}},
		&fieldDef{name: "customers", kind: kindConnection, typ: "Customer", args: connectionArgs("CustomerSortKeys"),
			scope: "read_customers", resolve: resolveCustomers},
		&fieldDef{name: "customer", kind: kindObject, typ: "Customer", args: []argDef{{"id", "ID!"}},
			scope: "read_customers", resolve: func(ec *execCtx, _ any, args map[string]any) (any, error) {
				id, ok := parseGID(stringArg(args, "id"), "Customer")
				if !ok {
					return nil, nil
				}
				if i := ec.sh.store.customerIndex(id); i >= 0 {
					return &ec.sh.store.customers[i], nil
				}
				return nil, nil
			}},
		&fieldDef{name: "orders", kind: kindConnection, typ: "Order", args: connectionArgs("OrderSortKeys"),
			scope: "read_orders", resolve: func(ec *execCtx, _ any, args map[string]any) (any, error) {
				return ec.ordersPage(args, 0)
			}},
		&fieldDef{name: "order", kind: kindObject, typ: "Order", args: []argDef{{"id", "ID!"}},
			scope: "read_orders", resolve: func(ec *execCtx, _ any, args map[string]any) (any, error) {
				id, ok := parseGID(stringArg(args, "id"), "Order")
				if !ok {
					return nil, nil
				}
				if i := ec.sh.store.orderIndex(id); i >= 0 && ec.orderVisible(&ec.sh.store.orders[i]) {
					return &ec.sh.store.orders[i], nil
				}
				return nil, nil
			}},
		&fieldDef{name: "products", kind: kindConnection, typ: "Product", args: connectionArgs("ProductSortKeys"),
			scope: "read_products", resolve: resolveProducts},
		&fieldDef{name: "product", kind: kindObject, typ: "Product", args: []argDef{{"id", "ID!"}},
			scope: "read_products", resolve: func(ec *execCtx, _ any, args map[string]any) (any, error) {
				id, ok := parseGID(stringArg(args, "id"), "Product")
				if !ok {
					return nil, nil
				}
				if i := ec.sh.store.productIndex(id); i >= 0 {
					return &ec.sh.store.products[i].p, nil
				}
				return nil, nil
			}},
	)
	sc.mutation = sc.object("Mutation")
	addBulkTypes(sc)
	addWriteTypes(sc)
	return sc
}

func stringArg(args map[string]any, name string) string {
	s, _ := args[name].(string)
	return s
}

func addMoneyTypes(sc *schema) {
	sc.object("MoneyV2",
		scalar("amount", "Decimal", func(p any) any { return p.(money).amount.String() }),
		scalar("currencyCode", "CurrencyCode", func(p any) any { return p.(money).cur }),
	)
	sc.object("MoneyBag",
		object("shopMoney", "MoneyV2", func(_ *execCtx, p any) any {
			b := p.(moneyBag)
			return money{b.shop, b.shopCur}
		}),
		object("presentmentMoney", "MoneyV2", func(_ *execCtx, p any) any {
			b := p.(moneyBag)
			return money{b.presentment, b.presentmentCur}
		}),
	)
}

func addShopTypes(sc *schema) {
	plan := sc.object("ShopPlan",
		scalar("displayName", "String", func(p any) any { return p.(*shopState).opts.Plan.displayName() }),
		scalar("publicDisplayName", "String", func(p any) any { return p.(*shopState).opts.Plan.displayName() }),
		scalar("partnerDevelopment", "Boolean", func(any) any { return false }),
		scalar("shopifyPlus", "Boolean", func(p any) any {
			pl := p.(*shopState).opts.Plan
			return pl == PlanPlus || pl == PlanEnterprise
		}),
	)
	// A real response shows shop { plan { ... } } costing 1 in all.
	plan.cost = 0
	sc.object("Shop",
		scalar("id", "ID", func(p any) any { sh := p.(*shopState); return sh.gid("Shop", sh.id) }),
		scalar("name", "String", func(p any) any { return p.(*shopState).opts.Name }),
		scalar("email", "String", func(p any) any { return p.(*shopState).opts.Email }),
		scalar("contactEmail", "String", func(p any) any { return p.(*shopState).opts.Email }),
		scalar("myshopifyDomain", "String", func(p any) any { return p.(*shopState).domain }),
		scalar("url", "URL", func(p any) any { return "https://" + p.(*shopState).domain }),
		scalar("currencyCode", "CurrencyCode", func(p any) any { return p.(*shopState).opts.Currency }),
		scalar("ianaTimezone", "String", func(p any) any { return p.(*shopState).opts.Timezone }),
		&fieldDef{name: "timezoneAbbreviation", kind: kindScalar, typ: "String", resolve: func(ec *execCtx, p any, _ map[string]any) (any, error) {
			name, _ := ec.now.In(p.(*shopState).loc).Zone()
			return name, nil
		}},
		&fieldDef{name: "timezoneOffsetMinutes", kind: kindScalar, typ: "Int", resolve: func(ec *execCtx, p any, _ map[string]any) (any, error) {
			_, off := ec.now.In(p.(*shopState).loc).Zone()
			return off / 60, nil
		}},
		object("plan", "ShopPlan", func(_ *execCtx, p any) any { return p }),
	)
	sc.object("AccessScope",
		scalar("handle", "String", func(p any) any { return p.(string) }),
		scalar("description", "String", func(p any) any { return "Access to " + strings.ReplaceAll(p.(string), "_", " ") }),
	)
	sc.object("App",
		&fieldDef{name: "id", kind: kindScalar, typ: "ID", resolve: func(ec *execCtx, _ any, _ map[string]any) (any, error) {
			return "gid://shopify/App/" + strconv.FormatInt(appNumericID(ec.sim.cfg.ClientID), 10), nil
		}},
		scalar("title", "String", func(any) any { return "CVO" }),
		scalar("handle", "String", func(any) any { return "cvo" }),
		&fieldDef{name: "apiKey", kind: kindScalar, typ: "String", resolve: func(ec *execCtx, _ any, _ map[string]any) (any, error) {
			return ec.sim.cfg.ClientID, nil
		}},
	)
	sc.object("AppInstallation",
		scalar("id", "ID", func(p any) any { sh := p.(*shopState); return sh.gid("AppInstallation", sh.id) }),
		&fieldDef{name: "accessScopes", kind: kindList, typ: "AccessScope", resolve: func(ec *execCtx, _ any, _ map[string]any) (any, error) {
			out := make([]any, len(ec.scopes))
			for i, s := range ec.scopes {
				out[i] = s
			}
			return out, nil
		}},
		object("app", "App", func(_ *execCtx, p any) any { return p }),
		&fieldDef{name: "launchUrl", kind: kindScalar, typ: "URL", resolve: func(ec *execCtx, p any, _ map[string]any) (any, error) {
			return "https://admin.shopify.com/store/" + strings.TrimSuffix(p.(*shopState).domain, ".myshopify.com") + "/apps/cvo", nil
		}},
	)
}

// appNumericID derives a stable numeric app id from the client id.
func appNumericID(clientID string) int64 {
	var h int64 = 1469598103
	for _, c := range clientID {
		h = (h*31 + int64(c)) % 1_000_000_000_000
	}
	if h < 0 {
		h = -h
	}
	return h + 1
}

func addCustomerTypes(sc *schema) {
	c := func(p any) *customerRec { return p.(*customerRec) }
	sc.object("MailingAddress",
		scalar("city", "String", func(p any) any { return nullIfEmpty(p.(*Address).City) }),
		scalar("province", "String", func(p any) any { return nullIfEmpty(p.(*Address).Province) }),
		scalar("country", "String", func(p any) any { return nullIfEmpty(p.(*Address).Country) }),
		scalar("countryCodeV2", "CountryCode", func(p any) any { return nullIfEmpty(p.(*Address).CountryCode) }),
		scalar("zip", "String", func(p any) any { return nullIfEmpty(p.(*Address).Zip) }),
	)
	sc.object("CustomerEmailAddress",
		scalar("emailAddress", "String", func(p any) any { return p.(*customerRec).email }),
		&fieldDef{name: "marketingState", kind: kindScalar, typ: "CustomerEmailAddressMarketingState", resolve: func(ec *execCtx, p any, _ map[string]any) (any, error) {
			if s := ec.str(p.(*customerRec).marketing); s != "" {
				return s, nil
			}
			return "NOT_SUBSCRIBED", nil
		}},
	)
	sc.object("CustomerPhoneNumber",
		scalar("phoneNumber", "String", func(p any) any { return p.(*customerRec).phone }),
	)
	sc.object("CustomerStatistics",
		&fieldDef{name: "rfmGroup", kind: kindScalar, typ: "CustomerRfmGroup", resolve: func(ec *execCtx, p any, _ map[string]any) (any, error) {
			r := p.(*customerRec)
			if s := ec.str(r.rfmGroup); s != "" {
				return s, nil
			}
			return nullIfEmpty(ec.sh.store.statsOf(r.id, ec.now).rfmGroup), nil
		}},
		&fieldDef{name: "predictedSpendTier", kind: kindScalar, typ: "CustomerPredictedSpendTier", resolve: func(ec *execCtx, p any, _ map[string]any) (any, error) {
			r := p.(*customerRec)
			if s := ec.str(r.spendTier); s != "" {
				return s, nil
			}
			return nullIfEmpty(ec.sh.store.statsOf(r.id, ec.now).spendTier), nil
		}},
	)
	sc.object("Customer",
		scalar("id", "ID", func(p any) any { return "gid://shopify/Customer/" + strconv.FormatInt(c(p).id, 10) }),
		scalar("legacyResourceId", "UnsignedInt64", func(p any) any { return strconv.FormatInt(c(p).id, 10) }),
		scalar("email", "String", func(p any) any { return nullIfEmpty(c(p).email) }),
		scalar("firstName", "String", func(p any) any { return nullIfEmpty(c(p).firstName) }),
		scalar("lastName", "String", func(p any) any { return nullIfEmpty(c(p).lastName) }),
		scalar("displayName", "String", func(p any) any {
			r := c(p)
			name := strings.TrimSpace(r.firstName + " " + r.lastName)
			if name == "" {
				name = r.email
			}
			return name
		}),
		scalar("phone", "String", func(p any) any { return nullIfEmpty(c(p).phone) }),
		scalar("tags", "[String!]", func(p any) any {
			if t := c(p).tags; t != nil {
				return t
			}
			return []string{}
		}),
		scalar("createdAt", "DateTime", func(p any) any { return isoTime(c(p).created) }),
		scalar("updatedAt", "DateTime", func(p any) any { return isoTime(c(p).updated) }),
		scalar("state", "CustomerState", func(any) any { return "DISABLED" }),
		scalar("verifiedEmail", "Boolean", func(p any) any { return c(p).email != "" }),
		scalar("numberOfOrders", "UnsignedInt64", func(p any) any { return strconv.FormatInt(int64(c(p).orders), 10) }),
		&fieldDef{name: "amountSpent", kind: kindObject, typ: "MoneyV2", resolve: func(ec *execCtx, p any, _ map[string]any) (any, error) {
			return money{c(p).spent, ec.sh.opts.Currency}, nil
		}},
		object("defaultAddress", "MailingAddress", func(_ *execCtx, p any) any {
			if a := c(p).addr; a != nil {
				return a
			}
			return nil
		}),
		object("defaultEmailAddress", "CustomerEmailAddress", func(_ *execCtx, p any) any {
			if c(p).email == "" {
				return nil
			}
			return p
		}),
		object("defaultPhoneNumber", "CustomerPhoneNumber", func(_ *execCtx, p any) any {
			if c(p).phone == "" {
				return nil
			}
			return p
		}),
		object("statistics", "CustomerStatistics", func(_ *execCtx, p any) any { return p }),
		&fieldDef{name: "orders", kind: kindConnection, typ: "Order", args: connectionArgs("OrderSortKeys"),
			scope: "read_orders", resolve: func(ec *execCtx, p any, args map[string]any) (any, error) {
				return ec.ordersPage(args, c(p).id)
			}},
	)
	sc.connectionTypes("Customer")
}

func (ec *execCtx) customerSource(args map[string]any) listSource {
	st := &ec.sh.store
	cs := st.customers
	src := listSource{
		name: "customers", n: len(cs), version: st.customersVersion, cache: &st.sorts,
		id:   func(i int) int64 { return cs[i].id },
		live: func(i int) bool { return !cs[i].deleted },
	}
	switch stringArg(args, "sortKey") {
	case "CREATED_AT":
		src.key, src.keyName, src.keyTime = func(i int) int64 { return cs[i].created }, "created_at", true
	case "UPDATED_AT":
		src.key, src.keyName, src.keyTime = func(i int) int64 { return cs[i].updated }, "updated_at", true
	}
	if q := stringArg(args, "query"); q != "" {
		src.match = compileSearch(q, searchFields{
			loc:      ec.sh.loc,
			freeText: []string{"email", "first_name", "last_name"},
			fields: map[string]searchField{
				"id":           {kind: searchNum, num: func(i int) int64 { return cs[i].id }},
				"email":        {kind: searchText, text: func(i int) string { return cs[i].email }},
				"first_name":   {kind: searchText, text: func(i int) string { return cs[i].firstName }},
				"last_name":    {kind: searchText, text: func(i int) string { return cs[i].lastName }},
				"phone":        {kind: searchText, text: func(i int) string { return cs[i].phone }},
				"tag":          {kind: searchList, list: func(i int) []string { return cs[i].tags }},
				"created_at":   {kind: searchTime, num: func(i int) int64 { return cs[i].created }},
				"updated_at":   {kind: searchTime, num: func(i int) int64 { return cs[i].updated }},
				"orders_count": {kind: searchNum, num: func(i int) int64 { return int64(cs[i].orders) }},
				"total_spent":  {kind: searchAmount, amount: func(i int) Amount { return cs[i].spent }},
				"country": {kind: searchText, text: func(i int) string {
					if cs[i].addr == nil {
						return ""
					}
					return cs[i].addr.Country
				}},
			},
		})
	}
	return src
}

func resolveCustomers(ec *execCtx, _ any, args map[string]any) (any, error) {
	src := ec.customerSource(args)
	if ec.bulk != nil {
		return ec.bulk.stream(src, func(i int) any { return &ec.sh.store.customers[i] }), nil
	}
	pg, idx, err := paginate(src, args)
	if err != nil {
		return nil, err
	}
	pg.items = make([]any, len(idx))
	for j, i := range idx {
		pg.items[j] = &ec.sh.store.customers[i]
	}
	return pg, nil
}

func addOrderTypes(sc *schema) {
	o := func(p any) *orderRec { return p.(*orderRec) }
	sc.object("UTMParameters",
		&fieldDef{name: "source", kind: kindScalar, typ: "String", resolve: func(ec *execCtx, p any, _ map[string]any) (any, error) {
			return nullIfEmpty(ec.str(p.(*visitRec).utmSource)), nil
		}},
		&fieldDef{name: "medium", kind: kindScalar, typ: "String", resolve: func(ec *execCtx, p any, _ map[string]any) (any, error) {
			return nullIfEmpty(ec.str(p.(*visitRec).utmMedium)), nil
		}},
		&fieldDef{name: "campaign", kind: kindScalar, typ: "String", resolve: func(ec *execCtx, p any, _ map[string]any) (any, error) {
			return nullIfEmpty(ec.str(p.(*visitRec).utmCampaign)), nil
		}},
		&fieldDef{name: "content", kind: kindScalar, typ: "String", resolve: func(ec *execCtx, p any, _ map[string]any) (any, error) {
			return nullIfEmpty(ec.str(p.(*visitRec).utmContent)), nil
		}},
		&fieldDef{name: "term", kind: kindScalar, typ: "String", resolve: func(ec *execCtx, p any, _ map[string]any) (any, error) {
			return nullIfEmpty(ec.str(p.(*visitRec).utmTerm)), nil
		}},
	)
	visitText := func(name string, get func(v *visitRec) uint32) *fieldDef {
		return &fieldDef{name: name, kind: kindScalar, typ: "String", resolve: func(ec *execCtx, p any, _ map[string]any) (any, error) {
			return nullIfEmpty(ec.str(get(p.(*visitRec)))), nil
		}}
	}
	sc.object("CustomerVisit",
		scalar("occurredAt", "DateTime", func(p any) any { return isoTime(p.(*visitRec).at) }),
		visitText("landingPage", func(v *visitRec) uint32 { return v.landing }),
		visitText("referrerUrl", func(v *visitRec) uint32 { return v.referrer }),
		visitText("source", func(v *visitRec) uint32 { return v.source }),
		object("utmParameters", "UTMParameters", func(ec *execCtx, p any) any {
			v := p.(*visitRec)
			if v.utmSource == 0 && v.utmMedium == 0 && v.utmCampaign == 0 && v.utmContent == 0 && v.utmTerm == 0 {
				return nil
			}
			return v
		}),
	)
	sc.object("CustomerJourneySummary",
		scalar("customerOrderIndex", "Int", func(p any) any { return int(p.(journeyOf).j.orderIndex) }),
		scalar("daysToConversion", "Int", func(p any) any { return int(p.(journeyOf).j.daysToConversion) }),
		scalar("ready", "Boolean", func(any) any { return true }),
		object("firstVisit", "CustomerVisit", func(_ *execCtx, p any) any {
			if v := p.(journeyOf).j.first; v != nil {
				return v
			}
			return nil
		}),
		object("lastVisit", "CustomerVisit", func(_ *execCtx, p any) any {
			if v := p.(journeyOf).j.last; v != nil {
				return v
			}
			return nil
		}),
	)
	sc.object("LineItem",
		scalar("id", "ID", func(p any) any { return "gid://shopify/LineItem/" + strconv.FormatInt(p.(lineRef).l.id, 10) }),
		&fieldDef{name: "title", kind: kindScalar, typ: "String", resolve: func(ec *execCtx, p any, _ map[string]any) (any, error) {
			return ec.str(p.(lineRef).l.title), nil
		}},
		&fieldDef{name: "name", kind: kindScalar, typ: "String", resolve: func(ec *execCtx, p any, _ map[string]any) (any, error) {
			return ec.str(p.(lineRef).l.title), nil
		}},
		&fieldDef{name: "sku", kind: kindScalar, typ: "String", resolve: func(ec *execCtx, p any, _ map[string]any) (any, error) {
			return nullIfEmpty(ec.str(p.(lineRef).l.sku)), nil
		}},
		scalar("quantity", "Int", func(p any) any { return int(p.(lineRef).l.qty) }),
		scalar("currentQuantity", "Int", func(p any) any { return int(p.(lineRef).l.qty) }),
		&fieldDef{name: "originalUnitPriceSet", kind: kindObject, typ: "MoneyBag", resolve: func(ec *execCtx, p any, _ map[string]any) (any, error) {
			lr := p.(lineRef)
			return ec.orderMoney(lr.o, lr.l.price), nil
		}},
		&fieldDef{name: "originalTotalSet", kind: kindObject, typ: "MoneyBag", resolve: func(ec *execCtx, p any, _ map[string]any) (any, error) {
			lr := p.(lineRef)
			return ec.orderMoney(lr.o, lr.l.price*Amount(lr.l.qty)), nil
		}},
		&fieldDef{name: "product", kind: kindObject, typ: "Product", resolve: func(ec *execCtx, p any, _ map[string]any) (any, error) {
			if i := ec.sh.store.productIndex(p.(lineRef).l.product); i >= 0 {
				return &ec.sh.store.products[i].p, nil
			}
			return nil, nil
		}},
		&fieldDef{name: "variant", kind: kindObject, typ: "ProductVariant", resolve: func(ec *execCtx, p any, _ map[string]any) (any, error) {
			if pr, v := ec.sh.store.variantByID(p.(lineRef).l.variant); v != nil {
				return variantOf{pr, v}, nil
			}
			return nil, nil
		}},
	)
	sc.object("Refund",
		scalar("id", "ID", func(p any) any { return "gid://shopify/Refund/" + strconv.FormatInt(p.(refundRef).r.id, 10) }),
		scalar("legacyResourceId", "UnsignedInt64", func(p any) any { return strconv.FormatInt(p.(refundRef).r.id, 10) }),
		scalar("createdAt", "DateTime", func(p any) any { return isoTime(p.(refundRef).r.at) }),
		&fieldDef{name: "note", kind: kindScalar, typ: "String", resolve: func(ec *execCtx, p any, _ map[string]any) (any, error) {
			return nullIfEmpty(ec.str(p.(refundRef).r.note)), nil
		}},
		&fieldDef{name: "totalRefundedSet", kind: kindObject, typ: "MoneyBag", resolve: func(ec *execCtx, p any, _ map[string]any) (any, error) {
			rr := p.(refundRef)
			return ec.orderMoney(rr.o, rr.r.amount), nil
		}},
	)
	moneyField := func(name string, get func(*orderRec) Amount) *fieldDef {
		return &fieldDef{name: name, kind: kindObject, typ: "MoneyBag", resolve: func(ec *execCtx, p any, _ map[string]any) (any, error) {
			return ec.orderMoney(o(p), get(o(p))), nil
		}}
	}
	current := func(r *orderRec) Amount {
		if v := r.total - r.refunded(); v > 0 {
			return v
		}
		return 0
	}
	sc.object("Order",
		scalar("id", "ID", func(p any) any { return "gid://shopify/Order/" + strconv.FormatInt(o(p).id, 10) }),
		scalar("legacyResourceId", "UnsignedInt64", func(p any) any { return strconv.FormatInt(o(p).id, 10) }),
		scalar("name", "String", func(p any) any { return "#" + strconv.FormatInt(o(p).number, 10) }),
		&fieldDef{name: "email", kind: kindScalar, typ: "String", resolve: func(ec *execCtx, p any, _ map[string]any) (any, error) {
			return nullIfEmpty(ec.str(o(p).email)), nil
		}},
		scalar("createdAt", "DateTime", func(p any) any { return isoTime(o(p).created) }),
		scalar("updatedAt", "DateTime", func(p any) any { return isoTime(o(p).updated) }),
		scalar("processedAt", "DateTime", func(p any) any { return isoTime(o(p).processed) }),
		scalar("cancelledAt", "DateTime", func(p any) any { return isoTime(o(p).cancelled) }),
		&fieldDef{name: "cancelReason", kind: kindScalar, typ: "OrderCancelReason", resolve: func(ec *execCtx, p any, _ map[string]any) (any, error) {
			if o(p).cancelled == 0 {
				return nil, nil
			}
			if r := ec.str(o(p).cancelWhy); r != "" {
				return r, nil
			}
			return "OTHER", nil
		}},
		scalar("closed", "Boolean", func(p any) any { return o(p).cancelled != 0 }),
		scalar("test", "Boolean", func(p any) any { return o(p).test }),
		&fieldDef{name: "sourceName", kind: kindScalar, typ: "String", resolve: func(ec *execCtx, p any, _ map[string]any) (any, error) {
			return nullIfEmpty(ec.str(o(p).source)), nil
		}},
		&fieldDef{name: "currencyCode", kind: kindScalar, typ: "CurrencyCode", resolve: func(ec *execCtx, _ any, _ map[string]any) (any, error) {
			return ec.sh.opts.Currency, nil
		}},
		&fieldDef{name: "presentmentCurrencyCode", kind: kindScalar, typ: "CurrencyCode", resolve: func(ec *execCtx, p any, _ map[string]any) (any, error) {
			if c := ec.str(o(p).presentment); c != "" {
				return c, nil
			}
			return ec.sh.opts.Currency, nil
		}},
		&fieldDef{name: "discountCodes", kind: kindScalar, typ: "[String!]", resolve: func(ec *execCtx, p any, _ map[string]any) (any, error) {
			r := o(p)
			out := make([]string, len(r.discounts))
			for i, d := range r.discounts {
				out[i] = ec.str(d)
			}
			return out, nil
		}},
		&fieldDef{name: "displayFinancialStatus", kind: kindScalar, typ: "OrderDisplayFinancialStatus", resolve: func(_ *execCtx, p any, _ map[string]any) (any, error) {
			r := o(p)
			switch refunded := r.refunded(); {
			case refunded == 0:
				return "PAID", nil
			case refunded >= r.total:
				return "REFUNDED", nil
			default:
				return "PARTIALLY_REFUNDED", nil
			}
		}},
		moneyField("totalPriceSet", func(r *orderRec) Amount { return r.total }),
		moneyField("subtotalPriceSet", func(r *orderRec) Amount { return r.subtotal }),
		moneyField("currentTotalPriceSet", current),
		moneyField("currentSubtotalPriceSet", func(r *orderRec) Amount {
			if v := r.subtotal - r.refunded(); v > 0 {
				return v
			}
			return 0
		}),
		moneyField("totalRefundedSet", func(r *orderRec) Amount { return r.refunded() }),
		&fieldDef{name: "customer", kind: kindObject, typ: "Customer", scope: "read_customers", resolve: func(ec *execCtx, p any, _ map[string]any) (any, error) {
			if i := ec.sh.store.customerIndex(o(p).customer); i >= 0 {
				return &ec.sh.store.customers[i], nil
			}
			return nil, nil
		}},
		object("customerJourneySummary", "CustomerJourneySummary", func(_ *execCtx, p any) any {
			if j := o(p).journey; j != nil {
				return journeyOf{j}
			}
			return nil
		}),
		&fieldDef{name: "lineItems", kind: kindConnection, typ: "LineItem", args: connectionArgs(""),
			resolve: func(ec *execCtx, p any, args map[string]any) (any, error) {
				r := o(p)
				src := listSource{
					name: "lineItems", n: len(r.lines),
					id:   func(i int) int64 { return r.lines[i].id },
					live: func(int) bool { return true },
				}
				item := func(i int) any { return lineRef{r, &r.lines[i]} }
				if ec.bulk != nil {
					return ec.bulk.stream(src, item), nil
				}
				return pageOf(src, args, item)
			}},
		&fieldDef{name: "refunds", kind: kindList, typ: "Refund", args: []argDef{{"first", "Int"}},
			resolve: func(_ *execCtx, p any, args map[string]any) (any, error) {
				r := o(p)
				n := len(r.refunds)
				if f, ok := args["first"].(int); ok && f < n {
					n = max(f, 0)
				}
				out := make([]any, n)
				for i := range n {
					out[i] = refundRef{r, &r.refunds[i]}
				}
				return out, nil
			}},
	)
	sc.connectionTypes("Order")
	sc.connectionTypes("LineItem")
}

// pageOf pages a small in-record list such as an order's line items.
func pageOf(src listSource, args map[string]any, item func(i int) any) (any, error) {
	pg, idx, err := paginate(src, args)
	if err != nil {
		return nil, err
	}
	pg.items = make([]any, len(idx))
	for j, i := range idx {
		pg.items[j] = item(i)
	}
	return pg, nil
}

// ordersPage pages the shop's orders, or one customer's when customerID is
// set.
func (ec *execCtx) ordersPage(args map[string]any, customerID int64) (any, error) {
	src := ec.orderSource(args, customerID)
	if ec.bulk != nil {
		return ec.bulk.stream(src, func(i int) any { return &ec.sh.store.orders[i] }), nil
	}
	pg, idx, err := paginate(src, args)
	if err != nil {
		return nil, err
	}
	pg.items = make([]any, len(idx))
	for j, i := range idx {
		pg.items[j] = &ec.sh.store.orders[i]
	}
	return pg, nil
}

func (ec *execCtx) orderSource(args map[string]any, customerID int64) listSource {
	st := &ec.sh.store
	os := st.orders
	src := listSource{
		name: "orders", n: len(os), version: st.ordersVersion, cache: &st.sorts,
		id:   func(i int) int64 { return os[i].id },
		live: func(i int) bool { return ec.orderVisible(&os[i]) },
	}
	switch stringArg(args, "sortKey") {
	case "CREATED_AT":
		src.key, src.keyName, src.keyTime = func(i int) int64 { return os[i].created }, "created_at", true
	case "UPDATED_AT":
		src.key, src.keyName, src.keyTime = func(i int) int64 { return os[i].updated }, "updated_at", true
	case "PROCESSED_AT":
		src.key, src.keyName, src.keyTime = func(i int) int64 { return os[i].processed }, "processed_at", true
	case "ORDER_NUMBER":
		src.key, src.keyName = func(i int) int64 { return os[i].number }, "order_number"
	case "TOTAL_PRICE":
		src.key, src.keyName = func(i int) int64 { return int64(os[i].total) }, "total_price"
	}
	var preds []predicate
	if customerID != 0 {
		preds = append(preds, func(i int) bool { return os[i].customer == customerID })
	}
	if q := stringArg(args, "query"); q != "" {
		preds = append(preds, compileSearch(q, searchFields{
			loc:      ec.sh.loc,
			freeText: []string{"name", "email"},
			fields: map[string]searchField{
				"id":           {kind: searchNum, num: func(i int) int64 { return os[i].id }},
				"name":         {kind: searchText, text: func(i int) string { return "#" + strconv.FormatInt(os[i].number, 10) }},
				"email":        {kind: searchText, text: func(i int) string { return ec.str(os[i].email) }},
				"customer_id":  {kind: searchNum, num: func(i int) int64 { return os[i].customer }},
				"created_at":   {kind: searchTime, num: func(i int) int64 { return os[i].created }},
				"updated_at":   {kind: searchTime, num: func(i int) int64 { return os[i].updated }},
				"processed_at": {kind: searchTime, num: func(i int) int64 { return os[i].processed }},
				"test":         {kind: searchBool, flag: func(i int) bool { return os[i].test }},
				"source_name":  {kind: searchText, text: func(i int) string { return ec.str(os[i].source) }},
				"discount_code": {kind: searchList, list: func(i int) []string {
					out := make([]string, len(os[i].discounts))
					for j, d := range os[i].discounts {
						out[j] = ec.str(d)
					}
					return out
				}},
				"status": {kind: searchText, text: func(i int) string {
					if os[i].cancelled != 0 {
						return "cancelled"
					}
					return "open"
				}},
				"financial_status": {kind: searchText, text: func(i int) string {
					switch ref := os[i].refunded(); {
					case ref == 0:
						return "paid"
					case ref >= os[i].total:
						return "refunded"
					default:
						return "partially_refunded"
					}
				}},
			},
		}))
	}
	switch len(preds) {
	case 1:
		src.match = preds[0]
	case 2:
		a, b := preds[0], preds[1]
		src.match = func(i int) bool { return a(i) && b(i) }
	}
	return src
}

func addProductTypes(sc *schema) {
	pr := func(p any) *Product { return p.(*Product) }
	sc.object("InventoryItem",
		scalar("id", "ID", func(p any) any {
			return "gid://shopify/InventoryItem/" + strconv.FormatInt(p.(variantOf).v.InventoryItemID, 10)
		}),
		scalar("sku", "String", func(p any) any { return nullIfEmpty(p.(variantOf).v.SKU) }),
		scalar("tracked", "Boolean", func(any) any { return true }),
		&fieldDef{name: "unitCost", kind: kindObject, typ: "MoneyV2", scope: "read_inventory", resolve: func(ec *execCtx, p any, _ map[string]any) (any, error) {
			v := p.(variantOf).v
			if v.UnitCost == nil {
				return nil, nil
			}
			return money{*v.UnitCost, ec.sh.opts.Currency}, nil
		}},
	)
	sc.object("ProductVariant",
		scalar("id", "ID", func(p any) any { return "gid://shopify/ProductVariant/" + strconv.FormatInt(p.(variantOf).v.ID, 10) }),
		scalar("legacyResourceId", "UnsignedInt64", func(p any) any { return strconv.FormatInt(p.(variantOf).v.ID, 10) }),
		scalar("title", "String", func(p any) any { return p.(variantOf).v.Title }),
		scalar("displayName", "String", func(p any) any { vo := p.(variantOf); return vo.p.Title + " - " + vo.v.Title }),
		scalar("sku", "String", func(p any) any { return nullIfEmpty(p.(variantOf).v.SKU) }),
		scalar("price", "Money", func(p any) any { return moneyString(p.(variantOf).v.Price) }),
		object("product", "Product", func(_ *execCtx, p any) any { return p.(variantOf).p }),
		object("inventoryItem", "InventoryItem", func(_ *execCtx, p any) any { return p }),
	)
	sc.object("Product",
		scalar("id", "ID", func(p any) any { return "gid://shopify/Product/" + strconv.FormatInt(pr(p).ID, 10) }),
		scalar("legacyResourceId", "UnsignedInt64", func(p any) any { return strconv.FormatInt(pr(p).ID, 10) }),
		scalar("title", "String", func(p any) any { return pr(p).Title }),
		scalar("handle", "String", func(p any) any { return pr(p).Handle }),
		scalar("productType", "String", func(p any) any { return pr(p).ProductType }),
		scalar("vendor", "String", func(p any) any { return pr(p).Vendor }),
		scalar("status", "ProductStatus", func(p any) any { return pr(p).Status }),
		scalar("tags", "[String!]", func(p any) any {
			if t := pr(p).Tags; t != nil {
				return t
			}
			return []string{}
		}),
		scalar("createdAt", "DateTime", func(p any) any { return pr(p).CreatedAt.UTC().Format(time.RFC3339) }),
		scalar("updatedAt", "DateTime", func(p any) any { return pr(p).UpdatedAt.UTC().Format(time.RFC3339) }),
		&fieldDef{name: "variants", kind: kindConnection, typ: "ProductVariant", args: connectionArgs("ProductVariantSortKeys"),
			resolve: func(ec *execCtx, p any, args map[string]any) (any, error) {
				prod := pr(p)
				src := listSource{
					name: "variants", n: len(prod.Variants),
					id:   func(i int) int64 { return prod.Variants[i].ID },
					live: func(int) bool { return true },
				}
				item := func(i int) any { return variantOf{prod, &prod.Variants[i]} }
				if ec.bulk != nil {
					return ec.bulk.stream(src, item), nil
				}
				return pageOf(src, args, item)
			}},
	)
	sc.connectionTypes("Product")
	sc.connectionTypes("ProductVariant")
}

func (ec *execCtx) productSource(args map[string]any) listSource {
	st := &ec.sh.store
	ps := st.products
	src := listSource{
		name: "products", n: len(ps), version: st.productsVersion, cache: &st.sorts,
		id:   func(i int) int64 { return ps[i].p.ID },
		live: func(i int) bool { return !ps[i].deleted },
	}
	switch stringArg(args, "sortKey") {
	case "CREATED_AT":
		src.key, src.keyName, src.keyTime = func(i int) int64 { return ps[i].p.CreatedAt.Unix() }, "created_at", true
	case "UPDATED_AT":
		src.key, src.keyName, src.keyTime = func(i int) int64 { return ps[i].p.UpdatedAt.Unix() }, "updated_at", true
	}
	if q := stringArg(args, "query"); q != "" {
		src.match = compileSearch(q, searchFields{
			loc:      ec.sh.loc,
			freeText: []string{"title"},
			fields: map[string]searchField{
				"id":           {kind: searchNum, num: func(i int) int64 { return ps[i].p.ID }},
				"title":        {kind: searchText, text: func(i int) string { return ps[i].p.Title }},
				"product_type": {kind: searchText, text: func(i int) string { return ps[i].p.ProductType }},
				"vendor":       {kind: searchText, text: func(i int) string { return ps[i].p.Vendor }},
				"status":       {kind: searchText, text: func(i int) string { return ps[i].p.Status }},
				"tag":          {kind: searchList, list: func(i int) []string { return ps[i].p.Tags }},
				"created_at":   {kind: searchTime, num: func(i int) int64 { return ps[i].p.CreatedAt.Unix() }},
				"updated_at":   {kind: searchTime, num: func(i int) int64 { return ps[i].p.UpdatedAt.Unix() }},
			},
		})
	}
	return src
}

func resolveProducts(ec *execCtx, _ any, args map[string]any) (any, error) {
	src := ec.productSource(args)
	if ec.bulk != nil {
		return ec.bulk.stream(src, func(i int) any { return &ec.sh.store.products[i].p }), nil
	}
	pg, idx, err := paginate(src, args)
	if err != nil {
		return nil, err
	}
	pg.items = make([]any, len(idx))
	for j, i := range idx {
		pg.items[j] = &ec.sh.store.products[i].p
	}
	return pg, nil
}
