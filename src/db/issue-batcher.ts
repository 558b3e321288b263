import type { Sql } from './client.js';
import { type IssueRequest, issueCodes, type PickCursor } from './issuance.js';

interface Waiting {
  request: IssueRequest;
  resolve(code: string): void;
  reject(error: unknown): void;
}

/**
 * Batches of one group in flight at once. More than one: a batch held up (a request in it waits
 * on a key another transaction holds) leaves the other lane going. Few: the fewer lanes, the
 * larger each batch and the less each issue costs (`npm run bench -- issue` measured two best).
 */
const LANES_PER_GROUP = 2;
/** Groups whose PickCursor is kept: past that many, the longest unused one goes (its group's next pick scans from its first code). */
const CURSORS_KEPT = 10_000;

/**
 * Direct issues of a group that arrive while earlier ones are running share a transaction
 * (issueCodes): one set of round trips and one commit for many issues, instead of one each. A
 * request that finds a lane of its group free runs at once, alone: nothing waits on a timer, so
 * a lone issue is as quick as before. One that finds all LANES_PER_GROUP lanes busy waits for
 * the next of them to finish, which then takes up to `batchSize` waiting requests.
 */
export class IssueBatcher {
  private readonly groups = new Map<string, { waiting: Waiting[]; lanes: number }>();
  /** each group's PickCursor, the most recently used last (a group's first batch after a restart scans from its first code) */
  private readonly cursors = new Map<string, PickCursor>();

  constructor(
    private readonly sql: Sql,
    private readonly batchSize: number,
    private readonly cursorsKept = CURSORS_KEPT,
  ) {}

  issue(groupId: string, request: IssueRequest): Promise<string> {
    return new Promise((resolve, reject) => {
      let group = this.groups.get(groupId);
      if (!group) this.groups.set(groupId, (group = { waiting: [], lanes: 0 }));
      group.waiting.push({ request, resolve, reject });
      if (group.lanes < LANES_PER_GROUP) void this.lane(groupId, group);
    });
  }

  private async lane(groupId: string, group: { waiting: Waiting[]; lanes: number }) {
    group.lanes += 1;
    while (group.waiting.length > 0) {
      const batch = group.waiting.splice(0, this.batchSize);
      try {
        const outcomes = await issueCodes(this.sql, groupId, batch.map((waiting) => waiting.request), this.cursorOf(groupId));
        batch.forEach((waiting, i) => {
          const outcome = outcomes[i]!;
          if ('refused' in outcome) waiting.reject(outcome.refused);
          else waiting.resolve(outcome.code);
        });
      } catch (error) {
        for (const waiting of batch) waiting.reject(error);
      }
    }
    group.lanes -= 1;
    if (group.lanes === 0) this.groups.delete(groupId);
  }

  private cursorOf(groupId: string): PickCursor {
    const cursor = this.cursors.get(groupId) ?? { after: '0' };
    this.cursors.delete(groupId);
    this.cursors.set(groupId, cursor);
    if (this.cursors.size > this.cursorsKept) this.cursors.delete(this.cursors.keys().next().value!);
    return cursor;
  }
}
