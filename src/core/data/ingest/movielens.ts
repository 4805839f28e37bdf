/**
 * MovieLens folders (GroupLens, https://grouplens.org/datasets/movielens/), read in place:
 *
 *  100k: u.data  (user \t item \t rating \t unix seconds), u.item (`|`, latin-1: id|title|release
 *        date|video date|IMDb URL|19 genre flags), u.user (id|age|gender|occupation|zip)
 *  1m:   ratings.dat (UserID::MovieID::Rating::Timestamp), movies.dat (MovieID::Title::Genres with
 *        `|` between genres, latin-1), users.dat (UserID::Gender::Age::Occupation::Zip-code)
 *  20m:  ratings.csv (userId,movieId,rating,timestamp), movies.csv (movieId,title,genres); no users
 *        (also fits 25m and ml-latest-small, which share the format)
 *
 * Ratings become interactions of type 'rating' with the rating as value. Movies become products with
 * category = the first listed genre, features.genres = all genres; users get their demographics.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RecsysError } from '../../errors.js';
import type { Progress } from '../../models/recommender.js';
import { type Store, sqlIdent, sqlString } from '../store.js';
import type { FieldSpec, IngestResult, TargetTable } from './common.js';
import { ingestInteractions, ingestWithTarget } from './index.js';

export type MovieLensVariant = '100k' | '1m' | '20m';

export interface MovieLensIngestResult {
  variant: MovieLensVariant;
  dir: string;
  interactions: IngestResult;
  products: IngestResult;
  users: IngestResult | null;
  seconds: number;
  /** All records read (ratings + movies + users) per second. */
  rowsPerSecond: number;
}

export interface MovieLensOptions {
  strict?: boolean;
  append?: boolean;
  maxRejects?: number;
  progress?: Progress;
}

/** u.genre order (the 19 flags of u.item). */
export const ML100K_GENRES = [
  'unknown', 'Action', 'Adventure', 'Animation', "Children's", 'Comedy', 'Crime', 'Documentary', 'Drama', 'Fantasy',
  'Film-Noir', 'Horror', 'Musical', 'Mystery', 'Romance', 'Sci-Fi', 'Thriller', 'War', 'Western',
] as const;

/** ml-1m users.dat occupation codes (from its README). */
export const ML1M_OCCUPATIONS = [
  'other', 'academic/educator', 'artist', 'clerical/admin', 'college/grad student', 'customer service',
  'doctor/health care', 'executive/managerial', 'farmer', 'homemaker', 'K-12 student', 'lawyer', 'programmer',
  'retired', 'sales/marketing', 'scientist', 'self-employed', 'technician/engineer', 'tradesman/craftsman',
  'unemployed', 'writer',
] as const;

function need(dir: string, name: string, variant: string): string {
  const p = join(dir, name);
  if (!existsSync(p)) {
    throw new RecsysError(
      'RECSYS_ERR_FILE_NOT_FOUND',
      `${p} not found: a MovieLens ${variant} folder needs ${name} (download the dataset from grouplens.org and pass its folder)`,
      { file: p },
    );
  }
  return p;
}

const id = (source: string, label: string): FieldSpec => ({ target: '', kind: 'id', source, required: true, label, integer: true });
const sql = (target: string, expr: string): FieldSpec => ({ target, kind: 'sql', sql: expr, label: target });
const col = sqlIdent;

function listSql(items: string[]): string {
  return `list_filter([${items.join(', ')}], x -> x IS NOT NULL)`;
}

function products100k(): TargetTable {
  const flags = ML100K_GENRES.map((g, i) => ({ g, c: col(`genre_${i}`) }));
  return {
    table: 'products',
    key: 'product_id',
    fields: [
      { ...id('movie_id', 'movie id'), target: 'product_id' },
      { target: 'title', kind: 'text', source: 'title', label: 'title' },
      sql('category', `CASE ${flags.map(({ g, c }) => `WHEN ${c} = '1' THEN ${sqlString(g)}`).join(' ')} END`),
      sql(
        'features',
        `json_object('genres', ${listSql(flags.map(({ g, c }) => `CASE WHEN ${c} = '1' THEN ${sqlString(g)} END`))}, ` +
          `'release_date', ${col('release_date')}, 'imdb_url', ${col('imdb_url')})`,
      ),
      sql('created_at', `CAST(try_strptime(${col('release_date')}, '%d-%b-%Y') AS TIMESTAMP)`),
    ],
  };
}

function productsGenreList(): TargetTable {
  // "Action|Comedy"; ml-20m writes "(no genres listed)" for none.
  const genres = `CASE WHEN ${col('genres')} IS NULL OR ${col('genres')} = '(no genres listed)' THEN []::VARCHAR[] ELSE string_split(${col('genres')}, '|') END`;
  return {
    table: 'products',
    key: 'product_id',
    fields: [
      { ...id('movie_id', 'movie id'), target: 'product_id' },
      { target: 'title', kind: 'text', source: 'title', label: 'title' },
      sql('category', `(${genres})[1]`),
      sql('features', `json_object('genres', ${genres})`),
    ],
  };
}

