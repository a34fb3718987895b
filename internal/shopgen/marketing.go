package shopgen

import (
	"time"

	"github.com/cvo-app/cvo/internal/simulator"
)

// channel is a marketing channel a storefront visit comes from. The UTM
// parameters and campaigns are synthetic: neither dataset records how
// customers arrived, and the cohort-by-source reports need something to
// group by.
type channel struct {
	source      string // customerJourneySummary visit source
	utmSource   string
	utmMedium   string
	utmCampaign string
	referrer    string
	landing     string
	weight      int // share among new customers, in percent
	// dropoutScale multiplies the generator's BG/NBD dropout probability:
	// below 1 the channel brings customers who stay longer.
	dropoutScale float64
}

var (
	chDirect     = channel{source: "direct", landing: "/", weight: 30, dropoutScale: 0.9}
	chSearchPaid = channel{source: "google", utmSource: "google", utmMedium: "cpc", utmCampaign: "brand-search",
		referrer: "https://www.google.com/", landing: "/collections/all", weight: 22, dropoutScale: 1.0}
	chSearchFree = channel{source: "google", referrer: "https://www.google.com/", landing: "/", weight: 15, dropoutScale: 0.85}
	chEmail      = channel{source: "email", utmSource: "newsletter", utmMedium: "email", utmCampaign: "weekly-newsletter",
		landing: "/collections/new", weight: 10, dropoutScale: 0.55}
	chSocialPaid = channel{source: "facebook", utmSource: "facebook", utmMedium: "paid_social", utmCampaign: "seasonal-gifts",
		referrer: "https://l.facebook.com/", landing: "/collections/gifts", weight: 13, dropoutScale: 1.5}
	chVideo = channel{source: "tiktok", utmSource: "tiktok", utmMedium: "paid_social", utmCampaign: "viral-video",
		referrer: "https://www.tiktok.com/", landing: "/collections/trending", weight: 5, dropoutScale: 2.0}
	chAffiliate = channel{source: "affiliate", utmSource: "giftguide", utmMedium: "affiliate", utmCampaign: "gift-guide",
		referrer: "https://giftguide.example.com/", landing: "/collections/bestsellers", weight: 5, dropoutScale: 1.1}
)

// acquisitionChannels are where new customers come from, weights summing
// to 100.
var acquisitionChannels = []channel{chDirect, chSearchPaid, chSearchFree, chEmail, chSocialPaid, chVideo, chAffiliate}

// pickChannel maps u in [0, 1) to an acquisition channel by weight.
func pickChannel(u float64) channel {
	x := int(u * 100)
	for _, c := range acquisitionChannels {
		if x < c.weight {
			return c
		}
		x -= c.weight
	}
	return acquisitionChannels[0]
}

// repeatChannel picks where a returning customer's visit came from: mostly
// direct or the newsletter, sometimes the channel that brought them.
func repeatChannel(u float64, acquired channel) channel {
	switch {
	case u < 0.5:
		return chDirect
	case u < 0.8:
		return chEmail
	default:
		return acquired
	}
}

// journey builds a customerJourneySummary with one channel for both
// visits: the first daysToConversion days before the order, the last a few
// minutes before it.
func journey(c channel, orderIndex, daysToConversion int, at time.Time, minutesBefore int) *simulator.Journey {
	visit := func(when time.Time) *simulator.Visit {
		return &simulator.Visit{
			OccurredAt: when, LandingPage: c.landing, ReferrerURL: c.referrer, Source: c.source,
			UTMSource: c.utmSource, UTMMedium: c.utmMedium, UTMCampaign: c.utmCampaign,
		}
	}
	last := at.Add(-time.Duration(minutesBefore) * time.Minute)
	first := last.Add(-time.Duration(daysToConversion) * 24 * time.Hour)
	return &simulator.Journey{
		CustomerOrderIndex: orderIndex, DaysToConversion: daysToConversion,
		FirstVisit: visit(first), LastVisit: visit(last),
	}
}
