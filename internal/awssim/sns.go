package awssim

import (
	"context"
	"fmt"
	"net/mail"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snst "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// SNS topics and subscriptions. Error codes (SNS API reference, Errors of
// each action): InvalidParameter, NotFound, ResourceNotFound (tagging).
//
// Behaviour simulated:
//   - CreateTopic is idempotent by name and returns the existing ARN; with
//     different tags or attributes it answers InvalidParameter ("Topic already
//     exists with different tags").
//   - Email (and http/https) subscriptions stay PendingConfirmation until the
//     recipient confirms: Subscribe answers "pending confirmation" instead of
//     an ARN (unless ReturnSubscriptionArn), and ListSubscriptionsByTopic
//     shows "PendingConfirmation" in place of the ARN, so such a subscription
//     cannot be unsubscribed through the listing. SNS deletes unconfirmed
//     subscriptions after 48 hours (AWS What's New, 2023-05-10: "automatic
//     deletion of unconfirmed subscriptions once they have been in a pending
//     confirmation state for 48 hours"). SMS subscriptions need no confirmation.
//   - DeleteTopic deletes the topic's subscriptions; deleting a topic that
//     does not exist is not an error (DeleteTopic reference).

// PendingSubscriptionLifetime is how long SNS keeps an unconfirmed subscription.
const PendingSubscriptionLifetime = 48 * time.Hour

type snsSub struct {
	arn, protocol, endpoint string
	pending                 bool
	expires                 time.Time
}

type snsTopic struct {
	name, arn string
	attrs     map[string]string
	tags      map[string]string
	subs      []*snsSub
}

type snsSim struct {
	c      *Cloud
	topics map[string]*snsTopic // by ARN
	seq    int
}

func init() {
	register("SNS", func(c *Cloud) any { return &snsSim{c: c, topics: map[string]*snsTopic{}} })
}

func (c *Cloud) sns() *snsSim { return c.services["SNS"].(*snsSim) }

func (s *snsSim) inventory() []Resource {
	var out []Resource
	for _, arn := range sortedKeys(s.topics) {
		t := s.topics[arn]
		out = append(out, Resource{"SNS", "topic", arn, copyTags(t.tags)})
		s.expire(t)
		for _, sub := range t.subs {
			// Subscriptions carry no tags; they belong to the topic's stack.
			out = append(out, Resource{"SNS", "subscription", sub.protocol + ":" + sub.endpoint, map[string]string{}})
		}
	}
	return out
}

func snsInvalid(format string, args ...any) error {
	return apiError("InvalidParameter", "Invalid parameter: "+format, args...)
}

func snsNotFound(what string) error { return apiError("NotFound", "%s does not exist", what) }

var snsTopicNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// expire drops pending subscriptions older than PendingSubscriptionLifetime (c.mu held).
func (s *snsSim) expire(t *snsTopic) {
	now := s.c.now()
	kept := t.subs[:0]
	for _, sub := range t.subs {
		if sub.pending && now.After(sub.expires) {
			continue
		}
		kept = append(kept, sub)
	}
	t.subs = kept
}

func snsTagMap(tags []snst.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func sameMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func (s *snsSim) CreateTopic(_ context.Context, in *sns.CreateTopicInput) (*sns.CreateTopicOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	name := aws.ToString(in.Name)
	if !snsTopicNameRE.MatchString(strings.TrimSuffix(name, ".fifo")) {
		return nil, snsInvalid("Topic Name")
	}
	arn := fmt.Sprintf("arn:aws:sns:%s:%s:%s", s.c.Region, s.c.Account, name)
	if t, ok := s.topics[arn]; ok {
		if len(in.Tags) > 0 && !sameMap(t.tags, snsTagMap(in.Tags)) {
			return nil, snsInvalid("Tags Reason: Topic already exists with different tags")
		}
		for k, v := range in.Attributes {
			if t.attrs[k] != v {
				return nil, snsInvalid("Attributes Reason: Topic already exists with different attributes")
			}
		}
		return &sns.CreateTopicOutput{TopicArn: aws.String(arn)}, nil
	}
	if len(in.Tags) > 50 {
		return nil, apiError("TagLimitExceeded", "Could not complete request: tag quota of per resource exceeded")
	}
	s.topics[arn] = &snsTopic{name: name, arn: arn, attrs: copyTags(in.Attributes), tags: snsTagMap(in.Tags)}
	return &sns.CreateTopicOutput{TopicArn: aws.String(arn)}, nil
}

func (s *snsSim) topic(arn *string) (*snsTopic, error) {
	a := aws.ToString(arn)
	if !strings.HasPrefix(a, "arn:aws:sns:") {
		return nil, snsInvalid("TopicArn")
	}
	t, ok := s.topics[a]
	if !ok {
		return nil, snsNotFound("Topic")
	}
	s.expire(t)
	return t, nil
}

func (s *snsSim) GetTopicAttributes(_ context.Context, in *sns.GetTopicAttributesInput) (*sns.GetTopicAttributesOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	t, err := s.topic(in.TopicArn)
	if err != nil {
		return nil, err
	}
	attrs := copyTags(t.attrs)
	confirmed, pending := 0, 0
	for _, sub := range t.subs {
		if sub.pending {
			pending++
		} else {
			confirmed++
		}
	}
	attrs["TopicArn"], attrs["Owner"] = t.arn, s.c.Account
	attrs["SubscriptionsConfirmed"], attrs["SubscriptionsPending"], attrs["SubscriptionsDeleted"] = fmt.Sprint(confirmed), fmt.Sprint(pending), "0"
	if _, ok := attrs["DisplayName"]; !ok {
		attrs["DisplayName"] = ""
	}
	return &sns.GetTopicAttributesOutput{Attributes: attrs}, nil
}

// SetTopicAttributes accepts the attributes wbo-deploy may set.
func (s *snsSim) SetTopicAttributes(_ context.Context, in *sns.SetTopicAttributesInput) (*sns.SetTopicAttributesOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	t, err := s.topic(in.TopicArn)
	if err != nil {
		return nil, err
	}
	switch n := aws.ToString(in.AttributeName); n {
	case "DisplayName", "Policy", "DeliveryPolicy", "KmsMasterKeyId", "TracingConfig", "SignatureVersion":
		t.attrs[n] = aws.ToString(in.AttributeValue)
	default:
		return nil, snsInvalid("AttributeName")
	}
	return &sns.SetTopicAttributesOutput{}, nil
}

func (s *snsSim) DeleteTopic(_ context.Context, in *sns.DeleteTopicInput) (*sns.DeleteTopicOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	if !strings.HasPrefix(aws.ToString(in.TopicArn), "arn:aws:sns:") {
		return nil, snsInvalid("TopicArn")
	}
	delete(s.topics, aws.ToString(in.TopicArn))
	return &sns.DeleteTopicOutput{}, nil
}

// ListTopics pages by 100 topics (ListTopics reference).
func (s *snsSim) ListTopics(_ context.Context, in *sns.ListTopicsInput) (*sns.ListTopicsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	var list []snst.Topic
	for _, arn := range sortedKeys(s.topics) {
		list = append(list, snst.Topic{TopicArn: aws.String(arn)})
	}
	page, next := paginate(list, aws.Int32(100), in.NextToken)
	return &sns.ListTopicsOutput{Topics: page, NextToken: next}, nil
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

func (s *snsSim) Subscribe(_ context.Context, in *sns.SubscribeInput) (*sns.SubscribeOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	t, err := s.topic(in.TopicArn)
	if err != nil {
		return nil, err
	}
	proto, ep := aws.ToString(in.Protocol), aws.ToString(in.Endpoint)
	pending := false
	switch proto {
	case "email", "email-json":
		if a, err := mail.ParseAddress(ep); err != nil || a.Address != ep {
			return nil, snsInvalid("Email address")
		}
		pending = true
	case "sms":
		if !e164.MatchString(ep) {
			return nil, snsInvalid("Invalid SMS endpoint")
		}
	case "http", "https":
		if !strings.HasPrefix(ep, proto+"://") {
			return nil, snsInvalid("Invalid %s endpoint", proto)
		}
		pending = true
	case "sqs", "lambda", "application", "firehose":
		if !strings.HasPrefix(ep, "arn:") {
			return nil, snsInvalid("Invalid %s endpoint", proto)
		}
	default:
		return nil, snsInvalid("Invalid protocol type: %s", proto)
	}
	answer := func(sub *snsSub) *sns.SubscribeOutput {
		if sub.pending && !in.ReturnSubscriptionArn {
			return &sns.SubscribeOutput{SubscriptionArn: aws.String("pending confirmation")}
		}
		return &sns.SubscribeOutput{SubscriptionArn: aws.String(sub.arn)}
	}
	for _, sub := range t.subs {
		if sub.protocol == proto && sub.endpoint == ep {
			if sub.pending {
				sub.expires = s.c.deadline(PendingSubscriptionLifetime) // confirmation message sent again
			}
			return answer(sub), nil
		}
	}
	s.seq++
	sub := &snsSub{arn: fmt.Sprintf("%s:%08x-0000-4000-8000-%012x", t.arn, s.seq, s.seq), protocol: proto, endpoint: ep, pending: pending}
	if pending {
		sub.expires = s.c.deadline(PendingSubscriptionLifetime)
	}
	t.subs = append(t.subs, sub)
	return answer(sub), nil
}

// Unsubscribe deletes a subscription by ARN. "PendingConfirmation" (what the
// listing shows for an unconfirmed subscription) is not an ARN:
// InvalidParameter.
func (s *snsSim) Unsubscribe(_ context.Context, in *sns.UnsubscribeInput) (*sns.UnsubscribeOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	arn := aws.ToString(in.SubscriptionArn)
	if !strings.HasPrefix(arn, "arn:aws:sns:") {
		return nil, snsInvalid("SubscriptionArn Reason: An ARN must have at least 6 elements, not 1")
	}
	for _, t := range s.topics {
		for i, sub := range t.subs {
			if sub.arn == arn {
				t.subs = append(t.subs[:i], t.subs[i+1:]...)
				return &sns.UnsubscribeOutput{}, nil
			}
		}
	}
	return nil, snsNotFound("Subscription")
}

// ListSubscriptionsByTopic pages by 100 subscriptions.
func (s *snsSim) ListSubscriptionsByTopic(_ context.Context, in *sns.ListSubscriptionsByTopicInput) (*sns.ListSubscriptionsByTopicOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	t, err := s.topic(in.TopicArn)
	if err != nil {
		return nil, err
	}
	var list []snst.Subscription
	for _, sub := range t.subs {
		arn := sub.arn
		if sub.pending {
			arn = "PendingConfirmation"
		}
		list = append(list, snst.Subscription{SubscriptionArn: aws.String(arn), Protocol: aws.String(sub.protocol),
			Endpoint: aws.String(sub.endpoint), TopicArn: aws.String(t.arn), Owner: aws.String(s.c.Account)})
	}
	page, next := paginate(list, aws.Int32(100), in.NextToken)
	return &sns.ListSubscriptionsByTopicOutput{Subscriptions: page, NextToken: next}, nil
}

// ConfirmSubscription is a test hook: the recipient at endpoint confirms the
// subscription to the topic (as clicking the link in the email does). It
// reports whether a pending subscription was found.
func (c *Cloud) ConfirmSubscription(topicARN, endpoint string) bool {
	s := c.sns()
	c.lock()
	defer c.unlock()
	t, ok := s.topics[topicARN]
	if !ok {
		return false
	}
	s.expire(t)
	for _, sub := range t.subs {
		if sub.endpoint == endpoint && sub.pending {
			sub.pending = false
			return true
		}
	}
	return false
}

// Subscriptions is a test hook listing a topic's subscriptions as
// "protocol:endpoint" (with " (pending)" when unconfirmed), sorted.
func (c *Cloud) Subscriptions(topicARN string) []string {
	s := c.sns()
	c.lock()
	defer c.unlock()
	t, ok := s.topics[topicARN]
	if !ok {
		return nil
	}
	s.expire(t)
	var out []string
	for _, sub := range t.subs {
		x := sub.protocol + ":" + sub.endpoint
		if sub.pending {
			x += " (pending)"
		}
		out = append(out, x)
	}
	sort.Strings(out)
	return out
}

// ---- Tags ----

func (s *snsSim) tagged(arn *string) (*snsTopic, error) {
	t, ok := s.topics[aws.ToString(arn)]
	if !ok {
		return nil, apiError("ResourceNotFound", "Resource does not exist")
	}
	return t, nil
}

func (s *snsSim) ListTagsForResource(_ context.Context, in *sns.ListTagsForResourceInput) (*sns.ListTagsForResourceOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	t, err := s.tagged(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	var tags []snst.Tag
	for _, k := range sortedKeys(t.tags) {
		tags = append(tags, snst.Tag{Key: aws.String(k), Value: aws.String(t.tags[k])})
	}
	return &sns.ListTagsForResourceOutput{Tags: tags}, nil
}

func (s *snsSim) TagResource(_ context.Context, in *sns.TagResourceInput) (*sns.TagResourceOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	t, err := s.tagged(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	for k, v := range snsTagMap(in.Tags) {
		t.tags[k] = v
	}
	if len(t.tags) > 50 {
		return nil, apiError("TagLimitExceeded", "Could not complete request: tag quota of per resource exceeded")
	}
	return &sns.TagResourceOutput{}, nil
}

func (s *snsSim) UntagResource(_ context.Context, in *sns.UntagResourceInput) (*sns.UntagResourceOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	t, err := s.tagged(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	for _, k := range in.TagKeys {
		delete(t.tags, k)
	}
	return &sns.UntagResourceOutput{}, nil
}
