import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Environment, tokenize } from '@huggingface/jinja';
import { ValidationError } from '../../src/domain/errors.js';
import {
  checkTemplate,
  compileTemplate,
  groupKey,
  TemplateRenderError,
  type CodeLookup,
  type TemplateProblem,
  type TemplateSource,
} from '../../src/domain/template.js';
import { locateTokens, type Token } from '../../src/domain/template-scan.js';

function lookup(initial: Record<string, string> = {}, repeat: Record<string, string | null> = {}): CodeLookup {
  return { initial: new Map(Object.entries(initial)), repeat: new Map(Object.entries(repeat)) };
}

const NO_CODES = lookup();

function render(body: string, attributes: Record<string, unknown> = {}, codes = NO_CODES, id = 'c-1'): string {
  return compileTemplate({ body }).render({ id, attributes }, codes).body;
}

function problemOf(template: TemplateSource): TemplateProblem {
  const check = checkTemplate(template);
  if (check.valid) throw new Error(`expected ${JSON.stringify(template)} to be rejected`);
  return check.error;
}

describe('groupKey', () => {
  it('trims and lowercases', () => {
    expect(groupKey('  Summer Sale ')).toBe('summer sale');
  });
});

describe('checkTemplate: group discovery', () => {
  it('finds initial and repeat groups in order of first appearance, subject first', () => {
    const check = checkTemplate({
      subject: "{{ client.promocode('Gift') }} for you",
      body: "Hi! {{ client.last_promocode('Old') }} {{ client.promocode('Summer') }} {{ client.promocode('Gift') }}",
    });
    expect(check).toEqual({ valid: true, groups: { initial: ['Gift', 'Summer'], repeat: ['Old'] } });
  });

  it('dedupes case-insensitively after trimming; the first spelling wins', () => {
    const check = checkTemplate({
      body: "{{ client.promocode(' Summer Sale ') }}{{ client.promocode('summer sale') }}{{ client.promocode('SUMMER SALE') }}",
    });
    expect(check.groups).toEqual({ initial: ['Summer Sale'], repeat: [] });
  });

  it('keeps the same name apart as initial and repeat', () => {
    const check = checkTemplate({ body: "{{ client.promocode('A') }}{{ client.last_promocode('a') }}" });
    expect(check.groups).toEqual({ initial: ['A'], repeat: ['a'] });
  });

  it('finds groups inside branches, loops, macros, filters and inline ifs', () => {
    const body = [
      "{% if client.vip %}{{ client.promocode('Vip') }}{% elif client.new %}{{ client.promocode('New') }}",
      "{% else %}{{ client.last_promocode('Back') }}{% endif %}",
      "{% for t in client.tags %}{{ client.promocode('Loop') }}{% endfor %}",
      "{% macro code() %}{{ client.promocode('Macro') }}{% endmacro %}",
      "{{ client.promocode('Filtered') | upper }}",
      "{{ client.promocode('Then') if client.x else client.promocode('Else') }}",
      "{% set saved = client.last_promocode('Set') %}",
    ].join('\n');
    expect(checkTemplate({ body }).groups).toEqual({
      initial: ['Vip', 'New', 'Loop', 'Macro', 'Filtered', 'Then', 'Else'],
      repeat: ['Back', 'Set'],
    });
  });

  it('reports no groups for a template without macros', () => {
    expect(checkTemplate({ subject: 'Hello', body: 'Hi {{ client.first_name }}' })).toEqual({
      valid: true,
      groups: { initial: [], repeat: [] },
    });
  });

  it('accepts adjacent string literals as one name, as Jinja does', () => {
    expect(checkTemplate({ body: "{{ client.promocode('Sum' 'mer') }}" }).groups.initial).toEqual(['Summer']);
  });
});

