import { describe, expect, it } from 'vitest';
import { formatAttributePath, MAX_ATTRIBUTE_DEPTH, tooDeepAttribute } from '../../src/domain/attributes.js';
import {
  type CodeLookup,
  compileTemplate,
  type RenderedMessage,
  TemplateBudgetError,
  TemplateRenderError,
  type TemplateSource,
} from '../../src/domain/template.js';
import { DEFAULT_RENDER_LIMITS, type RenderLimits } from '../../src/domain/template-budget.js';

const NO_CODES: CodeLookup = { initial: new Map(), repeat: new Map() };
const UNLIMITED: RenderLimits = { steps: Infinity, depth: Infinity, outputChars: Infinity, valueSize: Infinity, valueDepth: Infinity, millis: Infinity };

function render(template: TemplateSource | string, limits: Partial<RenderLimits> = {}, attributes: Record<string, unknown> = {}): RenderedMessage {
  const source = typeof template === 'string' ? { body: template } : template;
  return compileTemplate(source, { ...DEFAULT_RENDER_LIMITS, ...limits }).render({ id: 'c-1', attributes }, NO_CODES);
}

/** The error a render throws, with how long it took to throw it. */
function failure(template: TemplateSource | string, limits: Partial<RenderLimits> = {}, attributes: Record<string, unknown> = {}) {
  const started = performance.now();
  try {
    render(template, limits, attributes);
  } catch (error) {
    return { error: error as TemplateRenderError, ms: performance.now() - started };
  }
  throw new Error('expected the render to fail');
}

const doublings = (statement: string, times: number) => statement.repeat(times);
/** `{% set s = … %}` doubled to 2^power characters */
const longString = (power: number) => `{% set s = 'x' %}${doublings('{% set s = s ~ s %}', power)}`;
/** `{% set l = [1] %}` doubled to 2^power items */
const longList = (power: number) => `{% set l = [1] %}${doublings('{% set l = l + l %}', power)}`;

describe('the bombs of the issue', () => {
  it('a list doubled thirty times stops at the value size, quickly', () => {
    const { error, ms } = failure(`{% set a = [1] %}${doublings('{% set a = a + a %}', 30)}{{ a | length }}`);
    expect(error).toBeInstanceOf(TemplateBudgetError);
    expect(error.message).toBe('body: the template exceeded its render budget: a value larger than 1000000 characters');
    expect(ms).toBeLessThan(1000);
  });

  it('a macro calling itself twice per level stops within the budget, quickly', () => {
    const { error, ms } = failure('{% macro f(n) %}{% if n > 0 %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(40) }}');
    expect(error).toBeInstanceOf(TemplateBudgetError);
    expect(error.message).toMatch(/^body: the template exceeded its render budget: (more than 50000 steps|took more than 100 ms)$/);
    expect(ms).toBeLessThan(1000);
  });
});

