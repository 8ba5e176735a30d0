package deploy

import (
	"fmt"
	"slices"
	"sort"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// ownNamespace stands for the namespace the system is installed in.
const ownNamespace = "orderflow-under-test"

// endpoint is a pod that may open or accept a connection: one of the
// system's, or one elsewhere.
type endpoint struct {
	name      string
	namespace labels.Set
	labels    labels.Set
	pod       *corev1.PodSpec // nil: not one of the system's pods
}

func nsLabels(name string) labels.Set { return labels.Set{"kubernetes.io/metadata.name": name} }

var (
	outside = endpoint{name: "outside", namespace: nsLabels("elsewhere")}
	kubeDNS = endpoint{name: "kube-dns", namespace: nsLabels("kube-system"), labels: labels.Set{"k8s-app": "kube-dns"}}
)

// checkNetworkPolicies works out, from the policies, which connections
// between the pods (and from outside the namespace) are allowed, and
// compares them with the intended ones.
func checkNetworkPolicies(t *testing.T, s *system) {
	var pods []endpoint
	for _, w := range s.workloads {
		pods = append(pods, endpoint{name: w.name, namespace: nsLabels(ownNamespace), labels: w.pod.Labels, pod: &w.pod.Spec})
	}
	want := []string{
		"outside -> gateway:7000",
		"gateway -> ordersvc:7001",
		"ordersvc -> mongo:27017", "ordersvc -> redis:6379",
		"paymentsvc -> mongo:27017", "paymentsvc -> redis:6379",
	}
	if s.workloads["flowsvc"] != nil {
		// The flow page is open to all; it reads Redis and places
		// orders on the gateway.
		want = append(want, "outside -> flowsvc:7003", "flowsvc -> redis:6379", "flowsvc -> gateway:7000")
	}
	var have []string
	for _, from := range append(slices.Clone(pods), outside) {
		for _, to := range pods {
			for _, c := range to.pod.Containers {
				for _, p := range c.Ports {
					if s.allows(from, to, corev1.ProtocolTCP, p.ContainerPort) {
						have = append(have, fmt.Sprintf("%s -> %s:%d", from.name, to.name, p.ContainerPort))
					}
				}
			}
		}
		if from.pod != nil && !s.allows(from, kubeDNS, corev1.ProtocolUDP, 53) {
			t.Errorf("%s cannot resolve names", from.name)
		}
	}
	sort.Strings(want)
	sort.Strings(have)
	if !slices.Equal(have, want) {
		t.Errorf("allowed connections:\n%q\nwant:\n%q", have, want)
	}
	for _, np := range s.netpols {
		sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		if err != nil || !sel.Empty() && len(s.selected(sel)) == 0 {
			t.Errorf("NetworkPolicy %s selects no pods", np.Name)
		}
	}
}

// allows reports whether from may open a connection to port of to: the
// policies that isolate to must admit it, and those that isolate from must
// let it out.
func (s *system) allows(from, to endpoint, proto corev1.Protocol, port int32) bool {
	return s.admits(to, networkingv1.PolicyTypeIngress, from, to, proto, port) &&
		s.admits(from, networkingv1.PolicyTypeEgress, to, to, proto, port)
}

// admits reports whether the policies of the given type that select pod
// let the connection through (any of them suffices); a pod no policy
// selects, or not one of the system's, is not isolated.
func (s *system) admits(pod endpoint, typ networkingv1.PolicyType, peer, dest endpoint, proto corev1.Protocol, port int32) bool {
	if pod.pod == nil {
		return true
	}
	isolated := false
	for _, np := range s.netpols {
		sel, _ := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		if !sel.Matches(pod.labels) || !slices.Contains(np.Spec.PolicyTypes, typ) {
			continue
		}
		isolated = true
		if typ == networkingv1.PolicyTypeIngress {
			for _, r := range np.Spec.Ingress {
				if peersMatch(r.From, peer) && portsMatch(r.Ports, dest, proto, port) {
					return true
				}
			}
		} else {
			for _, r := range np.Spec.Egress {
				if peersMatch(r.To, peer) && portsMatch(r.Ports, dest, proto, port) {
					return true
				}
			}
		}
	}
	return !isolated
}

func peersMatch(peers []networkingv1.NetworkPolicyPeer, e endpoint) bool {
	if len(peers) == 0 {
		return true
	}
	for _, p := range peers {
		if p.IPBlock != nil {
			if e.pod == nil {
				return true
			}
			continue
		}
		nsOK := e.namespace.Get("kubernetes.io/metadata.name") == ownNamespace
		if p.NamespaceSelector != nil {
			sel, _ := metav1.LabelSelectorAsSelector(p.NamespaceSelector)
			nsOK = sel.Matches(e.namespace)
		}
		podOK := true
		if p.PodSelector != nil {
			sel, _ := metav1.LabelSelectorAsSelector(p.PodSelector)
			podOK = sel.Matches(e.labels)
		}
		if nsOK && podOK {
			return true
		}
	}
	return false
}

func portsMatch(ports []networkingv1.NetworkPolicyPort, dest endpoint, proto corev1.Protocol, port int32) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		if ptrOr(p.Protocol, corev1.ProtocolTCP) != proto {
			continue
		}
		switch {
		case p.Port == nil:
			return true
		case p.Port.StrVal != "" && dest.pod != nil:
			if cp, ok := containerPort(dest.pod, *p.Port); ok && cp.ContainerPort == port {
				return true
			}
		case p.Port.IntVal == port:
			return true
		}
	}
	return false
}
