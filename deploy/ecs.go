package deploy

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	sigsyaml "sigs.k8s.io/yaml"
)

// Paths of the ECS files, relative to the repository's root.
const (
	ECSDir         = "ecs"
	ECSTemplate    = "ecs/cloudformation.yaml"
	ECSTaskDefsDir = "ecs/taskdefs"
)

// ECSServices are the services that run on ECS, in the order the template
// lists them. The flow page stays out: it is a demonstration, and the load
// balancer fronts the gateway alone.
var ECSServices = []string{"gateway", "ordersvc", "paymentsvc"}

// ECSHeader starts every file rendered for ECS.
const ECSHeader = "Rendered from the Helm chart in k8s/helm/orderflow by make ecs-render: edit the chart or deploy/cloudformation.yaml.tmpl, not this file."

// Placeholders of the rendered files. They are the CloudFormation
// template's parameters and resources, in the syntax of its Fn::Sub, which
// fills them in; a task definition used without the template needs them
// replaced.
const (
	imageRegistryParam = "${ImageRegistry}"
	imageTagParam      = "${ImageTag}"
	secretParam        = "${CredentialsSecretArn}"
	architectureParam  = "${CpuArchitecture}"
	vpcCidrParam       = "${VpcCidr}"
	executionRoleRef   = "${ExecutionRole.Arn}"
	logGroupRef        = "${LogGroup}"
	regionRef          = "${AWS::Region}"
)

// ECSValues are the chart values the ECS files are rendered from: the
// images from the template's registry and tag, sign-in from its
// parameters, the stores of one's own (ECS has no bundled MongoDB or
// Redis), their URLs with every other credential in one secret.
func ECSValues() map[string]any {
	external := func(key string) map[string]any {
		return map[string]any{"enabled": false, "external": map[string]any{"existingSecret": credentialsSecret, "existingSecretKey": key}}
	}
	return map[string]any{
		"image": map[string]any{"registry": imageRegistryParam, "tag": imageTagParam},
		// Sign-in, as the template's parameters and the secret's
		// AUTH_HS256_SECRET say: off while they are empty.
		"gateway": map[string]any{"auth": map[string]any{
			"hs256": true, "jwksURL": "${SignInJwksUrl}", "issuer": "${SignInIssuer}", "audience": "${SignInAudience}",
		}},
		"credentials": map[string]any{"existingSecret": credentialsSecret},
		"mongo":       external("MONGO_URI"),
		"redis":       external("REDIS_URL"),
	}
}

// credentialsSecret is the Secret the chart's pods read their credentials
// from; on ECS, the Secrets Manager secret CredentialsSecretArn, whose JSON
// keys are the Secret's.
const credentialsSecret = "orderflow-credentials"

// ecsEnvironment is what a container gets on ECS besides what the chart
// gives its pod. The gateway sits behind the load balancer, whose
// addresses are in the VPC: X-Forwarded-For names its clients.
var ecsEnvironment = map[string][]ecstypes.KeyValuePair{
	"gateway": {{Name: aws.String("GATEWAY_RATELIMIT_TRUSTED_PROXIES"), Value: aws.String(vpcCidrParam)}},
}

// ECSService is a service as the CloudFormation template needs it: its
// task definition and how many tasks run it.
type ECSService struct {
	Name           string
	Port           int32
	TaskDefinition *ecs.RegisterTaskDefinitionInput
	// MinTasks and MaxTasks bound the tasks; autoscaling keeps the CPU
	// at TargetCPU percent between them.
	MinTasks, MaxTasks, TargetCPU int32
	// ReadinessPath, ReadinessInterval, ReadinessTimeout and
	// ReadinessThreshold are the pod's readiness probe: the load
	// balancer's health check.
	ReadinessPath                                           string
	ReadinessInterval, ReadinessTimeout, ReadinessThreshold int32
	// StartPeriod is how long the pod's startup probe waits for it to
	// start.
	StartPeriod int32
	// DrainSeconds is how long the pod goes on serving after it is told to
	// stop (its preStop pause), while it is taken out of the load balancer.
	DrainSeconds int64
}

