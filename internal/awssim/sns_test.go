package awssim

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snst "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

func TestSNSTopicsAndSubscriptions(t *testing.T) {
	c, cl := obsClients(t)
	ctx := context.Background()
	tags := []snst.Tag{{Key: aws.String("wbo-deploy:stack"), Value: aws.String("wbo")}}
	a, err := cl.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("wbo-alarms"), Tags: tags})
	if err != nil {
		t.Fatal(err)
	}
	b, err := cl.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("wbo-alarms"), Tags: tags})
	if err != nil || aws.ToString(a.TopicArn) != aws.ToString(b.TopicArn) || aws.ToString(a.TopicArn) != "arn:aws:sns:us-east-1:123456789012:wbo-alarms" {
		t.Fatalf("idempotent create: %v %v %v", a.TopicArn, b.TopicArn, err)
	}
	_, err = cl.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("wbo-alarms"), Tags: []snst.Tag{{Key: aws.String("x"), Value: aws.String("y")}}})
	if errCode(err) != "InvalidParameter" {
		t.Fatalf("different tags: %v", err)
	}
	if _, err := cl.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("bad name")}); errCode(err) != "InvalidParameter" {
		t.Fatalf("bad name: %v", err)
	}
	topic := a.TopicArn
	sub, err := cl.SNS.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic, Protocol: aws.String("email"), Endpoint: aws.String("ops@example.com")})
	if err != nil || aws.ToString(sub.SubscriptionArn) != "pending confirmation" {
		t.Fatalf("email subscribe: %v %v", sub, err)
	}
	sms, err := cl.SNS.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic, Protocol: aws.String("sms"), Endpoint: aws.String("+14155550100")})
	if err != nil || !strings.HasPrefix(aws.ToString(sms.SubscriptionArn), aws.ToString(topic)+":") {
		t.Fatalf("sms subscribe: %v %v", sms, err)
	}
	if _, err := cl.SNS.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic, Protocol: aws.String("sms"), Endpoint: aws.String("555")}); errCode(err) != "InvalidParameter" {
		t.Fatalf("bad number: %v", err)
	}
	again, _ := cl.SNS.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic, Protocol: aws.String("sms"), Endpoint: aws.String("+14155550100")})
	if aws.ToString(again.SubscriptionArn) != aws.ToString(sms.SubscriptionArn) {
		t.Fatal("subscribing the same endpoint again must return the same subscription")
	}
	l, err := cl.SNS.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: topic})
	if err != nil || len(l.Subscriptions) != 2 {
		t.Fatalf("list: %v %v", l, err)
	}
	var pendingARN string
	for _, s := range l.Subscriptions {
		if aws.ToString(s.Protocol) == "email" {
			pendingARN = aws.ToString(s.SubscriptionArn)
		}
	}
	if pendingARN != "PendingConfirmation" {
		t.Fatalf("pending email listed as %q", pendingARN)
	}
	if _, err := cl.SNS.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: aws.String(pendingARN)}); errCode(err) != "InvalidParameter" {
		t.Fatalf("unsubscribe PendingConfirmation: %v", err)
	}
	if !c.ConfirmSubscription(aws.ToString(topic), "ops@example.com") {
		t.Fatal("confirm hook")
	}
	attrs, err := cl.SNS.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: topic})
	if err != nil || attrs.Attributes["SubscriptionsConfirmed"] != "2" || attrs.Attributes["SubscriptionsPending"] != "0" {
		t.Fatalf("attributes %v %v", attrs, err)
	}
	if _, err := cl.SNS.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: sms.SubscriptionArn}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.SNS.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: sms.SubscriptionArn}); errCode(err) != "NotFound" {
		t.Fatalf("second unsubscribe: %v", err)
	}
	if got := c.Subscriptions(aws.ToString(topic)); len(got) != 1 || got[0] != "email:ops@example.com" {
		t.Fatalf("subscriptions %v", got)
	}
	if _, err := cl.SNS.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: topic}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.SNS.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: topic}); err != nil {
		t.Fatalf("deleting a missing topic is not an error: %v", err)
	}
	if _, err := cl.SNS.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: topic}); errCode(err) != "NotFound" {
		t.Fatalf("attributes of a deleted topic: %v", err)
	}
	if inv := c.Inventory(); len(inv) != 0 {
		t.Fatalf("left: %v", inv)
	}
}

func TestSNSPendingSubscriptionsExpire(t *testing.T) {
	timing := RealisticTiming()
	c := New(Options{Scale: 1e-7, Timing: &timing}) // 48 h = 17 ms
	cl := func() *snsSim { return c.sns() }()
	ctx := context.Background()
	out, err := cl.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("t")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Subscribe(ctx, &sns.SubscribeInput{TopicArn: out.TopicArn, Protocol: aws.String("email"), Endpoint: aws.String("a@example.com")}); err != nil {
		t.Fatal(err)
	}
	if got := c.Subscriptions(aws.ToString(out.TopicArn)); len(got) != 1 {
		t.Fatalf("before expiry %v", got)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(c.Subscriptions(aws.ToString(out.TopicArn))) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("pending subscription never expired")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
