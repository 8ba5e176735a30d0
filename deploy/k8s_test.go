package deploy

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	psapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/yaml"
)

// kinds are the objects the deployment may contain, each decoded strictly
// into its k8s.io/api type: a field the API does not know fails the test.
var kinds = map[string]func() any{
	"v1/Namespace":                           func() any { return &corev1.Namespace{} },
	"v1/ConfigMap":                           func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                              func() any { return &corev1.Secret{} },
	"v1/Service":                             func() any { return &corev1.Service{} },
	"apps/v1/Deployment":                     func() any { return &appsv1.Deployment{} },
	"apps/v1/StatefulSet":                    func() any { return &appsv1.StatefulSet{} },
	"policy/v1/PodDisruptionBudget":          func() any { return &policyv1.PodDisruptionBudget{} },
	"autoscaling/v2/HorizontalPodAutoscaler": func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"networking.k8s.io/v1/NetworkPolicy":     func() any { return &networkingv1.NetworkPolicy{} },
}

// workload is a Deployment or a StatefulSet.
type workload struct {
	kind, name string
	replicas   *int32 // nil: left to an autoscaler
	selector   *metav1.LabelSelector
	pod        *corev1.PodTemplateSpec
}

// system is a set of manifests, decoded.
type system struct {
	namespaces   []*corev1.Namespace
	configMaps   map[string]*corev1.ConfigMap
	secrets      map[string]*corev1.Secret
	services     map[string]*corev1.Service
	workloads    map[string]*workload
	pdbs         []*policyv1.PodDisruptionBudget
	hpas         []*autoscalingv2.HorizontalPodAutoscaler
	netpols      []*networkingv1.NetworkPolicy
	statefulSets []*appsv1.StatefulSet
	namespaceOf  map[string]string // kind/name -> metadata.namespace
}

func decode(t *testing.T, manifests []byte) *system {
	t.Helper()
	s := &system{
		configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{},
		services: map[string]*corev1.Service{}, workloads: map[string]*workload{}, namespaceOf: map[string]string{},
	}
	for _, doc := range docSeparator.Split(string(manifests), -1) {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Fatalf("%v in\n%s", err, doc)
		}
		if tm.Kind == "" {
			continue
		}
		newObj, ok := kinds[tm.APIVersion+"/"+tm.Kind]
		if !ok {
			t.Errorf("unexpected kind %s %s", tm.APIVersion, tm.Kind)
			continue
		}
		obj := newObj()
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			t.Errorf("%s does not decode strictly: %v\n%s", tm.Kind, err, doc)
			continue
		}
		meta := obj.(metav1.Object)
		s.namespaceOf[tm.Kind+"/"+meta.GetName()] = meta.GetNamespace()
		switch o := obj.(type) {
		case *corev1.Namespace:
			s.namespaces = append(s.namespaces, o)
		case *corev1.ConfigMap:
			s.configMaps[o.Name] = o
		case *corev1.Secret:
			s.secrets[o.Name] = o
		case *corev1.Service:
			s.services[o.Name] = o
		case *appsv1.Deployment:
			s.workloads[o.Name] = &workload{"Deployment", o.Name, o.Spec.Replicas, o.Spec.Selector, &o.Spec.Template}
		case *appsv1.StatefulSet:
			s.workloads[o.Name] = &workload{"StatefulSet", o.Name, o.Spec.Replicas, o.Spec.Selector, &o.Spec.Template}
			s.statefulSets = append(s.statefulSets, o)
		case *policyv1.PodDisruptionBudget:
			s.pdbs = append(s.pdbs, o)
		case *autoscalingv2.HorizontalPodAutoscaler:
			s.hpas = append(s.hpas, o)
		case *networkingv1.NetworkPolicy:
			s.netpols = append(s.netpols, o)
		}
	}
	return s
}

