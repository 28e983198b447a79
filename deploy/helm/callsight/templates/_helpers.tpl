{{/* Names ------------------------------------------------------------------ */}}

{{- define "callsight.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-qualified name; component suffixes ("-upload", ...) must still fit in 63 characters. */}}
{{- define "callsight.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "callsight.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels: call with (dict "root" $ "component" "upload") ------------------ */}}

{{- define "callsight.selectorLabels" -}}
app.kubernetes.io/name: {{ include "callsight.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "callsight.labels" -}}
helm.sh/chart: {{ include "callsight.chart" .root }}
{{ include "callsight.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: callsight
{{- end }}

{{/* Images: (dict "root" $ "image" .Values.upload.image) --------------------- */}}

{{- define "callsight.image" -}}
{{- $registry := .root.Values.image.registry -}}
{{- $repository := .image.repository -}}
{{- if $registry }}{{ $repository = printf "%s/%s" (trimSuffix "/" $registry) $repository }}{{ end -}}
{{- $tag := .image.tag | default .root.Chart.AppVersion | toString -}}
{{- if .image.digest -}}
{{- printf "%s:%s@%s" $repository $tag .image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repository $tag -}}
{{- end -}}
{{- end }}

{{/* ServiceAccount name: (dict "root" $ "component" "upload"); a component whose values
key differs from its name passes them: (dict ... "component" "analysis-worker" "values" ...) */}}

{{- define "callsight.serviceAccountName" -}}
{{- $sa := (.values | default (index .root.Values .component)).serviceAccount -}}
{{- if $sa.create -}}
{{- default (printf "%s-%s" (include "callsight.fullname" .root) .component) $sa.name -}}
{{- else -}}
{{- default "default" $sa.name -}}
{{- end -}}
{{- end }}

{{/* Configuration ------------------------------------------------------------ */}}

{{- define "callsight.configMapName" -}}
{{- printf "%s-config" (include "callsight.fullname" .) -}}
{{- end }}

{{- define "callsight.secretName" -}}
{{- if .Values.secrets.existingSecret -}}
{{- .Values.secrets.existingSecret -}}
{{- else -}}
{{- printf "%s-secrets" (include "callsight.fullname" .) -}}
{{- end -}}
{{- end }}

{{/* host:port of the status gRPC service, for the gateway. */}}
{{- define "callsight.statusAddr" -}}
{{- printf "%s-status.%s.svc:%v" (include "callsight.fullname" .) .Release.Namespace .Values.status.service.port -}}
{{- end }}

{{/* A value that may hold template expressions (values-dev.yaml uses them for Service names). */}}
{{- define "callsight.tpl" -}}
{{- tpl (toString .value) .root -}}
{{- end }}

{{- define "callsight.sqsQueueUrl" -}}
{{- $url := required "config.sqs.queueUrl is required (the SQS job queue URL)" .Values.config.sqs.queueUrl -}}
{{- include "callsight.tpl" (dict "root" . "value" $url) -}}
{{- end }}

{{- define "callsight.analysisQueueUrl" -}}
{{- $url := required "config.sqs.analysisQueueUrl is required (the SQS analysis queue URL)" .Values.config.sqs.analysisQueueUrl -}}
{{- include "callsight.tpl" (dict "root" . "value" $url) -}}
{{- end }}

{{- define "callsight.sqsEndpointUrl" -}}
{{- include "callsight.tpl" (dict "root" . "value" .Values.config.sqs.endpointUrl) -}}
{{- end }}

{{/* The worker's grace period: the longest job plus a margin (see values.yaml). */}}
{{- define "callsight.workerTerminationGracePeriodSeconds" -}}
{{- add (int .Values.config.maxJobSeconds) (int .Values.worker.terminationGraceMarginSeconds) -}}
{{- end }}

{{/* Environment shared by every service container: the ConfigMap and the Secret. */}}
{{- define "callsight.envFrom" -}}
- configMapRef:
    name: {{ include "callsight.configMapName" . }}
- secretRef:
    name: {{ include "callsight.secretName" . }}
{{- end }}

{{/* Restarts pods when chart-managed configuration changes. */}}
{{- define "callsight.configChecksums" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- if not .Values.secrets.existingSecret }}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}
{{- end }}

{{/* Pod-level pieces: (dict "root" $ "component" "upload") --------------------- */}}

{{- define "callsight.podSecurityContext" -}}
{{- toYaml .Values.podSecurityContext }}
{{- end }}

{{- define "callsight.containerSecurityContext" -}}
{{- toYaml .Values.containerSecurityContext }}
{{- end }}

{{/* Spread replicas over zones and nodes unless the values give their own constraints. */}}
{{- define "callsight.topologySpreadConstraints" -}}
{{- $values := .values | default (index .root.Values .component) -}}
{{- if $values.topologySpreadConstraints }}
{{- toYaml $values.topologySpreadConstraints }}
{{- else }}
- maxSkew: 1
  topologyKey: topology.kubernetes.io/zone
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels:
      {{- include "callsight.selectorLabels" . | nindent 6 }}
- maxSkew: 1
  topologyKey: kubernetes.io/hostname
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels:
      {{- include "callsight.selectorLabels" . | nindent 6 }}
{{- end }}
{{- end }}

{{/* nodeSelector, tolerations, affinity of a component. */}}
{{- define "callsight.scheduling" -}}
{{- $values := .values | default (index .root.Values .component) -}}
{{- with $values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{- define "callsight.imagePullSecrets" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Pod labels: selector labels plus the user's. */}}
{{- define "callsight.podLabels" -}}
{{ include "callsight.labels" . }}
{{- with .root.Values.podLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* /tmp is the only writable path (read-only root filesystem). */}}
{{- define "callsight.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .sizeLimit }}
{{- end }}

{{- define "callsight.tmpVolumeMount" -}}
- name: tmp
  mountPath: /tmp
{{- end }}

{{/* Dev stand-ins (devDependencies): (dict "root" $ "component" "postgresql") */}}
{{- define "callsight.devLabels" -}}
helm.sh/chart: {{ include "callsight.chart" .root }}
{{ include "callsight.selectorLabels" . }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: callsight-dev
{{- end }}

{{/* The restricted security context with the stand-in image's own user. */}}
{{- define "callsight.devContainerSecurityContext" -}}
{{- toYaml (merge (dict "runAsUser" .uid "runAsGroup" .uid) (omit .root.Values.containerSecurityContext "runAsUser" "runAsGroup")) }}
{{- end }}

{{- define "callsight.devPodSecurityContext" -}}
{{- toYaml (merge (dict "runAsUser" .uid "runAsGroup" .uid "fsGroup" .uid) (omit .root.Values.podSecurityContext "runAsUser" "runAsGroup" "fsGroup")) }}
{{- end }}

{{/* ServiceAccount for hook Jobs, which may run before the chart's own ServiceAccounts exist. */}}
{{- define "callsight.hookServiceAccountName" -}}
{{- printf "%s-hooks" (include "callsight.fullname" .) -}}
{{- end }}

{{/* ServiceAccount of the dev stand-ins and the dev Jobs. */}}
{{- define "callsight.devServiceAccountName" -}}
{{- printf "%s-dev" (include "callsight.fullname" .) -}}
{{- end }}
