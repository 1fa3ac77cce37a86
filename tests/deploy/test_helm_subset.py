"""The test-only Helm renderer agrees with Helm on the constructs the chart uses."""

from __future__ import annotations

import pytest

from .helm_subset import Scope, TemplateError, render

SCOPE = Scope(values={"name": "gw", "on": True, "off": False, "port": 80, "res": {"b": 2, "a": {"c": "x"}}},
              release={"Name": "prod", "Namespace": "ai"}, chart={"AppVersion": "0.1.0"})


@pytest.mark.parametrize(
    ("template", "rendered"),
    [
        ("name: {{ .Values.name }}-{{ .Release.Name }}", "name: gw-prod"),
        ("v: {{ .Chart.AppVersion | quote }}", 'v: "0.1.0"'),
        ("a: {{ .Values.on }} p: {{ .Values.port }}", "a: true p: 80"),
        ("spec:\n  {{- if .Values.on }}\n  x: 1\n  {{- end }}\n  y: 2", "spec:\n  x: 1\n  y: 2"),
        ("spec:\n  {{- if not .Values.on }}\n  x: 1\n  {{- end }}\n  y: 2", "spec:\n  y: 2"),
        ("r:\n  {{- toYaml .Values.res | nindent 2 }}\n", "r:\n  a:\n    c: x\n  b: 2\n"),
        ("{{- if .Values.off }}\nkind: A\n{{- end }}\n", "\n"),
    ],
)
def test_renders_like_helm(template: str, rendered: str) -> None:
    assert render(template, SCOPE) == rendered


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ .Values.missing }}", ".Values.missing is not set"),
        ("{{ include \"x\" . }}", "unsupported expression"),
        ("{{ .Values.name | upper }}", "unsupported pipe"),
        ("{{ if .Values.on }}x", "without {{ end }}"),
        ("{{ .Values.res }}", "without toYaml"),
    ],
)
def test_anything_outside_the_subset_is_an_error(template: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        render(template, SCOPE)
