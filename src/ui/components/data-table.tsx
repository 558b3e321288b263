import type { Child } from 'hono/jsx';

/** A column heading: its text, or that with `numeric` (right-aligned) or a sort state and a heading of its own. */
export type Column = string | { label: Child; numeric?: boolean; sort?: 'ascending' | 'descending' | 'none' };

/** A table that scrolls sideways inside its box on narrow screens; `children` are its body rows. */
export function DataTable({ columns, class: className, caption, children }: { columns: Column[]; class?: string; caption?: Child; children: Child }) {
  return (
    <div class="table-wrap">
      <table class={className}>
        {caption !== undefined && <caption>{caption}</caption>}
        <thead>
          <tr>
            {columns.map((column) =>
              typeof column === 'string' ? (
                <th scope="col">{column}</th>
              ) : (
                <th scope="col" class={column.numeric ? 'num' : undefined} aria-sort={column.sort}>
                  {column.label}
                </th>
              ),
            )}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
