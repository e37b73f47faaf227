package devstack_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aftercare/aftercare/infra/devstack"
)

func TestHTTPRoutesFromTemplate(t *testing.T) {
	root, _ := devstack.ProjectRoot()
	tpl, err := devstack.LoadTemplate(root + "/template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range devstack.HTTPRoutes(tpl.Functions()) {
		want := "WebhookFunction"
		switch {
		case strings.HasPrefix(r.Path, "/report"):
			want = "ReportFunction"
		case strings.HasPrefix(r.Path, "/unsubscribe/"):
			want = "UnsubscribeFunction"
		}
		if r.Function != want {
			t.Errorf("route %s goes to %s, want %s", r.Key(), r.Function, want)
		}
		keys = append(keys, r.Key())
	}
	if got := strings.Join(keys, "|"); got != "GET /healthz|GET /report|GET /report.html|GET /unsubscribe/{token}|POST /unsubscribe/{token}|POST /webhooks/carriers/{carrier}|POST /webhooks/shopify" {
		t.Errorf("routes = %s", got)
	}
}

func httpAPI(t *testing.T) *httptest.Server {
	t.Helper()
	r, _ := newRunner(t, time.Second, nil)
	api := &devstack.HTTPAPI{
		Routes: []devstack.Route{
			{Function: "TestFunction", Method: "POST", Path: "/webhooks/carriers/{carrier}"},
			{Function: "TestFunction", Method: "GET", Path: "/healthz"},
			{Function: "TestFunction", Method: "POST", Path: "/things/special"},
			{Function: "TestFunction", Method: "ANY", Path: "/things/{id}"},
			{Function: "TestFunction", Method: "ANY", Path: "/files/{proxy+}"},
		},
		Invoke: func(ctx context.Context, fn string, payload []byte) *devstack.Result {
			if fn != "TestFunction" {
				t.Errorf("invoked %s", fn)
			}
			return r.Invoke(ctx, payload)
		},
	}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func echoedEvent(t *testing.T, body []byte) events.APIGatewayV2HTTPRequest {
	t.Helper()
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatalf("echoed event %s: %v", body, err)
	}
	return ev
}