// ECSSystem renders the chart in chartDir with ECSValues and makes each
// service of ECSServices from its Deployment, ConfigMap and autoscaler.
func ECSSystem(chartDir string) ([]ECSService, error) {
	files, err := RenderChart(chartDir, "orderflow", "orderflow", ECSValues())
	if err != nil {
		return nil, err
	}
	var out []ECSService
	for _, name := range ECSServices {
		objs, err := decodeObjects(files[name+".yaml"])
		if err != nil {
			return nil, fmt.Errorf("%s.yaml: %w", name, err)
		}
		svc, err := ecsService(name, objs)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, svc)
	}
	return out, nil
}

// objects are the Kubernetes objects of one service's template.
type objects struct {
	deployment *appsv1.Deployment
	configMaps map[string]*corev1.ConfigMap
	hpa        *autoscalingv2.HorizontalPodAutoscaler
}

func decodeObjects(manifest string) (objects, error) {
	objs := objects{configMaps: map[string]*corev1.ConfigMap{}}
	for _, doc := range docSeparator.Split(manifest, -1) {
		var tm metav1.TypeMeta
		if err := sigsyaml.Unmarshal([]byte(doc), &tm); err != nil {
			return objs, err
		}
		var into any
		switch tm.Kind {
		case "Deployment":
			into = &appsv1.Deployment{}
		case "ConfigMap":
			into = &corev1.ConfigMap{}
		case "HorizontalPodAutoscaler":
			into = &autoscalingv2.HorizontalPodAutoscaler{}
		default:
			continue
		}
		if err := sigsyaml.UnmarshalStrict([]byte(doc), into); err != nil {
			return objs, fmt.Errorf("%s: %w", tm.Kind, err)
		}
		switch o := into.(type) {
		case *appsv1.Deployment:
			objs.deployment = o
		case *corev1.ConfigMap:
			objs.configMaps[o.Name] = o
		case *autoscalingv2.HorizontalPodAutoscaler:
			objs.hpa = o
		}
	}
	if objs.deployment == nil {
		return objs, fmt.Errorf("no Deployment")
	}
	return objs, nil
}