function users100k(): TargetTable {
  return {
    table: 'users',
    key: 'user_id',
    fields: [
      { ...id('user_id', 'user id'), target: 'user_id' },
      sql(
        'demographics',
        `json_object('age', TRY_CAST(${col('age')} AS INTEGER), 'gender', ${col('gender')}, 'occupation', ${col('occupation')}, 'zip', ${col('zip')})`,
      ),
    ],
  };
}

function users1m(): TargetTable {
  const occ = `[${ML1M_OCCUPATIONS.map(sqlString).join(', ')}][TRY_CAST(${col('occupation')} AS INTEGER) + 1]`;
  return {
    table: 'users',
    key: 'user_id',
    fields: [
      { ...id('user_id', 'user id'), target: 'user_id' },
      sql(
        'demographics',
        `json_object('gender', ${col('gender')}, 'age_band', TRY_CAST(${col('age')} AS INTEGER), 'occupation', ${occ}, 'zip', ${col('zip')})`,
      ),
    ],
  };
}

/** Ingests a MovieLens folder (ratings + movies + users where the variant has them). */
export async function ingestMovieLens(store: Store, dir: string, variant: MovieLensVariant, opts: MovieLensOptions = {}): Promise<MovieLensIngestResult> {
  const started = performance.now();
  const common = { strict: opts.strict, append: opts.append, maxRejects: opts.maxRejects, progress: opts.progress, integerIds: true };
  const tag = { loader: `movielens-${variant}` };
  let interactions: IngestResult;
  let products: IngestResult;
  let users: IngestResult | null = null;
  const ratingCols = { userCol: 'user_id', itemCol: 'item_id', valueCol: 'rating', timeCol: 'timestamp', type: 'rating', timeUnit: 's' as const };
  switch (variant) {
    case '100k': {
      const data = need(dir, 'u.data', variant);
      const item = need(dir, 'u.item', variant);
      const user = need(dir, 'u.user', variant);
      interactions = await ingestInteractions(store, data, {
        ...common,
        ...ratingCols,
        format: 'tsv',
        delimiter: '\t',
        quote: '',
        header: false,
        names: ['user_id', 'item_id', 'rating', 'timestamp'],
      });
      const itemNames = ['movie_id', 'title', 'release_date', 'video_release_date', 'imdb_url', ...ML100K_GENRES.map((_, i) => `genre_${i}`)];
      products = await ingestWithTarget(
        store,
        item,
        'products',
        { ...common, format: 'csv', delimiter: '|', quote: '', header: false, names: itemNames, encoding: 'latin-1' },
        () => products100k(),
        tag,
      );
      users = await ingestWithTarget(
        store,
        user,
        'users',
        { ...common, format: 'csv', delimiter: '|', quote: '', header: false, names: ['user_id', 'age', 'gender', 'occupation', 'zip'] },
        () => users100k(),
        tag,
      );
      break;
    }
    case '1m': {
      const ratings = need(dir, 'ratings.dat', variant);
      const movies = need(dir, 'movies.dat', variant);
      interactions = await ingestInteractions(store, ratings, {
        ...common,
        ...ratingCols,
        format: 'csv',
        delimiter: '::',
        quote: '',
        header: false,
        names: ['user_id', 'item_id', 'rating', 'timestamp'],
      });
      products = await ingestWithTarget(
        store,
        movies,
        'products',
        { ...common, format: 'csv', delimiter: '::', quote: '', header: false, names: ['movie_id', 'title', 'genres'], encoding: 'latin-1' },
        () => productsGenreList(),
        tag,
      );
      if (existsSync(join(dir, 'users.dat'))) {
        users = await ingestWithTarget(
          store,
          join(dir, 'users.dat'),
          'users',
          { ...common, format: 'csv', delimiter: '::', quote: '', header: false, names: ['user_id', 'gender', 'age', 'occupation', 'zip'] },
          () => users1m(),
          tag,
        );
      }
      break;
    }
    case '20m': {
      const ratings = need(dir, 'ratings.csv', variant);
      const movies = need(dir, 'movies.csv', variant);
      interactions = await ingestInteractions(store, ratings, {
        ...common,
        ...ratingCols,
        format: 'csv',
        delimiter: ',',
        header: true,
        names: ['user_id', 'item_id', 'rating', 'timestamp'],
      });
      products = await ingestWithTarget(
        store,
        movies,
        'products',
        { ...common, format: 'csv', delimiter: ',', header: true, names: ['movie_id', 'title', 'genres'] },
        () => productsGenreList(),
        tag,
      );
      break;
    }
    default:
      throw new RecsysError('RECSYS_ERR_USAGE', `unknown MovieLens variant ${String(variant)}; use 100k, 1m or 20m`, { flag: '--format' });
  }
  const seconds = (performance.now() - started) / 1000;
  const rows = interactions.rowsRead + products.rowsRead + (users?.rowsRead ?? 0);
  return { variant, dir, interactions, products, users, seconds, rowsPerSecond: seconds > 0 ? rows / seconds : 0 };
}
