package shopifyadmin

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// Subscription is one of the shop's webhook subscriptions.
type Subscription struct {
	ID    string `json:"id"`
	Topic string `json:"topic"` // GraphQL enum, ORDERS_CREATE
	URI   string `json:"uri"`
}

// TopicEnum turns a webhook topic ("orders/create") into its
// WebhookSubscriptionTopic enum value (ORDERS_CREATE).
func TopicEnum(topic string) string {
	return strings.ToUpper(strings.NewReplacer("/", "_").Replace(topic))
}

const subscriptionsQuery = `query Subscriptions($after: String) {
  webhookSubscriptions(first: 100, after: $after) {
    nodes { id topic uri }
    pageInfo { hasNextPage endCursor }
  }
}`

// Subscriptions lists every webhook subscription of the shop, page by page.
func (c *Client) Subscriptions(ctx context.Context) ([]Subscription, error) {
	var out []Subscription
	var after any
	for {
		var data struct {
			WebhookSubscriptions struct {
				Nodes    []Subscription `json:"nodes"`
				PageInfo pageInfo       `json:"pageInfo"`
			} `json:"webhookSubscriptions"`
		}
		if _, err := c.Do(ctx, subscriptionsQuery, map[string]any{"after": after}, &data); err != nil {
			return nil, err
		}
		out = append(out, data.WebhookSubscriptions.Nodes...)
		if !data.WebhookSubscriptions.PageInfo.HasNextPage {
			return out, nil
		}
		after = data.WebhookSubscriptions.PageInfo.EndCursor
	}
}

type pageInfo struct {
	HasNextPage bool   `json:"hasNextPage"`
	EndCursor   string `json:"endCursor"`
}

const createMutation = `mutation Create($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}`

const updateMutation = `mutation Update($id: ID!, $sub: WebhookSubscriptionInput!) {
  webhookSubscriptionUpdate(id: $id, webhookSubscription: $sub) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}`

// Change is what Connect did (or would do) for one topic.
type Change struct {
	Topic  string // orders/create
	Action string // created, updated, unchanged
	URI    string
	Was    string // the old URI of an update
}

func (c Change) String() string {
	switch c.Action {
	case "updated":
		return fmt.Sprintf("updated   %-42s %s (was %s)", c.Topic, c.URI, c.Was)
	default:
		return fmt.Sprintf("%-9s %-42s %s", c.Action, c.Topic, c.URI)
	}
}

// Connect makes the shop's subscriptions match topics, each delivered to
// uri (an HTTPS URL or an EventBridge event source ARN): a missing topic is
// created, one pointing elsewhere is updated, one already right is left as
// it is, so running it again changes nothing. Subscriptions of other topics
// are not touched.
func (c *Client) Connect(ctx context.Context, topics []string, uri string) ([]Change, error) {
	existing, err := c.Subscriptions(ctx)
	if err != nil {
		return nil, err
	}
	byTopic := map[string][]Subscription{}
	for _, s := range existing {
		byTopic[s.Topic] = append(byTopic[s.Topic], s)
	}
	sorted := append([]string(nil), topics...)
	sort.Strings(sorted)
	var out []Change
	for _, t := range sorted {
		enum := TopicEnum(t)
		subs := byTopic[enum]
		ch := Change{Topic: t, URI: uri}
		switch {
		case hasURI(subs, uri):
			ch.Action = "unchanged"
		case len(subs) > 0:
			ch.Action, ch.Was = "updated", subs[0].URI
			var data struct {
				R struct {
					UserErrors []userError `json:"userErrors"`
				} `json:"webhookSubscriptionUpdate"`
			}
			if _, err := c.Do(ctx, updateMutation, map[string]any{"id": subs[0].ID, "sub": map[string]any{"uri": uri, "format": "JSON"}}, &data); err != nil {
				return out, err
			}
			if err := userErrors("update "+t, data.R.UserErrors); err != nil {
				return out, err
			}
		default:
			ch.Action = "created"
			var data struct {
				R struct {
					UserErrors []userError `json:"userErrors"`
				} `json:"webhookSubscriptionCreate"`
			}
			if _, err := c.Do(ctx, createMutation, map[string]any{"topic": enum, "sub": map[string]any{"uri": uri, "format": "JSON"}}, &data); err != nil {
				return out, err
			}
			if err := userErrors("create "+t, data.R.UserErrors); err != nil {
				return out, err
			}
		}
		out = append(out, ch)
	}
	return out, nil
}

func hasURI(subs []Subscription, uri string) bool {
	for _, s := range subs {
		if s.URI == uri {
			return true
		}
	}
	return false
}
