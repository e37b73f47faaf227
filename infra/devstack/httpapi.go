package devstack

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// Route is one HttpApi event: METHOD path → function.
type Route struct {
	Function string
	Method   string // upper case; ANY matches every method
	Path     string // "/webhooks/carriers/{carrier}"; empty for the $default route
}

// Key is the route key API Gateway puts in the event.
func (r Route) Key() string {
	if r.Path == "" {
		return "$default"
	}
	return r.Method + " " + r.Path
}

// HTTPRoutes lists the template's HttpApi routes.
func HTTPRoutes(fns []Function) []Route {
	var out []Route
	for _, f := range fns {
		for _, e := range f.Events {
			if e.Type != "HttpApi" {
				continue
			}
			m := strings.ToUpper(asString(e.Properties["Method"]))
			if m == "" {
				m = "ANY"
			}
			out = append(out, Route{Function: f.Name, Method: m, Path: asString(e.Properties["Path"])})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out
}

// InvokeFunc invokes a function by name.
type InvokeFunc func(ctx context.Context, function string, payload []byte) *Result

// HTTPAPI is a local API Gateway HTTP API (payload format 2.0).
type HTTPAPI struct {
	Routes []Route
	Invoke InvokeFunc
	Log    *slog.Logger
	// IntegrationTimeout is API Gateway's 30 s limit on a Lambda integration.
	IntegrationTimeout time.Duration
}

// API Gateway's answers when it, not the function, decides.
var (
	notFoundBody     = []byte(`{"message":"Not Found"}`)
	tooLargeBody     = []byte(`{"message":"Request Entity Too Large"}`)
	internalBody     = []byte(`{"message":"Internal Server Error"}`)
	unavailableBody  = []byte(`{"message":"Service Unavailable"}`)
	textContentTypes = []string{"json", "xml", "javascript", "x-www-form-urlencoded", "graphql", "yaml", "csv"}
)

func (h *HTTPAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := apiRequestID()
	w.Header().Set("Apigw-Requestid", reqID)
	route, params, ok := h.match(r.Method, r.URL.Path)
	if !ok {
		drain(r.Body)
		rawJSON(w, http.StatusNotFound, notFoundBody)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxPayload+1))
	if err != nil {
		rawJSON(w, http.StatusBadRequest, []byte(`{"message":"Bad Request"}`))
		return
	}
	if len(body) > MaxPayload {
		drain(r.Body)
		rawJSON(w, http.StatusRequestEntityTooLarge, tooLargeBody)
		return
	}
	ev := BuildHTTPEvent(r, route, params, body, reqID)
	payload, _ := json.Marshal(ev)
	if len(payload) > MaxPayload {
		rawJSON(w, http.StatusRequestEntityTooLarge, tooLargeBody)
		return
	}
	limit := h.IntegrationTimeout
	if limit <= 0 {
		limit = 30 * time.Second
	}
	// Lambda keeps running if the client goes away; only API Gateway's own
	// integration timeout stops the wait.
	done := make(chan *Result, 1)
	go func() { done <- h.Invoke(context.WithoutCancel(r.Context()), route.Function, payload) }()
	var res *Result
	select {
	case res = <-done:
	case <-time.After(limit):
		h.logf("integration timeout", "route", route.Key(), "function", route.Function)
		rawJSON(w, http.StatusServiceUnavailable, unavailableBody)
		return
	}
	if res.Error != nil {
		h.logf("function error", "route", route.Key(), "function", route.Function, "request_id", res.RequestID, "error_type", res.Error.Type, "error", res.Error.Message)
		// A function timeout is a function error to API Gateway: 500. Only
		// its own integration timeout (above) is a 503.
		rawJSON(w, http.StatusInternalServerError, internalBody)
		return
	}
	if !writeHTTPResponse(w, res.Payload) {
		h.logf("malformed Lambda response", "route", route.Key(), "function", route.Function, "request_id", res.RequestID)
		rawJSON(w, http.StatusInternalServerError, internalBody)
	}
}

// maxDrain bounds how much of an unwanted body is read before answering.
const maxDrain = 64 << 20

// drain reads what is left of a body we refuse, up to maxDrain. A client
// that sends the whole body before reading the answer (Python's urllib,
// many webhook senders) would otherwise have its connection closed under it
// with unread data, which the kernel answers with a reset: it would see a
// connection error instead of the 413. API Gateway also answers only after
// the body. Past the bound the connection is closed, as a server must.
func drain(body io.Reader) {
	_, _ = io.CopyN(io.Discard, body, maxDrain)
}

func (h *HTTPAPI) logf(msg string, args ...any) {
	if h.Log != nil {
		h.Log.Warn(msg, args...)
	}
}

// match picks the route API Gateway would: the method must match (ANY matches
// all), literal segments beat path parameters, which beat greedy ones, and
// $default catches the rest.
func (h *HTTPAPI) match(method, path string) (Route, map[string]string, bool) {
	best, bestScore := -1, -1
	var bestParams map[string]string
	for i, rt := range h.Routes {
		if rt.Method != "ANY" && rt.Method != method {
			continue
		}
		score := 0
		var params map[string]string
		if rt.Path != "" {
			var ok bool
			params, score, ok = matchPath(rt.Path, path)
			if !ok {
				continue
			}
			score += 2 // any path beats $default
			score *= 2
			if rt.Method != "ANY" {
				score++ // a named method beats ANY on the same path
			}
		}
		if score > bestScore {
			best, bestScore, bestParams = i, score, params
		}
	}
	if best < 0 {
		return Route{}, nil, false
	}
	return h.Routes[best], bestParams, true
}

// matchPath matches a request path against a route path; the score grows with
// the literal segments matched.
func matchPath(route, path string) (map[string]string, int, bool) {
	rs := strings.Split(strings.Trim(route, "/"), "/")
	ps := strings.Split(strings.Trim(path, "/"), "/")
	params := map[string]string{}
	score := 0
	for i, seg := range rs {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "+}") {
			if i >= len(ps) || ps[i] == "" {
				return nil, 0, false
			}
			params[seg[1:len(seg)-2]] = strings.Join(ps[i:], "/")
			return params, score * 4, true
		}
		if i >= len(ps) {
			return nil, 0, false
		}
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			if ps[i] == "" {
				return nil, 0, false
			}
			params[seg[1:len(seg)-1]] = ps[i]
			score++
			continue
		}
		if seg != ps[i] {
			return nil, 0, false
		}
		score += 2
	}
	if len(ps) != len(rs) {
		return nil, 0, false
	}
	if len(params) == 0 {
		params = nil
	}
	return params, score*4 + 2, true
}

