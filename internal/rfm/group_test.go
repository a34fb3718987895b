package rfm

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGroupNamesAndSlugs(t *testing.T) {
	cases := []struct {
		g    Group
		name string
		slug string
	}{
		{Soulmates, "Soulmates", "soulmates"},
		{Lovers, "Lovers", "lovers"},
		{PotentialLovers, "Potential Lovers", "potential-lovers"},
		{NewPassion, "New Passion", "new-passion"},
		{Apprentice, "Apprentice", "apprentice"},
		{DonJuan, "Don Juan", "don-juan"},
		{Flirting, "Flirting", "flirting"},
		{PlatonicFriends, "Platonic Friends", "platonic-friends"},
		{AboutToDumpYou, "About to Dump You", "about-to-dump-you"},
		{ExLovers, "Ex-Lovers", "ex-lovers"},
		{BreakUp, "Break-Up", "break-up"},
	}
	require.Len(t, cases, NumGroups)
	for _, c := range cases {
		t.Run(c.slug, func(t *testing.T) {
			assert.Equal(t, c.name, c.g.Name())
			assert.Equal(t, c.slug, c.g.Slug())
			assert.True(t, c.g.Valid())
			parsed, err := ParseGroup(c.slug)
			require.NoError(t, err)
			assert.Equal(t, c.g, parsed)
		})
	}
	assert.False(t, NoGroup.Valid())
	assert.False(t, Group(NumGroups+1).Valid())
	assert.ElementsMatch(t, Groups(), []Group{Soulmates, Lovers, PotentialLovers, NewPassion, Apprentice,
		DonJuan, Flirting, PlatonicFriends, AboutToDumpYou, ExLovers, BreakUp})
}

func TestParseGroupIsLenientAboutCaseAndBlanks(t *testing.T) {
	g, err := ParseGroup("  Don-Juan ")
	require.NoError(t, err)
	assert.Equal(t, DonJuan, g)

	_, err = ParseGroup("Don Juan")
	assert.ErrorContains(t, err, "unknown slug")
	_, err = ParseGroup("")
	assert.Error(t, err)
}

func TestGroupJSONUsesSlugs(t *testing.T) {
	in := map[string]Group{"a": ExLovers, "b": NoGroup}
	raw, err := json.Marshal(in)
	require.NoError(t, err)
	assert.JSONEq(t, `{"a":"ex-lovers","b":"none"}`, string(raw))

	var out map[string]Group
	require.NoError(t, json.Unmarshal(raw, &out))
	assert.Equal(t, in, out)

	assert.Error(t, json.Unmarshal([]byte(`"lover"`), new(Group)))
	_, err = Group(200).MarshalText()
	assert.Error(t, err)
}

func TestPlaybookCoversEveryGroup(t *testing.T) {
	plays := Playbooks()
	require.Len(t, plays, NumGroups)
	seen := map[string]bool{}
	for i, p := range plays {
		assert.Equal(t, Groups()[i], p.Group)
		assert.NotEmpty(t, p.Meaning, p.Group.Name())
		assert.NotEmpty(t, p.Action, p.Group.Name())
		assert.False(t, seen[p.Meaning], "duplicate meaning for %s", p.Group)
		seen[p.Meaning] = true
	}
	assert.Empty(t, NoGroup.Playbook().Meaning)
}

func FuzzParseGroup(f *testing.F) {
	for _, g := range Groups() {
		f.Add(g.Slug())
	}
	f.Add("NONE")
	f.Add("\x00")
	f.Fuzz(func(t *testing.T, s string) {
		g, err := ParseGroup(s)
		if err != nil {
			assert.Equal(t, NoGroup, g)
			return
		}
		again, err := ParseGroup(g.Slug())
		require.NoError(t, err)
		assert.Equal(t, g, again)
	})
}
