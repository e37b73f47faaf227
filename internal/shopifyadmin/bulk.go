package shopifyadmin

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// BulkOperation is the state of a bulk operation.
type BulkOperation struct {
	ID          string `json:"id"`
	Status      string `json:"status"` // CREATED, RUNNING, COMPLETED, FAILED, CANCELED, EXPIRED, ...
	ErrorCode   string `json:"errorCode"`
	ObjectCount string `json:"objectCount"`
	URL         string `json:"url"`
}

const runBulk = `mutation Run($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status }
    userErrors { field message }
  }
}`

const pollBulk = `query Poll($id: ID!) {
  node(id: $id) { ... on BulkOperation { id status errorCode objectCount url } }
}`

// RunBulkQuery starts a bulk operation for query (infra/shopify/backfill.graphql)
// and polls every interval until it is done; it returns the finished
// operation (URL is empty when it found nothing).
func (c *Client) RunBulkQuery(ctx context.Context, query string, interval time.Duration) (*BulkOperation, error) {
	var run struct {
		R struct {
			BulkOperation *BulkOperation `json:"bulkOperation"`
			UserErrors    []userError    `json:"userErrors"`
		} `json:"bulkOperationRunQuery"`
	}
	if _, err := c.Do(ctx, runBulk, map[string]any{"query": query}, &run); err != nil {
		return nil, err
	}
	if err := userErrors("bulkOperationRunQuery", run.R.UserErrors); err != nil {
		return nil, err
	}
	if run.R.BulkOperation == nil {
		return nil, fmt.Errorf("bulkOperationRunQuery returned no operation")
	}
	id := run.R.BulkOperation.ID
	for {
		if err := c.sleep(ctx, interval); err != nil {
			return nil, err
		}
		var poll struct {
			Node *BulkOperation `json:"node"`
		}
		if _, err := c.Do(ctx, pollBulk, map[string]any{"id": id}, &poll); err != nil {
			return nil, err
		}
		op := poll.Node
		if op == nil {
			return nil, fmt.Errorf("bulk operation %s is gone", id)
		}
		switch op.Status {
		case "COMPLETED":
			return op, nil
		case "FAILED", "CANCELED", "CANCELLED", "EXPIRED":
			return op, fmt.Errorf("bulk operation %s ended %s (%s)", id, op.Status, op.ErrorCode)
		}
	}
}

// Download copies the operation's JSONL to w (the URL is signed: no token).
func (c *Client) Download(ctx context.Context, op *BulkOperation, w io.Writer) (int64, error) {
	if op.URL == "" {
		return 0, nil // the query matched nothing
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, op.URL, nil)
	if err != nil {
		return 0, err
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Minute}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("download bulk result: HTTP %d", resp.StatusCode)
	}
	return io.Copy(w, resp.Body)
}
