package devstack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/go-kit/log"

	"github.com/orderflow/orderflow/devstack"
	"github.com/orderflow/orderflow/flowsvc"
	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/transport/event"
)

// stack is the whole system as make run starts it, on free ports.
type stack struct {
	flowURL, gatewayURL string
}

// startStack runs devstack.Run, with the embedded FerretDB and a Redis of
// its own, until the test ends, and waits until every service is ready.
// options change the configuration first.
func startStack(t *testing.T, options ...func(*devstack.Config)) stack {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping in -short mode: runs the whole system")
	}
	cfg := devstack.Config{
		DataDir: t.TempDir(), MongoAddr: testenv.FreeAddr(t), RedisAddr: testenv.FreeAddr(t),
		GatewayAddr: testenv.FreeAddr(t), OrdersvcAddr: testenv.FreeAddr(t), PaymentsvcAddr: testenv.FreeAddr(t),
		FlowsvcAddr: testenv.FreeAddr(t),
	}
	for _, o := range options {
		o(&cfg)
	}
	logs := &testenv.Log{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- devstack.Run(ctx, cfg, logs, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("devstack: %v", err)
		}
		if t.Failed() {
			t.Logf("logs of the stack:\n%s", logs)
		}
	})
	for _, addr := range []string{cfg.OrdersvcAddr, cfg.PaymentsvcAddr, cfg.GatewayAddr, cfg.FlowsvcAddr} {
		testenv.Eventually(t, 2*time.Minute, addr+" never became ready", func() bool {
			select {
			case err := <-done:
				done <- err
				t.Fatalf("devstack stopped: %v\n%s", err, logs)
			default:
			}
			return ready("http://" + addr + "/readyz")
		})
	}
	return stack{flowURL: "http://" + cfg.FlowsvcAddr + "/", gatewayURL: "http://" + cfg.GatewayAddr}
}

// ready reports whether url answers 200 with nothing failing, the
// subscriptions included.
func ready(url string) bool {
	resp, err := http.Get(url)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode == http.StatusOK && !strings.Contains(string(body), "failing")
}

// chromium returns the path of Debian's chromium. Without it the test
// skips, except under CI, where it fails.
func chromium(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		msg := "chromium is not installed: apt-get install chromium (make deps does, as root)"
		if os.Getenv("CI") != "" {
			t.Fatalf("%s; CI must provide it", msg)
		}
		t.Skipf("skipping: %s", msg)
	}
	return path
}

