"""The HTML templates (Jinja2, autoescaped) and their one stylesheet.

Kept as strings in this module, not as files beside it, so they ship in every wheel without
package-data configuration. Nothing here loads from the network: no CDN, no web font, no script.
"""

from __future__ import annotations

from functools import cache
from typing import Any

__all__ = ["CSS", "render"]

CSS = """
.gc { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1d2330;
      max-width: 1100px; }
.gc h1 { font-size: 1.45em; margin: .2em 0 .4em; }
.gc h2 { font-size: 1.15em; margin: 1.4em 0 .5em; border-bottom: 1px solid #dde1ea; padding-bottom: .2em; }
.gc h3 { font-size: 1em; margin: 1em 0 .3em; }
.gc .verdict { display: inline-block; padding: .05em .55em; border-radius: 4px; color: #fff; font-weight: 700;
               letter-spacing: .04em; margin-right: .4em; }
.gc .pass { background: #1f7a3a; } .gc .fail { background: #b3261e; }
.gc .muted { color: #5b6475; } .gc .warn { color: #8a5a00; }
.gc table { border-collapse: collapse; margin: .3em 0 .8em; }
.gc th, .gc td { padding: .22em .7em; border-bottom: 1px solid #e6e9f0; text-align: left; vertical-align: top; }
.gc th { background: #f3f5f9; font-weight: 600; }
.gc td.num, .gc th.num { text-align: right; font-variant-numeric: tabular-nums; }
.gc td.mark { text-align: center; }
.gc .ok { color: #1f7a3a; } .gc .bad { color: #b3261e; font-weight: 700; } .gc .none { color: #9aa1ae; }
.gc .problem { border-left: 4px solid #b3261e; padding: .3em .8em; margin: .7em 0; background: #fcf5f4; }
.gc .problem p { margin: .25em 0; }
.gc code, .gc pre { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .92em; }
.gc pre { background: #f3f5f9; padding: .4em .6em; white-space: pre-wrap; overflow-wrap: anywhere; margin: .3em 0; }
.gc .pictures { display: flex; flex-wrap: wrap; gap: 14px; }
.gc figure { margin: 0; border: 1px solid #e6e9f0; padding: 6px; background: #fff; }
.gc figcaption { font-size: .88em; color: #5b6475; max-width: 420px; }
.gc .barcell { width: 220px; }
.gc .bar { background: #dfe6f3; height: .9em; border-radius: 2px; }
.gc .bar > span { display: block; height: 100%; background: #3d6fb6; border-radius: 2px; }
.gc svg text { font: 11px system-ui, sans-serif; fill: #1d2330; }
.gc .stats span { margin-right: 1.4em; }
"""

