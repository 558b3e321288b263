import { afterAll, describe, expect, it } from 'vitest';
import { type CodeLookup, compileTemplate } from '../../src/domain/template.js';
import type { RenderLimits } from '../../src/domain/template-budget.js';
import { createRenderPool, type RenderJob, type RenderPool } from '../../src/render/render-pool.js';

const UNLIMITED: RenderLimits = { steps: Infinity, depth: 250, outputChars: Infinity, valueSize: Infinity, valueDepth: 64, millis: Infinity };
const BOMBS = {
  list: `{% set a = [1] %}${'{% set a = a + a %}'.repeat(30)}{{ a | length }}`,
  macro: '{% macro f(n) %}{% if n > 0 %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(40) }}',
};
// Without a budget: a loop whose setup takes a little memory per item of a million. (A single
// allocation far past the heap cap, like the last doubling of BOMBS.list, aborts the whole
// process instead: Node lets a worker over its cap allocate only 16 MB more before it stops.)
const MEMORY_HOG = `{% set a = [1] %}${'{% set a = a + a %}'.repeat(20)}{% for x in a %}{% endfor %}`;

const pools: RenderPool[] = [];
afterAll(() => Promise.all(pools.map((pool) => pool.close())));
function pool(options: Parameters<typeof createRenderPool>[0]): RenderPool {
  const created = createRenderPool(options);
  pools.push(created);
  return created;
}

const codes = (code: string): CodeLookup => ({ initial: new Map([['summer', code]]), repeat: new Map([['old', null]]) });
const job = (id: string, attributes: Record<string, unknown> = {}): RenderJob => ({ client: { id, attributes }, codes: codes(`SUM-${id}`) });

/** The longest the event loop went without running a 5 ms timer while `work` ran. */
async function longestStall(work: () => Promise<unknown>): Promise<number> {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 5);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(longest, performance.now() - last);
}

describe('a render pool', () => {
  const shared = pool({ threads: 2 });

  it('renders each job in order, as the template renders in this thread', async () => {
    const template = { subject: 'For {{ client.first_name }}', body: "Hi {{ client.first_name }}, your code {{ client.promocode('Summer') }}{{ client.last_promocode('Old') }}" };
    const jobs = Array.from({ length: 450 }, (_, i) => job(String(i), { first_name: `Name${i}` }));
    const outcomes = await shared.render(template, jobs);
    const compiled = compileTemplate(template);
    expect(outcomes).toEqual(jobs.map(({ client, codes }) => ({ ok: true, message: compiled.render(client, codes) })));
    expect(await shared.render(template, [])).toEqual([]);
  });

  it("reports a recipient's problem as that recipient's failure", async () => {
    let deep: unknown = 1;
    for (let i = 0; i < 5000; i++) deep = { a: deep };
    const outcomes = await shared.render({ subject: '{{ client.age + 1 }}', body: 'ok' }, [job('1', { age: 41 }), job('2'), job('3', { age: 1, deep })]);
    expect(outcomes).toEqual([
      { ok: true, message: { subject: '42', body: 'ok', used: { initial: [], repeat: [] } } },
      { ok: false, error: 'the template failed for this recipient: subject: Cannot perform operation + on undefined values' },
      { ok: false, error: 'the template failed for this recipient: attributes: nested more than 32 levels deep (at deep.a.a.a.a.a.a.a…)' },
    ]);
  });

  it('reports a render over budget with the limit it exceeded', async () => {
    const [list, macro] = [await shared.render({ body: BOMBS.list }, [job('1')]), await shared.render({ body: BOMBS.macro }, [job('1')])];
    expect(list).toEqual([{ ok: false, error: 'the template failed for this recipient: body: the template exceeded its render budget: a value larger than 1000000 characters' }]);
    expect(macro[0]).toMatchObject({ ok: false, error: expect.stringMatching(/^the template failed for this recipient: body: the template exceeded its render budget: /) as string });
  });

  it('fails the whole call when a job cannot be copied to a thread, and goes on', async () => {
    await expect(shared.render({ body: 'x' }, [job('1', { callback: () => 1 })])).rejects.toThrow(/could not be cloned/);
    expect(await shared.render({ body: 'x' }, [job('1')])).toMatchObject([{ ok: true }]);
  });

  it('fails the whole call, not a recipient, when the caller left out a reserved code', async () => {
    await expect(shared.render({ body: "{{ client.promocode('Missing') }}" }, [job('1')])).rejects.toThrow(/no code was reserved for the group "Missing"/);
  });
});

