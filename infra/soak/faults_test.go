package main

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

func sdkConfig() aws.Config {
	return aws.Config{
		Region:      "us-east-1",
		Credentials: aws.AnonymousCredentials{},
		// One attempt: the test looks at what the proxy answered, not at the retries.
		RetryMaxAttempts: 1,
	}
}

// The injected DynamoDB errors are the ones the SDK knows: throttling
// decodes to its typed exception (and is retryable), a 500 to InternalServerError.
func TestDynamoDBFaultsAreWhatTheSDKSees(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = io.WriteString(w, `{}`)
	}))
	defer upstream.Close()
	for _, c := range []struct {
		kind  string
		check func(error) bool
	}{
		{FaultThrottle, func(err error) bool {
			var pt *ddbtypes.ProvisionedThroughputExceededException
			var ae interface{ ErrorCode() string }
			return errors.As(err, &pt) || errors.As(err, &ae) && ae.ErrorCode() == "ThrottlingException"
		}},
		{Fault500, func(err error) bool {
			var ise *ddbtypes.InternalServerError
			return errors.As(err, &ise)
		}},
	} {
		f := newFaults(1, map[string]float64{c.kind: 1}, nil)
		p, err := startProxy("EventProcessorFunction", "dynamodb", upstream.URL, f, time.Second, false)
		if err != nil {
			t.Fatal(err)
		}
		db := dynamodb.NewFromConfig(sdkConfig(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(p.URL) })
		for range 4 {
			_, err = db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String("t"),
				Key: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "x"}}})
			if err == nil || !c.check(err) {
				t.Errorf("%s: the SDK got %v", c.kind, err)
			}
		}
		if n := f.snapshot()[c.kind]; n != 4 {
			t.Errorf("%s counted %d times, want 4", c.kind, n)
		}
		p.Close()
	}
}

// A partial batch failure reaches the SDK as Failed entries, and only the
// other entries reach the queue.
func TestSQSPartialBatchFailure(t *testing.T) {
	var got []string
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Entries []struct{ Id, MessageBody string }
		}
		_ = json.NewDecoder(r.Body).Decode(&in)
		var ok []map[string]string
		for _, e := range in.Entries {
			got = append(got, e.Id)
			sum := md5.Sum([]byte(e.MessageBody))
			ok = append(ok, map[string]string{"Id": e.Id, "MessageId": "m-" + e.Id, "MD5OfMessageBody": hex.EncodeToString(sum[:])})
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_ = json.NewEncoder(w).Encode(map[string]any{"Successful": ok, "Failed": []any{}})
	}))
	defer upstream.Close()
	f := newFaults(1, map[string]float64{FaultPartial: 1}, nil)
	p, err := startProxy("EventProcessorFunction", "sqs", upstream.URL, f, time.Second, false)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	q := awssqs.NewFromConfig(sdkConfig(), func(o *awssqs.Options) { o.BaseEndpoint = aws.String(p.URL) })
	var entries []sqstypes.SendMessageBatchRequestEntry
	for _, id := range []string{"a", "b", "c", "d"} {
		entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(id), MessageBody: aws.String("body " + id)})
	}
	out, err := q.SendMessageBatch(context.Background(), &awssqs.SendMessageBatchInput{QueueUrl: aws.String(upstream.URL + "/q"), Entries: entries})
	if err != nil {
		t.Fatal(err)
	}
	var failed, sent []string
	for _, e := range out.Failed {
		failed = append(failed, aws.ToString(e.Id))
	}
	for _, e := range out.Successful {
		sent = append(sent, aws.ToString(e.Id))
	}
	if len(failed) != 2 || failed[0] != "a" || failed[1] != "c" || len(sent) != 2 || len(got) != 2 || got[0] != "b" || got[1] != "d" {
		t.Fatalf("failed %v, successful %v, reached the queue %v", failed, sent, got)
	}
}

// An outage refuses every DynamoDB request while it lasts, and only then.
func TestDynamoDBOutageWindow(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = io.WriteString(w, `{}`)
	}))
	defer upstream.Close()
	f := newFaults(1, nil, nil)
	p, err := startProxy("DispatchFunction", "dynamodb", upstream.URL, f, time.Second, true)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	db := dynamodb.NewFromConfig(sdkConfig(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(p.URL) })
	get := func() error {
		_, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String("t"),
			Key: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "x"}}})
		return err
	}
	if err := get(); err != nil {
		t.Fatalf("before the outage: %v", err)
	}
	f.dynamoDown.Store(true)
	if err := get(); err == nil {
		t.Fatal("a request during the outage succeeded")
	}
	f.dynamoDown.Store(false)
	if err := get(); err != nil {
		t.Fatalf("after the outage: %v", err)
	}
	if n := f.snapshot()[FaultOutage]; n != 1 {
		t.Fatalf("outage refusals counted %d, want 1", n)
	}
}
