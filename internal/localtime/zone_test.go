package localtime

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every conversion must agree with time.Time.In, inside the table's range,
// across daylight-saving changes, and outside it.
func TestZoneAgreesWithTheTimePackage(t *testing.T) {
	for _, name := range []string{"UTC", "Europe/London", "America/Sao_Paulo", "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Chatham"} {
		loc, err := time.LoadLocation(name)
		require.NoError(t, err)
		from := time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
		to := time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC).Unix()
		z := NewZone(from, to, loc)
		rng := rand.New(rand.NewPCG(1, uint64(len(name))))
		for range 20_000 {
			// Mostly inside the range, some before and after it.
			at := from - 400*SecondsPerDay + rng.Int64N(to-from+800*SecondsPerDay)
			lt := time.Unix(at, 0).In(loc)
			wantDay := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, time.UTC).Unix() / SecondsPerDay
			require.Equal(t, int32(wantDay), z.Day(at), "%s at %v", name, lt)
			wd, h := z.WeekdayHour(at)
			require.Equal(t, int(lt.Weekday()), wd, "%s at %v", name, lt)
			require.Equal(t, lt.Hour(), h, "%s at %v", name, lt)
		}
	}
}

func TestFloorDiv(t *testing.T) {
	assert.Equal(t, int64(-1), FloorDiv(-1, SecondsPerDay))
	assert.Equal(t, int64(0), FloorDiv(0, SecondsPerDay))
	assert.Equal(t, int64(1), FloorDiv(SecondsPerDay, SecondsPerDay))
	assert.Equal(t, int64(6), FloorMod(-1, 7))
}