_PAGE = """{% if standalone %}<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gradcheck: {{ page.target }}</title>
<style>{{ css | safe }}</style></head><body>{% else %}<style>{{ css | safe }}</style>{% endif %}
<div class="gc" data-verdict="{{ 'pass' if page.passed else 'fail' }}">
<h1><span class="verdict {{ 'pass' if page.passed else 'fail' }}">{{ 'PASS' if page.passed else 'FAIL' }}</span>
<code>{{ page.target }}</code></h1>
<p class="muted">{{ page.headline }}</p>
{% for w in page.warnings %}<p class="warn">warning: {{ w }}</p>{% endfor %}
{% if page.rows %}
<h2>Per layer and parameter</h2>
<table class="layers"><thead><tr><th class="num">layer</th><th>param</th>
{% for c in page.checks %}<th>{{ c }}</th>{% endfor %}<th class="num">max abs error</th></tr></thead><tbody>
{% for r in page.rows %}<tr data-layer="{{ r.layer }}" data-param="{{ r.param }}">
<td class="num">{{ r.layer }}</td><td>{{ r.param }}</td>
{% for m in r.marks %}<td class="mark">{% if m == 'ok' %}<span class="ok" title="passed">✓</span>
{%- elif m == 'FAIL' %}<span class="bad" title="failed">✗</span>{% else %}<span class="none" title="not run">·</span>
{%- endif %}</td>{% endfor %}
<td class="num">{{ '%.1e' % r.max_abs_error if r.max_abs_error is not none else '–' }}</td></tr>
{% endfor %}</tbody></table>
<p class="muted">max abs error: the largest error against autograd over all cases.</p>
{% endif %}
{% if page.roots %}<h2>Diagnosis</h2>
{% for p in page.roots %}<div class="problem" data-diagnosis="{{ p.diagnosis or '' }}">
<p><strong>✗ {{ p.title }}</strong>: {{ p.message }}</p>
{% if p.diagnosis %}<p>likely bug: <strong>{{ p.diagnosis }}</strong>
{%- if p.confidence is not none %} ({{ '%.0f' % (100 * p.confidence) }}%){% endif %}
{%- if p.hint %}: {{ p.hint }}{% endif %}</p>
{% elif p.hint %}<p>hint: {{ p.hint }}</p>{% endif %}
{% if p.case %}<p class="muted">smallest failing network: {{ p.case }}</p>{% endif %}
{% if p.reproduce %}<pre>{{ p.reproduce }}</pre>{% endif %}
</div>{% endfor %}{% endif %}
{% if page.echoes %}<h3>{{ page.echoes | length }} more failure(s), explained above</h3><ul>
{% for p in page.echoes %}<li>{{ p.title }}{% if p.case %} in {{ p.case }}{% endif %}: {{ p.explained_by }}</li>
{% endfor %}
</ul>{% endif %}
{% if page.pictures %}<h2>Returned against true gradient</h2>
<p class="muted">Each cell is one entry's signed relative error (returned − true) / true: white is right, red too
large, blue too small; the boxed cell is the worst entry.</p>
<div class="pictures">{% for pic in page.pictures %}
<figure class="heatmap" data-layer="{{ pic.layer }}" data-param="{{ pic.param }}"
 data-worst="{{ pic.worst | join(',') }}">
{% if pic.src %}<img src="{{ pic.src }}" alt="heatmap of {{ pic.label }}">
{% else %}<p class="warn">{{ pic.missing }}</p>{% endif %}
<figcaption>{{ pic.label }}; worst entry {{ pic.worst }}</figcaption></figure>{% endfor %}</div>{% endif %}
{% for note in page.inconclusive %}<p class="warn">inconclusive (not blamed on the implementation): {{ note }}</p>
{% endfor %}
</div>
{% if standalone %}</body></html>{% endif %}
"""

_CLASS = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gradcheck class report: {{ s.rubric }}</title>
<style>{{ css | safe }}</style></head><body><div class="gc">
<h1>Class report: {{ s.rubric }}</h1>
<p class="stats"><span><strong id="n-submissions">{{ s.submissions }}</strong> submission(s)</span>
<span>mean {{ '%.2f' % s.scores.mean if s.scores.mean is not none else '–' }}
 / {{ '%g' % s.max_score }}</span>
<span>median {{ '%.2f' % s.scores.median if s.scores.median is not none else '–' }}</span>
<span>full marks: {{ s.scores.full_marks }}</span>
<span>grading time {{ s.seconds.total }} s</span></p>
{% if s.errors %}<p class="warn">{{ s.errors | length }} submission(s) hit an internal error and were not graded:
{{ s.errors | list | join(', ') }}</p>{% endif %}

<h2>Scores</h2>
<svg role="img" aria-label="histogram of scores" width="{{ chart.width }}" height="{{ chart.height }}"
 viewBox="0 0 {{ chart.width }} {{ chart.height }}">
{% for b in chart.bars %}<g class="bin" data-count="{{ b.count }}">
<rect x="{{ b.x }}" y="{{ chart.axis - b.height }}" width="44" height="{{ b.height }}" fill="#3d6fb6"></rect>
<text x="{{ b.x + 22 }}" y="{{ chart.axis - b.height - 3 }}" text-anchor="middle">
{{- b.count if b.count else '' }}</text>
<text x="{{ b.x + 22 }}" y="{{ chart.axis + 14 }}" text-anchor="middle">{{ b.label }}</text></g>{% endfor %}
<line x1="0" x2="{{ chart.width }}" y1="{{ chart.axis }}" y2="{{ chart.axis }}" stroke="#5b6475"></line>
<text x="{{ chart.width / 2 }}" y="{{ chart.axis + 32 }}" text-anchor="middle">
points (the number above a bar: its submissions)</text>
</svg>

<h2>Pass rate per rubric test</h2>
<table id="tests"><thead><tr><th>test</th><th class="num">points</th><th class="num">passed</th><th></th></tr></thead>
<tbody>{% for t in s.tests %}<tr><td>{{ t.name }}</td><td class="num">{{ '%g' % t.max_score }}</td>
<td class="num">{{ t.passed }} / {{ t.total }}</td>
<td class="barcell"><div class="bar"><span style="width: {{ '%.1f' % (100 * t.pass_rate) }}%"></span></div></td></tr>
{% endfor %}</tbody></table>