func ecsService(name string, objs objects) (ECSService, error) {
	pod := objs.deployment.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		return ECSService{}, fmt.Errorf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	cpu, memory, err := fargateSize(c.Resources.Limits)
	if err != nil {
		return ECSService{}, err
	}
	env, secrets, err := ecsEnv(c, objs.configMaps, cpu, memory)
	if err != nil {
		return ECSService{}, err
	}
	env = append(env, ecsEnvironment[name]...)
	sortByName(env, func(kv ecstypes.KeyValuePair) string { return *kv.Name })
	sortByName(secrets, func(s ecstypes.Secret) string { return *s.Name })

	port, err := namedPort(c, "http")
	if err != nil {
		return ECSService{}, err
	}
	live, ready, startup := c.LivenessProbe, c.ReadinessProbe, c.StartupProbe
	if live == nil || ready == nil || startup == nil || live.HTTPGet == nil || ready.HTTPGet == nil {
		return ECSService{}, fmt.Errorf("the container needs HTTP liveness and readiness probes, and a startup probe")
	}
	sc, podSC := c.SecurityContext, pod.SecurityContext
	if sc == nil || podSC == nil || podSC.RunAsUser == nil || podSC.RunAsGroup == nil {
		return ECSService{}, fmt.Errorf("the pod names no user and group to run as")
	}
	var drop []string
	if sc.Capabilities != nil {
		for _, d := range sc.Capabilities.Drop {
			drop = append(drop, string(d))
		}
	}
	binary := "/usr/local/bin/" + name
	container := ecstypes.ContainerDefinition{
		Name:      aws.String(name),
		Image:     aws.String(c.Image),
		Essential: aws.Bool(true),
		PortMappings: []ecstypes.PortMapping{{
			Name:          aws.String("http"),
			ContainerPort: aws.Int32(port),
			Protocol:      ecstypes.TransportProtocolTcp,
			AppProtocol:   ecstypes.ApplicationProtocolHttp,
		}},
		Environment: env,
		Secrets:     secrets,
		// ECS replaces a task whose container turns unhealthy, as the
		// kubelet restarts one that fails its liveness probe; the load
		// balancer's check is the readiness probe.
		HealthCheck: &ecstypes.HealthCheck{
			Command:     []string{"CMD", binary, "probe", live.HTTPGet.Path},
			Interval:    aws.Int32(live.PeriodSeconds),
			Timeout:     aws.Int32(live.TimeoutSeconds),
			Retries:     aws.Int32(live.FailureThreshold),
			StartPeriod: aws.Int32(startup.PeriodSeconds * startup.FailureThreshold),
		},
		// The time the pod has between SIGTERM and SIGKILL.
		StopTimeout:            aws.Int32(int32(ptrOr(pod.TerminationGracePeriodSeconds, corev1.DefaultTerminationGracePeriodSeconds))),
		User:                   aws.String(fmt.Sprintf("%d:%d", *podSC.RunAsUser, *podSC.RunAsGroup)),
		ReadonlyRootFilesystem: sc.ReadOnlyRootFilesystem,
		LinuxParameters:        &ecstypes.LinuxParameters{Capabilities: &ecstypes.KernelCapabilities{Drop: drop}},
		LogConfiguration: &ecstypes.LogConfiguration{
			LogDriver: ecstypes.LogDriverAwslogs,
			Options: map[string]string{
				"awslogs-group":         logGroupRef,
				"awslogs-region":        regionRef,
				"awslogs-stream-prefix": name,
				// A slow log stream must not block the service.
				"mode":            "non-blocking",
				"max-buffer-size": "4m",
			},
		},
	}
	svc := ECSService{
		Name: name,
		Port: port,
		TaskDefinition: &ecs.RegisterTaskDefinitionInput{
			Family:                  aws.String("orderflow-" + name),
			RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
			NetworkMode:             ecstypes.NetworkModeAwsvpc,
			Cpu:                     aws.String(strconv.Itoa(cpu)),
			Memory:                  aws.String(strconv.Itoa(memory)),
			RuntimePlatform: &ecstypes.RuntimePlatform{
				OperatingSystemFamily: ecstypes.OSFamilyLinux,
				CpuArchitecture:       ecstypes.CPUArchitecture(architectureParam),
			},
			ExecutionRoleArn:     aws.String(executionRoleRef),
			ContainerDefinitions: []ecstypes.ContainerDefinition{container},
		},
		ReadinessPath:      ready.HTTPGet.Path,
		ReadinessInterval:  ready.PeriodSeconds,
		ReadinessTimeout:   ready.TimeoutSeconds,
		ReadinessThreshold: ready.FailureThreshold,
		StartPeriod:        startup.PeriodSeconds * startup.FailureThreshold,
	}
	if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && c.Lifecycle.PreStop.Sleep != nil {
		svc.DrainSeconds = c.Lifecycle.PreStop.Sleep.Seconds
	}
	switch hpa := objs.hpa; {
	case hpa != nil:
		svc.MinTasks, svc.MaxTasks = ptrOr(hpa.Spec.MinReplicas, 1), hpa.Spec.MaxReplicas
		for _, m := range hpa.Spec.Metrics {
			if m.Resource != nil && m.Resource.Name == corev1.ResourceCPU && m.Resource.Target.AverageUtilization != nil {
				svc.TargetCPU = *m.Resource.Target.AverageUtilization
			}
		}
		if svc.TargetCPU == 0 {
			return ECSService{}, fmt.Errorf("its autoscaler has no CPU target")
		}
	default:
		// Without an autoscaler, as many tasks as the Deployment's
		// replicas, always.
		svc.MinTasks = ptrOr(objs.deployment.Spec.Replicas, 1)
		svc.MaxTasks = svc.MinTasks
	}
	return svc, nil
}

