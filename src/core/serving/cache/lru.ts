/**
 * The in-process tier in front of Redis: a least-recently-used map with a per-entry lifetime.
 * A JavaScript Map iterates in insertion order, so re-inserting on every hit keeps the least
 * recently used entry first and eviction is O(1). The lifetime is short on purpose: events
 * posted to another instance reach this one only through Redis, so the TTL bounds staleness.
 *
 * Time is passed in (milliseconds) so tests can drive it without waiting.
 */
export class LruCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();
  readonly capacity: number;
  readonly ttlMs: number;

  constructor(capacity: number, ttlMs: number) {
    this.capacity = Math.max(0, Math.floor(capacity));
    this.ttlMs = Math.max(0, ttlMs);
  }

  get size(): number {
    return this.entries.size;
  }

  get enabled(): boolean {
    return this.capacity > 0 && this.ttlMs > 0;
  }

  /** The live value, or undefined (missing or expired; an expired entry is dropped). */
  get(key: string, nowMs: number = Date.now()): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    this.entries.delete(key);
    if (e.expiresAt <= nowMs) return undefined;
    this.entries.set(key, e);
    return e.value;
  }

  set(key: string, value: V, nowMs: number = Date.now(), ttlMs: number = this.ttlMs): void {
    if (!this.enabled) return;
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: nowMs + ttlMs });
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  delete(key: string): boolean {
    return this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
