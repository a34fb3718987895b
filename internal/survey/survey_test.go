package survey_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/survey"
)

func TestTemplatesAreValid(t *testing.T) {
	for _, tp := range survey.Templates() {
		s := tp.Survey
		s.Normalize()
		require.NoError(t, s.Validate(), tp.ID)
		assert.LessOrEqual(t, len(s.MetafieldKey()), 64, "Shopify keys are at most 64 characters")
	}
	stopped, ok := survey.TemplateByID("why-stopped")
	require.True(t, ok)
	assert.ElementsMatch(t, []string{"about-to-dump-you", "ex-lovers", "break-up"}, stopped.Survey.Groups)
	almost, _ := survey.TemplateByID("almost-stopped")
	assert.ElementsMatch(t, []string{"new-passion", "apprentice"}, almost.Survey.Groups)
}

func TestValidateRefusesBadDefinitions(t *testing.T) {
	base := func() survey.Survey {
		s := survey.Survey{Key: "nps", Title: "NPS", NPSQuestion: "Recommend?", Groups: []string{"soulmates"}, Status: survey.Active}
		s.Normalize()
		return s
	}
	cases := map[string]func(*survey.Survey){
		"bad key":           func(s *survey.Survey) { s.Key = "NPS!" },
		"key too long":      func(s *survey.Survey) { s.Key = "a123456789012345678901234567890123456789x" },
		"no title":          func(s *survey.Survey) { s.Title = "" },
		"NUL in title":      func(s *survey.Survey) { s.Title = "a\x00b" },
		"no question":       func(s *survey.Survey) { s.NPSQuestion = "" },
		"unknown group":     func(s *survey.Survey) { s.Groups = []string{"champions"} },
		"group twice":       func(s *survey.Survey) { s.Groups = []string{"lovers", "lovers"} },
		"active, no groups": func(s *survey.Survey) { s.Groups = nil },
		"bad colour":        func(s *survey.Survey) { s.BrandColor = "red" },
		"bad language":      func(s *survey.Survey) { s.Language = "xx" },
		"short retention":   func(s *survey.Survey) { s.RetentionDays = 1 },
		"one option": func(s *survey.Survey) {
			s.Questions = []survey.Question{{ID: "a", Kind: survey.SingleChoice, Text: "?", Options: []string{"x"}}}
		},
		"duplicate option": func(s *survey.Survey) {
			s.Questions = []survey.Question{{ID: "a", Kind: survey.MultipleChoice, Text: "?", Options: []string{"x", "x"}}}
		},
		"unknown kind": func(s *survey.Survey) { s.Questions = []survey.Question{{ID: "a", Kind: "scale", Text: "?"}} },
		"duplicate question": func(s *survey.Survey) {
			s.Questions = []survey.Question{{ID: "a", Kind: survey.Text, Text: "?"}, {ID: "a", Kind: survey.Text, Text: "?"}}
		},
	}
	ok := base()
	require.NoError(t, ok.Validate())
	for name, spoil := range cases {
		t.Run(name, func(t *testing.T) {
			s := base()
			spoil(&s)
			assert.Error(t, s.Validate())
		})
	}
}

func TestCheckAnswers(t *testing.T) {
	tp, _ := survey.TemplateByID("why-stopped")
	s := tp.Survey
	s.Normalize()
	ptr := func(v int) *int { return &v }
	good := survey.Response{NPS: ptr(3), Why: "  too dear  ", Answers: []survey.Answer{
		{QuestionID: "reason", Choices: []string{"Product quality"}}, {QuestionID: "comeback", Text: ""}}}
	require.NoError(t, s.Check(&good))
	assert.Equal(t, "too dear", good.Why)
	assert.Len(t, good.Answers, 1, "an empty answer is dropped")

	bad := map[string]survey.Response{
		"score 11":             {NPS: ptr(11)},
		"score -1":             {NPS: ptr(-1)},
		"effort not asked":     {CES: ptr(4)},
		"unknown option":       {Answers: []survey.Answer{{QuestionID: "reason", Choices: []string{"Aliens"}}}},
		"two single choices":   {Answers: []survey.Answer{{QuestionID: "reason", Choices: []string{"Product quality", "Forgot about you"}}}},
		"unknown question":     {Answers: []survey.Answer{{QuestionID: "nope", Text: "x"}}},
		"question twice":       {Answers: []survey.Answer{{QuestionID: "comeback", Text: "x"}, {QuestionID: "comeback", Text: "y"}}},
		"text too long":        {Why: strings.Repeat("é", survey.MaxAnswerText+1)},
		"control char in text": {Why: "a\x00"},
	}
	for name, r := range bad {
		t.Run(name, func(t *testing.T) {
			assert.Error(t, s.Check(&r))
		})
	}
}

func TestCheckCountsALineBreakOnceAsTheTextBoxDoes(t *testing.T) {
	// A browser's textarea counts a line break as one character against
	// its maxlength but submits it as CRLF: what the box allowed must pass,
	// and is stored with plain newlines.
	tp, _ := survey.TemplateByID("why-stopped")
	s := tp.Survey
	s.Normalize()
	typed := strings.Repeat("ab\n", survey.MaxAnswerText/3) + "ok"
	require.LessOrEqual(t, len([]rune(typed)), survey.MaxAnswerText)
	sent := strings.ReplaceAll(typed, "\n", "\r\n")
	r := survey.Response{Why: sent, Answers: []survey.Answer{{QuestionID: "comeback", Text: sent}}}
	require.NoError(t, s.Check(&r))
	assert.Equal(t, typed, r.Why)
	assert.Equal(t, typed, r.Answers[0].Text)

	// A lone CR (old Mac line end) is a line break too; over the limit is still over.
	r = survey.Response{Why: "a\rb"}
	require.NoError(t, s.Check(&r))
	assert.Equal(t, "a\nb", r.Why)
	r = survey.Response{Why: strings.Repeat("a\r\n", survey.MaxAnswerText/2+1)}
	assert.Error(t, s.Check(&r))
}
