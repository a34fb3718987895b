package survey

import "math"

// NPSCategory is where a 0–10 answer falls.
type NPSCategory int

// The categories of the Net Promoter Score.
const (
	Detractor NPSCategory = iota // 0–6
	Passive                      // 7–8
	Promoter                     // 9–10
)

// Categorize places a score. Out-of-range scores never reach it (Check).
func Categorize(score int) NPSCategory {
	switch {
	case score >= 9:
		return Promoter
	case score >= 7:
		return Passive
	}
	return Detractor
}

// NPS tallies answers to the recommend question.
type NPS struct {
	Promoters, Passives, Detractors int
}

// Add counts one score.
func (n *NPS) Add(score int) {
	switch Categorize(score) {
	case Promoter:
		n.Promoters++
	case Passive:
		n.Passives++
	default:
		n.Detractors++
	}
}

// Responses is how many answered.
func (n NPS) Responses() int { return n.Promoters + n.Passives + n.Detractors }

// Score is the Net Promoter Score: the share of promoters minus the share
// of detractors, in percent, from −100 to 100. ok is false when nobody
// answered: no data is not a score of 0.
func (n NPS) Score() (score float64, ok bool) {
	total := n.Responses()
	if total == 0 {
		return 0, false
	}
	return 100 * float64(n.Promoters-n.Detractors) / float64(total), true
}

// Rounded is Score to one decimal place, as the page shows it.
func (n NPS) Rounded() (float64, bool) {
	s, ok := n.Score()
	if !ok {
		return 0, false
	}
	s = math.Round(s*10) / 10
	if s == 0 {
		s = 0 // no "-0"
	}
	return s, true
}

// CES tallies answers to the effort question (1 very difficult … 7 very
// easy).
type CES struct {
	Count, Sum int
	// Easy counts answers of 5 or more, the usual "easy" share.
	Easy int
}

// Add counts one score.
func (c *CES) Add(score int) {
	c.Count++
	c.Sum += score
	if score >= 5 {
		c.Easy++
	}
}

// Mean is the average effort score; ok is false when nobody answered.
func (c CES) Mean() (float64, bool) {
	if c.Count == 0 {
		return 0, false
	}
	return float64(c.Sum) / float64(c.Count), true
}
