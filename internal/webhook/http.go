package webhook

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// StatusFor maps a domain error code to the HTTP answer: the one place that
// decides what a sender sees.
func StatusFor(code string) int {
	switch code {
	case "":
		return http.StatusOK
	case aftercare.EINVALID:
		return http.StatusBadRequest
	case aftercare.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case aftercare.ENOTFOUND:
		return http.StatusNotFound
	case aftercare.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case aftercare.EUNAVAILABLE, aftercare.ECONFLICT:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// Routes serves the SPEC routes: POST /webhooks/shopify,
// POST /webhooks/carriers/{carrier} and GET /healthz.
func (s *Service) Routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhooks/shopify", func(w http.ResponseWriter, r *http.Request) {
		s.serve(w, r, aftercare.SourceShopify)
	})
	mux.HandleFunc("POST /webhooks/carriers/{carrier}", func(w http.ResponseWriter, r *http.Request) {
		s.serve(w, r, r.PathValue("carrier"))
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, aftercare.Errorf(aftercare.ENOTFOUND, "no route for %s %s", r.Method, r.URL.Path))
	})
	return mux
}

func (s *Service) serve(w http.ResponseWriter, r *http.Request, source string) {
	start := time.Now()
	limit := s.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	var out Outcome
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		out.Source = source
		err = aftercare.Errorf(aftercare.ETOOLARGE, "body over the %d byte limit", limit)
	case err != nil:
		out.Source = source
		err = aftercare.Wrap(aftercare.EINVALID, err, "could not read the body")
	default:
		out, err = s.Handle(r.Context(), source, body, r.Header, r.URL.Query())
	}
	status := StatusFor(aftercare.ErrorCode(err))
	attrs := []any{
		slog.String("source", out.Source), slog.String("topic", out.Topic), slog.String("shop", out.Shop),
		slog.String("event_id", out.ID), slog.Int("status", status), slog.Int("bytes", len(body)),
		slog.Float64("latency_ms", float64(time.Since(start).Microseconds())/1000),
	}
	if err != nil {
		attrs = append(attrs, slog.String("outcome", "rejected"), slog.String("error", err.Error()))
		level := slog.LevelWarn
		if status >= 500 {
			level = slog.LevelError
		}
		s.Log.Log(r.Context(), level, "webhook", attrs...)
		writeError(w, err)
		return
	}
	attrs = append(attrs, slog.String("outcome", out.Status), slog.String("kind", out.Kind), slog.Int("queued_bytes", out.Queued))
	s.Log.Info("webhook", attrs...)
	writeJSON(w, status, out)
}

func writeError(w http.ResponseWriter, err error) {
	code := aftercare.ErrorCode(err)
	writeJSON(w, StatusFor(code), map[string]any{
		"error": map[string]string{"code": code, "message": aftercare.ErrorMessage(err)},
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
