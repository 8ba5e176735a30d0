package deploy

import (
	"encoding/base64"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// The bundled MongoDB is a replica set of one: mongod runs with --replSet
// (mongo-start.sh adds its key file), a check initiates the set
// (mongo-replica-set.js) with the member the services reach, and their URIs
// name the set.
const (
	startScript      = "mongo-start.sh"
	replicaSetScript = "mongo-replica-set.js"
)

// replicaSet is how one deployment runs the bundled MongoDB.
type replicaSet struct {
	args          []string          // mongod's command line, after the start script
	env           map[string]string // the mongo container's REPLICA_SET and REPLICA_HOST
	check         string            // the command that initiates the set
	scripts       []string          // the files the container has, by base name
	servicesURIs  map[string]string // each service's MongoDB URI
	resolvesEarly bool              // the member's name resolves before it is ready
}

func checkReplicaSet(t *testing.T, rs replicaSet) {
	t.Helper()
	i := slices.Index(rs.args, "--replSet")
	if i < 0 || i+1 >= len(rs.args) || rs.args[0] != "mongod" {
		t.Fatalf("mongod runs as %q, not a replica set", rs.args)
	}
	name := rs.args[i+1]
	if rs.env["REPLICA_SET"] != name {
		t.Errorf("mongod runs set %s; the script initiates %q", name, rs.env["REPLICA_SET"])
	}
	if !strings.Contains(rs.check, "/"+replicaSetScript) {
		t.Errorf("nothing initiates the set: the check runs %q", rs.check)
	}
	for _, s := range []string{startScript, replicaSetScript} {
		if !slices.Contains(rs.scripts, s) {
			t.Errorf("the container lacks %s", s)
		}
	}
	if !rs.resolvesEarly {
		t.Error("the member's name does not resolve before it is ready: the set cannot be initiated")
	}
	for svc, uri := range rs.servicesURIs {
		u, err := url.Parse(uri)
		if err != nil {
			t.Fatal(err)
		}
		if u.Host != rs.env["REPLICA_HOST"] || u.Query().Get("replicaSet") != name {
			t.Errorf("%s connects to %s; the set is %s with member %s", svc, uri, name, rs.env["REPLICA_HOST"])
		}
	}
	if len(rs.servicesURIs) != 2 {
		t.Errorf("URIs of %d services, want ordersvc's and paymentsvc's", len(rs.servicesURIs))
	}
}

func TestComposeMongoDBIsAReplicaSet(t *testing.T) {
	p := composeProject(t)
	mongo := p.Services["mongo"]
	rs := replicaSet{env: map[string]string{}, servicesURIs: map[string]string{}, resolvesEarly: true}
	if len(mongo.Entrypoint) != 2 || mongo.Entrypoint[0] != "sh" || filepath.Base(mongo.Entrypoint[1]) != startScript {
		t.Errorf("mongo starts with %q, not %s", mongo.Entrypoint, startScript)
	}
	rs.args = mongo.Command
	for _, k := range []string{"REPLICA_SET", "REPLICA_HOST"} {
		if v := mongo.Environment[k]; v != nil {
			rs.env[k] = *v
		}
	}
	if mongo.HealthCheck != nil {
		rs.check = strings.Join(mongo.HealthCheck.Test, " ")
	}
	for _, v := range mongo.Volumes {
		if _, err := os.Stat(v.Source); err == nil && filepath.Base(v.Source) == filepath.Base(v.Target) {
			rs.scripts = append(rs.scripts, filepath.Base(v.Target))
		}
	}
	for _, svc := range []string{"ordersvc", "paymentsvc"} {
		if v := p.Services[svc].Environment[strings.ToUpper(svc)+"_MONGO_URI"]; v != nil {
			rs.servicesURIs[svc] = *v
		}
	}
	checkReplicaSet(t, rs)
}

func TestHelmMongoDBIsAReplicaSet(t *testing.T) {
	files, err := RenderChart(filepath.Join(root, ChartDir), "orderflow", "orderflow", nil)
	if err != nil {
		t.Fatal(err)
	}
	s := check(t, []byte(joinManifests(files)))
	c, ok := s.container("mongo")
	if !ok {
		t.Fatal("no mongo container")
	}
	if len(c.Command) != 2 || c.Command[0] != "sh" || filepath.Base(c.Command[1]) != startScript {
		t.Errorf("mongo starts with %q, not %s", c.Command, startScript)
	}
	rs := replicaSet{args: c.Args, env: map[string]string{}, servicesURIs: map[string]string{}}
	env := s.environment(t, "mongo", c)
	for _, k := range []string{"REPLICA_SET", "REPLICA_HOST"} {
		rs.env[k] = s.text(env[k])
	}
	if p := c.StartupProbe; p != nil && p.Exec != nil {
		rs.check = strings.Join(p.Exec.Command, " ")
	}
	pod := s.workloads["mongo"].pod.Spec
	for _, m := range c.VolumeMounts {
		for _, v := range pod.Volumes {
			if v.Name != m.Name || v.ConfigMap == nil {
				continue
			}
			for _, item := range v.ConfigMap.Items {
				if s.configMaps[v.ConfigMap.Name].Data[item.Key] != "" && (m.MountPath+"/"+item.Path == c.Command[1] || strings.Contains(rs.check, m.MountPath+"/"+item.Path)) {
					rs.scripts = append(rs.scripts, item.Path)
				}
			}
			if m.MountPath == "/docker-entrypoint-initdb.d" && (len(v.ConfigMap.Items) != 1 || v.ConfigMap.Items[0].Key != "mongo-init.js") {
				t.Errorf("the entrypoint would run %v at initialisation, not mongo-init.js alone", v.ConfigMap.Items)
			}
		}
	}
	if svc := s.services["mongo"]; svc != nil {
		rs.resolvesEarly = svc.Spec.PublishNotReadyAddresses && svc.Spec.ClusterIP == corev1.ClusterIPNone
	}
	for _, svc := range []string{"ordersvc", "paymentsvc"} {
		rs.servicesURIs[svc] = s.configMaps[svc+"-config"].Data[strings.ToUpper(svc)+"_MONGO_URI"]
	}
	checkReplicaSet(t, rs)
}

// TestTheStartScriptGivesMongodAKeyFile runs mongo-start.sh with an
// entrypoint that only says what it was given: mongod's arguments, then
// --keyFile with a key only its owner may read, of the length and alphabet
// MongoDB takes.
func TestTheStartScriptGivesMongodAKeyFile(t *testing.T) {
	sh := needCommand(t, "sh", "a POSIX shell")
	dir := t.TempDir()
	entrypoint := "#!/bin/sh\nprintf '%s\\n' \"$@\"\n"
	if err := os.WriteFile(filepath.Join(dir, "docker-entrypoint.sh"), []byte(entrypoint), 0o755); err != nil {
		t.Fatal(err)
	}
	keyfile := filepath.Join(dir, "keyfile")
	cmd := exec.Command(sh, filepath.Join(root, ChartDir, "files", startScript), "mongod", "--replSet", "rs0")
	cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"), "MONGO_KEYFILE="+keyfile)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", startScript, err, out)
	}
	if have, want := strings.Fields(string(out)), []string{"mongod", "--replSet", "rs0", "--keyFile", keyfile}; !slices.Equal(have, want) {
		t.Errorf("mongod gets %q, want %q", have, want)
	}
	info, err := os.Stat(keyfile)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o400 {
		t.Errorf("the key file's mode is %v: mongod refuses one others may read", info.Mode().Perm())
	}
	key, err := os.ReadFile(keyfile)
	if err != nil {
		t.Fatal(err)
	}
	// MongoDB ignores the whitespace, and takes 6 to 1024 base64 characters.
	text := strings.Join(strings.Fields(string(key)), "")
	if _, err := base64.StdEncoding.DecodeString(text); err != nil || len(text) < 6 || len(text) > 1024 {
		t.Errorf("the key is %d characters (%v), want 6 to 1024 of base64", len(text), err)
	}
}

