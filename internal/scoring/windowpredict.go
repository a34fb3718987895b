package scoring

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/cvo-app/cvo/internal/clv"
	"github.com/cvo-app/cvo/internal/parallel"
	"github.com/cvo-app/cvo/internal/rfm"
)

// The chance of at least one order within W days after as-of, chosen and
// calibrated on the shop's own history:
//
//  1. Backtest. The cutoff is as-of − W; the holdout customers are those
//     who had bought by the cutoff, labelled by whether they ordered in
//     (cutoff, as-of]. The BTYD candidates are fitted on the history up to
//     the cutoff and give their closed-form chance of an order within W.
//     The feature model and the recency baseline are logistic regressions
//     fitted one window earlier (features at cutoff − W, label: ordered in
//     (cutoff − W, cutoff]) and applied at the cutoff. The average baseline
//     gives everyone the same number.
//  2. Scores. Each candidate's raw predictions are recalibrated (Platt) on
//     one half of the holdout and scored on the other, both ways round, so
//     the log loss, Brier score and AUC are out of sample.
//  3. Choice. The model with the lowest log loss wins if it beats both
//     baselines; otherwise the better baseline is the headline, and the
//     result says so.
//  4. Production. The winner is refitted on the whole history (the feature
//     model on the last window) and applied at as-of; its Platt map, fitted
//     on the whole holdout, makes the holdout's mean prediction equal the
//     share who ordered.

// featureNames are the feature model's columns, in order.
var featureNames = []string{"recency", "frequency", "age", "spend"}

// paretoSample caps the customers the Pareto/NBD fit sees: its likelihood
// costs two 2F1 per distinct history, and a few thousand customers pin four
// parameters well enough for a probability.
const paretoSample = 3000

// minHoldoutOrders is how many holdout customers must have ordered (and not
// ordered) for the backtest to tell models apart.
const minHoldoutOrders = 10

var errNoWindowHistory = errors.New("not enough history before the window to backtest it")

// rawFeatures are a customer's features at the end of day d: days since the
// last purchase, purchase days, days since the first purchase, mean value of
// a purchase day. ok is false when the customer had not bought by d.
func (ix *shopIndex) rawFeatures(c int, d int32) (f [4]float64, ok bool) {
	ps := ix.purchases(c)
	if len(ps) == 0 || ps[0].Day > d {
		return f, false
	}
	var days int
	var value float64
	last := int32(math.MinInt32)
	for i := range ps {
		if ps[i].Day > d {
			break
		}
		if ps[i].Day != last {
			days++
			last = ps[i].Day
		}
		value += ps[i].Net
	}
	return [4]float64{float64(d - last), float64(days), float64(d - ps[0].Day), value / float64(days)}, true
}

// featureRow turns raw features into the regression's columns: logarithms,
// since a customer's chance falls off with orders of magnitude of recency
// and rises with orders of magnitude of frequency and spend.
func featureRow(raw [4]float64) [4]float64 {
	return [4]float64{math.Log1p(raw[0]), math.Log1p(raw[1]), math.Log1p(raw[2]), math.Log1p(math.Max(raw[3], 0))}
}

// orderedIn says whether customer c bought on a day in (from, to].
func (ix *shopIndex) orderedIn(c int, from, to int32) bool {
	for _, p := range ix.purchases(c) {
		if p.Day > from && p.Day <= to {
			return true
		}
	}
	return false
}

// fitWindowLogistic fits a logistic regression of "ordered in (at, at+W]"
// on the given feature columns at day at, over the customers who had bought
// by then.
func fitWindowLogistic(ix *shopIndex, at, w int32, cols []int) (logisticFit, error) {
	k := len(cols)
	X := make([]float64, 0, k*ix.customers())
	y := make([]bool, 0, ix.customers())
	for c := range ix.customers() {
		raw, ok := ix.rawFeatures(c, at)
		if !ok {
			continue
		}
		row := featureRow(raw)
		for _, j := range cols {
			X = append(X, row[j])
		}
		y = append(y, ix.orderedIn(c, at, at+w))
	}
	if len(y) < 2*minHoldoutOrders {
		return logisticFit{}, fmt.Errorf("%d customers had bought by %s, too few to fit on", len(y), ix.midnight(at).Format(time.DateOnly))
	}
	return fitLogistic(X, y, k)
}

