{{- define "dtask.scheduler" -}}{{ .Release.Name }}-dtask-scheduler{{- end -}}
{{- define "dtask.worker" -}}{{ .Release.Name }}-dtask-worker{{- end -}}
{{- define "dtask.secret" -}}
{{- if .Values.auth.token -}}{{ .Release.Name }}-dtask-auth{{- else -}}{{ .Values.auth.existingSecret }}{{- end -}}
{{- end -}}
{{- define "dtask.image" -}}{{ .Values.image.repository }}:{{ .Values.image.tag }}{{- end -}}
