/**
 * The store's `users` table as models read it: id + demographics object (two-tower user tower,
 * ensemble segments). Models never read the store; the train workflow calls `loadUserRows`.
 */
import { RecsysError } from '../errors.js';
import type { UserFeatureRow } from '../models/recommender.js';
import type { Store } from './store.js';

/** The query whose rows `userRowsFromSql` reads. */
export const USER_ROWS_SQL = 'SELECT user_id, CAST(demographics AS VARCHAR) AS demographics FROM users ORDER BY user_id';

/** `store.rows(USER_ROWS_SQL)` → rows; a malformed demographics value is an error naming the user. */
export function userRowsFromSql(rows: ReadonlyArray<Record<string, unknown>>): UserFeatureRow[] {
  return rows.map((r) => {
    const raw = r.demographics;
    let demographics: Record<string, unknown> | null = null;
    if (typeof raw === 'string' && raw !== '') {
      try {
        const parsed: unknown = JSON.parse(raw);
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) demographics = parsed as Record<string, unknown>;
      } catch (e) {
        throw new RecsysError('RECSYS_ERR_STORE', `users.demographics of user ${String(r.user_id)} is not valid JSON: ${(e as Error).message}`, { column: 'demographics' });
      }
    } else if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
      demographics = raw as Record<string, unknown>;
    }
    return { userId: String(r.user_id), demographics };
  });
}

/** Every user of the store with its demographics (null where none were ingested). */
export async function loadUserRows(store: Store): Promise<UserFeatureRow[]> {
  return userRowsFromSql(await store.rows(USER_ROWS_SQL));
}
