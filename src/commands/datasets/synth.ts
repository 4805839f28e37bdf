import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base.js';
import { generateSynth, SYNTH_DEFAULTS, SYNTH_PRESETS, type SynthResult } from '../../core/data/synth.js';

export default class DatasetsSynth extends BaseCommand {
  static override summary = 'Generate a synthetic e-commerce dataset (users, products, view/click/cart/purchase events).';

  static override description = `Events come from a latent-taste model: hidden communities with favourite categories and
brands, Zipf-like item popularity (~rank^-0.8), user activity ~rank^-0.5, sessions over a time span,
and a view → click → cart → purchase funnel. Product titles and descriptions are drawn from
per-category vocabularies and demographics shift tastes, so personal, content and two-tower models
all have signal to learn. Output (streamed; scales to 100M events in bounded memory):
  users.parquet  products.parquet  interactions.parquet  dataset.json
Ingest it with: recsys ingest <out> --format synth
Presets: --preset quickstart (${SYNTH_PRESETS.quickstart.users} users, ${SYNTH_PRESETS.quickstart.products} products, ${SYNTH_PRESETS.quickstart.interactions} events),
         --preset peers (the shape of research/baselines.md: 100k users × 20k items × ~5M pairs).`;

  static override examples = [
    '<%= config.bin %> datasets synth --preset quickstart --out data/quick',
    '<%= config.bin %> datasets synth --users 100000 --products 20000 --interactions 9200000 --seed 7 --out data/peers',
    '<%= config.bin %> datasets synth --users 1000 --products 300 --interactions 20000 --format csv --out data/tiny --json',
  ];

  static override flags = {
    preset: Flags.string({ description: 'Start from a preset size.', options: Object.keys(SYNTH_PRESETS) }),
    users: Flags.integer({ description: 'Number of users.', min: 1 }),
    products: Flags.integer({ description: 'Number of products.', min: 1 }),
    interactions: Flags.integer({ description: 'Number of events (rows), not distinct pairs.', min: 0 }),
    seed: Flags.integer({ description: 'Random seed: the same seed gives the same files.', default: 42 }),
    out: Flags.string({ char: 'o', description: 'Output directory.', required: true }),
    categories: Flags.integer({ description: 'Number of product categories.', default: SYNTH_DEFAULTS.categories }),
    communities: Flags.integer({ description: 'Number of hidden taste communities.', default: SYNTH_DEFAULTS.communities }),
    format: Flags.string({ description: 'File format.', options: ['parquet', 'csv'], default: 'parquet' }),
    days: Flags.integer({ description: 'Length of the event time span in days.', default: SYNTH_DEFAULTS.days }),
    'start-date': Flags.string({ description: 'First day of the span (ISO date).', default: SYNTH_DEFAULTS.startDate }),
  };

  async run(): Promise<SynthResult> {
    const { flags } = await this.parse(DatasetsSynth);
    const preset = flags.preset ? SYNTH_PRESETS[flags.preset as keyof typeof SYNTH_PRESETS] : SYNTH_PRESETS.quickstart;
    const result = await generateSynth({
      users: flags.users ?? preset.users,
      products: flags.products ?? preset.products,
      interactions: flags.interactions ?? preset.interactions,
      seed: flags.seed,
      outDir: flags.out,
      categories: flags.categories,
      communities: flags.communities,
      format: flags.format as 'parquet' | 'csv',
      days: flags.days,
      startDate: flags['start-date'],
      progress: this.progress(flags.quiet),
    });
    const c = result.counts;
    this.say(`wrote   ${result.outDir} in ${result.seconds.toFixed(2)} s`);
    this.say(`        ${c.users.toLocaleString()} users, ${c.products.toLocaleString()} products, ${c.interactions.toLocaleString()} events (${c.distinctPairs.toLocaleString()} distinct pairs)`);
    this.say(`        view ${c.byType.view.toLocaleString()} · click ${c.byType.click.toLocaleString()} · cart ${c.byType.cart.toLocaleString()} · purchase ${c.byType.purchase.toLocaleString()}`);
    this.say(`next    recsys ingest ${result.outDir} --format synth`);
    return result;
  }
}