// applyLogistic gives the fitted probability for customers (all when who is
// nil) at day at.
func applyLogistic(ix *shopIndex, f *logisticFit, cols []int, at int32, who []int32, n int) []float64 {
	out := make([]float64, n)
	parallel.Chunks(n, workers(n), func(_, lo, hi int) {
		row := make([]float64, len(cols))
		for i := lo; i < hi; i++ {
			c := summaryCustomer(who, i)
			raw, _ := ix.rawFeatures(c, at)
			fr := featureRow(raw)
			for k, j := range cols {
				row[k] = fr[j]
			}
			out[i] = sigmoid(f.eta(row))
		}
	})
	return out
}

// windowModel is what a BTYD candidate needs to give the chance of an order.
type windowModel interface {
	ProbPurchaseWithin(t float64, x int, tx, T float64) float64
}

// fitBTYD fits one BTYD candidate on the summaries; triples gives them
// compressed (clv.Compress), shared by the candidates fitted on them.
func fitBTYD(name string, sums []clv.Summary, triples func() []clv.Triple, minRepeat int) (windowModel, error) {
	repeat := 0
	for i := range sums {
		if sums[i].X > 0 {
			repeat++
		}
	}
	if repeat < minRepeat {
		return nil, fmt.Errorf("%d customers with repeat purchases, need %d", repeat, minRepeat)
	}
	switch name {
	case CandidateBGNBD:
		m, _, err := clv.FitBGNBD(triples())
		return m, err
	case CandidateMBGNBD:
		m, _, err := clv.FitMBGNBD(triples())
		return m, err
	case CandidateParetoNBD:
		sample := sums
		if len(sums) > paretoSample {
			// Every k-th customer: the index order has nothing to do with
			// the purchase process.
			step := float64(len(sums)) / paretoSample
			sample = make([]clv.Summary, 0, paretoSample)
			for i := range paretoSample {
				sample = append(sample, sums[int(float64(i)*step)])
			}
		}
		m, _, err := clv.FitParetoNBD(clv.Compress(sample))
		return m, err
	}
	return nil, fmt.Errorf("unknown model %q", name)
}

// applyBTYD gives every summary's chance of an order within t (in the
// summaries' unit).
func applyBTYD(m windowModel, sums []clv.Summary, t, perUnit float64) []float64 {
	out := make([]float64, len(sums))
	parallel.Chunks(len(sums), workers(len(sums)), func(_, lo, hi int) {
		oneTime := newDayCache()
		for i := lo; i < hi; i++ {
			sm := &sums[i]
			if sm.X == 0 {
				out[i] = oneTime.get(sm.T*perUnit, func() float64 { return m.ProbPurchaseWithin(t, 0, 0, sm.T) })
			} else {
				out[i] = m.ProbPurchaseWithin(t, sm.X, sm.Tx, sm.T)
			}
		}
	})
	return out
}

// plattFit recalibrates raw probabilities against labels.
func plattFit(raw []float64, y []bool) (Platt, error) {
	X := make([]float64, len(raw))
	for i, q := range raw {
		X[i] = logit(q)
	}
	f, err := fitLogistic(X, y, 1)
	if err != nil {
		return Platt{}, err
	}
	b := f.coef[0] / f.scale[0]
	return Platt{A: f.intercept - b*f.mean[0], B: b}, nil
}

// Apply recalibrates a raw probability.
func (p Platt) Apply(q float64) float64 { return sigmoid(p.A + p.B*logit(q)) }

// scoreCandidate scores raw predictions out of sample: Platt fitted on the
// odd customers scores the even ones and the other way round.
func scoreCandidate(name string, baseline bool, raw []float64, y []bool) (CandidateScore, []float64) {
	cs := CandidateScore{Name: name, Baseline: baseline}
	cal := make([]float64, len(raw))
	fr := make([]float64, 0, len(raw)/2+1)
	fy := make([]bool, 0, len(raw)/2+1)
	for half := range 2 {
		fr, fy = fr[:0], fy[:0]
		for i := 1 - half; i < len(raw); i += 2 {
			fr = append(fr, raw[i])
			fy = append(fy, y[i])
		}
		p, err := plattFit(fr, fy)
		if err != nil {
			cs.Error = "recalibration: " + err.Error()
			return cs, nil
		}
		for i := half; i < len(raw); i += 2 {
			cal[i] = p.Apply(raw[i])
		}
	}
	cs.LogLoss, cs.Brier = logLossBrier(cal, y)
	cs.AUC = auc(raw, y)
	var sum float64
	for _, q := range raw {
		sum += q
	}
	cs.MeanRaw = sum / float64(len(raw))
	return cs, cal
}

