// A channel, its subscribers and, for presence channels, its members.
// Subscriber ids are kept in one contiguous u32 array so that a broadcast
// hands the host the whole list with a single memory copy.

import { ByteMap } from "./bytemap";

export const enum ChannelType {
  Public = 0,
  Private = 1,
  Encrypted = 2,
  Presence = 3,
  /** `#server-to-user-<id>`: only connections signed in as that user. */
  User = 4,
}

/** A growable array of connection ids in unmanaged memory. */
export class ConnIds {
  ptr: usize = heap.alloc(16);
  count: u32 = 0;
  private cap: u32 = 4;

  push(id: u32): u32 {
    if (this.count == this.cap) {
      this.cap <<= 1;
      this.ptr = heap.realloc(this.ptr, <usize>this.cap << 2);
    }
    store<u32>(this.ptr + (<usize>this.count << 2), id);
    return this.count++;
  }

  /** Removes the id at `index` by moving the last id into its place. */
  @inline swapRemove(index: u32): void {
    this.count--;
    store<u32>(this.ptr + (<usize>index << 2), load<u32>(this.ptr + (<usize>this.count << 2)));
  }

  /** Frees the unmanaged array; the object must not be used afterwards. */
  free(): void {
    heap.free(this.ptr);
    this.count = 0;
    this.cap = 0;
  }
}

/**
 * One user in a presence channel, shared by all of that user's connections
 * here, and present while it has some here or on another node.
 */
export class Member {
  constructor(
    /** The user id as a hash key: a string's raw content, or a number's text. */
    public key: ArrayBuffer,
    /** `user_id` exactly as the auth endpoint sent it (number or string JSON). */
    public idJson: ArrayBuffer,
    /** `user_info` JSON text, or empty when absent. */
    public info: ArrayBuffer,
  ) {}
  /** Connections here. */
  connections: i32 = 0;
  /** The other nodes where the user is present, by the host's node numbers. */
  nodes: Array<u32> | null = null;
  /** The number of the last repair that listed the user (protocol/entropy.ts). */
  mark: u32 = 0;

  /** Whether the user is present on another node. */
  get remote(): bool {
    const n = this.nodes;
    return n != null && n.length > 0;
  }

  /** Records that the user is present on `node`; returns whether it was not already. */
  addNode(node: u32): bool {
    let n = this.nodes;
    if (!n) this.nodes = n = [];
    if (n.includes(node)) return false;
    n.push(node);
    return true;
  }

  /** Whether the user is present on `node`. */
  onNode(node: u32): bool {
    const n = this.nodes;
    return n != null && n.includes(node);
  }

  /** Records that the user left `node`; returns whether it was there. */
  removeNode(node: u32): bool {
    const n = this.nodes;
    if (!n) return false;
    const i = n.indexOf(node);
    if (i < 0) return false;
    unchecked((n[i] = n[n.length - 1]));
    n.pop();
    return true;
  }
}

/** Subscriptions on this node, over every app and channel (exported to the host, which reads it after each batch). */
export let subscriptionsActive: u32 = 0;

export class Channel {
  subscribers: ConnIds = new ConnIds();
  /** Parallel to `subscribers`: the subscription at the same index. */
  subscriptions: Array<Subscription> = [];
  /** Presence channels only. */
  members: ByteMap<Member> | null = null;
  /** Cache channels: the JSON text of the last event, and when it was set. */
  cached: ArrayBuffer | null = null;
  cachedAt: u64 = 0;
  /** Where the escaped `data` string sits inside `cached`. */
  cachedDataOffset: u32 = 0;
  cachedDataLen: u32 = 0;
  /** Subscription-count throttling. */
  countSentAt: u64 = 0;
  countPending: bool = false;
  /** The same for the subscription_count webhook. */
  hookCountAt: u64 = 0;
  hookCountPending: bool = false;
  /** Subscriptions on other nodes: node numbers and their counts, in step. */
  private remoteNodes: Array<u32> | null = null;
  private remoteCounts: Array<u32> | null = null;
  /** The sum of `remoteCounts`. */
  remoteCount: u32 = 0;
  /** The number of the last repair that listed the channel (protocol/entropy.ts). */
  mark: u32 = 0;

  constructor(public name: ArrayBuffer, public type: ChannelType, public cache: bool) {
    if (type == ChannelType.Presence) this.members = new ByteMap<Member>();
  }

  @inline get subscriptionCount(): u32 {
    return this.subscribers.count;
  }

  /** Subscriptions here and on every other node. */
  @inline get clusterCount(): u32 {
    return this.subscribers.count + this.remoteCount;
  }

  /** The subscriptions node `node` has. */
  remoteCountOf(node: u32): u32 {
    const nodes = this.remoteNodes;
    if (!nodes) return 0;
    const i = nodes.indexOf(node);
    return i >= 0 ? unchecked(this.remoteCounts![i]) : 0;
  }

  /** Records that node `node` has `count` subscriptions; returns whether the sum changed. */
  setRemoteCount(node: u32, count: u32): bool {
    let nodes = this.remoteNodes;
    let counts = this.remoteCounts;
    if (!nodes || !counts) {
      if (count == 0) return false;
      this.remoteNodes = nodes = [];
      this.remoteCounts = counts = [];
    }
    const i = nodes.indexOf(node);
    const old = i >= 0 ? unchecked(counts[i]) : 0;
    if (old == count) return false;
    if (count == 0) {
      const last = nodes.length - 1;
      unchecked((nodes[i] = nodes[last]));
      unchecked((counts[i] = counts[last]));
      nodes.pop();
      counts.pop();
    } else if (i >= 0) {
      unchecked((counts[i] = count));
    } else {
      nodes.push(node);
      counts.push(count);
    }
    this.remoteCount = this.remoteCount - old + count;
    return true;
  }

  @inline get userCount(): i32 {
    const m = this.members;
    return m ? m.size : 0;
  }

  add(sub: Subscription): void {
    sub.index = this.subscribers.push(sub.conn);
    this.subscriptions.push(sub);
    subscriptionsActive++;
  }

  remove(sub: Subscription): void {
    const i = sub.index;
    const last = this.subscriptions.length - 1;
    this.subscribers.swapRemove(<u32>i);
    if (i != last) {
      const moved = unchecked(this.subscriptions[last]);
      moved.index = i;
      unchecked((this.subscriptions[i] = moved));
    }
    this.subscriptions.pop();
    subscriptionsActive--;
  }
}

/** A connection's membership of one channel. */
export class Subscription {
  /** Position in the channel's `subscriptions`. */
  index: i32 = 0;
  /** Position in the connection's `subscriptions`. */
  connIndex: i32 = 0;
  member: Member | null = null;
  constructor(public channel: Channel, public conn: u32) {}
}
