{{/* Labels of every object of the component named .name. */}}
{{- define "orderflow.labels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/part-of: orderflow
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
{{- end }}

{{/* The labels that select the pods of the component named .name. */}}
{{- define "orderflow.selector" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end }}

{{/* A NetworkPolicy's selector of the pods of the component named .name. */}}
{{- define "orderflow.pods" -}}
podSelector:
  matchLabels:
    {{- include "orderflow.selector" . | nindent 4 }}
{{- end }}

{{/* The Secret holding every credential. */}}
{{- define "orderflow.secret" -}}
{{ .Values.credentials.existingSecret | default "orderflow-credentials" }}
{{- end }}

{{/*
The variable .name holding the URL of the store .store ("mongo" or
"redis") when it is not the bundled one: from the Secret that holds it.
Nothing for a bundled store, whose URL is in the service's ConfigMap.
*/}}
{{- define "orderflow.storeURL" -}}
{{- $v := index .root.Values .store }}
{{- if not $v.enabled }}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      {{- if $v.external.existingSecret }}
      name: {{ $v.external.existingSecret }}
      key: {{ $v.external.existingSecretKey }}
      {{- else }}
      name: {{ include "orderflow.secret" .root }}
      key: {{ ternary "MONGO_URI" "REDIS_URL" (eq .store "mongo") }}
      {{- end }}
{{- end }}
{{- end }}

{{/*
The egress rule to the store .store ("mongo" or "redis") on .port: its
pods when it is the bundled one, else any address on its external ports
(the cluster does not know where a store of one's own is).
*/}}
{{- define "orderflow.storeEgress" -}}
{{- $v := index .root.Values .store }}
{{- if $v.enabled }}
- to:
    - {{ include "orderflow.pods" (dict "root" .root "name" .store) | indent 6 | trim }}
  ports:
    - {protocol: TCP, port: {{ .port }}}
{{- else }}
- to:
    - ipBlock: {cidr: 0.0.0.0/0}
    - ipBlock: {cidr: "::/0"}
  ports:
    {{- range $v.external.ports }}
    - {protocol: TCP, port: {{ . }}}
    {{- end }}
{{- end }}
{{- end }}

{{/* The variable .name set from the Secret's key .key (default: .name). */}}
{{- define "orderflow.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ include "orderflow.secret" .root }}
      key: {{ .key | default .name }}
{{- end }}

{{/*
Pod Security "restricted", for a pod whose image runs as .uid: no root, no
privilege escalation, no capabilities, the runtime's seccomp profile, a
read-only root filesystem and no service-account token.
*/}}
{{- define "orderflow.podSecurity" -}}
automountServiceAccountToken: false
securityContext:
  runAsNonRoot: true
  runAsUser: {{ .uid }}
  runAsGroup: {{ .uid }}
  fsGroup: {{ .uid }}
  seccompProfile:
    type: RuntimeDefault
{{- end }}

{{- define "orderflow.containerSecurity" -}}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities:
    drop: ["ALL"]
{{- end }}

{{/*
A stateless service: its Deployment, Service, PodDisruptionBudget and
HorizontalPodAutoscaler. With the autoscaler, the Deployment names no
replica count (the autoscaler keeps at least .replicas), so that an upgrade
does not undo its scaling. .name is the service (and its image and binary),
.port its HTTP port, .metricsPort the port of /metrics when it has one of
its own, .env its container's environment.
*/}}
{{- define "orderflow.service" -}}
{{- $values := index .root.Values .name -}}
{{- $image := printf "%s/%s:%s" .root.Values.image.repository .name (.root.Values.image.tag | default .root.Chart.AppVersion) -}}
{{- if .root.Values.image.registry }}{{ $image = printf "%s/%s" .root.Values.image.registry $image }}{{ end -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .name }}
  labels:
    {{- include "orderflow.labels" . | nindent 4 }}
spec:
  {{- if not $values.autoscaling.enabled }}
  replicas: {{ $values.replicas }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "orderflow.selector" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "orderflow.labels" . | nindent 8 }}
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: {{ .metricsPort | default .port | quote }}
        prometheus.io/path: /metrics
    spec:
      {{- include "orderflow.podSecurity" (dict "uid" 65532) | nindent 6 }}
      containers:
        - name: {{ .name }}
          image: {{ $image }}
          imagePullPolicy: {{ .root.Values.image.pullPolicy }}
          ports:
            - name: http
              containerPort: {{ .port }}
            {{- with .metricsPort }}
            - name: metrics
              containerPort: {{ . }}
            {{- end }}
          env:
            - name: {{ printf "%s_HTTP_ADDR" (upper .name) }}
              value: {{ printf ":%d" (int .port) | quote }}
            # The Go runtime keeps the heap under the container's memory limit.
            - name: GOMEMLIMIT
              valueFrom:
                resourceFieldRef:
                  resource: limits.memory
            # and runs as many threads as the CPU limit, rounded up: 1 for a
            # 500m pod. Go's own container-aware default is never below 2,
            # and an idle second thread that keeps waking to look for work
            # costs a small service a fifth of its CPU.
            - name: GOMAXPROCS
              valueFrom:
                resourceFieldRef:
                  resource: limits.cpu
                  divisor: "1"
            {{- .env | nindent 12 }}
          envFrom:
            - configMapRef:
                name: {{ .name }}-config
          # /readyz fails only on what keeps this replica from its work (for
          # paymentsvc, its subscription). It reports MongoDB and Redis, 2
          # seconds for each, without failing: an outage every replica shares
          # must not empty the Service, or the gateway's JSON 503 would become
          # a load balancer's error page.
          startupProbe:
            httpGet: {path: /healthz, port: http}
            periodSeconds: 2
            timeoutSeconds: 3
            failureThreshold: 30
          livenessProbe:
            httpGet: {path: /healthz, port: http}
            periodSeconds: 10
            timeoutSeconds: 3
            failureThreshold: 3
          readinessProbe:
            httpGet: {path: /readyz, port: http}
            periodSeconds: 5
            timeoutSeconds: 3
            failureThreshold: 2
          # Endpoints drop a terminating pod a moment after it gets SIGTERM:
          # it keeps serving meanwhile, then shuts down gracefully.
          lifecycle:
            preStop:
              sleep: {seconds: 5}
          resources:
            {{- toYaml $values.resources | nindent 12 }}
          {{- include "orderflow.containerSecurity" . | nindent 10 }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .name }}
  labels:
    {{- include "orderflow.labels" . | nindent 4 }}
spec:
  selector:
    {{- include "orderflow.selector" . | nindent 4 }}
  ports:
    - name: http
      port: {{ .port }}
      targetPort: http
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ .name }}
  labels:
    {{- include "orderflow.labels" . | nindent 4 }}
spec:
  minAvailable: 1
  selector:
    matchLabels:
      {{- include "orderflow.selector" . | nindent 6 }}
{{- if $values.autoscaling.enabled }}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ .name }}
  labels:
    {{- include "orderflow.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ .name }}
  minReplicas: {{ $values.replicas }}
  maxReplicas: {{ $values.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $values.autoscaling.targetCPUUtilizationPercentage }}
{{- end }}
{{- end }}
