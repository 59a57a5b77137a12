package provision

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/wbo-deploy/wbo-deploy/internal/awserr"
	"github.com/wbo-deploy/wbo-deploy/internal/state"
)

// snsTopicKind provisions the alarm topic (config.Names().AlarmTopic) and
// converges its email and SMS subscriptions with alarms.email / alarms.sms.
//
// Subscriptions of other protocols (a chat bot, an HTTPS hook added by hand)
// are left alone. An email subscription stays "PendingConfirmation" until the
// recipient clicks the link; SNS lists it without an ARN, so it cannot be
// unsubscribed: when such an address leaves the configuration it is left for
// SNS to delete once it has been unconfirmed for 48 hours (AWS What's New,
// 2023-05-10, "automatic deletion of unconfirmed subscriptions"), and status
// says so. If it gets confirmed meanwhile, the next up unsubscribes it.
type snsTopicKind struct{}

func init() { Register(snsTopicKind{}) }

func (snsTopicKind) Type() string { return "sns.topic" }

// pendingARN is what ListSubscriptionsByTopic shows in place of the ARN of
// an unconfirmed subscription.
const pendingARN = "PendingConfirmation"

type snsSubscription struct {
	protocol, endpoint, arn string
}

func (s snsSubscription) pending() bool { return !strings.HasPrefix(s.arn, "arn:") }

func (s snsSubscription) key() string { return s.protocol + ":" + normEndpoint(s.protocol, s.endpoint) }

// normEndpoint: email addresses are compared without case (config validation
// refuses two addresses differing only in case).
func normEndpoint(protocol, ep string) string {
	if protocol == "email" {
		return strings.ToLower(ep)
	}
	return ep
}

type topicObs struct {
	subs []snsSubscription
}

func (k snsTopicKind) arn(env *Env) string {
	return fmt.Sprintf("arn:%s:sns:%s:%s:%s", obsPartition(env), env.Region(), env.Account(), env.Cfg.Names().AlarmTopic)
}

func (k snsTopicKind) Find(ctx context.Context, env *Env, n *Node, rec *state.Resource) (*Observed, error) {
	arn := k.arn(env)
	if rec != nil && rec.ID != "" {
		arn = rec.ID
	}
	if _, err := env.AWS.SNS.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)}); err != nil {
		if awserr.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("get attributes of topic %s: %w", arn, err)
	}
	subs, err := k.subscriptions(ctx, env, arn)
	if err != nil {
		return nil, err
	}
	obs := &Observed{Rec: NewRecord(n, arn), State: "available", Raw: &topicObs{subs: subs}}
	obs.Rec.ARN = arn
	obs.Info = k.info(env, subs)
	return obs, nil
}

func (k snsTopicKind) subscriptions(ctx context.Context, env *Env, arn string) ([]snsSubscription, error) {
	var subs []snsSubscription
	p := sns.NewListSubscriptionsByTopicPaginator(env.AWS.SNS, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(arn)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list subscriptions of topic %s: %w", arn, err)
		}
		for _, s := range page.Subscriptions {
			subs = append(subs, snsSubscription{protocol: aws.ToString(s.Protocol), endpoint: aws.ToString(s.Endpoint), arn: aws.ToString(s.SubscriptionArn)})
		}
	}
	return subs, nil
}

// wanted returns the configured subscriptions.
func (k snsTopicKind) wanted(env *Env) []snsSubscription {
	var out []snsSubscription
	for _, e := range env.Cfg.Alarms.Email {
		out = append(out, snsSubscription{protocol: "email", endpoint: e})
	}
	for _, s := range env.Cfg.Alarms.SMS {
		out = append(out, snsSubscription{protocol: "sms", endpoint: s})
	}
	return out
}

func managedProtocol(p string) bool { return p == "email" || p == "sms" }

func (k snsTopicKind) info(env *Env, subs []snsSubscription) map[string]string {
	info := map[string]string{}
	want := map[string]bool{}
	for _, w := range k.wanted(env) {
		want[w.key()] = true
	}
	for _, s := range subs {
		status := "confirmed"
		if s.pending() {
			status = "pending confirmation"
			if managedProtocol(s.protocol) && !want[s.key()] {
				status = "pending confirmation; no longer configured, SNS deletes it within 48 hours unless confirmed"
			}
		}
		info["subscription "+s.protocol+" "+s.endpoint] = status
	}
	if len(subs) == 0 {
		info["subscriptions"] = "none (set alarms.email or alarms.sms to be notified)"
	}
	return info
}

