import type { AppDeps } from '../../api/router.js';
import { authFor } from '../../auth/auth.js';
import type { SessionView } from '../../auth/sessions.js';
import { NotFoundError } from '../../domain/errors.js';
import { decodeCursor } from '../../domain/pagination.js';
import { z } from 'zod';
import { DataTable } from '../components/data-table.js';
import { Pager } from '../components/pager.js';
import { Time } from '../components/time.js';
import { CsrfField } from '../csrf.js';
import { pageRouter } from '../router.js';

const PAGE_SIZE = 50;

/** /sessions: the live sessions of these pages, each with a Revoke button. */
export function sessionPages(deps: AppDeps) {
  const app = pageRouter(deps);
  const { sessions } = authFor(deps);

  app.get('/', async (c) => {
    const cursor = c.req.query('cursor');
    const page = await sessions.list(c, { limit: PAGE_SIZE, beforeSeq: decodeCursor(cursor, z.string().regex(/^\d+$/)) });
    return c.render(
      <>
        <p>Everyone signed in to these pages. Revoking a session signs it out at once, wherever its cookie is.</p>
        <SessionTable sessions={page.items} />
        <Pager path="/sessions" cursor={cursor} nextCursor={page.nextCursor} label="Pages of sessions" />
      </>,
      { title: 'Sessions', active: 'sessions' },
    );
  });

  app.post('/:id/revoke', async (c) => {
    const id = c.req.param('id');
    if (!(await sessions.revoke(id))) throw new NotFoundError(`No session ${id}.`);
    return c.redirect(id === c.var.session.publicId ? '/signin' : '/sessions', 303);
  });

  return app;
}

function SessionTable({ sessions }: { sessions: SessionView[] }) {
  return (
    <DataTable columns={['Signed in', 'Last seen', 'Expires', 'Address', 'Browser', '']}>
      {sessions.map((session) => (
        <tr>
          <td>
            <Time iso={session.createdAt} />
            {session.current && <strong> (this one)</strong>}
          </td>
          <td>
            <Time iso={session.lastSeenAt} />
          </td>
          <td>
            <Time iso={session.expiresAt} />
          </td>
          <td>{session.address ?? ''}</td>
          <td>{session.userAgent ?? ''}</td>
          <td>
            <form method="post" action={`/sessions/${encodeURIComponent(session.publicId)}/revoke`}>
              <CsrfField />
              <button type="submit" class="secondary" aria-label={`Revoke the session signed in ${session.createdAt}${session.current ? ' (this one)' : ''}`}>
                Revoke
              </button>
            </form>
          </td>
        </tr>
      ))}
    </DataTable>
  );
}
