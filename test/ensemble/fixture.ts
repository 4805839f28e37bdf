/**
 * A small shop for ensemble tests: 40 users in two taste groups over 24 items in 4 categories.
 * Users 0–19 interact with items 0–11 ("alpha" products), users 20–37 with items 12–23 ("beta");
 * user 38 has two interactions and user 39 none (cold-start cases). Item 23 was created two days
 * before the newest interaction (a new product); the others long before. Demographics: the first
 * group are women aged 25, the second men aged 40.
 */
import { IdMap, InteractionMatrix } from '../../src/core/data/matrix.js';
import type { CatalogRow } from '../../src/core/models/recommender.js';
import { Popularity } from '../../src/core/models/popularity.js';
import { AlsModel } from '../../src/core/models/als/als.js';
import { ContentModel } from '../../src/core/models/content.js';
import { Rng } from '../../src/core/rng.js';

export const DAY = 86400;
export const T_END = 1_700_000_000;
export const NEW_ITEM = 23;

export function shopMatrix(): InteractionMatrix {
  const rng = new Rng(11);
  const users: number[] = [];
  const items: number[] = [];
  const times: number[] = [];
  for (let u = 0; u < 38; u++) {
    const base = u < 20 ? 0 : 12;
    const picks = new Set<number>();
    // Popular items of the group (low indexes) more often.
    while (picks.size < 6) picks.add(base + Math.min(11, Math.floor(Math.pow(rng.next(), 1.6) * 12)));
    for (const i of picks) {
      users.push(u);
      items.push(i);
      times.push(T_END - 30 * DAY + Math.floor(rng.next() * 29 * DAY));
    }
  }
  users.push(38, 38);
  items.push(12, 13);
  times.push(T_END - DAY, T_END);
  // The new item: two late interactions by group-B users.
  users.push(20, 21);
  items.push(NEW_ITEM, NEW_ITEM);
  times.push(T_END - DAY, T_END - DAY);
  return InteractionMatrix.fromCoo({
    users: Int32Array.from(users),
    items: Int32Array.from(items),
    values: new Float32Array(users.length).fill(1),
    lastSeen: Float64Array.from(times),
    userIds: new IdMap(Array.from({ length: 40 }, (_, u) => `u${u}`)),
    itemIds: new IdMap(Array.from({ length: 24 }, (_, i) => `i${i}`)),
  });
}

export function shopCatalog(): CatalogRow[] {
  return Array.from({ length: 24 }, (_, i) => ({
    productId: `i${i}`,
    title: i < 12 ? `alpha gadget ${['red', 'blue', 'green'][i % 3]}` : `beta gizmo ${['red', 'blue', 'green'][i % 3]}`,
    description: null,
    category: `c${Math.floor(i / 6)}`,
    brand: null,
    price: null,
    features: null,
    createdAt: new Date((i === NEW_ITEM ? T_END - 2 * DAY : T_END - 400 * DAY) * 1000).toISOString(),
  }));
}

export function shopDemographics(): Map<string, Record<string, unknown>> {
  const m = new Map<string, Record<string, unknown>>();
  for (let u = 0; u < 40; u++) m.set(`u${u}`, u < 20 ? { age: 25, gender: 'F' } : { age: 40, gender: 'M' });
  return m;
}

export async function shopMembers(data: InteractionMatrix): Promise<{ als: AlsModel; content: ContentModel; popularity: Popularity }> {
  const popularity = new Popularity();
  await popularity.fit(data);
  const als = new AlsModel({ factors: 4, iterations: 12, regularization: 0.1, alpha: 10, workers: 1 });
  await als.fit(data);
  const content = new ContentModel({ minDf: 1 });
  content.setCatalog(shopCatalog());
  await content.fit(data);
  return { als, content, popularity };
}