describe('checkTemplate: macro misuse', () => {
  // [description, body, line, column, message pattern]
  const cases: [string, string, number, number, RegExp][] = [
    ['non-literal argument', "a\nb\n  {{ client.promocode(client.group) }}", 3, 6, /must be a quoted string/],
    ['concatenated argument', "{{ client.last_promocode('A' ~ 'B') }}", 1, 4, /client\.last_promocode\(\.\.\.\) must be a quoted string/],
    ['keyword argument', "{{ client.promocode(group='A') }}", 1, 4, /must be a quoted string/],
    ['no argument', 'x {{ client.promocode() }}', 1, 6, /exactly one argument.*got 0/],
    ['two arguments', "{{ client.promocode('A', 'B') }}", 1, 4, /exactly one argument.*got 2/],
    ['empty name', "{{ client.promocode('  ') }}", 1, 4, /is empty/],
    ['not called', 'Hi {{ client.promocode }}', 1, 7, /must be called with a group name/],
    ['stored instead of called', '{% set f = client.last_promocode %}{{ f }}', 1, 12, /client\.last_promocode must be called/],
    ['prototype walk on the macro', '{{ client.promocode.constructor }}', 1, 4, /must be called/],
    ['called on something else', "{{ user.promocode('A') }}", 1, 9, /only exists on client/],
    ['called on a call result', "{{ client.promocode('A').last_promocode('B') }}", 1, 26, /only exists on client/],
  ];
  it.each(cases)('%s', (_, body, line, column, message) => {
    const error = problemOf({ body });
    expect(error).toMatchObject({ field: 'body', line, column });
    expect(error.message).toMatch(message);
  });

  it('reports the first misuse in source order and still lists the valid groups', () => {
    const check = checkTemplate({
      body: "{{ client.promocode('Ok') }}\n{{ client.promocode(x) }}\n{{ client.promocode() }}\n{{ client.last_promocode('R') }}",
    });
    expect(check.valid).toBe(false);
    if (check.valid) return;
    expect(check.error).toMatchObject({ field: 'body', line: 2, column: 4 });
    expect(check.groups).toEqual({ initial: ['Ok'], repeat: ['R'] });
  });
});

describe('checkTemplate: syntax errors', () => {
  // [description, body, line, column, message pattern]
  const cases: [string, string, number, number, RegExp][] = [
    ['unclosed {{ at the end', 'Dear customer,\n\nyour code: {{', 3, 12, /never closed with \}\}/],
    ['unclosed {{ with a name', 'one\ntwo\nthree {{ client.first_name', 3, 7, /never closed with \}\}/],
    ['unclosed {{ before more text', 'one\ntwo\n{{ client.first_name\nfour', 3, 1, /never closed with \}\}/],
    ['unclosed {{ in a call', "{{ client.promocode('A'", 1, 1, /never closed/],
    ['unknown tag', 'a\nb\n{% frobnicate %}', 3, 4, /unknown tag "frobnicate"/],
    ['unclosed if', 'a\n  {% if client.vip %}\nVIP', 2, 3, /\{% if %\} is never closed with \{% endif %\}/],
    ['innermost unclosed block', '{% if a %}\n{% for x in y %}\n', 2, 1, /\{% for %\} is never closed/],
    ['mismatched end tag', '{% for x in y %}\n{% endif %}', 2, 4, /unknown tag "endif"/],
    ['two expressions in one tag', 'x\n\n{{ a b }}', 3, 6, /expected "\}\}", found "b"/],
    ['dangling filter pipe', '{{ client.name | }}', 1, 18, /unexpected "\}\}"/],
    ['unclosed string', "a\n{{ 'abc }}", 2, 4, /string is never closed/],
    ['unclosed comment', 'a {# note', 1, 3, /comment is never closed/],
    ['bad character', '{{ client.name @ }}', 1, 16, /unexpected character "@"/],
    ['bad escape', "{{ 'a\\qb' }}", 1, 6, /unknown escape sequence \\q/],
    ['transformers generation tag', 'x {% generation %}', 1, 3, /unknown tag "generation"/],
  ];
  it.each(cases)('%s', (_, body, line, column, message) => {
    const error = problemOf({ body });
    expect(error).toMatchObject({ field: 'body', line, column });
    expect(error.message).toMatch(message);
  });

  it('reports errors in the subject with the subject as field', () => {
    expect(problemOf({ subject: 'Hi {{ client.name', body: 'ok' })).toMatchObject({ field: 'subject', line: 1, column: 4 });
  });

  it('reports the subject before the body, and the body when only it is wrong', () => {
    expect(problemOf({ subject: '{% x %}', body: '{{' }).field).toBe('subject');
    expect(problemOf({ subject: 'fine', body: 'a\n{{' })).toMatchObject({ field: 'body', line: 2, column: 1 });
  });

  it('still lists the groups of a field that parses', () => {
    const check = checkTemplate({ subject: "{{ client.promocode('S') }}", body: "{{ client.promocode('B') " });
    expect(check).toMatchObject({ valid: false, groups: { initial: ['S'], repeat: [] } });
  });

  it('accepts whitespace control, comments, macros, call blocks and namespaces', () => {
    const body = [
      '{#- a comment -#}',
      '{%- set ns = namespace(n=0) -%}',
      '{% macro greet(name) %}Hi {{ name }}{{ caller() }}{% endmacro %}',
      "{% call greet(client.first_name) %}!{% endcall %}",
      '{{- client.id -}}',
    ].join('\n');
    expect(checkTemplate({ body }).valid).toBe(true);
  });
});

