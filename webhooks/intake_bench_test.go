package webhooks_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/web"
	"github.com/cvo-app/cvo/webhooks"
)

// intakeSenders is how many deliveries are in flight at once, as many as
// the fleet harness sends with.
const intakeSenders = 32

// orderBody is an orders/create body of a usual size (a few line items,
// addresses, a customer), so that reading, hashing and decoding cost what
// they cost in production.
func orderBody(id int64) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"id":%d,"admin_graphql_api_id":"gid://shopify/Order/%d","name":"#%d","created_at":"2026-11-01T10:00:00-05:00",`+
		`"updated_at":"2026-11-01T10:00:00-05:00","currency":"USD","total_price":"129.90","subtotal_price":"119.90",`+
		`"financial_status":"paid","fulfillment_status":null,"tags":"","note":null,`, id, id, id)
	b.WriteString(`"customer":{"id":7011234567,"admin_graphql_api_id":"gid://shopify/Customer/7011234567","email":"buyer@example.com",` +
		`"first_name":"Ada","last_name":"Buyer","orders_count":3,"total_spent":"329.70","tags":"vip"},`)
	b.WriteString(`"billing_address":{"address1":"1 Main St","city":"Ottawa","province":"Ontario","country":"Canada","zip":"K1A 0A1"},`)
	b.WriteString(`"shipping_address":{"address1":"1 Main St","city":"Ottawa","province":"Ontario","country":"Canada","zip":"K1A 0A1"},`)
	b.WriteString(`"line_items":[`)
	for i := range 5 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"admin_graphql_api_id":"gid://shopify/LineItem/%d","product_id":632910392,"variant_id":808950810,`+
			`"title":"IPod Nano - 8GB","quantity":%d,"price":"23.98","sku":"IPOD2008PINK","vendor":"Apple","taxable":true,`+
			`"tax_lines":[{"price":"3.12","rate":0.13,"title":"HST"}],"discount_allocations":[]}`, id*10+int64(i), id*10+int64(i), i+1)
	}
	b.WriteString(`],"refunds":[]}`)
	return b.Bytes()
}

// BenchmarkIntake measures the webhook receiver end to end as Shopify
// reaches it: the app's HTTP server with all its middleware on a loopback
// socket, keep-alive connections, every delivery signed, validated,
// inserted in PostgreSQL and queued in Redis before its 200. It reports
// deliveries/s, latency percentiles and the process's CPU per delivery
// (client and server together: both run here).
//
//	go test ./webhooks/ -run '^$' -bench Intake -benchtime 4000x -cpuprofile cpu.out
//
// Each sub-benchmark gives the server a pool of that many connections
// (pool_max_conns); 4 is what pgx picks on a 2-core machine.
func BenchmarkIntake(b *testing.B) {
	for _, pool := range []int{4, 8, 16} {
		b.Run(fmt.Sprintf("pool=%d", pool), func(b *testing.B) { benchmarkIntake(b, pool) })
	}
}

func benchmarkIntake(b *testing.B, pool int) {
	f := newFixture(b)
	db, err := postgres.Open(context.Background(), fmt.Sprintf("%s&pool_max_conns=%d", f.db.Pool.Config().ConnString(), pool))
	require.NoError(b, err)
	b.Cleanup(db.Close)
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	receiver := webhooks.NewReceiver(secret, postgres.NewDeliveryStore(db), f.shops, f.privacy, f.queue, log)
	srv := web.NewServer(web.Config{ClientSecret: secret}, web.Deps{Webhooks: receiver, Log: log})
	ts := httptest.NewServer(srv)
	b.Cleanup(ts.Close)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		MaxIdleConnsPerHost: intakeSenders, MaxConnsPerHost: intakeSenders}}
	b.Cleanup(client.CloseIdleConnections)

	bodies := make([][]byte, b.N)
	sigs := make([]string, b.N)
	for i := range bodies {
		bodies[i] = orderBody(int64(1_000_000 + i))
		sigs[i] = sign(string(bodies[i]))
	}
	lat := make([]time.Duration, b.N)
	var next, failed atomic.Int64
	run := fmt.Sprintf("%d", time.Now().UnixNano())

	b.ReportAllocs()
	cpu0 := processCPU()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range intakeSenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= b.N {
					return
				}
				t0 := time.Now()
				status, err := postDelivery(client, ts.URL, f.shop, "bench-"+run+"-"+fmt.Sprint(i), bodies[i], sigs[i])
				lat[i] = time.Since(t0)
				if err != nil || status != http.StatusOK {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	cpu := processCPU() - cpu0

	require.Zero(b, failed.Load(), "every delivery is answered 200")
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(ms(lat[b.N/2]), "p50-ms")
	b.ReportMetric(ms(lat[min(b.N-1, b.N*99/100)]), "p99-ms")
	b.ReportMetric(ms(cpu)/float64(b.N), "cpu-ms/delivery")
	// The numbers are only worth anything if every delivery really landed.
	var stored int
	require.NoError(b, f.db.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM webhook_deliveries WHERE webhook_id LIKE $1 AND state = 'pending' AND payload IS NOT NULL`,
		"bench-"+run+"-%").Scan(&stored))
	require.Equal(b, b.N, stored)
}

func postDelivery(client *http.Client, base, shop, id string, body []byte, sig string) (int, error) {
	req, err := http.NewRequest(http.MethodPost, base+"/webhooks", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Shopify-Topic", "orders/create")
	req.Header.Set("X-Shopify-Shop-Domain", shop)
	req.Header.Set("X-Shopify-Webhook-Id", id)
	req.Header.Set("X-Shopify-Triggered-At", "2026-11-01T15:00:00.123Z")
	req.Header.Set("X-Shopify-API-Version", "2026-10")
	req.Header.Set("X-Shopify-Hmac-Sha256", sig)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// processCPU is the user and system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
