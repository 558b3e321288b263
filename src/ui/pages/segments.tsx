import type { AppDeps } from '../../api/router.js';
import { listGroups } from '../../db/groups.js';
import { MAX_PAGE_SIZE } from '../../domain/pagination.js';
import { MailingFields } from '../components/mailing-fields.js';
import { GroupNode, IssuedCountNode, IssuedFromGroupNode, RedeemedCountNode } from '../components/segment-nodes.js';
import { pageRouter } from '../router.js';
import { Scripts } from '../components/scripts.js';

/** How many of the matching customers the page lists. */
const SHOWN_CUSTOMERS = 50;

/**
 * /segments: the segment builder. The server renders a first condition and the templates of
 * every kind of node with the groups to choose from; /assets/segments.js builds the filter from
 * them and asks POST /api/segments/query. Below the builder, a mailing to the segment
 * (/assets/segment-mailing.js): the filter becomes its audience.
 */
export function segmentPages(deps: AppDeps) {
  const app = pageRouter(deps);
  app.get('/', async (c) => {
    const { items } = await listGroups(deps.sql, { limit: MAX_PAGE_SIZE, order: 'name' });
    const groups = items.map((group) => group.name);
    return c.render(
      <>
        <p class="hint">
          Pick customers by their promo code history: add conditions, combine them with AND or OR in groups, and turn any of them into its
          opposite with NOT. Times are in your browser’s time zone.
        </p>
        <div class="segment-page">
          <div>
            <form id="segment-builder" data-limit={SHOWN_CUSTOMERS} novalidate>
              <GroupNode root>
                <li>
                  <IssuedCountNode groups={groups} />
                </li>
              </GroupNode>
              <div class="actions">
                <button type="submit">Count customers</button>
                <p class="field-error" data-request-error hidden />
              </div>
            </form>
            <SegmentMailing />
          </div>
          <div>
            <section aria-labelledby="segment-result-title">
              <h2 id="segment-result-title">Matching customers</h2>
              <div id="segment-result" aria-live="polite">
                <p class="hint">Press “Count customers” to see how many match.</p>
              </div>
            </section>
            <details class="segment-json" open>
              <summary>The filter, as POST /api/segments/query takes it</summary>
              <pre id="segment-json" />
            </details>
          </div>
        </div>
        <template id="segment-node-group">
          <GroupNode />
        </template>
        <template id="segment-node-issuedCount">
          <IssuedCountNode groups={groups} />
        </template>
        <template id="segment-node-issuedFromGroup">
          <IssuedFromGroupNode groups={groups} />
        </template>
        <template id="segment-node-redeemedCount">
          <RedeemedCountNode groups={groups} />
        </template>
        <Scripts names={['segments', 'mailing-fields', 'template-check', 'segment-mailing']} />
      </>,
      { title: 'Segments', active: 'segments' },
    );
  });
  return app;
}

/** A mailing whose audience is the builder's filter: the customers matching it when the mailing starts. */
function SegmentMailing() {
  return (
    <section aria-labelledby="segment-mailing-title" class="segment-mailing">
      <h2 id="segment-mailing-title">Send a mailing to this segment</h2>
      <p class="hint">
        The customers matching the filter above when the mailing starts receive it, with their stored attributes, email and phone.
      </p>
      <form id="segment-mailing" novalidate>
        <MailingFields />
        <div class="actions">
          <button type="submit">Send mailing</button>
          <p class="field-error" data-mailing-error role="alert" hidden />
        </div>
      </form>
    </section>
  );
}
