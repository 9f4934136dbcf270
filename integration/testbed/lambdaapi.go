package testbed

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// LambdaRuntimeAPI serves the AWS Lambda Runtime API (2018-06-01) on loopback, as the
// Lambda service does for a function's runtime interface client: the client polls
// /runtime/invocation/next, the API hands it one queued event, and the client posts the
// handler's result to /runtime/invocation/ID/response (or /error). It is the test bed's,
// not AWS's: enough of the API to invoke a function once and read what it returned.
type LambdaRuntimeAPI struct {
	Addr    string // host:port, the value of AWS_LAMBDA_RUNTIME_API
	events  chan lambdaEvent
	results chan LambdaResult
	done    chan struct{}
	once    sync.Once
	srv     *http.Server
}

type lambdaEvent struct {
	id   string
	body []byte
}

// LambdaResult is what the function posted for one invocation.
type LambdaResult struct {
	RequestID string
	Kind      string // "response", "error", or "init/error"
	Body      []byte
}

// StartLambdaRuntimeAPI serves the API until Close.
func (b *Bed) StartLambdaRuntimeAPI() (*LambdaRuntimeAPI, error) {
	api, h := NewLambdaRuntimeAPI()
	addr, err := b.serve(h)
	api.Addr = addr
	return api, err
}

// NewLambdaRuntimeAPI is a Lambda Runtime API and its handler, for a test that serves it
// where its function runs (Engine.ServeOnBridge); the test sets Addr.
func NewLambdaRuntimeAPI() (*LambdaRuntimeAPI, http.Handler) {
	api := &LambdaRuntimeAPI{events: make(chan lambdaEvent, 8), results: make(chan LambdaResult, 8), done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", api.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/{kind}", func(w http.ResponseWriter, r *http.Request) {
		api.post(w, r, r.PathValue("id"), r.PathValue("kind"))
	})
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", func(w http.ResponseWriter, r *http.Request) {
		api.post(w, r, "", "init/error")
	})
	return api, mux
}

// Invoke queues event (JSON) under requestID for the function's next poll.
func (a *LambdaRuntimeAPI) Invoke(requestID string, event any) error {
	body, err := json.Marshal(event)
	if err != nil {
		return err
	}
	a.events <- lambdaEvent{id: requestID, body: body}
	return nil
}

// Result waits for the function's next posted result.
func (a *LambdaRuntimeAPI) Result(ctx context.Context) (LambdaResult, error) {
	select {
	case r := <-a.results:
		return r, nil
	case <-ctx.Done():
		return LambdaResult{}, fmt.Errorf("the function posted no result: %w", ctx.Err())
	}
}

// Close releases a function still waiting for its next event.
func (a *LambdaRuntimeAPI) Close() { a.once.Do(func() { close(a.done) }) }

func (a *LambdaRuntimeAPI) next(w http.ResponseWriter, r *http.Request) {
	select {
	case ev := <-a.events:
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", ev.id)
		h.Set("Lambda-Runtime-Deadline-Ms", fmt.Sprint(time.Now().Add(time.Minute).UnixMilli()))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:000000000000:function:acai-test")
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
		h.Set("Content-Type", "application/json")
		w.Write(ev.body)
	case <-a.done:
		http.Error(w, "test over", http.StatusGone)
	case <-r.Context().Done():
	}
}

func (a *LambdaRuntimeAPI) post(w http.ResponseWriter, r *http.Request, id, kind string) {
	body, _ := io.ReadAll(r.Body)
	if kind == "error" || kind == "response" || kind == "init/error" {
		a.results <- LambdaResult{RequestID: id, Kind: kind, Body: body}
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"status":"OK"}`)
		return
	}
	http.Error(w, "unknown path "+strings.TrimPrefix(r.URL.Path, "/2018-06-01"), http.StatusNotFound)
}
