package awssim

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	et "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Simulated Amazon ECS: clusters, task definition revisions, services with
// rolling deployments and the deployment circuit breaker, and Fargate tasks
// that get an ENI, register with their target group, become healthy (or fail
// when their image contains "broken"), drain and stop.
//
// Error codes are the ones the ECS API reference lists per operation
// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/CommonErrors.html
// and each API_<Operation>.html "Errors" section): ClientException,
// InvalidParameterException, ClusterNotFoundException,
// ServiceNotFoundException, ServiceNotActiveException,
// ClusterContainsServicesException, ClusterContainsTasksException,
// ResourceNotFoundException.
//
// Time is modelled lazily: every call first plays the events (task started,
// target healthy, task stopped, service inactive) whose time has come, in
// order, so a chain of failing tasks unfolds correctly between two polls.
// There are no goroutines.

// BrokenImageMarker makes a simulated task fail: a container whose image
// contains it exits at once, as an app that crashes on start does, and the
// task stops with "Essential container in task exited".
const BrokenImageMarker = "broken"

type ecsCluster struct {
	name, arn string
	status    string // ACTIVE, INACTIVE
	settings  map[string]string
	tags      map[string]string
}

type ecsSim struct {
	c        *Cloud
	clusters map[string]*ecsCluster   // by name
	tds      map[string][]*ecsTaskDef // family -> revisions (index = revision-1)
	services map[string]*ecsService   // cluster/name
	tokens   map[string]string        // clientToken -> cluster/name
	tasks    map[string]*ecsTask      // task ARN
	seq      int64
}

func init() {
	register("ECS", func(c *Cloud) any {
		return &ecsSim{c: c, clusters: map[string]*ecsCluster{}, tds: map[string][]*ecsTaskDef{},
			services: map[string]*ecsService{}, tokens: map[string]string{}, tasks: map[string]*ecsTask{}}
	})
}

func (c *Cloud) ecs() *ecsSim { return c.services["ECS"].(*ecsSim) }

// ecsTargets is what the simulated ELBv2 offers ECS for its tasks.
type ecsTargets interface {
	registerTask(tgARN, ip string, port int32) error
	deregisterTask(tgARN, ip string)
	setTaskHealthy(tgARN, ip string, healthy bool)
	tgHasLoadBalancer(tgARN string) bool
}

// lb returns the simulated ELBv2 when it offers the task hooks.
func (s *ecsSim) lb() ecsTargets {
	t, _ := s.c.services["Elastic Load Balancing v2"].(ecsTargets)
	return t
}

// roleUsable asks the simulated IAM whether a new role can be assumed yet
// (IAM is eventually consistent); without that hook every role is usable.
func (s *ecsSim) roleUsable(arn string) bool {
	if r, ok := any(s.c).(interface{ roleUsable(string) bool }); ok {
		return r.roleUsable(arn)
	}
	return true
}

func (s *ecsSim) arn(kind, rest string) string {
	return fmt.Sprintf("arn:aws:ecs:%s:%s:%s/%s", s.c.Region, s.c.Account, kind, rest)
}

// lastSegment returns a name from a name or an ARN ("arn:...:cluster/name").
func lastSegment(v string) string {
	if i := strings.LastIndex(v, "/"); i >= 0 {
		return v[i+1:]
	}
	return v
}

func (s *ecsSim) clusterName(ref *string) string {
	v := aws.ToString(ref)
	if v == "" {
		return "default"
	}
	return lastSegment(v)
}

// activeCluster returns the named cluster or ClusterNotFoundException.
func (s *ecsSim) activeCluster(ref *string) (*ecsCluster, error) {
	name := s.clusterName(ref)
	cl, ok := s.clusters[name]
	if !ok || cl.status != "ACTIVE" {
		return nil, apiError("ClusterNotFoundException", "Cluster not found.")
	}
	return cl, nil
}