// ecsEnv turns the container's environment into a task definition's:
// values and ConfigMap keys into environment variables, Secret keys into
// secrets (the JSON keys of the credentials secret), and the resource
// limits into the task's size.
func ecsEnv(c corev1.Container, configMaps map[string]*corev1.ConfigMap, cpu, memory int) ([]ecstypes.KeyValuePair, []ecstypes.Secret, error) {
	var env []ecstypes.KeyValuePair
	var secrets []ecstypes.Secret
	add := func(name, value string) {
		env = append(env, ecstypes.KeyValuePair{Name: aws.String(name), Value: aws.String(value)})
	}
	for _, from := range c.EnvFrom {
		if from.ConfigMapRef == nil || configMaps[from.ConfigMapRef.Name] == nil {
			return nil, nil, fmt.Errorf("envFrom names no ConfigMap of the service")
		}
		data := configMaps[from.ConfigMapRef.Name].Data
		for _, k := range slices.Sorted(maps.Keys(data)) {
			add(k, data[k])
		}
	}
	for _, e := range c.Env {
		switch src := e.ValueFrom; {
		case src == nil:
			add(e.Name, e.Value)
		case src.SecretKeyRef != nil && src.SecretKeyRef.Name == credentialsSecret:
			// Secrets Manager's form: the secret, then a key of its JSON.
			secrets = append(secrets, ecstypes.Secret{Name: aws.String(e.Name), ValueFrom: aws.String(secretParam + ":" + src.SecretKeyRef.Key + "::")})
		case src.ResourceFieldRef != nil && src.ResourceFieldRef.Resource == "limits.memory":
			// The Go runtime keeps the heap under the task's memory,
			// less a fifth: room for what is not heap, and for the
			// Service Connect proxy that shares the task (AWS asks for
			// 64 MiB).
			add(e.Name, fmt.Sprintf("%dMiB", memory*4/5))
		case src.ResourceFieldRef != nil && src.ResourceFieldRef.Resource == "limits.cpu":
			add(e.Name, strconv.Itoa((cpu+1023)/1024))
		default:
			return nil, nil, fmt.Errorf("%s: a source ECS cannot give", e.Name)
		}
	}
	return env, secrets, nil
}

// fargateCPU lists Fargate's task sizes: CPU units, with the memory in MiB
// each allows (from, to, by).
var fargateCPU = []struct{ cpu, from, to, by int }{
	{256, 512, 2048, 512},
	{512, 1024, 4096, 1024},
	{1024, 2048, 8192, 1024},
	{2048, 4096, 16384, 1024},
	{4096, 8192, 30720, 1024},
	{8192, 16384, 61440, 4096},
	{16384, 32768, 122880, 8192},
}

// FargateSizeValid reports whether cpu units and memory MiB are a task
// size Fargate runs.
func FargateSizeValid(cpu, memory int) bool {
	for _, s := range fargateCPU {
		if s.cpu == cpu {
			return memory >= s.from && memory <= s.to && (memory-s.from)%s.by == 0
		}
	}
	return false
}

// fargateSize is the smallest Fargate task size with at least the CPU and
// the memory of limits.
func fargateSize(limits corev1.ResourceList) (cpu, memory int, err error) {
	lc, lm := limits[corev1.ResourceCPU], limits[corev1.ResourceMemory]
	if lc.IsZero() || lm.IsZero() {
		return 0, 0, fmt.Errorf("the container needs CPU and memory limits")
	}
	wantCPU := int(math.Ceil(float64(lc.MilliValue()) * 1024 / 1000))
	wantMemory := int(math.Ceil(float64(lm.Value()) / (1 << 20)))
	for _, s := range fargateCPU {
		if s.cpu < wantCPU || s.to < wantMemory {
			continue
		}
		m := max(s.from, s.from+(wantMemory-s.from+s.by-1)/s.by*s.by)
		return s.cpu, m, nil
	}
	return 0, 0, fmt.Errorf("limits %s CPU and %s memory exceed every Fargate task", lc.String(), lm.String())
}

func namedPort(c corev1.Container, name string) (int32, error) {
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort, nil
		}
	}
	return 0, fmt.Errorf("no port named %s", name)
}