func logLossBrier(p []float64, y []bool) (logLoss, brier float64) {
	for i, q := range p {
		q = math.Min(math.Max(q, 1e-15), 1-1e-15)
		if y[i] {
			logLoss -= math.Log(q)
			brier += (1 - q) * (1 - q)
		} else {
			logLoss -= math.Log1p(-q)
			brier += q * q
		}
	}
	n := float64(len(p))
	return logLoss / n, brier / n
}

// auc is the probability that a random customer who ordered scored higher
// than a random one who did not, ties counting half (Mann–Whitney). The
// two groups' scores are sorted apart and walked together, which counts
// the same half-integers as ranking everyone (every partial sum is exact
// in a float64) at a fraction of the cost of an indirect sort.
func auc(score []float64, y []bool) float64 {
	pos := 0
	for _, v := range y {
		if v {
			pos++
		}
	}
	neg := len(score) - pos
	if pos == 0 || neg == 0 {
		return 0.5
	}
	ordered := make([]float64, 0, pos)
	other := make([]float64, 0, neg)
	for i, v := range score {
		if y[i] {
			ordered = append(ordered, v)
		} else {
			other = append(other, v)
		}
	}
	slices.Sort(ordered)
	slices.Sort(other)
	var wins float64
	below, j := 0, 0
	for i := 0; i < len(ordered); {
		v := ordered[i]
		same := i
		for same < len(ordered) && cmp.Compare(ordered[same], v) == 0 {
			same++
		}
		for below < len(other) && cmp.Compare(other[below], v) < 0 {
			below++
		}
		j = max(j, below)
		for j < len(other) && cmp.Compare(other[j], v) == 0 {
			j++
		}
		wins += float64(same-i) * (float64(below) + float64(j-below)/2)
		i = same
	}
	return wins / (float64(pos) * float64(neg))
}

// candidateLabel is a candidate's name in sentences.
func candidateLabel(name string) string {
	switch name {
	case CandidateBGNBD:
		return "BG/NBD"
	case CandidateMBGNBD:
		return "MBG/NBD"
	case CandidateParetoNBD:
		return "Pareto/NBD"
	case CandidateFeatures:
		return "the recency, frequency, age and spend model"
	case BaselineAverage:
		return "the shop's average"
	case BaselineRecency:
		return "recency alone"
	}
	return name
}

// windowOutcome is the window prediction and every customer's raw and
// calibrated chance (indexed like the shop index).
type windowOutcome struct {
	pred *WindowPrediction
	p    []float64
}

// windowRun is one run of the procedure: the holdout and its labels.
type windowRun struct {
	ix      *shopIndex
	s       Settings
	sums    []clv.Summary // as-of summaries of every indexed customer
	w       int32         // the window in days
	t       float64       // the window in Unit
	perUnit float64
	cutoff  int32
	cal     []clv.Summary // summaries at the cutoff of the holdout customers
	calWho  []int32       // their index (nil: every customer)
	y       []bool        // ordered in (cutoff, as-of]
	// calTriples is cal compressed, once for every BTYD candidate.
	calTriples func() []clv.Triple
	// featuresAtCutoff is the feature model fitted on the holdout: the
	// production model when it wins, and shown as the drivers either way.
	featuresAtCutoff func() (logisticFit, error)
	// mainFit is the scoring's own fit of its purchase model on sums (nil
	// when there is none to share).
	mainFit func() (*clv.Fitted, error)
}

// candidate is one candidate's backtest.
type candidate struct {
	name     string
	baseline bool
	raw      []float64
	cal      []float64 // recalibrated out of sample (cross-fitted)
	score    CandidateScore
	err      error
}

