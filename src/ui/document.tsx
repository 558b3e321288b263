import type { Child } from 'hono/jsx';

/** The bare HTML document: head, the app's CSS and JS, no menu (sign-in and refusals). */
export function Document({ title, head, children }: { title: string; head?: Child; children?: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} · Promo code service`}</title>
        {head}
        <link rel="stylesheet" href="/assets/app.css" />
        <script src="/assets/app.js" defer />
      </head>
      <body>{children}</body>
    </html>
  );
}
