package provision

import (
	"strings"
	"testing"
)

func TestTopicSubscriptionsConverge(t *testing.T) {
	r := newRig(t, nil)
	topic := "arn:aws:sns:us-east-1:123456789012:wbo-alarms"
	r.cfg.Alarms.Email = []string{"a@example.com", "b@example.com"}
	r.cfg.Alarms.SMS = []string{"+14155550100"}
	obsUp(t, r)
	if got := strings.Join(r.cloud.Subscriptions(topic), ","); got != "email:a@example.com (pending),email:b@example.com (pending),sms:+14155550100" {
		t.Fatalf("subscriptions %s", got)
	}
	st := obsStatus(t, r)["topic"]
	if st.Status != StatusOK || st.Info["subscription email a@example.com"] != "pending confirmation" || st.Info["subscription sms +14155550100"] != "confirmed" {
		t.Fatalf("topic status %+v", st)
	}
	if !r.cloud.ConfirmSubscription(topic, "a@example.com") {
		t.Fatal("confirm")
	}
	// a (confirmed) and b (pending) leave the configuration, c joins, the
	// number changes.
	r.cfg.Alarms.Email = []string{"C@example.com"}
	r.cfg.Alarms.SMS = []string{"+33612345678"}
	r.cloud.ResetCalls()
	obsUp(t, r)
	m := r.cloud.MutatingCalls()
	if strings.Join(m, ",") != "SNS.Subscribe,SNS.Subscribe,SNS.Unsubscribe,SNS.Unsubscribe" {
		t.Fatalf("convergence made %v", m)
	}
	// b is still pending: SNS cannot unsubscribe it and deletes it after 48 h.
	if got := strings.Join(r.cloud.Subscriptions(topic), ","); got != "email:C@example.com (pending),email:b@example.com (pending),sms:+33612345678" {
		t.Fatalf("subscriptions %s", got)
	}
	st = obsStatus(t, r)["topic"]
	if !strings.Contains(st.Info["subscription email b@example.com"], "no longer configured") || st.Status != StatusOK {
		t.Fatalf("topic status %+v", st)
	}
	r.cloud.ResetCalls()
	obsUp(t, r)
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("re-run made %v", m)
	}
	// Case differences in an address are not a change.
	r.cfg.Alarms.Email = []string{"c@example.com"}
	obsUp(t, r)
	if m := r.cloud.MutatingCalls(); len(m) != 0 {
		t.Fatalf("case change made %v", m)
	}
	// Once confirmed, a removed address is unsubscribed.
	r.cloud.ConfirmSubscription(topic, "b@example.com")
	r.cloud.ResetCalls()
	obsUp(t, r)
	if m := r.cloud.MutatingCalls(); strings.Join(m, ",") != "SNS.Unsubscribe" {
		t.Fatalf("after b confirmed: %v", m)
	}
}