// newBrowser starts the chromium at path, headless, with a profile of its
// own, and returns the context of a tab with a 1200x700 viewport, which
// ends within three minutes.
func newBrowser(t *testing.T, path string) context.Context {
	t.Helper()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 700),
	)
	tab, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for the browser to exit, before its profile is removed
	})
	// The browser lives as long as the context of its first action: that
	// one has no deadline, the later ones do.
	if err := chromedp.Do(tab, chromedp.EmulateViewport(1200, 700)); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	ctx, cancel := context.WithTimeout(tab, 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// do runs actions in the tab, failing the test on an error.
func do(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// eval returns the value of a JavaScript expression in the page.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// poll polls the page until the JavaScript expression expr is truthy, and
// returns its value.
func poll[T any](ctx context.Context, expr string) (T, error) {
	return chromedp.Run(ctx, chromedp.Poll[T](expr, chromedp.WithPollingTimeout(30*time.Second), chromedp.WithPollingInterval(20*time.Millisecond)))
}

// waitFor polls the page until the JavaScript expression cond is true.
func waitFor(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	if _, err := poll[bool](ctx, cond); err != nil {
		page, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("waiting until %s: %v\nthe page says:\n%s", what, err, page)
	}
}

// openPage opens the flow page and waits until its stream is live.
func openPage(t *testing.T, ctx context.Context, s stack) {
	t.Helper()
	do(t, ctx, chromedp.Navigate(s.flowURL))
	waitFor(t, ctx, "the stream is live", `document.body.dataset.stream === "live"`)
}

// place clicks the button of the form and returns the id of the order the
// API created, or fails with the error the page shows.
func place(t *testing.T, ctx context.Context, button string) string {
	t.Helper()
	before := eval[string](t, ctx, `document.body.dataset.lastOrder || ""`)
	do(t, ctx, chromedp.Click(chromedp.CSS(button)))
	result, err := poll[string](ctx, fmt.Sprintf(`(() => {
		const e = document.getElementById("form-error");
		if (!e.hidden) return "error: " + e.textContent;
		const id = document.body.dataset.lastOrder || "";
		return id !== %q ? id : "";
	})()`, before))
	if err != nil || strings.HasPrefix(result, "error: ") {
		t.Fatalf("placing an order with %s: %v %s", button, err, result)
	}
	return result
}

// statusOf is the JavaScript expression of the status the row of order shows.
func statusOf(order string) string {
	return fmt.Sprintf(`((document.querySelector('tr[data-order-id="%s"] .status') || {}).textContent || "")`, order)
}

// waitForStatus waits until the row of order shows status.
func waitForStatus(t *testing.T, ctx context.Context, order, status string) {
	t.Helper()
	waitFor(t, ctx, "order "+order+" shows "+status, statusOf(order)+` === "`+status+`"`)
}

// screenshot saves the tab's viewport as a PNG file at path, once the
// rows' highlight has faded.
func screenshot(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	waitFor(t, ctx, "the animations are over", `document.getAnimations().length === 0`)
	b, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the screenshot is no PNG: %v", err)
	}
	if size := img.Bounds().Size(); size.X != 1200 || size.Y != 700 {
		t.Errorf("want a 1200x700 screenshot, have %v", size)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestThePagePlacesOrdersAndShowsThemReachPaidAndDeclined(t *testing.T) {
	browser := chromium(t)
	s := startStack(t)
	ctx := newBrowser(t, browser)
	openPage(t, ctx, s)

	paid := place(t, ctx, "#order-paid")
	waitForStatus(t, ctx, paid, "Paid")
	declined := place(t, ctx, "#order-declined")
	waitForStatus(t, ctx, declined, "Declined")

	// Newest on top, each step timed, and the settle time shown.
	if top := eval[string](t, ctx, `document.querySelector("#rows tr").dataset.orderId`); top != declined {
		t.Errorf("want the declined order on top, have %s", top)
	}
	waitFor(t, ctx, "the paid order's settle time is shown",
		fmt.Sprintf(`/\d ms|\d s/.test(document.querySelector('tr[data-order-id="%s"] .c-settle').textContent)`, paid))
	screenshot(t, ctx, filepath.Join(t.TempDir(), "flow.png"))
}

func TestThePageSaysSoWhenSignInIsOn(t *testing.T) {
	browser := chromium(t)
	s := startStack(t, func(c *devstack.Config) { c.AuthSecret = strings.Repeat("s3cret-", 6) })
	ctx := newBrowser(t, browser)
	openPage(t, ctx, s)
	do(t, ctx, chromedp.Click(chromedp.CSS("#order-paid")))
	waitFor(t, ctx, "the page shows the 401 and the API's message", `(() => {
		const e = document.getElementById("form-error");
		return !e.hidden && e.textContent.startsWith("Sign-in is on (401): Sign in: send Authorization: Bearer <token>.");
	})()`)
	if rows := eval[int](t, ctx, `document.querySelectorAll("#rows tr").length`); rows != 0 {
		t.Errorf("want no order, have %d rows", rows)
	}
}

// TestScreenshot writes the screenshot of the README: FLOW_SCREENSHOT=docs/flow.png
// go test -run TestScreenshot ./devstack/ (a relative path is from the
// repository's root).
func TestScreenshot(t *testing.T) {
	path := os.Getenv("FLOW_SCREENSHOT")
	if path == "" {
		t.Skip("skipping: set FLOW_SCREENSHOT=docs/flow.png to write the page's screenshot")
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join("..", path)
	}
	browser := chromium(t)
	s := startStack(t)
	ctx := newBrowser(t, browser)
	openPage(t, ctx, s)

	refunded := place(t, ctx, "#order-paid")
	waitForStatus(t, ctx, refunded, "Paid")
	waitForStatus(t, ctx, place(t, ctx, "#order-declined"), "Declined")
	waitForStatus(t, ctx, place(t, ctx, "#order-paid"), "Paid")
	// The cancel button of a paid row: PUT /orders through the same proxy.
	do(t, ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`tr[data-order-id="%s"] button.cancel`, refunded))))
	waitForStatus(t, ctx, refunded, "Refunded")
	waitForStatus(t, ctx, place(t, ctx, "#order-declined"), "Declined")
	waitForStatus(t, ctx, place(t, ctx, "#order-paid"), "Paid")
	waitForStatus(t, ctx, place(t, ctx, "#order-paid"), "Paid")
	waitFor(t, ctx, "the stats count the orders", `document.getElementById("stat-rate").textContent === "6"`)

	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, path)
	t.Logf("wrote %s", path)
}