// predictWindow runs the whole procedure. sums are the as-of summaries of
// every indexed customer, in index order; mainFit, when not nil, is the
// scoring's fit of its purchase model on them.
func predictWindow(ix *shopIndex, s Settings, sums []clv.Summary, mainFit func() (*clv.Fitted, error)) (*windowOutcome, error) {
	r := &windowRun{ix: ix, s: s, sums: sums, w: int32(s.WindowDays), perUnit: s.Unit.DaysPer(), mainFit: mainFit}
	r.t = float64(r.w) / r.perUnit
	r.cutoff = ix.asOfDay - r.w
	if r.cutoff < ix.minDay {
		return nil, fmt.Errorf("%w: the history is shorter than the %d-day window", errNoWindowHistory, r.w)
	}
	r.cal, r.calWho = ix.summaries(r.cutoff, s.Unit)
	r.calTriples = sync.OnceValue(func() []clv.Triple { return clv.Compress(r.cal) })
	r.featuresAtCutoff = sync.OnceValues(func() (logisticFit, error) {
		return fitWindowLogistic(ix, r.cutoff, r.w, []int{0, 1, 2, 3})
	})
	m := len(r.cal)
	r.y = make([]bool, m)
	pos := 0
	for i := range m {
		r.y[i] = ix.orderedIn(r.customerOf(i), r.cutoff, ix.asOfDay)
		if r.y[i] {
			pos++
		}
	}
	if pos < minHoldoutOrders || m-pos < minHoldoutOrders {
		return nil, fmt.Errorf("%w: %d of %d customers ordered in the last %d days", errNoWindowHistory, pos, m, r.w)
	}
	wp := &WindowPrediction{WindowDays: s.WindowDays, Cutoff: ix.midnight(r.cutoff), AsOf: ix.midnight(ix.asOfDay),
		HoldoutCustomers: m, HoldoutShare: float64(pos) / float64(m), Thresholds: s.Churn}

	cands, err := r.backtest()
	if err != nil {
		return nil, err
	}
	r.calTriples = nil // every candidate is fitted: garbage from here on
	// The drivers' model is needed whichever candidate wins: fitted beside
	// the choice, it costs no time on the way to the answer. Its result,
	// or its panic, is read through featuresAtCutoff; the wait only keeps
	// the goroutine from outliving the prediction.
	features := goSafe(func() error {
		_, err := r.featuresAtCutoff()
		return err
	})
	defer func() { _ = features() }()
	byName := map[string]*candidate{}
	for _, c := range cands {
		byName[c.name] = c
		if c.err != nil {
			wp.Candidates = append(wp.Candidates, CandidateScore{Name: c.name, Baseline: c.baseline, Error: c.err.Error()})
			continue
		}
		if c.score.Error != "" {
			c.err = errors.New(c.score.Error)
		}
		wp.Candidates = append(wp.Candidates, c.score)
	}

	chosen, prod, holdFit, err := r.choose(wp)
	if err != nil {
		return nil, err
	}
	// The losers' predictions for the holdout (two floats a customer
	// each) are garbage from here on; dropped, they are not carried
	// through the calibration's RFM scoring, where the window's memory
	// peaks.
	for _, c := range cands {
		if c.name != chosen {
			c.raw, c.cal = nil, nil
		}
	}
	platt, err := r.calibrate(wp, byName[chosen], holdFit)
	if err != nil {
		return nil, err
	}
	if f, err := r.featuresAtCutoff(); err == nil {
		wp.Features = &FeatureModel{Names: featureNames, Mean: f.mean, Scale: f.scale, Coef: f.coef, Intercept: f.intercept}
	}
	out := &windowOutcome{pred: wp, p: make([]float64, len(prod))}
	for i, q := range prod {
		out.p[i] = platt.Apply(q)
	}
	return out, nil
}

func (r *windowRun) customerOf(i int) int {
	if r.calWho == nil {
		return i
	}
	return int(r.calWho[i])
}