// The event is payload format 2.0 as API Gateway builds it, and the function's
// structured response maps back to status, headers, cookies and body.
func TestHTTPAPIEventAndResponse(t *testing.T) {
	srv := httpAPI(t)
	req, _ := http.NewRequest("POST", srv.URL+"/webhooks/carriers/easypost?x=1&x=2&y=%C3%A9", strings.NewReader(`{"hello":"world"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Add("X-Test", "a")
	req.Header.Add("X-Test", "b")
	req.Header.Set("User-Agent", "devstack-test")
	req.Header.Set("Cookie", "c1=1; c2=2")
	resp, body := do(t, req)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	ev := echoedEvent(t, body)
	if ev.Version != "2.0" || ev.RouteKey != "POST /webhooks/carriers/{carrier}" || ev.RawPath != "/webhooks/carriers/easypost" {
		t.Errorf("version/routeKey/rawPath = %q %q %q", ev.Version, ev.RouteKey, ev.RawPath)
	}
	if ev.RawQueryString != "x=1&x=2&y=%C3%A9" || ev.QueryStringParameters["x"] != "1,2" || ev.QueryStringParameters["y"] != "é" {
		t.Errorf("query = %q %v", ev.RawQueryString, ev.QueryStringParameters)
	}
	if ev.PathParameters["carrier"] != "easypost" {
		t.Errorf("path parameters = %v", ev.PathParameters)
	}
	if ev.Headers["x-test"] != "a,b" || ev.Headers["content-type"] != "application/json" || ev.Headers["user-agent"] != "devstack-test" || ev.Headers["host"] == "" {
		t.Errorf("headers = %v", ev.Headers)
	}
	if _, ok := ev.Headers["cookie"]; ok || strings.Join(ev.Cookies, "|") != "c1=1|c2=2" {
		t.Errorf("cookies = %v, cookie header %q", ev.Cookies, ev.Headers["cookie"])
	}
	rc := ev.RequestContext
	if rc.HTTP.Method != "POST" || rc.HTTP.Path != "/webhooks/carriers/easypost" || rc.HTTP.SourceIP != "127.0.0.1" || rc.HTTP.UserAgent != "devstack-test" {
		t.Errorf("requestContext.http = %+v", rc.HTTP)
	}
	if rc.Stage != "$default" || rc.RequestID == "" || rc.RouteKey != ev.RouteKey || rc.TimeEpoch < time.Now().Add(-time.Minute).UnixMilli() || rc.Time == "" {
		t.Errorf("requestContext = %+v", rc)
	}
	if ev.Body != `{"hello":"world"}` || ev.IsBase64Encoded {
		t.Errorf("body = %q base64=%v", ev.Body, ev.IsBase64Encoded)
	}
	if resp.Header.Get("X-Route") != ev.RouteKey || strings.Join(resp.Header.Values("X-Multi"), ",") != "a,b" || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("response headers = %v", resp.Header)
	}
	if c := resp.Header.Values("Set-Cookie"); len(c) != 2 || c[0] != "a=1; Path=/" {
		t.Errorf("set-cookie = %v", c)
	}
	if resp.Header.Get("Apigw-Requestid") != rc.RequestID {
		t.Errorf("apigw-requestid %q, event has %q", resp.Header.Get("Apigw-Requestid"), rc.RequestID)
	}
}

func TestHTTPAPIBodies(t *testing.T) {
	srv := httpAPI(t)
	post := func(path, ctype string, body []byte) (*http.Response, []byte) {
		req, _ := http.NewRequest("POST", srv.URL+path, bytes.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		return do(t, req)
	}
	bin := []byte{0xff, 0x00, 0xfe, 'a'}
	_, b := post("/things/1", "application/octet-stream", bin)
	ev := echoedEvent(t, b)
	if dec, _ := base64.StdEncoding.DecodeString(ev.Body); !ev.IsBase64Encoded || !bytes.Equal(dec, bin) {
		t.Errorf("binary body = %q base64=%v", ev.Body, ev.IsBase64Encoded)
	}
	_, b = post("/things/1", "application/octet-stream", []byte("looks like text"))
	if ev := echoedEvent(t, b); !ev.IsBase64Encoded {
		t.Errorf("an octet-stream body was passed as text")
	}
	_, b = post("/things/1", "application/x-www-form-urlencoded", []byte("a=1&b=%C3%A9"))
	if ev := echoedEvent(t, b); ev.IsBase64Encoded || ev.Body != "a=1&b=%C3%A9" {
		t.Errorf("form body = %q base64=%v", ev.Body, ev.IsBase64Encoded)
	}
	_, b = post("/things/1", "text/plain; charset=utf-8", []byte("héllo"))
	if ev := echoedEvent(t, b); ev.IsBase64Encoded || ev.Body != "héllo" {
		t.Errorf("text body = %q base64=%v", ev.Body, ev.IsBase64Encoded)
	}
	resp, b := post("/things/1", "application/json", bytes.Repeat([]byte("x"), devstack.MaxPayload+1))
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !json.Valid(b) {
		t.Errorf("6 MB + 1 body: %d %s", resp.StatusCode, b)
	}
}

// Literal segments beat parameters, greedy parameters take the rest, and what
// matches no route (path or method) is API Gateway's 404.
func TestHTTPAPIRouting(t *testing.T) {
	srv := httpAPI(t)
	cases := []struct {
		method, path, routeKey string
		params                 map[string]string
	}{
		{"POST", "/things/special", "POST /things/special", nil},
		{"POST", "/things/42", "ANY /things/{id}", map[string]string{"id": "42"}},
		{"DELETE", "/things/special", "ANY /things/{id}", map[string]string{"id": "special"}},
		{"GET", "/files/a/b/c.txt", "ANY /files/{proxy+}", map[string]string{"proxy": "a/b/c.txt"}},
		{"GET", "/healthz", "GET /healthz", nil},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
		resp, b := do(t, req)
		if resp.StatusCode != 200 {
			t.Errorf("%s %s: %d %s", c.method, c.path, resp.StatusCode, b)
			continue
		}
		ev := echoedEvent(t, b)
		if ev.RouteKey != c.routeKey || len(ev.PathParameters) != len(c.params) {
			t.Errorf("%s %s: route %q params %v, want %q %v", c.method, c.path, ev.RouteKey, ev.PathParameters, c.routeKey, c.params)
		}
		for k, v := range c.params {
			if ev.PathParameters[k] != v {
				t.Errorf("%s %s: %s = %q, want %q", c.method, c.path, k, ev.PathParameters[k], v)
			}
		}
	}
	for _, c := range [][2]string{{"GET", "/nope"}, {"GET", "/webhooks/carriers/easypost"}, {"POST", "/webhooks/carriers"}, {"POST", "/webhooks/carriers/a/b"}} {
		req, _ := http.NewRequest(c[0], srv.URL+c[1], nil)
		resp, b := do(t, req)
		if resp.StatusCode != 404 || string(b) != `{"message":"Not Found"}` || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: %d %s, want API Gateway's 404", c[0], c[1], resp.StatusCode, b)
		}
	}
}

// Function errors, timeouts and malformed responses are API Gateway's own
// answers; other response shapes map as payload format 2.0 says.
func TestHTTPAPIFunctionOutcomes(t *testing.T) {
	srv := httpAPI(t)
	cases := []struct {
		path   string
		status int
		body   string
		ctype  string
	}{
		{"/things/error", 500, `{"message":"Internal Server Error"}`, "application/json"},
		{"/things/sleep", 500, `{"message":"Internal Server Error"}`, "application/json"}, // function timeout
		{"/things/bad", 500, `{"message":"Internal Server Error"}`, "application/json"},
		{"/things/plain", 200, `{"hello":"world"}`, "application/json"},
		{"/things/binary", 201, "\x00\x01\x02\xff", "application/octet-stream"},
	}
	for _, c := range cases {
		req, _ := http.NewRequest("GET", srv.URL+c.path, nil)
		resp, b := do(t, req)
		if resp.StatusCode != c.status || string(b) != c.body || resp.Header.Get("Content-Type") != c.ctype {
			t.Errorf("%s: %d %q %q, want %d %q %q", c.path, resp.StatusCode, b, resp.Header.Get("Content-Type"), c.status, c.body, c.ctype)
		}
	}
}

// A client that writes the whole oversized body before it reads the answer,
// as Python's urllib does, gets the 413 rather than a reset connection.
func TestHTTPAPITooLargeAnswersAfterTheBody(t *testing.T) {
	srv := httpAPI(t)
	for _, path := range []string{"/webhooks/carriers/easypost", "/nope"} {
		conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
		size := devstack.MaxPayload + 8<<20 // more than socket buffers and net/http's own 256 KiB discard hold
		if _, err := fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", path, size); err != nil {
			t.Fatal(err)
		}
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for sent := 0; sent < size; sent += len(chunk) {
			if sent > devstack.MaxPayload {
				// As slow as a real client over a network: past net/http's
				// own half-second linger after it stops reading.
				time.Sleep(5 * time.Millisecond)
			}
			if _, err := conn.Write(chunk[:min(len(chunk), size-sent)]); err != nil {
				t.Fatalf("%s: writing the body: %v (the server closed the connection before answering)", path, err)
			}
		}
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%s: reading the answer: %v", path, err)
		}
		want := http.StatusRequestEntityTooLarge
		if path == "/nope" {
			want = http.StatusNotFound
		}
		if res.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, res.StatusCode, want)
		}
		conn.Close()
	}
}
