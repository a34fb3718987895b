package survey

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cvo-app/cvo/internal/cvo"
)

// Answer is a customer's answer to one custom question.
type Answer struct {
	QuestionID string   `json:"question_id"`
	Choices    []string `json:"choices,omitempty"`
	Text       string   `json:"text,omitempty"`
}

// Response is one customer's answers to one survey. It names the customer
// by Shopify id only: the email is Shopify's to keep.
type Response struct {
	SurveyID   int64
	CustomerID int64
	// Group is the customer's RFM group slug when they answered ("" if
	// they were not scored), so results by group keep the group the
	// survey reached them in.
	Group string
	NPS   *int
	CES   *int
	Why   string
	// Answers hold the custom questions answered, in the survey's order.
	Answers     []Answer
	SubmittedAt time.Time
}

// Score ranges: NPS 0–10, effort 1 (very difficult) – 7 (very easy).
const (
	NPSMin = 0
	NPSMax = 10
	CESMin = 1
	CESMax = 7
)

// Check validates a response against its survey: scores only for the
// questions the survey asks and within range, choices among the options,
// text within bounds, nothing for questions it does not have. Empty text
// and unanswered questions are fine: every question is optional.
func (s *Survey) Check(r *Response) error {
	bad := func(format string, args ...any) error { return cvo.Errorf(cvo.EINVALID, format, args...) }
	if r.NPS != nil && (s.NPSQuestion == "" || *r.NPS < NPSMin || *r.NPS > NPSMax) {
		return bad("The score must be a whole number from 0 to 10.")
	}
	if r.CES != nil && (s.CESQuestion == "" || *r.CES < CESMin || *r.CES > CESMax) {
		return bad("The effort score must be a whole number from 1 to 7.")
	}
	r.Why = plainText(r.Why)
	if r.Why != "" && s.WhyQuestion == "" {
		return bad("This survey has no open question.")
	}
	if !validText(r.Why) {
		return bad("Answers must be text of at most %d characters.", MaxAnswerText)
	}
	seen := map[string]bool{}
	kept := r.Answers[:0]
	for _, a := range r.Answers {
		i := slices.IndexFunc(s.Questions, func(q Question) bool { return q.ID == a.QuestionID })
		if i < 0 || seen[a.QuestionID] {
			return bad("Unknown or repeated question.")
		}
		seen[a.QuestionID] = true
		q := s.Questions[i]
		a.Text = plainText(a.Text)
		switch q.Kind {
		case Text:
			if len(a.Choices) > 0 || !validText(a.Text) {
				return bad("Answers must be text of at most %d characters.", MaxAnswerText)
			}
			if a.Text == "" {
				continue
			}
		case SingleChoice, MultipleChoice:
			if a.Text != "" || (q.Kind == SingleChoice && len(a.Choices) > 1) {
				return bad("Choose from the options given.")
			}
			chosen := map[string]bool{}
			for _, c := range a.Choices {
				if !slices.Contains(q.Options, c) || chosen[c] {
					return bad("Choose from the options given.")
				}
				chosen[c] = true
			}
			if len(a.Choices) == 0 {
				continue
			}
		}
		kept = append(kept, a)
	}
	r.Answers = kept
	return nil
}

// lineBreaks turns the CRLF (and lone CR) a browser submits for each line
// break of a textarea into a newline: the box counted each break as one
// character against its maxlength, and so must the limit here.
var lineBreaks = strings.NewReplacer("\r\n", "\n", "\r", "\n")

func plainText(s string) string { return strings.TrimSpace(lineBreaks.Replace(s)) }

func validText(s string) bool {
	return utf8.RuneCountInString(s) <= MaxAnswerText && printable(s)
}