// backtest gives every candidate's raw predictions for the holdout and
// their out-of-sample scores, candidates side by side.
func (r *windowRun) backtest() ([]*candidate, error) {
	cands := []*candidate{{name: CandidateBGNBD}, {name: CandidateMBGNBD}, {name: CandidateParetoNBD}, {name: CandidateFeatures},
		{name: BaselineAverage, baseline: true}, {name: BaselineRecency, baseline: true}}
	m := len(r.cal)
	logisticAt := func(cols []int) ([]float64, error) {
		f, err := fitWindowLogistic(r.ix, r.cutoff-r.w, r.w, cols)
		if err != nil {
			return nil, err
		}
		return applyLogistic(r.ix, &f, cols, r.cutoff, r.calWho, m), nil
	}
	waits := make([]func() error, len(cands))
	for k, c := range cands {
		waits[k] = goSafe(func() error {
			switch c.name {
			case CandidateBGNBD, CandidateMBGNBD, CandidateParetoNBD:
				model, err := fitBTYD(c.name, r.cal, r.calTriples, r.s.MinRepeatCustomers)
				if err != nil {
					c.err = err
					return nil
				}
				c.raw = applyBTYD(model, r.cal, r.t, r.perUnit)
			case CandidateFeatures:
				c.raw, c.err = logisticAt([]int{0, 1, 2, 3})
			case BaselineRecency:
				c.raw, c.err = logisticAt([]int{0})
			case BaselineAverage:
				c.raw = make([]float64, m)
				for i := range c.raw {
					c.raw[i] = 0.5
				}
			}
			if c.err == nil {
				c.score, c.cal = scoreCandidate(c.name, c.baseline, c.raw, r.y)
			}
			return nil
		})
	}
	for _, wait := range waits {
		if err := wait(); err != nil {
			return nil, err
		}
	}
	return cands, nil
}

// choose picks the headline: the models with the lowest log loss that beat
// the better baseline, else that baseline; one whose refit on the whole
// history fails gives way to the next, and the reason says so. It returns
// the winner's predictions at as-of and, for the candidates refitted on
// the holdout itself, their fitted chance for the holdout customers.
func (r *windowRun) choose(wp *WindowPrediction) (string, []float64, []float64, error) {
	scored := slices.DeleteFunc(slices.Clone(wp.Candidates), func(c CandidateScore) bool { return c.Error != "" })
	slices.SortStableFunc(scored, func(a, b CandidateScore) int { return cmp.Compare(a.LogLoss, b.LogLoss) })
	bestBaseline := slices.IndexFunc(scored, func(c CandidateScore) bool { return c.Baseline })
	if bestBaseline < 0 {
		return "", nil, nil, errors.New("no baseline could be scored")
	}
	var notes []string
	for _, c := range scored[:bestBaseline+1] {
		prod, hold, err := r.productionRaw(c.Name, wp.HoldoutShare)
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s scored better but could not be refitted on the whole history (%v)", candidateLabel(c.Name), err))
			continue
		}
		wp.Model = c.Name
		wp.BeatsBaselines = !c.Baseline
		wp.Reason = reason(c, scored[bestBaseline], scored, r.w)
		for _, n := range notes {
			wp.Reason += " " + capitalize(n) + "."
		}
		return c.Name, prod, hold, nil
	}
	return "", nil, nil, fmt.Errorf("no candidate could be refitted: %s", notes)
}

// reason says in a sentence why the chosen candidate is the headline.
func reason(chosen, base CandidateScore, scored []CandidateScore, w int32) string {
	if !chosen.Baseline {
		return fmt.Sprintf("%s predicted who ordered in the last %d days best (log loss %.4f, AUC %.3f) and beat %s (log loss %.4f, AUC %.3f).",
			capitalize(candidateLabel(chosen.Name)), w, chosen.LogLoss, chosen.AUC, candidateLabel(base.Name), base.LogLoss, base.AUC)
	}
	for _, m := range scored {
		if !m.Baseline {
			return fmt.Sprintf("No model beat the baselines on the last %d days: the best, %s, had log loss %.4f against %.4f for %s, so the chance to order comes from %s.",
				w, candidateLabel(m.Name), m.LogLoss, chosen.LogLoss, candidateLabel(chosen.Name), candidateLabel(chosen.Name))
		}
	}
	return fmt.Sprintf("No model could be fitted, so the chance to order comes from %s.", candidateLabel(chosen.Name))
}