describe('compileTemplate', () => {
  it('throws a ValidationError naming the field, line and column', () => {
    let caught: unknown;
    try {
      compileTemplate({ subject: 'ok', body: 'a\nb\n{{ client.promocode(x) }}' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    const errors = (caught as ValidationError).errors;
    expect(errors).toEqual([{ path: 'template.body', message: expect.stringMatching(/^line 3, column 4: /) as string }]);
  });

  it('lists one error per broken field', () => {
    try {
      compileTemplate({ subject: '{{', body: '{% nope %}' });
      expect.unreachable();
    } catch (err) {
      expect((err as ValidationError).errors.map((e) => e.path)).toEqual(['template.subject', 'template.body']);
    }
  });

  it('exposes the groups', () => {
    const compiled = compileTemplate({ subject: "{{ client.promocode('A') }}", body: "{{ client.last_promocode('B') }}" });
    expect(compiled.groups).toEqual({ initial: ['A'], repeat: ['B'] });
  });
});

describe('render: attributes', () => {
  it('renders attributes, nested attributes and the id', () => {
    const out = render('Hi {{ client.first_name }} from {{ client.address.city }} ({{ client.id }}), {{ client.age }}', {
      first_name: 'Ann',
      address: { city: 'Oslo' },
      age: 41,
    });
    expect(out).toBe('Hi Ann from Oslo (c-1), 41');
  });

  it('renders missing and null attributes as empty, also nested and concatenated', () => {
    const body = '[{{ client.nope }}][{{ client.nope.deeper }}][{{ client.empty }}][{{ client.nope ~ "!" }}][{{ "Hi " ~ client.empty }}]';
    expect(render(body, { empty: null })).toBe('[][][][!][Hi ]');
  });

  it('supports default and defined for missing attributes', () => {
    const body = '{{ client.first_name | default("friend") }}{% if client.vip is defined %}!{% endif %}';
    expect(render(body)).toBe('friend');
    expect(render(body, { first_name: 'Ann', vip: false })).toBe('Ann!');
  });

  it('uses the recipient id over an id attribute and ignores attributes named like the macros', () => {
    const compiled = compileTemplate({ body: "{{ client.id }} {{ client.promocode('A') }}" });
    const out = compiled.render({ id: 'real', attributes: { id: 'fake', promocode: 'x', last_promocode: 'y' } }, lookup({ a: 'CODE' }));
    expect(out.body).toBe('real CODE');
  });

  it('renders attribute values as data, never as template syntax', () => {
    expect(render('Hi {{ client.first_name }}', { first_name: "{{ 7*7 }}{% if true %}x{% endif %}{{ client.promocode('A') }}" })).toBe(
      "Hi {{ 7*7 }}{% if true %}x{% endif %}{{ client.promocode('A') }}",
    );
  });

  it('renders the template text as written, dropping one trailing newline like Jinja', () => {
    expect(render('a\n  b\n\n')).toBe('a\n  b\n');
    expect(render('{{ 7*7 }}')).toBe('49');
  });

  it('renders an empty subject as empty and no subject as undefined', () => {
    expect(compileTemplate({ subject: '', body: 'x' }).render({ id: '1', attributes: {} }, NO_CODES).subject).toBe('');
    expect(compileTemplate({ body: 'x' }).render({ id: '1', attributes: {} }, NO_CODES).subject).toBeUndefined();
  });

  it('keeps state from one render out of the next', () => {
    const compiled = compileTemplate({ body: '{% if client.n %}{% set seen = client.n %}{% endif %}[{{ seen }}]' });
    expect(compiled.render({ id: '1', attributes: { n: 5 } }, NO_CODES).body).toBe('[5]');
    expect(compiled.render({ id: '2', attributes: {} }, NO_CODES).body).toBe('[]');
  });

  it("keeps the subject's variables out of the body; both read the same client, and the same text in every render", () => {
    const compiled = compileTemplate({ subject: "{% set x = 'S' %}{{ client.name }}{{ x }}-{{ 'hi' | upper }}", body: "[{{ x }}]{{ client.name }}-{{ 'hi' | upper }}" });
    for (const name of ['Ann', 'Bob']) {
      expect(compiled.render({ id: '1', attributes: { name } }, NO_CODES)).toMatchObject({ subject: `${name}S-HI`, body: `[]${name}-HI` });
    }
  });

  it('fails a render on data the template cannot handle with a TemplateRenderError naming the field', () => {
    const compiled = compileTemplate({ subject: '{{ client.age + 1 }}', body: 'x' });
    expect(compiled.render({ id: '1', attributes: { age: 41 } }, NO_CODES).subject).toBe('42');
    expect(() => compiled.render({ id: '1', attributes: {} }, NO_CODES)).toThrow(TemplateRenderError);
    try {
      compiled.render({ id: '1', attributes: {} }, NO_CODES);
    } catch (err) {
      expect((err as TemplateRenderError).field).toBe('subject');
    }
  });
});

describe('render: promo codes', () => {
  const codes = lookup({ summer: 'SUM-1', gift: 'GIFT-1' }, { old: 'OLD-9', never: null });

  it('fills promocode from the initial codes and last_promocode from the repeat codes', () => {
    const out = compileTemplate({
      body: "{{ client.promocode('Summer') }} {{ client.last_promocode('Old') }}",
    }).render({ id: '1', attributes: {} }, codes);
    expect(out.body).toBe('SUM-1 OLD-9');
    expect(out.used).toEqual({ initial: ['Summer'], repeat: ['Old'] });
  });

  it('renders last_promocode empty when the customer never got a code', () => {
    const out = compileTemplate({
      body: "[{{ client.last_promocode('Never') }}][{{ client.last_promocode('Unlisted') }}]",
    }).render({ id: '1', attributes: {} }, codes);
    expect(out.body).toBe('[][]');
    expect(out.used.repeat).toEqual([]);
  });

  it('gives the same code for the same group within a message, subject and body, whatever the spelling', () => {
    const out = compileTemplate({
      subject: "Your code {{ client.promocode('Summer') }}",
      body: "{{ client.promocode('Summer') }} again: {{ client.promocode(' SUMMER ') }}",
    }).render({ id: '1', attributes: {} }, codes);
    expect(out.subject).toBe('Your code SUM-1');
    expect(out.body).toBe('SUM-1 again: SUM-1');
    expect(out.used.initial).toEqual(['Summer']);
  });

  it('counts only groups whose macro rendered: a branch not taken does not count', () => {
    const compiled = compileTemplate({
      body: "{% if client.vip %}{{ client.promocode('Gift') }}{% else %}{{ client.last_promocode('Old') }}{% endif %}{{ client.promocode('Summer') }}",
    });
    expect(compiled.groups.initial).toEqual(['Gift', 'Summer']);
    const regular = compiled.render({ id: '1', attributes: { vip: false } }, codes);
    expect(regular.body).toBe('OLD-9SUM-1');
    expect(regular.used).toEqual({ initial: ['Summer'], repeat: ['Old'] });
    const vip = compiled.render({ id: '2', attributes: { vip: true } }, codes);
    expect(vip.body).toBe('GIFT-1SUM-1');
    expect(vip.used).toEqual({ initial: ['Gift', 'Summer'], repeat: [] });
  });

  it('does not count a macro that is defined but never called', () => {
    const out = compileTemplate({
      body: "{% macro offer() %}{{ client.promocode('Gift') }}{% endmacro %}no offer",
    }).render({ id: '1', attributes: {} }, codes);
    expect(out).toMatchObject({ body: 'no offer', used: { initial: [] } });
  });

  it('throws a plain Error (not a template error) when a named group has no reserved code', () => {
    const compiled = compileTemplate({ body: "{{ client.promocode('Missing') }}" });
    const attempt = (): unknown => compiled.render({ id: '1', attributes: {} }, codes);
    expect(attempt).toThrow(/no code was reserved for the group "Missing"/);
    expect(attempt).not.toThrow(TemplateRenderError);
  });
});

describe('render: sandbox', () => {
  const codes = lookup({ a: 'CODE-A' });
  // JavaScript source or host objects; our own error messages say "a function" but never show one.
  const LEAK = /=>|function\s*\(|\[object|native code|process|return /;

  /** The output, or the error message; compile-time rejections count as safe too. */
  function attempt(body: string, attributes: Record<string, unknown> = { first_name: 'Ann' }): string {
    try {
      return compileTemplate({ body }).render({ id: 'c-1', attributes }, codes).body;
    } catch (err) {
      expect(err instanceof TemplateRenderError || err instanceof ValidationError).toBe(true);
      return `error: ${(err as Error).message}`;
    }
  }

  const escapes = [
    "{{ client.constructor.constructor('return process')() }}",
    "{{ ''.constructor.constructor('return 1')() }}",
    '{{ client.__proto__ }}',
    "{{ client['constructor'] }}",
    "{{ client['__proto__']['constructor'] }}",
    '{{ range.constructor }}',
    '{% set x = client.promocode.constructor %}{{ x }}',
    '{{ client.promocode.call }}',
    "{{ client['promocode'] }}",
    "{{ client['promocode']('A') }}",
    "{{ client.get('promocode') }}",
    '{{ client.items }}',
    '{{ "abc".upper }}',
    '{{ "x" ~ "abc".upper }}',
    '{{ "x" + "abc".upper }}',
    '{{ namespace }}',
    '{{ [namespace] }}',
    '{{ namespace is callable }}',
    '{% set f = namespace %}{{ f }}',
    '{% macro m() %}hi{% endmacro %}{{ m }}',
    '{% macro m() %}{{ caller }}{% endmacro %}{% call m() %}x{% endcall %}',
    '{% for k, v in client | items %}{{ v }}{% endfor %}',
    '{{ client.first_name.constructor.name }}',
    '{{ raise_exception }}{{ strftime_now }}',
  ];
  it.each(escapes)('%s', (body) => {
    expect(attempt(body)).not.toMatch(LEAK);
  });

  it('renders the prototype and constructor lookups as empty', () => {
    expect(attempt('[{{ client.__proto__ }}][{{ client.constructor }}][{{ "".constructor }}]')).toBe('[][][]');
  });

  it('still calls what a template may call', () => {
    expect(attempt('{% macro m(x) %}<{{ x }}>{% endmacro %}{{ m(client.first_name) }} {{ client.first_name.upper() }}')).toBe('<Ann> ANN');
    expect(attempt("{% macro m() %}{{ caller() }}{% endmacro %}{% call m() %}{{ client.promocode('A') }}{% endcall %}")).toBe('CODE-A');
  });

  it('turns attribute values into plain data: functions are dropped, __proto__ is just a key', () => {
    const attributes = JSON.parse('{"__proto__": {"polluted": "yes"}, "name": "Ann"}') as Record<string, unknown>;
    attributes.fn = () => 'called';
    expect(attempt('{{ client.__proto__.polluted }} {{ client.name }} [{{ client.fn }}]', attributes)).toBe('yes Ann []');
    expect(attempt("{{ client.fn('x') }}", attributes)).toMatch(/^error: .*not a function/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('properties', () => {
  it('renders any attribute string verbatim', () => {
    const compiled = compileTemplate({ subject: '{{ client.a }}', body: '<{{ client.a }}|{{ client.nested.b }}>' });
    const templateish = fc.stringMatching(/^(\{\{|\}\}|\{%|%\}|\{#|#\}|7\*7|client\.promocode\('A'\)|[ a-z'"\\\n])*$/);
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), templateish), (value) => {
        const out = compiled.render({ id: '1', attributes: { a: value, nested: { b: value } } }, NO_CODES);
        expect(out.subject).toBe(value);
        expect(out.body).toBe(`<${value}|${value}>`);
      }),
    );
  });

  it('renders text without tags as written', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }).filter((s) => !s.includes('{')), (text) => {
        expect(render(text)).toBe(text.endsWith('\n') ? text.slice(0, -1) : text);
      }),
    );
  });

  it('locates exactly the tokens the library produces, and fails where it fails', () => {
    const piece = fc.constantFrom(
      '{{', '}}', '{%', '%}', '{#', '#}', '{{-', '-}}', '{%-', '-%}', ' ', '\n', 'a', 'if', 'x1', '.', '(', ')', '[', ']',
      '{', '}', ',', ':', '|', '==', '<', '+', '-', '~', '*', '**', '/', '//', '%', '=', "'", '"', '\\', '\\n', '1', '2.5',
      '-3', 'é', '@',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }).map((parts) => parts.join('')), (source) => {
        let expected: { type: string; value: string }[] | undefined;
        try {
          expected = (tokenize(source) as Token[]).map((t) => ({ type: t.type, value: t.value }));
        } catch {
          expected = undefined;
        }
        if (expected === undefined) {
          expect(() => locateTokens(source)).toThrow();
        } else {
          const located = locateTokens(source);
          expect(located.map((t) => ({ type: t.type, value: t.value }))).toEqual(expected);
          for (const t of located) expect(t.start).toBeLessThan(Math.max(source.length, 1));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws from checkTemplate, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-ascii' }), fc.string(), (body, subject) => {
        const check = checkTemplate({ subject, body });
        if (!check.valid) {
          expect(check.error.line).toBeGreaterThanOrEqual(1);
          expect(check.error.column).toBeGreaterThanOrEqual(1);
        }
      }),
    );
  });
});

describe('the template library as patched (patches/@huggingface+jinja+0.5.11.patch)', () => {
  it('makes a value with no class field of its own: only the value, its type on the prototype', () => {
    const value = new Environment().set('v', 'text');
    expect(Object.keys(value)).toEqual(['value']);
    expect(value.type).toBe('StringValue');
  });
});