describe("a thread's death or a message that takes too long", () => {
  // no interpreter budget: only the thread's heap and the pool's clock stop these
  const body = `{% if client.hog %}${MEMORY_HOG}{% endif %}{% if client.slow %}${BOMBS.macro}{% endif %}ok {{ client.id }}`;
  const hungry = pool({ threads: 1, limits: UNLIMITED, heapMb: 32, messageTimeoutMs: 20_000 });
  const slow = pool({ threads: 1, limits: UNLIMITED, messageTimeoutMs: 1000 });

  /** the failures as [position, error], checking that the others rendered */
  async function failures(renderPool: RenderPool, jobs: RenderJob[]) {
    const outcomes = await renderPool.render({ body }, jobs);
    outcomes.forEach((outcome, i) => {
      if (outcome.ok) expect(outcome.message.body).toBe(`ok ${jobs[i]!.client.id}`);
    });
    return outcomes.flatMap((outcome, i) => (outcome.ok ? [] : [[i, outcome.error]]));
  }

  it('out of memory: fails only the message it was on; the others render and the pool goes on', async () => {
    const jobs = Array.from({ length: 30 }, (_, i) => job(String(i), { hog: i === 3 || i === 20 }));
    const error = 'the template failed for this recipient: the template exceeded its render budget: more than 32 MB of memory';
    expect(await failures(hungry, jobs)).toEqual([[3, error], [20, error]]);
    expect(await failures(hungry, [job('after')])).toEqual([]);
  });

  it('too long: stops the thread, fails only that message and goes on', async () => {
    const jobs = Array.from({ length: 10 }, (_, i) => job(String(i), { slow: i === 6 }));
    const error = 'the template failed for this recipient: the template exceeded its render budget: took longer than 1000 ms';
    expect(await failures(slow, jobs)).toEqual([[6, error]]);
    expect(await failures(slow, [job('after')])).toEqual([]);
  });

  it('never stalls the event loop of the caller', async () => {
    const stall = await longestStall(() =>
      Promise.all([failures(slow, [job('1', { slow: true }), job('2')]), failures(hungry, [job('3', { hog: true }), job('4')])]),
    );
    // rendered on this thread, the slow message alone would stall it until the watchdog's 1,000 ms;
    // the margin below that is for a loaded machine's scheduling, not for any render
    expect(stall).toBeLessThan(400);
  });
});

describe('check', () => {
  const checker = pool({ threads: 1 });

  it('flags a template over its render budget with no recipient data', async () => {
    for (const body of Object.values(BOMBS)) {
      const check = await checker.check({ subject: 'Hi', body });
      expect(check).toMatchObject({ valid: false, error: { field: 'body', line: 1, column: 1 } });
      if (!check.valid) expect(check.error.message).toMatch(/^the template exceeded its render budget: /);
    }
    expect(await checker.check({ subject: BOMBS.list, body: 'x' })).toMatchObject({ valid: false, error: { field: 'subject' } });
  });

  it('passes errors that depend on the data, and reports syntax as checkTemplate does', async () => {
    expect(await checker.check({ body: "{{ client.age + 1 }} {{ client.promocode('Summer') }}" })).toEqual({ valid: true, groups: { initial: ['Summer'], repeat: [] } });
    expect(await checker.check({ body: 'Hi {{ client.name' })).toMatchObject({ valid: false, error: { field: 'body', line: 1, column: 4 } });
  });

  it('says which field took a thread down', async () => {
    const unguarded = pool({ threads: 1, limits: UNLIMITED, heapMb: 32, messageTimeoutMs: 20_000 });
    expect(await unguarded.check({ subject: MEMORY_HOG, body: 'fine' })).toMatchObject({
      valid: false,
      error: { field: 'subject', message: 'the template exceeded its render budget: more than 32 MB of memory' },
    });
  });
});

describe('close', () => {
  it('fails what is pending, and any later call', async () => {
    const closing = createRenderPool({ threads: 1, limits: UNLIMITED, messageTimeoutMs: 10_000 });
    const pending = expect(closing.render({ body: BOMBS.macro }, [job('1')])).rejects.toThrow('the render pool is closed');
    await new Promise((resolve) => setTimeout(resolve, 50));
    await closing.close();
    await pending;
    await expect(closing.render({ body: 'x' }, [job('1')])).rejects.toThrow('the render pool is closed');
  });
});
