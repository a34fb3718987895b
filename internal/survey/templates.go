package survey

import "slices"

// Template is a ready-made survey the merchant starts from.
type Template struct {
	ID          string
	Title       string
	Description string
	Survey      Survey
}

// Templates are the surveys that ship with the app, after the CVO method:
// an NPS sent on its own for ongoing monitoring, the reasons for not
// coming back from the groups that are leaving, and the barriers met by
// the newest customers.
func Templates() []Template {
	return []Template{
		{
			ID: "nps-after-delivery", Title: "NPS after delivery",
			Description: "The Net Promoter question and one open why, for every group: the ongoing measure.",
			Survey: Survey{
				Key: "nps_after_delivery", Title: "NPS after delivery",
				NPSQuestion: "How likely are you to recommend us to a friend or colleague?",
				WhyQuestion: "What is the main reason for your score?",
				Groups:      allGroups(),
			},
		},
		{
			ID: "why-stopped", Title: "Why did you stop buying?",
			Description: "For customers who are leaving or gone: what made them stop, and what would bring them back.",
			Survey: Survey{
				Key: "why_stopped", Title: "Why did you stop buying?",
				NPSQuestion: "How likely are you to recommend us to a friend or colleague?",
				WhyQuestion: "What made you stop buying from us?",
				Questions: []Question{
					{ID: "reason", Kind: SingleChoice, Text: "Which comes closest to the reason?",
						Options: []string{"Found a better price elsewhere", "Product quality", "Delivery or service", "No longer need it", "Forgot about you", "Something else"}},
					{ID: "comeback", Kind: Text, Text: "What would make you buy from us again?"},
				},
				Groups: []string{"about-to-dump-you", "ex-lovers", "break-up"},
			},
		},
		{
			ID: "almost-stopped", Title: "What almost stopped you?",
			Description: "For new customers: the barriers they met on the way to their first purchase, and how easy it was.",
			Survey: Survey{
				Key: "almost_stopped", Title: "What almost stopped you?",
				CESQuestion: "How easy was it to find and buy what you wanted?",
				WhyQuestion: "What almost stopped you from buying?",
				Questions: []Question{
					{ID: "barriers", Kind: MultipleChoice, Text: "Did any of these make you hesitate?",
						Options: []string{"Price", "Shipping cost or time", "Not sure about size or fit", "Trust in a new shop", "Payment options", "Nothing"}},
				},
				Groups: []string{"new-passion", "apprentice"},
			},
		},
	}
}

// TemplateByID returns the template with the id.
func TemplateByID(id string) (Template, bool) {
	ts := Templates()
	i := slices.IndexFunc(ts, func(t Template) bool { return t.ID == id })
	if i < 0 {
		return Template{}, false
	}
	return ts[i], true
}

func allGroups() []string {
	return []string{"soulmates", "lovers", "potential-lovers", "new-passion", "apprentice", "don-juan",
		"flirting", "platonic-friends", "about-to-dump-you", "ex-lovers", "break-up"}
}