// BuildHTTPEvent is the payload format 2.0 event API Gateway sends for a request.
func BuildHTTPEvent(r *http.Request, route Route, params map[string]string, body []byte, reqID string) events.APIGatewayV2HTTPRequest {
	now := time.Now().UTC()
	headers := map[string]string{}
	var cookies []string
	for k, vs := range r.Header {
		lk := strings.ToLower(k)
		if lk == "cookie" {
			for _, v := range vs {
				for c := range strings.SplitSeq(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[lk] = strings.Join(vs, ",")
	}
	host := r.Host
	headers["host"] = host
	sourceIP, port, _ := net.SplitHostPort(r.RemoteAddr)
	if _, p, err := net.SplitHostPort(host); err == nil {
		port = p
	}
	if xff := headers["x-forwarded-for"]; xff != "" {
		headers["x-forwarded-for"] = xff + ", " + sourceIP
	} else {
		headers["x-forwarded-for"] = sourceIP
	}
	headers["x-forwarded-proto"] = "http"
	headers["x-forwarded-port"] = port
	if len(body) > 0 || r.ContentLength >= 0 {
		headers["content-length"] = strconv.Itoa(len(body))
	}
	var query map[string]string
	if r.URL.RawQuery != "" {
		if q, err := url.ParseQuery(r.URL.RawQuery); err == nil && len(q) > 0 {
			query = map[string]string{}
			for k, vs := range q {
				query[k] = strings.Join(vs, ",")
			}
		}
	}
	domain, _, _ := strings.Cut(host, ":")
	prefix, _, _ := strings.Cut(domain, ".")
	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              route.Key(),
		RawPath:               r.URL.EscapedPath(),
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		PathParameters:        params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     route.Key(),
			AccountID:    Account,
			Stage:        "$default",
			RequestID:    reqID,
			APIID:        "local",
			DomainName:   domain,
			DomainPrefix: prefix,
			Time:         now.Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		if isText(r.Header.Get("Content-Type"), body) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

// isText says whether API Gateway would pass a body as text: valid UTF-8 with a
// textual (or no) content type.
func isText(contentType string, body []byte) bool {
	if !utf8.Valid(body) {
		return false
	}
	if contentType == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	if strings.HasPrefix(mt, "text/") {
		return true
	}
	for _, t := range textContentTypes {
		if strings.Contains(mt, t) {
			return true
		}
	}
	return false
}

// writeHTTPResponse maps a function's response to HTTP as payload format 2.0
// does: a JSON object with statusCode is a structured response; anything else
// is a 200 with the payload as JSON body. It reports false on a malformed one.
func writeHTTPResponse(w http.ResponseWriter, payload []byte) bool {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(payload, &probe); err != nil || probe["statusCode"] == nil {
		if !json.Valid(payload) {
			return false
		}
		rawJSON(w, http.StatusOK, payload)
		return true
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(payload, &resp); err != nil || resp.StatusCode < 100 || resp.StatusCode > 599 {
		return false
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			return false
		}
		body = b
	}
	h := w.Header()
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	if h.Get("Content-Type") == "" && len(body) > 0 {
		h.Set("Content-Type", "application/json")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
	return true
}

func rawJSON(w http.ResponseWriter, code int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// apiRequestID looks like API Gateway's request ids ("JAbc123xyzEMA=").
func apiRequestID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])[:13] + "="
}
