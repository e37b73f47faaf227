package devstack

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Local account and region; the emulators accept any credentials.
const (
	Region  = "us-east-1"
	Account = "123456789012"
)

// AWSConfig is an SDK config for the emulators with dummy credentials.
func AWSConfig() aws.Config {
	return aws.Config{
		Region:      Region,
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	}
}

// Streams returns a DynamoDB Streams client for the emulators (DynamoDB
// Local serves streams on its own endpoint).
func (e *Emulators) Streams() *dynamodbstreams.Client {
	return dynamodbstreams.NewFromConfig(AWSConfig(), func(o *dynamodbstreams.Options) { o.BaseEndpoint = aws.String(e.DynamoEndpoint) })
}

// Clients returns DynamoDB and SQS clients for the emulators.
func (e *Emulators) Clients() (*dynamodb.Client, *sqs.Client) {
	cfg := AWSConfig()
	d := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(e.DynamoEndpoint) })
	s := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(e.SQSEndpoint) })
	return d, s
}

// Provision creates, in the emulators, every DynamoDB table and SQS queue the
// template declares, named prefix+logical id, and returns the names that
// resolve the template's intrinsic functions. Parameter values come from
// params, then the template defaults.
func (e *Emulators) Provision(ctx context.Context, t *Template, prefix string, params map[string]string) (*Names, error) {
	ddb, sq := e.Clients()
	n := &Names{
		Region: Region, Account: Account,
		Params:     map[string]string{},
		Refs:       map[string]string{},
		Attributes: map[string]map[string]string{},
	}
	for name, p := range t.Parameters {
		if p.Default != nil {
			n.Params[name] = *p.Default
		}
	}
	for k, v := range params {
		n.Params[k] = v
	}
	for _, id := range t.ResourcesOfType("AWS::DynamoDB::Table") {
		name := prefix + id
		in, ttl, err := createTableInput(name, t.Resources[id].Properties)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", id, err)
		}
		if _, err := ddb.CreateTable(ctx, in); err != nil {
			return nil, fmt.Errorf("create table %s: %w", name, err)
		}
		if ttl != nil {
			if _, err := ddb.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(name), TimeToLiveSpecification: ttl}); err != nil {
				return nil, fmt.Errorf("table %s time to live: %w", name, err)
			}
		}
		n.Refs[id] = name
		n.Attributes[id] = map[string]string{"Arn": "arn:aws:dynamodb:" + Region + ":" + Account + ":table/" + name}
	}
	// Queues that others name as dead-letter targets first.
	queues := t.ResourcesOfType("AWS::SQS::Queue")
	sort.SliceStable(queues, func(i, j int) bool {
		return t.Resources[queues[i]].Properties["RedrivePolicy"] == nil && t.Resources[queues[j]].Properties["RedrivePolicy"] != nil
	})
	for _, id := range queues {
		name := prefix + id
		props := t.Resources[id].Properties
		attrs := map[string]string{}
		for _, k := range []string{"VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "ReceiveMessageWaitTimeSeconds", "MaximumMessageSize"} {
			if v, ok := props[k]; ok {
				s, err := n.Resolve(v)
				if err != nil {
					return nil, fmt.Errorf("queue %s %s: %w", id, k, err)
				}
				attrs[k] = s
			}
		}
		if rp := asMap(props["RedrivePolicy"]); rp != nil {
			target, err := n.Resolve(rp["deadLetterTargetArn"])
			if err != nil {
				return nil, fmt.Errorf("queue %s redrive target: %w", id, err)
			}
			b, _ := json.Marshal(map[string]string{
				"deadLetterTargetArn": target,
				"maxReceiveCount":     strconv.Itoa(intOr(rp["maxReceiveCount"], 10)),
			})
			attrs["RedrivePolicy"] = string(b)
		}
		out, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
		if err != nil {
			return nil, fmt.Errorf("create queue %s: %w", name, err)
		}
		url := aws.ToString(out.QueueUrl)
		n.Refs[id] = url
		n.Attributes[id] = map[string]string{
			"Arn":       "arn:aws:sqs:" + Region + ":" + Account + ":" + name,
			"QueueName": name,
			"QueueUrl":  url,
		}
	}
	return n, nil
}

// QueueAttributes reads a created queue's attributes.
func (e *Emulators) QueueAttributes(ctx context.Context, url string) (map[string]string, error) {
	_, sq := e.Clients()
	out, err := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	if err != nil {
		return nil, err
	}
	return out.Attributes, nil
}

// cfnTable mirrors the AWS::DynamoDB::Table properties the local table needs.
type cfnTable struct {
	AttributeDefinitions   []struct{ AttributeName, AttributeType string }
	KeySchema              []cfnKey
	GlobalSecondaryIndexes []struct {
		IndexName  string
		KeySchema  []cfnKey
		Projection struct {
			ProjectionType   string
			NonKeyAttributes []string
		}
	}
	TimeToLiveSpecification *struct {
		AttributeName string
		Enabled       bool
	}
	StreamSpecification *struct{ StreamViewType string }
}

type cfnKey struct{ AttributeName, KeyType string }

func keySchema(ks []cfnKey) []ddbtypes.KeySchemaElement {
	out := make([]ddbtypes.KeySchemaElement, 0, len(ks))
	for _, k := range ks {
		out = append(out, ddbtypes.KeySchemaElement{AttributeName: aws.String(k.AttributeName), KeyType: ddbtypes.KeyType(k.KeyType)})
	}
	return out
}

func createTableInput(name string, props map[string]any) (*dynamodb.CreateTableInput, *ddbtypes.TimeToLiveSpecification, error) {
	b, err := json.Marshal(props)
	if err != nil {
		return nil, nil, err
	}
	var t cfnTable
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, nil, err
	}
	if len(t.KeySchema) == 0 {
		return nil, nil, fmt.Errorf("no KeySchema")
	}
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: ddbtypes.BillingModePayPerRequest,
		KeySchema:   keySchema(t.KeySchema),
	}
	for _, a := range t.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{
			AttributeName: aws.String(a.AttributeName), AttributeType: ddbtypes.ScalarAttributeType(a.AttributeType),
		})
	}
	for _, g := range t.GlobalSecondaryIndexes {
		p := &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionType(g.Projection.ProjectionType)}
		if len(g.Projection.NonKeyAttributes) > 0 {
			p.NonKeyAttributes = g.Projection.NonKeyAttributes
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, ddbtypes.GlobalSecondaryIndex{
			IndexName: aws.String(g.IndexName), KeySchema: keySchema(g.KeySchema), Projection: p,
		})
	}
	if t.StreamSpecification != nil {
		in.StreamSpecification = &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true),
			StreamViewType: ddbtypes.StreamViewType(t.StreamSpecification.StreamViewType)}
	}
	var ttl *ddbtypes.TimeToLiveSpecification
	if t.TimeToLiveSpecification != nil && t.TimeToLiveSpecification.Enabled {
		ttl = &ddbtypes.TimeToLiveSpecification{AttributeName: aws.String(t.TimeToLiveSpecification.AttributeName), Enabled: aws.Bool(true)}
	}
	return in, ttl, nil
}