// calibrate sets the chosen candidate's recalibration and what it shows on
// the holdout. The regressions and the average are refitted on the holdout
// itself, so their mean prediction there already is the share who ordered
// (the intercept's score equation); a recalibration learnt one window
// earlier would carry that window's drift into this one. The BTYD models,
// refitted on the whole history, get the Platt map of their backtest on
// the holdout.
func (r *windowRun) calibrate(wp *WindowPrediction, chosen *candidate, holdFit []float64) (Platt, error) {
	wp.Calibration = Platt{A: 0, B: 1}
	if holdFit == nil {
		p, err := plattFit(chosen.raw, r.y)
		if err != nil {
			return Platt{}, fmt.Errorf("recalibrate %s: %w", chosen.name, err)
		}
		wp.Calibration = p
		holdFit = make([]float64, len(chosen.raw))
		for i, q := range chosen.raw {
			holdFit[i] = p.Apply(q)
		}
	}
	var sum float64
	for _, q := range holdFit {
		sum += q
	}
	wp.MeanPredicted = sum / float64(len(holdFit))
	// Deciles and groups show the out-of-sample predictions of the
	// backtest, recalibrated on the other half of the holdout: what the
	// merchant can expect of a forecast, not of a fit.
	wp.Deciles = deciles(chosen.cal, r.y)
	wp.Groups = groupCalibration(r.ix.groupsAt(r.cutoff, r.cal, r.calWho), chosen.cal, r.y)
	return wp.Calibration, nil
}

// productionRaw is a candidate's chance for every customer at as-of, and,
// for the candidates refitted on the holdout itself (the regressions, the
// average), their fitted chance for the holdout customers (nil for BTYD).
func (r *windowRun) productionRaw(name string, share float64) (prod, hold []float64, err error) {
	ix, sums, cutoff, calWho := r.ix, r.sums, r.cutoff, r.calWho
	n := len(sums)
	switch name {
	case CandidateBGNBD, CandidateMBGNBD, CandidateParetoNBD:
		model, err := r.refitBTYD(name)
		if err != nil {
			return nil, nil, err
		}
		return applyBTYD(model, sums, r.t, r.perUnit), nil, nil
	case CandidateFeatures, BaselineRecency:
		cols := []int{0, 1, 2, 3}
		fit := r.featuresAtCutoff
		if name == BaselineRecency {
			cols = []int{0}
			fit = func() (logisticFit, error) { return fitWindowLogistic(ix, cutoff, r.w, cols) }
		}
		f, err := fit()
		if err != nil {
			return nil, nil, err
		}
		m := ix.customers()
		if calWho != nil {
			m = len(calWho)
		}
		return applyLogistic(ix, &f, cols, ix.asOfDay, nil, n), applyLogistic(ix, &f, cols, cutoff, calWho, m), nil
	case BaselineAverage:
		prod = make([]float64, n)
		for i := range prod {
			prod[i] = share
		}
		m := ix.customers()
		if calWho != nil {
			m = len(calWho)
		}
		hold = make([]float64, m)
		for i := range hold {
			hold[i] = share
		}
		return prod, hold, nil
	}
	return nil, nil, fmt.Errorf("unknown candidate %q", name)
}

// refitBTYD fits a BTYD candidate on the whole history. When it is the
// scoring's own purchase model, that fit is this one (clv.Fit compresses
// the same summaries and fits them the same way) and is taken, unless it
// fell back; otherwise the candidate is fitted here.
func (r *windowRun) refitBTYD(name string) (windowModel, error) {
	if r.mainFit != nil && name == string(r.s.Model) {
		if f, err := r.mainFit(); err == nil && !f.Fallback {
			return f.Purchases, nil
		}
	}
	return fitBTYD(name, r.sums, func() []clv.Triple { return clv.Compress(r.sums) }, r.s.MinRepeatCustomers)
}

// deciles splits customers into ten equal groups by prediction.
func deciles(p []float64, y []bool) []CalibrationBin {
	// Sorting the predictions beside their outcomes, ties by position,
	// orders them as a stable sort of positions would, without a random
	// access per comparison.
	type entry struct {
		p   float64
		at  int32
		buy bool
	}
	sorted := make([]entry, len(p))
	for i, q := range p {
		sorted[i] = entry{p: q, at: int32(i), buy: y[i]}
	}
	slices.SortFunc(sorted, func(a, b entry) int {
		if c := cmp.Compare(a.p, b.p); c != 0 {
			return c
		}
		return cmp.Compare(a.at, b.at)
	})
	n := len(sorted)
	out := make([]CalibrationBin, 0, 10)
	for d := range 10 {
		lo, hi := n*d/10, n*(d+1)/10
		if hi == lo {
			continue
		}
		var b CalibrationBin
		for _, e := range sorted[lo:hi] {
			b.Predicted += e.p
			if e.buy {
				b.Actual++
			}
		}
		b.Customers = hi - lo
		b.Predicted /= float64(b.Customers)
		b.Actual /= float64(b.Customers)
		out = append(out, b)
	}
	return out
}