// check runs every check of the deployment on the manifests.
func check(t *testing.T, manifests []byte) *system {
	t.Helper()
	s := decode(t, manifests)
	t.Run("PodSecurityRestricted", func(t *testing.T) { checkPodSecurity(t, s) })
	t.Run("SelectorsAndPorts", func(t *testing.T) { checkSelectorsAndPorts(t, s) })
	t.Run("Environment", func(t *testing.T) { checkEnvironment(t, s) })
	t.Run("NetworkPolicies", func(t *testing.T) { checkNetworkPolicies(t, s) })
	t.Run("StatelessServices", func(t *testing.T) { checkStatelessServices(t, s) })
	return s
}

func TestKustomization(t *testing.T) {
	out, err := Kustomize(filepath.Join(root, KustomizeDir))
	if err != nil {
		t.Fatalf("kubectl apply -k %s would fail: %v", KustomizeDir, err)
	}
	s := check(t, out)
	checkAutoscaled(t, s)
	if len(s.namespaces) != 1 || s.namespaces[0].Name != "orderflow" || s.namespaces[0].Labels[psapi.EnforceLevelLabel] != string(psapi.LevelRestricted) {
		t.Errorf("want one namespace, orderflow, enforcing Pod Security restricted")
	}
	for obj, ns := range s.namespaceOf {
		if ns != "orderflow" && !strings.HasPrefix(obj, "Namespace/") {
			t.Errorf("%s is in namespace %q, not orderflow", obj, ns)
		}
	}
}

func TestTheManifestsAreTheChartRendered(t *testing.T) {
	files, err := PlainManifests(filepath.Join(root, ChartDir))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, KustomizeDir)
	for name, want := range files {
		have, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(have, []byte(want)) {
			t.Errorf("%s/%s is not the chart rendered: run make k8s-render", KustomizeDir, name)
		}
	}
	committed, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	for _, path := range committed {
		b, _ := os.ReadFile(path)
		if _, ok := files[filepath.Base(path)]; !ok && bytes.HasPrefix(b, []byte(PlainHeader)) {
			t.Errorf("%s is no longer rendered by the chart: remove it", path)
		}
	}
}

func TestHelmChart(t *testing.T) {
	dir := filepath.Join(root, ChartDir)
	for _, m := range LintChart(dir, nil) {
		t.Errorf("helm lint: %s", m)
	}
	files, err := RenderChart(dir, "orderflow", "orderflow", nil)
	if err != nil {
		t.Fatal(err)
	}
	s := check(t, []byte(joinManifests(files)))
	checkAutoscaled(t, s)
	secret := s.secrets["orderflow-credentials"]
	if secret == nil {
		t.Fatal("the chart makes no credentials Secret")
	}
	for key, value := range secret.Data {
		if len(value) == 0 {
			t.Errorf("the Secret's %s is empty", key)
		}
	}
	if secret.Annotations["helm.sh/resource-policy"] != "keep" {
		t.Error("helm uninstall would delete the passwords that MongoDB's kept volume holds")
	}
	if string(secret.Data["MONGO_ROOT_PASSWORD"]) == string(secret.Data["REDIS_PASSWORD"]) {
		t.Error("generated passwords are not random")
	}
}