<h2>Diagnoses</h2>
{% if s.diagnoses %}<table id="diagnoses"><thead><tr><th>likely bug</th><th class="num">students</th><th>who</th></tr>
</thead><tbody>{% for d in s.diagnoses %}<tr data-diagnosis="{{ d.id }}"><td><code>{{ d.id }}</code></td>
<td class="num count">{{ d.count }}</td>
<td>{% for name in d.submissions %}{% set link = s.rows | selectattr("submission", "equalto", name)
  | map(attribute="feedback") | first %}<a href="{{ link or (name | urlencode) ~ '/feedback.md' }}">{{ name }}</a>
{{- ', ' if not loop.last }}
{%- endfor %}</td></tr>{% endfor %}</tbody></table>
{% else %}<p class="muted" id="diagnoses-none">No submission has a diagnosed bug.</p>{% endif %}

<h2>Submissions</h2>
<table id="submissions"><thead><tr><th>submission</th><th class="num">score</th><th>likely bugs</th>
<th class="num">seconds</th><th></th></tr></thead><tbody>
{% for r in s.rows %}<tr><td><a href="{{ r.feedback }}">{{ r.submission }}</a></td>
<td class="num">{{ '%.4g' % r.score }} / {{ '%g' % r.max_score }}</td>
<td>{% for d in r.diagnoses %}<code>{{ d }}</code>{{ ' ' if not loop.last }}{% endfor %}</td>
<td class="num">{{ '%.1f' % r.seconds }}</td>
<td class="barcell"><div class="bar"><span style="width: {{ '%.1f' % (100 * r.seconds / slowest) }}%"></span>
</div></td></tr>{% endfor %}</tbody></table>

<h2>Isolation</h2>
{% if s.isolation_lines %}<ul>{% for line in s.isolation_lines %}<li>{{ line }}</li>{% endfor %}</ul>
{% else %}<p class="muted">not recorded</p>{% endif %}
<p class="muted">gradcheck {{ s.gradcheck_version }}; the same numbers are in summary.json.</p>
</div></body></html>
"""

_VISIBLE = """<style>{{ css | safe }}</style>
<div class="gc visible-tests" data-points="{{ '%g' % got }}" data-max="{{ '%g' % top }}">
<h2>{{ rubric_name }}: {{ '%g' % got }} / {{ '%g' % top }} in the visible tests</h2>
<table><thead><tr><th></th><th>test</th><th class="num">points</th></tr></thead><tbody>
{% for t in tests %}<tr data-test="{{ t.number }}" data-ok="{{ 'true' if t.ok else 'false' }}">
<td>{% if t.ok %}<span class="ok">✓</span>{% else %}<span class="bad">✗</span>{% endif %}</td>
<td>{{ t.number }} {{ t.name }}
{% for line in t.lines %}<pre>{{ line }}</pre>{% endfor %}
{% if t.pictures %}<div class="pictures">{% for pic in t.pictures %}<figure class="heatmap" data-layer="{{ pic.layer }}"
 data-param="{{ pic.param }}">{% if pic.src %}<img src="{{ pic.src }}" alt="heatmap of {{ pic.label }}">
{% else %}<p class="warn">{{ pic.missing }}</p>{% endif %}<figcaption>{{ pic.label }}</figcaption></figure>
{% endfor %}</div>{% endif %}</td>
<td class="num">{{ '%g' % t.score }} / {{ '%g' % t.max_score }}</td></tr>{% endfor %}
</tbody></table></div>
"""

_TEMPLATES = {"page.html": _PAGE, "class.html": _CLASS, "visible.html": _VISIBLE}


@cache
def _environment() -> Any:
    from jinja2 import DictLoader, Environment, StrictUndefined

    return Environment(
        loader=DictLoader(_TEMPLATES), autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )


def render(name: str, /, **values: Any) -> str:
    """Render template ``name`` (``page.html``, ``class.html``, ``visible.html``) with the stylesheet."""
    if name not in _TEMPLATES:
        raise ValueError(f"name={name!r} is not one of {', '.join(_TEMPLATES)}")
    return _environment().get_template(name).render(css=CSS, **values)
