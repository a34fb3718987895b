package activation

import (
	"math"
	"strconv"
	"strings"

	"github.com/cvo-app/cvo/internal/survey"
)

// Namespace is the app-reserved metafield namespace the scores live in.
// Shopify turns "$app:cvo" into "app--{app id}--cvo": only this app can
// write it, merchants can read it and filter customers by it.
const Namespace = "$app:cvo"

// definitionsVersion changes whenever metafieldSpecs do, so EnsureSetup
// creates the new definitions in shops set up before.
const definitionsVersion = 1

// metafieldSpec is one customer metafield the app writes.
type metafieldSpec struct {
	Key, Name, Type, Description string
}

// Keys are 2–64 characters, as Shopify requires.
var metafieldSpecs = []metafieldSpec{
	{"group", "CVO group", "single_line_text_field", "The customer's RFM group (slug), e.g. soulmates or about-to-dump-you."},
	{"r_score", "CVO recency score", "number_integer", "Recency score, 1 (long ago) to 5 (recent)."},
	{"f_score", "CVO frequency score", "number_integer", "Frequency score, 1 (rarely) to 5 (often)."},
	{"m_score", "CVO monetary score", "number_integer", "Monetary score, 1 (low spend) to 5 (high spend)."},
	{"historical_clv", "CVO historical CLV", "number_decimal", "Gross margin earned from the customer so far, minus acquisition cost, in the shop's currency."},
	{"predicted_clv", "CVO predicted CLV", "number_decimal", "Predicted future gross margin from the customer, in the shop's currency."},
	{"p_order_window", "CVO chance to order soon", "number_decimal", "Chance (0 to 1) of at least one order within the shop's prediction window (90 days unless changed), calibrated on the shop's own history."},
	{"churn_risk", "CVO churn risk", "single_line_text_field", "low, medium or high, from the chance to order soon and the shop's thresholds."},
	{"p_alive", "CVO probability active", "number_decimal", "Probability (0 to 1) that the customer is still an active buyer."},
	{"next_order_date", "CVO expected next order", "date", "The date the customer's next order is expected."},
}

// SharedNamespace is the merchant-owned namespace survey links are also
// written to when the shop shares them with email apps
// (cvo.Settings.ShareSurveyLinks): every app can read it, unlike Namespace.
// Write-back rows record such a metafield as "cvo_survey.{survey key}";
// keys in Namespace have no dot.
const SharedNamespace = "cvo_survey"

const sharedPrefix = SharedNamespace + "."

// sharedKey is the recorded key of the shared copy of a link metafield.
func sharedKey(linkKey string) string {
	return sharedPrefix + strings.TrimPrefix(linkKey, survey.MetafieldKeyPrefix)
}

// splitKey is a recorded key's namespace and key.
func splitKey(k string) (namespace, key string) {
	if ns, key, ok := strings.Cut(k, "."); ok {
		return ns, key
	}
	return Namespace, k
}

// isLinkKey says whether a recorded key is a survey link, app-owned or
// shared.
func isLinkKey(k string) bool {
	return strings.HasPrefix(k, survey.MetafieldKeyPrefix) || strings.HasPrefix(k, sharedPrefix)
}

func metafieldType(key string) string {
	for _, s := range metafieldSpecs {
		if s.Key == key {
			return s.Type
		}
	}
	if isLinkKey(key) {
		return "url"
	}
	return ""
}

// DesiredMetafields are the metafield values the app wants on a customer,
// formatted as Shopify stores them. Money is rounded to cents and P(alive)
// to four places, so noise below that never causes a write. Values that
// cannot be written (NaN, no next order) are left out, and the value
// written before stays.
func DesiredMetafields(sc Score) map[string]string {
	out := make(map[string]string, len(metafieldSpecs))
	if g := sc.group; g.Valid() {
		out["group"] = g.Slug()
		out["r_score"] = strconv.Itoa(int(sc.r))
		out["f_score"] = strconv.Itoa(int(sc.f))
		out["m_score"] = strconv.Itoa(int(sc.m))
	}
	decimal := func(key string, v float64, places int) {
		if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) >= 1e12 {
			return
		}
		p := math.Pow(10, float64(places))
		v = math.Round(v*p) / p
		if v == 0 {
			v = 0 // no "-0.00"
		}
		out[key] = strconv.FormatFloat(v, 'f', places, 64)
	}
	decimal("historical_clv", sc.HistoricalCLV, 2)
	decimal("predicted_clv", sc.PredictedCLV, 2)
	// Scorings from before the window prediction have no churn risk and
	// no chance to write.
	if sc.churn != churnNone {
		decimal("p_order_window", sc.POrderWindow, 4)
		out["churn_risk"] = sc.ChurnRisk()
	}
	decimal("p_alive", sc.PAlive, 4)
	if d := sc.NextOrderDate(); d != "" {
		out["next_order_date"] = d
	}
	return out
}

// changedMetafields returns the desired values that differ from those
// written; nil when none do.
func changedMetafields(desired, written map[string]string) map[string]string {
	var out map[string]string
	for k, v := range desired {
		if written[k] != v {
			if out == nil {
				out = make(map[string]string)
			}
			out[k] = v
		}
	}
	return out
}