// TestTheReplicaSetScript runs mongo-replica-set.js in Node against a
// stand-in of mongosh's db and rs: it initiates the set on a server that
// has none, with the member it is told, leaves one that has a set alone,
// gives up on anything else, and succeeds only on the primary.
func TestTheReplicaSetScript(t *testing.T) {
	node := needCommand(t, "node", "Node.js, which runs the script as mongosh does")
	script, err := os.ReadFile(filepath.Join(root, ChartDir, "files", replicaSetScript))
	if err != nil {
		t.Fatal(err)
	}
	// status: what replSetGetStatus does ("throw:<codeName>" or "ok");
	// primary: what hello says from then on.
	harness := `
const vm = require("vm");
const [script, status, primary] = [process.argv[1], process.argv[2], process.argv[3] === "true"];
const calls = [];
class Exit { constructor(code) { this.code = code; } }
const ctx = {
  process: { env: { REPLICA_SET: "rs0", REPLICA_HOST: "mongo:27017" } },
  print: () => {},
  sleep: () => {},
  quit: (code) => { throw new Exit(code); },
  db: {
    adminCommand: (cmd) => {
      calls.push(Object.keys(cmd)[0]);
      if (status.startsWith("throw:")) { const e = new Error("server error"); e.codeName = status.slice(6); throw e; }
      return { ok: 1, set: "rs0" };
    },
    hello: () => ({ isWritablePrimary: primary }),
  },
  rs: { initiate: (cfg) => { calls.push("initiate " + JSON.stringify(cfg)); return { ok: 1 }; } },
};
let code = 0;
try { vm.runInNewContext(script, ctx); } catch (e) { code = e instanceof Exit ? e.code : 2; }
console.log(JSON.stringify({ code, calls }));
`
	initiate := `initiate {"_id":"rs0","members":[{"_id":0,"host":"mongo:27017"}]}`
	for _, c := range []struct {
		status, primary string
		code            int
		calls           string
	}{
		{"throw:NotYetInitialized", "true", 0, `["replSetGetStatus",` + strconv.Quote(initiate) + `]`},
		{"ok", "true", 0, `["replSetGetStatus"]`},
		{"ok", "false", 1, `["replSetGetStatus"]`},
		// The image's initialising mongod, without --replSet: not yet.
		{"throw:NoReplicationEnabled", "false", 2, `["replSetGetStatus"]`},
		{"throw:Unauthorized", "true", 2, `["replSetGetStatus"]`},
	} {
		out, err := exec.Command(node, "-e", harness, string(script), c.status, c.primary).CombinedOutput()
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		want := `{"code":` + strconv.Itoa(c.code) + `,"calls":` + c.calls + `}`
		if strings.TrimSpace(string(out)) != want {
			t.Errorf("replSetGetStatus %s, primary %s: %s, want %s", c.status, c.primary, out, want)
		}
	}
}
