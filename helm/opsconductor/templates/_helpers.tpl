{{/*
Names, labels, the config file and the one pod template every role uses.
*/}}

{{- define "opsc.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "opsc.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "opsc.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "opsc.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: opsconductor
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "opsc.selectorLabels" -}}
app.kubernetes.io/name: {{ include "opsc.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "opsc.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "opsc.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "opsc.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The installation prefix upper-cased: the stream names' first part. */}}
{{- define "opsc.streamPrefix" -}}
{{- default "opsc" .Values.config.nats.prefix | upper }}
{{- end }}

{{/* The pods' grace period: always longer than the drain. */}}
{{- define "opsc.gracePeriod" -}}
{{- $drain := 30 }}
{{- with .Values.config.shutdown }}{{ with .drain_timeout_secs }}{{ $drain = int . }}{{ end }}{{ end }}
{{- add $drain (int .Values.terminationGraceMarginSeconds) }}
{{- end }}

{{/* One TOML value: YAML numbers arrive as floats, so integers are printed as integers. */}}
{{- define "opsc.tomlValue" -}}
{{- if kindIs "slice" . }}
{{- $items := list }}
{{- range . }}{{ $items = append $items (include "opsc.tomlValue" .) }}{{ end }}
{{- printf "[%s]" (join ", " $items) }}
{{- else if kindIs "string" . }}
{{- toJson . }}
{{- else if kindIs "bool" . }}
{{- printf "%t" . }}
{{- else if or (kindIs "float64" .) (kindIs "int64" .) (kindIs "int" .) }}
{{- if eq (float64 .) (floor .) }}{{ printf "%d" (int64 .) }}{{ else }}{{ printf "%v" . }}{{ end }}
{{- else }}
{{- fail (printf "config: cannot render %v as TOML" .) }}
{{- end }}
{{- end }}

{{/* config.toml from .Values.config: [section] then key = value. */}}
{{- define "opsc.configToml" -}}
# Rendered by the Helm chart from .Values.config; secrets come from the environment.
{{- range $section, $keys := .Values.config }}
{{- if $keys }}

[{{ $section }}]
{{- range $key, $value := $keys }}
{{- if not (kindIs "invalid" $value) }}
{{ $key }} = {{ include "opsc.tomlValue" $value }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* An env var from an existing Secret: (list ENV_NAME {name, key}). */}}
{{- define "opsc.secretEnv" -}}
{{- $name := index . 0 }}{{ $ref := index . 1 -}}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $ref.name | quote }}
      key: {{ $ref.key | quote }}
{{- end }}

{{/* The environment every role gets. */}}
{{- define "opsc.commonEnv" -}}
- name: OPSC_CONFIG
  value: /etc/opsconductor/config.toml
{{- end }}

{{/*
The secret files of a role: a list of (dict "ref" {name,key} "file" NAME "env" SETTING_FILE_ENV),
plus the NATS credentials when configured. Mounted from the named Secrets
(mode 0440, group fsGroup: the keys' readers accept only private files).
*/}}
{{- define "opsc.secretFiles" -}}
{{- $files := list }}
{{- range .files }}{{ if .ref.name }}{{ $files = append $files . }}{{ end }}{{ end }}
{{- with .root.Values.secrets.natsCredentials }}{{ if .name }}
{{- $files = append $files (dict "ref" . "file" "nats.creds" "env" "OPSC_NATS_CREDENTIALS_FILE") }}
{{- end }}{{ end }}
{{- toJson $files }}
{{- end }}

