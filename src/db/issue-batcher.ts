import type { Sql } from './client.js';
import { type IssueRequest, issueCodes, type PickCursor } from './issuance.js';

interface Waiting {
  request: IssueRequest;
  resolve(code: string): void;
  reject(error: unknown): void;
}

/**
 * How long a batch runs before it counts as held up (waiting on a lock: a key another
 * transaction holds, a customer row a mailing is inserting): then another lane opens for the
 * requests that wait. Batches under load take a few milliseconds.
 */
const HELD_UP_MS = 100;
/** Lanes of one group at most, held-up ones included. */
const MAX_LANES = 4;
/** Groups whose PickCursor is kept: past that many, the longest unused one goes (its group's next pick scans from its first code). */
const CURSORS_KEPT = 10_000;

interface GroupLanes {
  waiting: Waiting[];
  /** lanes running */
  lanes: number;
  /** lanes running whose batch is not held up */
  moving: number;
}

/**
 * Direct issues of a group that arrive while earlier ones are running share a transaction
 * (issueCodes): one set of round trips and one commit for many issues, instead of one each. A
 * request that finds no lane of its group moving runs at once, alone: nothing waits on a timer,
 * so a lone issue is as quick as before. Others wait for the moving lane's next batch (up to
 * `batchSize` requests). One lane makes the largest batches, so the cheapest issues
 * (`npm run bench -- issue`: 40 % less PostgreSQL CPU per issue than with two lanes); a batch
 * running HELD_UP_MS no longer counts as moving, and the requests behind it get a lane of their
 * own. Once more than one lane moves again, each that finishes a batch stops, down to one.
 */
export class IssueBatcher {
  private readonly groups = new Map<string, GroupLanes>();
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
      if (!group) this.groups.set(groupId, (group = { waiting: [], lanes: 0, moving: 0 }));
      group.waiting.push({ request, resolve, reject });
      this.openLaneIfStalled(groupId, group);
    });
  }

  private openLaneIfStalled(groupId: string, group: GroupLanes) {
    if (group.waiting.length > 0 && group.moving === 0 && group.lanes < MAX_LANES) void this.lane(groupId, group);
  }

  private async lane(groupId: string, group: GroupLanes) {
    group.lanes += 1;
    group.moving += 1;
    do {
      const batch = group.waiting.splice(0, this.batchSize);
      let heldUp = false;
      const watch = setTimeout(() => {
        heldUp = true;
        group.moving -= 1;
        this.openLaneIfStalled(groupId, group);
      }, HELD_UP_MS);
      try {
        const outcomes = await issueCodes(this.sql, groupId, batch.map((waiting) => waiting.request), this.cursorOf(groupId));
        batch.forEach((waiting, i) => {
          const outcome = outcomes[i]!;
          if ('refused' in outcome) waiting.reject(outcome.refused);
          else waiting.resolve(outcome.code);
        });
      } catch (error) {
        for (const waiting of batch) waiting.reject(error);
      } finally {
        clearTimeout(watch);
        if (heldUp) group.moving += 1;
      }
    } while (group.waiting.length > 0 && group.moving === 1);
    group.lanes -= 1;
    group.moving -= 1;
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