// title is s with its first letter upper-case: a service's name as the
// template's resources start with it (gateway: GatewayService).
func title(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

func sortByName[T any](s []T, name func(T) string) {
	slices.SortFunc(s, func(a, b T) int { return strings.Compare(name(a), name(b)) })
}

//go:embed cloudformation.yaml.tmpl
var cloudFormationTemplate string

// ECSFiles renders the ECS files from the chart in chartDir, by path
// relative to the repository's root: one task definition per service, as
// the input of RegisterTaskDefinition (aws ecs register-task-definition
// --cli-input-json), and the CloudFormation template that deploys them.
func ECSFiles(chartDir string) (map[string][]byte, error) {
	services, err := ECSSystem(chartDir)
	if err != nil {
		return nil, err
	}
	chrt, err := os.ReadFile(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		return nil, err
	}
	var meta struct {
		AppVersion string `json:"appVersion"`
	}
	if err := sigsyaml.Unmarshal(chrt, &meta); err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, s := range services {
		b, err := TaskDefinitionJSON(s.TaskDefinition)
		if err != nil {
			return nil, err
		}
		files[filepath.Join(ECSTaskDefsDir, s.Name+".json")] = b
	}
	tmpl, err := template.New("cloudformation").Funcs(template.FuncMap{
		"taskDefinition": func(s ECSService, indent int) (string, error) { return cloudFormationYAML(s.TaskDefinition, indent) },
		"title":          title,
		"list":           func(s ...string) []string { return s },
	}).Option("missingkey=error").Parse(cloudFormationTemplate)
	if err != nil {
		return nil, err
	}
	byName := map[string]ECSService{}
	for _, s := range services {
		byName[s.Name] = s
	}
	var buf bytes.Buffer
	err = tmpl.Execute(&buf, map[string]any{
		"Header":     ECSHeader,
		"Drain":      byName["gateway"].DrainSeconds,
		"AppVersion": meta.AppVersion,
		"Services":   services,
		"Service":    byName,
	})
	if err != nil {
		return nil, err
	}
	files[ECSTemplate] = buf.Bytes()
	return files, nil
}

// WriteECSFiles writes the ECS files under root and lists them.
func WriteECSFiles(root string, w io.Writer) error {
	files, err := ECSFiles(filepath.Join(root, ChartDir))
	if err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			return err
		}
		fmt.Fprintln(w, path)
	}
	return nil
}

// TaskDefinitionJSON is td as the ECS API takes it: the fields set, named
// as the API names them (containerDefinitions...).
func TaskDefinitionJSON(td *ecs.RegisterTaskDefinitionInput) ([]byte, error) {
	n := node(reflect.ValueOf(td), lowerFirst)
	var buf bytes.Buffer
	writeJSON(&buf, n, "")
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// cloudFormationYAML is td as the properties of an AWS::ECS::TaskDefinition,
// indented by indent spaces: the fields named as the API's Go types name
// them, which is CloudFormation's naming, and every string holding a
// placeholder filled in by Fn::Sub.
func cloudFormationYAML(td *ecs.RegisterTaskDefinitionInput, indent int) (string, error) {
	n := node(reflect.ValueOf(td), func(s string) string { return s })
	substitute(n)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return "", err
	}
	pad := strings.Repeat(" ", indent)
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	for i := range lines {
		lines[i] = pad + lines[i]
	}
	return strings.Join(lines, "\n"), nil
}

// substitute fills in the placeholders of n's strings: one that is a whole
// placeholder is a !Ref or !GetAtt, one that holds some a !Sub. Mappings
// and sequences of a few scalars are written on one line.
func substitute(n *yaml.Node) {
	switch {
	case n.Kind == yaml.ScalarNode && n.Tag == "!!str":
		if m := wholePlaceholder.FindStringSubmatch(n.Value); m != nil {
			n.Tag, n.Value, n.Style = "!Ref", m[1], 0
			if strings.Contains(m[1], ".") {
				n.Tag = "!GetAtt"
			}
		} else if strings.Contains(n.Value, "${") {
			n.Tag, n.Style = "!Sub", yaml.DoubleQuotedStyle
		}
	case flat(n):
		n.Style = yaml.FlowStyle
	}
	for i, c := range n.Content {
		if n.Kind == yaml.MappingNode && i%2 == 0 {
			continue
		}
		substitute(c)
	}
}

var wholePlaceholder = regexp.MustCompile(`^\$\{([A-Za-z0-9:.]+)\}$`)

// firstFields are written before the others, for the reader.
var firstFields = []string{"Family", "Name", "Image"}

