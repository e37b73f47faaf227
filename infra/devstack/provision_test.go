package devstack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/aftercare/aftercare/internal/testenv"
)

func TestMain(m *testing.M) {
	code := testenv.Main(m)
	cleanupTestFn()
	os.Exit(code)
}

// The table and queues come from template.yaml, with its key schema, index,
// time to live and redrive policy.
func TestProvisionFollowsTemplate(t *testing.T) {
	s := testenv.Fresh(t)
	ctx := context.Background()
	out, err := s.DB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.Table)})
	if err != nil {
		t.Fatal(err)
	}
	indexes := map[string]bool{}
	for _, g := range out.Table.GlobalSecondaryIndexes {
		indexes[aws.ToString(g.IndexName)] = true
	}
	if len(indexes) != 2 || !indexes["due"] || !indexes["owner"] {
		t.Fatalf("want the due and owner indexes, got %+v", out.Table.GlobalSecondaryIndexes)
	}
	ttl, err := s.DB.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(s.Table)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(ttl.TimeToLiveDescription.AttributeName) != "expires_at" {
		t.Fatalf("ttl attribute: %+v", ttl.TimeToLiveDescription)
	}
	attrs, err := s.Env.QueueAttributes(ctx, s.Inbox)
	if err != nil {
		t.Fatal(err)
	}
	if attrs["VisibilityTimeout"] != "180" {
		t.Errorf("inbox visibility timeout = %q, want 180 from the template", attrs["VisibilityTimeout"])
	}
	var rp struct {
		Target string `json:"deadLetterTargetArn"`
		Max    any    `json:"maxReceiveCount"`
	}
	if err := json.Unmarshal([]byte(attrs["RedrivePolicy"]), &rp); err != nil {
		t.Fatalf("redrive policy %q: %v", attrs["RedrivePolicy"], err)
	}
	if rp.Target != s.Attributes["InboxDeadLetterQueue"]["Arn"] || fmt.Sprint(rp.Max) != "15" {
		t.Errorf("redrive policy = %+v, want the inbox DLQ after 15 receives", rp)
	}
}
