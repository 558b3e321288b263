import type { Child } from 'hono/jsx';
import { COUNT_OPS, type CountOp } from '../../domain/segment.js';

/*
 * The segment builder's nodes, rendered by the server (the page's first condition, and the
 * <template>s that /assets/segments.js clones). The script reads the tree back from the markup:
 * a node is `.seg-node[data-node=group|issuedCount|issuedFromGroup|redeemedCount]`, its own
 * inputs carry `data-field` (named as in the filter JSON) inside its own `div`s, `data-omit` is
 * the value that leaves a field out, `data-type` says how to convert the text (number, boolean:
 * "true" or "false", instant: a datetime-local in the browser's time zone).
 */

const OP_LABELS: Record<CountOp, string> = {
  gte: '≥ at least',
  gt: '> more than',
  eq: '= exactly',
  ne: '≠ not',
  lte: '≤ at most',
  lt: '< fewer than',
};

/** A labelled input of a node, with room for its error. */
function NodeField({ label, children }: { label: string; children: Child }) {
  return (
    <div class="seg-field">
      <label>
        <span>{label}</span>
        {children}
      </label>
      <p class="field-error" hidden />
    </div>
  );
}

function Node({ type, title, root, fields, children }: { type: string; title: string; root?: boolean; fields: Child; children?: Child }) {
  return (
    <fieldset class={`seg-node seg-${type}`} data-node={type}>
      <legend>{title}</legend>
      <div class="seg-head">
        <label class="seg-not">
          <input type="checkbox" data-field="not" />
          <span>NOT: customers it does not match</span>
        </label>
        {!root && (
          <button type="button" class="secondary" data-action="remove">
            Remove
          </button>
        )}
      </div>
      <div class="seg-fields">{fields}</div>
      {children}
      <p class="field-error" data-node-error hidden />
    </fieldset>
  );
}

/** Conditions combined with AND or OR; the root one cannot be removed. */
export function GroupNode({ root, children }: { root?: boolean; children?: Child }) {
  return (
    <Node
      type="group"
      title={root ? 'Customers who match' : 'Group of conditions'}
      root={root}
      fields={
        <NodeField label="Combine with">
          <select data-field="combine">
            <option value="and">AND: all of these</option>
            <option value="or">OR: any of these</option>
          </select>
        </NodeField>
      }
    >
      <ol class="seg-items">{children}</ol>
      <div class="seg-add">
        <button type="button" class="secondary" data-add="issuedCount">
          + Number of issued promo codes
        </button>
        <button type="button" class="secondary" data-add="issuedFromGroup">
          + Issued promo codes from the group
        </button>
        <button type="button" class="secondary" data-add="redeemedCount">
          + Number of redeemed promo codes
        </button>
        <button type="button" class="secondary" data-add="group">
          + Group of conditions
        </button>
      </div>
    </Node>
  );
}

/** `issuedCount`: how many codes a customer was issued (of a group, a kind, in a window). */
export function IssuedCountNode({ groups }: { groups: string[] }) {
  return (
    <Node
      type="issuedCount"
      title="Number of issued promo codes"
      fields={
        <>
          <CountFields groups={groups} />
          <WindowFields />
        </>
      }
    />
  );
}

/** `redeemedCount`: how many codes a customer redeemed (of a group, redeemed in a window). */
export function RedeemedCountNode({ groups }: { groups: string[] }) {
  return (
    <Node
      type="redeemedCount"
      title="Number of redeemed promo codes"
      fields={
        <>
          <CountFields groups={groups} />
          <TimeFields since="Redeemed since" until="Redeemed before" />
        </>
      }
    />
  );
}

/** `issuedFromGroup`: whether a customer was issued a code of the group (of a kind, in a window). */
export function IssuedFromGroupNode({ groups }: { groups: string[] }) {
  return (
    <Node
      type="issuedFromGroup"
      title="Issued promo codes from the group"
      fields={
        <>
          <NodeField label="Group">
            <select data-field="group">{groups.length === 0 ? <option value="">No groups yet</option> : <GroupOptions groups={groups} />}</select>
          </NodeField>
          <WindowFields />
          <NodeField label="Redeemed">
            <select data-field="redeemed" data-type="boolean" data-omit="">
              <option value="">Either</option>
              <option value="true">Has redeemed it</option>
              <option value="false">Has not redeemed it</option>
            </select>
          </NodeField>
        </>
      }
    />
  );
}

const GroupOptions = ({ groups }: { groups: string[] }) => (
  <>
    {groups.map((name) => (
      <option value={name}>{name}</option>
    ))}
  </>
);

/** The comparison of a count node: operator, value, and the group counted (any by default). */
function CountFields({ groups }: { groups: string[] }) {
  return (
    <>
      <NodeField label="Operator">
        <select data-field="op">
          {COUNT_OPS.map((op) => (
            <option value={op} selected={op === 'gte'}>
              {OP_LABELS[op]}
            </option>
          ))}
        </select>
      </NodeField>
      <NodeField label="Value">
        <input type="number" min="0" step="1" value="1" data-field="value" data-type="number" />
      </NodeField>
      <NodeField label="Group">
        <select data-field="group" data-omit="">
          <option value="">Any group</option>
          <GroupOptions groups={groups} />
        </select>
      </NodeField>
    </>
  );
}

function WindowFields() {
  return (
    <>
      <NodeField label="Kind">
        <select data-field="kind" data-omit="any">
          <option value="any">Any kind</option>
          <option value="initial">Initial</option>
          <option value="repeat">Repeat</option>
        </select>
      </NodeField>
      <TimeFields since="Issued since" until="Issued before" />
    </>
  );
}

/** `since` (inclusive) and `until` (exclusive), each left out when empty. */
function TimeFields({ since, until }: { since: string; until: string }) {
  return (
    <>
      <NodeField label={since}>
        <input type="datetime-local" data-field="since" data-type="instant" data-omit="" />
      </NodeField>
      <NodeField label={until}>
        <input type="datetime-local" data-field="until" data-type="instant" data-omit="" />
      </NodeField>
    </>
  );
}