func TestHelmValues(t *testing.T) {
	values := map[string]any{
		"image":       map[string]any{"registry": "registry.example.com", "tag": "1.2.3"},
		"ordersvc":    map[string]any{"replicas": 3, "resources": map[string]any{"limits": map[string]any{"memory": "512Mi"}}},
		"paymentsvc":  map[string]any{"autoscaling": map[string]any{"enabled": false}},
		"credentials": map[string]any{"redisPassword": "from-values"},
		"metrics":     map[string]any{"allowFromNamespace": "monitoring"},
	}
	files, err := RenderChart(filepath.Join(root, ChartDir), "shop", "shop", values)
	if err != nil {
		t.Fatal(err)
	}
	s := check(t, []byte(joinManifests(files)))
	orders := s.workloads["ordersvc"]
	c := orders.pod.Spec.Containers[0]
	if c.Image != "registry.example.com/orderflow/ordersvc:1.2.3" || ptrOr(s.autoscaler("ordersvc").Spec.MinReplicas, 1) != 3 || c.Resources.Limits.Memory().String() != "512Mi" {
		t.Errorf("values not applied: image %s, at least %v replicas, memory limit %s", c.Image, s.autoscaler("ordersvc").Spec.MinReplicas, c.Resources.Limits.Memory())
	}
	if s.autoscaler("paymentsvc") != nil || ptrOr(s.workloads["paymentsvc"].replicas, 0) != 2 {
		t.Error("paymentsvc without autoscaling: want 2 replicas in its Deployment and no autoscaler")
	}
	if got := string(s.secrets["orderflow-credentials"].Data["REDIS_PASSWORD"]); got != "from-values" {
		t.Errorf("want the Redis password from values, have %q", got)
	}
	prometheus := endpoint{name: "prometheus", namespace: nsLabels("monitoring")}
	for _, to := range []struct {
		name string
		port int32
		want bool
	}{{"gateway", 9090, true}, {"ordersvc", 7001, true}, {"paymentsvc", 7002, true}, {"mongo", 27017, false}, {"redis", 6379, false}} {
		w := s.workloads[to.name]
		dest := endpoint{name: w.name, namespace: nsLabels(ownNamespace), labels: w.pod.Labels, pod: &w.pod.Spec}
		if have := s.allows(prometheus, dest, corev1.ProtocolTCP, to.port); have != to.want {
			t.Errorf("Prometheus scraping %s:%d: allowed %v, want %v", to.name, to.port, have, to.want)
		}
	}
}

