package rfm

import (
	"fmt"
	"strings"
)

// Group is one of the eleven RFM groups. The zero value, NoGroup, stands
// for a customer who has not been scored (no purchase yet, or new since
// the previous scoring).
type Group uint8

// The groups, NoGroup first.
const (
	NoGroup Group = iota
	Soulmates
	Lovers
	PotentialLovers
	NewPassion
	Apprentice
	DonJuan
	Flirting
	PlatonicFriends
	AboutToDumpYou
	ExLovers
	BreakUp
)

// NumGroups counts the real groups; valid groups are 1..NumGroups, so
// arrays indexed by Group have NumGroups+1 entries with NoGroup at 0.
const NumGroups = 11

// Groups lists the eleven groups from most to least valuable, the order
// the admin page shows them in. It is not the rule evaluation order; see
// Rules for that.
func Groups() []Group {
	return []Group{Soulmates, Lovers, PotentialLovers, NewPassion, Apprentice, DonJuan,
		Flirting, PlatonicFriends, AboutToDumpYou, ExLovers, BreakUp}
}

var groupNames = [NumGroups + 1]string{
	NoGroup:         "Not scored",
	Soulmates:       "Soulmates",
	Lovers:          "Lovers",
	PotentialLovers: "Potential Lovers",
	NewPassion:      "New Passion",
	Apprentice:      "Apprentice",
	DonJuan:         "Don Juan",
	Flirting:        "Flirting",
	PlatonicFriends: "Platonic Friends",
	AboutToDumpYou:  "About to Dump You",
	ExLovers:        "Ex-Lovers",
	BreakUp:         "Break-Up",
}

// Slugs are stable identifiers written to Shopify tags and URLs; never
// change one without migrating stored tags.
var groupSlugs = [NumGroups + 1]string{
	NoGroup:         "none",
	Soulmates:       "soulmates",
	Lovers:          "lovers",
	PotentialLovers: "potential-lovers",
	NewPassion:      "new-passion",
	Apprentice:      "apprentice",
	DonJuan:         "don-juan",
	Flirting:        "flirting",
	PlatonicFriends: "platonic-friends",
	AboutToDumpYou:  "about-to-dump-you",
	ExLovers:        "ex-lovers",
	BreakUp:         "break-up",
}

// Valid reports whether g is one of the eleven groups.
func (g Group) Valid() bool { return g >= Soulmates && g <= BreakUp }

// Name is the display name, e.g. "About to Dump You".
func (g Group) Name() string {
	if int(g) < len(groupNames) {
		return groupNames[g]
	}
	return fmt.Sprintf("Group(%d)", uint8(g))
}

// Slug is the stable lower-case identifier, e.g. "about-to-dump-you".
func (g Group) Slug() string {
	if int(g) < len(groupSlugs) {
		return groupSlugs[g]
	}
	return fmt.Sprintf("group-%d", uint8(g))
}

func (g Group) String() string { return g.Name() }

// ParseGroup reads a slug as produced by Slug. It is lenient about case
// and surrounding blanks because slugs come back from Shopify tags that
// merchants can edit; "none" parses to NoGroup.
func ParseGroup(slug string) (Group, error) {
	s := strings.ToLower(strings.TrimSpace(slug))
	for g, candidate := range groupSlugs {
		if s == candidate {
			return Group(g), nil
		}
	}
	return NoGroup, fmt.Errorf("parse rfm group %q: unknown slug", slug)
}

// MarshalText writes the slug so JSON and map keys stay stable.
func (g Group) MarshalText() ([]byte, error) {
	if int(g) >= len(groupSlugs) {
		return nil, fmt.Errorf("marshal rfm group %d: out of range", uint8(g))
	}
	return []byte(g.Slug()), nil
}

// UnmarshalText reads a slug.
func (g *Group) UnmarshalText(text []byte) error {
	parsed, err := ParseGroup(string(text))
	if err != nil {
		return err
	}
	*g = parsed
	return nil
}
