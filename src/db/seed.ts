import type { Store } from './store'

/** Demo data so the seed's examples work as written: alice (1), bob (2), carol (3) and a group of all three. */
export async function seedDemo(store: Store): Promise<boolean> {
  if (await store.getUser(1)) return false
  const alice = await store.createUser({ username: 'alice', displayName: 'Alice' })
  const bob = await store.createUser({ username: 'bob', displayName: 'Bob' })
  const carol = await store.createUser({ username: 'carol', displayName: 'Carol' })
  await store.createGroup({ name: 'everyone', createdBy: alice.id, memberIds: [alice.id, bob.id, carol.id] })
  return true
}