// TestHelmSignIn: sign-in is off by default; gateway.auth turns it on, the
// HS256 key from the credentials Secret (generated, as long as the gateway
// wants it), the JWKS, issuer and audience from the gateway's ConfigMap.
func TestHelmSignIn(t *testing.T) {
	files, err := RenderChart(filepath.Join(root, ChartDir), "orderflow", "orderflow", nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(joinManifests(files), "GATEWAY_AUTH_") || strings.Contains(files["secret.yaml"], "AUTH_HS256_SECRET") {
		t.Error("sign-in is configured by default: clients without tokens would be refused")
	}

	values := map[string]any{"gateway": map[string]any{"auth": map[string]any{
		"hs256": true, "jwksURL": "https://login.example.com/.well-known/jwks.json", "issuer": "https://login.example.com/", "audience": "orders",
	}}}
	files, err = RenderChart(filepath.Join(root, ChartDir), "orderflow", "orderflow", values)
	if err != nil {
		t.Fatal(err)
	}
	s := check(t, []byte(joinManifests(files)))
	c, _ := s.container("gateway")
	env := s.environment(t, "gateway", c)
	if key := s.secrets["orderflow-credentials"].Data["AUTH_HS256_SECRET"]; len(key) < 32 || env["GATEWAY_AUTH_HS256_SECRET"] != (source{secret: "orderflow-credentials", key: "AUTH_HS256_SECRET"}) {
		t.Errorf("the gateway's HS256 key comes from %+v, the Secret's is %d bytes: want the Secret's key AUTH_HS256_SECRET, at least 32 bytes", env["GATEWAY_AUTH_HS256_SECRET"], len(key))
	}
	for name, want := range map[string]string{"GATEWAY_AUTH_JWKS_URL": "https://login.example.com/.well-known/jwks.json", "GATEWAY_AUTH_ISSUER": "https://login.example.com/", "GATEWAY_AUTH_AUDIENCE": "orders"} {
		if have := s.text(env[name]); have != want {
			t.Errorf("%s=%q, want %q", name, have, want)
		}
	}
	// The gateway fetches the JWKS, wherever it is, over HTTPS.
	gw := s.workloads["gateway"]
	from := endpoint{name: "gateway", namespace: nsLabels(ownNamespace), labels: gw.pod.Labels, pod: &gw.pod.Spec}
	provider := endpoint{name: "login.example.com", namespace: nsLabels("elsewhere")}
	if !s.admits(from, networkingv1.PolicyTypeEgress, provider, provider, corev1.ProtocolTCP, 443) {
		t.Error("the NetworkPolicies keep the gateway from the JWKS on 443")
	}
	if s.admits(from, networkingv1.PolicyTypeEgress, provider, provider, corev1.ProtocolTCP, 80) {
		t.Error("the NetworkPolicies let the gateway out on 80")
	}
}

// TestHelmFlowPage: flowsvc.enabled adds the flow page, checked as every
// service is, reachable on 7003 and scraped like the others.
func TestHelmFlowPage(t *testing.T) {
	values := map[string]any{
		"flowsvc": map[string]any{"enabled": true},
		"metrics": map[string]any{"allowFromNamespace": "monitoring"},
	}
	files, err := RenderChart(filepath.Join(root, ChartDir), "orderflow", "orderflow", values)
	if err != nil {
		t.Fatal(err)
	}
	s := check(t, []byte(joinManifests(files)))
	w, svc := s.workloads["flowsvc"], s.services["flowsvc"]
	if w == nil || svc == nil || portsOf(svc.Spec.Ports) != ",7003," {
		t.Fatalf("want a flowsvc workload and its Service on 7003, have %v and %v", w, svc)
	}
	if s.autoscaler("flowsvc") != nil || ptrOr(w.replicas, 0) != 2 {
		t.Errorf("flowsvc: want 2 replicas and no autoscaler by default, have %v", w.replicas)
	}
	prometheus := endpoint{name: "prometheus", namespace: nsLabels("monitoring")}
	dest := endpoint{name: w.name, namespace: nsLabels(ownNamespace), labels: w.pod.Labels, pod: &w.pod.Spec}
	if !s.allows(prometheus, dest, corev1.ProtocolTCP, 7003) {
		t.Error("Prometheus cannot scrape flowsvc's /metrics on 7003")
	}
	for _, m := range LintChart(filepath.Join(root, ChartDir), values) {
		t.Errorf("helm lint with flowsvc on: %s", m)
	}
}

func joinManifests(files map[string]string) string {
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, name := range names {
		b.WriteString("---\n" + files[name])
	}
	return b.String()
}

func checkPodSecurity(t *testing.T, s *system) {
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	restricted := psapi.LevelVersion{Level: psapi.LevelRestricted, Version: psapi.LatestVersion()}
	for _, w := range s.workloads {
		result := policy.AggregateCheckResults(evaluator.EvaluatePod(restricted, &w.pod.ObjectMeta, &w.pod.Spec))
		if !result.Allowed {
			t.Errorf("%s %s breaks Pod Security restricted: %s", w.kind, w.name, result.ForbiddenDetail())
		}
		spec := w.pod.Spec
		if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
			t.Errorf("%s mounts a service-account token", w.name)
		}
		if spec.SecurityContext == nil || ptrOr(spec.SecurityContext.RunAsUser, 0) == 0 {
			t.Errorf("%s sets no non-zero runAsUser", w.name)
		}
		for _, c := range spec.Containers {
			if c.SecurityContext == nil || !ptrOr(c.SecurityContext.ReadOnlyRootFilesystem, false) {
				t.Errorf("%s/%s has a writable root filesystem", w.name, c.Name)
			}
			if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
				t.Errorf("%s/%s lacks CPU and memory requests or a memory limit", w.name, c.Name)
			}
			if c.ReadinessProbe == nil || c.LivenessProbe == nil {
				t.Errorf("%s/%s lacks a readiness or liveness probe", w.name, c.Name)
			}
		}
	}
}

// containerPort finds the port p (a number or a name) among the ports of
// the containers of a pod.
func containerPort(pod *corev1.PodSpec, p intstr.IntOrString) (corev1.ContainerPort, bool) {
	for _, c := range pod.Containers {
		for _, cp := range c.Ports {
			if p.Type == intstr.String && cp.Name == p.StrVal || p.Type == intstr.Int && cp.ContainerPort == p.IntVal {
				return cp, true
			}
		}
	}
	return corev1.ContainerPort{}, false
}

// selected lists the workloads whose pods sel selects.
func (s *system) selected(sel labels.Selector) []*workload {
	var out []*workload
	for _, w := range s.workloads {
		if sel.Matches(labels.Set(w.pod.Labels)) {
			out = append(out, w)
		}
	}
	return out
}

