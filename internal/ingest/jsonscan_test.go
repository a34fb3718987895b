package ingest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzJSONReaderAgreesWithEncodingJSON checks the hand-written reader
// against the standard library: it accepts exactly the documents
// encoding/json accepts, and decodes strings to the same text.
func FuzzJSONReaderAgreesWithEncodingJSON(f *testing.F) {
	for _, s := range []string{
		`{"a":1,"b":[true,false,null],"c":{"d":"e\u00e9\n\"x\""}}`, `[]`, `{}`, `"\ud83d\ude00"`, `"\ud83d"`, `-0.5e+10`,
		`01`, `{"a":}`, `[1,]`, `"\x"`, "\"tab\there\"", `{"a":1}{`, `  null  `, `1.`, `"\u00zz"`, "\"\xff\"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r := jsonReader{b: in}
		err := r.skip()
		if err == nil {
			err = r.end()
		}
		require.Equal(t, json.Valid(in), err == nil, "input %q: reader error %v", in, err)

		r = jsonReader{b: in}
		if r.peek() != '"' || !json.Valid(in) {
			return
		}
		got, err := r.str()
		require.NoError(t, err)
		var want string
		require.NoError(t, json.Unmarshal(in, &want))
		require.Equal(t, want, got)
	})
}

func TestFastTimeMatchesTimeParse(t *testing.T) {
	for _, s := range []string{"2024-01-05T09:15:00Z", "2024-03-10T14:00:00+01:00", "2023-04-02T10:00:00-05:00",
		"2024-02-29T23:59:59.123456789Z", "2024-05-01T10:12:00.5-04:00", "1999-12-31T23:59:59+14:00"} {
		want, err := time.Parse(time.RFC3339Nano, s)
		require.NoError(t, err)
		got, err := parseTimeBytes("t", []byte(s))
		require.NoError(t, err)
		assert.True(t, want.Equal(got), s)
		assert.Equal(t, time.UTC, got.Location())
	}
	for _, bad := range []string{"2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z", "2024-01-01 00:00:00Z", "2024-01-01T24:00:00Z", "yesterday", ""} {
		_, err := parseTimeBytes("t", []byte(bad))
		assert.Error(t, err, bad)
	}
}
