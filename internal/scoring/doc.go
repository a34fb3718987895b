// Package scoring scores a shop end to end.
package scoring