describe('each limit', () => {
  it('steps: evaluations and loop iterations', () => {
    expect(failure('{{ 1 }}{{ 2 }}{{ 3 }}', { steps: 3 }).error.reason).toBe('the template exceeded its render budget: more than 3 steps');
    // a loop is charged ten steps an item before it runs, even with nothing in its body
    expect(failure('{% for x in [1, 2, 3, 4, 5] %}{% endfor %}', { steps: 40 }).error.reason).toMatch(/more than 40 steps/);
    expect(render('{% for x in [1, 2, 3] %}{% endfor %}done', { steps: 60 }).body).toBe('done');
  });

  it('depth: a macro calling itself without end', () => {
    const { error } = failure('{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}');
    expect(error.reason).toBe('the template exceeded its render budget: evaluation nested more than 250 levels deep (a macro calling itself?)');
    const counted = Array.from({ length: 101 }, (_, i) => i).join('');
    expect(render('{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% endif %}{{ n }}{% endmacro %}{{ f(100) }}').body).toBe(counted);
  });

  it('output: characters of each field', () => {
    expect(failure({ subject: 'x'.repeat(11), body: 'ok' }, { outputChars: 10 }).error).toMatchObject({
      field: 'subject',
      reason: 'the template exceeded its render budget: output longer than 10 characters',
    });
    expect(render({ subject: 'x'.repeat(10), body: 'y'.repeat(10) }, { outputChars: 10 }).body).toBe('y'.repeat(10));
  });

  it('value size: strings, lists and objects, counted as printed', () => {
    const limits = { valueSize: 1000 };
    expect(failure(`${longString(10)}`, limits).error.reason).toBe('the template exceeded its render budget: a value larger than 1000 characters');
    expect(failure(`${longList(9)}`, limits).error.reason).toMatch(/a value larger than 1000 characters/);
    // shared items count each time they appear: [a, a] of a nested list doubles per line
    expect(failure(`{% set a = [1] %}${doublings('{% set a = [a, a] %}', 10)}`, limits).error.reason).toMatch(/a value larger than/);
    expect(failure(`{% set o = {'k': 'v'} %}${doublings("{% set o = {'a': o, 'b': o} %}", 10)}`, limits).error.reason).toMatch(/a value larger than/);
    expect(render(`${longString(9)}{{ s | length }}`, limits).body).toBe('512');
  });

  it('value depth: lists inside lists', () => {
    const nested = `{% set a = [] %}${doublings('{% set a = [a] %}', 10)}`;
    expect(failure(nested, { valueDepth: 8 }).error.reason).toBe('the template exceeded its render budget: a value nested more than 8 levels deep');
    expect(render(`${nested}{{ a }}`, { valueDepth: 11 }).body).toBe(`${'['.repeat(11)}${']'.repeat(11)}`);
  });

  it('time: checked every few hundred steps', () => {
    const { error } = failure(`${longList(8)}{% for x in l %}{% for y in l %}{{ x }}{% endfor %}{% endfor %}`, { millis: 5, steps: Infinity });
    expect(error.reason).toBe('the template exceeded its render budget: took more than 5 ms');
  });

  it('leaves normal templates as they were', () => {
    const body = [
      '{% set ns = namespace(total=0) %}{% for item in client.items %}{% set ns.total = ns.total + item.price %}',
      '{{ loop.index }}. {{ item.name | title }}: {{ item.price }}{% if not loop.last %}, {% endif %}{% endfor %}',
      ' = {{ ns.total }} | {{ client.tags | join(", ") }} | {{ "a-b" | replace("-", "+") }} | {{ "x\ny" | indent(2) }}',
      ' | {{ client.note.replace("old", "new") }} | {{ {"k": [1, 2]} | tojson }} | {{ client.tags | tojson(indent=1) }}',
      '{% macro greet(name) %}<{{ name }}>{% endmacro %} | {{ greet(client.first_name) }}{% filter upper %} done{% endfilter %}',
    ].join('');
    const attributes = { first_name: 'Ann', items: [{ name: 'tea', price: 3 }, { name: 'cake', price: 4 }], tags: ['a', 'b'], note: 'old news' };
    expect(render(body, {}, attributes).body).toBe(
      '1. Tea: 3, 2. Cake: 4 = 7 | a, b | a+b | x\n  y | new news | {"k": [1, 2]} | [\n "a",\n "b"\n] | <Ann> DONE',
    );
  });
});