func checkSelectorsAndPorts(t *testing.T, s *system) {
	for _, w := range s.workloads {
		sel, err := metav1.LabelSelectorAsSelector(w.selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(w.pod.Labels)) {
			t.Errorf("%s %s: its selector does not select its own pods", w.kind, w.name)
		}
		for _, c := range w.pod.Spec.Containers {
			for _, p := range []*corev1.Probe{c.StartupProbe, c.ReadinessProbe, c.LivenessProbe} {
				var port *intstr.IntOrString
				switch {
				case p == nil:
					continue
				case p.HTTPGet != nil:
					port = &p.HTTPGet.Port
				case p.TCPSocket != nil:
					port = &p.TCPSocket.Port
				}
				if port != nil {
					if _, ok := containerPort(&w.pod.Spec, *port); !ok {
						t.Errorf("%s/%s probes port %s, which it does not have", w.name, c.Name, port)
					}
				}
			}
		}
	}
	for _, svc := range s.services {
		matched := s.selected(labels.SelectorFromSet(svc.Spec.Selector))
		if len(svc.Spec.Selector) == 0 || len(matched) != 1 {
			t.Errorf("Service %s selects %d workloads, want 1", svc.Name, len(matched))
			continue
		}
		for _, p := range svc.Spec.Ports {
			target := p.TargetPort
			if target.Type == intstr.Int && target.IntVal == 0 {
				target = intstr.FromInt32(p.Port)
			}
			if _, ok := containerPort(&matched[0].pod.Spec, target); !ok {
				t.Errorf("Service %s sends port %d to %s, which %s does not have", svc.Name, p.Port, target.String(), matched[0].name)
			}
		}
	}
	for _, sts := range s.statefulSets {
		if _, ok := s.services[sts.Spec.ServiceName]; !ok {
			t.Errorf("StatefulSet %s names Service %s, which does not exist", sts.Name, sts.Spec.ServiceName)
		}
	}
	for _, pdb := range s.pdbs {
		sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err != nil || len(s.selected(sel)) != 1 {
			t.Errorf("PodDisruptionBudget %s does not select one workload", pdb.Name)
		}
	}
	for _, hpa := range s.hpas {
		ref := hpa.Spec.ScaleTargetRef
		if w := s.workloads[ref.Name]; w == nil || w.kind != ref.Kind {
			t.Errorf("HorizontalPodAutoscaler %s scales %s %s, which does not exist", hpa.Name, ref.Kind, ref.Name)
		}
	}
}

// source is where a variable's value comes from: a literal, or a key of a
// ConfigMap or Secret.
type source struct {
	value, configMap, secret, key string
}

// environment resolves the variables of c, from env and envFrom.
func (s *system) environment(t *testing.T, where string, c corev1.Container) map[string]source {
	env := map[string]source{}
	for _, from := range c.EnvFrom {
		if from.ConfigMapRef == nil {
			t.Errorf("%s takes variables from something other than a ConfigMap", where)
			continue
		}
		cm := s.configMaps[from.ConfigMapRef.Name]
		if cm == nil {
			t.Errorf("%s takes variables from ConfigMap %s, which does not exist", where, from.ConfigMapRef.Name)
			continue
		}
		for key := range cm.Data {
			env[key] = source{configMap: cm.Name, key: key}
		}
	}
	for _, e := range c.Env {
		switch from := e.ValueFrom; {
		case from == nil:
			env[e.Name] = source{value: e.Value}
		case from.SecretKeyRef != nil:
			ref := from.SecretKeyRef
			if sec := s.secrets[ref.Name]; sec == nil || (sec.Data[ref.Key] == nil && sec.StringData[ref.Key] == "") {
				t.Errorf("%s: %s comes from Secret %s key %s, which does not exist", where, e.Name, ref.Name, ref.Key)
			}
			env[e.Name] = source{secret: ref.Name, key: ref.Key}
		case from.ConfigMapKeyRef != nil:
			ref := from.ConfigMapKeyRef
			if cm := s.configMaps[ref.Name]; cm == nil || cm.Data[ref.Key] == "" {
				t.Errorf("%s: %s comes from ConfigMap %s key %s, which does not exist", where, e.Name, ref.Name, ref.Key)
			}
			env[e.Name] = source{configMap: ref.Name, key: ref.Key}
		default:
			env[e.Name] = source{value: fmt.Sprintf("%+v", from)}
		}
	}
	return env
}

