package web

import (
	"slices"
	"strconv"
	"strings"

	"github.com/cvo-app/cvo/internal/survey"
)

// surveyWords are the public page's own words, in one language. The
// questions are the merchant's, in whatever language they wrote them.
type surveyWords struct {
	Lang, Optional, NotLikely, VeryLikely, Difficult, Easy, Send, Saving, ScoreSaved, ScoreFailed string
	ThanksTitle, ThanksBody, InvalidTitle, InvalidBody, ExpiredTitle, ExpiredBody                 string
	ClosedTitle, ClosedBody, BusyTitle, BusyBody, FixBelow, ErrorTitle, ErrorBody                 string
	ChooseMany                                                                                    string
}

var surveyLanguages = map[string]surveyWords{
	"en": {Lang: "en", Optional: "optional", NotLikely: "Not at all likely", VeryLikely: "Extremely likely",
		Difficult: "Very difficult", Easy: "Very easy", Send: "Send", Saving: "Saving your score…",
		ScoreSaved: "Thank you, your score is saved. You can tell us more below.", ScoreFailed: "Your score is not saved yet: press Send.",
		ThanksTitle: "Thank you!", ThanksBody: "Your answers have been saved. You can close this page.",
		InvalidTitle: "This link does not work", InvalidBody: "The link may be incomplete. Please open it again from the email.",
		ExpiredTitle: "This link has expired", ExpiredBody: "Thank you for your interest: this survey link is no longer valid.",
		ClosedTitle: "This survey is closed", ClosedBody: "Thank you for your interest: we are no longer collecting answers.",
		BusyTitle: "Too many attempts", BusyBody: "Please wait a minute and try again.",
		FixBelow: "Please check your answers.", ErrorTitle: "Something went wrong", ErrorBody: "Your answers were not saved. Please try again in a moment.",
		ChooseMany: "Choose any that apply"},
	"fr": {Lang: "fr", Optional: "facultatif", NotLikely: "Pas du tout probable", VeryLikely: "Très probable",
		Difficult: "Très difficile", Easy: "Très facile", Send: "Envoyer", Saving: "Enregistrement de votre note…",
		ScoreSaved: "Merci, votre note est enregistrée. Vous pouvez nous en dire plus ci-dessous.", ScoreFailed: "Votre note n’est pas encore enregistrée : appuyez sur Envoyer.",
		ThanksTitle: "Merci !", ThanksBody: "Vos réponses sont enregistrées. Vous pouvez fermer cette page.",
		InvalidTitle: "Ce lien ne fonctionne pas", InvalidBody: "Le lien est peut-être incomplet. Ouvrez-le de nouveau depuis l’e-mail.",
		ExpiredTitle: "Ce lien a expiré", ExpiredBody: "Merci de votre intérêt : ce lien de questionnaire n’est plus valable.",
		ClosedTitle: "Ce questionnaire est clos", ClosedBody: "Merci de votre intérêt : nous ne recueillons plus de réponses.",
		BusyTitle: "Trop de tentatives", BusyBody: "Veuillez patienter une minute puis réessayer.",
		FixBelow: "Veuillez vérifier vos réponses.", ErrorTitle: "Une erreur est survenue", ErrorBody: "Vos réponses n’ont pas été enregistrées. Réessayez dans un instant.",
		ChooseMany: "Choisissez toutes les réponses qui s’appliquent"},
	"de": {Lang: "de", Optional: "optional", NotLikely: "Überhaupt nicht wahrscheinlich", VeryLikely: "Äußerst wahrscheinlich",
		Difficult: "Sehr schwierig", Easy: "Sehr einfach", Send: "Senden", Saving: "Ihre Bewertung wird gespeichert…",
		ScoreSaved: "Danke, Ihre Bewertung ist gespeichert. Unten können Sie uns mehr erzählen.", ScoreFailed: "Ihre Bewertung ist noch nicht gespeichert: Bitte auf Senden tippen.",
		ThanksTitle: "Vielen Dank!", ThanksBody: "Ihre Antworten wurden gespeichert. Sie können diese Seite schließen.",
		InvalidTitle: "Dieser Link funktioniert nicht", InvalidBody: "Der Link ist vielleicht unvollständig. Bitte öffnen Sie ihn erneut aus der E-Mail.",
		ExpiredTitle: "Dieser Link ist abgelaufen", ExpiredBody: "Danke für Ihr Interesse: Dieser Umfragelink ist nicht mehr gültig.",
		ClosedTitle: "Diese Umfrage ist beendet", ClosedBody: "Danke für Ihr Interesse: Wir sammeln keine Antworten mehr.",
		BusyTitle: "Zu viele Versuche", BusyBody: "Bitte warten Sie eine Minute und versuchen Sie es erneut.",
		FixBelow: "Bitte prüfen Sie Ihre Antworten.", ErrorTitle: "Etwas ist schiefgelaufen", ErrorBody: "Ihre Antworten wurden nicht gespeichert. Bitte versuchen Sie es gleich noch einmal.",
		ChooseMany: "Alles Zutreffende auswählen"},
}

// wordsFor picks the page's language: the survey's own when the merchant
// set one, else the best of the browser's Accept-Language among those the
// page speaks, else English.
func wordsFor(surveyLang, acceptLanguage string) surveyWords {
	if w, ok := surveyLanguages[surveyLang]; ok {
		return w
	}
	return surveyLanguages[negotiateLanguage(acceptLanguage)]
}

// negotiateLanguage reads an Accept-Language header ("fr-CH, fr;q=0.9,
// en;q=0.8") and returns the supported language with the highest weight;
// at equal weights the first listed wins. A malformed entry is skipped.
func negotiateLanguage(header string) string {
	best, bestQ := survey.Languages[0], 0.0
	if len(header) > 512 {
		header = header[:512]
	}
	for _, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if !slices.Contains(survey.Languages, base) {
			continue
		}
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			q = f
		}
		if q > bestQ {
			best, bestQ = base, q
		}
	}
	return best
}