{{/*
A role's pod template. Arguments (dict):
  root       the chart context
  component  api | scheduler | notifier | worker
  pool       the pool name (workers only)
  args       the container arguments
  port       the health, metrics (and api) port
  portName   the port's name
  env        extra environment (a YAML list, rendered)
  spec       the role's values (resources, nodeSelector, tolerations, affinity)
  workDir    a writable path to mount an emptyDir at (workers), or ""
  files      secret files, see opsc.secretFiles
*/}}
{{- define "opsc.podTemplate" -}}
{{- $root := .root }}
{{- $files := include "opsc.secretFiles" (dict "root" $root "files" (default (list) .files)) | fromJsonArray -}}
metadata:
  labels:
    {{- include "opsc.selectorLabels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
    {{- with .pool }}
    opsconductor.io/pool: {{ . }}
    {{- end }}
  annotations:
    checksum/config: {{ include "opsc.configToml" $root | sha256sum }}
    {{- with $root.Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "opsc.serviceAccountName" $root }}
  automountServiceAccountToken: false
  terminationGracePeriodSeconds: {{ include "opsc.gracePeriod" $root }}
  securityContext:
    {{- toYaml $root.Values.podSecurityContext | nindent 4 }}
  {{- with $root.Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .spec.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .spec.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .spec.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: {{ .component }}
      image: {{ include "opsc.image" $root }}
      imagePullPolicy: {{ $root.Values.image.pullPolicy }}
      args:
        {{- toYaml .args | nindent 8 }}
      ports:
        - name: {{ .portName }}
          containerPort: {{ .port }}
          protocol: TCP
      env:
        {{- include "opsc.commonEnv" $root | nindent 8 }}
        {{- range $files }}
        - name: {{ .env }}
          value: /etc/opsconductor/secrets/{{ .file }}
        {{- end }}
        {{- with .env }}
        {{- . | nindent 8 }}
        {{- end }}
      startupProbe:
        httpGet: {path: /healthz, port: {{ .portName }}}
        periodSeconds: {{ $root.Values.probes.startup.periodSeconds }}
        failureThreshold: {{ $root.Values.probes.startup.failureThreshold }}
      # Liveness never checks a dependency: a NATS outage must not restart every pod.
      livenessProbe:
        httpGet: {path: /healthz, port: {{ .portName }}}
        periodSeconds: {{ $root.Values.probes.liveness.periodSeconds }}
        timeoutSeconds: {{ $root.Values.probes.liveness.timeoutSeconds }}
        failureThreshold: {{ $root.Values.probes.liveness.failureThreshold }}
      readinessProbe:
        httpGet: {path: /readyz, port: {{ .portName }}}
        periodSeconds: {{ $root.Values.probes.readiness.periodSeconds }}
        timeoutSeconds: {{ $root.Values.probes.readiness.timeoutSeconds }}
        failureThreshold: {{ $root.Values.probes.readiness.failureThreshold }}
      resources:
        {{- toYaml (default (dict) .spec.resources) | nindent 8 }}
      securityContext:
        {{- toYaml $root.Values.securityContext | nindent 8 }}
      volumeMounts:
        - name: config
          mountPath: /etc/opsconductor/config.toml
          subPath: config.toml
          readOnly: true
        - name: tmp
          mountPath: /tmp
        {{- if .workDir }}
        - name: work
          mountPath: {{ .workDir }}
        {{- end }}
        {{- if $files }}
        - name: secrets
          mountPath: /etc/opsconductor/secrets
          readOnly: true
        {{- end }}
        {{- with .spec.extraVolumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
  volumes:
    - name: config
      configMap:
        name: {{ include "opsc.fullname" $root }}-config
    - name: tmp
      emptyDir:
        sizeLimit: 256Mi
    {{- if .workDir }}
    - name: work
      emptyDir: {}
    {{- end }}
    {{- if $files }}
    - name: secrets
      projected:
        # 0440: owned by root, group fsGroup; readable by the role only.
        defaultMode: 288
        sources:
          {{- range $files }}
          - secret:
              name: {{ .ref.name | quote }}
              items:
                - key: {{ .ref.key | quote }}
                  path: {{ .file }}
          {{- end }}
    {{- end }}
    {{- with .spec.extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}

{{/* A Service and a PodDisruptionBudget for one Deployment: (dict root name component pool port portName). */}}
{{- define "opsc.serviceAndPdb" -}}
{{- $root := .root }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .name }}
  labels:
    {{- include "opsc.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
    {{- with .pool }}
    opsconductor.io/pool: {{ . }}
    {{- end }}
spec:
  type: {{ default "ClusterIP" .serviceType }}
  selector:
    {{- include "opsc.selectorLabels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
    {{- with .pool }}
    opsconductor.io/pool: {{ . }}
    {{- end }}
  ports:
    - name: {{ .portName }}
      port: {{ .servicePort | default .port }}
      targetPort: {{ .portName }}
      protocol: TCP
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ .name }}
  labels:
    {{- include "opsc.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  # One pod at a time: works for one replica as for many, and never blocks a node drain.
  maxUnavailable: 1
  selector:
    matchLabels:
      {{- include "opsc.selectorLabels" $root | nindent 6 }}
      app.kubernetes.io/component: {{ .component }}
      {{- with .pool }}
      opsconductor.io/pool: {{ . }}
      {{- end }}
{{- end }}
