package reports

import "github.com/cvo-app/cvo/internal/rfm"

// Transitions counts customers by group in one scoring (row) and the
// next (column). Row rfm.NoGroup holds customers new to scoring; column
// rfm.NoGroup holds customers scored before but not now.
type Transitions struct {
	Counts [rfm.NumGroups + 1][rfm.NumGroups + 1]int `json:"counts"`
	// Moved counts customers whose group changed between two scorings
	// (both real groups); Stayed those whose group did not.
	Moved  int `json:"moved"`
	Stayed int `json:"stayed"`
	New    int `json:"new"`
	Gone   int `json:"gone"`
}

// GroupTransitions compares the previous scoring (customer ID → group)
// with the current assignments.
func GroupTransitions(previous map[string]rfm.Group, current []rfm.Assignment) Transitions {
	var before [rfm.NumGroups + 1]int
	for _, g := range previous {
		if g.Valid() {
			before[g]++
		}
	}
	from := make([]rfm.Group, len(current))
	for i, a := range current {
		from[i] = previous[a.ID]
	}
	return transitions(from, before, current)
}

// transitions counts moves given each current customer's previous group
// (parallel to current) and the previous scoring's size per group.
func transitions(previous []rfm.Group, before [rfm.NumGroups + 1]int, current []rfm.Assignment) Transitions {
	var t Transitions
	var matched [rfm.NumGroups + 1]int
	for i, a := range current {
		var from rfm.Group
		if previous != nil {
			from = previous[i]
		}
		if !from.Valid() {
			from = rfm.NoGroup
		}
		to := a.Group
		if !to.Valid() {
			to = rfm.NoGroup
		}
		if from != rfm.NoGroup {
			matched[from]++
		}
		t.Counts[from][to]++
	}
	for g := range before {
		t.Counts[g][rfm.NoGroup] += before[g] - matched[g]
	}
	for from := range t.Counts {
		for to, n := range t.Counts[from] {
			switch {
			case from == int(rfm.NoGroup) && to != int(rfm.NoGroup):
				t.New += n
			case from != int(rfm.NoGroup) && to == int(rfm.NoGroup):
				t.Gone += n
			case from == int(rfm.NoGroup):
			case from == to:
				t.Stayed += n
			default:
				t.Moved += n
			}
		}
	}
	return t
}