describe('builtins that multiply their input are checked before they run', () => {
  const limits = { valueSize: 10_000 };
  const reason = 'the template exceeded its render budget: a value larger than 10000 characters';

  it.each([
    ['an indent wider than the budget', "{{ 'a\nb' | indent(100000000) }}"],
    ['the default indent of many lines', `{% set s = '\n' %}${doublings('{% set s = s ~ s %}', 12)}{{ s | indent }}`],
    ['a long separator between many items', `${longString(10)}${longList(8)}{{ l | join(s) }}`],
    ['a separator between the characters of a string', `${longString(10)}{{ s | join(s) }}`],
    ['replacing the empty string (filter)', `${longString(8)}{{ s | replace('', s) }}`],
    ['replacing the empty string (method)', `${longString(8)}{{ s.replace('', s) }}`],
    ['replacing with a count given by keyword', `${longString(8)}{{ s.replace('x', s, count=100) }}`],
    ['tojson with a wide indent', `${longList(5)}{{ l | tojson(indent=1000) }}`],
    ['tojson with long separators', `${longString(8)}${longList(5)}{{ l | tojson(separators=(s, s)) }}`],
    ['a {% filter %} block far too long', `${longString(8)}{% filter upper %}${'{{ s }}'.repeat(50)}{% endfilter %}`],
  ])('%s', (_, body) => {
    expect(failure(body, limits).error.reason).toBe(reason);
  });

  it('still replaces within the budget', () => {
    expect(render("{{ 'aaa'.replace('a', 'bb', 2) }} {{ 'abc' | replace('', '-') }}", limits).body).toBe('bbbba -a-b-c-');
  });

  it('has no range() nor repetition of strings or lists to guard', () => {
    expect(failure('{{ range(1000000000) }}').error.reason).toMatch(/not a function/);
    expect(failure("{{ 'x' * 1000000000 }}").error.reason).toMatch(/Unknown operator "\*"/);
    expect(failure('{{ [1] * 1000000000 }}').error.reason).toMatch(/Unknown operator "\*"/);
  });
});

describe('namespaces, the one value a template can change', () => {
  it('re-measures what holds a namespace once it changes', () => {
    const body = `{% set ns = namespace(x=1) %}{% set l = [ns] %}${doublings('{% set l = l + l %}', 5)}${longString(9)}{% set ns.x = s %}{{ l }}`;
    expect(failure(body, { valueSize: 10_000 }).error.reason).toMatch(/a value larger than 10000 characters/);
  });

  it('refuses a namespace that contains itself', () => {
    expect(failure('{% set ns = namespace(x=1) %}{% set ns.x = [ns] %}{{ ns }}').error.reason).toBe(
      'the template exceeded its render budget: a value that contains itself',
    );
  });
});

describe('deep attributes', () => {
  const nested = (levels: number): Record<string, unknown> => {
    let value: Record<string, unknown> = { leaf: 1 };
    for (let i = 1; i < levels; i++) value = { a: value };
    return value;
  };

  it('finds the path to the first list or object nested too deep, without recursion', () => {
    expect(tooDeepAttribute(nested(MAX_ATTRIBUTE_DEPTH))).toBeUndefined();
    expect(tooDeepAttribute({ x: nested(MAX_ATTRIBUTE_DEPTH + 1) })).toHaveLength(MAX_ATTRIBUTE_DEPTH + 1);
    expect(tooDeepAttribute({ list: [1, [2, nested(100_000)]] })?.slice(0, 4)).toEqual(['list', 1, 1, 'a']);
    expect(formatAttributePath(['list', 1, 'a', 'b'])).toBe('list[1].a.b');
    expect(formatAttributePath(['a', 'b', 'c'], 2)).toBe('a.b…');
  });

  it('fails only that recipient, with the path, instead of overflowing the stack', () => {
    const compiled = compileTemplate({ body: 'Hi {{ client.name }}' });
    let caught: unknown;
    try {
      compiled.render({ id: 'deep', attributes: { name: 'Ann', profile: nested(5000) } }, NO_CODES);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TemplateRenderError);
    expect((caught as TemplateRenderError).field).toBe('attributes');
    expect((caught as Error).message).toBe('attributes: nested more than 32 levels deep (at profile.a.a.a.a.a.a.a…)');
    expect(compiled.render({ id: 'ok', attributes: { name: 'Ann', profile: nested(MAX_ATTRIBUTE_DEPTH) } }, NO_CODES).body).toBe('Hi Ann');
  });
});

describe('the engine running out', () => {
  it('reports the stack or a string too long for the engine as the budget', () => {
    const { error } = failure(`${longString(28)}{{ s ~ s ~ s }}`, UNLIMITED);
    expect(error).toBeInstanceOf(TemplateBudgetError);
    expect(error.reason).toBe('the template exceeded its render budget: a value larger than the engine allows');
  });
});
