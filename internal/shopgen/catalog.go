package shopgen

import (
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/cvo-app/cvo/internal/simulator"
)

// productKind is a product type of the generated catalogue with the nouns
// its titles use and its typical price.
type productKind struct {
	productType string
	nouns       []string
	basePrice   float64
}

var catalogKinds = []productKind{
	{"Candles", []string{"Candle", "Tealight Set", "Pillar Candle", "Reed Diffuser"}, 18},
	{"Mugs & Tableware", []string{"Mug", "Bowl", "Plate Set", "Teapot", "Tumbler"}, 16},
	{"Bags", []string{"Tote Bag", "Backpack", "Wash Bag", "Weekender"}, 35},
	{"Stationery", []string{"Notebook", "Pen Set", "Planner", "Greeting Card", "Sticker Pack"}, 9},
	{"Home Decor", []string{"Cushion", "Throw", "Vase", "Mirror", "Wall Print", "Photo Frame"}, 32},
	{"Lighting", []string{"Table Lamp", "String Lights", "Lantern", "Night Light"}, 38},
	{"Kitchen", []string{"Apron", "Tea Towel", "Cake Tin", "Cutting Board", "Storage Jar"}, 17},
	{"Toys & Games", []string{"Puzzle", "Plush Toy", "Card Game", "Building Set"}, 22},
	{"Jewellery", []string{"Necklace", "Earrings", "Bracelet", "Ring"}, 28},
	{"Garden", []string{"Planter", "Bird Feeder", "Watering Can", "Seed Kit"}, 21},
	{"Personal Care", []string{"Hand Cream", "Soap Bar", "Bath Salts", "Lip Balm"}, 12},
	{"Seasonal", []string{"Ornament", "Advent Calendar", "Wreath", "Stocking"}, 19},
}

var catalogAdjectives = []string{
	"Vintage", "Rustic", "Classic", "Modern", "Botanical", "Nordic", "Coastal", "Retro", "Artisan",
	"Midnight", "Sunrise", "Meadow", "Heritage", "Velvet", "Linen", "Marble", "Copper", "Ceramic",
}

var catalogColours = []string{
	"Red", "Blue", "Sage", "Ivory", "Charcoal", "Mustard", "Blush", "Teal", "Natural", "Black", "White", "Gold",
}

// catalogVendors are invented brands; the first ones carry most products.
var catalogVendors = []string{
	"Northwind Studio", "Hearth & Home", "Maple Lane", "Blue Heron Goods", "Oak & Ember", "Paper Moon",
	"Little Fox Toys", "Golden Hour Co", "Wild Meadow", "Stonebridge", "Silver Birch", "Harbour House",
	"Saltwater Supply", "Copper Kettle", "Fable & Thread", "Juniper Works", "Lark Design", "Pebble Bay",
	"Amber Field", "Cobalt Crafts",
}

// catalog is the generated product range with its popularity.
type catalog struct {
	products []simulator.Product
	// byRank lists product indices from most to least popular, cdf the
	// cumulative Zipf weights over those ranks.
	byRank []int
	cdf    []float64
	// effect is +1 for rockstar products, -1 for toxic ones, per index.
	effect    []int8
	rockstars []int64
	toxic     []int64
}

// Popularity ranks of the products whose first-time buyers come back more
// (rockstars) or less (toxic). Popular enough that a report finds them in
// a shop of a few thousand customers.
var (
	rockstarRanks = []int{2, 6, 11, 17, 25}
	toxicRanks    = []int{4, 9, 14, 21, 33}
)

const zipfExponent = 1.07

func newCatalog(seed int64, n int, start time.Time) *catalog {
	s := newStream()
	s.reset(seed, tagCatalog, 0)
	c := &catalog{products: make([]simulator.Product, n), effect: make([]int8, n)}
	vendorCDF := make([]float64, len(catalogVendors))
	for i := range vendorCDF {
		vendorCDF[i] = 1 / math.Pow(float64(i+1), 0.8)
		if i > 0 {
			vendorCDF[i] += vendorCDF[i-1]
		}
	}
	var variantID int64
	for i := range c.products {
		kind := catalogKinds[s.IntN(len(catalogKinds))]
		title := catalogAdjectives[s.IntN(len(catalogAdjectives))] + " " +
			catalogColours[s.IntN(len(catalogColours))] + " " + kind.nouns[s.IntN(len(kind.nouns))]
		price := roundPrice(kind.basePrice * math.Exp(0.55*s.NormFloat64()))
		created := start.Add(-time.Duration(s.IntN(365*24)) * time.Hour)
		id := int64(i + 1)
		p := simulator.Product{
			ID: id, Title: title, Handle: simulatorHandle(title) + "-" + strconv.FormatInt(id, 10),
			ProductType: kind.productType, Vendor: catalogVendors[s.pick(vendorCDF)], Status: "ACTIVE",
			CreatedAt: created, UpdatedAt: created,
		}
		// One product in five comes in sizes, priced a little apart.
		sizes := []string{"Default Title"}
		if s.Float64() < 0.2 {
			sizes = []string{"Small", "Medium", "Large"}
		}
		noCost := s.Float64() < 0.12
		costShare := 0.3 + 0.3*s.Float64()
		for k, size := range sizes {
			variantID++
			vp := price
			if len(sizes) > 1 {
				vp = roundPrice(price * (0.85 + 0.15*float64(k)))
			}
			v := simulator.Variant{
				ID: variantID, InventoryItemID: variantID, Title: size,
				SKU: "SKU-" + strconv.FormatInt(id, 10) + "-" + strconv.Itoa(k+1), Price: simulator.NewAmount(vp),
			}
			if !noCost {
				cost := simulator.NewAmount(math.Round(vp*costShare*100) / 100)
				v.UnitCost = &cost
			}
			p.Variants = append(p.Variants, v)
		}
		c.products[i] = p
	}
	c.byRank = s.Perm(n)
	c.cdf = make([]float64, n)
	for r := range c.cdf {
		c.cdf[r] = 1 / math.Pow(float64(r+1), zipfExponent)
		if r > 0 {
			c.cdf[r] += c.cdf[r-1]
		}
	}
	for _, r := range rockstarRanks {
		if r < n {
			c.effect[c.byRank[r]] = 1
			c.rockstars = append(c.rockstars, c.products[c.byRank[r]].ID)
		}
	}
	for _, r := range toxicRanks {
		if r < n {
			c.effect[c.byRank[r]] = -1
			c.toxic = append(c.toxic, c.products[c.byRank[r]].ID)
		}
	}
	slices.Sort(c.rockstars)
	slices.Sort(c.toxic)
	return c
}

// roundPrice gives shop-like prices: whole units minus a cent, at least 1.99.
func roundPrice(p float64) float64 {
	return math.Max(2, math.Round(p)) - 0.01
}

// draw picks a product index by popularity.
func (c *catalog) draw(s *stream) int { return c.byRank[s.pick(c.cdf)] }