func ecsTagMap(tags []et.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func ecsTagList(m map[string]string) []et.Tag {
	var out []et.Tag
	for _, k := range sortedKeys(m) {
		out = append(out, et.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

// validateTags applies the ECS tag rules (TagResource API reference: at most
// 50 tags, keys 1-128 and values 0-256 characters, "aws:" reserved).
func validateECSTags(tags []et.Tag) error {
	if len(tags) > 50 {
		return apiError("InvalidParameterException", "Too many tags: %d (maximum 50)", len(tags))
	}
	for _, t := range tags {
		k := aws.ToString(t.Key)
		if k == "" || len(k) > 128 || len(aws.ToString(t.Value)) > 256 {
			return apiError("InvalidParameterException", "Invalid tag %q", k)
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return apiError("InvalidParameterException", "Tag keys starting with 'aws:' are reserved")
		}
	}
	return nil
}

func (s *ecsSim) inventory() []Resource {
	s.advance(s.c.now())
	var out []Resource
	for _, name := range sortedKeys(s.clusters) {
		if cl := s.clusters[name]; cl.status == "ACTIVE" {
			out = append(out, Resource{"ECS", "cluster", cl.name, copyTags(cl.tags)})
		}
	}
	for _, fam := range sortedKeys(s.tds) {
		for _, td := range s.tds[fam] {
			if td.status == "ACTIVE" {
				out = append(out, Resource{"ECS", "task-definition", td.arn, copyTags(td.tags)})
			}
		}
	}
	for _, key := range sortedKeys(s.services) {
		if sv := s.services[key]; sv.status != "INACTIVE" {
			out = append(out, Resource{"ECS", "service", sv.arn, copyTags(sv.tags)})
		}
	}
	// Tasks are not listed: they belong to their service (and carry its tags
	// through propagateTags); their ENIs are listed by EC2.
	return out
}

// ---- Clusters ----

func (s *ecsSim) clusterOut(cl *ecsCluster, include []et.ClusterField) et.Cluster {
	out := et.Cluster{ClusterArn: aws.String(cl.arn), ClusterName: aws.String(cl.name), Status: aws.String(cl.status)}
	if cl.status == "ACTIVE" {
		for _, sv := range s.services {
			if sv.cluster == cl.name && sv.status == "ACTIVE" {
				out.ActiveServicesCount++
			}
		}
		now := s.c.now()
		for _, t := range s.tasks {
			if t.cluster != cl.name {
				continue
			}
			switch t.lastStatus(now) {
			case "RUNNING":
				out.RunningTasksCount++
			case "PROVISIONING", "PENDING", "ACTIVATING":
				out.PendingTasksCount++
			}
		}
	}
	for _, f := range include {
		switch f {
		case et.ClusterFieldSettings:
			for _, k := range sortedKeys(cl.settings) {
				out.Settings = append(out.Settings, et.ClusterSetting{Name: et.ClusterSettingName(k), Value: aws.String(cl.settings[k])})
			}
		case et.ClusterFieldTags:
			out.Tags = ecsTagList(cl.tags)
		}
	}
	return out
}

// Container Insights values (ClusterSetting API reference).
func validClusterSetting(st et.ClusterSetting) error {
	if st.Name != et.ClusterSettingNameContainerInsights {
		return apiError("InvalidParameterException", "Unknown cluster setting %q", st.Name)
	}
	switch aws.ToString(st.Value) {
	case "enabled", "disabled", "enhanced":
		return nil
	}
	return apiError("InvalidParameterException", "Invalid value %q for containerInsights: enabled, disabled or enhanced", aws.ToString(st.Value))
}

// CreateCluster returns the existing cluster when an ACTIVE one has the name
// (CreateCluster API reference: the call is idempotent).
func (s *ecsSim) CreateCluster(_ context.Context, in *ecs.CreateClusterInput) (*ecs.CreateClusterOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	s.advance(s.c.now())
	name := aws.ToString(in.ClusterName)
	if name == "" {
		name = "default"
	}
	if !ecsNameOK(name) {
		return nil, apiError("InvalidParameterException", "Cluster name %q: up to 255 letters, numbers, underscores and hyphens", name)
	}
	if err := validateECSTags(in.Tags); err != nil {
		return nil, err
	}
	for _, st := range in.Settings {
		if err := validClusterSetting(st); err != nil {
			return nil, err
		}
	}
	if cl, ok := s.clusters[name]; ok && cl.status == "ACTIVE" {
		out := s.clusterOut(cl, nil)
		return &ecs.CreateClusterOutput{Cluster: &out}, nil
	}
	cl := &ecsCluster{name: name, arn: s.arn("cluster", name), status: "ACTIVE",
		settings: map[string]string{"containerInsights": "disabled"}, tags: ecsTagMap(in.Tags)}
	for _, st := range in.Settings {
		cl.settings[string(st.Name)] = aws.ToString(st.Value)
	}
	s.clusters[name] = cl
	out := s.clusterOut(cl, []et.ClusterField{et.ClusterFieldSettings, et.ClusterFieldTags})
	return &ecs.CreateClusterOutput{Cluster: &out}, nil
}

// DescribeClusters reports unknown clusters in Failures (reason MISSING);
// deleted clusters are described with status INACTIVE.
func (s *ecsSim) DescribeClusters(_ context.Context, in *ecs.DescribeClustersInput) (*ecs.DescribeClustersOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	s.advance(s.c.now())
	refs := in.Clusters
	if len(refs) == 0 {
		refs = []string{"default"}
	}
	if len(refs) > 100 {
		return nil, apiError("InvalidParameterException", "At most 100 clusters can be described at once")
	}
	out := &ecs.DescribeClustersOutput{}
	for _, ref := range refs {
		cl, ok := s.clusters[lastSegment(ref)]
		if !ok {
			out.Failures = append(out.Failures, et.Failure{Arn: aws.String(s.arn("cluster", lastSegment(ref))), Reason: aws.String("MISSING")})
			continue
		}
		out.Clusters = append(out.Clusters, s.clusterOut(cl, in.Include))
	}
	return out, nil
}

func (s *ecsSim) UpdateClusterSettings(_ context.Context, in *ecs.UpdateClusterSettingsInput) (*ecs.UpdateClusterSettingsOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	s.advance(s.c.now())
	cl, err := s.activeCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	if len(in.Settings) == 0 {
		return nil, apiError("InvalidParameterException", "settings must not be empty")
	}
	for _, st := range in.Settings {
		if err := validClusterSetting(st); err != nil {
			return nil, err
		}
	}
	for _, st := range in.Settings {
		cl.settings[string(st.Name)] = aws.ToString(st.Value)
	}
	out := s.clusterOut(cl, []et.ClusterField{et.ClusterFieldSettings})
	return &ecs.UpdateClusterSettingsOutput{Cluster: &out}, nil
}

// DeleteCluster refuses while services (ACTIVE or DRAINING) or tasks remain
// (DeleteCluster API reference).
func (s *ecsSim) DeleteCluster(_ context.Context, in *ecs.DeleteClusterInput) (*ecs.DeleteClusterOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	now := s.c.now()
	s.advance(now)
	cl, err := s.activeCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	for _, sv := range s.services {
		if sv.cluster == cl.name && sv.status != "INACTIVE" {
			return nil, apiError("ClusterContainsServicesException", "The Cluster cannot be deleted while Services are active.")
		}
	}
	for _, t := range s.tasks {
		if t.cluster == cl.name && t.lastStatus(now) != "STOPPED" {
			return nil, apiError("ClusterContainsTasksException", "The Cluster cannot be deleted while Tasks are active.")
		}
	}
	cl.status = "INACTIVE"
	out := s.clusterOut(cl, nil)
	return &ecs.DeleteClusterOutput{Cluster: &out}, nil
}

// ---- Tags ----

// tagged returns the tag map of the resource an ARN names.
func (s *ecsSim) tagged(arn string) (map[string]string, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "ecs" {
		return nil, apiError("InvalidParameterException", "Invalid resource ARN %q", arn)
	}
	res := parts[5]
	switch {
	case strings.HasPrefix(res, "cluster/"):
		if cl, ok := s.clusters[lastSegment(res)]; ok && cl.status == "ACTIVE" {
			return cl.tags, nil
		}
	case strings.HasPrefix(res, "service/"):
		for _, sv := range s.services {
			if sv.arn == arn && sv.status != "INACTIVE" {
				return sv.tags, nil
			}
		}
	case strings.HasPrefix(res, "task-definition/"):
		if td := s.findTD(arn); td != nil && td.status != "DELETE_IN_PROGRESS" {
			return td.tags, nil
		}
	case strings.HasPrefix(res, "task/"):
		if t, ok := s.tasks[arn]; ok {
			return t.tags, nil
		}
	}
	return nil, apiError("ResourceNotFoundException", "The specified resource could not be found.")
}

func (s *ecsSim) TagResource(_ context.Context, in *ecs.TagResourceInput) (*ecs.TagResourceOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	if err := validateECSTags(in.Tags); err != nil {
		return nil, err
	}
	m, err := s.tagged(aws.ToString(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	for k, v := range ecsTagMap(in.Tags) {
		m[k] = v
	}
	if len(m) > 50 {
		return nil, apiError("InvalidParameterException", "Too many tags: a resource can have at most 50")
	}
	return &ecs.TagResourceOutput{}, nil
}

func (s *ecsSim) UntagResource(_ context.Context, in *ecs.UntagResourceInput) (*ecs.UntagResourceOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	m, err := s.tagged(aws.ToString(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	for _, k := range in.TagKeys {
		delete(m, k)
	}
	return &ecs.UntagResourceOutput{}, nil
}

func (s *ecsSim) ListTagsForResource(_ context.Context, in *ecs.ListTagsForResourceInput) (*ecs.ListTagsForResourceOutput, error) {
	s.c.lock()
	defer s.c.unlock()
	m, err := s.tagged(aws.ToString(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	return &ecs.ListTagsForResourceOutput{Tags: ecsTagList(m)}, nil
}

// ecsNameOK: cluster, service and family names are up to 255 letters
// (upper and lower case), numbers, underscores and hyphens.
func ecsNameOK(n string) bool {
	if n == "" || len(n) > 255 {
		return false
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}
