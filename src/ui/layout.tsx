import type { Child } from 'hono/jsx';
import { CsrfField, useCsrfToken } from './csrf.js';
import { Document } from './document.js';

const MENU = [
  { section: 'groups', href: '/groups', label: 'Promo codes' },
  { section: 'mailings', href: '/mailings', label: 'Mailings' },
  { section: 'customers', href: '/customers', label: 'Customers' },
  { section: 'codes', href: '/codes', label: 'Find a code' },
  { section: 'segments', href: '/segments', label: 'Segments' },
  { section: 'sessions', href: '/sessions', label: 'Sessions' },
] as const;

export type Section = (typeof MENU)[number]['section'];

/** What a page handler passes to `c.render(content, props)`. */
export interface PageProps {
  title: string;
  /** the menu entry to mark as the current one */
  active?: Section;
}

declare module 'hono' {
  interface ContextRenderer {
    (content: string | Promise<string>, props: PageProps): Response | Promise<Response>;
  }
}

/** A page behind sign-in: the main menu, sign-out, then the page's content. */
export function Layout({ title, active, temporalUiUrl, children }: PageProps & { temporalUiUrl: string | undefined; children?: Child }) {
  return (
    <Document title={title} head={<meta name="csrf-token" content={useCsrfToken()} />}>
      <header class="top">
        <nav class="menu" aria-label="Main">
          {MENU.map((item) => (
            <a href={item.href} aria-current={item.section === active ? 'page' : undefined}>
              {item.label}
            </a>
          ))}
          {temporalUiUrl && (
            <a href={temporalUiUrl} target="_blank" rel="noopener noreferrer">
              Temporal UI ↗
            </a>
          )}
        </nav>
        <form method="post" action="/signout" class="signout">
          <CsrfField />
          <button type="submit" class="secondary">Sign out</button>
        </form>
      </header>
      <main>
        <h1>{title}</h1>
        {children}
      </main>
    </Document>
  );
}