func (k snsTopicKind) Create(ctx context.Context, env *Env, n *Node) (*Observed, error) {
	name := env.Cfg.Names().AlarmTopic
	var tags []snstypes.Tag
	for _, kv := range env.SortedTags(n.Name) {
		tags = append(tags, snstypes.Tag{Key: aws.String(kv[0]), Value: aws.String(kv[1])})
	}
	out, err := env.AWS.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name), Tags: tags})
	if err != nil {
		return nil, fmt.Errorf("create topic %s: %w", name, err)
	}
	arn := aws.ToString(out.TopicArn)
	rec := NewRecord(n, arn)
	rec.ARN = arn
	if err := env.Record(rec); err != nil {
		return nil, err
	}
	return &Observed{Rec: rec, State: "available", Raw: &topicObs{}, Info: k.info(env, nil)}, nil
}

// plan compares configured and existing subscriptions: what to subscribe,
// and which confirmed subscriptions to remove.
func (k snsTopicKind) plan(env *Env, raw *topicObs) (add, remove []snsSubscription) {
	have := map[string]bool{}
	for _, s := range raw.subs {
		have[s.key()] = true
	}
	want := map[string]bool{}
	for _, w := range k.wanted(env) {
		want[w.key()] = true
		if !have[w.key()] {
			add = append(add, w)
		}
	}
	for _, s := range raw.subs {
		if managedProtocol(s.protocol) && !want[s.key()] && !s.pending() {
			remove = append(remove, s)
		}
	}
	sort.Slice(add, func(i, j int) bool { return add[i].key() < add[j].key() })
	sort.Slice(remove, func(i, j int) bool { return remove[i].key() < remove[j].key() })
	return add, remove
}

func (k snsTopicKind) Diff(env *Env, n *Node, obs *Observed) []Change {
	add, remove := k.plan(env, obs.Raw.(*topicObs))
	var cs []Change
	for _, s := range add {
		cs = append(cs, Change{Field: "subscription " + s.protocol + " " + s.endpoint, Old: "none", New: "subscribed"})
	}
	for _, s := range remove {
		cs = append(cs, Change{Field: "subscription " + s.protocol + " " + s.endpoint, Old: "subscribed", New: "unsubscribed (not in the configuration)"})
	}
	return cs
}

func (k snsTopicKind) Update(ctx context.Context, env *Env, n *Node, obs *Observed, changes []Change) error {
	raw := obs.Raw.(*topicObs)
	add, remove := k.plan(env, raw)
	for _, s := range add {
		out, err := env.AWS.SNS.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(obs.Rec.ID), Protocol: aws.String(s.protocol), Endpoint: aws.String(s.endpoint)})
		if err != nil {
			return fmt.Errorf("subscribe %s %s to topic %s: %w", s.protocol, s.endpoint, obs.Rec.ID, err)
		}
		s.arn = aws.ToString(out.SubscriptionArn)
		if !strings.HasPrefix(s.arn, "arn:") {
			s.arn = pendingARN
		}
		raw.subs = append(raw.subs, s)
	}
	for _, s := range remove {
		_, err := env.AWS.SNS.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: aws.String(s.arn)})
		if err != nil && !awserr.IsNotFound(err) {
			return fmt.Errorf("unsubscribe %s %s from topic %s: %w", s.protocol, s.endpoint, obs.Rec.ID, err)
		}
	}
	kept := raw.subs[:0]
	for _, s := range raw.subs {
		gone := false
		for _, r := range remove {
			gone = gone || r.arn == s.arn
		}
		if !gone {
			kept = append(kept, s)
		}
	}
	raw.subs = kept
	obs.Info = k.info(env, raw.subs)
	return nil
}

// Delete deletes the topic and with it its subscriptions. DeleteTopic on a
// topic that does not exist succeeds (SNS DeleteTopic reference).
func (k snsTopicKind) Delete(ctx context.Context, env *Env, rec state.Resource) error {
	_, err := env.AWS.SNS.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: aws.String(rec.ID)})
	if err != nil && !awserr.IsNotFound(err) {
		return fmt.Errorf("delete topic %s: %w", rec.ID, err)
	}
	return nil
}

// Discover lists the account's topics named like this stack's alarm topic
// and keeps those tagged for the stack.
func (k snsTopicKind) Discover(ctx context.Context, env *Env) ([]state.Resource, error) {
	var out []state.Resource
	suffix := ":" + env.Cfg.Names().AlarmTopic
	p := sns.NewListTopicsPaginator(env.AWS.SNS, &sns.ListTopicsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list topics: %w", err)
		}
		for _, t := range page.Topics {
			arn := aws.ToString(t.TopicArn)
			if !strings.HasSuffix(arn, suffix) {
				continue
			}
			tags, err := env.AWS.SNS.ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
			if err != nil {
				if awserr.IsNotFound(err) {
					continue
				}
				return nil, fmt.Errorf("list tags of topic %s: %w", arn, err)
			}
			m := map[string]string{}
			for _, tg := range tags.Tags {
				m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
			}
			if m[TagStack] == env.Stack() {
				out = append(out, state.Resource{Name: m[TagResource], Kind: k.Type(), ID: arn, ARN: arn})
			}
		}
	}
	return out, nil
}
