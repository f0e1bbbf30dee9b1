// Which entities each orchestration holds locked, so its locks can be released when it ends
// without scanning every entity.
export class EntityLockIndex {
  private readonly held = new Map<string, Set<string>>();

  /** The entity's lock moved from `before` to `after` (either may be undefined). */
  move(entityId: string, before: string | undefined, after: string | undefined): void {
    if (before === after) return;
    if (before) {
      const set = this.held.get(before);
      set?.delete(entityId);
      if (set?.size === 0) this.held.delete(before);
    }
    if (after) {
      let set = this.held.get(after);
      if (!set) this.held.set(after, (set = new Set()));
      set.add(entityId);
    }
  }

  /** The entities the orchestration holds; forgets them (the caller releases each). */
  takeAll(orchestrationId: string): string[] {
    const set = this.held.get(orchestrationId);
    if (!set) return [];
    this.held.delete(orchestrationId);
    return [...set];
  }

  clear(): void {
    this.held.clear();
  }
}