// groupCalibration compares predicted and actual share per RFM group at
// the cutoff, in display order.
func groupCalibration(groups []rfm.Group, p []float64, y []bool) []GroupCalibration {
	var acc [rfm.NumGroups + 1]GroupCalibration
	for i, g := range groups {
		a := &acc[g]
		a.Group = g
		a.Customers++
		a.Predicted += p[i]
		if y[i] {
			a.Actual++
		}
	}
	var out []GroupCalibration
	for _, g := range rfm.Groups() {
		a := acc[g]
		if a.Customers == 0 {
			continue
		}
		a.Predicted /= float64(a.Customers)
		a.Actual /= float64(a.Customers)
		out = append(out, a)
	}
	return out
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	if s[0] >= 'a' && s[0] <= 'z' {
		return string(s[0]-'a'+'A') + s[1:]
	}
	return s
}

// Drivers explains a customer's chance to order with the feature model:
// each feature's pull on the log-odds from the shop's typical customer
// (the geometric-mean-like value the model is centred on) to this one,
// strongest first. Nil without a feature model.
func (r *Result) Drivers(c *CustomerScore) []Driver {
	if r.Prediction == nil || r.Prediction.Features == nil {
		return nil
	}
	perUnit := 1.0
	if r.Parameters.Unit == clv.Weeks.String() {
		perUnit = 7
	}
	days := c.Frequency + 1
	raw := [4]float64{
		math.Round((c.T - c.Recency) * perUnit),
		float64(days),
		math.Round(c.T * perUnit),
		c.Revenue / float64(days),
	}
	return r.Prediction.Features.Drivers(raw)
}

// Drivers explains raw features (days since the last purchase, purchase
// days, days since the first purchase, mean value of a purchase day).
func (m *FeatureModel) Drivers(raw [4]float64) []Driver {
	row := featureRow(raw)
	out := make([]Driver, 0, len(m.Coef))
	for j := range m.Coef {
		if j >= len(row) || j >= len(m.Mean) || j >= len(m.Scale) || m.Scale[j] == 0 {
			break
		}
		out = append(out, Driver{
			Feature: m.Names[j],
			Value:   raw[j],
			Typical: math.Expm1(m.Mean[j]),
			Effect:  finite(m.Coef[j] * (row[j] - m.Mean[j]) / m.Scale[j]),
		})
	}
	slices.SortStableFunc(out, func(a, b Driver) int { return cmp.Compare(math.Abs(b.Effect), math.Abs(a.Effect)) })
	return out
}

// uncalibratedWindow is the chance to order when the shop's history cannot
// backtest the window: the main purchase model's closed form, uncalibrated,
// and the reason.
func uncalibratedWindow(fitted *clv.Fitted, sums []clv.Summary, s Settings, why error) *windowOutcome {
	perUnit := s.Unit.DaysPer()
	p := applyBTYD(fitted.Purchases, sums, float64(s.WindowDays)/perUnit, perUnit)
	return &windowOutcome{
		pred: &WindowPrediction{
			WindowDays:  s.WindowDays,
			Model:       string(fitted.Purchases.Kind()),
			Reason:      fmt.Sprintf("Not checked against the shop's own history (%v), so the chance to order comes from the %s model as fitted, without recalibration.", why, fitted.Purchases.Kind()),
			Calibration: Platt{A: 0, B: 1},
			AsOf:        fitted.AsOf,
			Thresholds:  s.Churn,
		},
		p: p,
	}
}

// setWindow gives every customer the calibrated chance and its churn risk.
func setWindow(customers []CustomerScore, win *windowOutcome, th ChurnThresholds) {
	var counts ChurnCounts
	for c := range customers {
		sc := &customers[c]
		sc.POrderWindow = clamp01(win.p[c])
		sc.ChurnRisk = th.Risk(sc.POrderWindow)
		switch sc.ChurnRisk {
		case ChurnHigh:
			counts.High++
		case ChurnMedium:
			counts.Medium++
		default:
			counts.Low++
		}
	}
	win.pred.ChurnCounts = counts
}
