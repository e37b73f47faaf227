package dynamo

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aftercare/aftercare/internal/state"
)

// record is an entity's item as stored: the entity's JSON, deflated, in docz
// beside its key, version, due-index keys and expiry; items written before
// docz have the JSON in doc, and are read as they are (no migration). This is
// the format the README documents.
type record struct {
	PK      string `dynamodbav:"pk"`
	SK      string `dynamodbav:"sk"`
	Kind    string `dynamodbav:"kind"`
	Doc     string `dynamodbav:"doc,omitempty"`
	DocZ    []byte `dynamodbav:"docz,omitempty"`
	Version int64  `dynamodbav:"version"`
	DuePK   string `dynamodbav:"due_pk,omitempty"`
	DueSK   string `dynamodbav:"due_sk,omitempty"`
	Expires int64  `dynamodbav:"expires_at,omitempty"`
}

// stockRecord is the shop's out-of-stock set.
type stockRecord struct {
	Variants []string `dynamodbav:"variants,stringset"`
}

// encode builds the stored form of an entity, at the version after its
// loaded one (a negative, unconditional write stores version 1).
func (s *Store) encode(e state.Entity) (map[string]types.AttributeValue, error) {
	k := e.Key()
	if k.Kind == "" {
		return nil, fmt.Errorf("dynamo: an empty entity cannot be written")
	}
	doc, err := json.Marshal(e.Body())
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", k.Ref(), err)
	}
	pk, sk := keyOf(k)
	r := record{PK: pk, SK: sk, Kind: k.Kind, DocZ: pack(doc), Version: max(e.Version(), 0) + 1}
	if at := e.DueAt(); !at.IsZero() {
		r.DuePK, r.DueSK = dueKeys(k.Kind, pk, sk, at, s.Shards)
	}
	if at := e.ExpiresAt(); !at.IsZero() {
		r.Expires = at.Unix()
	}
	return attributevalue.MarshalMap(r)
}

// decode reads a stored entity; ok is false for items that are not entities.
func decode(item map[string]types.AttributeValue) (state.Entity, bool, error) {
	var r record
	if err := attributevalue.UnmarshalMap(item, &r); err != nil {
		return state.Entity{}, false, err
	}
	k, ok := keyFrom(r.PK, r.SK)
	if !ok {
		return state.Entity{}, false, nil
	}
	e, ok := state.EntityOf(k.Kind)
	if !ok {
		return state.Entity{}, false, nil
	}
	doc := []byte(r.Doc)
	if len(r.DocZ) > 0 {
		var err error
		if doc, err = unpack(r.DocZ); err != nil {
			return state.Entity{}, false, fmt.Errorf("decode %s: %w", k.Ref(), err)
		}
	}
	if err := json.Unmarshal(doc, e.Body()); err != nil {
		return state.Entity{}, false, fmt.Errorf("decode %s: %w", k.Ref(), err)
	}
	e.SetVersion(r.Version) // the attribute is the truth; the doc keeps the version it was written over
	if e.Digest != nil && len(r.DueSK) >= len(dueTimeFormat) {
		// A digest's due time lives only in the index (due_sk starts with it).
		if at, err := time.Parse(dueTimeFormat, r.DueSK[:len(dueTimeFormat)]); err == nil {
			e.Digest.DueAt = at
		}
	}
	return e, true, nil
}

// decodeInto files a stored item in a loaded set: entities by kind, the stock
// set under its shop; other items are skipped.
func decodeInto(l *state.Loaded, item map[string]types.AttributeValue) error {
	k, ok := keyFrom(getS(item, attrPK), getS(item, attrSK))
	if !ok {
		return nil
	}
	if k.Kind == state.ItemStock {
		set, err := decodeStock(item)
		if err != nil {
			return err
		}
		l.Stock[k.Shop] = set
		return nil
	}
	e, ok, err := decode(item)
	if ok {
		l.Add(e)
	}
	return err
}

func decodeStock(item map[string]types.AttributeValue) (map[string]bool, error) {
	var r stockRecord
	if err := attributevalue.UnmarshalMap(item, &r); err != nil {
		return nil, err
	}
	set := make(map[string]bool, len(r.Variants))
	for _, v := range r.Variants {
		set[v] = true
	}
	for name, av := range item {
		if v, ok := strings.CutPrefix(name, stockOutPrefix); ok {
			if b, isBool := av.(*types.AttributeValueMemberBOOL); isBool && b.Value {
				set[v] = true
			}
		}
	}
	return set, nil
}

// versioned is the condition that an item is still at the version it was
// loaded at: absent for version 0, none for a negative (unconditional) one.
func versioned(version int64) (expression.Expression, bool, error) {
	var cond expression.ConditionBuilder
	switch {
	case version == 0:
		cond = expression.AttributeNotExists(expression.Name(attrPK))
	case version > 0:
		cond = expression.Name(attrVersion).Equal(expression.Value(version))
	default:
		return expression.Expression{}, false, nil
	}
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	return expr, true, err
}

// put is the conditioned Put of an entity.
func (s *Store) put(e state.Entity) (*types.Put, error) {
	item, err := s.encode(e)
	if err != nil {
		return nil, err
	}
	p := &types.Put{TableName: aws.String(s.Table), Item: item}
	expr, ok, err := versioned(e.Version())
	if err != nil {
		return nil, err
	}
	if ok {
		p.ConditionExpression, p.ExpressionAttributeNames, p.ExpressionAttributeValues = expr.Condition(), expr.Names(), expr.Values()
	}
	return p, nil
}
