package scoring

// Aggregates is what a scoring keeps beside its per-customer rows: the
// result without its customers, plus the recency × frequency grid the admin
// page draws. It is stored as JSON and read back into this type, so the
// rescoring job, the store and the admin API share one typed shape.
type Aggregates struct {
	*Result
	// Grid counts customers by R (rows, 1..5 at index 0..4) and F score.
	Grid [5][5]int `json:"grid"`
}

// CountGrid adds the result's customers to the recency × frequency grid.
func (a *Aggregates) CountGrid() {
	for i := range a.Customers {
		c := &a.Customers[i]
		if c.Group.Valid() && c.R >= 1 && c.R <= 5 && c.F >= 1 && c.F <= 5 {
			a.Grid[c.R-1][c.F-1]++
		}
	}
}
