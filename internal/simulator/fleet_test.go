package simulator

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseFaults(t *testing.T) {
	tests := []struct {
		in      string
		want    Faults
		wantErr bool
	}{
		{in: "", want: Faults{}},
		{in: "throttle=0.2,5xx=0.05", want: Faults{Throttle: 0.2, ServerError: 0.05}},
		{in: " 5xx = 1 ", want: Faults{ServerError: 1}},
		{in: "throttle=0.2,", want: Faults{Throttle: 0.2}},
		{in: "throttle", wantErr: true},
		{in: "throttle=abc", wantErr: true},
		{in: "throttle=-0.1", wantErr: true},
		{in: "throttle=1.5", wantErr: true},
		{in: "throttle=0.6,5xx=0.6", wantErr: true},
		{in: "429=0.1", wantErr: true},
		{in: "throttle=NaN", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFaults(tt.in)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func FuzzParseFaults(f *testing.F) {
	for _, s := range []string{"", "throttle=0.2,5xx=0.05", "throttle=1", "5xx=", "=,=", "throttle=1e-3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseFaults(s)
		if err != nil {
			return
		}
		if got.Throttle < 0 || got.ServerError < 0 || got.Throttle+got.ServerError > 1 {
			t.Fatalf("ParseFaults(%q) = %+v: shares out of range", s, got)
		}
	})
}

// Faults answer every request when their shares add up to 1, and none run:
// the store is untouched and the call log says the answers were injected.
func TestFaultsAnswerInsteadOfRunning(t *testing.T) {
	tests := []struct {
		name      string
		faults    Faults
		status    int
		throttled bool
	}{
		{name: "throttled", faults: Faults{Throttle: 1}, status: http.StatusOK, throttled: true},
		{name: "5xx", faults: Faults{ServerError: 1}, status: http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			tok := h.token(testShop)
			h.sim.SetFaults(tt.faults)
			status, body := h.graphql(testShop, tok, `mutation { tagsAdd(id: "gid://shopify/Customer/1", tags: ["x"]) { userErrors { message } } }`, nil)
			require.Equal(t, tt.status, status, body)
			if tt.throttled {
				assert.Equal(t, "THROTTLED", path(body, "errors", 0, "extensions", "code"))
				assert.Equal(t, float64(0), path(body, "extensions", "cost", "throttleStatus", "currentlyAvailable"),
					"an empty bucket, so the app waits for points")
			}
			calls := h.sim.CallLog(testShop)
			require.Len(t, calls, 1)
			assert.True(t, calls[0].Injected)
			assert.False(t, calls[0].Executed())

			h.sim.SetFaults(Faults{})
			status, _ = h.graphql(testShop, tok, `{ shop { name } }`, nil)
			assert.Equal(t, http.StatusOK, status, "no faults once turned off")
		})
	}
}

// The token audit tells a shop's own token from another shop's and from
// none: a fleet test relies on it to prove no shop's calls used another's
// credentials.
func TestTokenAudit(t *testing.T) {
	h := newHarness(t)
	const other = "other.myshopify.com"
	require.NoError(t, h.sim.AddShop(other, ShopOptions{}))
	mine, theirs := h.token(testShop), h.token(other)

	status, _ := h.graphql(testShop, mine, `{ shop { name } }`, nil)
	require.Equal(t, http.StatusOK, status)
	status, _ = h.graphql(testShop, theirs, `{ shop { name } }`, nil)
	require.Equal(t, http.StatusUnauthorized, status, "Shopify refuses another shop's token")
	status, _ = h.graphql(testShop, "", `{ shop { name } }`, nil)
	require.Equal(t, http.StatusUnauthorized, status)

	assert.Equal(t, TokenAudit{Requests: 3, OwnToken: 1, ForeignToken: 1, UnknownToken: 1}, h.sim.TokenAudit(testShop))
	assert.Equal(t, TokenAudit{}, h.sim.TokenAudit(other), "calls are filed under the shop they went to")
}

// CollectWebhooks hands over the deliveries a change causes instead of
// sending them, so they can be sent later, twice or out of order.
func TestCollectWebhooks(t *testing.T) {
	h := newHarness(t)
	h.token(testShop) // installs the app: webhooks are only sent to installed apps
	require.NoError(t, h.sim.AddCustomers(testShop, []Customer{{FirstName: "A"}}))
	c := h.sim.Customers(testShop)
	require.Len(t, c, 1)

	var got []*WebhookDelivery
	_, err := h.sim.CreateOrder(context.Background(), testShop, Order{CustomerID: c[0].ID, Total: NewAmount(10)},
		CollectWebhooks(func(d *WebhookDelivery) { got = append(got, d) }))
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, "orders/create", got[0].Topic)
	assert.Equal(t, "orders/paid", got[1].Topic)
	assert.Equal(t, got[0].EventID, got[1].EventID, "one action, one event id")
	assert.NotEqual(t, got[0].WebhookID, got[1].WebhookID)
	assert.Empty(t, h.receivedHooks(), "nothing was sent")

	status, err := h.sim.Deliver(context.Background(), got[0])
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status)
	require.Len(t, h.receivedHooks(), 1)
	assert.Equal(t, h.sim.WebhookURL("orders/create"), h.app.URL+h.receivedHooks()[0].path)
	assert.Len(t, h.sim.Orders(testShop), 1)
}
