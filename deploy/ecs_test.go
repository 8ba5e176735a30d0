package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
	"gopkg.in/yaml.v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// needCommand is the path of the command name, or skips the test when it
// is missing, but under CI, where it fails.
func needCommand(t *testing.T, name, why string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing (%s): CI must provide it", name, why)
		}
		t.Skipf("skipping: %s is missing (%s)", name, why)
	}
	return path
}

// TestTheECSFilesAreTheChartRendered: ecs/ holds what make ecs-render
// writes from the chart, and nothing else.
func TestTheECSFilesAreTheChartRendered(t *testing.T) {
	files, err := ECSFiles(filepath.Join(root, ChartDir))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		have, err := os.ReadFile(filepath.Join(root, name))
		if err != nil || !bytes.Equal(have, want) {
			t.Errorf("%s differs from the chart rendered for ECS: run make ecs-render", name)
		}
	}
	err = filepath.WalkDir(filepath.Join(root, ECSDir), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if files[rel] == nil {
			t.Errorf("%s is not rendered by make ecs-render: remove it", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// taskDefinitions decodes the committed task definitions strictly: a
// field RegisterTaskDefinition does not take fails the test.
func taskDefinitions(t *testing.T) map[string]*ecs.RegisterTaskDefinitionInput {
	t.Helper()
	out := map[string]*ecs.RegisterTaskDefinitionInput{}
	for _, name := range ECSServices {
		b, err := os.ReadFile(filepath.Join(root, ECSTaskDefsDir, name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		td := &ecs.RegisterTaskDefinitionInput{}
		if err := dec.Decode(td); err != nil {
			t.Fatalf("%s.json is not a RegisterTaskDefinition input: %v", name, err)
		}
		out[name] = td
	}
	return out
}

// sentRequest is a client of the ECS API that sends nothing: it keeps the
// body of each request, and answers it with an empty success.
type sentRequest struct{ body []byte }

func (s *sentRequest) Do(r *http.Request) (*http.Response, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	s.body = b
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("{}")), Request: r}, nil
}

// TestTheTaskDefinitionsAreWhatTheECSAPITakes: each task definition passes
// the SDK's validation of RegisterTaskDefinition, and the SDK sends the
// API exactly the JSON of the file (so the file's names are the API's).
func TestTheTaskDefinitionsAreWhatTheECSAPITakes(t *testing.T) {
	for name, td := range taskDefinitions(t) {
		sent := &sentRequest{}
		client := ecs.New(ecs.Options{Region: "us-east-1", Credentials: aws.AnonymousCredentials{}, HTTPClient: sent})
		_, err := client.RegisterTaskDefinition(context.Background(), td)
		if invalid := (smithy.InvalidParamsError{}); errors.As(err, &invalid) {
			t.Errorf("%s: %v", name, err)
			continue
		} else if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		file, err := os.ReadFile(filepath.Join(root, ECSTaskDefsDir, name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var have, want any
		if err := json.Unmarshal(file, &want); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(sent.body, &have); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(have, want) {
			t.Errorf("%s: the SDK sends\n%s\nnot the file's\n%s", name, sent.body, file)
		}
	}
}

// TestTheTaskDefinitionsRunTheServicesAsKubernetesDoes: Fargate, a size
// Fargate has, the image's binary checking its own health, the user the
// pods run as, a read-only root, no capabilities, logs to CloudWatch,
// the Go runtime sized to the task, time for the graceful shutdown, and
// every variable one the binary reads, each credential from the secret.
func TestTheTaskDefinitionsRunTheServicesAsKubernetesDoes(t *testing.T) {
	svcs, stages := services(t), dockerStages(t)
	credentialKeys := chartSecretKeys(t)
	for name, td := range taskDefinitions(t) {
		svc := svcs[name]
		t.Run(name, func(t *testing.T) {
			if !slices.Equal(td.RequiresCompatibilities, []ecstypes.Compatibility{ecstypes.CompatibilityFargate}) || td.NetworkMode != ecstypes.NetworkModeAwsvpc {
				t.Errorf("runs on %v with network %q, want FARGATE and awsvpc", td.RequiresCompatibilities, td.NetworkMode)
			}
			cpu, _ := strconv.Atoi(aws.ToString(td.Cpu))
			memory, _ := strconv.Atoi(aws.ToString(td.Memory))
			if !FargateSizeValid(cpu, memory) {
				t.Errorf("cpu %s and memory %s are no Fargate task size", aws.ToString(td.Cpu), aws.ToString(td.Memory))
			}
			if td.TaskRoleArn != nil {
				t.Error("the task has a role: the services call no AWS API")
			}
			if len(td.ContainerDefinitions) != 1 {
				t.Fatalf("%d containers, want 1", len(td.ContainerDefinitions))
			}
			c := td.ContainerDefinitions[0]
			if want := "${ImageRegistry}/orderflow/" + name + ":${ImageTag}"; aws.ToString(c.Image) != want {
				t.Errorf("image %s, want %s", aws.ToString(c.Image), want)
			}
			if user := aws.ToString(c.User); user == "" || strings.HasPrefix(user, "0") || user != stages[name].user {
				t.Errorf("runs as %q, want the image's user %q, not root", user, stages[name].user)
			}
			if !aws.ToBool(c.ReadonlyRootFilesystem) || c.LinuxParameters == nil || c.LinuxParameters.Capabilities == nil || !slices.Equal(c.LinuxParameters.Capabilities.Drop, []string{"ALL"}) {
				t.Error("the root filesystem is writable or capabilities are kept")
			}
			if c.LogConfiguration == nil || c.LogConfiguration.LogDriver != ecstypes.LogDriverAwslogs {
				t.Error("logs do not go to CloudWatch Logs")
			}
			checkHealthCheck(t, c.HealthCheck, stages[name].entrypoint)
			// ECS stops a task after SIGTERM within stopTimeout (at most
			// 120 s on Fargate): long enough for the graceful shutdown.
			if stop := aws.ToInt32(c.StopTimeout); stop < 15 || stop > 120 {
				t.Errorf("stopTimeout %d s: the services need 10 s to shut down, and Fargate allows 120 s", stop)
			}
			if len(c.PortMappings) != 1 || strconv.Itoa(int(aws.ToInt32(c.PortMappings[0].ContainerPort))) != svc.port || aws.ToString(c.PortMappings[0].Name) != "http" {
				t.Errorf("ports %v, want the one the service listens on, %s, named http", c.PortMappings, svc.port)
			}

			env := map[string]string{}
			for _, kv := range c.Environment {
				env[aws.ToString(kv.Name)] = aws.ToString(kv.Value)
			}
			if want := strconv.Itoa((cpu + 1023) / 1024); env["GOMAXPROCS"] != want {
				t.Errorf("GOMAXPROCS %q for %d CPU units, want %s", env["GOMAXPROCS"], cpu, want)
			}
			if limit, ok := strings.CutSuffix(env["GOMEMLIMIT"], "MiB"); !ok || atoi(limit) <= 0 || atoi(limit) > memory {
				t.Errorf("GOMEMLIMIT %q for a task of %d MiB", env["GOMEMLIMIT"], memory)
			}
			if env[svc.httpAddrVar()] != ":"+svc.port {
				t.Errorf("%s=%q, want :%s", svc.httpAddrVar(), env[svc.httpAddrVar()], svc.port)
			}
			for k, v := range env {
				if !svc.env[k] && !goRuntimeEnv[k] {
					t.Errorf("sets %s, which %s does not read", k, name)
				}
				if credential.MatchString(k) {
					t.Errorf("%s is in the environment, where anyone who reads the task definition sees it: it belongs in secrets", k)
				}
				checkURLHosts(t, k, v)
			}
			for _, s := range c.Secrets {
				k, from := aws.ToString(s.Name), aws.ToString(s.ValueFrom)
				if !svc.env[k] {
					t.Errorf("secret %s is no variable %s reads", k, name)
				}
				key, ok := strings.CutPrefix(from, "${CredentialsSecretArn}:")
				key, _, _ = strings.Cut(key, ":")
				if !ok || !strings.HasSuffix(from, ":"+key+"::") || !credentialKeys[key] {
					t.Errorf("secret %s comes from %q, not a key of the credentials secret", k, from)
				}
			}
		})
	}
}

// credential matches the variables that hold a credential, or a store's URL
// (which may hold a password).
var credential = regexp.MustCompile(`PASSWORD|TOKEN|SECRET|MONGO_URI|REDIS_URL`)

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// checkHealthCheck: the container checks itself with the image's binary,
// within the limits ECS sets.
func checkHealthCheck(t *testing.T, h *ecstypes.HealthCheck, binary string) {
	t.Helper()
	if h == nil || len(h.Command) != 4 || h.Command[0] != "CMD" || h.Command[1] != binary || h.Command[2] != "probe" || !strings.HasPrefix(h.Command[3], "/") {
		t.Errorf("health check %v, want [CMD %s probe /path]", h, binary)
		return
	}
	for _, c := range []struct {
		what     string
		v        int32
		from, to int32
	}{
		{"interval", aws.ToInt32(h.Interval), 5, 300},
		{"timeout", aws.ToInt32(h.Timeout), 2, 60},
		{"retries", aws.ToInt32(h.Retries), 1, 10},
		{"startPeriod", aws.ToInt32(h.StartPeriod), 0, 300},
	} {
		if c.v < c.from || c.v > c.to {
			t.Errorf("health check %s %d, outside ECS's %d..%d", c.what, c.v, c.from, c.to)
		}
	}
}

// checkURLHosts: every host a URL names is a Service Connect name or a
// parameter of the template.
func checkURLHosts(t *testing.T, name, value string) {
	t.Helper()
	u, err := url.Parse(value)
	if err != nil || u.Host == "" {
		return
	}
	if u.Hostname() != "ordersvc" && !strings.HasPrefix(u.Host, "${") {
		t.Errorf("%s names host %s, which is no Service Connect name or parameter", name, u.Hostname())
	}
}

// chartSecretKeys are the keys of the chart's credentials Secret, with
// those of sign-in and of the URLs of stores of one's own.
func chartSecretKeys(t *testing.T) map[string]bool {
	t.Helper()
	files, err := RenderChart(filepath.Join(root, ChartDir), "orderflow", "orderflow", map[string]any{
		"gateway": map[string]any{"auth": map[string]any{"hs256": true}},
		"mongo":   map[string]any{"enabled": false, "external": map[string]any{"uri": "mongodb://m"}},
		"redis":   map[string]any{"enabled": false, "external": map[string]any{"url": "redis://r"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	s := decode(t, []byte(files["secret.yaml"]))
	keys := map[string]bool{}
	for k := range s.secrets[credentialsSecret].Data {
		keys[k] = true
	}
	return keys
}

// cfnTemplate is the CloudFormation template, its short-form functions
// (!Ref X) in their long form ({"Ref": "X"}).
type cfnTemplate struct {
	Parameters map[string]map[string]any
	Conditions map[string]any
	Resources  map[string]struct {
		Type       string
		Condition  string
		DependsOn  any
		Properties map[string]any
	}
	Outputs map[string]any
}

func loadTemplate(t *testing.T) *cfnTemplate {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, ECSTemplate))
	if err != nil {
		t.Fatal(err)
	}
	var n yaml.Node
	if err := yaml.Unmarshal(b, &n); err != nil {
		t.Fatal(err)
	}
	j, err := json.Marshal(longForm(n.Content[0]))
	if err != nil {
		t.Fatal(err)
	}
	var tmpl cfnTemplate
	dec := json.NewDecoder(bytes.NewReader(j))
	if err := dec.Decode(&tmpl); err != nil {
		t.Fatal(err)
	}
	return &tmpl
}

// longForm is n with CloudFormation's short-form tags written out.
func longForm(n *yaml.Node) any {
	var v any
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i < len(n.Content); i += 2 {
			m[n.Content[i].Value] = longForm(n.Content[i+1])
		}
		v = m
	case yaml.SequenceNode:
		s := []any{}
		for _, c := range n.Content {
			s = append(s, longForm(c))
		}
		v = s
	case yaml.AliasNode:
		return longForm(n.Alias)
	default:
		if err := n.Decode(&v); err != nil || strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
			v = n.Value
		}
	}
	switch tag := strings.TrimPrefix(n.Tag, "!"); {
	case tag == "Ref":
		return map[string]any{"Ref": v}
	case tag == "GetAtt":
		return map[string]any{"Fn::GetAtt": strings.SplitN(v.(string), ".", 2)}
	case !strings.HasPrefix(n.Tag, "!!") && strings.HasPrefix(n.Tag, "!"):
		return map[string]any{"Fn::" + tag: v}
	}
	return v
}

// TestTheCloudFormationTemplateLints: cfn-lint, CloudFormation's linter
// (its resource specifications, its rules), finds nothing.
func TestTheCloudFormationTemplateLints(t *testing.T) {
	lint := needCommand(t, "cfn-lint", "pip install cfn-lint")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, lint, "--", filepath.Join(root, ECSTemplate)).CombinedOutput()
	if err != nil {
		t.Errorf("cfn-lint %s: %v\n%s", ECSTemplate, err, out)
	}
}

// TestTheTemplateCarriesTheTaskDefinitions: the template's task
// definitions are the files', placeholders filled in by CloudFormation.
func TestTheTemplateCarriesTheTaskDefinitions(t *testing.T) {
	tmpl, tds := loadTemplate(t), taskDefinitions(t)
	for name, td := range tds {
		r := tmpl.Resources[title(name)+"TaskDefinition"]
		if r.Type != "AWS::ECS::TaskDefinition" {
			t.Errorf("the template has no task definition of %s", name)
			continue
		}
		b, err := json.Marshal(placeholders(r.Properties))
		if err != nil {
			t.Fatal(err)
		}
		var have ecs.RegisterTaskDefinitionInput
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&have); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(&have, td) {
			t.Errorf("the template's task definition of %s is not %s.json:\n%s", name, name, b)
		}
	}
	// Every placeholder is the template's.
	for name := range tds {
		b, _ := os.ReadFile(filepath.Join(root, ECSTaskDefsDir, name+".json"))
		for _, m := range regexp.MustCompile(`\$\{([^}]+)\}`).FindAllStringSubmatch(string(b), -1) {
			ref, _, _ := strings.Cut(m[1], ".")
			if _, ok := tmpl.Parameters[ref]; !ok && tmpl.Resources[ref].Type == "" && !strings.HasPrefix(ref, "AWS::") {
				t.Errorf("%s.json has ${%s}, which the template does not define", name, m[1])
			}
		}
	}
}

// placeholders writes CloudFormation's functions back as the files'
// placeholders: {"Ref": "X"} as "${X}".
func placeholders(v any) any {
	switch v := v.(type) {
	case map[string]any:
		if ref, ok := v["Ref"]; ok && len(v) == 1 {
			return "${" + ref.(string) + "}"
		}
		if att, ok := v["Fn::GetAtt"].([]any); ok && len(v) == 1 {
			return "${" + att[0].(string) + "." + att[1].(string) + "}"
		}
		if sub, ok := v["Fn::Sub"].(string); ok && len(v) == 1 {
			return sub
		}
		out := map[string]any{}
		for k, e := range v {
			out[k] = placeholders(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = placeholders(e)
		}
		return out
	}
	return v
}

func ref(v any) string {
	m, _ := v.(map[string]any)
	s, _ := m["Ref"].(string)
	return s
}

// TestTheTemplateRunsTheSystemAsTheChartDoes: the gateway alone behind the
// load balancer, checked on its readiness path; ordersvc by the name and
// port the gateway calls it on; each service scaled as the chart's
// autoscaler scales it (and left so by updates), rolled back when a
// deployment fails.
func TestTheTemplateRunsTheSystemAsTheChartDoes(t *testing.T) {
	tmpl, tds := loadTemplate(t), taskDefinitions(t)
	system, err := ECSSystem(filepath.Join(root, ChartDir))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range system {
		svc := tmpl.Resources[title(s.Name)+"Service"]
		p := svc.Properties
		if svc.Type != "AWS::ECS::Service" || ref(p["TaskDefinition"]) != title(s.Name)+"TaskDefinition" {
			t.Errorf("no ECS service runs %s's task definition", s.Name)
			continue
		}
		if _, behind := p["LoadBalancers"]; behind != (s.Name == "gateway") {
			t.Errorf("%s behind the load balancer: %v; only the gateway is", s.Name, behind)
		}
		dc, _ := p["DeploymentConfiguration"].(map[string]any)
		if cb, _ := dc["DeploymentCircuitBreaker"].(map[string]any); cb["Enable"] != true || cb["Rollback"] != true {
			t.Errorf("%s: a failed deployment is not rolled back", s.Name)
		}
		if _, set := p["DesiredCount"]; set {
			t.Errorf("%s sets DesiredCount, which every stack update would put back, undoing autoscaling", s.Name)
		}
		min, max := tmpl.Parameters[title(s.Name)+"MinTasks"], tmpl.Parameters[title(s.Name)+"MaxTasks"]
		if min["Default"] != float64(s.MinTasks) || max["Default"] != float64(s.MaxTasks) || s.MinTasks < 1 {
			t.Errorf("%s runs %v to %v tasks by default; the chart, %d to %d", s.Name, min["Default"], max["Default"], s.MinTasks, s.MaxTasks)
		}
		target := tmpl.Resources[title(s.Name)+"ScalableTarget"].Properties
		if ref(target["MinCapacity"]) != title(s.Name)+"MinTasks" || ref(target["MaxCapacity"]) != title(s.Name)+"MaxTasks" {
			t.Errorf("%s is not scaled between its parameters", s.Name)
		}
		policy := tmpl.Resources[title(s.Name)+"ScalingPolicy"].Properties
		tt, _ := policy["TargetTrackingScalingPolicyConfiguration"].(map[string]any)
		if tt["TargetValue"] != float64(s.TargetCPU) {
			t.Errorf("%s scales at %v%% CPU, the chart at %d%%", s.Name, tt["TargetValue"], s.TargetCPU)
		}
	}

	// The gateway calls ordersvc by the name Service Connect gives it.
	var ordersURL string
	for _, kv := range tds["gateway"].ContainerDefinitions[0].Environment {
		if aws.ToString(kv.Name) == "GATEWAY_ORDERSVC_URL" {
			ordersURL = aws.ToString(kv.Value)
		}
	}
	u, err := url.Parse(ordersURL)
	if err != nil {
		t.Fatal(err)
	}
	sc, _ := tmpl.Resources["OrdersvcService"].Properties["ServiceConnectConfiguration"].(map[string]any)
	want := fmt.Sprintf(`[{"ClientAliases":[{"DnsName":%q,"Port":%s}],"DiscoveryName":"ordersvc","PortName":"http"}]`, u.Hostname(), u.Port())
	if have, _ := json.Marshal(sc["Services"]); string(have) != want {
		t.Errorf("ordersvc is offered as %s; the gateway calls %s", have, ordersURL)
	}
	if gw, _ := tmpl.Resources["GatewayService"].Properties["ServiceConnectConfiguration"].(map[string]any); gw["Enabled"] != true {
		t.Error("the gateway does not use Service Connect: it cannot resolve ordersvc")
	}

	// The load balancer: port 7000, the gateway's port, its readiness path.
	lb := tmpl.Resources["GatewayService"].Properties["LoadBalancers"].([]any)[0].(map[string]any)
	tg := tmpl.Resources["GatewayTargetGroup"].Properties
	listener := tmpl.Resources["Listener"].Properties
	gw := system[slices.IndexFunc(system, func(s ECSService) bool { return s.Name == "gateway" })]
	if lb["ContainerName"] != "gateway" || lb["ContainerPort"] != float64(gw.Port) || tg["Port"] != float64(gw.Port) || listener["Port"] != float64(7000) {
		t.Errorf("the load balancer listens on %v and sends to %v:%v, want 7000 and gateway:%d", listener["Port"], lb["ContainerName"], lb["ContainerPort"], gw.Port)
	}
	if tg["HealthCheckPath"] != "/readyz" || tg["HealthCheckPath"] != gw.ReadinessPath {
		t.Errorf("the load balancer checks %v, want the gateway's readiness path /readyz", tg["HealthCheckPath"])
	}
}

// TestTheSecurityGroupsAllowWhatTheNetworkPoliciesAllow works out, from
// the security groups, which connections are allowed, and compares them
// with those the chart's NetworkPolicies allow.
func TestTheSecurityGroupsAllowWhatTheNetworkPoliciesAllow(t *testing.T) {
	tmpl := loadTemplate(t)
	// A rule is "from -> to:port"; "anywhere" is an address block,
	// "stores" the security group of the stores, a parameter.
	type rule struct{ from, to, port string }
	groupName := func(v any) string {
		id := ref(v)
		switch id {
		case "StoreSecurityGroupId":
			return "stores"
		case "":
			return "anywhere"
		}
		return strings.ToLower(strings.TrimSuffix(id, "SecurityGroup"))
	}
	port := func(r map[string]any) string {
		if p := ref(r["FromPort"]); p != "" {
			return p
		}
		return fmt.Sprint(r["FromPort"])
	}
	var egress, ingress []rule
	for name, r := range tmpl.Resources {
		switch r.Type {
		case "AWS::EC2::SecurityGroup":
			self := groupName(map[string]any{"Ref": name})
			for _, e := range r.Properties["SecurityGroupEgress"].([]any) {
				e := e.(map[string]any)
				egress = append(egress, rule{self, groupName(e["DestinationSecurityGroupId"]), port(e)})
			}
			for _, i := range asList(r.Properties["SecurityGroupIngress"]) {
				i := i.(map[string]any)
				ingress = append(ingress, rule{groupName(i["SourceSecurityGroupId"]), self, port(i)})
			}
		case "AWS::EC2::SecurityGroupIngress":
			ingress = append(ingress, rule{groupName(r.Properties["SourceSecurityGroupId"]), groupName(r.Properties["GroupId"]), port(r.Properties)})
		case "AWS::EC2::SecurityGroupEgress":
			t.Errorf("%s: egress rules belong in their group, whose default (everything out) they then replace", name)
		}
		if r.Type == "AWS::EC2::SecurityGroup" && r.Properties["SecurityGroupEgress"] == nil {
			t.Errorf("%s lets everything out", name)
		}
	}
	// A connection between two of the groups needs the egress of one and
	// the ingress of the other; to a store or the outside, the egress.
	var have []string
	for _, e := range egress {
		if e.to == "anywhere" || e.to == "stores" || slices.Contains(ingress, e) {
			have = append(have, fmt.Sprintf("%s -> %s:%s", e.from, e.to, e.port))
		}
	}
	for _, i := range ingress {
		if i.from == "anywhere" {
			have = append(have, fmt.Sprintf("anywhere -> %s:%s", i.to, i.port))
		}
	}
	want := []string{
		// The NetworkPolicies' "outside -> gateway:7000", through the
		// load balancer.
		"anywhere -> loadbalancer:7000", "loadbalancer -> gateway:7000",
		"gateway -> ordersvc:7001",
		"ordersvc -> anywhere:MongoPort", "ordersvc -> anywhere:RedisPort", "ordersvc -> anywhere:RedisReaderPort",
		"paymentsvc -> anywhere:MongoPort", "paymentsvc -> anywhere:RedisPort", "paymentsvc -> anywhere:RedisReaderPort",
		// What a kubelet does for a pod: the image, the secret, the logs.
		"gateway -> anywhere:443", "ordersvc -> anywhere:443", "paymentsvc -> anywhere:443",
	}
	sort.Strings(have)
	sort.Strings(want)
	if !slices.Equal(have, want) {
		t.Errorf("allowed connections:\n%q\nwant:\n%q", have, want)
	}
	// The stores' own group, when given, admits ordersvc and paymentsvc.
	var stores []string
	for _, i := range ingress {
		if i.to == "stores" {
			stores = append(stores, fmt.Sprintf("%s -> %s", i.from, i.port))
		}
	}
	sort.Strings(stores)
	if want := []string{"ordersvc -> MongoPort", "ordersvc -> RedisPort", "ordersvc -> RedisReaderPort", "paymentsvc -> MongoPort", "paymentsvc -> RedisPort", "paymentsvc -> RedisReaderPort"}; !slices.Equal(stores, want) {
		t.Errorf("the stores' security group admits %q, want %q", stores, want)
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// TestFargateSizes: the task sizes the renderer picks for limits are the
// smallest Fargate has.
func TestFargateSizes(t *testing.T) {
	for _, c := range []struct {
		cpu, memory       string
		wantCPU, wantMemo int
	}{
		{"500m", "256Mi", 512, 1024},
		{"250m", "128Mi", 256, 512},
		{"250m", "1Gi", 256, 1024},
		{"1", "3000Mi", 1024, 3072},
		{"3", "1Gi", 4096, 8192},
	} {
		cpu, memory, err := fargateSize(resourceList(c.cpu, c.memory))
		if err != nil || cpu != c.wantCPU || memory != c.wantMemo || !FargateSizeValid(cpu, memory) {
			t.Errorf("limits %s, %s: %d CPU, %d MiB (%v), want %d, %d", c.cpu, c.memory, cpu, memory, err, c.wantCPU, c.wantMemo)
		}
	}
	if _, _, err := fargateSize(resourceList("32", "1Gi")); err == nil {
		t.Error("32 CPUs fit a Fargate task")
	}
}

func resourceList(cpu, memory string) corev1.ResourceList {
	return corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(memory)}
}

// TestTheREADMEDeploysTheTemplate: the README's aws cloudformation deploy
// names the template, gives every parameter without a default, and names
// no parameter the template lacks.
func TestTheREADMEDeploysTheTemplate(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var deploy [][]byte
	for _, m := range regexp.MustCompile(`aws cloudformation deploy((?:[^\n]*\\\n)*[^\n]*)`).FindAllSubmatch(readme, -1) {
		if bytes.Contains(m[1], []byte("--parameter-overrides")) {
			deploy = m
			break
		}
	}
	if deploy == nil {
		t.Fatal("the README does not deploy the template")
	}
	if !bytes.Contains(deploy[1], []byte("--template-file "+ECSTemplate)) {
		t.Errorf("the README deploys another template than %s:%s", ECSTemplate, deploy[1])
	}
	tmpl := loadTemplate(t)
	given := map[string]bool{}
	for _, m := range regexp.MustCompile(`\b([A-Z][A-Za-z]+)=`).FindAllSubmatch(deploy[1], -1) {
		name := string(m[1])
		given[name] = true
		if tmpl.Parameters[name] == nil {
			t.Errorf("the README gives %s, which the template does not take", name)
		}
	}
	for name, p := range tmpl.Parameters {
		if _, ok := p["Default"]; !ok && !given[name] {
			t.Errorf("the README does not give %s, which has no default", name)
		}
	}
}