// text is the value of a variable that is not secret.
func (s *system) text(src source) string {
	if src.configMap != "" {
		return s.configMaps[src.configMap].Data[src.key]
	}
	return src.value
}

// container finds the container of the workload named name.
func (s *system) container(name string) (corev1.Container, bool) {
	if w := s.workloads[name]; w != nil {
		for _, c := range w.pod.Spec.Containers {
			if c.Name == name {
				return c, true
			}
		}
	}
	return corev1.Container{}, false
}

// signInURLs are the variables whose URLs name the sign-in provider,
// outside the cluster.
var signInURLs = map[string]bool{"GATEWAY_AUTH_JWKS_URL": true, "GATEWAY_AUTH_ISSUER": true}

func checkEnvironment(t *testing.T, s *system) {
	envs := map[string]map[string]source{}
	for _, w := range s.workloads {
		for _, c := range w.pod.Spec.Containers {
			env := s.environment(t, w.name+"/"+c.Name, c)
			envs[c.Name] = env
			for name, src := range env {
				u, err := url.Parse(s.text(src))
				if err != nil || u.Host == "" || u.Scheme == "" || signInURLs[name] {
					continue
				}
				svc := s.services[u.Hostname()]
				if svc == nil {
					t.Errorf("%s: %s names host %s, which is no Service", w.name, name, u.Hostname())
					continue
				}
				if !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return fmt.Sprint(p.Port) == u.Port() }) {
					t.Errorf("%s: %s names port %s, which Service %s does not have", w.name, name, u.Port(), svc.Name)
				}
			}
		}
	}
	for name, svc := range services(t) {
		if !s.deployed(svc) {
			continue
		}
		c, ok := s.container(name)
		if !ok {
			t.Errorf("no workload runs %s", name)
			continue
		}
		for v := range envs[name] {
			if !svc.env[v] && !goRuntimeEnv[v] {
				t.Errorf("%s sets %s, which %s does not read", name, v, name)
			}
		}
		if addr := s.text(envs[name][svc.httpAddrVar()]); addr != ":"+svc.port {
			t.Errorf("%s listens on %q, want :%s", name, addr, svc.port)
		}
		if cp, ok := containerPort(&s.workloads[name].pod.Spec, intstr.FromString("http")); !ok || fmt.Sprint(cp.ContainerPort) != svc.port {
			t.Errorf("%s has no port named http on %s, where it listens", name, svc.port)
		}
		if !strings.Contains(c.Image, "/"+name+":") {
			t.Errorf("%s runs image %s", name, c.Image)
		}
		checkGoMaxProcs(t, name, c)
		// The credentials a service logs in with are the ones MongoDB
		// created its user from, and the one Redis wants.
		for v, src := range envs[name] {
			if theirs, ok := envs["mongo"][v]; ok && theirs != src {
				t.Errorf("%s and mongo take %s from different places: %+v, %+v", name, v, src, theirs)
			}
			if strings.HasSuffix(v, "_REDIS_PASSWORD") && src != envs["redis"]["REDIS_PASSWORD"] {
				t.Errorf("%s's %s is not Redis's REDIS_PASSWORD", name, v)
			}
		}
	}
	for _, v := range initScriptEnv(t) {
		if _, ok := envs["mongo"][v]; !ok {
			t.Errorf("the MongoDB init script reads %s, which the mongo container does not set", v)
		}
	}
	redis, _ := s.container("redis")
	if !slices.Contains(redis.Args, "$(REDIS_PASSWORD)") {
		t.Errorf("redis does not require its password: %v", redis.Args)
	}
}

