package survey

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/rfm"
)

// Status is where a survey is in its life. Only an active survey has
// links written to its customers and accepts answers.
type Status string

// The statuses.
const (
	Draft  Status = "draft"
	Active Status = "active"
	Closed Status = "closed"
)

// QuestionKind is the shape of a custom question.
type QuestionKind string

// The kinds of custom question.
const (
	SingleChoice   QuestionKind = "single"
	MultipleChoice QuestionKind = "multiple"
	Text           QuestionKind = "text"
)

// Question is one optional custom question.
type Question struct {
	// ID is stable within the survey, so answers stay attached to their
	// question when the merchant edits its wording.
	ID      string       `json:"id"`
	Kind    QuestionKind `json:"kind"`
	Text    string       `json:"text"`
	Options []string     `json:"options,omitempty"`
}

// Survey is one survey a merchant defined.
type Survey struct {
	ID   int64
	Shop string
	// Key names the survey's link metafield (MetafieldKey); fixed once the
	// survey exists, because a new key would leave the old metafields behind.
	Key    string
	Title  string
	Status Status
	// NPSQuestion and CESQuestion are empty when the survey does not ask
	// them; WhyQuestion is the open "why" question, empty when not asked.
	NPSQuestion string
	CESQuestion string
	WhyQuestion string
	Questions   []Question
	// Groups are the targeted RFM group slugs: their customers get a link.
	Groups []string
	// BrandColor is the page's accent, "#rrggbb".
	BrandColor string
	// Language is the language of the page's own words ("auto" follows
	// the customer's browser among the supported languages).
	Language string
	// LinkDays is how long a link lives at least (see LinkExpiry).
	LinkDays int
	// RetentionDays is how long answers are kept before the retention job
	// deletes them: they are personal data.
	RetentionDays int
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Limits of a definition and of an answer: a survey page must stay quick
// on a phone, and a text box is not a file upload.
const (
	MaxTitle        = 120
	MaxQuestionText = 300
	MaxQuestions    = 10
	MaxOptions      = 12
	MaxOptionText   = 100
	MaxAnswerText   = 2000
	DefaultLinkDays = 30
	// DefaultRetentionDays keeps two years of answers, enough for a trend
	// by month and a year-on-year comparison.
	DefaultRetentionDays = 730
	DefaultBrandColor    = "#008060"
)

var (
	keyPattern        = regexp.MustCompile(`^[a-z0-9][a-z0-9_]{1,39}$`)
	colorPattern      = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
	questionIDPattern = regexp.MustCompile(`^[a-z0-9_]{1,20}$`)
)

// Languages are the languages the page's own words come in; the first is
// the fallback.
var Languages = []string{"en", "fr", "de"}

// Normalize fills the defaults a merchant may leave out and trims text.
func (s *Survey) Normalize() {
	s.Title = strings.TrimSpace(s.Title)
	s.NPSQuestion = strings.TrimSpace(s.NPSQuestion)
	s.CESQuestion = strings.TrimSpace(s.CESQuestion)
	s.WhyQuestion = strings.TrimSpace(s.WhyQuestion)
	if s.Status == "" {
		s.Status = Draft
	}
	if s.BrandColor == "" {
		s.BrandColor = DefaultBrandColor
	}
	s.BrandColor = strings.ToLower(s.BrandColor)
	if s.Language == "" {
		s.Language = "auto"
	}
	if s.LinkDays == 0 {
		s.LinkDays = DefaultLinkDays
	}
	if s.RetentionDays == 0 {
		s.RetentionDays = DefaultRetentionDays
	}
	if s.Groups == nil {
		s.Groups = []string{}
	}
	for i := range s.Questions {
		q := &s.Questions[i]
		q.Text = strings.TrimSpace(q.Text)
		if q.ID == "" {
			q.ID = fmt.Sprintf("q%d", i+1)
		}
		for j := range q.Options {
			q.Options[j] = strings.TrimSpace(q.Options[j])
		}
	}
}

// Validate reports the first thing a merchant got wrong, in words they can
// act on.
func (s *Survey) Validate() error {
	if err := s.validateSettings(); err != nil {
		return err
	}
	if err := s.validateGroups(); err != nil {
		return err
	}
	return s.validateQuestions()
}

func invalid(format string, args ...any) error { return cvo.Errorf(cvo.EINVALID, format, args...) }

func (s *Survey) validateSettings() error {
	switch {
	case !keyPattern.MatchString(s.Key):
		return invalid("Key must be 2–40 lower-case letters, digits or '_', starting with a letter or digit.")
	case s.Title == "" || utf8.RuneCountInString(s.Title) > MaxTitle || !printable(s.Title):
		return invalid("Title must be 1–%d characters.", MaxTitle)
	case s.Status != Draft && s.Status != Active && s.Status != Closed:
		return invalid("Status must be draft, active or closed.")
	case s.NPSQuestion == "" && s.CESQuestion == "" && s.WhyQuestion == "" && len(s.Questions) == 0:
		return invalid("A survey needs at least one question.")
	case !colorPattern.MatchString(s.BrandColor):
		return invalid("Brand colour must be a hex colour such as #008060.")
	case s.Language != "auto" && !slices.Contains(Languages, s.Language):
		return invalid("Language must be auto or one of %s.", strings.Join(Languages, ", "))
	case s.LinkDays < 1 || s.LinkDays > 365:
		return invalid("Links must live between 1 and 365 days.")
	case s.RetentionDays < 30 || s.RetentionDays > 3650:
		return invalid("Answers must be kept between 30 and 3650 days.")
	case len(s.Questions) > MaxQuestions:
		return invalid("A survey has at most %d custom questions.", MaxQuestions)
	}
	for _, q := range []struct{ name, text string }{{"NPS question", s.NPSQuestion}, {"Effort question", s.CESQuestion}, {"Why question", s.WhyQuestion}} {
		if utf8.RuneCountInString(q.text) > MaxQuestionText || !printable(q.text) {
			return invalid("%s must be at most %d characters.", q.name, MaxQuestionText)
		}
	}
	return nil
}

func (s *Survey) validateGroups() error {
	if s.Status == Active && len(s.Groups) == 0 {
		return invalid("An active survey targets at least one group.")
	}
	seen := map[string]bool{}
	for _, g := range s.Groups {
		grp, err := rfm.ParseGroup(g)
		if err != nil || !grp.Valid() || g != grp.Slug() {
			return invalid("Unknown group %q.", g)
		}
		if seen[g] {
			return invalid("Group %q is listed twice.", g)
		}
		seen[g] = true
	}
	return nil
}

func (s *Survey) validateQuestions() error {
	seen := map[string]bool{}
	for i, q := range s.Questions {
		n := i + 1
		switch {
		case !questionIDPattern.MatchString(q.ID) || seen[q.ID]:
			return invalid("Question %d needs a unique id of lower-case letters, digits or '_'.", n)
		case q.Text == "" || utf8.RuneCountInString(q.Text) > MaxQuestionText || !printable(q.Text):
			return invalid("Question %d needs a text of 1–%d characters.", n, MaxQuestionText)
		case q.Kind == Text && len(q.Options) > 0:
			return invalid("Question %d is a text question and takes no options.", n)
		case q.Kind == SingleChoice || q.Kind == MultipleChoice:
			if err := validateOptions(n, q.Options); err != nil {
				return err
			}
		case q.Kind != Text:
			return invalid("Question %d must be single, multiple or text.", n)
		}
		seen[q.ID] = true
	}
	return nil
}

func validateOptions(n int, options []string) error {
	if len(options) < 2 || len(options) > MaxOptions {
		return invalid("Question %d needs 2–%d options.", n, MaxOptions)
	}
	seen := map[string]bool{}
	for _, o := range options {
		if o == "" || utf8.RuneCountInString(o) > MaxOptionText || !printable(o) || seen[o] {
			return invalid("Question %d: each option must be unique and 1–%d characters.", n, MaxOptionText)
		}
		seen[o] = true
	}
	return nil
}

// Targets says whether the survey asks customers of group slug.
func (s *Survey) Targets(slug string) bool { return slices.Contains(s.Groups, slug) }

// MetafieldKey is the key of the customer metafield (namespace $app:cvo)
// that holds this survey's link, one per survey: "survey_url_" + Key.
// Shopify keys are 2–64 characters of letters, digits, '-' and '_'; a Key
// of at most 40 keeps it within that.
func (s *Survey) MetafieldKey() string { return MetafieldKeyPrefix + s.Key }

// MetafieldKeyPrefix begins every survey link metafield's key.
const MetafieldKeyPrefix = "survey_url_"

// printable refuses invalid UTF-8 and control characters other than
// newlines and tabs, which PostgreSQL (NUL) or the page would choke on.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 && r != '\n' && r != '\t' && r != '\r' || r == 0x7f {
			return false
		}
	}
	return true
}
