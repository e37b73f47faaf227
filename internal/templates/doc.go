// Package templates owns the words aftercare sends: one template per message
// kind and channel, in text/template's syntax, embedded in the binary and run
// by the package's own small engine (engine.go), and the code that fills in
// the shared field contract (order number, what happened, the next action, a
// support contact and a help link for the issue) and renders a message.
//
// Support messages fix a problem the reader has now; success messages help
// them before a problem starts. Both are written the way a careful shop owner
// writes: plain, specific, and short.
package templates