// checkGoMaxProcs: a service runs as many threads of Go code as its CPU
// limit in cores, rounded up: 1 in the 500m pods, where Go's own default,
// never below 2, would be 2.
func checkGoMaxProcs(t *testing.T, name string, c corev1.Container) {
	t.Helper()
	i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "GOMAXPROCS" })
	if i < 0 {
		t.Errorf("%s does not set GOMAXPROCS", name)
		return
	}
	ref := c.Env[i].ValueFrom
	if ref == nil || ref.ResourceFieldRef == nil || ref.ResourceFieldRef.Resource != "limits.cpu" || ref.ResourceFieldRef.Divisor.String() != "1" {
		t.Errorf("%s takes GOMAXPROCS from %+v, want its CPU limit in cores", name, c.Env[i])
	}
}

// checkStatelessServices: each service runs at least 2 pods, kept by its
// Deployment or by an autoscaler (and then by it alone, so that applying the
// manifests again does not undo its scaling), with the right probes and a
// disruption budget.
func checkStatelessServices(t *testing.T, s *system) {
	for name, svc := range services(t) {
		if !s.deployed(svc) {
			continue
		}
		w := s.workloads[name]
		if w == nil || w.kind != "Deployment" {
			t.Errorf("%s is not a Deployment", name)
			continue
		}
		if hpa := s.autoscaler(name); hpa != nil {
			if w.replicas != nil || ptrOr(hpa.Spec.MinReplicas, 1) < 2 {
				t.Errorf("%s: want the autoscaler alone to keep at least 2 replicas, have %v in the Deployment and %v in the autoscaler", name, w.replicas, hpa.Spec.MinReplicas)
			}
		} else if ptrOr(w.replicas, 1) < 2 {
			t.Errorf("%s runs %d replica", name, ptrOr(w.replicas, 1))
		}
		c, _ := s.container(name)
		if c.StartupProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" ||
			c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
			t.Errorf("%s: want a startup probe, liveness on /healthz and readiness on /readyz", name)
		}
		if !slices.ContainsFunc(s.pdbs, func(p *policyv1.PodDisruptionBudget) bool {
			sel, _ := metav1.LabelSelectorAsSelector(p.Spec.Selector)
			return sel.Matches(labels.Set(w.pod.Labels))
		}) {
			t.Errorf("%s has no PodDisruptionBudget", name)
		}
	}
}

// autoscaler finds the HorizontalPodAutoscaler of the Deployment name.
func (s *system) autoscaler(name string) *autoscalingv2.HorizontalPodAutoscaler {
	for _, h := range s.hpas {
		if h.Spec.ScaleTargetRef.Kind == "Deployment" && h.Spec.ScaleTargetRef.Name == name {
			return h
		}
	}
	return nil
}

// checkAutoscaled: by default each service has an autoscaler; an optional
// one is not there at all.
func checkAutoscaled(t *testing.T, s *system) {
	for name, svc := range services(t) {
		if svc.optional {
			if s.workloads[name] != nil {
				t.Errorf("%s runs, though optional", name)
			}
			continue
		}
		if s.autoscaler(name) == nil {
			t.Errorf("%s has no HorizontalPodAutoscaler", name)
		}
	}
}

// portsOf lists ports as ",7000,9090,".
func portsOf(ports []corev1.ServicePort) string {
	var b strings.Builder
	b.WriteString(",")
	for _, p := range ports {
		fmt.Fprintf(&b, "%d,", p.Port)
	}
	return b.String()
}

func TestHelmRefusesMistakenValues(t *testing.T) {
	for name, values := range map[string]map[string]any{
		"misspelt key":          {"gatway": map[string]any{"replicas": 3}},
		"replicas not a number": {"ordersvc": map[string]any{"replicas": "two"}},
		"unknown pull policy":   {"image": map[string]any{"pullPolicy": "Sometimes"}},
		"short sign-in secret":  {"gateway": map[string]any{"auth": map[string]any{"hs256": true}}, "credentials": map[string]any{"authHS256Secret": "too-short"}},
	} {
		if _, err := RenderChart(filepath.Join(root, ChartDir), "orderflow", "orderflow", values); err == nil {
			t.Errorf("%s: rendered without complaint", name)
		}
	}
}
