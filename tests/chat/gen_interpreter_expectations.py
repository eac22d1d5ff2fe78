"""Prints the expected outputs of tests/chat/test_interpreter.cpp's cases, rendered by live
jinja2 3.1.6 in transformers' chat-template environment (.venv-peer). Paste the output into
the kCases table there. strftime_now is pinned to 2024-07-26 13:45.

usage: .venv-peer/bin/python tests/chat/gen_interpreter_expectations.py
"""
import datetime
import json

from transformers.utils.chat_template_utils import _compile_jinja_template

MSGS = [{"role": "system", "content": "S"}, {"role": "user", "content": "U1"},
        {"role": "assistant", "content": "A1"}, {"role": "user", "content": "U2", "name": "n"}]
D = {"b": [1, 2.5, None, True], "a": {"x": "é"}}
CASES = [
    ("{% if true %}\n  hello\n{% endif %}\n", {}),
    ("  {%- if true %} x {%+ if true %}y{% endif %}{% endif %}", {}),
    ("{# comment #}\n{{ 'a' }}  {#- c -#}  {{ 'b' }}", {}),
    ("a\n    {% if true %}\n    b\n    {% endif %}\n    {# c #}\nd", {}),
    ("x\n\n", {}),
    ("{{- ' a ' -}}  \n  {{ 'b' }} {{+ 'c' }}", {}),
    ("{% raw %}{{ x }}{% endraw %}", {}),
    ("{% for x in [1,2,3] %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}"
     "{{ loop.revindex }}{{ loop.revindex0 }}|{% endfor %}", {}),
    ("{% for x in 'abc' %}{{ loop.previtem|default('-') }}{{ x }}{{ loop.nextitem|default('-') }} {% endfor %}", {}),
    ("{% for x in [] %}x{% else %}empty{% endfor %}", {}),
    ("{% for x in range(10) if x is odd %}{{ x }}{% if loop.last %}.{% endif %}{% endfor %}", {}),
    ("{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}"
     "{{ x }}{% endfor %}", {}),
    ("{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{{ x }}{% endfor %}{{ x }}", {}),
    ("{% set ns = namespace(n=0) %}{% for i in [1,2,3] %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}", {}),
    ("{% set s %}Hello {{ name }}{% endset %}{{ s|upper }}", {"name": "x"}),
    ("{% set a, b = 1, 2 %}{{ a }}{{ b }}{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", {"d": {"b": 1, "a": 2}}),
    ("{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('A') }} {{ greet('B', punct='?') }}", {}),
    ("{% macro wrap() %}[{{ caller() }}]{% endmacro %}{% call wrap() %}inner{% endcall %}", {}),
    ("{{ [1, 'a', none, true, 1.5, {'k': 'v'}] }} {{ (1,) }} {{ 3/2 }} {{ 4/2 }} {{ 7//2 }} {{ -7//2 }} {{ 7%3 }}"
     " {{ -7 % 3 }} {{ 2**10 }} {{ 1e20 }} {{ 0.1+0.2 }} {{ 1e-5 }} {{ 1/3 }} {{ 2.0*3 }} {{ 1e16 }} {{ 1e15 }}"
     " {{ 123456789.123 }} {{ -1.5 }} {{ 1 + 1.0 }}", {}),
    ("{{ 'a' ~ 1 ~ none }} {{ 'abc'[::-1] }} {{ 'hello'[1:3] }} {{ [1,2,3,4][::2] }} {{ 'x' * 3 }} {{ 'héllo'[1] }}"
     " {{ [1,2,3][-1] }} {{ [1,2,3][5:] }}", {}),
    ("{{ '  hi  '.strip() }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'Hello'.startswith('He') }}|"
     "{{ 'Hello'.endswith(('x','lo')) }}|{{ 'hello world'.title() }}|{{ 'ABC'.lower() }}|{{ 'a-b'.replace('-', '+') }}|"
     "{{ '\\n\\nx\\n'.lstrip('\\n') }}|{{ 'xxhixx'.strip('x') }}|{{ 'a b c'.split(' ', 1) }}|{{ 'abc'.upper() }}|"
     "{{ 'x</think>y'.split('</think>')[-1] }}|{{ '-'.join(['a','b']) }}|{{ 'abcabc'.count('b') }}|{{ 'abc'.find('c') }}", {}),
    ("{{ d.get('a') }} {{ d.get('z', 'dflt') }} {{ d.get('z') }} {{ d.keys()|list }} {{ d.values()|list }} {{ d['a'] }}"
     " {{ d.a }} {{ d.items()|list }} {{ 'a' in d }}", {"d": {"a": 1, "b": "two"}}),
    ("{{ '  x '|trim }}|{{ [3,1,2]|sort }}|{{ ['b','A','c']|sort }}|{{ [1,2,2,3]|unique|list }}|{{ [1,2,3]|reverse|list }}|"
     "{{ 'abc'|reverse }}|{{ [1,2,3]|first }}|{{ [1,2,3]|last }}|{{ [1,2,3]|length }}|{{ 'héllo'|length }}|{{ -3|abs }}|"
     "{{ 2.5|round }}|{{ 3.14159|round(2) }}|{{ 2.7|int }}|{{ '42'|int }}|{{ 'x'|int }}|{{ '1.5'|float }}|{{ [3,1,2]|sort(reverse=true) }}|"
     "{{ msgs|sort(attribute='content')|map(attribute='content')|join(',') }}|{{ 7|round }}|{{ 2.675|round(2) }}", {"msgs": MSGS}),
    ("{{ msgs|selectattr('role','equalto','user')|map(attribute='content')|join(', ') }}|"
     "{{ msgs|rejectattr('role','eq','user')|list|length }}|{{ msgs|map(attribute='role')|unique|join }}|"
     "{{ msgs|selectattr('name','defined')|list|length }}|{{ msgs|selectattr('name')|map(attribute='name')|first }}|"
     "{{ [0,1,2]|select|list }}|{{ [0,1,2]|reject('odd')|list }}|{{ ['a','b']|map('upper')|list }}|"
     "{{ msgs|map(attribute='missing', default='?')|join }}", {"msgs": MSGS}),
    ("{{ d|tojson }}|{{ d|tojson(indent=2) }}|{{ d|tojson(sort_keys=true) }}|{{ d|tojson(separators=(',', ':')) }}|"
     "{{ 'é\"<\\n'|tojson }}|{{ 'é😀'|tojson(ensure_ascii=true) }}|{{ [] |tojson(indent=2) }}|{{ 1.0|tojson }}", {"d": D}),
    ("{{ x is defined }}{{ y is undefined }}{{ none is none }}{{ 'a' is string }}{{ {} is mapping }}{{ [] is iterable }}"
     "{{ [] is sequence }}{{ 1 is number }}{{ true is number }}{{ true is boolean }}{{ 1 is boolean }}{{ 3 is odd }}"
     "{{ 4 is even }}{{ 1 in [1,2] }}{{ 'a' is in 'abc' }}{{ 2 is equalto 2 }}{{ false is false }}{{ 1 is true }}"
     "{{ 1.0 is float }}{{ 1 is integer }}{{ y is iterable }}{{ 'ab' is lower }}{{ 6 is divisibleby 3 }}{{ x is not none }}", {"x": 1}),
    ("{{ 'y' if x else 'n' }}|{{ 'y' if nope }}|{{ nope }}|{{ nope|default('d') }}|{{ ''|default('d', true) }}|"
     "{{ nope is defined }}|{{ (nope or 'alt') }}|{{ nope|length }}|{{ nope|list }}|{{ nope|trim }}|{{ d.nokey }}|"
     "{% for x in nope %}never{% endfor %}|{{ nope == nope }}|{{ 'x' in nope }}", {"x": 0, "d": {}}),
    ("{{ 1 < 2 < 3 }}{{ 1 < 3 < 2 }}{{ not 1 == 2 }}{{ 'a' not in 'bcd' }}{{ [1] == [1] }}{{ {'a':1} == {'a':1} }}"
     "{{ 1 == 1.0 }}{{ true == 1 }}{{ none == none }}{{ 0 or '' or 'x' }}{{ 1 and 0 }}{{ -2 ** 2 }}{{ 2 * 3 + 4 }}"
     "{{ (2 + 3) ~ 4 }}{{ (1, 2) < (1, 3) }}", {}),
    ("{{ 'tab\\there' }}|{{ \"q'uote\" }}|{{ 'uni\\u00e9' }}|{{ 'a' 'b' }}|{{ [\"it's\", 'say \"hi\"', 'nl\\n', 'é'] }}|"
     "{{ {'a': [1, {'b': none}]} }}|{{ ('x', 1) }}", {}),
    ("{{ msgs[-1].content }}|{{ msgs[1:]|length }}|{{ msgs[::-1][0].role }}|{% for k in d %}{{ k }}{% endfor %}|"
     "{{ msgs[0]['role'] }}|{{ msgs.0.role }}", {"msgs": MSGS, "d": {"z": 1, "y": 2}}),
    ("{{ 'a b  c'|wordcount }}|{{ [1,2,3,4,5]|batch(2)|list }}|{{ 'line1\\nline2'|indent(2) }}|"
     "{{ 'line1\\nline2'|indent(2, true) }}|{{ 'hello WORLD'|capitalize }}|{{ 'hello world-foo'|title }}|"
     "{{ {'b':1,'a':2}|dictsort }}|{{ {'a':1}|items|list }}|{{ 5|string ~ 'x' }}|{{ [1,2]|sum }}|{{ [3,1]|min }}|"
     "{{ [3,1]|max }}|{{ 'x'|safe }}|{{ 'a<b'|e }}|{{ ['x', 'y']|join('-') }}|{{ 'ab'|upper }}|{{ 'aXa'|replace('a', 'b') }}", {}),
    ("{% filter upper %}abc{% endfilter %}{% generation %}gen{% endgeneration %}!{{ strftime_now('%Y-%m-%d %H:%M') }}", {}),
    ("{% set l = [1] %}{{ (l + [2])|length }}{{ range(3)|list }}{{ range(1, 7, 2)|list }}{{ dict(a=1) }}"
     "{{ namespace(a=1).a }}{% set n = namespace(d) %}{{ n.k }}", {"d": {"k": "v"}}),
    ("{{ x.content is string and x.content.startswith('<tool_response>') }}|{{ x['content'] | trim }}|"
     "{{ (x.content ~ '!')|length }}", {"x": {"content": " <tool_response>ok</tool_response> "}}),
    # errors: the class and str(exception) jinja2 raises
    ("{{ nope.attr }}", {}),
    ("{{ d.missing.x }}", {"d": {}}),
    ("line1\n{{ raise_exception('boom') }}", {}),
    ("{% set l = [1] %}{{ l.append(2) }}", {}),
    ("{{ 'a' + 1 }}", {}),
    ("{{ 1 + nope }}", {}),
    ("{{ nope|tojson }}", {}),
    ("{% for a, b in [[1]] %}{% endfor %}", {}),
    ("{{ none.x }}", {}),
    ("{{ [1][3].x }}", {}),
    ("{{ 1 / 0 }}", {}),
    ("{{ 2 + 3 ~ 4 }}", {}),
    ("{{ 'x'|nofilter }}", {}),
    ("{% if x %}unclosed", {}),
]


def main():
    clock = datetime.datetime(2024, 7, 26, 13, 45)
    rows = []
    for src, ctx in CASES:
        row = {"template": src, "context": ctx, "output": None, "error_type": None, "error": None}
        try:
            t = _compile_jinja_template(src)
            row["output"] = t.render(**ctx, strftime_now=lambda f: clock.strftime(f))
        except Exception as e:
            row["error_type"] = type(e).__name__
            row["error"] = str(e)
        rows.append(row)
    print(json.dumps(rows, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
