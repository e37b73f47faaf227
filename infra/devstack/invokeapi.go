package devstack

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
)

// MaxAsyncPayload is Lambda's limit on an Event (asynchronous) invocation.
const MaxAsyncPayload = 1024 * 1024

// InvokeAPI is the part of the Lambda API that `aws lambda invoke` and the SDKs
// use: POST /2015-03-31/functions/{name}/invocations.
type InvokeAPI struct {
	Functions map[string]Invoker
	Log       *slog.Logger
	Region    string
	Account   string
	async     sync.WaitGroup
	ctx       context.Context // ends asynchronous invocations on Close; nil means never
}

// Handler serves the API.
func (a *InvokeAPI) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2015-03-31/functions/{name}/invocations", a.invoke)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		lambdaError(w, http.StatusNotFound, "UnknownOperationException", "Unknown operation "+r.Method+" "+r.URL.Path)
	})
	return mux
}

// Wait waits for asynchronous invocations to finish.
func (a *InvokeAPI) Wait() { a.async.Wait() }

func (a *InvokeAPI) region() (string, string) {
	r, acct := a.Region, a.Account
	if r == "" {
		r = Region
	}
	if acct == "" {
		acct = Account
	}
	return r, acct
}

func (a *InvokeAPI) invoke(w http.ResponseWriter, r *http.Request) {
	region, account := a.region()
	ref := r.PathValue("name")
	name, qualifier := splitFunctionRef(ref)
	if q := r.URL.Query().Get("Qualifier"); q != "" {
		qualifier = q
	}
	fn, ok := a.Functions[name]
	if !ok || (qualifier != "" && qualifier != "$LATEST") {
		arn := FunctionARN(region, account, name)
		if qualifier != "" {
			arn += ":" + qualifier
		}
		lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+arn)
		return
	}
	typ := r.Header.Get("X-Amz-Invocation-Type")
	if typ == "" {
		typ = "RequestResponse"
	}
	limit := MaxPayload
	if typ == "Event" {
		limit = MaxAsyncPayload
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		lambdaError(w, http.StatusBadRequest, "InvalidRequestContentException", err.Error())
		return
	}
	if len(payload) > limit {
		lambdaError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", fmt.Sprintf("Request must be smaller than %d bytes for the InvokeFunction operation", limit))
		return
	}
	if len(strings.TrimSpace(string(payload))) == 0 {
		payload = []byte("{}")
	} else if !json.Valid(payload) {
		lambdaError(w, http.StatusBadRequest, "InvalidRequestContentException", "Could not parse request body into json: Could not parse payload into json")
		return
	}
	switch typ {
	case "DryRun":
		w.WriteHeader(http.StatusNoContent)
	case "Event":
		a.async.Add(1)
		ctx := a.ctx
		if ctx == nil {
			ctx = context.Background()
		}
		go func() {
			defer a.async.Done()
			res := fn.Invoke(ctx, payload)
			if res.Error != nil && a.Log != nil {
				a.Log.Warn("asynchronous invocation failed", "function", name, "request_id", res.RequestID, "error_type", res.Error.Type, "error", res.Error.Message)
			}
		}()
		w.Header().Set("X-Amzn-Requestid", newRequestID())
		w.WriteHeader(http.StatusAccepted)
	case "RequestResponse":
		res := fn.Invoke(context.WithoutCancel(r.Context()), payload)
		h := w.Header()
		h.Set("X-Amzn-Requestid", res.RequestID)
		h.Set("X-Amz-Executed-Version", "$LATEST")
		h.Set("Content-Type", "application/json")
		if r.Header.Get("X-Amz-Log-Type") == "Tail" {
			h.Set("X-Amz-Log-Result", base64.StdEncoding.EncodeToString([]byte(res.Report+"\n")))
		}
		if res.Error != nil {
			h.Set("X-Amz-Function-Error", "Unhandled")
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(res.Payload)
	default:
		lambdaError(w, http.StatusBadRequest, "InvalidParameterValueException", "Unsupported invocation type "+typ)
	}
}

// splitFunctionRef accepts a name, name:qualifier, or a full or partial ARN.
func splitFunctionRef(ref string) (name, qualifier string) {
	if strings.HasPrefix(ref, "arn:") {
		parts := strings.Split(ref, ":")
		if len(parts) >= 7 {
			name = parts[6]
		}
		if len(parts) >= 8 {
			qualifier = parts[7]
		}
		return name, qualifier
	}
	name, qualifier, _ = strings.Cut(ref, ":")
	return name, qualifier
}

// lambdaError answers as the Lambda API does: a JSON body and x-amzn-ErrorType.
func lambdaError(w http.ResponseWriter, code int, typ, msg string) {
	b, _ := json.Marshal(map[string]string{"Type": "User", "Message": msg})
	w.Header()["x-amzn-ErrorType"] = []string{typ}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}