// TestThePageStaysReadableUnderThousandsOfOrdersAMinute feeds flowsvc,
// alone on a Redis of its own, the events of 3,000 orders in three
// seconds (60,000 a minute): the page keeps answering, shows its newest
// 100 rows, and counts them all.
func TestThePageStaysReadableUnderThousandsOfOrdersAMinute(t *testing.T) {
	path := chromium(t)
	server := testenv.Redis(t)
	var cfg flowsvc.Config
	cfg.RegisterFlags(flag.NewFlagSet("flowsvc", flag.ContinueOnError))
	cfg.HTTPAddr, cfg.Redis.URL, cfg.GatewayURL = testenv.FreeAddr(t), "redis://"+server.Addr+"/0", "http://"+testenv.FreeAddr(t)
	cfg.ShutdownTimeout = time.Second
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- flowsvc.Run(ctx, cfg, log.NewNopLogger(), nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("flowsvc: %v", err)
		}
	})
	testenv.Eventually(t, 10*time.Second, "flowsvc never became ready", func() bool {
		resp, err := http.Get("http://" + cfg.HTTPAddr + "/readyz") // subscribed; no gateway here
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	browser := newBrowser(t, path)
	openPage(t, browser, stack{flowURL: "http://" + cfg.HTTPAddr + "/"})

	rdb := testenv.RedisClient(t, server)
	publish := func(i int) {
		id := fmt.Sprintf("%024x", i)
		money := event.Money{Amount: 1250, Currency: "MYR"}
		created, _ := json.Marshal(event.OrderCreated{Meta: event.NewMeta(event.TypeOrderCreated, id, "load"), UserID: "load", ProductID: "1", Money: money})
		paid, _ := json.Marshal(event.PaymentProcessed{Meta: event.NewMeta(event.TypePaymentProcessed, id, "load"), PaymentID: "p" + id, Outcome: event.OutcomePaid, Money: money})
		pipe := rdb.Pipeline()
		pipe.Publish(context.Background(), event.ChannelOrderCreated, created)
		pipe.Publish(context.Background(), event.ChannelPaymentProcessed, paid)
		if _, err := pipe.Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	const orders, perTick = 3000, 50
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	slowest := time.Duration(0)
	for i := 1; i <= orders; i++ {
		publish(i)
		if i%perTick != 0 {
			continue
		}
		<-tick.C
		begin := time.Now()
		if n := eval[int](t, browser, `document.querySelectorAll("#rows tr").length`); n > 100 {
			t.Fatalf("after %d orders the page has %d rows, want at most 100", i, n)
		}
		slowest = max(slowest, time.Since(begin))
	}
	if slowest > 2*time.Second {
		t.Errorf("the page took %v to answer while the orders came", slowest)
	}

	// Orders are handled by many workers at once, so the last few may be
	// seen in another order than they were published: let all be seen
	// before the one that must come out on top.
	waitFor(t, browser, "every order counted", fmt.Sprintf(`document.getElementById("stat-rate").textContent === "%d"`, orders))
	last := fmt.Sprintf("%024x", orders+1)
	publish(orders + 1)
	waitForStatus(t, browser, last, "Paid")
	waitFor(t, browser, "the newest of 100 rows is on top and every order counted", fmt.Sprintf(`
		document.querySelectorAll("#rows tr").length === 100 &&
		document.querySelector("#rows tr").dataset.orderId === %q &&
		document.getElementById("stat-rate").textContent === "%d"`, last, orders+1))
	t.Logf("slowest answer of the page under load: %v; %s", slowest, eval[string](t, browser, `document.getElementById("conn").textContent`))

	resp, err := http.Get("http://" + cfg.HTTPAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		fmt.Sprintf(`flowsvc_messages_total{channel="orders.created",result="handled"} %d`, orders+1),
		"flowsvc_stream_connections_total 1", "flowsvc_stream_dropped_total ",
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
