package main

import "github.com/aftercare/aftercare/infra/lives"

// The order lives live in infra/lives, shared with infra/cost.
type (
	hook    = lives.Hook
	plan    = lives.Plan
	goldens = lives.Goldens
)

var (
	loadGoldens = lives.LoadGoldens
	newPlan     = lives.NewPlan
	eventTime   = lives.EventTime
)

const deliverySecret = lives.DeliverySecret
