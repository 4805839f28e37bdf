/**
 * Every Redis key the serving layer and `recsys precompute` use, in one place.
 *
 * Keys that belong to one user carry the user id as a hash tag (`{…}`): Redis Cluster puts all of
 * a user's keys (L1 lists, history, opt-out flag, precomputed lists) in one slot, so the commands
 * of one request go to one node. Precompute bookkeeping carries the model version as its tag, so
 * the "all shards done → flip the pointer" script touches a single slot.
 *
 *   <p>:l1:{<user>}                       hash: field "<version>|<k>|<filters>" → encoded list (L1)
 *   <p>:hist:{<user>}                     list: recent events "type\titem\tts", newest first
 *   <p>:optout:{<user>}                   "1" while the user has opted out of personalisation
 *   <p>:l2:<run>:{<user>}                 encoded top-K list written by precompute run <run> (L2)
 *   <p>:l2:{<version>}:current            id of the complete precompute run served for <version>
 *   <p>:l2:{<version>}:runs               hash: run id → JSON state (started, shards, k, users)
 *   <p>:l2:{<version>}:done:<run>         set of shard indexes finished for <run>
 *   <p>:sim:<version>:{<item>}            hash: field "<k>" → encoded similar-items list
 *   <p>:<streamKey>                       stream of events (the design's Kafka role)
 */

/** Braces would end the hash tag early; encode them (and %) so any id maps to one tag. */
export function tag(id: string): string {
  return /[{}%]/.test(id) ? id.replace(/%/g, '%25').replace(/\{/g, '%7B').replace(/\}/g, '%7D') : id;
}

export class KeySpace {
  constructor(readonly prefix: string, readonly streamName = 'events') {}

  l1(user: string): string {
    return `${this.prefix}:l1:{${tag(user)}}`;
  }

  history(user: string): string {
    return `${this.prefix}:hist:{${tag(user)}}`;
  }

  optOut(user: string): string {
    return `${this.prefix}:optout:{${tag(user)}}`;
  }

  l2(run: string, user: string): string {
    return `${this.prefix}:l2:${run}:{${tag(user)}}`;
  }

  /** SCAN pattern matching every list of one run. */
  l2Pattern(run: string): string {
    return `${this.prefix}:l2:${run.replace(/[*?[\]\\]/g, '\\$&')}:{*`;
  }

  l2Current(version: string): string {
    return `${this.prefix}:l2:{${tag(version)}}:current`;
  }

  l2Runs(version: string): string {
    return `${this.prefix}:l2:{${tag(version)}}:runs`;
  }

  l2Done(version: string, run: string): string {
    return `${this.prefix}:l2:{${tag(version)}}:done:${run}`;
  }

  similar(version: string, item: string): string {
    return `${this.prefix}:sim:${version}:{${tag(item)}}`;
  }

  get stream(): string {
    return `${this.prefix}:${this.streamName}`;
  }
}
