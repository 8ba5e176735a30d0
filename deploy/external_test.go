package deploy

import (
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestHelmExternalStores: with mongo.enabled and redis.enabled off, the
// chart renders no MongoDB and no Redis; the services take the URLs of the
// stores of one's own from a Secret (the chart's, for values given inline,
// or one's own), never from a ConfigMap; and their NetworkPolicies let them
// reach any address on the stores' ports, and nothing else new.
func TestHelmExternalStores(t *testing.T) {
	const mongoURI = "mongodb+srv://app:s3cret@cluster0.example.net/?authSource=admin"
	for name, tc := range map[string]struct {
		values                 map[string]any
		mongoSecret, mongoKey  string
		redisSecret, redisKey  string
		wantInChartSecret      map[string]string
		redisPorts, notAllowed []int32
	}{
		"inline": {
			values: map[string]any{
				"flowsvc": map[string]any{"enabled": true},
				"mongo":   map[string]any{"enabled": false, "external": map[string]any{"uri": mongoURI}},
				"redis":   map[string]any{"enabled": false, "external": map[string]any{"url": "redis+sentinel://s1:26379,s2:26379/main", "ports": []any{26379, 6379}}},
			},
			mongoSecret: "orderflow-credentials", mongoKey: "MONGO_URI",
			redisSecret: "orderflow-credentials", redisKey: "REDIS_URL",
			wantInChartSecret: map[string]string{"MONGO_URI": mongoURI, "REDIS_URL": "redis+sentinel://s1:26379,s2:26379/main"},
			redisPorts:        []int32{26379, 6379}, notAllowed: []int32{443, 7001},
		},
		"from secrets of one's own": {
			values: map[string]any{
				"mongo": map[string]any{"enabled": false, "external": map[string]any{"existingSecret": "atlas", "existingSecretKey": "uri"}},
				"redis": map[string]any{"enabled": false, "external": map[string]any{"existingSecret": "elasticache", "existingSecretKey": "url"}},
			},
			mongoSecret: "atlas", mongoKey: "uri",
			redisSecret: "elasticache", redisKey: "url",
			redisPorts: []int32{6379}, notAllowed: []int32{26379, 443},
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(root, ChartDir)
			files, err := RenderChart(dir, "orderflow", "orderflow", tc.values)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range LintChart(dir, tc.values) {
				t.Errorf("helm lint: %s", m)
			}
			manifests := joinManifests(files)
			s := decode(t, []byte(manifests))
			checkPodSecurity(t, s)
			for _, gone := range []string{"mongo", "redis"} {
				if s.workloads[gone] != nil || s.services[gone] != nil {
					t.Errorf("the bundled %s is still rendered", gone)
				}
			}
			if s.configMaps["mongo-init"] != nil {
				t.Error("MongoDB's init script is still rendered")
			}
			for _, cm := range s.configMaps {
				for k, v := range cm.Data {
					if strings.Contains(v, "s3cret") || strings.HasSuffix(k, "_MONGO_URI") || strings.HasSuffix(k, "_REDIS_URL") {
						t.Errorf("ConfigMap %s holds a store's URL: %s", cm.Name, k)
					}
				}
			}
			chartSecret := s.secrets["orderflow-credentials"]
			for k, want := range tc.wantInChartSecret {
				if chartSecret == nil || string(chartSecret.Data[k]) != want {
					t.Errorf("the chart's Secret: want %s %q", k, want)
				}
			}
			for _, svc := range []struct{ name, prefix string }{{"ordersvc", "ORDERSVC"}, {"paymentsvc", "PAYMENTSVC"}, {"flowsvc", "FLOWSVC"}} {
				c, ok := s.container(svc.name)
				if !ok {
					continue // flowsvc is off
				}
				refs := map[string]*corev1.SecretKeySelector{}
				for _, e := range c.Env {
					if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
						refs[e.Name] = e.ValueFrom.SecretKeyRef
					}
				}
				want := map[string][2]string{svc.prefix + "_REDIS_URL": {tc.redisSecret, tc.redisKey}}
				if svc.name != "flowsvc" {
					want[svc.prefix+"_MONGO_URI"] = [2]string{tc.mongoSecret, tc.mongoKey}
				}
				for v, from := range want {
					if r := refs[v]; r == nil || r.Name != from[0] || r.Key != from[1] {
						t.Errorf("%s: want %s from Secret %s key %s, have %+v", svc.name, v, from[0], from[1], r)
					}
				}
				w := s.workloads[svc.name]
				self := endpoint{name: svc.name, namespace: nsLabels(ownNamespace), labels: w.pod.Labels, pod: &w.pod.Spec}
				store := endpoint{name: "a store of one's own", namespace: nsLabels("elsewhere")}
				ports := append([]int32(nil), tc.redisPorts...)
				if svc.name != "flowsvc" {
					ports = append(ports, 27017)
				}
				for _, p := range ports {
					if !s.allows(self, store, corev1.ProtocolTCP, p) {
						t.Errorf("%s may not reach a store of its own on %d", svc.name, p)
					}
				}
				for _, p := range tc.notAllowed {
					if s.allows(self, store, corev1.ProtocolTCP, p) {
						t.Errorf("%s may reach outside addresses on %d", svc.name, p)
					}
				}
			}
		})
	}
}

// The chart refuses external stores it cannot use: none named, or one
// given inline where the chart's Secret is replaced by one's own.
func TestHelmRefusesExternalStoresItCannotUse(t *testing.T) {
	for name, tc := range map[string]struct {
		values map[string]any
		says   string
	}{
		"no MongoDB": {map[string]any{"mongo": map[string]any{"enabled": false}}, "mongo.external.uri or mongo.external.existingSecret"},
		"no Redis":   {map[string]any{"redis": map[string]any{"enabled": false}}, "redis.external.url or redis.external.existingSecret"},
		"inline, no Secret": {map[string]any{
			"credentials": map[string]any{"existingSecret": "mine"},
			"mongo":       map[string]any{"enabled": false, "external": map[string]any{"uri": "mongodb://db:27017"}},
		}, "mongo.external.existingSecret"},
	} {
		_, err := RenderChart(filepath.Join(root, ChartDir), "orderflow", "orderflow", tc.values)
		if err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: want an error saying %q, have %v", name, tc.says, err)
		}
	}
}