// node is v as a YAML node: structs as mappings of their set fields, in
// the order of firstFields then of the struct, named by key; maps with
// their keys as they are, sorted.
func node(v reflect.Value, key func(string) string) *yaml.Node {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		return node(v.Elem(), key)
	case reflect.Struct:
		n := &yaml.Node{Kind: yaml.MappingNode}
		var fields []reflect.StructField
		for _, f := range reflect.VisibleFields(v.Type()) {
			fv := v.FieldByIndex(f.Index)
			if !f.IsExported() || f.Anonymous || fv.IsZero() || (fv.Kind() == reflect.Slice || fv.Kind() == reflect.Map) && fv.Len() == 0 {
				continue
			}
			fields = append(fields, f)
		}
		rank := func(f reflect.StructField) int {
			if i := slices.Index(firstFields, f.Name); i >= 0 {
				return i
			}
			return len(firstFields)
		}
		slices.SortStableFunc(fields, func(a, b reflect.StructField) int { return rank(a) - rank(b) })
		for _, f := range fields {
			n.Content = append(n.Content, scalar(key(f.Name), "!!str"), node(v.FieldByIndex(f.Index), key))
		}
		return n
	case reflect.Slice:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for i := 0; i < v.Len(); i++ {
			n.Content = append(n.Content, node(v.Index(i), key))
		}
		return n
	case reflect.Map:
		n := &yaml.Node{Kind: yaml.MappingNode}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		for _, k := range keys {
			n.Content = append(n.Content, scalar(k.String(), "!!str"), node(v.MapIndex(k), key))
		}
		return n
	case reflect.String:
		return scalar(v.String(), "!!str")
	case reflect.Bool:
		return scalar(strconv.FormatBool(v.Bool()), "!!bool")
	case reflect.Int, reflect.Int32, reflect.Int64:
		return scalar(strconv.FormatInt(v.Int(), 10), "!!int")
	}
	panic(fmt.Sprintf("deploy: no YAML for a %s", v.Kind()))
}

func scalar(value, tag string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Value: value, Tag: tag}
	if tag == "!!str" && needsQuotes(value) {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

// needsQuotes reports whether a string might read as something else
// unquoted: another type ("512", "true"), or, to a YAML 1.1 reader, a
// number in base 60 ("65532:65532").
func needsQuotes(s string) bool {
	var v any
	return strings.Contains(s, ":") || yaml.Unmarshal([]byte(s), &v) == nil && reflect.TypeOf(v) != reflect.TypeOf("")
}

// flat reports whether n holds scalars only, and few enough for a line.
func flat(n *yaml.Node) bool {
	width := 0
	for _, c := range n.Content {
		if c.Kind != yaml.ScalarNode {
			return false
		}
		width += len(c.Value) + 4
	}
	return width <= 100
}

func lowerFirst(s string) string {
	r := []rune(s)
	r[0] = unicode.ToLower(r[0])
	return string(r)
}

// writeJSON writes n as indented JSON, its mappings in their order, and a
// mapping or sequence of a few scalars on one line.
func writeJSON(w *bytes.Buffer, n *yaml.Node, indent string) {
	if n.Kind == yaml.ScalarNode {
		if n.Tag == "!!str" {
			b, _ := json.Marshal(n.Value) // a string always marshals
			w.Write(b)
		} else {
			w.WriteString(n.Value)
		}
		return
	}
	open, close, step := "{", "}", 2
	if n.Kind == yaml.SequenceNode {
		open, close, step = "[", "]", 1
	}
	inner, first, between, last := indent+"  ", "\n"+indent+"  ", ",\n"+indent+"  ", "\n"+indent
	if flat(n) {
		first, between, last = "", ", ", ""
	}
	w.WriteString(open)
	for i := 0; i < len(n.Content); i += step {
		if i == 0 {
			w.WriteString(first)
		} else {
			w.WriteString(between)
		}
		if step == 2 {
			k, _ := json.Marshal(n.Content[i].Value)
			w.Write(k)
			w.WriteString(": ")
		}
		writeJSON(w, n.Content[i+step-1], inner)
	}
	if len(n.Content) > 0 {
		w.WriteString(last)
	}
	w.WriteString(close)
}
