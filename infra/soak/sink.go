package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/aftercare/aftercare/internal/delivery"
	"github.com/aftercare/aftercare/internal/signature"
)

// sink is the merchant's delivery endpoint. A message counts as delivered
// when the sink answered 2xx; an attempt whose outcome the sender cannot know
// (the sink hung past the sender's timeout, or the sender died mid-POST) is
// counted apart, since a receiver may have acted on it.
type sink struct {
	f       *faults
	hang    time.Duration // longer than DELIVERY_TIMEOUT_SECONDS
	mu      sync.Mutex
	msgs    map[string]*received
	badSigs int
	last    time.Time
	srv     *http.Server
	URL     string
}

type received struct {
	Kind, Category, Audience, Shop string
	Order                          string // the order it is about (to follow its events in a -v log)
	OK                             int    // 2xx answers
	Unknown                        int    // hung past the timeout or the sender killed mid-POST
	UnknownWhy                     []string
	Attempts                       int
	From                           []int // the sending process of each 2xx (0: no longer running as it was answered)
}

func startSink(f *faults, hang time.Duration) (*sink, error) {
	s := &sink{f: f, hang: hang, msgs: map[string]*received{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.URL = "http://" + ln.Addr().String()
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *sink) Close() { _ = s.srv.Close() }

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	var m struct {
		ID, Kind, Category, Audience, Shop string
		Order                              struct{ ID string }
	}
	_ = json.Unmarshal(body, &m)
	id := r.Header.Get(delivery.HeaderID)
	s.mu.Lock()
	if r.Header.Get(delivery.HeaderSignature) != "sha256="+signature.Hex([]byte(deliverySecret), body) || id == "" || id != m.ID {
		s.badSigs++
	}
	rc := s.msgs[id]
	if rc == nil {
		rc = &received{Kind: m.Kind, Category: m.Category, Audience: m.Audience, Shop: m.Shop, Order: m.Order.ID}
		s.msgs[id] = rc
	}
	rc.Attempts++
	s.last = time.Now()
	s.mu.Unlock()
	f := s.f
	unknown := func(why string) {
		s.mu.Lock()
		rc.Unknown++
		rc.UnknownWhy = append(rc.UnknownWhy, why)
		s.mu.Unlock()
	}
	switch {
	case f.sinkDown.Load():
		f.count(FaultOutage)
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	case f.roll(FaultSink5xx):
		f.noteID(id, FaultSink5xx)
		w.WriteHeader(http.StatusInternalServerError)
		return
	case f.roll(FaultSinkHang):
		unknown("hang")
		f.noteID(id, FaultSinkHang)
		select {
		case <-r.Context().Done():
		case <-time.After(s.hang):
		}
		w.WriteHeader(http.StatusGatewayTimeout)
		return
	case f.roll(FaultKill):
		unknown("killed")
		f.noteID(id, "process_killed mid-POST")
		if !f.killCaller(r.RemoteAddr) {
			f.missed()
		}
		hangUp(w)
		return
	}
	pid := f.callerPID(r.RemoteAddr)
	s.mu.Lock()
	rc.OK++
	rc.From = append(rc.From, pid)
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (s *sink) snapshot() map[string]received {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]received, len(s.msgs))
	for k, v := range s.msgs {
		c := *v
		c.UnknownWhy = append([]string(nil), v.UnknownWhy...)
		c.From = append([]int(nil), v.From...)
		out[k] = c
	}
	return out
}

func (s *sink) quietSince() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}
