import { Args, Flags } from '@oclif/core';
import { BaseCommand, storeFlag } from '../cli/base.js';
import { parseWeights } from '../cli/flags.js';
import { exportSplitTsv } from '../core/data/split.js';
import { resolveSplit, type ResolvedSplit } from '../core/workflows/split.js';

export default class Split extends BaseCommand {
  static override summary = 'Cut a deterministic train/test split from the store and save it (optionally as TSV).';

  static override description = `The unit of a split is the (user, item) pair, so a pair is never in both parts.
Methods:
  random:F[:seed=N]        per user with ≥2 pairs, max(1, floor(F·n)) random pairs go to test (seed 42 by default)
  temporal:F | temporal:DATE   a global time cut: the newest fraction F of pairs (or those at/after DATE) go to test
  leave-last:K             per user with more than K pairs, the K most recent go to test
  strong:U[:foldin=F]      strong generalization: U held-out users (fraction or count), the model never trains on
                           them; a fraction F of each one's pairs is shown at prediction time, the rest is tested
The split is saved under --splits-dir/<spec> (reused while the data is unchanged) and recorded by
\`train\`, so \`eval\` sees exactly the same split. --export writes train.tsv/test.tsv with external ids so
other tools (implicit, RecBole, Spark) can be run on exactly the same split.`;

  static override examples = [
    '<%= config.bin %> split random:0.2',
    '<%= config.bin %> split random:0.2:seed=7 --export exports/ml100k-seed7',
    '<%= config.bin %> split leave-last:1 --json',
  ];

  static override args = {
    spec: Args.string({ description: 'Split spec (overrides --method), e.g. random:0.2 or leave-last:1.', required: false }),
  };

  static override flags = {
    store: storeFlag,
    method: Flags.string({ description: 'Split spec (see above).', default: 'random:0.2' }),
    'splits-dir': Flags.string({ description: 'Where split specs are saved.', default: 'splits' }),
    weights: Flags.string({ description: 'Per-event-type weights for the matrix, e.g. view=1,click=2,cart=4,purchase=8.' }),
    export: Flags.string({ description: 'Also write train.tsv / test.tsv (/ foldin.tsv) into this directory.' }),
  };

  async run(): Promise<ResolvedSplit['summary'] & { exported: string[] }> {
    const { flags, args } = await this.parse(Split);
    const spec = args.spec ?? flags.method;
    const resolved = await resolveSplit({
      store: flags.store,
      split: spec,
      splitsDir: flags['splits-dir'],
      matrix: flags.weights ? { weights: parseWeights(flags.weights) } : {},
      progress: this.progress(flags.quiet),
    });
    const exported = flags.export ? await exportSplitTsv(resolved.split, flags.export) : [];
    const s = resolved.summary;
    this.say(`${s.reused ? 'reused' : 'saved'}  ${s.dir}`);
    this.say(`train   ${s.trainPairs.toLocaleString()} pairs`);
    this.say(`test    ${s.testPairs.toLocaleString()} pairs${s.foldInPairs ? ` (+ ${s.foldInPairs.toLocaleString()} fold-in)` : ''}`);
    this.say(`shape   ${s.users.toLocaleString()} users × ${s.items.toLocaleString()} items, fingerprint ${s.fingerprint}`);
    for (const f of exported) this.say(`wrote   ${f}`);
    return { ...s, exported };
  }
}
