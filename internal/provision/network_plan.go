package provision

import (
	"fmt"
	"strings"
)

// Plan notes of the network kinds: what each resource will be, shown by
// `plan` next to "create".

func (vpcKind) PlanNote(env *Env, n *Node) string {
	return env.Cfg.Network.VPCCIDR + ", DNS support and hostnames on"
}

func (subnetKind) PlanNote(env *Env, n *Node) string {
	list := env.Cfg.Network.PrivateSubnets
	if n.Role == "public" {
		list = env.Cfg.Network.PublicSubnets
	}
	az := fmt.Sprintf("AZ %d", n.Index+1)
	if len(env.Cfg.Network.AvailabilityZones) == 2 {
		az = env.Cfg.Network.AvailabilityZones[n.Index%2]
	}
	if n.Index >= len(list) {
		return ""
	}
	if n.Role == "public" {
		return list[n.Index] + " in " + az + ", public IPs on launch"
	}
	return list[n.Index] + " in " + az + ", no route to the internet"
}

func (igwKind) PlanNote(*Env, *Node) string { return "attached to the VPC" }

func (routeTableKind) PlanNote(env *Env, n *Node) string {
	var subnets []string
	for _, d := range n.Deps {
		if strings.HasPrefix(d, "subnet-") {
			subnets = append(subnets, d)
		}
	}
	s := "for " + strings.Join(subnets, ", ")
	if n.Role == "public" {
		s = "0.0.0.0/0 → igw, " + s
	}
	return s
}

func (secGroupKind) PlanNote(env *Env, n *Node) string {
	switch n.Role {
	case "alb":
		return "tcp 80, 443 from 0.0.0.0/0"
	case "tasks":
		return fmt.Sprintf("tcp %d from sg-alb only", env.Cfg.App.Port)
	case "redis":
		return "tcp 6379 from sg-tasks only"
	}
	return ""
}
