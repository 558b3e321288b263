/** Links through a cursor-paged list at `path` (which may carry a query of its own): back to the first page when on a later one, and on to the next. */
export function Pager({ path, cursor, nextCursor, label }: { path: string; cursor: string | undefined; nextCursor: string | null; label: string }) {
  if (cursor === undefined && nextCursor === null) return null;
  return (
    <nav class="pager" aria-label={label}>
      {cursor !== undefined && <a href={path}>First page</a>}
      {nextCursor !== null && <a href={`${path}${path.includes('?') ? '&' : '?'}cursor=${encodeURIComponent(nextCursor)}`}>Next page →</a>}
    </nav>
  );
}
